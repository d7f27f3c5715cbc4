// SPDX-License-Identifier: GPL-2.0
/*
 * rollback_soak: make MADV_COLLAPSE of shmem fail after collapse_file()
 * has put the new huge page in the page cache, thousands of times, and
 * check that the rollback is invisible and leaks nothing.
 *
 * The honest way to fail late: a private tmpfs with room for the written
 * pages only (nr_blocks), the last two pages of the 2 MiB extent left as
 * holes.  collapse_file() allocates the huge page, replaces the written
 * pages one by one, then cannot charge the holes and rolls back.
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
 * usage: rollback_soak [-n ROUNDS] [-t MAX-SECONDS]
 * Prints "# stats:" lines and ends with
 *   rollback_soak: rounds=N rollbacks=N collapsed=N probes=N violations=N
 *                  shmem_kb_delta=N shmem_huge_kb_delta=N
 * Exits 0 when all is right, 1 on a violation or leak, 4 (kselftest
 * skip) when shmem THP or MADV_COLLAPSE is not available, 2 on usage.
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

static int fd = -1;
static char *map;		/* faulted, 2 MiB aligned */
static char *cold;		/* never faulted */
static char mnt[64];

static atomic_ulong gen, started, done, ack;
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

static void *prober(void *arg)
{
	static unsigned char vec[2 * NR_PAGES];
	static char buf[PSIZE];
	unsigned long g = 0;
	bool last;

	(void)arg;
	for (;;) {
		unsigned long n;

		while ((n = atomic_load(&gen)) == g) {
			if (atomic_load(&stop))
				return NULL;
			sched_yield();
		}
		g = n;
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
}

static void wait_for(atomic_ulong *v, unsigned long want)
{
	while (atomic_load(v) != want)
		sched_yield();
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

static int skip(const char *why, int err)
{
	printf("SKIP: %s%s%s\n", why, err ? ": " : "", err ? strerror(err) : "");
	return KSFT_SKIP;
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
	snprintf(opts, sizeof(opts), "nr_blocks=%lu,huge=never", NR_WRITTEN);
	if (mount("tmpfs", mnt, "tmpfs", 0, opts)) {
		rmdir(mnt);
		return skip("mount tmpfs", errno);
	}
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
	/* Fault the written pages in (only them: the tmpfs is full). */
	for (i = 0; i < NR_WRITTEN; i++)
		(void)__atomic_load_n(map + i * PSIZE, __ATOMIC_RELAXED);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long rounds = 2000, round, rollbacks = 0, collapsed = 0;
	unsigned long eagain = 0, other = 0, violations = 0, i, bad;
	unsigned long nr_rounds = 0;
	long long shmem0, huge0, shmem1, huge1, a0, a1;
	double limit = 600, t0;
	pthread_t th;
	char buf[PSIZE];
	int opt, ret, tries;

	while ((opt = getopt(argc, argv, "n:t:")) != -1) {
		switch (opt) {
		case 'n':
			rounds = strtoul(optarg, NULL, 0);
			break;
		case 't':
			limit = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: %s [-n ROUNDS] [-t MAX-SECONDS]\n",
				argv[0]);
			return 2;
		}
	}
	if (!rounds || !(limit > 0)) {
		fprintf(stderr, "%s: -n and -t want positive numbers\n", argv[0]);
		return 2;
	}
	if (file_value("/proc/vmstat", "thp_collapse_alloc") < 0)
		return skip("no thp_collapse_alloc in /proc/vmstat", 0);
	signal(SIGALRM, watchdog);
	alarm((unsigned int)limit + 120);

	shmem0 = meminfo_kb("Shmem");
	huge0 = meminfo_kb("ShmemHugePages");
	ret = setup();
	if (ret)
		return ret;
	if (pthread_create(&th, NULL, prober, NULL))
		return 1;
	t0 = now_s();
	for (round = 1; round <= rounds && now_s() - t0 < limit; round++) {
		nr_rounds = round;
		if (build(round))
			return 1;
		atomic_store(&gen, round);
		wait_for(&started, round);
		/* Early EAGAIN (a page not yet on the LRU): try again. */
		for (tries = 0; tries < 8; tries++) {
			a0 = file_value("/proc/vmstat", "thp_collapse_alloc");
			ret = madvise(map, PMD_SIZE, MADV_COLLAPSE);
			if (ret)
				ret = errno;
			a1 = file_value("/proc/vmstat", "thp_collapse_alloc");
			if (ret != EAGAIN || a1 > a0)
				break;
		}
		atomic_store(&done, round);
		wait_for(&ack, round);
		if (!ret)
			collapsed++;
		else if (a1 > a0)
			rollbacks++;
		else if (ret == EAGAIN)
			eagain++;
		else
			other++;
		if (ret == EINVAL && round == 1 && a1 == a0) {
			pthread_cancel(th);
			return skip("MADV_COLLAPSE of shmem", EINVAL);
		}
		if (verdict[0]) {
			printf("# round %lu: %s\n", round, verdict);
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

	munmap(map, PMD_SIZE);
	munmap(cold, PMD_SIZE);
	close(fd);
	if (umount2(mnt, 0) || rmdir(mnt))
		perror("umount");
	shmem1 = meminfo_kb("Shmem");
	huge1 = meminfo_kb("ShmemHugePages");

	printf("# stats: rollback_soak rounds=%lu rollbacks=%lu collapsed=%lu early_eagain=%lu other=%lu probes=%lu seconds=%.1f\n",
	       nr_rounds, rollbacks, collapsed, eagain, other, probes,
	       now_s() - t0);
	printf("# stats: meminfo Shmem %lld -> %lld kB, ShmemHugePages %lld -> %lld kB\n",
	       shmem0, shmem1, huge0, huge1);
	printf("rollback_soak: rounds=%lu rollbacks=%lu collapsed=%lu probes=%lu violations=%lu shmem_kb_delta=%lld shmem_huge_kb_delta=%lld\n",
	       nr_rounds, rollbacks, collapsed, probes, violations,
	       shmem1 - shmem0, huge1 - huge0);
	if (violations || shmem1 != shmem0 || huge1 != huge0)
		return 1;
	if (!rollbacks) {
		printf("SKIP: no collapse failed after allocating its huge page\n");
		return KSFT_SKIP;
	}
	return 0;
}
