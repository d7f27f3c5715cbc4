// SPDX-License-Identifier: GPL-2.0
/*
 * collapse_stress: shmem collapse against everything else, with a checker.
 *
 * Several shmem files (memfds, and files on the tmpfs at /dev/shm when
 * there is one), each a few PMD-sized extents long, are hammered by worker
 * threads that pick, at random, one of:
 *
 *   collapse      MADV_COLLAPSE of one or two extents (a page of each is
 *                 faulted in first: 6.1 wants a page table to collapse)
 *   seek          a SEEK_DATA/SEEK_HOLE walk over the file
 *   mincore       mincore() of the thread's faulted mappings, or of a
 *                 fresh mapping that was never touched
 *   read/write    page faults through the thread's mappings
 *   pread/pwrite
 *   truncate      ftruncate, shrinking or growing the file
 *   fallocate     allocate, or FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
 *   refill        punch an extent and rebuild it from small pages, data
 *                 with holes and fallocated runs, for collapse to work on
 *   remap         munmap and mmap the thread's mappings again
 *   uffd          register an extent of a mapping of its own with
 *                 userfaultfd MODE_MISSING, read through it (a handler
 *                 thread resolves the faults with UFFDIO_COPY or
 *                 UFFDIO_ZEROPAGE), sometimes MADV_COLLAPSE it, and
 *                 unregister
 *
 * A model of every file says, per page, whether it holds data and which
 * (each written page carries a stamp: file, page, generation), or is a
 * hole or fallocated (zeroes).  A per-file rwlock orders the model: the
 * operations that turn data back into holes (truncate, punch, refill)
 * take it exclusive; everything else, collapse included, takes it shared,
 * because a collapse must not change what the file holds, nor turn data
 * into holes: it may only turn holes and fallocated pages into (zero)
 * data.  A mutex per extent serialises the threads that write or compare
 * the content of that extent.  The checks:
 *
 *  - SEEK_DATA/SEEK_HOLE never report a page as a hole if it held written
 *    data before the call (the report adds what SEEK_DATA of the page
 *    alone says right after, which tells a walk that stepped over the
 *    page from one that found nothing there);
 *  - mincore() never reports such a page as not resident, through a
 *    faulted mapping or a never-faulted one;
 *  - what pread() and the mappings return equals the model, in particular
 *    right after every MADV_COLLAPSE that returned 0;
 *  - on a range registered MODE_MISSING, a page that SEEK_DATA saw as a
 *    hole after UFFDIO_REGISTER returned is still a hole when read: its
 *    read raises a MISSING event and returns what the handler put there;
 *    and MADV_COLLAPSE of that range does not return 0 (it would have
 *    filled the holes).
 *
 * Every operation and every outcome is counted and printed at the end
 * ("# stats:" lines), then "stress: seconds=N ops=N collapses=N
 * violations=N" (collapses: MADV_COLLAPSE calls that returned 0).  Exit
 * status: 0 if nothing was wrong, 1 on a violation (each printed, up to a
 * limit, with file, offset, operation, what was expected and what was
 * seen), 4 (kselftest SKIP) when shmem THP, MADV_COLLAPSE or userfaultfd
 * on shmem is unavailable.  A watchdog thread ends the program with a
 * message (and "watchdog=1" on the summary line) if it is still running
 * 60 s after its time was up, so a kernel hang shows as a failure.
 *
 * Usage: collapse_stress [-t SECONDS] [-f NFILES] [-j THREADS] [-s SEED]
 *                        [-e EXTENTS] [-x]
 * -t how long (20), -f files (4), -j worker threads (4), -s random seed
 * (printed; runs are not reproducible, threads interleave as they will),
 * -e huge-page extents per file (4), -x stop at the first violation.
 *
 * Build: gcc -O2 -g -Wall -Wextra -Werror -static -pthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

#include "stress_common.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

#define KSFT_SKIP		4
#define THP_SYSFS		"/sys/kernel/mm/transparent_hugepage/"
#define MAX_FILES		16
#define MAX_THREADS		32
#define MAX_EXTENTS		16
#define MAX_REPORTS		20	/* violations printed in full */
#ifndef WATCHDOG_GRACE
#define WATCHDOG_GRACE		60	/* seconds after -t before giving up */
#endif

static unsigned long ppe;	/* pages per extent (huge page) */
static unsigned long nr_ext = 4;	/* extents per file */
static unsigned long fpages;	/* pages per file, at most */
static size_t fbytes;

static int opt_seconds = 20;
static int opt_files = 4;
static int opt_threads = 4;
static uint64_t opt_seed;
static bool opt_stop_first;

static atomic_bool stop;
static atomic_bool handler_stop;
static atomic_bool finished;
static atomic_ulong nviolations;
/* Orders "this page became data" against the start of a probe. */
static atomic_ulong gseq;
/* Generations stamped into written pages; never 0. */
static atomic_uint ggen;
static int uffd = -1;
static bool have_zeropage;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------------ */

enum op {
	OP_COLLAPSE, OP_SEEK, OP_MINCORE, OP_MINCORE_FRESH, OP_READ_FAULT,
	OP_WRITE_FAULT, OP_PREAD, OP_PWRITE, OP_TRUNCATE, OP_FALLOC,
	OP_PUNCH, OP_REFILL, OP_REMAP, OP_UFFD, NR_OPS,
	OP_FINAL = NR_OPS, OP_HANDLER, OP_IDLE,
};

static atomic_ulong violations_by_op[OP_IDLE + 1];

static const struct {
	const char *name;
	int weight;
} op_table[] = {
	[OP_COLLAPSE]		= { "collapse", 14 },
	[OP_SEEK]		= { "seek", 12 },
	[OP_MINCORE]		= { "mincore", 10 },
	[OP_MINCORE_FRESH]	= { "mincore_fresh", 5 },
	[OP_READ_FAULT]		= { "read_fault", 8 },
	[OP_WRITE_FAULT]	= { "write_fault", 8 },
	[OP_PREAD]		= { "pread", 6 },
	[OP_PWRITE]		= { "pwrite", 8 },
	[OP_TRUNCATE]		= { "truncate", 2 },
	[OP_FALLOC]		= { "fallocate", 4 },
	[OP_PUNCH]		= { "punch", 3 },
	[OP_REFILL]		= { "refill", 5 },
	[OP_REMAP]		= { "remap", 3 },
	[OP_UFFD]		= { "uffd", 6 },
	[OP_FINAL]		= { "final_check", 0 },
	[OP_HANDLER]		= { "uffd_handler", 0 },
	[OP_IDLE]		= { "idle", 0 },
};

/* ------------------------------------------------------------------ */

enum { PG_HOLE, PG_FALLOC, PG_DATA };

struct sfile {
	int id;
	int fd;
	const char *kind;		/* "memfd" or "tmpfs" */
	pthread_rwlock_t layout;	/* exclusive: data may become holes */
	pthread_mutex_t ext[MAX_EXTENTS];	/* content of an extent */
	atomic_ulong size;		/* in pages; changed under layout excl */
	atomic_uchar *state;		/* PG_* */
	atomic_uint *gen;		/* stamp generation of PG_DATA pages */
	atomic_ulong *dseq;		/* gseq when it became data, 0: none */
};

static struct sfile files[MAX_FILES];

/* The model: see the header comment. */
static void model_data(struct sfile *f, unsigned long pg, unsigned int gen)
{
	atomic_store(&f->gen[pg], gen);
	atomic_store(&f->state[pg], PG_DATA);
	if (!atomic_load(&f->dseq[pg]))
		atomic_store(&f->dseq[pg], atomic_fetch_add(&gseq, 1) + 1);
}

static void model_hole(struct sfile *f, unsigned long pg)
{
	atomic_store(&f->dseq[pg], 0);
	atomic_store(&f->gen[pg], 0);
	atomic_store(&f->state[pg], PG_HOLE);
}

/* Did page pg hold written data before the probe that read s0 began? */
static bool must_be_data(struct sfile *f, unsigned long pg, unsigned long s0)
{
	unsigned long d = atomic_load(&f->dseq[pg]);

	return d && d <= s0;
}

/* What the page must hold now: its generation, or 0 for zeroes. */
static unsigned int model_gen(struct sfile *f, unsigned long pg)
{
	return atomic_load(&f->state[pg]) == PG_DATA ?
	       atomic_load(&f->gen[pg]) : 0;
}

static unsigned int new_gen(void)
{
	return atomic_fetch_add(&ggen, 1) + 1;
}

