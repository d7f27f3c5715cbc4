// SPDX-License-Identifier: GPL-2.0
/*
 * movecharge: memcg v1 charge moving against shmem collapse and mincore.
 *
 * The scenario of Hugh Dickins' NAK of v5 3/3 of "mm/khugepaged: fix
 * khugepaged+shmem races": memcg v1 move-charge (mc_handle_file_pte())
 * and mincore() look up the page cache for a pte_none entry while holding
 * the page table lock.  If collapse_file() left old pages findable with
 * their refcount frozen, such a lookup would spin under that lock while
 * collapse_file() spins for the same lock to unmap a later page of the
 * range: a deadlock.  This program sets that up and checks it does not
 * hang:
 *
 *  - a child process (the "victim") joins memcg A of a cgroup v1 memory
 *    hierarchy (mounted here if it is not), then creates a memfd of a few
 *    huge-page extents, writes them with small pages and faults every
 *    other page in through a PMD-aligned mapping, so each extent has a
 *    page table with present and none ptes over pages in the page cache;
 *  - its threads run, one per extent, MADV_COLLAPSE of the extent (and
 *    when it worked, check the content and rebuild the extent from small
 *    pages), and, in other threads, mincore() over the whole mapping;
 *  - the parent moves the child back and forth between A and B, which
 *    both have memory.move_charge_at_immigrate = 3, by writing its pid to
 *    cgroup.procs (now and then to tasks), in a tight loop.
 *
 * Every move, collapse and mincore call is counted; "# stats:" lines and
 * "movecharge: seconds=N moves=N collapses=N mincore=N" are printed at
 * the end.  Exit status 0, or 1 if something went wrong (a content
 * mismatch after a collapse, a failed move), or 4 (kselftest SKIP) if
 * cgroup v1 memory, move_charge_at_immigrate, MADV_COLLAPSE or root are
 * not available.  A watchdog ends the run with a message if it is still
 * going 60 s after its time was up: a deadlock shows as a failure.
 * Everything created (groups, mounts) is removed at the end.  (With the
 * kernel deadlocked in a PREEMPT_NONE kernel, the watchdog may not get to
 * run at all: the soft lockup and hung task reports tell then.)
 *
 * Usage: movecharge [-t SECONDS] [-e EXTENTS] [-j MINCORE_THREADS]
 * -t how long (10), -e huge-page extents, one collapser thread each (2),
 * -j mincore threads (2).
 *
 * Build: gcc -O2 -g -Wall -Wextra -Werror -static -pthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "stress_common.h"

#define KSFT_SKIP		4
#define THP_SYSFS		"/sys/kernel/mm/transparent_hugepage/"
#define CGROUP_DIR		"/sys/fs/cgroup"
#define MEMORY_DIR		CGROUP_DIR "/memory"
#define MAX_EXTENTS		8
#define MAX_MINCORE		8
#ifndef WATCHDOG_GRACE
#define WATCHDOG_GRACE		60	/* seconds after -t before giving up */
#endif

static unsigned long ppe;		/* pages per extent */
static int opt_seconds = 10;
static int opt_extents = 2;
static int opt_mincore = 2;

/* Shared between the parent (mover) and the child (victim). */
struct shared {
	atomic_int ready;		/* child: mapping built, threads run */
	atomic_int stopping;		/* child: time is up */
	atomic_int mover_stopped;	/* parent: no more moves */
	atomic_ulong moves, moves_procs, moves_tasks, move_errors;
	double move_ms_total, move_ms_max;	/* parent only */
	atomic_ulong coll_calls, coll_ok, coll_eagain, coll_ebusy;
	atomic_ulong coll_enomem, coll_einval, coll_other;
	atomic_ulong mincore_calls, rebuilds, checks, violations;
	atomic_int child_op[MAX_EXTENTS + MAX_MINCORE];
	char error[1024];
};

static struct shared *sh;

/* What the cgroup setup created, to undo it. */
static struct {
	char root[256];		/* the memory hierarchy's mount point */
	char base[512];		/* our cgroup inside it */
	char a[600], b[600];
	bool mounted_tmpfs, made_memory_dir, mounted_memory;
	bool made_a, made_b, favordynmods;
} cg;

static void teardown(void);

/* Print "PREFIXmessage", tear down and exit with STATUS. */
static void __attribute__((noreturn))
finish(int status, const char *prefix, const char *fmt, va_list ap)
{
	printf("%s", prefix);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	teardown();
	exit(status);
}

