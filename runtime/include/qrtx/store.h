/* SPDX-License-Identifier: MIT */
/*
 * QFS: per-job artifacts at stable paths under the state directory,
 *   <state_dir>/circuit_fs/<job_id>/{input.job.json, compiled.aqo.json,
 *   compiled.qasm, results.json, meta.json}
 * Every write is atomic: a temporary file in the job's directory, fsync,
 * rename over the final name, fsync of the directory. Directories are
 * created 0700 and files 0600: artifacts belong to the submitter.
 *
 * Default state directory: $QRTX_STATE_DIR, else /var/lib/qrtx for root,
 * else $XDG_STATE_HOME/qrtx, else $HOME/.local/state/qrtx.
 */
#ifndef QRTX_STORE_H
#define QRTX_STORE_H

#include <stddef.h>

#include "qrtx/error.h"

#define QRTX_JOB_ID_MAX 64

struct qrtx_store;

/* malloc'd default state directory, or NULL with -errno in *err_code. */
char *qrtx_store_default_dir(int *err_code);
int qrtx_store_open(const char *state_dir, struct qrtx_store **out,
		    struct qrtx_error *err);
void qrtx_store_close(struct qrtx_store *s);
const char *qrtx_store_dir(const struct qrtx_store *s);

/* New job id (time plus randomness, sortable by creation) and its
 * directory. */
int qrtx_store_new_job(struct qrtx_store *s, char job_id[QRTX_JOB_ID_MAX],
		       struct qrtx_error *err);
/* Path of a job's directory or artifact (name NULL: the directory). */
int qrtx_store_path(const struct qrtx_store *s, const char *job_id,
		    const char *name, char *buf, size_t len);
int qrtx_store_write(struct qrtx_store *s, const char *job_id, const char *name,
		     const void *data, size_t len, struct qrtx_error *err);

#endif