/*
 * Page content.  Word 0 says what it is (so a wrong page can be named);
 * the other words depend on it and on their position.
 */
#define STAMP_MAGIC 0x5aULL

static uint64_t stamp0(int file, unsigned long pg, unsigned int gen)
{
	return STAMP_MAGIC << 56 | (uint64_t)(file & 0xff) << 48 |
	       (uint64_t)(pg & 0xffff) << 32 | gen;
}

static uint64_t stamp_word(uint64_t s0, size_t w)
{
	if (!w)
		return s0;
	return (s0 * 0x9e3779b97f4a7c15ULL) ^ (w * 0xbf58476d1ce4e5b9ULL);
}

static void stamp_fill(void *p, int file, unsigned long pg, unsigned int gen)
{
	uint64_t *q = p, s0 = stamp0(file, pg, gen);
	size_t w, nw = psize / sizeof(uint64_t);

	for (w = 0; w < nw; w++)
		q[w] = stamp_word(s0, w);
}

/* -1 if the page holds gen's stamp (zeroes for 0), else the bad word. */
static long page_bad(const void *p, int file, unsigned long pg,
		     unsigned int gen, uint64_t *got, uint64_t *exp)
{
	const volatile uint64_t *q = p;
	uint64_t s0 = gen ? stamp0(file, pg, gen) : 0, e, v;
	size_t w, nw = psize / sizeof(uint64_t);

	for (w = 0; w < nw; w++) {
		e = gen ? stamp_word(s0, w) : 0;
		v = q[w];
		if (v != e) {
			*got = v;
			*exp = e;
			return w;
		}
	}
	return -1;
}

static void describe_gen(char *buf, size_t len, int file, unsigned long pg,
			 unsigned int gen)
{
	if (gen)
		snprintf(buf, len, "stamp(file %d page %lu gen %u)", file, pg,
			 gen);
	else
		snprintf(buf, len, "zeroes");
}

/* Name what a page holds from its word 0 (when word 0 was wrong). */
static void describe_word0(char *buf, size_t len, uint64_t v)
{
	if (!v)
		snprintf(buf, len, "zeroes");
	else if (v >> 56 == STAMP_MAGIC)
		snprintf(buf, len, "stamp(file %d page %lu gen %u)",
			 (int)(v >> 48 & 0xff), (unsigned long)(v >> 32 & 0xffff),
			 (unsigned int)v);
	else
		snprintf(buf, len, "%#llx", (unsigned long long)v);
}

/* ------------------------------------------------------------------ */

struct counters {
	unsigned long ops[NR_OPS];
	double op_ms[NR_OPS];
	unsigned long coll_calls, coll_ok, coll_eagain, coll_ebusy;
	unsigned long coll_enomem, coll_einval, coll_other;
	unsigned long ucoll_calls, ucoll_ok, ucoll_ebusy, ucoll_other;
	unsigned long seek_calls;
	unsigned long mincore_calls, mincore_pages;
	unsigned long pages_checked, pages_written;
	unsigned long shrink, grow, falloc_shared, falloc_excl, punch, refill;
	unsigned long uffd_regs, uffd_touched, uffd_holes, uffd_events;
	unsigned long skipped;
};

/* A worker's userfaultfd registration, as the handler sees it. */
struct uregion {
	atomic_int active;
	atomic_int inflight;		/* handler messages being worked on */
	unsigned long start, len;	/* valid while active */
	int file;
	unsigned long page0;		/* file page at start */
	unsigned int gen;		/* stamp of UFFDIO_COPY pages */
	bool zeropage;			/* resolve with UFFDIO_ZEROPAGE */
	atomic_uchar *event;		/* per page: a MISSING event came */
	atomic_uchar *filled;		/* per page: COPY/ZEROPAGE succeeded */
};

struct fmap {
	char *a;	/* MADV_NOHUGEPAGE: faults */
	char *b;	/* PMD aligned: collapse, faults, mincore */
	void *bres;
	char *u;	/* PMD aligned: userfaultfd registration */
	void *ures;
};

struct worker {
	int id;
	pthread_t th;
	uint64_t rng;
	struct fmap map[MAX_FILES];
	struct uregion ur;
	unsigned char *vec;
	unsigned char *conf;
	char *buf;
	atomic_int cur_op;
	atomic_int cur_file;
	struct counters c;
};

static struct worker workers[MAX_THREADS + 1];	/* + the final checker */
static int nr_workers;
static __thread struct worker *self;

static atomic_ulong h_msgs, h_copy, h_zero, h_eexist, h_eagain, h_stray;
static atomic_ulong h_other_event, h_errors;

static uint64_t rnd(struct worker *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static unsigned long rnd_below(struct worker *w, unsigned long n)
{
	return n ? rnd(w) % n : 0;
}

/* Report a violation: what was done, where, expected and seen. */
static void __attribute__((format(printf, 5, 6)))
violation(struct worker *w, int op, struct sfile *f, long pg,
	  const char *fmt, ...)
{
	unsigned long n = atomic_fetch_add(&nviolations, 1) + 1;
	char msg[768];
	va_list ap;

	atomic_fetch_add(&violations_by_op[op], 1);
	if (opt_stop_first)
		atomic_store(&stop, true);
	if (n > MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&print_lock);
	if (f && pg >= 0)
		printf("# VIOLATION %lu at %.3fs: thread %d op %s file %d (%s) offset %#llx (page %ld, extent %ld): %s\n",
		       n, elapsed(), w ? w->id : -1, op_table[op].name, f->id,
		       f->kind, (unsigned long long)pg * psize, pg,
		       pg / (long)ppe, msg);
	else
		printf("# VIOLATION %lu at %.3fs: thread %d op %s file %d: %s\n",
		       n, elapsed(), w ? w->id : -1, op_table[op].name,
		       f ? f->id : -1, msg);
	if (n == MAX_REPORTS)
		printf("# (further violations are counted, not printed)\n");
	fflush(stdout);
	pthread_mutex_unlock(&print_lock);
}

static void set_op(struct worker *w, int op, int file)
{
	atomic_store(&w->cur_op, op);
	atomic_store(&w->cur_file, file);
}

/* ------------------------------------------------------------------ */

static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static long long vmstat(const char *name)
{
	static char buf[65536];
	size_t len = strlen(name);
	ssize_t n, got = 0;
	char *p;
	int fd;

	fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, name, len) && p[len] == ' ')
			return strtoll(p + len + 1, NULL, 10);
	}
	return -1;
}

