// SPDX-License-Identifier: GPL-2.0
/*
 * rollback_soak: make MADV_COLLAPSE of shmem fail after collapse_file()
 * has put the new huge page in the page cache, thousands of times, and
 * check that the rollback is invisible and leaks nothing.
 *
 * How the collapse is made to fail (-m MODE):
 *   nospace  (the default) a private tmpfs with room for the written pages
 *            only (nr_blocks), the last two pages of the 2 MiB extent
 *            left as holes.  collapse_file() allocates the huge page,
 *            replaces the written pages one by one, then cannot charge
 *            the holes and rolls back: every round.
 *   pin      a thread takes a reference on a page in the middle of the
 *            extent, over and over, while the collapse runs (vmsplice()
 *            of it into a pipe, then a read that drops it): the collapse
 *            finds the page with a reference too many, before or after
 *            it replaced the pages below it with the huge page.
 *   memcg    the task in a memory cgroup (v2) whose limit leaves room for
 *            less than a huge page: the charge of the huge page fails
 *            (on 6.1 before it enters the page cache: an early failure).
 *   inject   allocation failures injected (failslab, fail_page_alloc,
 *            CONFIG_FAULT_INJECTION_DEBUG_FS: the debug kernels) into the
 *            collapsing task, each allocation failing with probability
 *            -p PERCENT (default 10), during MADV_COLLAPSE only.
 * In the modes but nospace the tmpfs has no size limit.
 * -s: each round also swaps out pages SWAP_FIRST to SWAP_FIRST + NR_SWAP - 1
 * (MADV_PAGEOUT through a mapping of their own, before the faulted
 * mapping maps the others), so that the collapse swaps them in with its
 * huge page already in the page cache: with -m inject, the allocations
 * of that swap-in fail too, a rollback after the huge page entered the
 * page cache (6.1's collapse allocates nothing else that late).  Needs
 * swap on (a skip otherwise, or when nothing was ever swapped out).
 * Swapped-out pages are data to lseek() and read as written; mincore()
 * may say either of them (swapped in or not), so it is not asked.
 *
 * Each round writes the extent with the round's stamp, maps and faults
 * it, and calls MADV_COLLAPSE while a prober thread, handed the round
 * through generation counters (it never sees set-up or tear-down), checks
 * SEEK_DATA/SEEK_HOLE, mincore() of a faulted and of a never-faulted
 * mapping, and pread() of the written pages.  After each collapse the
 * content is checked through the mapping and pread().  At the end, with
 * the file and the tmpfs gone, Shmem and ShmemHugePages in /proc/meminfo
 * must be back to their values before the first round (vmstat folded
 * with /proc/sys/vm/stat_refresh first).
 *
 * usage: rollback_soak [-m nospace|pin|memcg|inject] [-p PERCENT] [-s]
 *                      [-n ROUNDS] [-t MAX-SECONDS]
 * Prints "# stats:" lines and ends with
 *   rollback_soak: mode=M rounds=N rollbacks=N collapsed=N failed=N
 *                  probes=N violations=N shmem_kb_delta=N
 *                  shmem_huge_kb_delta=N
 * ("rollbacks": failures after the huge page was allocated, as
 * thp_collapse_alloc counts, their ENOMEMs in the stats line; in memcg
 * mode those are charges refused right after the allocation, before the
 * huge page enters the page cache; "failed": every failure, EAGAIN
 * retried.)
 * Exits 0 when all is right, 1 on a violation or leak, 4 (kselftest
 * skip) when shmem THP, MADV_COLLAPSE or what the mode needs is not
 * available, or no collapse failed after allocating (no rollback), 2 on
 * usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define KSFT_SKIP	4
#define PSIZE		4096UL
#define PMD_SIZE	(2UL << 20)
#define NR_PAGES	(PMD_SIZE / PSIZE)
#define NR_WRITTEN	(NR_PAGES - 2)	/* the last two are holes */

