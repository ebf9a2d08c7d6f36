/* SPDX-License-Identifier: MIT */
/*
 * What the daemon tests share: TAP results, and waiting for a daemon to
 * answer.
 */
#ifndef QRTX_TEST_HARNESS_H
#define QRTX_TEST_HARNESS_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "qrtx/client.h"

static int ntest, nfailed;

static void ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	if (!cond)
		nfailed++;
	printf("%s %d - ", cond ? "ok" : "not ok", ++ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static inline void skip(const char *what, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++ntest, what, why);
	fflush(stdout);
}

/* Start qrtxd on sock with its state in state, its output appended to
 * logdir/qrtxd.log, and up to two more options (NULL: none). */
static inline pid_t spawn_daemon(const char *qrtxd, const char *logdir, const char *sock,
				 const char *state, int workers, const char *x0,
				 const char *x1)
{
	char w[16];
	pid_t pid;

	snprintf(w, sizeof(w), "%d", workers);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char log[400];
		int fd;

		snprintf(log, sizeof(log), "%s/qrtxd.log", logdir);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execl(qrtxd, "qrtxd", "--socket", sock, "--state-dir", state, "--workers", w, x0,
		      x1, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Whether the daemon on sock answers a ping within about tries * 20 ms.
 * A ping, not just a connection: a killed daemon's socket may still take
 * connections for a moment. */
static inline bool daemon_answers(const char *sock, int tries)
{
	for (int i = 0; i < tries; i++) {
		struct qrtx_client *c;

		if (!qrtx_client_connect(sock, &c, NULL)) {
			int r = qrtx_client_call(c, "ping", NULL, NULL, NULL);

			qrtx_client_close(c);
			if (!r)
				return true;
		}
		usleep(20000);
	}
	return false;
}

/* The plan line; the test directory is kept when something failed,
 * removed otherwise. Returns the exit status. */
static inline int finish(const char *dir)
{
	char cmd[400];

	printf("1..%d\n", ntest);
	if (nfailed) {
		printf("# kept for a look: %s (qrtxd.log, circuit_fs/); the log's end:\n", dir);
		fflush(stdout);
		snprintf(cmd, sizeof(cmd), "tail -n 25 %s/qrtxd.log | sed 's/^/#   /'", dir);
		if (system(cmd))
			printf("#   (no log)\n");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? 1 : 0;
}

#endif