/* Map the whole file at a PMD-aligned address. */
static char *map_aligned(int fd, void **res)
{
	char *p = reserve_aligned(fbytes, res);

	if (!p)
		return NULL;
	if (mmap(p, fbytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED) {
		munmap(*res, fbytes + pmdsize);
		return NULL;
	}
	return p;
}

static void die(const char *what)
{
	printf("stress: error: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	_exit(1);
}

static void map_a(struct worker *w, struct sfile *f)
{
	char *p = mmap(NULL, fbytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		       f->fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	/* Faults through this one allocate small pages. */
	if (madvise(p, fbytes, MADV_NOHUGEPAGE))
		die("MADV_NOHUGEPAGE");
	w->map[f->id].a = p;
}

static void map_b(struct worker *w, struct sfile *f)
{
	w->map[f->id].b = map_aligned(f->fd, &w->map[f->id].bres);
	if (!w->map[f->id].b)
		die("mmap");
}

static void map_u(struct worker *w, struct sfile *f)
{
	w->map[f->id].u = map_aligned(f->fd, &w->map[f->id].ures);
	if (!w->map[f->id].u)
		die("mmap");
	if (madvise(w->map[f->id].u, fbytes, MADV_NOHUGEPAGE))
		die("MADV_NOHUGEPAGE");
}

static void map_all(struct worker *w)
{
	int i;

	for (i = 0; i < opt_files; i++) {
		map_a(w, &files[i]);
		map_b(w, &files[i]);
		map_u(w, &files[i]);
	}
}

static void rdlock(struct sfile *f)
{
	pthread_rwlock_rdlock(&f->layout);
}

static void wrlock(struct sfile *f)
{
	pthread_rwlock_wrlock(&f->layout);
}

static void unlock(struct sfile *f)
{
	pthread_rwlock_unlock(&f->layout);
}

/* A random extent with a page below EOF; its pages are [*first, *last). */
static bool pick_extent(struct worker *w, struct sfile *f, unsigned long *e,
			unsigned long *first, unsigned long *last)
{
	unsigned long size = atomic_load(&f->size);
	unsigned long n = (size + ppe - 1) / ppe;

	if (!n)
		return false;
	*e = rnd_below(w, n);
	*first = *e * ppe;
	*last = *first + ppe < size ? *first + ppe : size;
	return true;
}

/* A page of [first, last) that holds data, starting the search at random. */
static long find_data(struct worker *w, struct sfile *f, unsigned long first,
		      unsigned long last)
{
	unsigned long n = last - first, s = rnd_below(w, n), i, pg;

	for (i = 0; i < n; i++) {
		pg = first + (s + i) % n;
		if (atomic_load(&f->state[pg]) == PG_DATA)
			return pg;
	}
	return -1;
}

static ssize_t pread_full(int fd, char *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, buf + done, len - done, off + done);
		if (n < 0)
			return -1;
		if (!n)
			break;
		done += n;
	}
	return done;
}

/*
 * Compare pages [from, to) with the model; base points to page from.
 * The caller holds the extent's mutex.  False after a violation.
 */
static bool check_pages(struct worker *w, int op, struct sfile *f,
			unsigned long from, unsigned long to, const char *base,
			const char *how)
{
	char e[64], s[64];
	unsigned long pg;
	unsigned int gen;
	uint64_t got, exp;
	long bad;

	for (pg = from; pg < to; pg++) {
		gen = model_gen(f, pg);
		bad = page_bad(base + (pg - from) * psize, f->id, pg, gen,
			       &got, &exp);
		w->c.pages_checked++;
		if (bad < 0)
			continue;
		describe_gen(e, sizeof(e), f->id, pg, gen);
		if (bad)
			snprintf(s, sizeof(s), "word %ld = %#llx, not %#llx",
				 bad, (unsigned long long)got,
				 (unsigned long long)exp);
		else
			describe_word0(s, sizeof(s), got);
		violation(w, op, f, pg,
			  "content via %s: expected %s (model %s), seen %s",
			  how, e,
			  atomic_load(&f->state[pg]) == PG_DATA ? "written" :
			  atomic_load(&f->state[pg]) == PG_FALLOC ?
			  "fallocated" : "hole", s);
		return false;
	}
	return true;
}

/* pread pages [from, to) and compare them. */
static bool check_pread(struct worker *w, int op, struct sfile *f,
			unsigned long from, unsigned long to)
{
	size_t len = (to - from) * psize;
	ssize_t n = pread_full(f->fd, w->buf, len, from * psize);

	if (n != (ssize_t)len) {
		violation(w, op, f, from,
			  "pread of %zu bytes below EOF returned %zd (%s)",
			  len, n, n < 0 ? strerror(errno) : "short");
		return false;
	}
	return check_pages(w, op, f, from, to, w->buf, "pread");
}

/* ------------------------------------------------------------------ */

static void pick_run(struct worker *w, unsigned long first, unsigned long last,
		     unsigned long max, unsigned long *from, unsigned long *to);

static void count_collapse(struct worker *w, int ret, int err)
{
	w->c.coll_calls++;
	if (!ret) {
		w->c.coll_ok++;
		return;
	}
	switch (err) {
	case EAGAIN:
		w->c.coll_eagain++;
		break;
	case EBUSY:
		w->c.coll_ebusy++;
		break;
	case ENOMEM:
		w->c.coll_enomem++;
		break;
	case EINVAL:
		w->c.coll_einval++;
		break;
	default:
		w->c.coll_other++;
	}
}

/*
 * Fault in a page of extent e through mapping b, so that it has a page
 * table.  A written page needs no lock (it stays data under the shared
 * layout lock); a hole would be filled, so that takes the extent lock.
 */
static void prefault(struct worker *w, struct sfile *f, char *b,
		     unsigned long e)
{
	unsigned long first = e * ppe, size = atomic_load(&f->size), last;
	long pg;

	if (first >= size)
		return;
	last = first + ppe < size ? first + ppe : size;
	pg = find_data(w, f, first, last);
	if (pg >= 0) {
		touch(b + pg * psize);
		return;
	}
	pthread_mutex_lock(&f->ext[e]);
	touch(b + (first + rnd_below(w, last - first)) * psize);
	pthread_mutex_unlock(&f->ext[e]);
}

static void op_collapse(struct worker *w, struct sfile *f)
{
	unsigned long e, first, last, n = 1, k, size, from, to;
	char *b = w->map[f->id].b;
	int ret, err;

	rdlock(f);
	if (!pick_extent(w, f, &e, &first, &last)) {
		w->c.skipped++;
		goto out;
	}
	size = atomic_load(&f->size);
	if (!rnd_below(w, 8) && (e + 2) * ppe <= size)
		n = 2;
	for (k = e; k < e + n; k++)
		prefault(w, f, b, k);
	ret = madvise(b + e * pmdsize, n * pmdsize, MADV_COLLAPSE);
	err = ret ? errno : 0;
	count_collapse(w, ret, err);
	if (ret)
		goto out;
	/*
	 * Collapsed: every page must hold what it held, through the mapping
	 * (now of the huge page); and a window of it through pread.
	 */
	for (k = e; k < e + n; k++) {
		first = k * ppe;
		last = first + ppe < size ? first + ppe : size;
		pthread_mutex_lock(&f->ext[k]);
		pick_run(w, first, last, 32, &from, &to);
		if (check_pages(w, OP_COLLAPSE, f, first, last,
				b + first * psize,
				"the collapsed mapping after MADV_COLLAPSE returned 0"))
			check_pread(w, OP_COLLAPSE, f, from, to);
		pthread_mutex_unlock(&f->ext[k]);
	}
out:
	unlock(f);
}

/* ------------------------------------------------------------------ */

static const char *whence_name(int whence)
{
	return whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE";
}

static void fmt_off(char *buf, size_t len, off_t off, int err)
{
	if (off < 0)
		snprintf(buf, len, "-1 (%s)", strerror(err));
	else
		snprintf(buf, len, "%#llx", (long long)off);
}

/*
 * lseek(off, whence) = ans claimed that page pg, data before the call,
 * is a hole: a violation, whatever a second lseek says.  The report adds
 * SEEK_DATA of the page alone, asked right after.
 */
static void seek_hole_claimed(struct worker *w, int op, struct sfile *f,
			      unsigned long pg, int whence, off_t off,
			      off_t ans, int ans_err)
{
	off_t o = pg * psize, d;
	char a[48], c[48], e[64];
	int err;

	d = lseek(f->fd, o, SEEK_DATA);
	err = errno;
	w->c.seek_calls++;
	fmt_off(a, sizeof(a), ans, ans_err);
	fmt_off(c, sizeof(c), d, err);
	describe_gen(e, sizeof(e), f->id, pg, atomic_load(&f->gen[pg]));
	violation(w, op, f, pg,
		  "%s(%#llx) = %s reports the page as a hole (SEEK_DATA(%#llx) right after: %s); expected data: the page holds %s, written before the call",
		  whence_name(whence), (long long)off, a, (long long)o, c, e);
}

/* Pages [from, to) were claimed holes: none may be known data. */
static bool seek_holes(struct worker *w, int op, struct sfile *f,
		       unsigned long from, unsigned long to, unsigned long s0,
		       int whence, off_t off, off_t ans, int err)
{
	unsigned long pg;

	for (pg = from; pg < to; pg++) {
		if (must_be_data(f, pg, s0)) {
			seek_hole_claimed(w, op, f, pg, whence, off, ans, err);
			return false;
		}
	}
	return true;
}

/* One SEEK_DATA/SEEK_HOLE walk from page start; layout lock held. */
static void seek_walk(struct worker *w, int op, struct sfile *f,
		      unsigned long start)
{
	unsigned long size = atomic_load(&f->size), s0;
	off_t end = size * psize, off = start * psize, d, h;
	int err;

	while (off < end) {
		s0 = atomic_load(&gseq);
		d = lseek(f->fd, off, SEEK_DATA);
		err = errno;
		w->c.seek_calls++;
		if (d < 0) {
			if (err != ENXIO) {
				violation(w, op, f, off / psize,
					  "SEEK_DATA(%#llx): %s", (long long)off,
					  strerror(err));
				return;
			}
			/* [off, EOF) is a hole */
			seek_holes(w, op, f, off / psize, size, s0, SEEK_DATA,
				   off, d, err);
			return;
		}
		if (d < off || d >= end || d % psize) {
			violation(w, op, f, off / psize,
				  "SEEK_DATA(%#llx) = %#llx: expected a page offset in [%#llx, %#llx)",
				  (long long)off, (long long)d, (long long)off,
				  (long long)end);
			return;
		}
		if (!seek_holes(w, op, f, off / psize, d / psize, s0,
				SEEK_DATA, off, d, 0))
			return;
		s0 = atomic_load(&gseq);
		h = lseek(f->fd, d, SEEK_HOLE);
		err = errno;
		w->c.seek_calls++;
		if (h < 0 || h < d || h > end || h % psize) {
			violation(w, op, f, d / psize,
				  "SEEK_HOLE(%#llx) = %lld (%s): expected a page offset in [%#llx, %#llx]",
				  (long long)d, (long long)h,
				  h < 0 ? strerror(err) : "out of range",
				  (long long)d, (long long)end);
			return;
		}
		if (h < end &&
		    !seek_holes(w, op, f, h / psize, h / psize + 1, s0,
				SEEK_HOLE, d, h, 0))
			return;
		/* h == d: the data went away (a rolled back collapse) */
		off = h > d ? h : d + (off_t)psize;
	}
}

static void op_seek(struct worker *w, struct sfile *f)
{
	unsigned long size;

	rdlock(f);
	size = atomic_load(&f->size);
	seek_walk(w, OP_SEEK, f, rnd_below(w, 4) ? 0 : rnd_below(w, size));
	unlock(f);
}

/* ------------------------------------------------------------------ */

/* mincore() of a whole mapping of f; layout lock held. */
static void mincore_check(struct worker *w, int op, struct sfile *f,
			  char *addr, const char *which)
{
	unsigned long size = atomic_load(&f->size), s0, pg;
	char e[64];

	if (!size)
		return;
	s0 = atomic_load(&gseq);
	w->c.mincore_calls++;
	if (mincore(addr, size * psize, w->vec)) {
		violation(w, op, f, -1, "mincore(%s mapping): %s", which,
			  strerror(errno));
		return;
	}
	for (pg = 0; pg < size; pg++) {
		if (!must_be_data(f, pg, s0))
			continue;
		w->c.mincore_pages++;
		if (w->vec[pg] & 1)
			continue;
		describe_gen(e, sizeof(e), f->id, pg, atomic_load(&f->gen[pg]));
		violation(w, op, f, pg,
			  "mincore(%s mapping) = %#x: expected resident, the page holds %s, written before the call",
			  which, w->vec[pg], e);
		return;
	}
}

static void op_mincore(struct worker *w, struct sfile *f)
{
	bool b = rnd_below(w, 2);

	rdlock(f);
	mincore_check(w, OP_MINCORE, f,
		      b ? w->map[f->id].b : w->map[f->id].a,
		      b ? "faulted, collapsed" : "faulted, NOHUGEPAGE");
	unlock(f);
}

static void mincore_fresh(struct worker *w, int op, struct sfile *f)
{
	char *p = mmap(NULL, fbytes, PROT_READ, MAP_SHARED, f->fd, 0);

	if (p == MAP_FAILED) {
		violation(w, op, f, -1, "mmap: %s", strerror(errno));
		return;
	}
	mincore_check(w, op, f, p, "never faulted");
	munmap(p, fbytes);
}

static void op_mincore_fresh(struct worker *w, struct sfile *f)
{
	rdlock(f);
	mincore_fresh(w, OP_MINCORE_FRESH, f);
	unlock(f);
}

/* ------------------------------------------------------------------ */

/* A random run of at most max pages inside [first, last). */
static void pick_run(struct worker *w, unsigned long first, unsigned long last,
		     unsigned long max, unsigned long *from, unsigned long *to)
{
	unsigned long n = 1 + rnd_below(w, max);

	*from = first + rnd_below(w, last - first);
	*to = *from + n < last ? *from + n : last;
}

static void op_read_fault(struct worker *w, struct sfile *f)
{
	unsigned long e, first, last, from, to, pg;
	bool via_b = rnd_below(w, 2), holes = !rnd_below(w, 4);
	char *m = via_b ? w->map[f->id].b : w->map[f->id].a;

	rdlock(f);
	if (!pick_extent(w, f, &e, &first, &last)) {
		w->c.skipped++;
		goto out;
	}
	pick_run(w, first, last, 32, &from, &to);
	pthread_mutex_lock(&f->ext[e]);
	for (pg = from; pg < to; pg++) {
		/* Mostly leave holes alone: reading one fills it. */
		if (!holes && atomic_load(&f->state[pg]) != PG_DATA)
			continue;
		if (!check_pages(w, OP_READ_FAULT, f, pg, pg + 1,
				 m + pg * psize,
				 via_b ? "read faults (mapping B)" :
				 "read faults (NOHUGEPAGE mapping)"))
			break;
	}
	pthread_mutex_unlock(&f->ext[e]);
out:
	unlock(f);
}

static void op_write_fault(struct worker *w, struct sfile *f)
{
	unsigned long e, first, last, from, to, pg;
	bool via_b = rnd_below(w, 2);
	char *m = via_b ? w->map[f->id].b : w->map[f->id].a;
	unsigned int gen;

	rdlock(f);
	if (!pick_extent(w, f, &e, &first, &last)) {
		w->c.skipped++;
		goto out;
	}
	pick_run(w, first, last, 16, &from, &to);
	pthread_mutex_lock(&f->ext[e]);
	for (pg = from; pg < to; pg++) {
		gen = new_gen();
		stamp_fill(m + pg * psize, f->id, pg, gen);
		model_data(f, pg, gen);
		w->c.pages_written++;
	}
	pthread_mutex_unlock(&f->ext[e]);
out:
	unlock(f);
}

static void op_pread(struct worker *w, struct sfile *f)
{
	unsigned long e, first, last, from, to;

	rdlock(f);
	if (!pick_extent(w, f, &e, &first, &last)) {
		w->c.skipped++;
		goto out;
	}
	/* Mostly a run of pages, now and then the whole extent. */
	if (rnd_below(w, 4)) {
		pick_run(w, first, last, 128, &from, &to);
	} else {
		from = first;
		to = last;
	}
	pthread_mutex_lock(&f->ext[e]);
	check_pread(w, OP_PREAD, f, from, to);
	pthread_mutex_unlock(&f->ext[e]);
out:
	unlock(f);
}

/* Write pages [from, to) with pwrite and record them; locks held. */
static bool write_run(struct worker *w, int op, struct sfile *f,
		      unsigned long from, unsigned long to)
{
	unsigned long pg, n = to - from, i, chunk, max = ppe < 512 ? ppe : 512;
	unsigned int gen[512];

	for (i = 0; i < n; i += chunk) {
		chunk = n - i < max ? n - i : max;
		for (pg = 0; pg < chunk; pg++) {
			gen[pg] = new_gen();
			stamp_fill(w->buf + pg * psize, f->id,
				   from + i + pg, gen[pg]);
		}
		if (!pwrite_full(f->fd, w->buf, chunk * psize,
				 (from + i) * psize)) {
			violation(w, op, f, from + i, "pwrite: %s",
				  strerror(errno));
			return false;
		}
		for (pg = 0; pg < chunk; pg++)
			model_data(f, from + i + pg, gen[pg]);
		w->c.pages_written += chunk;
	}
	return true;
}

static void op_pwrite(struct worker *w, struct sfile *f)
{
	unsigned long e, first, last, from, to;

	rdlock(f);
	if (!pick_extent(w, f, &e, &first, &last)) {
		w->c.skipped++;
		goto out;
	}
	pick_run(w, first, last, 32, &from, &to);
	pthread_mutex_lock(&f->ext[e]);
	write_run(w, OP_PWRITE, f, from, to);
	pthread_mutex_unlock(&f->ext[e]);
out:
	unlock(f);
}

/* ------------------------------------------------------------------ */

static void op_truncate(struct worker *w, struct sfile *f)
{
	unsigned long size, n, pg;

	wrlock(f);
	size = atomic_load(&f->size);
	if (size < fpages && rnd_below(w, 3)) {
		/* Mostly grow back to full size: collapse wants extents. */
		n = rnd_below(w, 2) ? fpages :
		    size + 1 + rnd_below(w, fpages - size);
	} else {
		n = 1 + rnd_below(w, size ? size : 1);
		if (rnd_below(w, 2) && n >= ppe)
			n -= n % ppe;
	}
	if (ftruncate(f->fd, n * psize)) {
		violation(w, OP_TRUNCATE, f, n, "ftruncate: %s",
			  strerror(errno));
		goto out;
	}
	if (n < size) {
		/* Everything from n on is gone, even fallocated past EOF. */
		for (pg = n; pg < fpages; pg++)
			model_hole(f, pg);
		w->c.shrink++;
	} else if (n > size) {
		w->c.grow++;
	}
	atomic_store(&f->size, n);
out:
	unlock(f);
}

static void mark_falloc(struct sfile *f, unsigned long from, unsigned long to)
{
	unsigned long pg;

	for (pg = from; pg < to; pg++)
		if (atomic_load(&f->state[pg]) == PG_HOLE)
			atomic_store(&f->state[pg], PG_FALLOC);
}

static void op_falloc(struct worker *w, struct sfile *f)
{
	unsigned long e, first, last, from, to, size;
	int mode;

	if (rnd_below(w, 4)) {
		/* Inside one extent below EOF: races with collapse. */
		rdlock(f);
		if (!pick_extent(w, f, &e, &first, &last)) {
			w->c.skipped++;
			unlock(f);
			return;
		}
		pick_run(w, first, last, 64, &from, &to);
		mode = rnd_below(w, 2) ? FALLOC_FL_KEEP_SIZE : 0;
		pthread_mutex_lock(&f->ext[e]);
		if (fallocate(f->fd, mode, from * psize, (to - from) * psize))
			violation(w, OP_FALLOC, f, from, "fallocate: %s",
				  strerror(errno));
		else
			mark_falloc(f, from, to);
		pthread_mutex_unlock(&f->ext[e]);
		w->c.falloc_shared++;
		unlock(f);
		return;
	}
	/* Anywhere, past EOF too: may grow the file. */
	wrlock(f);
	size = atomic_load(&f->size);
	from = rnd_below(w, fpages);
	to = from + 1 + rnd_below(w, ppe);
	if (to > fpages)
		to = fpages;
	mode = rnd_below(w, 2) ? FALLOC_FL_KEEP_SIZE : 0;
	if (fallocate(f->fd, mode, from * psize, (to - from) * psize)) {
		violation(w, OP_FALLOC, f, from, "fallocate: %s",
			  strerror(errno));
	} else {
		mark_falloc(f, from, to);
		if (!mode && to > size)
			atomic_store(&f->size, to);
	}
	w->c.falloc_excl++;
	unlock(f);
}

static bool punch(struct worker *w, int op, struct sfile *f,
		  unsigned long from, unsigned long to)
{
	unsigned long pg;

	if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      from * psize, (to - from) * psize)) {
		violation(w, op, f, from, "FALLOC_FL_PUNCH_HOLE: %s",
			  strerror(errno));
		return false;
	}
	for (pg = from; pg < to; pg++)
		model_hole(f, pg);
	return true;
}