enum mode { MODE_NOSPACE, MODE_PIN, MODE_MEMCG, MODE_INJECT };
static const char *const mode_names[] = { "nospace", "pin", "memcg", "inject" };
static enum mode mode = MODE_NOSPACE;
static int percent = 10;	/* inject: each allocation fails so often */
static bool swap_some;		/* -s */
static unsigned long swapped_out;	/* pages seen swapped out at a round's start */

#define PIN_IDX		(NR_PAGES / 2)
#define SWAP_FIRST	(NR_PAGES / 4)	/* -s: swapped out each round */
#define NR_SWAP		64
#define MEMCG_ROOM	(1UL << 20)	/* under the limit: less than a huge page */
#define DEBUGFS		"/sys/kernel/debug"

/* -s: is page @i one of those swapped out each round? */
static bool swapped_page(unsigned long i)
{
	return swap_some && i >= SWAP_FIRST && i < SWAP_FIRST + NR_SWAP;
}

static int fd = -1;
static char *map;		/* faulted, 2 MiB aligned */
static char *cold;		/* never faulted */
static char mnt[64];

static atomic_ulong gen, started, done, ack;
static atomic_ulong pin_started, pin_ack;
static int pipefd[2] = { -1, -1 };
static char pin_verdict[256];	/* written by the pinner, read after pin_ack */
static unsigned long pins;
static char cgmnt[64];		/* memcg: cgroup2 mount, and our cgroup in it */
static char cgdir[128];
static bool cg_mounted, cg_made, cg_joined;
static char cg_home[256] = "/";	/* our cgroup (v2 path) before joining */
static bool tmpfs_mounted, inject_on;
static atomic_bool stop;
static char verdict[512];	/* written by the prober, read after ack */
static unsigned long probes;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long file_value(const char *path, const char *key)
{
	char line[256];
	size_t len = strlen(key);
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) &&
		    (line[len] == ' ' || line[len] == ':')) {
			v = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static long long meminfo_kb(const char *key)
{
	int sfd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	/* Fold the per-cpu vmstat deltas so that the figures are exact. */
	if (sfd >= 0) {
		if (write(sfd, "1", 1) < 0)
			perror("stat_refresh");
		close(sfd);
	}
	return file_value("/proc/meminfo", key);
}

static void stamp(char *page, unsigned long round, unsigned long idx)
{
	unsigned long *w = (unsigned long *)page;
	unsigned long i;

	for (i = 0; i < PSIZE / sizeof(*w); i++)
		w[i] = (round << 20) ^ (idx << 9) ^ i;
}

/* 0 if page idx holds round's stamp, else the first wrong word's index + 1. */
static unsigned long stamp_check(const char *page, unsigned long round,
				 unsigned long idx)
{
	const unsigned long *w = (const unsigned long *)page;
	unsigned long i;

	for (i = 0; i < PSIZE / sizeof(*w); i++)
		if (w[i] != ((round << 20) ^ (idx << 9) ^ i))
			return i + 1;
	return 0;
}

/* One look at the file; returns false and fills verdict on a violation. */
static bool probe(unsigned long round, char *buf, unsigned char *vec)
{
	off_t end = NR_WRITTEN * PSIZE, r;
	unsigned long i, bad;

	r = lseek(fd, 0, SEEK_DATA);
	if (r != 0) {
		snprintf(verdict, sizeof(verdict),
			 "SEEK_DATA(0) = %lld (%s), expected 0",
			 (long long)r, r < 0 ? strerror(errno) : "");
		return false;
	}
	r = lseek(fd, 0, SEEK_HOLE);
	/* The holes may turn into data only if a collapse succeeded. */
	if (r < end) {
		snprintf(verdict, sizeof(verdict),
			 "SEEK_HOLE(0) = %#llx, expected >= %#llx: written page %lld reported as a hole",
			 (long long)r, (long long)end,
			 (long long)(r < 0 ? -1 : r / (off_t)PSIZE));
		return false;
	}
	if (mincore(map, PMD_SIZE, vec) || (mincore(cold, PMD_SIZE, vec + NR_PAGES))) {
		snprintf(verdict, sizeof(verdict), "mincore: %s",
			 strerror(errno));
		return false;
	}
	for (i = 0; i < NR_WRITTEN; i++) {
		if (swapped_page(i))
			continue;
		if (!(vec[i] & 1) || !(vec[NR_PAGES + i] & 1)) {
			snprintf(verdict, sizeof(verdict),
				 "mincore(%s mapping) page %lu (written) = 0, expected 1",
				 (vec[i] & 1) ? "never-faulted" : "faulted", i);
			return false;
		}
	}
	i = round % NR_WRITTEN;
	if (pread(fd, buf, PSIZE, i * PSIZE) != (ssize_t)PSIZE) {
		snprintf(verdict, sizeof(verdict), "pread page %lu: %s", i,
			 strerror(errno));
		return false;
	}
	bad = stamp_check(buf, round, i);
	if (bad) {
		snprintf(verdict, sizeof(verdict),
			 "pread page %lu word %lu = %#lx, expected round %lu's stamp",
			 i, bad - 1, ((unsigned long *)buf)[bad - 1], round);
		return false;
	}
	return true;
}

/* The next round after @last, once main publishes it; 0 when told to stop. */
static unsigned long next_round(unsigned long last)
{
	unsigned long n;

	while ((n = atomic_load(&gen)) == last) {
		if (atomic_load(&stop))
			return 0;
		sched_yield();
	}
	return n;
}

static void *prober(void *arg)
{
	static unsigned char vec[2 * NR_PAGES];
	static char buf[PSIZE];
	unsigned long g = 0;
	bool last;

	(void)arg;
	while ((g = next_round(g))) {
		verdict[0] = '\0';
		atomic_store(&started, g);
		do {
			last = atomic_load(&done) == g;
			probes++;
			if (!probe(g, buf, vec))
				break;
		} while (!last);
		atomic_store(&ack, g);
	}
	return NULL;
}

static void wait_for(atomic_ulong *v, unsigned long want)
{
	while (atomic_load(v) != want)
		sched_yield();
}

static int skip(const char *why, int err)
{
	printf("SKIP: %s%s%s\n", why, err ? ": " : "", err ? strerror(err) : "");
	return KSFT_SKIP;
}

/*
 * pin: from the round's start until its collapse has returned, take a
 * reference on page PIN_IDX through the faulted mapping (vmsplice() into
 * a pipe) and drop it (read it back from the pipe), over and over.  What
 * comes out of the pipe is the page as it was pinned: it must hold the
 * round's stamp.
 */
static void *pinner(void *arg)
{
	static char buf[PSIZE];
	unsigned long g = 0, bad;
	struct iovec iov;

	(void)arg;
	while ((g = next_round(g))) {
		pin_verdict[0] = '\0';
		atomic_store(&pin_started, g);
		while (atomic_load(&done) != g && !pin_verdict[0]) {
			iov.iov_base = map + PIN_IDX * PSIZE;
			iov.iov_len = PSIZE;
			if (vmsplice(pipefd[1], &iov, 1, 0) != (ssize_t)PSIZE ||
			    read(pipefd[0], buf, PSIZE) != (ssize_t)PSIZE) {
				snprintf(pin_verdict, sizeof(pin_verdict),
					 "vmsplice, read: %s", strerror(errno));
				break;
			}
			pins++;
			bad = stamp_check(buf, g, PIN_IDX);
			if (bad)
				snprintf(pin_verdict, sizeof(pin_verdict),
					 "page %lu, pinned by vmsplice(), word %lu = %#lx, expected round %lu's stamp",
					 (unsigned long)PIN_IDX, bad - 1,
					 ((unsigned long *)buf)[bad - 1], g);
		}
		atomic_store(&pin_ack, g);
	}
	return NULL;
}

/* Write @val to @dir/@attr; false if that fails. */
static bool attr_write(const char *dir, const char *attr, const char *val)
{
	char path[192];
	ssize_t n;
	int afd;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	afd = open(path, O_WRONLY);
	if (afd < 0)
		return false;
	n = write(afd, val, strlen(val));
	close(afd);
	return n == (ssize_t)strlen(val);
}

/* memcg: leave MEMCG_ROOM under the limit, over what the round uses. */
static int memcg_limit(bool on)
{
	char path[192], val[32];
	long long cur;
	FILE *f;

	if (!on)
		return attr_write(cgdir, "memory.max", "max") ? 0 : -1;
	snprintf(path, sizeof(path), "%s/memory.current", cgdir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &cur) != 1)
		cur = -1;
	fclose(f);
	if (cur < 0)
		return -1;
	snprintf(val, sizeof(val), "%llu", (cur + MEMCG_ROOM) & ~(PSIZE - 1));
	return attr_write(cgdir, "memory.max", val) ? 0 : -1;
}

