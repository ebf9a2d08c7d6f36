// SPDX-License-Identifier: MIT
/*
 * qrtxd: runs jobs for many clients (Documentation/runtime/daemon.rst).
 *
 * One thread, one io_uring: accepts, receives and sends on client
 * connections, receives from workers, watches worker exits through their
 * pidfds, and ticks for wait deadlines, all as ring operations; the loop
 * never waits on anything else. Jobs run in worker processes (forked at
 * start, reused between jobs, replaced when they die), each through the
 * same pipeline as `qrtx run`, reporting every state move back over a
 * socketpair with the protocol's framing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <liburing.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qrtx/client.h"
#include "qrtx/exec.h"
#include "qrtx/jobstate.h"
#include "qrtx/ledger.h"
#include "qrtx/pipeline.h"
#include "qrtx/proto.h"
#include "qrtx/resource.h"
#include "qrtx/store.h"
#include "qrtx/submit.h"

#define QRTXD_VERSION "0.1"
#define RING_DEPTH 512
#define MAX_WORKERS 64

/* The executors, each with workers of its own: a job runs on one of its
 * backend's executor (ideal@cpu: cpu, ideal@cuda: cuda). */
enum executor { EX_CPU, EX_CUDA, EX_N };
static const char *const exe_names[EX_N] = { "cpu", "cuda" };
#define RECV_CHUNK (64u << 10)
#define TICK_NS (100 * 1000 * 1000ll)
/* Seconds of waiting worth one priority level: low-priority work still
 * finishes under a stream of high-priority submissions. */
#define AGING_S 10.0
/* A killed worker not confirmed dead by then is a zombie; the recovery
 * loop kills it again at every tick until its pidfd reports the exit. */
#define KILL_GRACE_NS (2000 * 1000 * 1000ll)
/* Runs of one job a daemon restart may interrupt before it fails. */
#define MAX_ATTEMPTS 2

enum ud_kind { UD_ACCEPT = 1, UD_RECV, UD_SEND, UD_WRECV, UD_PIDFD, UD_TICK, UD_SIGNAL,
	       UD_PFILE, UD_ALOG, UD_DEVPOLL, UD_WSEND, UD_METRICS, UD_CFSYNC };

/* Atomic writes in flight at once; each has two fixed-file slots. */
#define NPFILES 256
/* Results kept in memory for the result verb, at most (bytes). */
#define RESULTS_CACHE (64u << 20)

static inline uint64_t ud(enum ud_kind k, uint32_t idx, uint32_t gen)
{
	return (uint64_t)k << 56 | (uint64_t)(gen & 0xffffff) << 32 | idx;
}

struct outbuf {
	struct outbuf *next;
	unsigned char *data;
	size_t len, off;
	uint32_t gen;			/* a worker limbo's: whose send reads it */
};

/* Frames to send on one socket through the ring, one send in flight at a
 * time (client connections and workers alike). */
struct sendq {
	struct outbuf *head, *tail;
	bool sending;
};

struct conn {
	int fd;				/* -1: free slot */
	uint32_t gen;
	uid_t uid;
	gid_t gid;
	unsigned char *in;
	size_t inlen, incap;
	unsigned char rbuf[RECV_CHUNK];
	struct sendq q;
	bool close_after_send, closing;
	/* Ring operations not yet completed: the slot (its buffers) is not
	 * reused until they are, and a closed connection's unsent output
	 * waits in limbo for its send to complete. */
	unsigned int inflight;
	struct outbuf *limbo;
};

struct job {
	char id[QRTX_JOB_ID_MAX];
	char name[256];
	uid_t uid;
	int32_t priority;
	uint64_t seq;
	enum qrtx_job_state state;
	enum qrtx_exec_substate sub;
	uint64_t submitted_ns, finished_ns;
	char err_category[32];
	char err_message[512];
	int worker;			/* -1: none */
	double timeout_s;		/* 0: none; counted from submission */
	unsigned int attempts;		/* runs started, persisted */
	uint64_t entered_ns[QRTX_JOB_NSTATES];	/* as the daemon saw the moves */
	bool gone;			/* removed by gc: its record stays, unseen */
	bool acked;			/* its input is durable and the client told */
	gid_t gid;
	/* The final state being made durable (its meta.json written): the
	 * job shows it, and its waits are answered, once that is done. */
	enum qrtx_job_state ending;	/* QRTX_JOB_PENDING: not ending */
	char *input;			/* input.job.json until a worker takes it */
	char *results;			/* results.json, cached (NULL: read it) */
	unsigned int nptasks;		/* its end's writes in flight */
	/* Capacity: what a run needs, from the circuit at submission. */
	uint64_t need_qubits, need_bytes;
	uint64_t need_gpu_bytes;	/* ideal@cuda: its state, in GPU pool 0 */
	unsigned char exe;		/* the executor whose workers run it */
	bool quick;			/* a run of about a millisecond or less */
	bool ahead;			/* sent to a busy worker, to run next */
	bool prepared;			/* validated and compiled: waits in Queued */
	bool admitted;			/* capacity counted for it by the daemon */
	bool pend;			/* in d.pend_* (kernel: not reserved yet) */
	uint64_t handle;		/* in the daemon's own ledger */
	/* Rank order, fixed: every job ages at the same rate, so
	 * priority + age / AGING_S orders jobs as this does. */
	double key;
};

/* Job indices, best first (a binary heap); entries that stopped being
 * candidates are dropped when they come to the top. */
struct heap {
	size_t *v;
	size_t n, cap;
};

/* Latency histograms, Prometheus style: cumulative counts of
 * observations <= each bound, their sum and count. */
#define NBUCKETS 12
static const double bucket_le[NBUCKETS] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					    0.1, 0.25, 1, 10, 60 };

struct hist {
	uint64_t count, le[NBUCKETS];
	double sum;
};

static void hist_add(struct hist *h, double v)
{
	h->count++;
	h->sum += v;
	for (int i = 0; i < NBUCKETS; i++)
		h->le[i] += v <= bucket_le[i];
}

struct waiter {
	uint32_t conn, gen;
	json_t *id;			/* the request's id, owned */
	size_t job;
	uint64_t deadline_ns;		/* 0: none */
	bool cancel;			/* a cancel's answer, not a wait's */
};

/*
 * A chain of linked operations through the ring; an operation that fails
 * at issue (open, a short write, a bad slot) cancels the rest of its
 * chain, but some report their failure and let the chain go on (mkdirat,
 * renameat, fsync on the kernels measured), so every operation's
 * completion is looked at and the chain fails with the first error seen,
 * and a rename is issued only in a step after its file's sync succeeded.
 * CH_TMP: open a temporary file into a fixed slot, write, fsync, close.
 * CH_RENAME: rename the task's files over their final names, one after
 * the other in one chain (a failed rename does not stop the next; each
 * completion says). CH_COMMIT: rename one file, then open,
 * fsync and close the job's directory. CH_DSYNC: the directory's part
 * alone (after the renames of a step). CH_SUBMIT: make the job's
 * directory and a CH_TMP in it. CH_CFSYNC (no chain of its own): wait
 * for a sync of circuit_fs/ begun after this point; submissions share
 * those syncs. CH_RM: remove the files a job directory can hold and then
 * the directory (hard links: a file not there does not stop it).
 * CH_STAT: the size of a file; CH_READ: open it into a fixed slot, read
 * it whole, close it.
 */
enum chain_kind { CH_TMP, CH_RENAME, CH_COMMIT, CH_DSYNC, CH_SUBMIT, CH_CFSYNC, CH_RM, CH_STAT,
		  CH_READ };

/* The operations of the writing chains (CH_TMP to CH_SUBMIT). */
#define PT_MAXFILES 4	/* files a task writes at once */
enum pop { P_MKDIR, P_OPEN, P_WRITE, P_FSYNC, P_CLOSE, P_RENAME, P_DOPEN, P_DFSYNC,
	   P_DCLOSE };

static const enum pop ops_tmp[] = { P_OPEN, P_WRITE, P_FSYNC, P_CLOSE };
static const enum pop ops_rename[PT_MAXFILES] = { P_RENAME, P_RENAME, P_RENAME, P_RENAME };
#define PATH_W (QRTX_JOB_ID_MAX + 64)	/* a path in a job directory */
static const enum pop ops_commit[] = { P_RENAME, P_DOPEN, P_DFSYNC, P_DCLOSE };
static const enum pop ops_dsync[] = { P_DOPEN, P_DFSYNC, P_DCLOSE };
static const enum pop ops_submit[] = { P_MKDIR, P_OPEN, P_WRITE, P_FSYNC, P_CLOSE };

/* What a job directory can hold: its files, and their temporary names. */
static const char *const job_files[] = { "input.job.json", "compiled.aqo.json",
					 "compiled.qasm", "results.json", "meta.json" };
#define NJOB_FILES 5
#define RM_OPS (2 * NJOB_FILES + 1)

struct pfile {
	int task;			/* -1: free */
	enum chain_kind kind;
	char jdir[QRTX_JOB_ID_MAX];
	char tmp[QRTX_JOB_ID_MAX + 64], final[QRTX_JOB_ID_MAX + 64];
	const char *data;		/* owned by the task */
	size_t len;
	unsigned int ops;		/* chain operations not completed */
	unsigned int done;		/* completed, in chain order */
	int err;			/* first failure (-errno) */
	bool file_open, dir_open;	/* slots to empty after a failure */
	bool made, renamed;		/* its mkdir, its rename succeeded */
	const enum pop *opk;		/* writing chains: what each op is */
	unsigned int nops;		/* and how many there are */
	unsigned int err_op;		/* the operation that failed */
	char *paths;			/* CH_RM: the names removed */
	void *rbuf;			/* CH_READ: where the file goes */
	struct statx stx;		/* CH_STAT (here: the kernel writes it) */
};

/*
 * What a job needs written, in steps: a submission makes its directory
 * and writes input.job.json's temporary file (one chain), then renames
 * it into place and syncs the directory while circuit_fs/ is synced for
 * the new directory (two rounds through the ring's file-system workers
 * before the answer, not three); an end writes its artifacts (each
 * renamed into place) and meta.json's temporary file, then renames
 * meta.json into place last and syncs the directory (on restart, a
 * meta.json means the job ended, with everything it made in place). The chains of one step run at once, and
 * their fsyncs meet in the file system's journal commits.
 */
enum ptask_kind { PT_SUBMIT, PT_END, PT_ARTS, PT_RM, PT_READ };


struct ptask {
	bool used;
	enum ptask_kind kind;
	size_t job;
	unsigned int step;
	unsigned int pending;		/* chains of this step in flight */
	bool waiting;			/* in the queue for free pfiles */
	int err;
	char what[QRTX_JOB_ID_MAX + 64];	/* the file that failed */
	const char *name[PT_MAXFILES];
	char *text[PT_MAXFILES];	/* the artifacts (end, arts) */
	unsigned int nfiles;
	char *meta;			/* end: meta.json */
	uint32_t conn, gen;		/* submit: the request to answer */
	json_t *id;
	bool detached;			/* end: the job shows its state already */
	bool made_dir;			/* submit: its directory was made */
	long gc;			/* rm: its gc request (d.gcs), -1: none */
	size_t rsize;			/* read: the file's size */
	char *rbuf;			/* read: its text */
};

/* A gc request answered once the directories it removes are gone. */
struct gc_req {
	bool used;
	uint32_t conn, gen;
	json_t *id, *removed;
	unsigned int pending;		/* removals in flight */
};

struct worker {
	pid_t pid;			/* 0: not running */
	int pidfd, sock;
	uint32_t gen;
	long job;			/* -1: idle */
	bool killed;			/* SIGKILL sent (or meant to be) */
	bool zombie;			/* killed, not confirmed dead in time */
	uint64_t kill_ns;
	unsigned int kill_tries;
	unsigned char *in;
	size_t inlen, incap;
	unsigned char rbuf[4096];
	/* Its job's run record is not durable yet: its end, if it comes
	 * before, is held until the record is, and what the worker sends
	 * after it waits behind it. */
	bool recording;
	json_t *held;			/* those messages, in order (an array) */
	uint64_t batch;			/* the run records' batch holding it */
	enum qrtx_run_part part;	/* of its job it runs */
	/* A quick job sent ahead while it runs one, to run next (the worker
	 * reads it when it is done: no wait for the daemon in between). */
	long next;			/* -1: none */
	enum qrtx_run_part next_part;
	bool next_recording;
	uint64_t next_batch;
	unsigned char exe;		/* the executor it works for */
	/* What the daemon sends it, through the ring; what a replaced
	 * worker's send still in flight reads waits in limbo. */
	struct sendq q;
	struct outbuf *limbo;
};

static struct {
	struct io_uring ring;
	int lfd, sfd;
	const char *socket_path;
	struct qrtx_store *store;
	const char *state_opt;		/* --state-dir as given (NULL: default) */
	char state_dir[4096];		/* the store's circuit_fs, for logs */
	struct conn **conns;		/* each allocated once: ring ops point into it */
	size_t nconns;
	struct job *jobs;
	size_t njobs, jobs_cap;
	struct waiter *waiters;
	size_t nwaiters, waiters_cap;
	struct worker workers[MAX_WORKERS];
	unsigned int nworkers;
	uint64_t seq, submitted;
	uint64_t start_ns;
	struct __kernel_timespec tick;
	struct signalfd_siginfo siginfo;
	bool stop;
	unsigned int fault_kill_fails;	/* test builds: kills to pretend failed */
	unsigned int fault_alog_fails;	/* and run-record syncs */
	unsigned long fault_fsync_at[4];	/* and these file syncs (1-based) */
	unsigned long nfsyncs;		/* file syncs completed so far */
	bool fault_all_quick;		/* every job counts as quick */
	unsigned int fault_same_ids;	/* next ids whose first draw is fixed */
	/* persistence */
	int cfs_fd;			/* circuit_fs/, for the ring's *at calls */
	struct pfile pf[NPFILES];
	unsigned int pf_used;
	struct ptask *tasks;
	size_t ntasks;
	size_t *tfree;			/* indexes of the unused tasks */
	size_t ntfree;
	size_t *pwait;			/* tasks waiting for pfiles, in order */
	size_t npwait, pwait_cap;
	size_t results_bytes;		/* in the jobs' results caches */
	/* Run records: <state dir>/qrtxd.attempts, a line "<job_id>" for
	 * each run started, appended and synced for all the runs a loop
	 * turn starts at once, before their workers are told. */
	int alog_fd;
	char *alog_buf, *alog_wbuf;	/* to write next; being written */
	size_t alog_len, alog_cap, alog_wlen, alog_wcap;
	size_t alog_recs;		/* records in alog_buf (not separators) */
	unsigned int alog_ops;		/* operations of the write in flight */
	int alog_err;
	uint64_t alog_batch;		/* number of the batch being filled */
	/* Submitters' credentials for the ring, so that their artifacts are
	 * theirs (the daemon running as root). */
	struct { uid_t uid; gid_t gid; int id; } pers[64];
	unsigned int npers;
	char alog_path[4200];
	/* Admission: jobs start only with capacity for them. With the
	 * kernel module, /dev/qrtx is asked (workers reserve there
	 * themselves); without it, the daemon's own ledger holds each
	 * running job's capacity until the job ends. */
	struct qrtx_res *dev;
	struct qrtx_ledger *ledger;
	struct qrtx_account *acct;
	uint64_t pend_qubits, pend_bytes;	/* started, not reserved yet (kernel) */
	uint64_t pend_gpu_bytes;
	bool dev_polled;
	/* Indexes: waiting jobs by rank (not prepared; prepared, in
	 * Queued), jobs by id, and the jobs with a timeout. */
	/* per executor: jobs waiting to be validated and run, and jobs
	 * prepared and waiting in Queued for capacity */
	struct heap waiting[EX_N], queued[EX_N];
	unsigned int exe_workers[EX_N];	/* the workers of each */
	uint64_t exe_ended[EX_N], exe_failed[EX_N];	/* the jobs of each */
	size_t *by_id;			/* open addressing: index + 1, 0 empty */
	size_t by_id_cap;
	size_t *tmo;
	size_t ntmo, tmo_cap;
	struct gc_req *gcs;
	size_t ngcs;
	uint64_t invalid_moves;		/* moves the transition table refuses */
	/* observability */
	const char *metrics_path;
	char metrics_tmp[4200];
	char *metrics_buf;		/* being written */
	size_t metrics_len;
	unsigned int metrics_ops;	/* its operations in flight */
	/* Syncs of circuit_fs/ (for the directories submissions made):
	 * the tasks the one in flight answers, and those for the next. */
	bool cfs_syncing;
	size_t *cfs_cur, *cfs_next;
	size_t ncfs_cur, ncfs_next, cfs_cap;
	bool metrics_open;
	uint64_t metrics_next_ns;
	double keep_days;		/* retention: finished jobs kept this long */
	long keep_jobs;			/* and at most this many */
	uint64_t gc_next_ns;
	uint64_t finished[QRTX_JOB_NSTATES];	/* jobs ended in each final state */
	struct hist stage[QRTX_JOB_NSTATES];	/* time spent in each state */
	struct hist turnaround;			/* submission to end */
} d;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "qrtxd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&d.ring);

	if (!sqe) {
		io_uring_submit(&d.ring);
		sqe = io_uring_get_sqe(&d.ring);
	}
	return sqe;
}

/* --- send queues ------------------------------------------------------ */

static void free_outbufs(struct outbuf *b)
{
	while (b) {
		struct outbuf *n = b->next;

		free(b->data);
		free(b);
		b = n;
	}
}

/* A frame (taken) at the end of q. */
static void sendq_append(struct sendq *q, struct outbuf *b)
{
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
}

/* Queue msg (taken), with tail[0..taillen) after its JSON in the frame
 * (workers' frames only): 0, or -ENOMEM. */
static int sendq_push_tail(struct sendq *q, json_t *msg, const void *tail, size_t taillen)
{
	struct outbuf *b = calloc(1, sizeof(*b));

	if (!b || !msg || qrtx_proto_encode_tail(msg, tail, taillen, &b->data, &b->len)) {
		free(b);
		json_decref(msg);
		return -ENOMEM;
	}
	json_decref(msg);
	sendq_append(q, b);
	return 0;
}

static int sendq_push(struct sendq *q, json_t *msg)
{
	return sendq_push_tail(q, msg, NULL, 0);
}

/* Frames queued behind each other go out in one send of at most this
 * many bytes. */
#define SEND_MERGE_MAX (256u << 10)

/*
 * Join the frames after q's first (not in flight) into it, up to
 * SEND_MERGE_MAX bytes in all: one send, and one wake-up of the reader,
 * for a run of answers instead of one each (a connection with 128 jobs in
 * flight gets their answers in runs). Left as they are when memory is
 * short.
 */
static void sendq_merge(struct sendq *q)
{
	struct outbuf *b = q->head, *n;
	size_t len = b->len - b->off, at;
	unsigned char *data;

	for (n = b->next; n && len + n->len <= SEND_MERGE_MAX; n = n->next)
		len += n->len;
	if (n == b->next)
		return;
	data = malloc(len);
	if (!data)
		return;
	memcpy(data, b->data + b->off, b->len - b->off);
	at = b->len - b->off;
	while (b->next != n) {
		struct outbuf *m = b->next;

		memcpy(data + at, m->data, m->len);
		at += m->len;
		b->next = m->next;
		free(m->data);
		free(m);
	}
	free(b->data);
	b->data = data;
	b->len = len;
	b->off = 0;
	if (!n)
		q->tail = b;
}

/* The unsent bytes of q's first frames on the ring for fd, unless a send
 * is in flight or nothing waits: true when a send was put there. */