static void op_punch(struct worker *w, struct sfile *f)
{
	unsigned long from, to;

	wrlock(f);
	if (!rnd_below(w, 3)) {
		from = rnd_below(w, nr_ext) * ppe;
		to = from + ppe;
	} else {
		from = rnd_below(w, fpages);
		to = from + 1 + rnd_below(w, 64);
		if (to > fpages)
			to = fpages;
	}
	punch(w, OP_PUNCH, f, from, to);
	w->c.punch++;
	unlock(f);
}

/*
 * Rebuild extent e from small pages: punch it, then write data with holes
 * and fallocated runs in it, so that the next collapse has work.  The
 * layout lock is held exclusive.
 */
static void refill_extent(struct worker *w, int op, struct sfile *f,
			  unsigned long e, int layout)
{
	unsigned long first = e * ppe, size = atomic_load(&f->size);
	unsigned long last = first + ppe < size ? first + ppe : size;
	unsigned long pg, run, i;
	int what;

	if (!punch(w, op, f, first, first + ppe))
		return;
	for (pg = first; pg < last; pg += run) {
		run = 1 + rnd_below(w, layout == 0 ? ppe : 24);
		if (pg + run > last)
			run = last - pg;
		i = rnd_below(w, 8);
		switch (layout) {
		case 0:		/* all data */
			what = PG_DATA;
			break;
		case 1:		/* data and holes */
			what = i < 6 ? PG_DATA : PG_HOLE;
			break;
		case 2:		/* data, fallocated and holes */
			what = i < 5 ? PG_DATA : i < 7 ? PG_FALLOC : PG_HOLE;
			break;
		default:	/* sparse */
			what = i < 2 ? PG_DATA : i < 3 ? PG_FALLOC : PG_HOLE;
			break;
		}
		if (what == PG_DATA) {
			if (!write_run(w, op, f, pg, pg + run))
				return;
		} else if (what == PG_FALLOC) {
			if (fallocate(f->fd, FALLOC_FL_KEEP_SIZE, pg * psize,
				      run * psize)) {
				violation(w, op, f, pg, "fallocate: %s",
					  strerror(errno));
				return;
			}
			mark_falloc(f, pg, pg + run);
		}
	}
	w->c.refill++;
}