static int setup_memcg(void)
{
	char pid[24], line[256];
	FILE *f;

	snprintf(cgmnt, sizeof(cgmnt), "/tmp/rollback_soak_cg.XXXXXX");
	if (!mkdtemp(cgmnt))
		return skip("mkdtemp", errno);
	if (mount("cgroup2", cgmnt, "cgroup2", 0, NULL))
		return skip("mount cgroup2", errno);
	cg_mounted = true;
	snprintf(cgdir, sizeof(cgdir), "%s/rollback_soak", cgmnt);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (!attr_write(cgmnt, "cgroup.subtree_control", "+memory"))
		return skip("the memory controller on cgroup2 (CONFIG_MEMCG; not bound to cgroup v1)", errno);
	if (mkdir(cgdir, 0755))
		return skip("mkdir of a cgroup", errno);
	cg_made = true;
	f = fopen("/proc/self/cgroup", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "0::", 3)) {
				line[strcspn(line, "\n")] = '\0';
				snprintf(cg_home, sizeof(cg_home), "%s", line + 3);
			}
		fclose(f);
	}
	if (!attr_write(cgdir, "cgroup.procs", pid))
		return skip("joining a cgroup", errno);
	cg_joined = true;
	return 0;
}

static void cleanup_memcg(void)
{
	char pid[24];

	char home[384];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(home, sizeof(home), "%s%s", cgmnt, cg_home);
	if (cg_joined && !attr_write(home, "cgroup.procs", pid))
		perror("leaving the memory cgroup");
	if (cg_made && rmdir(cgdir))
		perror("rmdir of the memory cgroup");
	if (cg_mounted && umount2(cgmnt, MNT_DETACH))
		perror("umount cgroup2");
	if (cgmnt[0])
		rmdir(cgmnt);
	cg_joined = cg_made = cg_mounted = false;
	cgmnt[0] = '\0';
}