static bool sendq_arm(struct sendq *q, int fd, uint64_t user_data)
{
	struct io_uring_sqe *sqe;

	if (q->sending || !q->head)
		return false;
	sendq_merge(q);
	sqe = sqe_get();
	io_uring_prep_send(sqe, fd, q->head->data + q->head->off, q->head->len - q->head->off,
			   MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, user_data);
	q->sending = true;
	return true;
}

/* q's send completed with res: false when it failed, else true (a frame
 * sent whole is freed). */
static bool sendq_sent(struct sendq *q, int res)
{
	struct outbuf *b = q->head;

	q->sending = false;
	if (res < 0)
		return false;
	b->off += (size_t)res;
	if (b->off == b->len) {
		q->head = b->next;
		if (!q->head)
			q->tail = NULL;
		free(b->data);
		free(b);
	}
	return true;
}

/* q emptied, its socket gone: returns what a send still in flight may
 * read (to free once it completes); the rest is freed. */
static struct outbuf *sendq_drop(struct sendq *q)
{
	struct outbuf *kept = NULL;

	if (q->sending)
		kept = q->head;
	else
		free_outbufs(q->head);
	memset(q, 0, sizeof(*q));
	return kept;
}

/* --- persistence through the ring -------------------------------------- */

static void ptask_pfile_done(size_t ti, int err, const char *what);
static void ptask_run(size_t ti);

/* Room in the submission queue for a whole chain: the kernel ends a
 * chain at the end of a submission. */
static void sqe_room(unsigned int n)
{
	if (io_uring_sq_space_left(&d.ring) < n)
		io_uring_submit(&d.ring);
}

static void chain_sqe(struct io_uring_sqe *sqe, unsigned int pi, unsigned int op, int pers,
		      bool link, bool fixed)
{
	io_uring_sqe_set_data64(sqe, ud(UD_PFILE, pi, op));
	sqe->personality = (__u16)pers;
	if (link)
		sqe->flags |= IOSQE_IO_LINK;
	if (fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
}

/*
 * The ring's credentials for a submitter: the daemon's with the file
 * system identity of uid/gid, so that what the ring creates is theirs;
 * capabilities stay effective, so that their job directory can be made
 * in the daemon's circuit_fs/. 0 (the daemon's own) unless the daemon
 * runs as root for another user.
 */
static int personality(uid_t uid, gid_t gid)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];
	int id;

	if (geteuid() != 0 || uid == 0)
		return 0;
	for (unsigned int i = 0; i < d.npers; i++)
		if (d.pers[i].uid == uid && d.pers[i].gid == gid)
			return d.pers[i].id;
	if (d.npers == sizeof(d.pers) / sizeof(d.pers[0]))
		d.npers = 0;	/* forget the oldest ones; they stay registered */
	setfsgid(gid);
	setfsuid(uid);
	/* Changing the fsuid from 0 dropped the file capabilities. */
	if (syscall(SYS_capget, &h, c) == 0) {
		c[0].effective = c[0].permitted;
		c[1].effective = c[1].permitted;
		syscall(SYS_capset, &h, c);
	}
	id = io_uring_register_personality(&d.ring);
	setfsuid(0);
	setfsgid(0);
	if (id < 0) {
		logmsg("cannot register credentials of uid %u with the ring: %s; its artifacts "
		       "will be the daemon's", (unsigned int)uid, strerror(-id));
		id = 0;
	}
	d.pers[d.npers].uid = uid;
	d.pers[d.npers].gid = gid;
	d.pers[d.npers++].id = id;
	return id;
}

/* Start one chain of the given kind for the job directory jdir. */
static void pfile_start(unsigned int pi, size_t ti, enum chain_kind kind, const char *jdir,
			const char *name, const char *data, size_t len, int pers)
{
	struct pfile *f = &d.pf[pi];
	int fs = (int)(2 * pi), ds = (int)(2 * pi + 1);
	struct io_uring_sqe *sqe;
	unsigned int n;

	f->task = (int)ti;
	f->kind = kind;
	f->err = 0;
	f->done = 0;
	f->file_open = f->dir_open = false;
	f->made = f->renamed = false;
	f->opk = NULL;
	f->tmp[0] = 0;
	snprintf(f->jdir, sizeof(f->jdir), "%s", jdir);
	d.pf_used++;
	if (kind == CH_STAT || kind == CH_READ) {
		snprintf(f->final, sizeof(f->final), "%s/%s", jdir, name);
		f->len = len;
		f->ops = kind == CH_STAT ? 1 : 3;
		sqe_room(f->ops);
		sqe = io_uring_get_sqe(&d.ring);
		if (kind == CH_STAT) {
			io_uring_prep_statx(sqe, d.cfs_fd, f->final, 0, STATX_SIZE, &f->stx);
			chain_sqe(sqe, pi, 0, pers, false, false);
			return;
		}
		io_uring_prep_openat_direct(sqe, d.cfs_fd, f->final, O_RDONLY, 0, (unsigned int)fs);
		chain_sqe(sqe, pi, 0, pers, true, false);
		sqe = io_uring_get_sqe(&d.ring);
		io_uring_prep_read(sqe, fs, f->rbuf, (unsigned int)len, 0);
		chain_sqe(sqe, pi, 1, pers, true, true);
		sqe = io_uring_get_sqe(&d.ring);
		io_uring_prep_close_direct(sqe, (unsigned int)fs);
		chain_sqe(sqe, pi, 2, pers, false, false);
		return;
	}
	if (kind == CH_RM) {
		size_t w = QRTX_JOB_ID_MAX + 32;

		f->paths = malloc(RM_OPS * w);
		f->ops = RM_OPS;
		sqe_room(RM_OPS);
		for (unsigned int i = 0; i < RM_OPS; i++) {
			char *path = f->paths ? f->paths + i * w : NULL;

			sqe = io_uring_get_sqe(&d.ring);
			if (!path) {
				io_uring_prep_nop(sqe);	/* no memory: fails below */
			} else if (i < RM_OPS - 1) {
				snprintf(path, w, i < NJOB_FILES ? "%s/%s" : "%s/.%s.tmp", jdir,
					 job_files[i % NJOB_FILES]);
				io_uring_prep_unlinkat(sqe, d.cfs_fd, path, 0);
			} else {
				snprintf(path, w, "%s", jdir);
				io_uring_prep_unlinkat(sqe, d.cfs_fd, path, AT_REMOVEDIR);
			}
			chain_sqe(sqe, pi, i, pers, false, false);
			if (i < RM_OPS - 1)
				sqe->flags |= IOSQE_IO_HARDLINK;
		}
		return;
	}
	if (kind == CH_DSYNC) {
		f->opk = ops_dsync;
		f->ops = sizeof(ops_dsync) / sizeof(ops_dsync[0]);
	} else if (kind == CH_RENAME) {
		const struct ptask *t = &d.tasks[ti];

		/* every file of the task: temporary and final names in paths */
		f->paths = malloc(2 * PT_MAXFILES * PATH_W);
		f->opk = ops_rename;
		f->ops = f->paths ? t->nfiles : 0;
		for (unsigned int i = 0; i < f->ops; i++) {
			snprintf(f->paths + 2 * i * PATH_W, PATH_W, "%s/.%s.tmp", jdir, t->name[i]);
			snprintf(f->paths + (2 * i + 1) * PATH_W, PATH_W, "%s/%s", jdir, t->name[i]);
		}
		if (!f->ops) {
			/* no memory: a nop that fails the chain */
			f->ops = f->nops = 1;
			f->err = -ENOMEM;
			f->err_op = 1;
			sqe = sqe_get();
			io_uring_prep_nop(sqe);
			chain_sqe(sqe, pi, PT_MAXFILES, pers, false, false);
			return;
		}
	} else {
		snprintf(f->tmp, sizeof(f->tmp), "%s/.%s.tmp", jdir, name);
		snprintf(f->final, sizeof(f->final), "%s/%s", jdir, name);
		f->data = data;
		f->len = len;
		f->opk = kind == CH_RENAME ? ops_rename : kind == CH_TMP ? ops_tmp :
			 kind == CH_COMMIT ? ops_commit : ops_submit;
		f->ops = kind == CH_RENAME ? sizeof(ops_rename) / sizeof(ops_rename[0]) :
			 kind == CH_TMP ? sizeof(ops_tmp) / sizeof(ops_tmp[0]) :
			 kind == CH_COMMIT ? sizeof(ops_commit) / sizeof(ops_commit[0]) :
			 sizeof(ops_submit) / sizeof(ops_submit[0]);
	}
	f->nops = n = f->ops;
	sqe_room(n);
	for (unsigned int i = 0; i < n; i++) {
		bool fixed = false;

		sqe = io_uring_get_sqe(&d.ring);
		switch (f->opk[i]) {
		case P_MKDIR:
			io_uring_prep_mkdirat(sqe, d.cfs_fd, f->jdir, 0700);
			break;
		case P_OPEN:
			io_uring_prep_openat_direct(sqe, d.cfs_fd, f->tmp,
						    O_WRONLY | O_CREAT | O_TRUNC, 0600,
						    (unsigned int)fs);
			break;
		case P_WRITE:
			io_uring_prep_write(sqe, fs, f->data, (unsigned int)f->len, 0);
			fixed = true;
			break;
		case P_FSYNC:
			io_uring_prep_fsync(sqe, fs, 0);
			fixed = true;
			break;
		case P_CLOSE:
			io_uring_prep_close_direct(sqe, (unsigned int)fs);
			break;
		case P_RENAME:
			if (f->paths)
				io_uring_prep_renameat(sqe, d.cfs_fd, f->paths + 2 * i * PATH_W,
						       d.cfs_fd, f->paths + (2 * i + 1) * PATH_W,
						       0);
			else
				io_uring_prep_renameat(sqe, d.cfs_fd, f->tmp, d.cfs_fd, f->final,
						       0);
			break;
		case P_DOPEN:
			io_uring_prep_openat_direct(sqe, d.cfs_fd, f->jdir, O_RDONLY | O_DIRECTORY,
						    0, (unsigned int)ds);
			break;
		case P_DFSYNC:
			io_uring_prep_fsync(sqe, ds, 0);
			fixed = true;
			break;
		case P_DCLOSE:
			io_uring_prep_close_direct(sqe, (unsigned int)ds);
			break;
		}
		chain_sqe(sqe, pi, i, pers, i + 1 < n, fixed);
	}
}

/* What a failed chain failed on: its file, or the directory when making
 * or syncing that failed. */
static const char *pfile_what(const struct pfile *f)
{
	if (f->err && f->kind == CH_RENAME && f->paths && f->err_op < f->nops)
		return f->paths + (2 * f->err_op + 1) * PATH_W;
	if (f->err && f->opk && f->err_op < f->nops) {
		switch (f->opk[f->err_op]) {
		case P_MKDIR:
		case P_DOPEN:
		case P_DFSYNC:
		case P_DCLOSE:
			return f->jdir;
		default:
			break;
		}
	}
	return f->tmp[0] ? f->final : f->jdir;
}

/* A chain operation completed (CQEs of a broken chain may come in any
 * order: the operation is in the user data). */
static void on_pfile(unsigned int pi, unsigned int op, int res)
{
	struct pfile *f = &d.pf[pi];
	int err = 0;

	if (pi >= NPFILES || f->task < 0)
		return;
#ifdef QRTX_FAULTS
	if (f->opk && op < f->nops && f->opk[op] == P_FSYNC && res >= 0) {
		d.nfsyncs++;
		for (unsigned int i = 0; i < 4; i++)
			if (d.fault_fsync_at[i] == d.nfsyncs)
				res = -EIO;	/* as if the sync had failed */
	}
#endif
	if (f->kind == CH_RM)
		/* a file not there is fine; the directory's removal says */
		err = op == RM_OPS - 1 ? (!f->paths ? -ENOMEM : res == -ENOENT ? 0 : res) : 0;
	else if (((f->opk && op < f->nops && f->opk[op] == P_WRITE) ||
		  (f->kind == CH_READ && op == 1)) && res >= 0 && (size_t)res != f->len)
		err = -EIO;	/* short write or read (and the chain broken) */
	else if (res < 0)
		err = res;
	if (!err && f->opk && op < f->nops) {
		switch (f->opk[op]) {
		case P_MKDIR:
			f->made = true;
			break;
		case P_OPEN:
		case P_CLOSE:
			f->file_open = f->opk[op] == P_OPEN;
			break;
		case P_DOPEN:
		case P_DCLOSE:
			f->dir_open = f->opk[op] == P_DOPEN;
			break;
		case P_RENAME:
			f->renamed = true;
			break;
		default:
			break;
		}
	} else if (!err && f->kind == CH_READ && (op == 0 || op == 2)) {
		f->file_open = op == 0;
	}
	if (err && (!f->err || f->err == -ECANCELED)) {
		f->err = err;
		f->err_op = op;
	}
	if (--f->ops)
		return;
	if (f->err) {
		/* Rare: the slots are emptied and the temporary file removed
		 * here and now. */
		int none = -1;

		if (f->file_open)
			io_uring_register_files_update(&d.ring, 2 * pi, &none, 1);
		if (f->dir_open)
			io_uring_register_files_update(&d.ring, 2 * pi + 1, &none, 1);
		if (f->tmp[0] && !f->renamed)
			unlinkat(d.cfs_fd, f->tmp, 0);
	}
	{
		size_t ti = (size_t)f->task;
		int e = f->err;
		char what[QRTX_JOB_ID_MAX + 64];

		snprintf(what, sizeof(what), "%s", pfile_what(f));
		if (f->kind == CH_STAT && !e)
			d.tasks[ti].rsize = (size_t)f->stx.stx_size;
		if (f->made)
			d.tasks[ti].made_dir = true;
		free(f->paths);
		f->paths = NULL;
		f->task = -1;
		d.pf_used--;
		ptask_pfile_done(ti, e, what);
	}
}

static size_t ptask_new(enum ptask_kind kind, size_t ji)
{
	size_t ti;

	if (!d.ntfree) {
		size_t n = d.ntasks ? 2 * d.ntasks : 64;
		struct ptask *nt = realloc(d.tasks, n * sizeof(*nt));
		size_t *nf;

		if (!nt)
			return SIZE_MAX;
		d.tasks = nt;
		nf = realloc(d.tfree, n * sizeof(*nf));
		if (!nf)
			return SIZE_MAX;
		d.tfree = nf;
		memset(nt + d.ntasks, 0, (n - d.ntasks) * sizeof(*nt));
		for (size_t i = n; i-- > d.ntasks;)
			d.tfree[d.ntfree++] = i;
		d.ntasks = n;
	}
	ti = d.tfree[--d.ntfree];
	memset(&d.tasks[ti], 0, sizeof(d.tasks[ti]));
	d.tasks[ti].used = true;
	d.tasks[ti].kind = kind;
	d.tasks[ti].job = ji;
	return ti;
}

static void ptask_free(size_t ti)
{
	struct ptask *t = &d.tasks[ti];

	free(t->rbuf);
	for (unsigned int i = 0; i < t->nfiles; i++)
		free(t->text[i]);
	free(t->meta);
	json_decref(t->id);
	memset(t, 0, sizeof(*t));
	d.tfree[d.ntfree++] = ti;	/* room: as many as there are tasks */
}

/*
 * The chains of the task's step (kinds, and for files name and text):
 *   submit: mkdir, input.job.json's temporary file | its commit, circuit_fs/ sync
 *   end:    the artifacts' and meta.json's temporary files | the artifacts'
 *           renames | meta.json's commit
 *   arts:   temporary files | renames | dsync
 * Returns how many, or -1 past the last step.
 */
static int ptask_step(const struct ptask *t, unsigned int step, enum chain_kind *kind,
		      const char **name, const char **text)
{
	const struct job *j = &d.jobs[t->job];
	unsigned int last = t->kind == PT_RM ? 0 : t->kind == PT_READ || t->kind == PT_SUBMIT ? 1 : 2;

	if (step > last)
		return -1;
	if (t->kind == PT_READ) {
		kind[0] = step ? CH_READ : CH_STAT;
		name[0] = "results.json";
		text[0] = NULL;
		return 1;
	}
	if (t->kind == PT_RM) {
		kind[0] = CH_RM;
		name[0] = text[0] = NULL;
		return 1;
	}
	if (t->kind == PT_SUBMIT) {
		kind[0] = step == 0 ? CH_SUBMIT : CH_COMMIT;
		name[0] = "input.job.json";
		text[0] = step == 0 ? j->input : NULL;
		if (step == 0)
			return 1;
		/* the directory made: its entry synced beside the commit */
		kind[1] = CH_CFSYNC;
		name[1] = text[1] = NULL;
		return 2;
	}
	if (step == 0) {
		for (unsigned int i = 0; i < t->nfiles; i++) {
			kind[i] = CH_TMP;
			name[i] = t->name[i];
			text[i] = t->text[i];
		}
		if (t->kind != PT_END)
			return (int)t->nfiles;
		kind[t->nfiles] = CH_TMP;
		name[t->nfiles] = "meta.json";
		text[t->nfiles] = t->meta;
		return (int)t->nfiles + 1;
	}
	if (step == 1) {
		/* every temporary file synced: renamed into place */
		kind[0] = CH_RENAME;
		name[0] = text[0] = NULL;
		return t->nfiles ? 1 : 0;
	}
	if (t->kind == PT_END) {
		/* meta.json last, once the others are in place */
		kind[0] = CH_COMMIT;
		name[0] = "meta.json";
		text[0] = NULL;
		return 1;
	}
	/* a directory sync, after a step that renamed something */
	kind[0] = CH_DSYNC;
	name[0] = text[0] = NULL;
	return t->nfiles ? 1 : 0;
}

static unsigned int ptask_need(const struct ptask *t)
{
	enum chain_kind k[PT_MAXFILES];
	const char *n[PT_MAXFILES], *x[PT_MAXFILES];
	int c = ptask_step(t, t->step, k, n, x);
	unsigned int need = 0;

	/* (a circuit_fs/ sync takes no pfile) */
	for (int i = 0; i < c; i++)
		need += k[i] != CH_CFSYNC;
	return need;
}

static void ptask_start(size_t ti);

/* Tasks that found too few free pfiles start, in order, as they free. */
static void ptask_kick(void)
{
	while (d.npwait && NPFILES - d.pf_used >= ptask_need(&d.tasks[d.pwait[0]])) {
		size_t ti = d.pwait[0];

		memmove(d.pwait, d.pwait + 1, (--d.npwait) * sizeof(*d.pwait));
		d.tasks[ti].waiting = false;
		ptask_start(ti);
	}
}

static void ptask_done(size_t ti);

/* Start the chains of the task's current step, or queue the task
 * behind those waiting for free pfiles. */
static void ptask_run(size_t ti)
{
	struct ptask *t = &d.tasks[ti];

	if (NPFILES - d.pf_used >= ptask_need(t) && !d.npwait) {
		ptask_start(ti);
		return;
	}
	if (d.npwait == d.pwait_cap) {
		size_t n = d.pwait_cap ? 2 * d.pwait_cap : 64;
		size_t *nw = realloc(d.pwait, n * sizeof(*nw));

		if (!nw) {
			t->err = -ENOMEM;
			snprintf(t->what, sizeof(t->what), "%s", d.jobs[t->job].id);
			ptask_done(ti);
			return;
		}
		d.pwait = nw;
		d.pwait_cap = n;
	}
	d.pwait[d.npwait++] = ti;
	t->waiting = true;
}

/* Start a sync of circuit_fs/ for the tasks waiting for one. */
static void cfs_start(void)
{
	struct io_uring_sqe *sqe;
	size_t *t = d.cfs_cur;

	if (d.cfs_syncing || !d.ncfs_next)
		return;
	d.cfs_cur = d.cfs_next;
	d.ncfs_cur = d.ncfs_next;
	d.cfs_next = t;
	d.ncfs_next = 0;
	d.cfs_syncing = true;
	sqe = sqe_get();
	io_uring_prep_fsync(sqe, d.cfs_fd, 0);
	io_uring_sqe_set_data64(sqe, ud(UD_CFSYNC, 0, 0));
}