static void op_refill(struct worker *w, struct sfile *f)
{
	unsigned long e, first, last;

	wrlock(f);
	if (pick_extent(w, f, &e, &first, &last))
		refill_extent(w, OP_REFILL, f, e, rnd_below(w, 4));
	else
		w->c.skipped++;
	unlock(f);
}

static void op_remap(struct worker *w, struct sfile *f)
{
	struct fmap *m = &w->map[f->id];
	int which = rnd_below(w, 4);

	/* Only this thread uses these mappings: no lock needed. */
	if (which == 0 || which == 3) {
		munmap(m->a, fbytes);
		map_a(w, f);
	}
	if (which == 1 || which == 3) {
		munmap(m->bres, fbytes + pmdsize);
		map_b(w, f);
	}
	if (which == 2 || which == 3) {
		munmap(m->ures, fbytes + pmdsize);
		map_u(w, f);
	}
}

/* ------------------------------------------------------------------ */

/*
 * The userfaultfd handler: resolves every MISSING fault of a registered
 * region with UFFDIO_COPY (the region's stamp) or UFFDIO_ZEROPAGE.  It
 * takes no lock: the faulting thread holds the file's locks while it
 * waits for us.
 */
static void uffd_wake(unsigned long addr)
{
	struct uffdio_range r = { .start = addr, .len = psize };

	if (ioctl(uffd, UFFDIO_WAKE, &r))
		atomic_fetch_add(&h_errors, 1);
}

static void handle_fault(const struct uffd_msg *m, char *page)
{
	unsigned long addr, idx;
	struct uregion *r = NULL;
	struct uffdio_zeropage z;
	struct uffdio_copy cp;
	int i, ret, tries;

	if (m->event != UFFD_EVENT_PAGEFAULT) {
		atomic_fetch_add(&h_other_event, 1);
		return;
	}
	addr = m->arg.pagefault.address & ~(unsigned long)(psize - 1);
	for (i = 0; i < nr_workers; i++) {
		r = &workers[i].ur;
		/* Pairs with the worker's active = 0, then inflight == 0. */
		atomic_fetch_add(&r->inflight, 1);
		if (atomic_load(&r->active) && addr >= r->start &&
		    addr < r->start + r->len)
			break;
		atomic_fetch_sub(&r->inflight, 1);
	}
	if (i == nr_workers) {
		atomic_fetch_add(&h_stray, 1);
		uffd_wake(addr);
		return;
	}
	idx = (addr - r->start) / psize;
	atomic_store(&r->event[idx], 1);
	if (!r->zeropage)
		stamp_fill(page, r->file, r->page0 + idx, r->gen);
	for (tries = 0;; tries++) {
		if (r->zeropage) {
			z = (struct uffdio_zeropage){
				.range = { .start = addr, .len = psize },
			};
			ret = ioctl(uffd, UFFDIO_ZEROPAGE, &z);
		} else {
			cp = (struct uffdio_copy){
				.dst = addr, .src = (unsigned long)page,
				.len = psize,
			};
			ret = ioctl(uffd, UFFDIO_COPY, &cp);
		}
		if (!ret) {
			atomic_store(&r->filled[idx], 1);
			atomic_fetch_add(r->zeropage ? &h_zero : &h_copy, 1);
			break;
		}
		if (errno == EAGAIN && tries < 1000) {
			atomic_fetch_add(&h_eagain, 1);
			sched_yield();
			continue;
		}
		if (errno == EEXIST) {
			/* Filled meanwhile: wake the faulter, it retries. */
			atomic_fetch_add(&h_eexist, 1);
		} else {
			atomic_fetch_add(&h_errors, 1);
			violation(NULL, OP_HANDLER, &files[r->file],
				  r->page0 + idx, "%s: %s",
				  r->zeropage ? "UFFDIO_ZEROPAGE" : "UFFDIO_COPY",
				  strerror(errno));
		}
		uffd_wake(addr);
		break;
	}
	atomic_fetch_sub(&r->inflight, 1);
}

