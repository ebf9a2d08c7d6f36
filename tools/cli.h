/* SPDX-License-Identifier: MIT */
#ifndef QRTX_CLI_H
#define QRTX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

int qrtx_cli_run(int argc, char **argv);
void qrtx_cli_run_usage(FILE *f);
void qrtx_cli_print_bar(double f, bool tty);
/* A whole input file (pipes too), NUL-terminated; NULL with -errno. */
char *qrtx_cli_read_file(const char *path, size_t *len, int *err);
bool qrtx_cli_is_json(const char *path, const char *text);

/* Jobs run by qrtxd (tools/jobs.c). argv[0] is the verb. */
int qrtx_cli_submit(int argc, char **argv);
int qrtx_cli_status(int argc, char **argv);
int qrtx_cli_wait(int argc, char **argv);
int qrtx_cli_result(int argc, char **argv);
int qrtx_cli_cancel(int argc, char **argv);
int qrtx_cli_list(int argc, char **argv);
int qrtx_cli_stats(int argc, char **argv);
void qrtx_cli_submit_usage(FILE *f);
void qrtx_cli_status_usage(FILE *f);
void qrtx_cli_wait_usage(FILE *f);
void qrtx_cli_result_usage(FILE *f);
void qrtx_cli_cancel_usage(FILE *f);
void qrtx_cli_list_usage(FILE *f);
void qrtx_cli_stats_usage(FILE *f);

/* A live view of qrtxd (tools/top.c). */
int qrtx_cli_top(int argc, char **argv);
int qrtx_cli_gc(int argc, char **argv);
void qrtx_cli_gc_usage(FILE *f);
void qrtx_cli_top_usage(FILE *f);

#endif