/* Task ti made its directory: it waits for a sync of circuit_fs/ that
 * begins after now (one in flight may have begun before the mkdir). */
static void cfs_join(size_t ti)
{
	if (d.ncfs_next == d.cfs_cap) {
		size_t n = d.cfs_cap ? 2 * d.cfs_cap : 64;
		size_t *a = realloc(d.cfs_cur, n * sizeof(*a)), *b;

		if (a)
			d.cfs_cur = a;
		b = a ? realloc(d.cfs_next, n * sizeof(*b)) : NULL;
		if (!b) {
			ptask_pfile_done(ti, -ENOMEM, "circuit_fs");
			return;
		}
		d.cfs_next = b;
		d.cfs_cap = n;
	}
	d.cfs_next[d.ncfs_next++] = ti;
	cfs_start();
}

/* The sync of circuit_fs/ in flight ended: its tasks go on. */
static void on_cfsync(int res)
{
	/* (still syncing meanwhile: a task joining now waits for the next) */
	for (size_t i = 0; i < d.ncfs_cur; i++)
		ptask_pfile_done(d.cfs_cur[i], res < 0 ? res : 0, "circuit_fs");
	d.ncfs_cur = 0;
	d.cfs_syncing = false;
	cfs_start();
}

static void ptask_start(size_t ti)
{
	struct ptask *t = &d.tasks[ti];
	struct job *j = &d.jobs[t->job];
	int pers = personality(j->uid, j->gid);
	enum chain_kind kind[PT_MAXFILES];
	const char *name[PT_MAXFILES], *text[PT_MAXFILES];
	int n = ptask_step(t, t->step, kind, name, text);
	unsigned int pi = 0;

	t->pending = n > 0 ? (unsigned int)n : 0;
	if (n <= 0) {
		ptask_pfile_done(ti, 0, NULL);
		return;
	}
	for (int i = 0; i < n; i++) {
		size_t len = text[i] ? strlen(text[i]) : 0;

		if (kind[i] == CH_CFSYNC) {
			cfs_join(ti);
			continue;
		}
		while (d.pf[pi].task >= 0)
			pi++;
		if (kind[i] == CH_READ) {
			/* as large as the file said it was */
			len = t->rsize;
			free(t->rbuf);
			t->rbuf = malloc(len + 1);
			if (!t->rbuf) {
				t->pending = 0;
				t->err = -ENOMEM;
				snprintf(t->what, sizeof(t->what), "%s/%s", j->id, name[i]);
				ptask_done(ti);
				return;
			}
			d.pf[pi].rbuf = t->rbuf;
		}
		pfile_start(pi, ti, kind[i], j->id, name[i], text[i], len, pers);
	}
}

/* One chain of the task's step ended (err: how, what: which file). */
static void ptask_pfile_done(size_t ti, int err, const char *what)
{
	struct ptask *t = &d.tasks[ti];

	if (err && !t->err) {
		t->err = err;
		snprintf(t->what, sizeof(t->what), "%s", what);
	}
	if (t->pending)
		t->pending--;
	if (t->pending)
		return;
	if (!t->err) {
		enum chain_kind k[PT_MAXFILES];
		const char *n[PT_MAXFILES], *x[PT_MAXFILES];

		/* the next step with something to do, if any */
		while (ptask_step(t, ++t->step, k, n, x) == 0)
			;
		if (ptask_step(t, t->step, k, n, x) > 0) {
			ptask_run(ti);
			return;
		}
	}
	ptask_done(ti);
}

/* --- workers ----------------------------------------------------------- */

/* A job's moves are reported as they happen once it has run this long,
 * and when its quantum part starts running (the long part, to be seen
 * while it runs); the others go with the next report (most jobs end
 * sooner, and their moves go with the final report at once). */
#define REPORT_AFTER_NS (2 * 1000 * 1000ull)

struct wctx {
	int sock;
	bool quick;			/* too short a run to report its start */
	const char *job_id;
	/* the artifacts handed to the daemon: name: length, in order, and
	 * their texts one after the other (the tail of the final report) */
	json_t *artifacts;
	char *raw;
	size_t rawlen, rawcap;
	json_t *moves;			/* not reported yet: [[state, t_ns(, substate)]] */
	uint64_t start_ns;
};

static void worker_report(void *arg, const struct qrtx_jobstate *js)
{
	struct wctx *w = arg;
	uint64_t now = now_ns();
	/* [state, t_ns] or [state, t_ns, substate]: arrays rather than
	 * objects, which the daemon's loop parses in two thirds of the time */
	json_t *mv = json_pack("[s, I]", qrtx_job_state_name(js->state), (json_int_t)now);

	if (js->state == QRTX_JOB_EXECUTING && js->sub != QRTX_EXEC_NONE)
		json_array_append_new(mv, json_string(qrtx_exec_substate_name(js->sub)));
	json_array_append_new(w->moves, mv);
	if (now - w->start_ns >= REPORT_AFTER_NS ||
	    (js->sub == QRTX_EXEC_QUANTUM_RUNNING && !w->quick)) {
		json_t *m = json_pack("{s:s, s:O}", "job_id", w->job_id, "moves", w->moves);

		qrtx_proto_send(w->sock, m);
		json_decref(m);
		json_array_clear(w->moves);
	}
}

/* The pipeline's artifacts go to the daemon, which writes them. */
static int worker_persist(void *arg, const char *name, const char *data, size_t len,
			  struct qrtx_error *err)
{
	struct wctx *w = arg;

	if (w->rawlen + len > w->rawcap) {
		size_t cap = w->rawcap ? 2 * w->rawcap : 8192;
		char *n;

		while (cap < w->rawlen + len)
			cap *= 2;
		n = realloc(w->raw, cap);
		if (!n)
			goto nomem;
		w->raw = n;
		w->rawcap = cap;
	}
	/* (a name given twice would break the order: the pipeline does not) */
	if (json_object_get(w->artifacts, name) ||
	    json_object_set_new(w->artifacts, name, json_integer((json_int_t)len)))
		goto nomem;
	memcpy(w->raw + w->rawlen, data, len);
	w->rawlen += len;
	return 0;
nomem:
	qrtx_error_set(err, QRTX_ERR_PERSIST, -ENOMEM, name, 0, 0,
		       "cannot keep the artifact for the daemon");
	return -ENOMEM;
}

/*
 * Whether job's quantum part is over before anyone could look: its
 * amplitude updates (operations x 2^qubits, for every PUB, and every
 * shot when shots are simulated one by one) under 2^20, about a
 * millisecond. Its start is then not reported at once (a message each
 * way for every small job); a longer run's is, so that it is seen
 * running.
 */
static bool quick_job(const struct qrtx_job_spec *job)
{
	double cost = (double)job->circuit->nops * ldexp(1.0, (int)job->circuit->nqubits);
	uint64_t shots = job->shots;

	for (uint32_t i = 0; i < job->npubs; i++)
		shots = job->pubs[i].shots > shots ? job->pubs[i].shots : shots;
	cost *= job->npubs ? job->npubs : 1;
	if (qrtx_circuit_measurements_terminal(job->circuit) != 1)
		cost *= (double)(shots ? shots : 1);
	return cost < 1048576.0;
}

/* Rebuild the job from its input.job.json (the daemon sends its text)
 * and run it; the artifacts are left in w->artifacts. */
static int worker_run(struct wctx *w, const char *input, size_t inlen,
		      enum qrtx_run_part part, struct qrtx_error *err)
{
	struct qrtx_run_opts ro = { 0 };
	struct qrtx_run_result res;
	struct qrtx_job_spec *job = NULL;
	struct qrtx_job_opts jo;
	json_error_t je;
	json_t *in, *src;
	const char *text, *kind, *file;
	int ret;

	in = inlen ? json_loadb(input, inlen, 0, &je) : NULL;
	if (!in) {
		qrtx_error_set(err, QRTX_ERR_PERSIST, -EIO, "input.job.json", 0, 0,
			       "cannot parse: %s", inlen ? je.text : "no input");
		return -EIO;
	}
	src = json_object_get(in, "source");
	text = json_string_value(json_object_get(src, "text"));
	kind = json_string_value(json_object_get(src, "kind"));
	file = json_string_value(json_object_get(src, "file"));
	if (!text || !kind) {
		json_decref(in);
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, "input.job.json", 0, 0,
			       "not a qrtxd input document");
		return -EINVAL;
	}
	ret = qrtx_job_opts_from_json(json_object_get(in, "options"), &jo, err);
	if (!ret)
		ret = qrtx_job_from_source(file ? file : w->job_id, text, strlen(text),
					   !strcmp(kind, "json"), &jo, &job, err);
	if (!ret) {
		w->quick = quick_job(job);
		ro.state_dir = d.state_opt;
		ro.job_id = w->job_id;
		ro.on_state = worker_report;
		ro.on_state_arg = w;
		ro.persist = worker_persist;
		ro.persist_arg = w;
		ro.part = part;
		ro.exec.exact = jo.exact;
		ret = qrtx_run_job(job, &ro, &res, err);
		qrtx_run_result_free(&res);
		qrtx_job_spec_free(job);
	}
	json_decref(in);
	return ret;
}

static void __attribute__((noreturn)) worker_main(int sock)
{
	for (;;) {
		struct qrtx_error err = { 0 };
		char ebuf[256], msg[1024];
		struct wctx w = { .sock = sock };
		const char *part;
		json_t *req, *done;
		unsigned char *payload;
		size_t plen, used;
		int ret = qrtx_proto_recv_tail(sock, &req, &payload, &plen, &used, ebuf,
					       sizeof(ebuf));

		if (ret)
			_exit(ret == -ECONNRESET ? 0 : 1);
		w.job_id = json_string_value(json_object_get(req, "job_id"));
		w.start_ns = now_ns();
		w.artifacts = json_object();
		w.moves = json_array();
		if (!w.job_id || !w.artifacts || !w.moves) {
			json_decref(req);
			_exit(1);
		}
		part = json_string_value(json_object_get(req, "part"));
		/* input.job.json's text is the tail of the request */
		ret = worker_run(&w, (const char *)payload + used, plen - used,
				 !part ? QRTX_RUN_WHOLE : !strcmp(part, "prepare") ?
				 QRTX_RUN_PREPARE : QRTX_RUN_EXECUTE, &err);
		/* The pipeline freed the state and released the reservation
		 * before returning: nothing is held now, and the report says so. */
		done = json_pack("{s:s, s:b, s:s, s:{s:i, s:i}, s:o, s:o}", "job_id", w.job_id,
				 "done", 1, "state", ret ? "Failed" : part && !strcmp(part, "prepare") ?
				 "Queued" : "Completed",
				 "held", "qubits", 0, "host_bytes", 0, "artifacts", w.artifacts,
				 "moves", w.moves);
		if (ret) {
			qrtx_error_format(&err, msg, sizeof(msg));
			json_object_set_new(done, "error",
					    json_pack("{s:s, s:s}", "category",
						      qrtx_error_category_name(err.category),
						      "message", msg));
		}
		qrtx_proto_send_tail(sock, done, w.raw, w.rawlen);
		json_decref(done);
		json_decref(req);
		free(payload);
		free(w.raw);
	}
}

static void arm_worker(unsigned int i)
{
	struct worker *w = &d.workers[i];
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_recv(sqe, w->sock, w->rbuf, sizeof(w->rbuf), 0);
	io_uring_sqe_set_data64(sqe, ud(UD_WRECV, i, w->gen));
	sqe = sqe_get();
	io_uring_prep_poll_add(sqe, w->pidfd, POLLIN);
	io_uring_sqe_set_data64(sqe, ud(UD_PIDFD, i, w->gen));
}

/* SIGKILL through the pidfd; the slot stays out of scheduling until the
 * pidfd reports the exit. */
static void kill_worker(unsigned int i)
{
	struct worker *w = &d.workers[i];

	if (!w->killed) {
		w->killed = true;
		w->kill_ns = now_ns();
	}
	w->kill_tries++;
#ifdef QRTX_FAULTS
	if (d.fault_kill_fails) {
		d.fault_kill_fails--;
		return;	/* as if the kill had failed */
	}
#endif
	syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
}

/* Stop the run of job j, if a worker has it: SIGKILL (the kernel
 * reclaims the worker's reservation with it; the slot returns when the
 * pidfd reports the exit), unless the run is over already and only its
 * record's sync holds the worker. */
static void stop_worker_of(const struct job *j)
{
	/* (a job sent ahead has not begun: it is ended, and its worker runs
	 * it, quickly, and drops its report) */
	if (j->worker < 0 || j->ahead || d.workers[j->worker].held)
		return;
	kill_worker((unsigned int)j->worker);
}

static int spawn_worker(unsigned int i)
{
	struct worker *w = &d.workers[i];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		/* Only its end of the pair, the standard streams and what the
		 * pipeline opens itself. */
		/* A worker outlives no daemon: a job must not run on, or
		 * twice, behind the back of the one that recovers it. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1)
			_exit(1);
		if (dup2(sv[1], 3) < 0)
			_exit(1);
		syscall(SYS_close_range, 4u, ~0u, 0u);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		worker_main(3);
	}
	close(sv[1]);
	w->pid = pid;
	w->sock = sv[0];
	w->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (w->pidfd < 0) {
		int e = -errno;

		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(w->sock);
		w->pid = 0;
		return e;
	}
	w->gen++;
	w->job = -1;
	w->next = -1;
	w->killed = w->zombie = false;
	w->kill_tries = 0;
	w->inlen = 0;
	arm_worker(i);
	return 0;
}

/* --- jobs and replies -------------------------------------------------- */

static json_t *job_json(const struct job *j)
{
	char dir[4096];
	json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:s, s:I}", "job_id", j->id, "state",
			      qrtx_job_state_name(j->state), "priority", j->priority,
			      "uid", (json_int_t)j->uid, "name", j->name,
			      "submitted_ns", (json_int_t)j->submitted_ns);

	if (j->state == QRTX_JOB_EXECUTING && j->sub != QRTX_EXEC_NONE)
		json_object_set_new(o, "substate", json_string(qrtx_exec_substate_name(j->sub)));
	if (qrtx_job_state_final(j->state))
		json_object_set_new(o, "finished_ns", json_integer((json_int_t)j->finished_ns));
	if (j->err_category[0])
		json_object_set_new(o, "error", json_pack("{s:s, s:s}", "category",
							  j->err_category, "message",
							  j->err_message));
	qrtx_store_path(d.store, j->id, NULL, dir, sizeof(dir));
	json_object_set_new(o, "artifacts", json_string(dir));
	return o;
}

static void conn_send(uint32_t ci, json_t *msg);
static int conn_send_results(uint32_t ci, json_t *r, const char *text);

static json_t *reply_ok(json_t *id)
{
	return json_pack("{s:i, s:O, s:b}", "v", QRTX_PROTO_VERSION, "id", id ? id : json_null(),
			 "ok", 1);
}

static json_t *reply_err(json_t *id, const char *category, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static json_t *reply_err(json_t *id, const char *category, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:i, s:O, s:b, s:{s:s, s:s}}", "v", QRTX_PROTO_VERSION, "id",
			 id ? id : json_null(), "ok", 0, "error", "category", category,
			 "message", msg);
}

static void finish_job(size_t ji);
static void schedule(void);
static void heap_push(struct heap *h, size_t ji);
static int remove_job_dir(const struct job *j);

static bool visible(const struct job *j)
{
	return j->acked && !j->gone;
}

/* Ended, or its end being made durable. */
static bool ended(const struct job *j)
{
	return qrtx_job_state_final(j->state) || j->ending != QRTX_JOB_PENDING;
}

/* The time spent in the state being left goes to its histogram. */
static void note_move_at(struct job *j, enum qrtx_job_state to, uint64_t now)
{
	if (j->state == to)
		return;
	if (!qrtx_job_transition_valid(j->state, to)) {
		d.invalid_moves++;
		logmsg("job %s: invalid move %s -> %s", j->id, qrtx_job_state_name(j->state),
		       qrtx_job_state_name(to));
	}
	if (j->entered_ns[j->state])
		hist_add(&d.stage[j->state], (double)(now - j->entered_ns[j->state]) / 1e9);
	j->entered_ns[to] = now;
}

static void note_move(struct job *j, enum qrtx_job_state to)
{
	note_move_at(j, to, now_ns());
}

static void set_state(size_t ji, enum qrtx_job_state s)
{
	struct job *j = &d.jobs[ji];

	note_move(j, s);
	j->state = s;
	if (s != QRTX_JOB_EXECUTING)
		j->sub = QRTX_EXEC_NONE;
	if (qrtx_job_state_final(s))
		finish_job(ji);
}

/* Answer the waits and cancels on job ji (it is final). */
static void unadmit(struct job *j);

static void finish_job(size_t ji)
{
	unadmit(&d.jobs[ji]);
	d.jobs[ji].finished_ns = now_ns();
	d.finished[d.jobs[ji].state]++;
	d.exe_ended[d.jobs[ji].exe]++;
	d.exe_failed[d.jobs[ji].exe] += d.jobs[ji].state == QRTX_JOB_FAILED;
	hist_add(&d.turnaround, (double)(d.jobs[ji].finished_ns - d.jobs[ji].submitted_ns) / 1e9);
	for (size_t i = 0; i < d.nwaiters;) {
		struct waiter *w = &d.waiters[i];

		if (w->job != ji) {
			i++;
			continue;
		}
		if (d.conns[w->conn]->fd >= 0 && d.conns[w->conn]->gen == w->gen) {
			json_t *r = reply_ok(w->id);

			json_object_set_new(r, "job", job_json(&d.jobs[ji]));
			if (!w->cancel)
				json_object_set_new(r, "timed_out", json_false());
			conn_send(w->conn, r);
		}
		json_decref(w->id);
		*w = d.waiters[--d.nwaiters];
	}
}