static void *handler_fn(void *arg)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg[16];
	char *page = aligned_alloc(psize, psize);
	ssize_t n;
	int i;

	(void)arg;
	if (!page)
		die("aligned_alloc");
	while (!atomic_load(&handler_stop)) {
		/* The timeout only bounds how late we see handler_stop. */
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(uffd, msg, sizeof(msg));
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				die("read(userfaultfd)");
			continue;
		}
		for (i = 0; i < n / (ssize_t)sizeof(msg[0]); i++) {
			atomic_fetch_add(&h_msgs, 1);
			handle_fault(&msg[i], page);
		}
	}
	free(page);
	return NULL;
}

static int uffd_register(unsigned long start, unsigned long len,
			 __u64 *ioctls)
{
	struct uffdio_register reg = {
		.range = { .start = start, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int ret = ioctl(uffd, UFFDIO_REGISTER, &reg);

	if (!ret && ioctls)
		*ioctls = reg.ioctls;
	return ret;
}

static int uffd_unregister(unsigned long start, unsigned long len)
{
	struct uffdio_range r = { .start = start, .len = len };

	return ioctl(uffd, UFFDIO_UNREGISTER, &r);
}

static void wait_inflight(struct uregion *r)
{
	while (atomic_load(&r->inflight))
		sched_yield();
}

/* After reading page pg through the registered mapping: check it. */
static bool uffd_check_page(struct worker *w, struct sfile *f,
			    unsigned long pg, const char *p)
{
	struct uregion *r = &w->ur;
	unsigned long idx = pg - r->page0;
	bool ev = atomic_load(&r->event[idx]);
	bool filled = atomic_load(&r->filled[idx]);
	bool data = atomic_load(&f->state[pg]) == PG_DATA;
	const char *ioc = r->zeropage ? "UFFDIO_ZEROPAGE" : "UFFDIO_COPY";
	unsigned int want;
	char e[64], s[80];
	uint64_t got, exp;
	long bad;

	if (w->conf[idx]) {
		/* A hole after UFFDIO_REGISTER: only the handler fills it. */
		want = r->zeropage ? 0 : r->gen;
		bad = page_bad(p, f->id, pg, want, &got, &exp);
		if (ev && filled && bad < 0) {
			if (want)
				model_data(f, pg, want);
			return true;
		}
		describe_gen(e, sizeof(e), f->id, pg, want);
		describe_word0(s, sizeof(s), touch(p));
		violation(w, OP_UFFD, f, pg,
			  "a hole (SEEK_DATA said so after UFFDIO_REGISTER MODE_MISSING returned) was filled behind userfaultfd's back: expected a MISSING event and %s from %s, seen %s (the event %s, %s %s)",
			  e, ioc, s, ev ? "came" : "never came", ioc,
			  filled ? "filled it" : "did not fill it");
		return false;
	}
	/* Data, fallocated, or a hole that may have been filled before. */
	want = !data && filled && !r->zeropage ? r->gen : model_gen(f, pg);
	bad = page_bad(p, f->id, pg, want, &got, &exp);
	w->c.pages_checked++;
	if (bad < 0) {
		if (!data && want)
			model_data(f, pg, want);
		return true;
	}
	describe_gen(e, sizeof(e), f->id, pg, want);
	if (bad)
		snprintf(s, sizeof(s), "word %ld = %#llx, not %#llx", bad,
			 (unsigned long long)got, (unsigned long long)exp);
	else
		describe_word0(s, sizeof(s), got);
	violation(w, OP_UFFD, f, pg,
		  "content via the MODE_MISSING mapping: expected %s, seen %s (model %s; the event %s, %s %s)",
		  e, s, data ? "written" : "hole or fallocated",
		  ev ? "came" : "did not come", ioc,
		  filled ? "filled it" : "did not fill it");
	return false;
}

static void op_uffd(struct worker *w, struct sfile *f)
{
	unsigned long e, first, last, pg, n, i, nconf = 0;
	struct uregion *r = &w->ur;
	char *u = w->map[f->id].u, *b = w->map[f->id].b;
	int ret, err;
	off_t o, d;
	long dp;

	rdlock(f);
	if (!pick_extent(w, f, &e, &first, &last)) {
		w->c.skipped++;
		goto out;
	}
	pthread_mutex_lock(&f->ext[e]);
	r->start = (unsigned long)u + e * pmdsize;
	r->len = pmdsize;
	r->file = f->id;
	r->page0 = first;
	r->gen = new_gen();
	r->zeropage = have_zeropage && !rnd_below(w, 4);
	for (i = 0; i < ppe; i++) {
		atomic_store(&r->event[i], 0);
		atomic_store(&r->filled[i], 0);
	}
	memset(w->conf, 0, ppe);
	atomic_store(&r->active, 1);
	if (uffd_register(r->start, r->len, NULL)) {
		violation(w, OP_UFFD, f, first,
			  "UFFDIO_REGISTER MODE_MISSING: %s", strerror(errno));
		atomic_store(&r->active, 0);
		wait_inflight(r);
		goto unlock_ext;
	}
	w->c.uffd_regs++;

	/* Which holes are holes, now that the registration is in place? */
	for (pg = first; pg < last; pg++) {
		if (atomic_load(&f->state[pg]) != PG_HOLE)
			continue;
		o = pg * psize;
		d = lseek(f->fd, o, SEEK_DATA);
		w->c.seek_calls++;
		if (d != o && (d >= 0 || errno == ENXIO)) {
			w->conf[pg - first] = 1;
			nconf++;
		}
	}
	w->c.uffd_holes += nconf;

	/* Collapsing it now would fill the holes: must not succeed. */
	dp = find_data(w, f, first, last);
	if (nconf && dp >= 0 && !rnd_below(w, 3)) {
		touch(b + dp * psize);
		ret = madvise(b + e * pmdsize, pmdsize, MADV_COLLAPSE);
		err = ret ? errno : 0;
		w->c.ucoll_calls++;
		if (!ret) {
			w->c.ucoll_ok++;
			violation(w, OP_UFFD, f, first,
				  "MADV_COLLAPSE returned 0 on an extent registered MODE_MISSING with %lu holes (seen by SEEK_DATA after registering): expected a failure (EBUSY), the holes must stay holes",
				  nconf);
			/* Its holes are gone: one report is enough. */
			goto unregister;
		} else if (err == EBUSY) {
			w->c.ucoll_ebusy++;
		} else {
			w->c.ucoll_other++;
		}
	}

	/*
	 * Read a run of pages, and some of the holes, through it; after a
	 * violation, the rest would only repeat it.
	 */
	n = 1 + rnd_below(w, 32);
	i = first + rnd_below(w, last - first);
	for (pg = first; pg < last; pg++) {
		if (!(pg >= i && pg < i + n) &&
		    !(w->conf[pg - first] && !rnd_below(w, 4)))
			continue;
		touch(u + pg * psize);
		/* Let the handler finish with whatever it did for us. */
		wait_inflight(r);
		w->c.uffd_touched++;
		if (atomic_load(&r->event[pg - first]))
			w->c.uffd_events++;
		if (!uffd_check_page(w, f, pg, u + pg * psize))
			break;
	}
unregister:
	if (uffd_unregister(r->start, r->len))
		violation(w, OP_UFFD, f, first, "UFFDIO_UNREGISTER: %s",
			  strerror(errno));
	atomic_store(&r->active, 0);
	wait_inflight(r);
unlock_ext:
	pthread_mutex_unlock(&f->ext[e]);
out:
	unlock(f);
}

/* ------------------------------------------------------------------ */

static void (*const op_fn[NR_OPS])(struct worker *, struct sfile *) = {
	[OP_COLLAPSE]		= op_collapse,
	[OP_SEEK]		= op_seek,
	[OP_MINCORE]		= op_mincore,
	[OP_MINCORE_FRESH]	= op_mincore_fresh,
	[OP_READ_FAULT]		= op_read_fault,
	[OP_WRITE_FAULT]	= op_write_fault,
	[OP_PREAD]		= op_pread,
	[OP_PWRITE]		= op_pwrite,
	[OP_TRUNCATE]		= op_truncate,
	[OP_FALLOC]		= op_falloc,
	[OP_PUNCH]		= op_punch,
	[OP_REFILL]		= op_refill,
	[OP_REMAP]		= op_remap,
	[OP_UFFD]		= op_uffd,
};

static int total_weight;

static int pick_op(struct worker *w)
{
	int x = rnd_below(w, total_weight), op;

	for (op = 0; op < NR_OPS - 1; op++) {
		x -= op_table[op].weight;
		if (x < 0)
			break;
	}
	return op;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct sfile *f;
	double t0, t1;
	int op;

	self = w;
	t0 = elapsed();
	while (!atomic_load(&stop)) {
		op = pick_op(w);
		f = &files[rnd_below(w, opt_files)];
		set_op(w, op, f->id);
		op_fn[op](w, f);
		w->c.ops[op]++;
		t1 = elapsed();
		w->c.op_ms[op] += (t1 - t0) * 1e3;
		t0 = t1;
		if (t1 >= opt_seconds)
			break;
	}
	set_op(w, OP_IDLE, -1);
	return NULL;
}

static void worker_init(struct worker *w, int id)
{
	w->id = id;
	w->rng = (opt_seed + 1) * 0x9e3779b97f4a7c15ULL ^
		 (uint64_t)(id + 1) * 0xd1b54a32d192ed03ULL;
	if (!w->rng)
		w->rng = 1;
	w->vec = malloc(fpages);
	w->conf = malloc(ppe);
	w->buf = aligned_alloc(psize, pmdsize);
	w->ur.event = calloc(ppe, sizeof(*w->ur.event));
	w->ur.filled = calloc(ppe, sizeof(*w->ur.filled));
	if (!w->vec || !w->conf || !w->buf || !w->ur.event || !w->ur.filled)
		die("malloc");
	map_all(w);
	set_op(w, OP_IDLE, -1);
}

/* ------------------------------------------------------------------ */

static void file_init(struct sfile *f, int id, bool tmpfs)
{
	int kind = PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
	pthread_rwlockattr_t attr;
	char path[128];
	unsigned long e;

	f->id = id;
	f->fd = -1;
	if (tmpfs) {
		snprintf(path, sizeof(path), "/dev/shm/collapse_stress.%d.%d",
			 getpid(), id);
		f->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			     0600);
		if (f->fd >= 0) {
			unlink(path);
			f->kind = "tmpfs";
		}
	}
	if (f->fd < 0) {
		f->fd = memfd_create("collapse_stress", MFD_CLOEXEC);
		f->kind = "memfd";
	}
	if (f->fd < 0)
		die("memfd_create");
	if (ftruncate(f->fd, fbytes))
		die("ftruncate");
	atomic_store(&f->size, fpages);
	/* Writers must not starve behind a stream of readers. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, kind);
	pthread_rwlock_init(&f->layout, &attr);
	pthread_rwlockattr_destroy(&attr);
	for (e = 0; e < nr_ext; e++)
		pthread_mutex_init(&f->ext[e], NULL);
	f->state = calloc(fpages, sizeof(*f->state));
	f->gen = calloc(fpages, sizeof(*f->gen));
	f->dseq = calloc(fpages, sizeof(*f->dseq));
	if (!f->state || !f->gen || !f->dseq)
		die("calloc");
}

static bool on_tmpfs(const char *dir)
{
	struct statfs sfs;

	return !statfs(dir, &sfs) && sfs.f_type == TMPFS_MAGIC;
}

/* ------------------------------------------------------------------ */

static void skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(KSFT_SKIP);
}

static int uffd_open(void)
{
#ifdef __NR_userfaultfd
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && errno == EPERM)
		fd = syscall(__NR_userfaultfd,
			     O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	return fd;
#else
	errno = EOPNOTSUPP;	/* no userfaultfd syscall on this arch */
	return -1;
#endif
}

/* MODE_MISSING on a shmem mapping, with COPY; ZEROPAGE if offered. */
static void uffd_probe(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	__u64 ioctls = 0;
	char *p;
	int fd;

	uffd = uffd_open();
	if (uffd < 0)
		skip("userfaultfd unavailable: %s", strerror(errno));
	if (ioctl(uffd, UFFDIO_API, &api))
		skip("UFFDIO_API: %s", strerror(errno));
	fd = memfd_create("uffd_probe", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, psize))
		die("memfd_create");
	p = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	if (uffd_register((unsigned long)p, psize, &ioctls))
		skip("UFFDIO_REGISTER MODE_MISSING on shmem: %s",
		     strerror(errno));
	if (!(ioctls & (1ULL << _UFFDIO_COPY)))
		skip("UFFDIO_COPY not offered on shmem");
	have_zeropage = ioctls & (1ULL << _UFFDIO_ZEROPAGE);
	uffd_unregister((unsigned long)p, psize);
	munmap(p, psize);
	close(fd);
}