/* inject: the collapsing task's allocations fail at random. */
static int setup_inject(void)
{
	static const char *const dirs[] = { DEBUGFS "/failslab",
					    DEBUGFS "/fail_page_alloc" };
	char p[16];
	unsigned int i;

	if (access(dirs[0], F_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	snprintf(p, sizeof(p), "%d", percent);
	for (i = 0; i < 2; i++) {
		if (access(dirs[i], F_OK))
			return skip("no failslab and fail_page_alloc in debugfs (CONFIG_FAULT_INJECTION_DEBUG_FS)", 0);
		if (!attr_write(dirs[i], "task-filter", "Y") ||
		    !attr_write(dirs[i], "ignore-gfp-wait", "N") ||
		    !attr_write(dirs[i], "verbose", "0") ||
		    !attr_write(dirs[i], "interval", "1") ||
		    !attr_write(dirs[i], "times", "-1") ||
		    !attr_write(dirs[i], "probability", p))
			return skip("fault injection settings", errno);
	}
	inject_on = true;
	if (!attr_write(dirs[1], "ignore-gfp-highmem", "N") ||
	    !attr_write(dirs[1], "min-order", "0"))
		return skip("fail_page_alloc settings", errno);
	return 0;
}

static void cleanup_inject(void)
{
	if (!inject_on)
		return;
	attr_write(DEBUGFS "/failslab", "probability", "0");
	attr_write(DEBUGFS "/fail_page_alloc", "probability", "0");
	inject_on = false;
}

/*
 * Undo whatever was set up, as far as it got: at the end, and on every
 * early exit (atexit), so that a skip or an error leaves no tmpfs, cgroup
 * or fault injection behind.
 */
static void cleanup(void)
{
	cleanup_inject();
	if (map)
		munmap(map, PMD_SIZE);
	map = NULL;
	if (cold)
		munmap(cold, PMD_SIZE);
	cold = NULL;
	if (fd >= 0)
		close(fd);
	fd = -1;
	if (tmpfs_mounted && umount2(mnt, 0))
		perror("umount");
	tmpfs_mounted = false;
	if (mnt[0])
		rmdir(mnt);
	mnt[0] = '\0';
	cleanup_memcg();
}

/* MADV_COLLAPSE of the extent: 0 or an errno. */
static int collapse(void)
{
	int mfd = -1, ret;

	if (mode == MODE_INJECT) {
		mfd = open("/proc/thread-self/make-it-fail", O_WRONLY);
		if (mfd < 0 || write(mfd, "1", 1) != 1) {
			perror("make-it-fail");
			exit(1);
		}
	}
	ret = madvise(map, PMD_SIZE, MADV_COLLAPSE) ? errno : 0;
	if (mfd >= 0) {
		if (pwrite(mfd, "0", 1, 0) != 1) {
			perror("make-it-fail");
			exit(1);
		}
		close(mfd);
	}
	return ret;
}

static void watchdog(int sig)
{
	static const char msg[] =
		"rollback_soak: stuck past the time limit, the kernel may be hung\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

static int setup(void)
{
	char opts[64], path[96];
	char *p;

	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return skip("private mount namespace", errno);
	snprintf(mnt, sizeof(mnt), "/tmp/rollback_soak.XXXXXX");
	if (!mkdtemp(mnt))
		return skip("mkdtemp", errno);
	if (mode == MODE_NOSPACE)
		snprintf(opts, sizeof(opts), "nr_blocks=%lu,huge=never",
			 NR_WRITTEN);
	else
		snprintf(opts, sizeof(opts), "huge=never");
	if (mount("tmpfs", mnt, "tmpfs", 0, opts))
		return skip("mount tmpfs", errno);
	tmpfs_mounted = true;
	snprintf(path, sizeof(path), "%s/file", mnt);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || unlink(path)) {
		perror("open");
		return 1;
	}
	p = mmap(NULL, 2 * PMD_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return 1;
	map = (char *)(((uintptr_t)p + PMD_SIZE - 1) & ~(PMD_SIZE - 1));
	cold = mmap(NULL, PMD_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (cold == MAP_FAILED) {
		cold = NULL;
		perror("mmap");
		return 1;
	}
	if (mmap(map, PMD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	return 0;
}

/* Is swap on?  A line under /proc/swaps' header. */
static bool swap_is_on(void)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/swaps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n > 1;
}

/*
 * -s: swap the round's pages SWAP_FIRST.. out through a mapping that is
 * then the only one to map them (the faulted mapping has had no pte since
 * the truncation); count those that left memory (mincore() of the
 * never-faulted mapping: a swapped-out page is not resident).
 */
static int swap_out(void)
{
	static unsigned char vec[NR_SWAP];
	size_t len = NR_SWAP * PSIZE;
	unsigned long i;
	char *sw;

	sw = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, SWAP_FIRST * PSIZE);
	if (sw == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (i = 0; i < NR_SWAP; i++)
		(void)__atomic_load_n(sw + i * PSIZE, __ATOMIC_RELAXED);
	if (madvise(sw, len, MADV_PAGEOUT)) {
		perror("MADV_PAGEOUT");
		munmap(sw, len);
		return 1;
	}
	munmap(sw, len);
	if (mincore(cold + SWAP_FIRST * PSIZE, len, vec)) {
		perror("mincore");
		return 1;
	}
	for (i = 0; i < NR_SWAP; i++)
		swapped_out += !(vec[i] & 1);
	return 0;
}

/* Write round's layout; the page cache is empty before (truncated). */
static int build(unsigned long round)
{
	static char page[PSIZE];
	unsigned long i;

	if (ftruncate(fd, 0) || ftruncate(fd, PMD_SIZE)) {
		perror("ftruncate");
		return 1;
	}
	for (i = 0; i < NR_WRITTEN; i++) {
		stamp(page, round, i);
		if (pwrite(fd, page, PSIZE, i * PSIZE) != (ssize_t)PSIZE) {
			perror("pwrite");
			return 1;
		}
	}
	if (swap_some && swap_out())
		return 1;
	/* Fault the written pages in (only them: the tmpfs is full). */
	for (i = 0; i < NR_WRITTEN; i++)
		if (!swapped_page(i))
			(void)__atomic_load_n(map + i * PSIZE, __ATOMIC_RELAXED);
	return 0;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-m nospace|pin|memcg|inject] [-p PERCENT] [-s] [-n ROUNDS] [-t MAX-SECONDS]\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long rounds = 2000, round, rollbacks = 0, collapsed = 0;
	unsigned long eagain = 0, other = 0, violations = 0, i, bad;
	unsigned long nr_rounds = 0, failed = 0, late_enomem = 0, late_einval = 0;
	long long shmem0, huge0, shmem1, huge1, a0, a1;
	double limit = 600, t0;
	pthread_t th, pth;
	char buf[PSIZE];
	int opt, ret, tries;
	bool found;

	while ((opt = getopt(argc, argv, "m:p:sn:t:")) != -1) {
		switch (opt) {
		case 'm':
			found = false;
			for (i = 0; i < 4 && !found; i++)
				if (!strcmp(optarg, mode_names[i])) {
					mode = i;
					found = true;
				}
			if (!found) {
				fprintf(stderr, "%s: -m: unknown mode '%s'\n",
					argv[0], optarg);
				return 2;
			}
			break;
		case 'p':
			percent = atoi(optarg);
			break;
		case 's':
			swap_some = true;
			break;
		case 'n':
			rounds = strtoul(optarg, NULL, 0);
			break;
		case 't':
			limit = strtod(optarg, NULL);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);
	if (!rounds || !(limit > 0) || percent < 1 || percent > 100) {
		fprintf(stderr, "%s: -n and -t want positive numbers, -p 1 to 100\n",
			argv[0]);
		return 2;
	}
	if (file_value("/proc/vmstat", "thp_collapse_alloc") < 0)
		return skip("no thp_collapse_alloc in /proc/vmstat", 0);
	if (swap_some && !swap_is_on())
		return skip("-s: no swap on (/proc/swaps)", 0);
	signal(SIGALRM, watchdog);
	alarm((unsigned int)limit + 120);
	atexit(cleanup);

	shmem0 = meminfo_kb("Shmem");
	huge0 = meminfo_kb("ShmemHugePages");
	ret = setup();
	if (!ret && mode == MODE_MEMCG)
		ret = setup_memcg();
	if (!ret && mode == MODE_INJECT)
		ret = setup_inject();
	if (!ret && mode == MODE_PIN && pipe(pipefd)) {
		perror("pipe");
		ret = 1;
	}
	if (ret)
		return ret;
	if (pthread_create(&th, NULL, prober, NULL))
		return 1;
	if (mode == MODE_PIN && pthread_create(&pth, NULL, pinner, NULL))
		return 1;
	t0 = now_s();
	for (round = 1; round <= rounds && now_s() - t0 < limit; round++) {
		nr_rounds = round;
		if ((mode == MODE_MEMCG && memcg_limit(false)) || build(round) ||
		    (mode == MODE_MEMCG && memcg_limit(true))) {
			perror("build, memory.max");
			return 1;
		}
		atomic_store(&gen, round);
		wait_for(&started, round);
		if (mode == MODE_PIN)
			wait_for(&pin_started, round);
		/* Early EAGAIN (a page not yet on the LRU): try again. */
		for (tries = 0; tries < 8; tries++) {
			a0 = file_value("/proc/vmstat", "thp_collapse_alloc");
			ret = collapse();
			a1 = file_value("/proc/vmstat", "thp_collapse_alloc");
			if (ret)
				failed++;
			if (ret != EAGAIN || a1 > a0)
				break;
		}
		atomic_store(&done, round);
		wait_for(&ack, round);
		if (mode == MODE_PIN)
			wait_for(&pin_ack, round);
		if (!ret) {
			collapsed++;
		} else if (a1 > a0) {
			rollbacks++;
			if (ret == ENOMEM)
				late_enomem++;
			else if (ret == EINVAL)	/* a failed swap-in, among others */
				late_einval++;
		}
		else if (ret == EAGAIN)
			eagain++;
		else
			other++;
		if (ret == EINVAL && round == 1 && a1 == a0 &&
		    mode != MODE_INJECT) {
			pthread_cancel(th);
			return skip("MADV_COLLAPSE of shmem", EINVAL);
		}
		if (verdict[0] || pin_verdict[0]) {
			printf("# round %lu: %s\n", round,
			       verdict[0] ? verdict : pin_verdict);
			violations++;
			break;
		}
		for (i = 0; i < NR_WRITTEN; i++) {
			bad = stamp_check(map + i * PSIZE, round, i);
			if (!bad && pread(fd, buf, PSIZE, i * PSIZE) == (ssize_t)PSIZE)
				bad = stamp_check(buf, round, i);
			if (bad) {
				printf("# round %lu: page %lu word %lu lost its content after the collapse (%s)\n",
				       round, i, bad - 1, ret ? strerror(ret) : "success");
				violations++;
				break;
			}
		}
		if (violations)
			break;
	}
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	if (mode == MODE_PIN)
		pthread_join(pth, NULL);
	cleanup();
	shmem1 = meminfo_kb("Shmem");
	huge1 = meminfo_kb("ShmemHugePages");

	printf("# stats: rollback_soak mode=%s rounds=%lu rollbacks=%lu (ENOMEM=%lu EINVAL=%lu) collapsed=%lu failed=%lu early_eagain=%lu other=%lu probes=%lu pins=%lu seconds=%.1f\n",
	       mode_names[mode], nr_rounds, rollbacks, late_enomem, late_einval, collapsed,
	       failed, eagain, other, probes, pins, now_s() - t0);
	if (swap_some)
		printf("# stats: rollback_soak swapped_out=%lu (%lu a round asked)\n",
		       swapped_out, (unsigned long)NR_SWAP);
	printf("# stats: meminfo Shmem %lld -> %lld kB, ShmemHugePages %lld -> %lld kB\n",
	       shmem0, shmem1, huge0, huge1);
	printf("rollback_soak: mode=%s rounds=%lu rollbacks=%lu collapsed=%lu failed=%lu probes=%lu violations=%lu shmem_kb_delta=%lld shmem_huge_kb_delta=%lld\n",
	       mode_names[mode], nr_rounds, rollbacks, collapsed, failed,
	       probes, violations, shmem1 - shmem0, huge1 - huge0);
	if (violations || shmem1 != shmem0 || huge1 != huge0)
		return 1;
	if (!rollbacks) {
		printf("SKIP: no collapse failed after allocating its huge page\n");
		return KSFT_SKIP;
	}
	if (swap_some && !swapped_out) {
		printf("SKIP: -s: no page was ever swapped out\n");
		return KSFT_SKIP;
	}
	return 0;
}