static void __attribute__((format(printf, 1, 2))) skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	finish(KSFT_SKIP, "SKIP: ", fmt, ap);
}

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	finish(1, "movecharge: error: ", fmt, ap);
}

static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

/* Write a string to a cgroup file: 0 or the errno. */
static int write_text(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (write(fd, s, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

/* ------------------------------------------------------------------ */

/* The mount point of a cgroup v1 hierarchy with memory, or false. */
static bool find_memory_hierarchy(char *root, size_t len)
{
	char line[1024], dev[256], dir[256], type[64], opts[512];
	bool found = false;
	FILE *m = fopen("/proc/self/mounts", "re");
	char *o, *save;

	if (!m)
		return false;
	while (!found && fgets(line, sizeof(line), m)) {
		if (sscanf(line, "%255s %255s %63s %511s", dev, dir, type,
			   opts) != 4 || strcmp(type, "cgroup"))
			continue;
		for (o = strtok_r(opts, ",", &save); o;
		     o = strtok_r(NULL, ",", &save)) {
			if (!strcmp(o, "memory")) {
				snprintf(root, len, "%s", dir);
				found = true;
				break;
			}
		}
	}
	fclose(m);
	return found;
}

/* Our own cgroup in the memory hierarchy, from /proc/self/cgroup. */
static void own_memory_cgroup(char *path, size_t len)
{
	char line[1024], *p, *q;
	FILE *f = fopen("/proc/self/cgroup", "re");

	snprintf(path, len, "/");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		p = strchr(line, ':');
		if (!p)
			continue;
		q = strchr(p + 1, ':');
		if (!q)
			continue;
		*q = '\0';
		if (strcmp(p + 1, "memory"))
			continue;
		q[strcspn(q + 1, "\n") + 1] = '\0';
		snprintf(path, len, "%s", q + 1);
		break;
	}
	fclose(f);
}

static void cgroup_setup(void)
{
	char path[700], own[256], buf[64];
	struct stat st;
	int err;

	if (geteuid())
		skip("not root: cannot set up memory cgroups");
	if (!find_memory_hierarchy(cg.root, sizeof(cg.root))) {
		/* sysfs has /sys/fs/cgroup but no room for a directory. */
		if (stat(MEMORY_DIR, &st)) {
			if (mkdir(MEMORY_DIR, 0755)) {
				if (mount("tmpfs", CGROUP_DIR, "tmpfs", 0,
					  "mode=0755"))
					skip("cannot mount a tmpfs on %s: %s",
					     CGROUP_DIR, strerror(errno));
				cg.mounted_tmpfs = true;
				if (mkdir(MEMORY_DIR, 0755))
					fail("mkdir %s: %s", MEMORY_DIR,
					     strerror(errno));
			}
			cg.made_memory_dir = true;
		}
		/*
		 * favordynmods: no synchronize_rcu() in every migration, so
		 * many more moves per second.  Older kernels lack it.
		 */
		cg.favordynmods = !mount("none", MEMORY_DIR, "cgroup", 0,
					 "memory,favordynmods");
		if (!cg.favordynmods &&
		    mount("none", MEMORY_DIR, "cgroup", 0, "memory"))
			skip("no cgroup v1 memory controller: mount -t cgroup -o memory none %s: %s",
			     MEMORY_DIR, strerror(errno));
		cg.mounted_memory = true;
		snprintf(cg.root, sizeof(cg.root), "%s", MEMORY_DIR);
	}
	own_memory_cgroup(own, sizeof(own));
	snprintf(cg.base, sizeof(cg.base), "%s%s", cg.root,
		 strcmp(own, "/") ? own : "");
	snprintf(cg.a, sizeof(cg.a), "%s/movecharge.%d.a", cg.base, getpid());
	snprintf(cg.b, sizeof(cg.b), "%s/movecharge.%d.b", cg.base, getpid());
	if (mkdir(cg.a, 0755))
		skip("mkdir %s: %s", cg.a, strerror(errno));
	cg.made_a = true;
	if (mkdir(cg.b, 0755))
		skip("mkdir %s: %s", cg.b, strerror(errno));
	cg.made_b = true;
	snprintf(path, sizeof(path), "%s/memory.move_charge_at_immigrate",
		 cg.a);
	if (access(path, F_OK))
		skip("no memory.move_charge_at_immigrate in cgroup v1 memory");
	/* 3: move anonymous and file pages. */
	err = write_text(path, "3");
	if (!err) {
		snprintf(path, sizeof(path),
			 "%s/memory.move_charge_at_immigrate", cg.b);
		err = write_text(path, "3");
	}
	if (err)
		skip("cannot set memory.move_charge_at_immigrate to 3: %s",
		     strerror(err));
	if (read_text(path, buf, sizeof(buf)) || strcmp(buf, "3"))
		skip("memory.move_charge_at_immigrate reads \"%s\", not 3",
		     buf);
}

static void teardown(void)
{
	if (cg.made_a && rmdir(cg.a))
		printf("# movecharge: rmdir %s: %s\n", cg.a, strerror(errno));
	if (cg.made_b && rmdir(cg.b))
		printf("# movecharge: rmdir %s: %s\n", cg.b, strerror(errno));
	cg.made_a = false;
	cg.made_b = false;
	if (cg.mounted_memory && umount(MEMORY_DIR))
		printf("# movecharge: umount %s: %s\n", MEMORY_DIR,
		       strerror(errno));
	cg.mounted_memory = false;
	if (cg.made_memory_dir && !cg.mounted_tmpfs && rmdir(MEMORY_DIR))
		printf("# movecharge: rmdir %s: %s\n", MEMORY_DIR,
		       strerror(errno));
	cg.made_memory_dir = false;
	if (cg.mounted_tmpfs && umount(CGROUP_DIR))
		printf("# movecharge: umount %s: %s\n", CGROUP_DIR,
		       strerror(errno));
	cg.mounted_tmpfs = false;
	fflush(stdout);
}

static long long usage_of(const char *group)
{
	char path[700], buf[64];

	snprintf(path, sizeof(path), "%s/memory.usage_in_bytes", group);
	if (read_text(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* ------------------------------------------------------------------ */

static void thp_check(void)
{
	char buf[256];
	int err;

	psize = sysconf(_SC_PAGESIZE);
	if (read_text(THP_SYSFS "shmem_enabled", buf, sizeof(buf)))
		skip("no shmem THP (" THP_SYSFS "shmem_enabled missing)");
	if (strstr(buf, "[deny]"))
		skip("shmem THP disabled (shmem_enabled is deny)");
	pmdsize = 2UL << 20;
	if (!read_text(THP_SYSFS "hpage_pmd_size", buf, sizeof(buf)))
		pmdsize = strtoul(buf, NULL, 10);
	if (!pmdsize || pmdsize % psize)
		skip("unexpected hpage_pmd_size");
	ppe = pmdsize / psize;
	/*
	 * Only a kernel without MADV_COLLAPSE of shmem is skipped: one whose
	 * collapses fail (EAGAIN, ENOMEM) still goes through collapse_file(),
	 * which is what the deadlock needs.
	 */
	err = collapse_probe();
	if (err == EINVAL)
		skip("MADV_COLLAPSE unsupported (EINVAL on a written, faulted shmem extent)");
	if (err)
		printf("# movecharge: note: MADV_COLLAPSE of a written, faulted shmem extent failed: %s\n",
		       strerror(err));
}

/* ------------------------------------------------------------------ */
/* The child: the task that gets moved. */

enum { C_IDLE, C_REBUILD, C_COLLAPSE, C_CHECK, C_MINCORE };

static const char *const child_op_name[] = {
	[C_IDLE] = "idle", [C_REBUILD] = "rebuild",
	[C_COLLAPSE] = "MADV_COLLAPSE", [C_CHECK] = "content check",
	[C_MINCORE] = "mincore",
};

static int mfd;
static char *map;

static uint64_t word(unsigned long round, unsigned long pg, size_t w)
{
	return 0x6d6f766563686172ULL ^ (uint64_t)round << 40 ^
	       (uint64_t)pg << 16 ^ w;
}

/* Page pg of a round is a hole: one in 16, never the first. */
static bool is_hole(unsigned long round, unsigned long pg)
{
	return pg % ppe && (pg * 7 + round) % 16 == 0;
}

struct collapser {
	pthread_t th;
	int idx;
	unsigned long round;
	char *buf;
};

/*
 * Extent e from small pages: write it (holes left), then fault in every
 * other page: present and none ptes over pages in the page cache.
 */
static void rebuild(struct collapser *c)
{
	unsigned long first = c->idx * ppe, pg;
	size_t w, nw = psize / sizeof(uint64_t);

	c->round++;
	if (fallocate(mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      first * psize, pmdsize)) {
		snprintf(sh->error, sizeof(sh->error), "punch: %s",
			 strerror(errno));
		atomic_fetch_add(&sh->violations, 1);
		return;
	}
	/*
	 * Page by page, holes skipped, so the pages stay small; through one
	 * page of buffer, to keep the anonymous memory moved with us small.
	 */
	for (pg = first; pg < first + ppe; pg++) {
		if (is_hole(c->round, pg))
			continue;
		for (w = 0; w < nw; w++)
			((uint64_t *)c->buf)[w] = word(c->round, pg, w);
		if (!pwrite_full(mfd, c->buf, psize, pg * psize)) {
			snprintf(sh->error, sizeof(sh->error), "pwrite: %s",
				 strerror(errno));
			atomic_fetch_add(&sh->violations, 1);
			return;
		}
	}
	for (pg = first + (c->round & 1); pg < first + ppe; pg += 2)
		if (!is_hole(c->round, pg))
			touch(map + pg * psize);
	atomic_fetch_add(&sh->rebuilds, 1);
}

static void check(struct collapser *c)
{
	unsigned long first = c->idx * ppe, pg;
	size_t w, nw = psize / sizeof(uint64_t);
	uint64_t got, exp;

	atomic_fetch_add(&sh->checks, 1);
	for (pg = first; pg < first + ppe; pg++) {
		for (w = 0; w < nw; w++) {
			got = ((const volatile uint64_t *)(map + pg * psize))[w];
			exp = is_hole(c->round, pg) ? 0 : word(c->round, pg, w);
			if (got == exp)
				continue;
			if (!atomic_fetch_add(&sh->violations, 1))
				snprintf(sh->error, sizeof(sh->error),
					 "after MADV_COLLAPSE returned 0: offset %#lx word %zu = %#llx, expected %#llx",
					 pg * psize, w, (unsigned long long)got,
					 (unsigned long long)exp);
			return;
		}
	}
}

static void *collapser_fn(void *arg)
{
	struct collapser *c = arg;
	atomic_int *op = &sh->child_op[c->idx];
	char *addr = map + c->idx * pmdsize;
	int ret;

	while (!atomic_load(&sh->stopping)) {
		atomic_store(op, C_COLLAPSE);
		ret = madvise(addr, pmdsize, MADV_COLLAPSE);
		atomic_fetch_add(&sh->coll_calls, 1);
		if (!ret) {
			atomic_fetch_add(&sh->coll_ok, 1);
			atomic_store(op, C_CHECK);
			check(c);
			atomic_store(op, C_REBUILD);
			rebuild(c);
			continue;
		}
		switch (errno) {
		case EAGAIN:
			atomic_fetch_add(&sh->coll_eagain, 1);
			break;
		case EBUSY:
			atomic_fetch_add(&sh->coll_ebusy, 1);
			break;
		case ENOMEM:
			atomic_fetch_add(&sh->coll_enomem, 1);
			break;
		case EINVAL:
			atomic_fetch_add(&sh->coll_einval, 1);
			break;
		default:
			atomic_fetch_add(&sh->coll_other, 1);
		}
		/* Mostly retry the same small pages; now and then rebuild. */
		if (!(atomic_load(&sh->coll_calls) % 8)) {
			atomic_store(op, C_REBUILD);
			rebuild(c);
		}
	}
	atomic_store(op, C_IDLE);
	return NULL;
}

static void *mincore_fn(void *arg)
{
	int idx = (int)(intptr_t)arg;
	atomic_int *op = &sh->child_op[MAX_EXTENTS + idx];
	size_t len = opt_extents * pmdsize;
	unsigned char *vec = malloc(len / psize);

	if (!vec)
		return NULL;
	atomic_store(op, C_MINCORE);
	while (!atomic_load(&sh->stopping)) {
		if (mincore(map, len, vec)) {
			snprintf(sh->error, sizeof(sh->error), "mincore: %s",
				 strerror(errno));
			atomic_fetch_add(&sh->violations, 1);
			break;
		}
		atomic_fetch_add(&sh->mincore_calls, 1);
	}
	atomic_store(op, C_IDLE);
	free(vec);
	return NULL;
}

static int child_main(int go_fd)
{
	struct collapser col[MAX_EXTENTS];
	pthread_t mthreads[MAX_MINCORE];
	struct timespec ts;
	void *res;
	char c;
	int i;

	/* Die with the parent rather than outlive it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Wait until the parent has put us in A. */
	if (read(go_fd, &c, 1) != 1)
		return 1;
	mfd = memfd_create("movecharge", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, opt_extents * pmdsize))
		return 1;
	map = reserve_aligned(opt_extents * pmdsize, &res);
	if (!map || mmap(map, opt_extents * pmdsize, PROT_READ,
			 MAP_SHARED | MAP_FIXED, mfd, 0) == MAP_FAILED)
		return 1;
	for (i = 0; i < opt_extents; i++) {
		col[i].idx = i;
		col[i].round = 0;
		col[i].buf = malloc(psize);
		if (!col[i].buf)
			return 1;
		rebuild(&col[i]);
	}
	for (i = 0; i < opt_extents; i++)
		if (pthread_create(&col[i].th, NULL, collapser_fn, &col[i]))
			return 1;
	for (i = 0; i < opt_mincore; i++)
		if (pthread_create(&mthreads[i], NULL, mincore_fn,
				   (void *)(intptr_t)i))
			return 1;
	atomic_store(&sh->ready, 1);

	ts = t_start;
	ts.tv_sec += opt_seconds;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
	atomic_store(&sh->stopping, 1);
	/* Threads exit more easily with nobody moving us. */
	while (!atomic_load(&sh->mover_stopped))
		sched_yield();
	for (i = 0; i < opt_extents; i++)
		pthread_join(col[i].th, NULL);
	for (i = 0; i < opt_mincore; i++)
		pthread_join(mthreads[i], NULL);
	return atomic_load(&sh->violations) ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* The parent: the mover. */

static pid_t child;

static void *watchdog_fn(void *arg)
{
	struct timespec ts = t_start;
	int i, op;

	(void)arg;
	ts.tv_sec += opt_seconds + WATCHDOG_GRACE;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
	printf("movecharge: WATCHDOG: still running %d s after the start (-t %d + %d s): the kernel is stuck (a move-charge / collapse / mincore deadlock?)\n",
	       opt_seconds + WATCHDOG_GRACE, opt_seconds, WATCHDOG_GRACE);
	printf("# watchdog: moves=%lu collapses=%lu mincore=%lu child stopping=%d mover_stopped=%d\n",
	       atomic_load(&sh->moves), atomic_load(&sh->coll_calls),
	       atomic_load(&sh->mincore_calls), atomic_load(&sh->stopping),
	       atomic_load(&sh->mover_stopped));
	for (i = 0; i < opt_extents; i++) {
		op = atomic_load(&sh->child_op[i]);
		printf("# watchdog: collapser %d in %s\n", i,
		       child_op_name[op]);
	}
	for (i = 0; i < opt_mincore; i++) {
		op = atomic_load(&sh->child_op[MAX_EXTENTS + i]);
		printf("# watchdog: mincore thread %d in %s\n", i,
		       child_op_name[op]);
	}
	printf("movecharge: seconds=%.0f moves=%lu collapses=%lu mincore=%lu watchdog=1\n",
	       elapsed(), atomic_load(&sh->moves), atomic_load(&sh->coll_ok),
	       atomic_load(&sh->mincore_calls));
	fflush(stdout);
	/* No teardown: with the kernel stuck, it could hang too. */
	if (child > 0)
		kill(child, SIGKILL);
	_exit(1);
}

/* Move the child into group g; 0 or the errno. */
static int move_to(const char *g, bool tasks)
{
	char path[700], pid[32];

	snprintf(path, sizeof(path), "%s/%s", g,
		 tasks ? "tasks" : "cgroup.procs");
	snprintf(pid, sizeof(pid), "%d", child);
	return write_text(path, pid);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-t SECONDS] [-e EXTENTS] [-j MINCORE_THREADS]\n"
		"  -t  how long to run (default 10)\n"
		"  -e  huge-page extents, one collapser thread each (default 2, at most %d)\n"
		"  -j  mincore threads (default 2, at most %d)\n",
		prog, MAX_EXTENTS, MAX_MINCORE);
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

int main(int argc, char **argv)
{
	long long ua = -1, ub = -1;
	unsigned long n = 0;
	int go[2], opt, status, err = 0;
	pthread_t watchdog;
	const char *dst;
	bool tasks;
	char c = 1;
	double secs, t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "t:e:j:h")) != -1) {
		switch (opt) {
		case 't':
			opt_seconds = num_arg(optarg, argv[0], 1, 86400);
			break;
		case 'e':
			opt_extents = num_arg(optarg, argv[0], 1, MAX_EXTENTS);
			break;
		case 'j':
			opt_mincore = num_arg(optarg, argv[0], 0, MAX_MINCORE);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	thp_check();
	cgroup_setup();
	/* Touched here first: charged to our group, not moved with A/B. */
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	memset(sh, 0, sizeof(*sh));
	if (pipe(go))
		fail("pipe: %s", strerror(errno));
	printf("# movecharge: hierarchy %s%s, groups %s and %s, extents=%d mincore_threads=%d seconds=%d\n",
	       cg.root, !cg.mounted_memory ? "" : cg.favordynmods ?
	       " (mounted here, favordynmods)" : " (mounted here)", cg.a,
	       cg.b, opt_extents, opt_mincore, opt_seconds);
	fflush(stdout);
	child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (!child) {
		close(go[1]);
		_exit(child_main(go[0]));
	}
	close(go[0]);
	if (pthread_create(&watchdog, NULL, watchdog_fn, NULL)) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		fail("pthread_create: %s", strerror(errno));
	}
	/* The child's memory must be charged to A before it is moved. */
	err = move_to(cg.a, false);
	if (err) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		fail("moving the child to %s: %s", cg.a, strerror(err));
	}
	if (write(go[1], &c, 1) != 1)
		fail("pipe write: %s", strerror(errno));
	close(go[1]);
	while (!atomic_load(&sh->ready)) {
		if (waitpid(child, &status, WNOHANG) == child) {
			child = -1;
			fail("the child died while setting up (status %#x)",
			     status);
		}
		sched_yield();
	}

	/* Back and forth: B, A, B, A, ... now and then through tasks. */
	while (!atomic_load(&sh->stopping)) {
		dst = n & 1 ? cg.a : cg.b;
		tasks = n % 8 >= 6;
		t = elapsed();
		err = move_to(dst, tasks);
		t = (elapsed() - t) * 1e3;
		sh->move_ms_total += t;
		if (t > sh->move_ms_max)
			sh->move_ms_max = t;
		if (err) {
			atomic_fetch_add(&sh->move_errors, 1);
			snprintf(sh->error, sizeof(sh->error),
				 "moving the child to %s (%s): %s", dst,
				 tasks ? "tasks" : "cgroup.procs",
				 strerror(err));
			break;
		}
		n++;
		atomic_fetch_add(&sh->moves, 1);
		atomic_fetch_add(tasks ? &sh->moves_tasks : &sh->moves_procs,
				 1);
	}
	/* End in A, the whole process, and see where the charges are. */
	if (!err && move_to(cg.a, false))
		atomic_fetch_add(&sh->move_errors, 1);
	ua = usage_of(cg.a);
	ub = usage_of(cg.b);
	atomic_store(&sh->mover_stopped, 1);
	if (waitpid(child, &status, 0) != child)
		fail("waitpid: %s", strerror(errno));
	child = -1;
	secs = elapsed();

	printf("# stats: moves: total=%lu cgroup.procs=%lu tasks=%lu errors=%lu avg_ms=%.1f max_ms=%.1f\n",
	       atomic_load(&sh->moves), atomic_load(&sh->moves_procs),
	       atomic_load(&sh->moves_tasks), atomic_load(&sh->move_errors),
	       n ? sh->move_ms_total / n : 0.0, sh->move_ms_max);
	printf("# stats: collapse: calls=%lu ok=%lu EAGAIN=%lu EBUSY=%lu ENOMEM=%lu EINVAL=%lu other=%lu rebuilds=%lu content_checks=%lu\n",
	       atomic_load(&sh->coll_calls), atomic_load(&sh->coll_ok),
	       atomic_load(&sh->coll_eagain), atomic_load(&sh->coll_ebusy),
	       atomic_load(&sh->coll_enomem), atomic_load(&sh->coll_einval),
	       atomic_load(&sh->coll_other), atomic_load(&sh->rebuilds),
	       atomic_load(&sh->checks));
	printf("# stats: mincore: calls=%lu\n", atomic_load(&sh->mincore_calls));
	printf("# stats: memcg usage at the end, child in A: A=%lld B=%lld bytes\n",
	       ua, ub);
	if (sh->error[0])
		printf("# movecharge: error: %s\n", sh->error);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		printf("# movecharge: the child ended with status %#x\n",
		       status);
	printf("movecharge: seconds=%.0f moves=%lu collapses=%lu mincore=%lu\n",
	       secs, atomic_load(&sh->moves), atomic_load(&sh->coll_ok),
	       atomic_load(&sh->mincore_calls));
	teardown();
	if (atomic_load(&sh->move_errors) || atomic_load(&sh->violations) ||
	    !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	return 0;
}