static void env_check(char *shmem_enabled, size_t len)
{
	char buf[256];
	int err;

	psize = sysconf(_SC_PAGESIZE);
	if (read_text(THP_SYSFS "shmem_enabled", shmem_enabled, len))
		skip("no shmem THP (" THP_SYSFS "shmem_enabled missing)");
	if (strstr(shmem_enabled, "[deny]"))
		skip("shmem THP disabled (shmem_enabled is deny)");
	pmdsize = 2UL << 20;
	if (!read_text(THP_SYSFS "hpage_pmd_size", buf, sizeof(buf)))
		pmdsize = strtoul(buf, NULL, 10);
	if (!pmdsize || pmdsize % psize)
		skip("unexpected hpage_pmd_size");
	ppe = pmdsize / psize;
	err = collapse_probe();
	if (err == EINVAL)
		skip("MADV_COLLAPSE unsupported (EINVAL on a written, faulted shmem extent)");
	if (err)
		skip("MADV_COLLAPSE of a written, faulted shmem extent: %s",
		     strerror(err));
	uffd_probe();
}

/* ------------------------------------------------------------------ */

static void *watchdog_fn(void *arg)
{
	struct timespec ts = t_start;
	unsigned long ops = 0, collapses = 0;
	int i, op;

	(void)arg;
	ts.tv_sec += opt_seconds + WATCHDOG_GRACE;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
	if (atomic_load(&finished))
		return NULL;
	pthread_mutex_lock(&print_lock);
	printf("stress: WATCHDOG: still running %d s after the start (-t %d + %d s): the kernel or this program is stuck\n",
	       opt_seconds + WATCHDOG_GRACE, opt_seconds, WATCHDOG_GRACE);
	for (i = 0; i <= nr_workers; i++) {
		op = atomic_load(&workers[i].cur_op);
		printf("# watchdog: %s %d in %s, file %d\n",
		       i < nr_workers ? "worker" : "main thread", i,
		       op_table[op].name, atomic_load(&workers[i].cur_file));
		for (op = 0; op < NR_OPS; op++)
			ops += workers[i].c.ops[op];
		collapses += workers[i].c.coll_ok;
	}
	/* The counters are read racily: good enough for a post-mortem. */
	printf("stress: seconds=%.0f ops=%lu collapses=%lu violations=%lu watchdog=1\n",
	       elapsed(), ops, collapses, atomic_load(&nviolations));
	fflush(stdout);
	_exit(1);
}

static void fatal_signal(int sig, siginfo_t *si, void *uc)
{
	char msg[256];
	int n, op = self ? atomic_load(&self->cur_op) : OP_IDLE;

	(void)uc;
	n = snprintf(msg, sizeof(msg),
		     "stress: fatal %s at %p in thread %d (op %s, file %d)\n",
		     sig == SIGBUS ? "SIGBUS" : "SIGSEGV", si->si_addr,
		     self ? self->id : -1, op_table[op].name,
		     self ? atomic_load(&self->cur_file) : -1);
	if (write(STDOUT_FILENO, msg, n) < 0)
		_exit(1);
	_exit(1);
}