/* Answer request id on connection ci once job ji has ended. */
static int add_waiter(uint32_t ci, json_t *id, size_t ji, uint64_t deadline_ns, bool cancel)
{
	struct waiter *w;

	if (d.nwaiters == d.waiters_cap) {
		size_t ncap = d.waiters_cap ? 2 * d.waiters_cap : 64;
		struct waiter *n = realloc(d.waiters, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d.waiters = n;
		d.waiters_cap = ncap;
	}
	w = &d.waiters[d.nwaiters++];
	w->conn = ci;
	w->gen = d.conns[ci]->gen;
	w->id = json_incref(id);
	w->job = ji;
	w->deadline_ns = deadline_ns;
	w->cancel = cancel;
	return 0;
}

/* meta.json of a job the daemon ends itself (cancelled, timed out, its
 * worker lost, or not run again after restarts). */
static char *final_meta_text(const struct job *j, enum qrtx_job_state s)
{
	json_t *m = json_pack("{s:s, s:s, s:I, s:I}", "job_id", j->id, "state",
			      qrtx_job_state_name(s), "submitted_ns",
			      (json_int_t)j->submitted_ns, "finished_ns", (json_int_t)now_ns());
	char *text;

	if (j->err_category[0])
		json_object_set_new(m, "error", json_pack("{s:s, s:s}", "category",
							  j->err_category, "message",
							  j->err_message));
	text = m ? json_dumps(m, JSON_INDENT(2)) : NULL;
	json_decref(m);
	return text;
}

static void set_error(struct job *j, const char *category, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_error(struct job *j, const char *category, const char *fmt, ...)
{
	va_list ap;

	snprintf(j->err_category, sizeof(j->err_category), "%s", category);
	va_start(ap, fmt);
	vsnprintf(j->err_message, sizeof(j->err_message), fmt, ap);
	va_end(ap);
}

static const char *const artifact_names[] = { "compiled.aqo.json", "compiled.qasm",
					      "results.json" };

/*
 * End job ji in state s: write its artifacts (arts: name to text, from
 * the worker; may be NULL), then its meta.json (the worker's, else one
 * made here); only then does the job show s, and its waits are answered.
 */
static void end_job(size_t ji, enum qrtx_job_state s, const char *meta, json_t *arts)
{
	struct job *j = &d.jobs[ji];
	struct ptask *t;
	size_t ti;

	if (ended(j))
		return;
	ti = ptask_new(PT_END, ji);
	if (ti == SIZE_MAX) {
		logmsg("job %s: no memory to write its end; it shows it unwritten", j->id);
		set_state(ji, s);
		return;
	}
	t = &d.tasks[ti];
	t->meta = meta ? strdup(meta) : final_meta_text(j, s);
	for (unsigned int i = 0; i < sizeof(artifact_names) / sizeof(artifact_names[0]); i++) {
		const char *text = json_string_value(json_object_get(arts, artifact_names[i]));

		if (!text)
			continue;
		t->name[t->nfiles] = artifact_names[i];
		t->text[t->nfiles++] = strdup(text);
	}
	if (!t->meta) {
		ptask_free(ti);
		set_state(ji, s);
		return;
	}
	j->ending = s;
	j->nptasks++;
	ptask_run(ti);
}

static void conn_send(uint32_t ci, json_t *msg);
static json_t *reply_ok(json_t *id);

/* Every directory of gc request gi is gone: answer it. */
static void gc_answer(size_t gi)
{
	struct gc_req *g = &d.gcs[gi];
	struct conn *c = d.conns[g->conn];

	if (c->fd >= 0 && c->gen == g->gen) {
		json_t *r = reply_ok(g->id);

		json_object_set(r, "removed", g->removed);
		conn_send(g->conn, r);
	}
	json_decref(g->id);
	json_decref(g->removed);
	memset(g, 0, sizeof(*g));
}

/* A job's writes are done (t->err: how they failed). */
static void ptask_done(size_t ti)
{
	struct ptask *t = &d.tasks[ti];
	size_t ji = t->job;
	struct job *j = &d.jobs[ji];
	char msg[256] = "";

	if (t->err)
		snprintf(msg, sizeof(msg), "cannot write %s: %s", t->what, strerror(-t->err));
	if (t->err && (t->kind == PT_END || t->kind == PT_ARTS)) {
		/* Rare: the temporary files its failed steps left (those
		 * renamed are not there any more) go here and now. */
		char tmp[QRTX_JOB_ID_MAX + 64];

		for (unsigned int i = 0; i <= t->nfiles; i++) {
			if (i == t->nfiles && t->kind != PT_END)
				break;
			snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", j->id,
				 i < t->nfiles ? t->name[i] : "meta.json");
			unlinkat(d.cfs_fd, tmp, 0);
		}
	}
	if (t->kind == PT_SUBMIT) {
		struct conn *c = d.conns[t->conn];
		bool alive = c->fd >= 0 && c->gen == t->gen;

		if (!t->err) {
			j->acked = true;
			d.submitted++;
			heap_push(&d.waiting[j->exe], ji);
			if (alive) {
				json_t *r = reply_ok(t->id);

				json_object_set_new(r, "job_id", json_string(j->id));
				conn_send(t->conn, r);
			}
		} else {
			logmsg("submission not taken: %s", msg);
			if (alive)
				conn_send(t->conn, reply_err(t->id, "PersistError", "%s", msg));
			j->gone = true;		/* never acknowledged */
			free(j->input);
			j->input = NULL;
			if (t->made_dir) {
				/* its directory was made: nothing stays */
				size_t ri = ptask_new(PT_RM, ji);

				t = &d.tasks[ti];	/* d.tasks may have moved */
				if (ri == SIZE_MAX) {
					remove_job_dir(j);
				} else {
					d.tasks[ri].gc = -1;
					j->nptasks++;
					ptask_run(ri);
				}
			}
		}
	} else if (t->detached) {
		if (t->err)
			logmsg("job %s: %s", j->id, msg);
	} else if (t->kind == PT_READ) {
		struct conn *c = d.conns[t->conn];
		json_error_t je;
		json_t *res = t->err ? NULL : json_loadb(t->rbuf, t->rsize, 0, &je);

		if (c->fd >= 0 && c->gen == t->gen) {
			json_t *r;

			if (res) {
				r = reply_ok(t->id);
				json_object_set_new(r, "job", job_json(j));
				json_object_set_new(r, "results", res);
				res = NULL;
			} else {
				r = reply_err(t->id, "PersistError", "results.json of job %s cannot "
					      "be read: %s", j->id, t->err ? msg : je.text);
			}
			conn_send(t->conn, r);
		}
		json_decref(res);
	} else if (t->kind == PT_RM) {
		int err = t->err;

		if (err == -ENOTEMPTY || err == -EEXIST)
			err = remove_job_dir(j);	/* something else in it (rare) */
		if (err)
			logmsg("gc: cannot remove job %s: %s", j->id, strerror(-err));
		if (t->gc >= 0 && !--d.gcs[t->gc].pending)
			gc_answer((size_t)t->gc);
	} else if (t->kind == PT_ARTS) {
		if (!t->err)
			heap_push(&d.queued[j->exe], ji);	/* it may run now */
		if (t->err && !ended(j)) {
			logmsg("job %s: %s", j->id, msg);
			stop_worker_of(j);
			set_error(j, "PersistError", "%s", msg);
			end_job(ji, QRTX_JOB_FAILED, NULL, NULL);
		}
	} else {
		enum qrtx_job_state s = j->ending;

		if (t->err) {
			logmsg("job %s: %s", j->id, msg);
			if (s == QRTX_JOB_COMPLETED || !j->err_category[0]) {
				s = QRTX_JOB_FAILED;
				set_error(j, "PersistError", "%s", msg);
			}
		} else if (s == QRTX_JOB_COMPLETED) {
			for (unsigned int i = 0; i < t->nfiles; i++)
				if (!strcmp(t->name[i], "results.json") &&
				    d.results_bytes + strlen(t->text[i]) <= RESULTS_CACHE) {
					j->results = t->text[i];
					t->text[i] = NULL;
					d.results_bytes += strlen(j->results);
				}
		}
		j->ending = QRTX_JOB_PENDING;
		set_state(ji, s);
		if (t->err && t->nfiles) {
			/* The end as it is now (meta.json alone), if the disk
			 * still takes it; else a restart runs the job again. */
			size_t mi = ptask_new(PT_END, ji);

			if (mi != SIZE_MAX) {
				t = &d.tasks[ti];	/* d.tasks may have moved */
				d.tasks[mi].detached = true;
				d.tasks[mi].meta = final_meta_text(j, s);
				if (d.tasks[mi].meta) {
					j->nptasks++;
					ptask_run(mi);
				} else {
					ptask_free(mi);
				}
			}
		}
	}
	if (t->kind != PT_SUBMIT)
		j->nptasks--;
	ptask_free(ti);
	schedule();
}

/* --- run records ------------------------------------------------------- */

/* Write and sync the run records gathered, unless a write is in flight
 * (they go with the next one). A separator alone waits for a record:
 * a disk that refuses writes is not retried in a loop. */
static void alog_flush(void)
{
	struct io_uring_sqe *sqe;
	char *b;
	size_t c;

	if (d.alog_ops || !d.alog_recs)
		return;
	b = d.alog_wbuf;
	c = d.alog_wcap;
	d.alog_wbuf = d.alog_buf;
	d.alog_wcap = d.alog_cap;
	d.alog_wlen = d.alog_len;
	d.alog_buf = b;
	d.alog_cap = c;
	d.alog_len = 0;
	d.alog_recs = 0;
	d.alog_batch++;
	d.alog_err = 0;
	d.alog_ops = 2;
	sqe_room(2);
	sqe = io_uring_get_sqe(&d.ring);
	io_uring_prep_write(sqe, d.alog_fd, d.alog_wbuf, (unsigned int)d.alog_wlen, 0);
	io_uring_sqe_set_data64(sqe, ud(UD_ALOG, 0, 0));
	sqe->flags |= IOSQE_IO_LINK;
	sqe = io_uring_get_sqe(&d.ring);
	io_uring_prep_fsync(sqe, d.alog_fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data64(sqe, ud(UD_ALOG, 1, 0));
}

static int alog_add(const char *id)
{
	size_t n = strlen(id) + 1;

	if (d.alog_len + n + 1 > d.alog_cap) {
		size_t cap = d.alog_cap ? 2 * d.alog_cap : 4096;
		char *nb;

		while (cap < d.alog_len + n + 1)
			cap *= 2;
		nb = realloc(d.alog_buf, cap);
		if (!nb)
			return -ENOMEM;
		d.alog_buf = nb;
		d.alog_cap = cap;
	}
	memcpy(d.alog_buf + d.alog_len, id, n - 1);
	d.alog_buf[d.alog_len + n - 1] = '\n';
	d.alog_len += n;
	d.alog_recs += n > 1;
	return 0;
}

static void on_wsend(unsigned int wi, uint32_t gen, int res)
{
	struct worker *w = &d.workers[wi];

	if ((w->gen & 0xffffff) != gen || !w->pid) {
		/* A replaced worker's send: nothing reads its buffers now. */
		for (struct outbuf **p = &w->limbo; *p;) {
			struct outbuf *l = *p;

			if (l->gen != gen) {
				p = &l->next;
				continue;
			}
			*p = l->next;
			free(l->data);
			free(l);
		}
		return;
	}
	if (!sendq_sent(&w->q, res)) {
		kill_worker(wi);	/* its exit ends its job */
		return;
	}
	sendq_arm(&w->q, w->sock, ud(UD_WSEND, wi, w->gen));
}

/* Send worker wi its job's part; a worker that cannot be told is
 * killed, and its exit ends the job. */
static void send_run(unsigned int wi, size_t ji, enum qrtx_run_part part)
{
	struct worker *w = &d.workers[wi];
	struct job *j = &d.jobs[ji];
	json_t *m = json_pack("{s:s, s:s}", "op", "run", "job_id", j->id);

	if (m && part != QRTX_RUN_WHOLE)
		json_object_set_new(m, "part", json_string(part == QRTX_RUN_PREPARE ?
							   "prepare" : "execute"));
	/* input.job.json's text as the tail of the frame, not a string in it */
	if (sendq_push_tail(&w->q, m, j->input, j->input ? strlen(j->input) : 0)) {
		kill_worker(wi);
		return;
	}
	sendq_arm(&w->q, w->sock, ud(UD_WSEND, wi, w->gen));
	if (part != QRTX_RUN_PREPARE && !j->ahead) {
		/* (a job sent ahead keeps it until it starts: it may go back) */
		free(j->input);
		j->input = NULL;
	}
}

static void worker_message(unsigned int wi, json_t *m);
static void promote(unsigned int wi);

/* The run records of a batch are durable (or not): the ends their runs
 * held are taken now. */
static void on_alog(unsigned int op, int res)
{
	uint64_t batch = d.alog_batch;

#ifdef QRTX_FAULTS
	if (op == 1 && res >= 0 && d.fault_alog_fails) {
		d.fault_alog_fails--;
		res = -EIO;	/* as if the sync had failed */
	}
#endif
	if (op == 0 && res >= 0 && (size_t)res != d.alog_wlen)
		res = -EIO;
	if (res < 0 && (!d.alog_err || d.alog_err == -ECANCELED))
		d.alog_err = res;
	if (--d.alog_ops)
		return;
	if (d.alog_err) {
		logmsg("cannot record runs in %s: %s", d.alog_path, strerror(-d.alog_err));
		/* A partial line must not join the next one. */
		alog_add("");
	}
	for (unsigned int wi = 0; wi < d.nworkers; wi++) {
		struct worker *w = &d.workers[wi];
		json_t *q, *m;
		struct job *j;
		size_t k;

		if (w->next >= 0 && w->next_recording && w->next_batch == batch) {
			/* the job sent ahead: it has not started, or runs */
			j = &d.jobs[w->next];
			w->next_recording = false;
			if (d.alog_err && !ended(j)) {
				set_error(j, "PersistError", "cannot record the start of the run: %s",
					  strerror(-d.alog_err));
				end_job((size_t)w->next, QRTX_JOB_FAILED, NULL, NULL);
			}
		}
		if (!w->recording || w->batch != batch)
			continue;
		w->recording = false;
		q = w->held;
		w->held = NULL;
		j = &d.jobs[w->job];
		k = 0;
		if (d.alog_err && !ended(j)) {
			set_error(j, "PersistError", "cannot record the start of the run: %s",
				  strerror(-d.alog_err));
			if (q) {
				/* its run is over: its end (held first) is dropped */
				w->job = -1;
				j->worker = -1;
				promote(wi);
				k = 1;
			} else {
				kill_worker(wi);	/* still running */
			}
			end_job((size_t)(j - d.jobs), QRTX_JOB_FAILED, NULL, NULL);
		}
		/* what was held, in order (it may be held again behind the
		 * end of a job sent ahead whose record is not durable yet) */
		for (; q && k < json_array_size(q); k++) {
			m = json_array_get(q, k);
			worker_message(wi, m);
		}
		json_decref(q);
	}
	alog_flush();
	schedule();
}

static double job_key(const struct job *j)
{
	return j->priority - (double)j->submitted_ns / 1e9 / AGING_S;
}

/* --- admission --------------------------------------------------------- */

static void arm_dev_poll(void)
{
	struct io_uring_sqe *sqe;

	if (d.dev_polled)
		return;
	sqe = sqe_get();
	io_uring_prep_poll_add(sqe, qrtx_res_fd(d.dev), POLLIN);
	io_uring_sqe_set_data64(sqe, ud(UD_DEVPOLL, 0, 0));
	d.dev_polled = true;
}

/* What a run of spec needs: its state in host memory, or on GPU 0 for
 * ideal@cuda (the host emulation, QRTX_CUDA_EMULATE=1, is host memory). */
static void job_needs(struct job *j, const struct qrtx_job_spec *spec)
{
	const char *emu = getenv("QRTX_CUDA_EMULATE");
	uint64_t bytes = qrtx_exec_state_bytes(spec->circuit, spec->precision);

	j->need_qubits = spec->circuit->nqubits;
	j->need_bytes = bytes;
	j->need_gpu_bytes = 0;
	j->exe = !strcmp(spec->backend, "ideal@cuda") ? EX_CUDA : EX_CPU;
	j->quick = quick_job(spec);
#ifdef QRTX_FAULTS
	j->quick |= d.fault_all_quick;
#endif
	if (j->exe == EX_CUDA && !(emu && !strcmp(emu, "1"))) {
		j->need_bytes = 0;
		j->need_gpu_bytes = bytes;
	}
}

/*
 * Whether job ji's run may start now: 1 yes (its capacity is counted
 * until it reserves it itself, kernel, or until it ends, own ledger);
 * 0 not yet (the device polled for returned capacity); 2 never (more
 * than the pools hold: it runs and fails allocating, saying so).
 */
static int admit(size_t ji)
{
	struct job *j = &d.jobs[ji];
	struct qrtx_reserve req = { 0 };
	int ret;

	if (j->admitted)
		return 1;
	req.flags = QRTX_RESERVE_NONBLOCK;
	if (d.dev) {
		/* Room for it beside the runs started and not reserved yet. */
		req.qubits = j->need_qubits + d.pend_qubits;
		req.host_bytes = j->need_bytes + d.pend_bytes;
		if (j->need_gpu_bytes)
			req.gpu_bytes = j->need_gpu_bytes + d.pend_gpu_bytes;
		ret = qrtx_res_reserve(d.dev, &req);
		if (!ret) {
			qrtx_res_release(d.dev, req.handle);
			d.pend_qubits += j->need_qubits;
			d.pend_bytes += j->need_bytes;
			d.pend_gpu_bytes += j->need_gpu_bytes;
			j->pend = j->admitted = true;
			return 1;
		}
		if (ret == -ENOSPC && !d.pend_qubits && !d.pend_bytes && !d.pend_gpu_bytes)
			return 2;
		/* No GPU pool 0 yet: the run's own reservation sizes it (as
		 * root) or fails saying so. */
		if (ret == -ENODEV && j->need_gpu_bytes)
			return 2;
		arm_dev_poll();	/* the failed reservation armed it */
		return 0;
	}
	/* The daemon's own ledger has no GPU pools: GPU memory is counted
	 * across runs only by /dev/qrtx. */
	req.qubits = j->need_qubits;
	req.host_bytes = j->need_bytes;
	ret = qrtx_account_reserve(d.acct, &req);
	if (!ret) {
		j->handle = req.handle;
		j->admitted = true;
		return 1;
	}
	return ret == -ENOSPC ? 2 : 0;
}

/* Its worker reserved on /dev/qrtx: no longer counted as pending. */
static void unpend(struct job *j)
{
	if (!j->pend)
		return;
	d.pend_qubits -= j->need_qubits;
	d.pend_bytes -= j->need_bytes;
	d.pend_gpu_bytes -= j->need_gpu_bytes;
	j->pend = false;
}

static void unadmit(struct job *j)
{
	unpend(j);
	if (j->admitted && !d.dev)
		qrtx_account_release(d.acct, j->handle);
	j->admitted = false;
}

/* Tell worker wi to run its job's part (once the run's record is
 * durable, for the parts that execute). */
static void dispatch(unsigned int wi, size_t ji, enum qrtx_run_part part)
{
	struct worker *w = &d.workers[wi];
	struct job *j = &d.jobs[ji];

	j->worker = (int)wi;
	w->job = (long)ji;
	w->part = part;
	/* The worker's first step is shown from now: a run lost before the
	 * worker reports fails from there (Pending and Queued cannot fail). */
	set_state(ji, part == QRTX_RUN_EXECUTE ? QRTX_JOB_ALLOCATING : QRTX_JOB_VALIDATING);
	if (part == QRTX_RUN_PREPARE) {
		send_run(wi, ji, part);
		return;
	}
	if (alog_add(j->id)) {
		j->worker = -1;
		w->job = -1;
		set_error(j, "PersistError", "no memory to record the run");
		end_job(ji, QRTX_JOB_FAILED, NULL, NULL);
		return;
	}
	j->attempts++;
	/* Told now: the record's sync runs beside the run, and the run's
	 * end waits for it (a restart counts only durable records). */
	w->recording = true;
	w->batch = d.alog_batch + 1;
	send_run(wi, ji, part);
}

/*
 * Send quick job ji (admitted) to busy worker wi, to run once its job is
 * done: the worker reads it then, without waiting for the daemon. It
 * shows its state when it becomes the worker's job (promote()); until
 * then it has not started, and a cancel or a timeout only ends it (the
 * worker runs it, quickly, and its report is dropped).
 */
static void dispatch_ahead(unsigned int wi, size_t ji, enum qrtx_run_part part)
{
	struct worker *w = &d.workers[wi];
	struct job *j = &d.jobs[ji];

	if (alog_add(j->id)) {
		set_error(j, "PersistError", "no memory to record the run");
		end_job(ji, QRTX_JOB_FAILED, NULL, NULL);
		return;
	}
	j->attempts++;
	j->worker = (int)wi;
	j->ahead = true;
	w->next = (long)ji;
	w->next_part = part;
	w->next_recording = true;
	w->next_batch = d.alog_batch + 1;
	send_run(wi, ji, part);
}

/* Worker wi's job is done: the job sent ahead, if any, is its job now. */
static void promote(unsigned int wi)
{
	struct worker *w = &d.workers[wi];
	struct job *j;

	if (w->next < 0)
		return;
	j = &d.jobs[w->next];
	w->job = w->next;
	w->part = w->next_part;
	w->recording = w->next_recording;
	w->batch = w->next_batch;
	w->next = -1;
	j->ahead = false;
	if (w->part != QRTX_RUN_PREPARE) {
		free(j->input);
		j->input = NULL;
	}
	if (!ended(j))
		set_state((size_t)w->job, w->part == QRTX_RUN_EXECUTE ? QRTX_JOB_ALLOCATING :
				     QRTX_JOB_VALIDATING);
}

/* --- indexes ----------------------------------------------------------- */

static bool job_before(size_t a, size_t b)
{
	const struct job *x = &d.jobs[a], *y = &d.jobs[b];

	return x->key > y->key || (x->key == y->key && x->seq < y->seq);
}

static void heap_push(struct heap *h, size_t ji)
{
	size_t i;

	if (h->n == h->cap) {
		size_t n = h->cap ? 2 * h->cap : 256;
		size_t *nv = realloc(h->v, n * sizeof(*nv));

		if (!nv) {
			logmsg("no memory to queue job %s", d.jobs[ji].id);
			return;
		}
		h->v = nv;
		h->cap = n;
	}
	for (i = h->n++; i && job_before(ji, h->v[(i - 1) / 2]); i = (i - 1) / 2)
		h->v[i] = h->v[(i - 1) / 2];
	h->v[i] = ji;
}

static void heap_pop(struct heap *h)
{
	size_t last = h->v[--h->n], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && job_before(h->v[c + 1], h->v[c]))
			c++;
		if (!job_before(h->v[c], last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
}

static bool candidate(size_t ji, bool prepared)
{
	const struct job *j = &d.jobs[ji];

	return visible(j) && !ended(j) && j->worker < 0 && j->prepared == prepared &&
	       j->state == (prepared ? QRTX_JOB_QUEUED : QRTX_JOB_PENDING);
}

/* The best candidate of h, or -1. */
static long heap_best(struct heap *h, bool prepared)
{
	while (h->n && !candidate(h->v[0], prepared))
		heap_pop(h);
	return h->n ? (long)h->v[0] : -1;
}

static size_t id_hash(const char *id)
{
	size_t h = 1469598103934665603ull;

	while (*id)
		h = (h ^ (unsigned char)*id++) * 1099511628211ull;
	return h;
}

/* A new job record (index ji) into the id and timeout indexes. */
static void index_job(size_t ji)
{
	size_t m;

	if ((d.njobs + 1) * 2 > d.by_id_cap) {
		size_t cap = d.by_id_cap ? 2 * d.by_id_cap : 1024;
		size_t *t = calloc(cap, sizeof(*t));

		if (t) {
			for (size_t i = 0; i < d.by_id_cap; i++) {
				if (!d.by_id[i])
					continue;
				m = id_hash(d.jobs[d.by_id[i] - 1].id) & (cap - 1);
				while (t[m])
					m = (m + 1) & (cap - 1);
				t[m] = d.by_id[i];
			}
			free(d.by_id);
			d.by_id = t;
			d.by_id_cap = cap;
		}
	}
	if ((d.njobs + 1) * 2 <= d.by_id_cap) {
		m = id_hash(d.jobs[ji].id) & (d.by_id_cap - 1);
		while (d.by_id[m])
			m = (m + 1) & (d.by_id_cap - 1);
		d.by_id[m] = ji + 1;
	}
	if (d.jobs[ji].timeout_s > 0) {
		if (d.ntmo == d.tmo_cap) {
			size_t n = d.tmo_cap ? 2 * d.tmo_cap : 64;
			size_t *t = realloc(d.tmo, n * sizeof(*t));

			if (!t)
				return;
			d.tmo = t;
			d.tmo_cap = n;
		}
		d.tmo[d.ntmo++] = ji;
	}
}

/* The job with id, visible or not, or -1 (ids are unique: see
 * new_job_id). */
static long lookup_job(const char *id)
{
	if (!id || !d.by_id_cap)
		return -1;
	for (size_t m = id_hash(id) & (d.by_id_cap - 1); d.by_id[m];
	     m = (m + 1) & (d.by_id_cap - 1))
		if (!strcmp(d.jobs[d.by_id[m] - 1].id, id))
			return (long)(d.by_id[m] - 1);
	return -1;
}

static long find_job(const char *id, uid_t uid)
{
	long ji = lookup_job(id);

	if (ji < 0 || !visible(&d.jobs[ji]) || (uid != 0 && d.jobs[ji].uid != uid))
		return -1;
	return ji;
}

/*
 * Give each free worker the best job: to run whole, or (prepared) from
 * Allocating on, when there is capacity for it; else, to validate and
 * compile only, the best job not prepared yet, which then waits in
 * Queued without a worker. A prepared job short of capacity holds back
 * the runs of those ranked below it (no overtaking: aging lifts every
 * job to the front in the end).
 */
/* Each executor's workers alive, and of those busy and idle (not killed,
 * no job). */
static void exe_counts(unsigned int alive[EX_N], unsigned int busy[EX_N],
		       unsigned int idle[EX_N])
{
	for (int e = 0; e < EX_N; e++)
		alive[e] = busy[e] = idle[e] = 0;
	for (unsigned int i = 0; i < d.nworkers; i++) {
		const struct worker *w = &d.workers[i];

		if (!w->pid)
			continue;
		alive[w->exe]++;
		busy[w->exe] += w->job >= 0;
		idle[w->exe] += w->job < 0 && !w->killed;
	}
}

static void schedule(void)
{
	unsigned int alive[EX_N], busy[EX_N], idle[EX_N];

	if (d.stop)
		return;
	for (unsigned int wi = 0; wi < d.nworkers; wi++) {
		struct worker *w = &d.workers[wi];
		long p, q, best;

		if (!w->pid || w->job >= 0 || w->killed)
			continue;
		p = heap_best(&d.waiting[w->exe], false);
		q = heap_best(&d.queued[w->exe], true);
		if (p < 0 && q < 0)
			continue;	/* nothing for its executor */
		best = q >= 0 && (p < 0 || job_before((size_t)q, (size_t)p)) ? q : p;
		if (admit((size_t)best)) {
			heap_pop(best == q ? &d.queued[w->exe] : &d.waiting[w->exe]);
			dispatch(wi, (size_t)best, best == q ? QRTX_RUN_EXECUTE : QRTX_RUN_WHOLE);
		} else if (p >= 0) {
			heap_pop(&d.waiting[w->exe]);
			dispatch(wi, (size_t)p, QRTX_RUN_PREPARE);
		}
	}
	/* Every worker of an executor busy: its next job in rank order, if
	 * quick and admitted, goes ahead to a worker running a quick job and
	 * without one yet, so that the worker does not wait for the daemon
	 * between the two. */
	exe_counts(alive, busy, idle);
	for (unsigned int wi = 0; wi < d.nworkers; wi++) {
		struct worker *w = &d.workers[wi];
		long p, q, best;

		/* (only behind a quick job: a job sent ahead waits for it, and a
		 * job of higher rank submitted meanwhile waits behind it) */
		if (!w->pid || w->job < 0 || w->killed || w->next >= 0 ||
		    w->part == QRTX_RUN_PREPARE || !d.jobs[w->job].quick ||
		    idle[w->exe])
			continue;
		p = heap_best(&d.waiting[w->exe], false);
		q = heap_best(&d.queued[w->exe], true);
		if (p < 0 && q < 0)
			continue;
		best = q >= 0 && (p < 0 || job_before((size_t)q, (size_t)p)) ? q : p;
		if (!d.jobs[best].quick || admit((size_t)best) != 1)
			continue;
		heap_pop(best == q ? &d.queued[w->exe] : &d.waiting[w->exe]);
		dispatch_ahead(wi, (size_t)best, best == q ? QRTX_RUN_EXECUTE : QRTX_RUN_WHOLE);
	}
	alog_flush();
}

/* Remove a finished job's directory: every file in it (a worker killed
 * mid-write leaves its temporary file behind), then itself. */
static int remove_job_dir(const struct job *j)
{
	char path[4096];
	struct dirent *e;
	DIR *dir;
	int ret = 0;

	qrtx_store_path(d.store, j->id, NULL, path, sizeof(path));
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    unlinkat(dirfd(dir), e->d_name, 0) && errno != ENOENT && !ret)
			ret = -errno;
	closedir(dir);
	if (ret)
		return ret;
	return rmdir(path) && errno != ENOENT ? -errno : 0;
}

/*
 * Retention: of the finished jobs uid may see (all for root), remove
 * those that ended more than max_age_s ago (< 0: no age limit), then the
 * oldest beyond the newest max_jobs (< 0: no count limit). Returns the
 * ids removed (or that would be, when dry), NULL on no memory.
 */
static json_t *gc_jobs(uid_t uid, double max_age_s, long max_jobs, bool dry, long gi)
{
	json_t *removed = json_array();
	uint64_t now = now_ns();
	long kept = 0;

	if (!removed)
		return NULL;
	/* Newest first: d.jobs is in submission order. */
	for (size_t k = d.njobs; k-- > 0;) {
		struct job *j = &d.jobs[k];
		bool old;

		if (!visible(j) || !qrtx_job_state_final(j->state) || j->worker >= 0 ||
		    j->nptasks || (uid != 0 && j->uid != uid))
			continue;
		old = max_age_s >= 0 && (double)(now - j->finished_ns) / 1e9 > max_age_s;
		if (!old && (max_jobs < 0 || kept < max_jobs)) {
			kept++;
			continue;
		}
		if (!dry) {
			/* Unseen at once; the directory goes through the ring. */
			size_t ti = ptask_new(PT_RM, k);

			if (ti == SIZE_MAX) {
				logmsg("gc: no memory to remove job %s", j->id);
				continue;
			}
			j = &d.jobs[k];
			d.tasks[ti].gc = gi;
			if (gi >= 0)
				d.gcs[gi].pending++;
			j->nptasks++;
			ptask_run(ti);
			j->gone = true;
			if (j->results) {
				d.results_bytes -= strlen(j->results);
				free(j->results);
				j->results = NULL;
			}
		}
		json_array_append_new(removed, json_string(j->id));
	}
	return removed;
}

/* At start, before the ring runs: meta.json written directly. */
static int write_final_meta(const struct job *j)
{
	struct qrtx_error err = { 0 };
	char *text = final_meta_text(j, j->state);
	int ret = text ? qrtx_store_write(d.store, j->id, "meta.json", text, strlen(text), &err) :
			 -ENOMEM;

	free(text);
	return ret;
}

/* --- observability ----------------------------------------------------- */

static json_t *hist_json(const struct hist *h)
{
	json_t *b = json_array();

	for (int i = 0; i < NBUCKETS; i++)
		json_array_append_new(b, json_pack("[f, I]", bucket_le[i], (json_int_t)h->le[i]));
	return json_pack("{s:I, s:f, s:o}", "count", (json_int_t)h->count, "sum_s", h->sum,
			 "buckets", b);
}

static void prom_hist(FILE *f, const char *name, const char *labels, const struct hist *h)
{
	for (int i = 0; i < NBUCKETS; i++)
		fprintf(f, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, labels,
			*labels ? "," : "", bucket_le[i], h->le[i]);
	fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, *labels ? "," : "",
		h->count);
	if (*labels)
		fprintf(f, "%s_sum{%s} %.9f\n%s_count{%s} %" PRIu64 "\n", name, labels, h->sum,
			name, labels, h->count);
	else
		fprintf(f, "%s_sum %.9f\n%s_count %" PRIu64 "\n", name, h->sum, name, h->count);
}

static size_t queue_depth(void)
{
	size_t q = 0;

	for (size_t i = 0; i < d.njobs; i++)
		q += visible(&d.jobs[i]) && d.jobs[i].state == QRTX_JOB_PENDING &&
		     d.jobs[i].worker < 0 && !ended(&d.jobs[i]);
	return q;
}

/* The Prometheus text exposition of the counters and histograms, for a
 * node_exporter textfile collector: written whole to a temporary file
 * and renamed, so a reader never sees half of it. */
static void write_metrics(bool via_ring)
{
	uint64_t ended = 0, failed;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!d.metrics_path || d.metrics_ops)
		return;	/* none, or the last one still being written */
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	fprintf(f, "# HELP qrtxd_jobs_submitted_total Jobs acknowledged since the daemon started.\n"
		   "# TYPE qrtxd_jobs_submitted_total counter\nqrtxd_jobs_submitted_total %" PRIu64 "\n",
		d.submitted);
	fprintf(f, "# HELP qrtxd_jobs_finished_total Jobs that ended, by final state.\n"
		   "# TYPE qrtxd_jobs_finished_total counter\n");
	for (int s2 = 0; s2 < QRTX_JOB_NSTATES; s2++) {
		if (!qrtx_job_state_final((enum qrtx_job_state)s2))
			continue;
		ended += d.finished[s2];
		fprintf(f, "qrtxd_jobs_finished_total{state=\"%s\"} %" PRIu64 "\n",
			qrtx_job_state_name((enum qrtx_job_state)s2), d.finished[s2]);
	}
	failed = d.finished[QRTX_JOB_FAILED];
	fprintf(f, "# HELP qrtxd_executor_error_ratio Failed jobs over ended jobs (all, and "
		   "per executor).\n"
		   "# TYPE qrtxd_executor_error_ratio gauge\nqrtxd_executor_error_ratio %g\n",
		ended ? (double)failed / (double)ended : 0.0);
	for (int e = 0; e < EX_N; e++)
		fprintf(f, "qrtxd_executor_error_ratio{executor=\"%s\"} %g\n", exe_names[e],
			d.exe_ended[e] ? (double)d.exe_failed[e] / (double)d.exe_ended[e] : 0.0);
	fprintf(f, "# HELP qrtxd_workers Worker processes per executor, busy or idle.\n"
		   "# TYPE qrtxd_workers gauge\n");
	{
		unsigned int alive[EX_N], busy[EX_N], idle[EX_N];

		exe_counts(alive, busy, idle);
		for (int e = 0; e < EX_N; e++)
			fprintf(f, "qrtxd_workers{executor=\"%s\",state=\"busy\"} %u\n"
				   "qrtxd_workers{executor=\"%s\",state=\"idle\"} %u\n",
				exe_names[e], busy[e], exe_names[e], alive[e] - busy[e]);
	}
	fprintf(f, "# HELP qrtxd_queue_depth Jobs waiting for a worker.\n"
		   "# TYPE qrtxd_queue_depth gauge\nqrtxd_queue_depth %zu\n", queue_depth());
	fprintf(f, "# HELP qrtxd_stage_seconds Time jobs spent in each state.\n"
		   "# TYPE qrtxd_stage_seconds histogram\n");
	for (int s2 = 0; s2 < QRTX_JOB_NSTATES; s2++) {
		char lab[64];

		if (qrtx_job_state_final((enum qrtx_job_state)s2))
			continue;
		snprintf(lab, sizeof(lab), "state=\"%s\"",
			 qrtx_job_state_name((enum qrtx_job_state)s2));
		prom_hist(f, "qrtxd_stage_seconds", lab, &d.stage[s2]);
	}
	fprintf(f, "# HELP qrtxd_execution_seconds Time jobs spent Executing.\n"
		   "# TYPE qrtxd_execution_seconds histogram\n");
	prom_hist(f, "qrtxd_execution_seconds", "", &d.stage[QRTX_JOB_EXECUTING]);
	fprintf(f, "# HELP qrtxd_job_seconds Submission to end.\n"
		   "# TYPE qrtxd_job_seconds histogram\n");
	prom_hist(f, "qrtxd_job_seconds", "", &d.turnaround);
	if (fclose(f)) {
		free(buf);
		return;
	}
	snprintf(d.metrics_tmp, sizeof(d.metrics_tmp), "%s.tmp", d.metrics_path);
	if (!via_ring) {
		/* at the end, when nothing else waits */
		f = fopen(d.metrics_tmp, "w");
		if (f && fwrite(buf, 1, len, f) == len && !fclose(f))
			rename(d.metrics_tmp, d.metrics_path);
		else if (f)
			fclose(f);
		free(buf);
		return;
	}
	/* Written whole into a temporary file and renamed over the last one,
	 * through the ring: open into the spare fixed slot, write, close,
	 * rename. No sync: the next one comes in 5 s. */
	{
		unsigned int slot = 2 * NPFILES;
		struct io_uring_sqe *sqe;

		d.metrics_buf = buf;
		d.metrics_len = len;
		d.metrics_ops = 4;
		sqe_room(4);
		sqe = io_uring_get_sqe(&d.ring);
		io_uring_prep_openat_direct(sqe, AT_FDCWD, d.metrics_tmp,
					    O_WRONLY | O_CREAT | O_TRUNC, 0644, slot);
		io_uring_sqe_set_data64(sqe, ud(UD_METRICS, 0, 0));
		sqe->flags |= IOSQE_IO_LINK;
		sqe = io_uring_get_sqe(&d.ring);
		io_uring_prep_write(sqe, (int)slot, d.metrics_buf, (unsigned int)len, 0);
		io_uring_sqe_set_data64(sqe, ud(UD_METRICS, 1, 0));
		sqe->flags |= IOSQE_IO_LINK | IOSQE_FIXED_FILE;
		sqe = io_uring_get_sqe(&d.ring);
		io_uring_prep_close_direct(sqe, slot);
		io_uring_sqe_set_data64(sqe, ud(UD_METRICS, 2, 0));
		sqe->flags |= IOSQE_IO_LINK;
		sqe = io_uring_get_sqe(&d.ring);
		io_uring_prep_renameat(sqe, AT_FDCWD, d.metrics_tmp, AT_FDCWD, d.metrics_path, 0);
		io_uring_sqe_set_data64(sqe, ud(UD_METRICS, 3, 0));
	}
}

static void on_metrics(unsigned int op, int res)
{
	if (op == 0 && res == 0)
		d.metrics_open = true;
	else if (op == 2 && res == 0)
		d.metrics_open = false;
	if (--d.metrics_ops)
		return;
	if (d.metrics_open) {
		int none = -1;

		io_uring_register_files_update(&d.ring, 2 * NPFILES, &none, 1);
		d.metrics_open = false;
	}
	free(d.metrics_buf);
	d.metrics_buf = NULL;
}

/* --- requests ---------------------------------------------------------- */

/*
 * A new job id: the time to the second and 32 random bits (sortable by
 * creation, as qrtx run's), drawn again while the id is one the daemon
 * knows. At 5,000 jobs a second, two in the same second drew the same
 * bits about once in 300 seconds, and the second job's directory could
 * not be made (PersistError).
 */
static void new_job_id(char id[QRTX_JOB_ID_MAX])
{
	struct timespec ts;
	struct tm tm;
	uint32_t rnd;
#ifdef QRTX_FAULTS
	bool same = d.fault_same_ids > 0;

	d.fault_same_ids -= same;
#endif
	do {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint32_t)rand() ^ (uint32_t)d.seq;
#ifdef QRTX_FAULTS
		if (same)
			rnd = 0xc0ffee;
		same = false;
#endif
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		snprintf(id, QRTX_JOB_ID_MAX, "%04d%02d%02d-%02d%02d%02d-%08x", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rnd);
	} while (lookup_job(id) >= 0);	/* any job known, ended or removed */
}