/* With everything quiet, the whole of every file, once more. */
static void final_check(struct worker *w)
{
	unsigned long e, first, last, size;
	struct sfile *f;
	int i;

	for (i = 0; i < opt_files; i++) {
		f = &files[i];
		set_op(w, OP_FINAL, i);
		wrlock(f);
		size = atomic_load(&f->size);
		for (e = 0; e * ppe < size; e++) {
			first = e * ppe;
			last = first + ppe < size ? first + ppe : size;
			check_pread(w, OP_FINAL, f, first, last);
		}
		seek_walk(w, OP_FINAL, f, 0);
		mincore_fresh(w, OP_FINAL, f);
		unlock(f);
	}
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-t SECONDS] [-f NFILES] [-j THREADS] [-s SEED] [-e EXTENTS] [-x]\n"
		"  -t  how long to run (default 20)\n"
		"  -f  shmem files (default 4, at most %d)\n"
		"  -j  worker threads (default 4, at most %d)\n"
		"  -s  random seed (default: from the clock)\n"
		"  -e  huge-page extents per file (default 4, at most %d)\n"
		"  -x  stop at the first violation\n",
		prog, MAX_FILES, MAX_THREADS, MAX_EXTENTS);
	exit(2);
}

static long num_arg(const char *s, const char *prog, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*end || !*s || v < lo || v > hi)
		usage(prog);
	return v;
}

#define SUM(field) ({						\
	unsigned long __s = 0;					\
	for (int __i = 0; __i <= nr_workers; __i++)		\
		__s += workers[__i].c.field;			\
	__s; })

#define SUMF(field) ({						\
	double __s = 0;						\
	for (int __i = 0; __i <= nr_workers; __i++)		\
		__s += workers[__i].c.field;			\
	__s; })

int main(int argc, char **argv)
{
	char shmem_enabled[256];
	pthread_t handler, watchdog;
	struct sigaction sa = { 0 };
	struct timespec ts;
	bool tmpfs, seeded = false;
	long long alloc0, alloc1;
	unsigned long ops = 0;
	unsigned long e;
	int opt, op, i;
	double secs;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "t:f:j:s:e:xh")) != -1) {
		switch (opt) {
		case 't':
			opt_seconds = num_arg(optarg, argv[0], 1, 86400);
			break;
		case 'f':
			opt_files = num_arg(optarg, argv[0], 1, MAX_FILES);
			break;
		case 'j':
			opt_threads = num_arg(optarg, argv[0], 1, MAX_THREADS);
			break;
		case 's':
			opt_seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'e':
			nr_ext = num_arg(optarg, argv[0], 1, MAX_EXTENTS);
			break;
		case 'x':
			opt_stop_first = true;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);
	if (!seeded) {
		clock_gettime(CLOCK_REALTIME, &ts);
		opt_seed = ts.tv_sec ^ ts.tv_nsec ^ getpid();
	}

	env_check(shmem_enabled, sizeof(shmem_enabled));
	fpages = nr_ext * ppe;
	fbytes = fpages * psize;
	if (fpages > 0x10000) {
		printf("stress: error: files too large for the page stamps\n");
		return 1;
	}
	for (op = 0, total_weight = 0; op < NR_OPS; op++)
		total_weight += op_table[op].weight;

	sa.sa_sigaction = fatal_signal;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (pthread_create(&watchdog, NULL, watchdog_fn, NULL))
		die("pthread_create");

	tmpfs = on_tmpfs("/dev/shm");
	for (i = 0; i < opt_files; i++)
		file_init(&files[i], i, tmpfs && (i & 1));
	nr_workers = opt_threads;
	for (i = 0; i <= nr_workers; i++)
		worker_init(&workers[i], i);
	/* The final checker builds the first layout. */
	self = &workers[nr_workers];
	for (i = 0; i < opt_files; i++) {
		set_op(self, OP_REFILL, i);
		wrlock(&files[i]);
		for (e = 0; e < nr_ext; e++)
			refill_extent(self, OP_REFILL, &files[i], e, e % 4);
		unlock(&files[i]);
	}
	set_op(self, OP_IDLE, -1);
	self = NULL;

	printf("# stress: seed=%llu files=%d threads=%d seconds=%d extents=%lu pmd=%zuK shmem_enabled=\"%s\" /dev/shm=%s uffd_zeropage=%s\n",
	       (unsigned long long)opt_seed, opt_files, opt_threads,
	       opt_seconds, nr_ext, pmdsize >> 10, shmem_enabled,
	       tmpfs ? "tmpfs" : "not tmpfs", have_zeropage ? "yes" : "no");
	alloc0 = vmstat("thp_collapse_alloc");

	if (pthread_create(&handler, NULL, handler_fn, NULL))
		die("pthread_create");
	for (i = 0; i < nr_workers; i++)
		if (pthread_create(&workers[i].th, NULL, worker_fn,
				   &workers[i]))
			die("pthread_create");
	ts = t_start;
	ts.tv_sec += opt_seconds;
	while (!atomic_load(&stop) &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
	atomic_store(&stop, true);
	for (i = 0; i < nr_workers; i++)
		pthread_join(workers[i].th, NULL);
	atomic_store(&handler_stop, true);
	pthread_join(handler, NULL);
	final_check(&workers[nr_workers]);
	secs = elapsed();
	atomic_store(&finished, true);
	alloc1 = vmstat("thp_collapse_alloc");

	for (op = 0; op < NR_OPS; op++)
		ops += SUM(ops[op]);
	printf("# stats: ops: total=%lu", ops);
	for (op = 0; op < NR_OPS; op++)
		printf(" %s=%lu", op_table[op].name, SUM(ops[op]));
	printf(" skipped=%lu\n", SUM(skipped));
	printf("# stats: ms per op:");
	for (op = 0; op < NR_OPS; op++)
		printf(" %s=%.1f", op_table[op].name,
		       SUM(ops[op]) ? SUMF(op_ms[op]) / SUM(ops[op]) : 0.0);
	printf("\n");
	printf("# stats: collapse: calls=%lu ok=%lu EAGAIN=%lu EBUSY=%lu ENOMEM=%lu EINVAL=%lu other=%lu thp_collapse_alloc=%lld\n",
	       SUM(coll_calls), SUM(coll_ok), SUM(coll_eagain),
	       SUM(coll_ebusy), SUM(coll_enomem), SUM(coll_einval),
	       SUM(coll_other),
	       alloc0 >= 0 && alloc1 >= 0 ? alloc1 - alloc0 : -1LL);
	printf("# stats: collapse of a MODE_MISSING extent with holes: calls=%lu ok=%lu EBUSY=%lu other=%lu\n",
	       SUM(ucoll_calls), SUM(ucoll_ok), SUM(ucoll_ebusy),
	       SUM(ucoll_other));
	printf("# stats: seek: walks=%lu lseek=%lu\n",
	       SUM(ops[OP_SEEK]), SUM(seek_calls));
	printf("# stats: mincore: calls=%lu data_pages_checked=%lu\n",
	       SUM(mincore_calls), SUM(mincore_pages));
	printf("# stats: content: pages_checked=%lu pages_written=%lu\n",
	       SUM(pages_checked), SUM(pages_written));
	printf("# stats: layout: shrink=%lu grow=%lu fallocate=%lu (in extent %lu, anywhere %lu) punch=%lu refill=%lu remap=%lu\n",
	       SUM(shrink), SUM(grow), SUM(falloc_shared) + SUM(falloc_excl),
	       SUM(falloc_shared), SUM(falloc_excl), SUM(punch), SUM(refill),
	       SUM(ops[OP_REMAP]));
	printf("# stats: uffd: registrations=%lu pages_read=%lu confirmed_holes=%lu events_seen=%lu messages=%lu copy=%lu zeropage=%lu eexist=%lu eagain=%lu stray=%lu other_events=%lu errors=%lu\n",
	       SUM(uffd_regs), SUM(uffd_touched), SUM(uffd_holes),
	       SUM(uffd_events), atomic_load(&h_msgs), atomic_load(&h_copy),
	       atomic_load(&h_zero), atomic_load(&h_eexist),
	       atomic_load(&h_eagain), atomic_load(&h_stray),
	       atomic_load(&h_other_event), atomic_load(&h_errors));
	printf("# stats: violations:");
	for (op = 0; op <= OP_IDLE; op++)
		if (atomic_load(&violations_by_op[op]))
			printf(" %s=%lu", op_table[op].name,
			       atomic_load(&violations_by_op[op]));
	printf(" total=%lu\n", atomic_load(&nviolations));
	printf("stress: seconds=%.0f ops=%lu collapses=%lu violations=%lu\n",
	       secs, ops, SUM(coll_ok), atomic_load(&nviolations));
	return atomic_load(&nviolations) ? 1 : 0;
}