static json_t *op_submit(uint32_t ci, json_t *req, json_t *id, uid_t uid)
{
	const char *format = json_string_value(json_object_get(req, "format"));
	const char *source = json_string_value(json_object_get(req, "source"));
	const char *name = json_string_value(json_object_get(req, "name"));
	json_t *options = json_object_get(req, "options"), *input;
	struct qrtx_job_spec *spec = NULL;
	struct qrtx_error err = { 0 };
	struct qrtx_job_opts jo;
	struct job *j;
	char msg[1024];
	size_t ti;
	int ret;

	if (!format || (strcmp(format, "qasm") && strcmp(format, "json")) || !source)
		return reply_err(id, QRTX_PROTO_ERR_PROTOCOL,
				 "submit needs \"format\" (\"qasm\" or \"json\") and \"source\"");
	if (!name)
		name = format[0] == 'q' ? "input.qasm" : "input.json";
	ret = qrtx_job_opts_from_json(options, &jo, &err);
	if (!ret)
		ret = qrtx_job_from_source(name, source, strlen(source), format[0] == 'j', &jo,
					   &spec, &err);
	if (!ret && jo.exact && qrtx_circuit_measurements_terminal(spec->circuit) != 1) {
		ret = -EINVAL;
		qrtx_error_set(&err, QRTX_ERR_VALIDATION, ret, name, 0, 0,
			       "\"exact\" needs every measurement to be terminal");
	}
	if (ret) {
		qrtx_job_spec_free(spec);
		if (err.category == QRTX_ERR_NONE)
			qrtx_error_set(&err, QRTX_ERR_VALIDATION, ret, name, 0, 0, "%s",
				       strerror(-ret));
		qrtx_error_format(&err, msg, sizeof(msg));
		return reply_err(id, qrtx_error_category_name(err.category), "%s", msg);
	}
	if (d.njobs == d.jobs_cap) {
		size_t ncap = d.jobs_cap ? 2 * d.jobs_cap : 256;
		struct job *n = realloc(d.jobs, ncap * sizeof(*n));

		if (!n) {
			qrtx_job_spec_free(spec);
			return reply_err(id, QRTX_PROTO_ERR_INTERNAL, "out of memory");
		}
		d.jobs = n;
		d.jobs_cap = ncap;
	}
	j = &d.jobs[d.njobs];
	memset(j, 0, sizeof(*j));
	j->uid = uid;
	j->gid = d.conns[ci]->gid;
	j->priority = spec->priority;
	j->timeout_s = spec->timeout_s;
	j->seq = d.seq++;
	j->worker = -1;
	j->state = QRTX_JOB_PENDING;
	j->ending = QRTX_JOB_PENDING;
	snprintf(j->name, sizeof(j->name), "%s", name);
	job_needs(j, spec);
	qrtx_job_spec_free(spec);
	if (!d.exe_workers[j->exe])
		return reply_err(id, "ValidationError",
				 "%s: this qrtxd has no workers for the %s executor (started with "
				 "--%s 0)", name, exe_names[j->exe],
				 j->exe == EX_CUDA ? "cuda-workers" : "workers");
	new_job_id(j->id);

	/* Durable before acknowledged: the answer goes once the job's
	 * directory and input.job.json are written and synced. */
	input = json_pack("{s:s, s:i, s:{s:s, s:s, s:s}, s:o, s:I, s:I}", "format",
			  "qrtx-job", "version", 1, "source", "kind", format, "file", name,
			  "text", source, "options",
			  options ? json_incref(options) : json_object(), "uid", (json_int_t)uid,
			  "gid", (json_int_t)j->gid);
	j->input = input ? json_dumps(input, JSON_COMPACT) : NULL;
	json_decref(input);
	ti = j->input ? ptask_new(PT_SUBMIT, d.njobs) : SIZE_MAX;
	if (ti == SIZE_MAX) {
		free(j->input);
		j->input = NULL;
		return reply_err(id, QRTX_PROTO_ERR_INTERNAL, "out of memory");
	}
	j->submitted_ns = now_ns();
	j->entered_ns[QRTX_JOB_PENDING] = j->submitted_ns;
	j->key = job_key(j);
	index_job(d.njobs);
	d.njobs++;
	d.tasks[ti].conn = ci;
	d.tasks[ti].gen = d.conns[ci]->gen;
	d.tasks[ti].id = json_incref(id);
	ptask_run(ti);
	return NULL;	/* answered when durable */
}

/* Cancel: answered once the job's end is durable. A job whose end is
 * being written keeps that end. */
static json_t *op_cancel(uint32_t ci, json_t *id, long ji)
{
	struct job *j = &d.jobs[ji];

	if (qrtx_job_state_final(j->state)) {
		json_t *r = reply_ok(id);

		json_object_set_new(r, "job", job_json(j));
		return r;
	}
	if (add_waiter(ci, id, (size_t)ji, 0, true))
		return reply_err(id, QRTX_PROTO_ERR_INTERNAL, "out of memory");
	if (ended(j))
		return NULL;
	stop_worker_of(j);
	end_job((size_t)ji, QRTX_JOB_CANCELLED, NULL, NULL);
	return NULL;
}

static json_t *handle(uint32_t ci, json_t *req)
{
	json_t *id = json_object_get(req, "id"), *r;
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *jid = json_string_value(json_object_get(req, "job_id"));
	json_t *v = json_object_get(req, "v");
	uid_t uid = d.conns[ci]->uid;
	long ji;

	if (!json_is_integer(id))
		return reply_err(NULL, QRTX_PROTO_ERR_PROTOCOL, "a request needs an integer \"id\"");
	if (!json_is_integer(v) || json_integer_value(v) != QRTX_PROTO_VERSION)
		return reply_err(id, QRTX_PROTO_ERR_PROTOCOL,
				 "protocol version \"v\" must be %d", QRTX_PROTO_VERSION);
	if (!op)
		return reply_err(id, QRTX_PROTO_ERR_PROTOCOL, "a request needs an \"op\"");
	if (!strcmp(op, "ping")) {
		r = reply_ok(id);
		json_object_set_new(r, "version", json_string(QRTXD_VERSION));
		json_object_set_new(r, "protocol", json_integer(QRTX_PROTO_VERSION));
		return r;
	}
	if (!strcmp(op, "submit"))
		return op_submit(ci, req, id, uid);
	if (!strcmp(op, "list")) {
		const char *st = json_string_value(json_object_get(req, "state"));
		json_t *jobs = json_array();

		for (size_t i = 0; i < d.njobs; i++)
			if (visible(&d.jobs[i]) && (uid == 0 || d.jobs[i].uid == uid) &&
			    (!st || !strcmp(st, qrtx_job_state_name(d.jobs[i].state))))
				json_array_append_new(jobs, job_json(&d.jobs[i]));
		r = reply_ok(id);
		json_object_set_new(r, "jobs", jobs);
		return r;
	}
	if (!strcmp(op, "stats")) {
		json_t *by = json_object(), *s;
		unsigned int busy = 0, alive = 0;
		size_t queued = 0;

		for (size_t i = 0; i < d.njobs; i++) {
			const char *n = qrtx_job_state_name(d.jobs[i].state);
			json_int_t c = json_integer_value(json_object_get(by, n));

			if (visible(&d.jobs[i]))
				json_object_set_new(by, n, json_integer(c + 1));
		}
		queued = queue_depth();
		unsigned int zombies = 0, ex_alive[EX_N], ex_busy[EX_N], ex_idle[EX_N];
		json_t *exes = json_object();

		for (unsigned int i = 0; i < d.nworkers; i++) {
			const struct worker *w = &d.workers[i];

			alive += w->pid != 0;
			busy += w->pid && w->job >= 0;
			zombies += w->pid && w->zombie;
		}
		exe_counts(ex_alive, ex_busy, ex_idle);
		for (int e = 0; e < EX_N; e++)
			json_object_set_new(exes, exe_names[e],
					    json_pack("{s:i, s:i, s:i}", "workers", d.exe_workers[e],
						      "alive", ex_alive[e], "busy", ex_busy[e]));
		s = json_pack("{s:o, s:I, s:i, s:i, s:I, s:f}", "jobs", by, "queue_depth",
			      (json_int_t)queued, "workers", alive, "workers_busy", busy,
			      "submitted", (json_int_t)d.submitted, "uptime_s",
			      (double)(now_ns() - d.start_ns) / 1e9);
		json_object_set_new(s, "zombies", json_integer(zombies));
		json_object_set_new(s, "executors", exes);
		json_object_set_new(s, "invalid_moves", json_integer((json_int_t)d.invalid_moves));
		{
			struct qrtx_info info = { 0 };

			if (!(d.dev ? qrtx_res_info(d.dev, &info) : qrtx_account_info(d.acct, &info)))
				json_object_set_new(s, "pools", json_pack(
					"{s:s, s:{s:I, s:I}, s:{s:I, s:I}}", "ledger",
					d.dev ? "kernel" : "daemon", "qubits", "used",
					(json_int_t)info.qubits.used, "total",
					(json_int_t)info.qubits.total, "host_bytes", "used",
					(json_int_t)info.host_bytes.used, "total",
					(json_int_t)info.host_bytes.total));
		}
		{
			json_t *fin = json_object(), *stg = json_object();
			uint64_t ended = 0;

			for (int s2 = 0; s2 < QRTX_JOB_NSTATES; s2++) {
				const char *n = qrtx_job_state_name((enum qrtx_job_state)s2);

				if (qrtx_job_state_final((enum qrtx_job_state)s2)) {
					json_object_set_new(fin, n, json_integer((json_int_t)d.finished[s2]));
					ended += d.finished[s2];
				} else {
					json_object_set_new(stg, n, hist_json(&d.stage[s2]));
				}
			}
			json_object_set_new(s, "finished", fin);
			json_object_set_new(s, "error_ratio",
					    json_real(ended ? (double)d.finished[QRTX_JOB_FAILED] /
							      (double)ended : 0.0));
			json_object_set_new(s, "stage_seconds", stg);
			json_object_set_new(s, "job_seconds", hist_json(&d.turnaround));
		}
		if (uid == 0) {
			json_t *wl = json_array();

			for (unsigned int i = 0; i < d.nworkers; i++) {
				const struct worker *w = &d.workers[i];
				json_t *e = json_pack("{s:I, s:b, s:s}", "pid", (json_int_t)w->pid,
						      "zombie", w->pid && w->zombie, "executor",
						      exe_names[w->exe]);

				if (w->pid && w->job >= 0)
					json_object_set_new(e, "job_id",
							    json_string(d.jobs[w->job].id));
				if (w->pid && w->next >= 0)
					json_object_set_new(e, "next_job_id",
							    json_string(d.jobs[w->next].id));
				json_array_append_new(wl, e);
			}
			json_object_set_new(s, "worker_list", wl);
		}
		r = reply_ok(id);
		json_object_set_new(r, "stats", s);
		return r;
	}
	if (!strcmp(op, "gc")) {
		json_t *a = json_object_get(req, "max_age_s"), *n = json_object_get(req, "max_jobs");
		json_t *removed;

		if ((a && (!json_is_number(a) || json_number_value(a) < 0)) ||
		    (n && (!json_is_integer(n) || json_integer_value(n) < 0)))
			return reply_err(id, QRTX_PROTO_ERR_PROTOCOL,
					 "gc takes \"max_age_s\" >= 0 and \"max_jobs\" >= 0");
		if (!a && !n)
			return reply_err(id, QRTX_PROTO_ERR_PROTOCOL,
					 "gc needs \"max_age_s\", \"max_jobs\" or both");
		{
			size_t gi = 0;
			struct gc_req *g;

			while (gi < d.ngcs && d.gcs[gi].used)
				gi++;
			if (gi == d.ngcs) {
				size_t nn = d.ngcs ? 2 * d.ngcs : 8;
				struct gc_req *ng = realloc(d.gcs, nn * sizeof(*ng));

				if (!ng)
					return reply_err(id, QRTX_PROTO_ERR_INTERNAL, "out of memory");
				memset(ng + d.ngcs, 0, (nn - d.ngcs) * sizeof(*ng));
				d.gcs = ng;
				d.ngcs = nn;
			}
			d.gcs[gi].used = true;
			removed = gc_jobs(uid, a ? json_number_value(a) : -1.0,
					  n ? (long)json_integer_value(n) : -1,
					  json_is_true(json_object_get(req, "dry_run")), (long)gi);
			g = &d.gcs[gi];
			if (!removed) {
				/* Only when nothing was started (no memory first). */
				memset(g, 0, sizeof(*g));
				return reply_err(id, QRTX_PROTO_ERR_INTERNAL, "out of memory");
			}
			g->conn = ci;
			g->gen = d.conns[ci]->gen;
			g->id = json_incref(id);
			g->removed = removed;
			if (!g->pending) {
				gc_answer(gi);
				return NULL;
			}
			return NULL;	/* answered once the directories are gone */
		}
	}
	if (strcmp(op, "status") && strcmp(op, "wait") && strcmp(op, "result") &&
	    strcmp(op, "cancel"))
		return reply_err(id, QRTX_PROTO_ERR_PROTOCOL, "unknown op \"%s\"", op);
	if (!jid)
		return reply_err(id, QRTX_PROTO_ERR_PROTOCOL, "%s needs a \"job_id\"", op);
	ji = find_job(jid, uid);
	if (ji < 0)
		return reply_err(id, QRTX_PROTO_ERR_NOTFOUND, "no job %s", jid);
	if (!strcmp(op, "cancel")) {
		r = op_cancel(ci, id, ji);
		schedule();
		return r;
	}
	if (!strcmp(op, "result")) {
		const struct job *j = &d.jobs[ji];
		json_t *res;

		if (!qrtx_job_state_final(j->state))
			return reply_err(id, QRTX_PROTO_ERR_NOTREADY, "job %s is %s", jid,
					 qrtx_job_state_name(j->state));
		if (j->state == QRTX_JOB_COMPLETED && !j->results) {
			/* read through the ring; answered when it is in */
			size_t ti = ptask_new(PT_READ, (size_t)ji);

			if (ti == SIZE_MAX)
				return reply_err(id, QRTX_PROTO_ERR_INTERNAL, "out of memory");
			d.tasks[ti].conn = ci;
			d.tasks[ti].gen = d.conns[ci]->gen;
			d.tasks[ti].id = json_incref(id);
			d.jobs[ji].nptasks++;
			ptask_run(ti);
			return NULL;
		}
		r = reply_ok(id);
		json_object_set_new(r, "job", job_json(j));
		if (j->state == QRTX_JOB_COMPLETED && j->results[0] == '{') {
			if (conn_send_results(ci, r, j->results) != -EMSGSIZE)
				return NULL;
			return reply_err(id, QRTX_PROTO_ERR_INTERNAL, "the results of job %s are "
					 "%zu bytes: more than one reply frame holds", jid,
					 strlen(j->results));
		}
		if (j->state == QRTX_JOB_COMPLETED) {
			json_error_t je;

			res = json_loads(j->results, 0, &je);
			if (!res) {
				json_decref(r);
				return reply_err(id, QRTX_PROTO_ERR_INTERNAL,
						 "results of job %s kept in memory do not parse", jid);
			}
			json_object_set_new(r, "results", res);
		}
		return r;
	}
	if (!strcmp(op, "wait") && !qrtx_job_state_final(d.jobs[ji].state)) {
		json_t *t = json_object_get(req, "timeout_ms");
		json_int_t ms = json_is_integer(t) ? json_integer_value(t) : -1;

		if (t && !json_is_integer(t))
			return reply_err(id, QRTX_PROTO_ERR_PROTOCOL, "\"timeout_ms\" must be an integer");
		if (add_waiter(ci, id, (size_t)ji,
			       ms >= 0 ? now_ns() + (uint64_t)ms * 1000000ull : 0, false))
			return reply_err(id, QRTX_PROTO_ERR_INTERNAL, "out of memory");
		return NULL;	/* answered when the job ends or time is up */
	}
	r = reply_ok(id);
	json_object_set_new(r, "job", job_json(&d.jobs[ji]));
	if (!strcmp(op, "wait"))
		json_object_set_new(r, "timed_out", json_false());
	return r;
}

/* --- connections ------------------------------------------------------- */

static void arm_recv(uint32_t ci)
{
	struct conn *c = d.conns[ci];
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_recv(sqe, c->fd, c->rbuf, sizeof(c->rbuf), 0);
	io_uring_sqe_set_data64(sqe, ud(UD_RECV, ci, c->gen));
	c->inflight++;
}

static void arm_send(uint32_t ci)
{
	struct conn *c = d.conns[ci];

	if (sendq_arm(&c->q, c->fd, ud(UD_SEND, ci, c->gen)))
		c->inflight++;
}

static void conn_send(uint32_t ci, json_t *msg)
{
	struct conn *c = d.conns[ci];

	if (sendq_push(&c->q, msg)) {
		c->close_after_send = true;
		return;
	}
	arm_send(ci);
}

/*
 * Queue the reply r (taken) with "results": text as its last member, text
 * being a completed job's results.json as the worker wrote it (jansson's
 * output: one object), put in as it is: parsing it only to write it out
 * again took more of the loop than the rest of the reply. -EMSGSIZE
 * (nothing queued) when the frame would be too long, -ENOMEM (the
 * connection closes once its replies are out) when memory is short.
 */
static int conn_send_results(uint32_t ci, json_t *r, const char *text)
{
	struct conn *c = d.conns[ci];
	struct outbuf *b = calloc(1, sizeof(*b));
	int ret = b ? qrtx_proto_encode_member(r, "results", text, &b->data, &b->len) : -ENOMEM;

	json_decref(r);
	if (ret) {
		free(b);
		if (ret == -EMSGSIZE)
			return ret;
		c->close_after_send = true;
		return -ENOMEM;
	}
	sendq_append(&c->q, b);
	arm_send(ci);
	return 0;
}

static void conn_close(uint32_t ci)
{
	struct conn *c = d.conns[ci];

	if (c->fd < 0)
		return;
	/* Ends the receive still pending on it (the ring holds the file). */
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	c->fd = -1;
	c->gen++;
	free(c->in);
	c->in = NULL;
	c->inlen = c->incap = 0;
	/* The kernel may still read the buffer being sent. */
	c->limbo = sendq_drop(&c->q);
	c->close_after_send = c->closing = false;
	for (size_t i = 0; i < d.nwaiters;) {
		if (d.waiters[i].conn == ci) {
			json_decref(d.waiters[i].id);
			d.waiters[i] = d.waiters[--d.nwaiters];
		} else {
			i++;
		}
	}
}

/* Take the whole frames at the head of the input. */
static void conn_input(uint32_t ci)
{
	struct conn *c = d.conns[ci];
	size_t off = 0;

	while (!c->close_after_send) {
		char ebuf[256];
		size_t need;
		int st = qrtx_proto_frame(c->in + off, c->inlen - off, &need);
		json_t *req, *r;

		if (st < 0) {
			conn_send(ci, reply_err(NULL, QRTX_PROTO_ERR_PROTOCOL,
						"frame length out of range (1 to %u bytes)",
						QRTX_PROTO_MAX_FRAME));
			c->close_after_send = true;
			break;
		}
		if (st == 0)
			break;
		req = qrtx_proto_parse(c->in + off + 4, need - 4, ebuf, sizeof(ebuf));
		off += need;
		if (!req) {
			conn_send(ci, reply_err(NULL, QRTX_PROTO_ERR_PROTOCOL, "%s", ebuf));
			continue;
		}
		r = handle(ci, req);
		json_decref(req);
		if (r)
			conn_send(ci, r);
	}
	if (off) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
}

static void on_recv(uint32_t ci, int res)
{
	struct conn *c = d.conns[ci];

	if (res <= 0) {
		conn_close(ci);
		return;
	}
	if (c->inlen + (size_t)res > c->incap) {
		size_t ncap = c->incap ? c->incap : RECV_CHUNK;
		unsigned char *n;

		while (ncap < c->inlen + (size_t)res)
			ncap *= 2;
		n = realloc(c->in, ncap);
		if (!n) {
			conn_close(ci);
			return;
		}
		c->in = n;
		c->incap = ncap;
	}
	memcpy(c->in + c->inlen, c->rbuf, (size_t)res);
	c->inlen += (size_t)res;
	conn_input(ci);
	if (c->close_after_send)
		c->closing = true;
	else
		arm_recv(ci);
	if (c->closing && !c->q.head && !c->q.sending)
		conn_close(ci);
}

static void on_send(uint32_t ci, int res)
{
	struct conn *c = d.conns[ci];

	if (!sendq_sent(&c->q, res)) {
		conn_close(ci);
		return;
	}
	if (c->q.head)
		arm_send(ci);
	else if (c->closing)
		conn_close(ci);
}

/* A ring operation of connection ci completed. */
static void conn_done(uint32_t ci, enum ud_kind k, uint32_t gen, int res)
{
	struct conn *c = d.conns[ci];

	c->inflight--;
	if (c->fd >= 0 && (c->gen & 0xffffff) == gen) {
		if (k == UD_RECV)
			on_recv(ci, res);
		else
			on_send(ci, res);
		return;
	}
	if (!c->inflight) {
		free_outbufs(c->limbo);
		c->limbo = NULL;
	}
}

static void on_accept(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uint32_t ci = 0;

	if (fd < 0)
		return;
	while (ci < d.nconns && (d.conns[ci]->fd >= 0 || d.conns[ci]->inflight))
		ci++;
	if (ci == d.nconns) {
		size_t n = d.nconns ? 2 * d.nconns : 64;
		struct conn **nc = realloc(d.conns, n * sizeof(*nc));

		if (!nc) {
			close(fd);
			return;
		}
		d.conns = nc;
		for (size_t i = d.nconns; i < n; i++) {
			nc[i] = calloc(1, sizeof(**nc));
			if (!nc[i]) {
				d.nconns = i;
				close(fd);
				return;
			}
			nc[i]->fd = -1;
		}
		d.nconns = n;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		close(fd);
		return;
	}
	d.conns[ci]->fd = fd;
	d.conns[ci]->uid = cred.uid;
	d.conns[ci]->gid = cred.gid;
	arm_recv(ci);
}

/* --- worker messages and exits ----------------------------------------- */

/* A move its worker reported (at t_ns, 0: now), for a job not ended. */
static void apply_move(struct job *j, const char *st, const char *sub, uint64_t t_ns)
{
	if (ended(j) || !st)
		return;
	for (int s = 0; s < QRTX_JOB_NSTATES; s++)
		if (!strcmp(st, qrtx_job_state_name((enum qrtx_job_state)s)) &&
		    !qrtx_job_state_final((enum qrtx_job_state)s)) {
			note_move_at(j, (enum qrtx_job_state)s, t_ns ? t_ns : now_ns());
			j->state = (enum qrtx_job_state)s;
		}
	if (j->state == QRTX_JOB_EXECUTING)
		unpend(j);	/* its worker holds its reservation now */
	j->sub = QRTX_EXEC_NONE;
	for (int s = 1; sub && s < QRTX_EXEC_NSUBSTATES; s++)
		if (!strcmp(sub, qrtx_exec_substate_name((enum qrtx_exec_substate)s)))
			j->sub = (enum qrtx_exec_substate)s;
}

static void worker_message(unsigned int wi, json_t *m)
{
	struct worker *w = &d.workers[wi];
	const char *jid = json_string_value(json_object_get(m, "job_id"));
	const char *st = json_string_value(json_object_get(m, "state"));
	const char *sub = json_string_value(json_object_get(m, "substate"));
	long ji = w->job;
	struct job *j;
	json_t *arts, *mv;
	size_t k;

	if (w->held || (w->recording && ji >= 0 && jid && !strcmp(jid, d.jobs[ji].id) &&
			json_is_true(json_object_get(m, "done")))) {
		/* the end is taken once the run's record is durable, and
		 * what follows it waits behind it */
		if (!w->held)
			w->held = json_array();
		if (w->held)
			json_array_append(w->held, m);
		return;
	}
	if (ji < 0 || !jid || strcmp(jid, d.jobs[ji].id))
		return;
	j = &d.jobs[ji];
	json_array_foreach(json_object_get(m, "moves"), k, mv)
		apply_move(j, json_string_value(json_array_get(mv, 0)),
			   json_string_value(json_array_get(mv, 2)),
			   (uint64_t)json_integer_value(json_array_get(mv, 1)));
	if (st && !json_is_true(json_object_get(m, "done")))
		apply_move(j, st, sub, 0);
	if (st && json_is_true(json_object_get(m, "done"))) {
		json_t *e = json_object_get(m, "error"), *held = json_object_get(m, "held");

		w->job = -1;
		j->worker = -1;
		if (json_integer_value(json_object_get(held, "qubits")) ||
		    json_integer_value(json_object_get(held, "host_bytes"))) {
			logmsg("worker %d reports capacity still held after job %s: retired",
			       (int)w->pid, j->id);
			kill_worker(wi);	/* (its job sent ahead goes back) */
		} else {
			promote(wi);
		}
		if (ended(j))
			return;	/* cancelled or timed out meanwhile */
		if (!e && !strcmp(st, "Queued")) {
			/* Prepared: it waits in Queued for capacity, without
			 * a worker; its compiled artifacts are written first
			 * (before its end's meta.json can be). */
			size_t ti = ptask_new(PT_ARTS, (size_t)ji);

			arts = json_object_get(m, "artifacts");
			note_move(j, QRTX_JOB_QUEUED);
			j->state = QRTX_JOB_QUEUED;
			j->prepared = true;
			if (ti == SIZE_MAX) {
				heap_push(&d.queued[j->exe], (size_t)ji);
			} else {
				struct ptask *t = &d.tasks[ti];

				for (unsigned int i = 0; i < 2; i++) {
					const char *text = json_string_value(
						json_object_get(arts, artifact_names[i]));

					if (!text)
						continue;
					t->name[t->nfiles] = artifact_names[i];
					t->text[t->nfiles++] = strdup(text);
				}
				j->nptasks++;
				ptask_run(ti);
			}
			return;
		}
		if (e)
			set_error(j, json_string_value(json_object_get(e, "category")) ?: "ExecuteError",
				  "%s", json_string_value(json_object_get(e, "message")) ?: "");
		arts = json_object_get(m, "artifacts");
		end_job((size_t)ji, strcmp(st, "Completed") ? QRTX_JOB_FAILED : QRTX_JOB_COMPLETED,
			json_string_value(json_object_get(arts, "meta.json")), arts);
	}
}

/* A worker's frame: its report, with the texts of "artifacts" (name:
 * length) taken from the frame's tail into strings. NULL with why in
 * errbuf when the frame is not such a report. */
static json_t *worker_frame(const unsigned char *p, size_t len, char *errbuf, size_t errlen)
{
	size_t used, at;
	json_t *m = qrtx_proto_parse_head(p, len, &used, errbuf, errlen), *a;
	void *it;

	if (!m)
		return NULL;
	at = used;
	a = json_object_get(m, "artifacts");
	for (it = json_object_iter(a); it; it = json_object_iter_next(a, it)) {
		json_t *v = json_object_iter_value(it);
		json_int_t n = json_integer_value(v);

		if (!json_is_integer(v) || n < 0 || (size_t)n > len - at) {
			snprintf(errbuf, errlen, "artifact %s runs past the frame",
				 json_object_iter_key(it));
			json_decref(m);
			return NULL;
		}
		json_object_iter_set_new(a, it,
					 json_stringn_nocheck((const char *)p + at, (size_t)n));
		at += (size_t)n;
	}
	if (at != len) {
		snprintf(errbuf, errlen, "%zu bytes after the report", len - at);
		json_decref(m);
		return NULL;
	}
	return m;
}

static void on_worker_recv(unsigned int wi, int res)
{
	struct worker *w = &d.workers[wi];
	size_t off = 0;

	if (res <= 0)
		return;	/* the pidfd reports the exit */
	if (w->inlen + (size_t)res > w->incap) {
		size_t ncap = w->incap ? 2 * w->incap : 8192;
		unsigned char *n;

		while (ncap < w->inlen + (size_t)res)
			ncap *= 2;
		n = realloc(w->in, ncap);
		if (!n)
			return;
		w->in = n;
		w->incap = ncap;
	}
	memcpy(w->in + w->inlen, w->rbuf, (size_t)res);
	w->inlen += (size_t)res;
	for (;;) {
		char ebuf[128];
		size_t need;
		int st = qrtx_proto_frame(w->in + off, w->inlen - off, &need);
		json_t *m;

		if (st <= 0)
			break;
		m = worker_frame(w->in + off + 4, need - 4, ebuf, sizeof(ebuf));
		off += need;
		if (m) {
			worker_message(wi, m);
			json_decref(m);
		} else {
			logmsg("worker %d: a bad frame (%s): retired", (int)w->pid, ebuf);
			kill_worker(wi);
			break;
		}
	}
	memmove(w->in, w->in + off, w->inlen - off);
	w->inlen -= off;
	{
		struct io_uring_sqe *sqe = sqe_get();

		io_uring_prep_recv(sqe, w->sock, w->rbuf, sizeof(w->rbuf), 0);
		io_uring_sqe_set_data64(sqe, ud(UD_WRECV, wi, w->gen));
	}
	schedule();
}

static void on_worker_exit(unsigned int wi)
{
	struct worker *w = &d.workers[wi];
	int status = 0;

	waitpid(w->pid, &status, 0);
	if (w->next >= 0) {
		/* Sent ahead, not begun as far as the daemon knows: it waits
		 * for another worker (its record counts as one attempt). */
		struct job *jn = &d.jobs[w->next];

		jn->worker = -1;
		jn->ahead = false;
		if (!ended(jn))
			heap_push(jn->prepared ? &d.queued[jn->exe] : &d.waiting[jn->exe],
				  (size_t)w->next);
		w->next = -1;
	}
	w->recording = false;
	if (w->held) {
		json_t *q = w->held;

		/* It ended its run before it died: that end stands. */
		w->held = NULL;
		for (size_t k = 0; k < json_array_size(q) && w->job >= 0; k++)
			worker_message(wi, json_array_get(q, k));
		json_decref(q);
	}
	if (w->job >= 0) {
		struct job *j = &d.jobs[w->job];

		j->worker = -1;
		if (!ended(j)) {
			if (WIFSIGNALED(status))
				set_error(j, "ExecuteError",
					  "the worker running the job was killed by signal %d",
					  WTERMSIG(status));
			else
				set_error(j, "ExecuteError",
					  "the worker running the job exited with status %d",
					  WEXITSTATUS(status));
			end_job((size_t)w->job, QRTX_JOB_FAILED, NULL, NULL);
		}
	}
	if (w->zombie)
		logmsg("zombie worker %d confirmed dead after %u kills: slot returned",
		       (int)w->pid, w->kill_tries);
	close(w->pidfd);
	close(w->sock);
	w->pid = 0;
	w->job = -1;
	{
		/* What the send in flight may still read waits for it. */
		struct outbuf *kept = sendq_drop(&w->q), *b = kept;

		while (b) {
			b->gen = w->gen & 0xffffff;
			if (!b->next) {
				b->next = w->limbo;
				w->limbo = kept;
				break;
			}
			b = b->next;
		}
	}
	w->gen++;
	if (!d.stop && spawn_worker(wi))
		logmsg("cannot start a worker: %s", strerror(errno));
	schedule();
}

static void on_tick(void)
{
	uint64_t now = now_ns();
	struct io_uring_sqe *sqe;

	for (size_t i = 0; i < d.nwaiters;) {
		struct waiter *w = &d.waiters[i];

		if (!w->deadline_ns || w->deadline_ns > now) {
			i++;
			continue;
		}
		if (d.conns[w->conn]->fd >= 0 && d.conns[w->conn]->gen == w->gen) {
			json_t *r = reply_ok(w->id);

			json_object_set_new(r, "job", job_json(&d.jobs[w->job]));
			json_object_set_new(r, "timed_out", json_true());
			conn_send(w->conn, r);
		}
		json_decref(w->id);
		*w = d.waiters[--d.nwaiters];
	}
	for (size_t k = 0; k < d.ntmo;) {
		size_t i = d.tmo[k];
		struct job *j = &d.jobs[i];

		if (ended(j) || j->gone) {
			d.tmo[k] = d.tmo[--d.ntmo];
			continue;
		}
		k++;
		if (!visible(j) || now < j->submitted_ns + (uint64_t)(j->timeout_s * 1e9))
			continue;
		stop_worker_of(j);
		set_error(j, "ExecuteError", "the job ran out of its %g s (timeout_s)",
			  j->timeout_s);
		end_job(i, QRTX_JOB_TIMEOUT, NULL, NULL);
	}
	for (unsigned int i = 0; i < d.nworkers; i++) {
		struct worker *w = &d.workers[i];

		if (!w->pid || !w->killed || now < w->kill_ns + KILL_GRACE_NS)
			continue;
		if (!w->zombie) {
			w->zombie = true;
			logmsg("worker %d not dead %lld ms after SIGKILL: zombie, quarantined",
			       (int)w->pid, KILL_GRACE_NS / 1000000);
		}
		kill_worker(i);	/* the recovery loop */
	}
	if (now >= d.metrics_next_ns) {
		write_metrics(true);
		d.metrics_next_ns = now + 5ull * 1000000000ull;
	}
	if (now >= d.gc_next_ns) {
		json_t *removed = gc_jobs(0, d.keep_days * 86400.0, d.keep_jobs, false, -1);

		if (json_array_size(removed))
			logmsg("retention: removed %zu finished jobs", json_array_size(removed));
		json_decref(removed);
		d.gc_next_ns = now + 3600ull * 1000000000ull;
	}
	/* Aging changes ranks over time. */
	schedule();
	sqe = sqe_get();
	io_uring_prep_timeout(sqe, &d.tick, 0, 0);
	io_uring_sqe_set_data64(sqe, ud(UD_TICK, 0, 0));
}

/* --- recovery ---------------------------------------------------------- */

/* Submission order: input.job.json's time, then the id. */
static int cmp_job_id(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	if (x->submitted_ns != y->submitted_ns)
		return x->submitted_ns < y->submitted_ns ? -1 : 1;
	return strcmp(x->id, y->id);
}

static json_t *load_artifact(const char *id, const char *name)
{
	char path[4096];
	json_error_t je;

	qrtx_store_path(d.store, id, name, path, sizeof(path));
	return json_load_file(path, 0, &je);
}

/* What a recovered job's run needs, from its input. */
static void job_need(struct job *j, json_t *in)
{
	struct qrtx_error err = { 0 };
	struct qrtx_job_spec *spec = NULL;
	struct qrtx_job_opts jo;
	json_t *src = json_object_get(in, "source");
	const char *text = json_string_value(json_object_get(src, "text"));
	const char *kind = json_string_value(json_object_get(src, "kind"));

	if (!text || !kind || qrtx_job_opts_from_json(json_object_get(in, "options"), &jo, &err) ||
	    qrtx_job_from_source(j->name, text, strlen(text), !strcmp(kind, "json"), &jo, &spec,
				 &err))
		return;	/* its run fails, saying why */
	job_needs(j, spec);
	qrtx_job_spec_free(spec);
}

static int cmp_by_id(const void *a, const void *b)
{
	return strcmp(d.jobs[*(const size_t *)a].id, d.jobs[*(const size_t *)b].id);
}

/*
 * Runs started, from the run records: a line per run. The records are
 * then rewritten with the jobs that did not end only, and opened for
 * appending.
 */
static int recover_runs(void)
{
	size_t *by_id = malloc((d.njobs + 1) * sizeof(*by_id));
	char line[256], tmp[4300];
	FILE *f;
	int fd, ret = 0;

	if (!by_id)
		return -ENOMEM;
	for (size_t i = 0; i < d.njobs; i++)
		by_id[i] = i;
	qsort(by_id, d.njobs, sizeof(*by_id), cmp_by_id);
	f = fopen(d.alog_path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		size_t lo = 0, hi = d.njobs;

		line[strcspn(line, "\n")] = 0;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = strcmp(d.jobs[by_id[mid]].id, line);

			if (!c) {
				d.jobs[by_id[mid]].attempts++;
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	if (f)
		fclose(f);
	free(by_id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", d.alog_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return ret;
	}
	for (size_t i = 0; i < d.njobs; i++)
		for (unsigned int k = 0; !qrtx_job_state_final(d.jobs[i].state) &&
					 k < d.jobs[i].attempts; k++)
			fprintf(f, "%s\n", d.jobs[i].id);
	if (fflush(f) || fsync(fileno(f)))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, d.alog_path))
		ret = -errno;
	if (ret)
		return ret;
	fd = open(d.alog_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d.alog_fd = fd;
	return 0;
}

/*
 * Every job acknowledged before a restart, from its directory: one with
 * meta.json ended (its state is there); one without is queued again,
 * unless MAX_ATTEMPTS runs of it were already interrupted, when it fails
 * saying so. A directory without input.job.json was never acknowledged.
 */
static int recover(void)
{
	DIR *dir = opendir(qrtx_store_dir(d.store));
	struct dirent *e;
	size_t requeued = 0, ended_before = 0, failed = 0;
	int ret;

	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		json_t *in, *meta, *opts, *src;
		struct job *j;
		char path[4096];
		struct stat st;
		const char *state;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= QRTX_JOB_ID_MAX)
			continue;
		in = load_artifact(e->d_name, "input.job.json");
		if (!in)
			continue;
		if (d.njobs == d.jobs_cap) {
			size_t ncap = d.jobs_cap ? 2 * d.jobs_cap : 256;
			struct job *n = realloc(d.jobs, ncap * sizeof(*n));

			if (!n) {
				json_decref(in);
				closedir(dir);
				return -ENOMEM;
			}
			d.jobs = n;
			d.jobs_cap = ncap;
		}
		j = &d.jobs[d.njobs++];
		memset(j, 0, sizeof(*j));
		memcpy(j->id, e->d_name, strlen(e->d_name) + 1);	/* checked above */
		j->worker = -1;
		j->acked = true;
		j->ending = QRTX_JOB_PENDING;
		j->uid = (uid_t)json_integer_value(json_object_get(in, "uid"));
		j->gid = (gid_t)json_integer_value(json_object_get(in, "gid"));
		src = json_object_get(in, "source");
		snprintf(j->name, sizeof(j->name), "%s",
			 json_string_value(json_object_get(src, "file")) ?: j->id);
		opts = json_object_get(in, "options");
		j->priority = (int32_t)json_integer_value(json_object_get(opts, "priority"));
		j->timeout_s = json_number_value(json_object_get(opts, "timeout_s"));
		qrtx_store_path(d.store, j->id, "input.job.json", path, sizeof(path));
		j->submitted_ns = stat(path, &st) ? now_ns() :
				  (uint64_t)st.st_mtim.tv_sec * 1000000000ull +
				  (uint64_t)st.st_mtim.tv_nsec;
		meta = load_artifact(j->id, "meta.json");
		state = json_string_value(json_object_get(meta, "state"));
		j->state = QRTX_JOB_PENDING;
		for (int s2 = 0; state && s2 < QRTX_JOB_NSTATES; s2++)
			if (!strcmp(state, qrtx_job_state_name((enum qrtx_job_state)s2)))
				j->state = (enum qrtx_job_state)s2;
		qrtx_store_path(d.store, j->id, "results.json", path, sizeof(path));
		if (j->state == QRTX_JOB_COMPLETED && access(path, F_OK)) {
			/* meta.json is renamed into place after the others,
			 * with no directory sync between: a file system that
			 * does not keep that order could lose results.json
			 * and keep meta.json. Not ended, then: run again. */
			logmsg("job %s: meta.json says Completed but results.json is missing: "
			       "queued again", j->id);
			json_decref(meta);
			meta = NULL;
		}
		if (meta && qrtx_job_state_final(j->state)) {
			json_t *er = json_object_get(meta, "error");

			snprintf(j->err_category, sizeof(j->err_category), "%s",
				 json_string_value(json_object_get(er, "category")) ?: "");
			snprintf(j->err_message, sizeof(j->err_message), "%s",
				 json_string_value(json_object_get(er, "message")) ?: "");
			j->finished_ns = j->submitted_ns;
			ended_before++;
		} else {
			j->state = QRTX_JOB_PENDING;
			j->input = json_dumps(in, JSON_COMPACT);
			job_need(j, in);
		}
		json_decref(in);
		json_decref(meta);
	}
	closedir(dir);
	if (d.njobs)
		qsort(d.jobs, d.njobs, sizeof(*d.jobs), cmp_job_id);
	for (size_t i = 0; i < d.njobs; i++)
		d.jobs[i].seq = d.seq++;
	ret = recover_runs();
	if (ret)
		return ret;
	for (size_t i = 0; i < d.njobs; i++) {
		struct job *j = &d.jobs[i];

		j->key = job_key(j);
		index_job(i);
		if (qrtx_job_state_final(j->state))
			continue;
		if (j->attempts < MAX_ATTEMPTS) {
			heap_push(&d.waiting[j->exe], i);
			requeued++;
			continue;
		}
		j->state = QRTX_JOB_FAILED;
		set_error(j, "ExecuteError",
			  "interrupted by %u daemon restarts while running; not run again",
			  j->attempts);
		j->finished_ns = now_ns();
		free(j->input);
		j->input = NULL;
		write_final_meta(j);
		failed++;
	}
	if (d.njobs)
		logmsg("recovered %zu jobs: %zu queued again, %zu ended before, %zu failed "
		       "after %d interrupted runs", d.njobs, requeued, ended_before, failed,
		       MAX_ATTEMPTS);
	return 0;
}

/* --- setup and loop ---------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qrtxd [--socket PATH] [--state-dir DIR] [--workers N] [--cuda-workers N]\n"
		"             [--metrics FILE] [--keep-days D] [--keep-jobs N]\n"
		"             [--pool-qubits N] [--pool-host-bytes N]\n"
		"\n"
		"Run QRTX jobs for the clients of a Unix socket (see 'qrtx submit').\n"
		"Stays in the foreground; SIGTERM or SIGINT stop it.\n"
		"\n"
		"  --socket PATH     where to listen (default: $QRTX_SOCKET, else\n"
		"                    /run/qrtx/qrtxd.sock for root, else\n"
		"                    <state dir>/qrtxd.sock)\n"
		"  --state-dir DIR   where circuit_fs/<job_id>/ lives (default as for\n"
		"                    'qrtx run': $QRTX_STATE_DIR, /var/lib/qrtx for root,\n"
		"                    else $XDG_STATE_HOME/qrtx or ~/.local/state/qrtx)\n"
		"  --workers N       worker processes of the cpu executor, for ideal@cpu\n"
		"                    jobs (default 2)\n"
		"  --cuda-workers N  worker processes of the cuda executor, for ideal@cuda\n"
		"                    jobs (default 1; 0: such jobs are refused); at most %d\n"
		"                    workers in all\n"
		"  --metrics FILE    where to write the metrics in Prometheus text format\n"
		"                    every 5 s (default <state dir>/qrtxd.prom; '-': none)\n"
		"  --keep-days D     retention: finished jobs' artifacts are removed D days\n"
		"                    after they end (default 30; checked hourly)\n"
		"  --keep-jobs N     and beyond the newest N finished jobs (default 100000)\n"
		"  --pool-qubits N, --pool-host-bytes N\n"
		"                    without the kernel module, the pools the daemon admits\n"
		"                    runs against (default 64 qubits and half the memory);\n"
		"                    with it, /dev/qrtx's pools rule and these are refused\n"
		"  -h, --help        show this help\n"
		"\n"
		"Exit status: 0 stopped by a signal, 1 could not start, 2 bad usage.\n",
		MAX_WORKERS);
}

static int listen_on(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		logmsg("socket path too long: %s", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A socket file nobody answers on is a leftover of a crash (a
	 * killed daemon's socket may still take connections for a moment
	 * while the kernel tears its ring down, so ask for a ping). */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		json_t *ping = json_pack("{s:i, s:i, s:s}", "v", QRTX_PROTO_VERSION, "id", 0,
					 "op", "ping");
		struct pollfd p = { .fd = fd, .events = POLLIN };
		bool alive = !qrtx_proto_send(fd, ping) && poll(&p, 1, 1000) == 1 &&
			     !(p.revents & (POLLHUP | POLLERR));

		json_decref(ping);
		if (alive) {
			logmsg("another qrtxd is listening on %s", path);
			close(fd);
			return -1;
		}
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 128)) {
		logmsg("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	chmod(path, 0666);	/* anyone may connect; SO_PEERCRED says who */
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "workers", required_argument, NULL, 'w' },
		{ "cuda-workers", required_argument, NULL, 'W' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "keep-days", required_argument, NULL, 'k' },
		{ "keep-jobs", required_argument, NULL, 'n' },
		{ "pool-qubits", required_argument, NULL, 'Q' },
		{ "pool-host-bytes", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *state_dir = NULL;
	char *sock_default = NULL;
	uint64_t pool_qubits = 0, pool_bytes = 0;
	struct qrtx_error err = { 0 };
	sigset_t mask;
	int c, ret;

	d.exe_workers[EX_CPU] = 2;
	d.exe_workers[EX_CUDA] = 1;
	d.keep_days = 30;
	d.keep_jobs = 100000;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			d.socket_path = optarg;
			break;
		case 'd':
			state_dir = optarg;
			break;
		case 'w':
		case 'W': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (!*optarg || *end || n < (c == 'w') || n > MAX_WORKERS) {
				fprintf(stderr, "qrtxd: --%s is %d to %d\n",
					c == 'w' ? "workers" : "cuda-workers", c == 'w', MAX_WORKERS);
				return 2;
			}
			d.exe_workers[c == 'w' ? EX_CPU : EX_CUDA] = (unsigned int)n;
			break;
		}
		case 'm':
			d.metrics_path = optarg;
			break;
		case 'k':
		case 'n': {
			char *end;
			double v = strtod(optarg, &end);

			if (*end || !*optarg || v < 0) {
				fprintf(stderr, "qrtxd: --%s needs a number >= 0\n",
					c == 'k' ? "keep-days" : "keep-jobs");
				return 2;
			}
			if (c == 'k')
				d.keep_days = v;
			else
				d.keep_jobs = (long)v;
			break;
		}
		case 'Q':
		case 'B': {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (*end || !*optarg || *optarg == '-' || errno || !v) {
				fprintf(stderr, "qrtxd: --%s needs a whole number > 0\n",
					c == 'Q' ? "pool-qubits" : "pool-host-bytes");
				return 2;
			}
			if (c == 'Q')
				pool_qubits = v;
			else
				pool_bytes = v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	d.nworkers = d.exe_workers[EX_CPU] + d.exe_workers[EX_CUDA];
	if (d.nworkers > MAX_WORKERS) {
		fprintf(stderr, "qrtxd: at most %d workers in all (--workers and --cuda-workers)\n",
			MAX_WORKERS);
		return 2;
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (qrtx_store_open(state_dir, &d.store, &err)) {
		char msg[1024];

		qrtx_error_format(&err, msg, sizeof(msg));
		logmsg("%s", msg);
		return 1;
	}
	d.state_opt = state_dir;
	{
		/* next to circuit_fs/ */
		static char mp[4200];
		const char *sd = qrtx_store_dir(d.store), *slash = strrchr(sd, '/');
		int rl = slash ? (int)(slash - sd) : 1;

		if (slash && rl == 0)
			rl = 1;	/* circuit_fs/ in / */
		snprintf(mp, sizeof(mp), "%.*s/qrtxd.prom", rl, slash ? sd : ".");
		snprintf(d.alog_path, sizeof(d.alog_path), "%.*s/qrtxd.attempts", rl,
			 slash ? sd : ".");
		if (d.metrics_path && !strcmp(d.metrics_path, "-"))
			d.metrics_path = NULL;
		else if (!d.metrics_path)
			d.metrics_path = mp;
	}
	d.cfs_fd = open(qrtx_store_dir(d.store), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d.alog_fd = -1;
	if (d.cfs_fd < 0) {
		logmsg("%s: %s", qrtx_store_dir(d.store), strerror(errno));
		return 1;
	}
	for (unsigned int i = 0; i < NPFILES; i++)
		d.pf[i].task = -1;
	snprintf(d.state_dir, sizeof(d.state_dir), "%s", qrtx_store_dir(d.store));
	if (!d.socket_path) {
		if (!state_dir) {
			sock_default = qrtx_client_default_socket();
		} else {
			sock_default = malloc(strlen(state_dir) + 16);
			if (sock_default)
				sprintf(sock_default, "%s/qrtxd.sock", state_dir);
		}
		if (!sock_default) {
			logmsg("no socket path: give --socket");
			return 1;
		}
		d.socket_path = sock_default;
		if (geteuid() == 0)
			mkdir("/run/qrtx", 0755);
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	d.lfd = listen_on(d.socket_path);
	if (d.lfd < 0 || d.sfd < 0)
		return 1;
	{
		struct io_uring_params p = { 0 };
		struct rlimit rl;

		/* Room for every chain's completions. */
		p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN |
			  IORING_SETUP_TASKRUN_FLAG;
		p.cq_entries = 8 * NPFILES + 4 * RING_DEPTH;
		ret = io_uring_queue_init_params(RING_DEPTH, &d.ring, &p);
		if (ret == -EINVAL) {
			memset(&p, 0, sizeof(p));
			p.flags = IORING_SETUP_CQSIZE;
			p.cq_entries = 8 * NPFILES + 4 * RING_DEPTH;
			ret = io_uring_queue_init_params(RING_DEPTH, &d.ring, &p);
		}
		if (ret) {
			logmsg("io_uring: %s", strerror(-ret));
			return 1;
		}
		/* A file table for the writes in flight (it counts against
		 * the open files limit). */
		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < 4 * NPFILES &&
		    rl.rlim_max >= 4 * NPFILES) {
			rl.rlim_cur = 4 * NPFILES;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		ret = io_uring_register_files_sparse(&d.ring, 2 * NPFILES + 1);
		if (ret) {
			logmsg("io_uring: cannot register %d file slots: %s (a kernel of 5.19 or "
			       "later is needed)", 2 * NPFILES, strerror(-ret));
			return 1;
		}
	}
	d.start_ns = now_ns();
#ifdef QRTX_FAULTS
	if (getenv("QRTX_FAULT_KILL_FAILS"))
		d.fault_kill_fails = (unsigned int)atoi(getenv("QRTX_FAULT_KILL_FAILS"));
	if (getenv("QRTX_FAULT_ALOG_FAILS"))
		d.fault_alog_fails = (unsigned int)atoi(getenv("QRTX_FAULT_ALOG_FAILS"));
	d.fault_all_quick = getenv("QRTX_FAULT_ALL_QUICK") != NULL;
	if (getenv("QRTX_FAULT_SAME_IDS"))
		d.fault_same_ids = (unsigned int)atoi(getenv("QRTX_FAULT_SAME_IDS"));
	if (getenv("QRTX_FAULT_FSYNC_AT")) {
		const char *p = getenv("QRTX_FAULT_FSYNC_AT");

		for (unsigned int i = 0; i < 4 && *p; i++) {
			char *e;

			d.fault_fsync_at[i] = strtoul(p, &e, 10);
			p = *e == ',' ? e + 1 : e;
		}
	}
#endif
	/* Admission: the kernel's pools, else a ledger of the daemon's own
	 * with the in-process ledger's pools. */
	if (access("/dev/qrtx", F_OK) == 0) {
		if (pool_qubits || pool_bytes) {
			logmsg("--pool-qubits and --pool-host-bytes size the daemon's own ledger; "
			       "with /dev/qrtx its pools rule (see its sysfs)");
			return 2;
		}
		ret = qrtx_res_open(NULL, &d.dev);
		if (ret || qrtx_res_backend(d.dev) != QRTX_RES_KERNEL) {
			logmsg("cannot open /dev/qrtx: %s; jobs are admitted on the daemon's "
			       "own ledger", strerror(ret ? -ret : ENODEV));
			qrtx_res_close(d.dev);
			d.dev = NULL;
		}
	}
	if (!d.dev) {
		struct qrtx_ledger_config cfg = { .qubits = 64 };
		long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

		if (pages > 0 && psize > 0)
			cfg.host_bytes = (uint64_t)pages * (uint64_t)psize / 2;
		if (pool_qubits)
			cfg.qubits = pool_qubits;
		if (pool_bytes)
			cfg.host_bytes = pool_bytes;
		ret = qrtx_ledger_new(&cfg, &d.ledger);
		if (!ret)
			ret = qrtx_account_open(d.ledger, &d.acct);
		if (ret) {
			logmsg("cannot make a ledger: %s", strerror(-ret));
			return 1;
		}
	}
	ret = recover();
	if (ret) {
		logmsg("cannot recover jobs from %s: %s", d.state_dir, strerror(-ret));
		return 1;
	}
	for (unsigned int i = 0; i < d.nworkers; i++) {
		d.workers[i].exe = i < d.exe_workers[EX_CPU] ? EX_CPU : EX_CUDA;
		ret = spawn_worker(i);
		if (ret) {
			logmsg("cannot start worker %u: %s", i, strerror(-ret));
			return 1;
		}
	}
	logmsg("listening on %s, state in %s, %u cpu and %u cuda workers", d.socket_path,
	       d.state_dir, d.exe_workers[EX_CPU], d.exe_workers[EX_CUDA]);
	schedule();

	{
		struct io_uring_sqe *sqe = sqe_get();

		io_uring_prep_accept(sqe, d.lfd, NULL, NULL, SOCK_CLOEXEC);
		io_uring_sqe_set_data64(sqe, ud(UD_ACCEPT, 0, 0));
		sqe = sqe_get();
		io_uring_prep_read(sqe, d.sfd, &d.siginfo, sizeof(d.siginfo), 0);
		io_uring_sqe_set_data64(sqe, ud(UD_SIGNAL, 0, 0));
		d.tick.tv_sec = 0;
		d.tick.tv_nsec = TICK_NS;
		sqe = sqe_get();
		io_uring_prep_timeout(sqe, &d.tick, 0, 0);
		io_uring_sqe_set_data64(sqe, ud(UD_TICK, 0, 0));
	}

	while (!d.stop) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		ret = io_uring_submit_and_wait(&d.ring, 1);
		if (ret < 0 && ret != -EINTR) {
			logmsg("io_uring: %s", strerror(-ret));
			break;
		}
		io_uring_for_each_cqe(&d.ring, head, cqe) {
			uint64_t u = cqe->user_data;
			enum ud_kind k = (enum ud_kind)(u >> 56);
			uint32_t idx = (uint32_t)u, gen = (uint32_t)(u >> 32) & 0xffffff;
			int res = cqe->res;

			seen++;
			switch (k) {
			case UD_ACCEPT: {
				struct io_uring_sqe *sqe;

				on_accept(res);
				sqe = sqe_get();
				io_uring_prep_accept(sqe, d.lfd, NULL, NULL, SOCK_CLOEXEC);
				io_uring_sqe_set_data64(sqe, ud(UD_ACCEPT, 0, 0));
				break;
			}
			case UD_RECV:
			case UD_SEND:
				if (idx < d.nconns)
					conn_done(idx, k, gen, res);
				break;
			case UD_WRECV:
				if ((d.workers[idx].gen & 0xffffff) == gen && d.workers[idx].pid)
					on_worker_recv(idx, res);
				break;
			case UD_PIDFD:
				if ((d.workers[idx].gen & 0xffffff) == gen && d.workers[idx].pid)
					on_worker_exit(idx);
				break;
			case UD_TICK:
				on_tick();
				break;
			case UD_SIGNAL:
				d.stop = true;
				break;
			case UD_PFILE:
				on_pfile(idx, gen, res);
				break;
			case UD_ALOG:
				on_alog(idx, res);
				break;
			case UD_WSEND:
				on_wsend(idx, gen, res);
				break;
			case UD_METRICS:
				on_metrics(idx, res);
				break;
			case UD_CFSYNC:
				on_cfsync(res);
				break;
			case UD_DEVPOLL:
				d.dev_polled = false;	/* capacity came back */
				schedule();
				break;
			}
		}
		io_uring_cq_advance(&d.ring, seen);
		ptask_kick();
	}

	/* Writes in flight end as they would have: a submission made
	 * durable is answered, an end written is shown. */
	{
		uint64_t limit = now_ns() + 30ull * 1000000000ull;

		while ((d.pf_used || d.alog_ops || d.npwait || d.metrics_ops || d.cfs_syncing) &&
		       now_ns() < limit) {
			struct io_uring_cqe *cqe;
			struct __kernel_timespec ts = { 0, 100 * 1000 * 1000 };

			ptask_kick();
			ret = io_uring_submit_and_wait_timeout(&d.ring, &cqe, 1, &ts, NULL);
			if (ret < 0 && ret != -ETIME && ret != -EINTR)
				break;
			while (io_uring_peek_cqe(&d.ring, &cqe) == 0) {
				uint64_t u = cqe->user_data;
				enum ud_kind k = (enum ud_kind)(u >> 56);

				if (k == UD_PFILE)
					on_pfile((uint32_t)u, (uint32_t)(u >> 32) & 0xffffff, cqe->res);
				else if (k == UD_ALOG)
					on_alog((uint32_t)u, cqe->res);
				else if (k == UD_METRICS)
					on_metrics((uint32_t)u, cqe->res);
				else if (k == UD_CFSYNC)
					on_cfsync(cqe->res);
				io_uring_cqe_seen(&d.ring, cqe);
			}
		}
		if (d.pf_used || d.alog_ops || d.cfs_syncing)
			logmsg("stopping with writes still in flight");
	}

	write_metrics(false);
	logmsg("stopping");
	for (unsigned int i = 0; i < d.nworkers; i++) {
		if (!d.workers[i].pid)
			continue;
		kill(d.workers[i].pid, SIGKILL);
		waitpid(d.workers[i].pid, NULL, 0);
	}
	unlink(d.socket_path);
	io_uring_queue_exit(&d.ring);
	for (size_t i = 0; i < d.nconns; i++) {
		struct conn *c = d.conns[i];

		conn_close((uint32_t)i);
		/* The ring is gone: nothing reads these any more. */
		free_outbufs(c->limbo);
		free(c);
	}
	for (unsigned int i = 0; i < d.nworkers; i++) {
		json_decref(d.workers[i].held);
		free(d.workers[i].in);
		free_outbufs(sendq_drop(&d.workers[i].q));
		free_outbufs(d.workers[i].limbo);
	}
	for (size_t i = 0; i < d.ntasks; i++)
		if (d.tasks[i].used)
			ptask_free(i);
	for (size_t i = 0; i < d.njobs; i++) {
		free(d.jobs[i].input);
		free(d.jobs[i].results);
	}
	free(d.tasks);
	free(d.tfree);
	free(d.pwait);
	free(d.cfs_cur);
	free(d.cfs_next);
	for (size_t i = 0; i < d.ngcs; i++) {
		json_decref(d.gcs[i].id);
		json_decref(d.gcs[i].removed);
	}
	free(d.gcs);
	for (int e = 0; e < EX_N; e++) {
		free(d.waiting[e].v);
		free(d.queued[e].v);
	}
	free(d.by_id);
	free(d.tmo);
	free(d.alog_buf);
	free(d.alog_wbuf);
	if (d.alog_fd >= 0)
		close(d.alog_fd);
	close(d.cfs_fd);
	if (d.acct)
		qrtx_account_close(d.acct);
	if (d.ledger)
		qrtx_ledger_free(d.ledger);
	qrtx_res_close(d.dev);
	free(d.conns);
	free(d.jobs);
	free(d.waiters);
	qrtx_store_close(d.store);
	free(sock_default);
	return 0;
}
