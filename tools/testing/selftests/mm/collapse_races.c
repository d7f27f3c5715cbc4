// SPDX-License-Identifier: GPL-2.0
/*
 * Races between shmem collapse and readers of the page cache.
 *
 * MADV_COLLAPSE (and khugepaged, which shares collapse_file()) turns the
 * small pages and holes of a PMD-sized, PMD-aligned range of a shmem file
 * into one huge page.  Whatever happens inside, a concurrent reader must
 * keep seeing the file as it is: data that was written stays data, a hole
 * stays a hole unless the collapse fills it, and a hole in a range
 * registered with userfaultfd MODE_MISSING must not be filled behind the
 * back of the registered user.  Kernels that put the new, locked,
 * !uptodate huge page into the page cache one index at a time (6.1 did)
 * break all three while a collapse is in flight:
 *
 *  - lseek(SEEK_DATA/SEEK_HOLE) reports written data as a hole;
 *  - mincore() reports written pages as not resident, both through a
 *    mapping that was never touched (page-cache lookup) and through the
 *    faulted mapping being collapsed (its ptes are zapped);
 *  - holes under userfaultfd MODE_MISSING get filled with zeroes, so the
 *    MISSING event never comes (fixed kernels fail the collapse, EBUSY).
 *
 * The checks only use what userspace sees, never how a kernel collapses:
 *
 *  collapse.*.seek     a prober walks the file with SEEK_DATA/SEEK_HOLE
 *                      while MADV_COLLAPSE runs, and seeks from the last
 *                      page of each page cache node (see seek_edges());
 *                      a written page, or a page already seen as data in
 *                      the round, must never be reported as a hole.
 *  node_edge.seek      the same, aimed at the end of each page cache node:
 *                      SEEK_HOLE from each node's last page, the next hole
 *                      three pages on, for 100 collapses.
 *  collapse.*.mincore  the same with mincore() on both mappings: a written
 *                      page, or one already seen resident, must stay
 *                      resident.
 *  cut.punch.race      a hole punch of a random byte range, racing
 *                      MADV_COLLAPSE: once both returned, the punched
 *                      bytes read zero and every other byte as written.
 *  cut.truncate.race   the same with a truncation to a random size: the
 *                      file has that size, and once extended again, all
 *                      past it reads zero.
 *  cut.punch_swapin.race  the punch, on swapin's layout: it meets the
 *                      collapse swapping pages in.
 *  uffd.collapse_ebusy MADV_COLLAPSE on a range with holes registered
 *                      MODE_MISSING fails with EBUSY, the holes stay holes
 *                      and a fault on one delivers the MISSING event.
 *  uffd.register_race  UFFDIO_REGISTER concurrent with MADV_COLLAPSE: a
 *                      hole seen as a hole after the registration returned
 *                      must still be a hole after the collapse returned.
 *  uffd_fill.*.missing a write(), a write fault through another mapping
 *                      or fallocate() of one page, in a range registered
 *                      MODE_MISSING on a huge=always tmpfs: no huge page
 *                      may fill the holes, each read of one through the
 *                      registered mapping raises a MISSING event.  The
 *                      *_beside variants register only the range's first
 *                      16 pages and fill page 300: where the kernel has
 *                      large folios under PMD size, that page must still
 *                      get one.
 *  rollback.probes     collapses that fail after the huge page was
 *                      allocated (a tmpfs too small for the holes at the
 *                      end of the range) must look atomic too.
 *  swapin.*            the collapse.* races on a range with written pages
 *                      swapped out (to swap of the test's own, on a
 *                      ramdisk), which the collapse swaps in:
 *                      lseek() must see them as data throughout, mincore()
 *                      as not resident until seen resident, and as
 *                      resident once a collapse succeeded.
 *  readahead.mincore   mincore() over a block device whose pages are
 *                      under (slow, null_blk) read I/O answers at once,
 *                      "not resident": it never waits for read I/O.
 *  killable.*          a collapse held in flight (the page it must swap
 *                      in is under slow swap writeback): mincore() and
 *                      SEEK_HOLE either answer right at once or, if they
 *                      wait for the collapse, die on SIGKILL while it is
 *                      still held.
 *
 * The layouts ("variants") are: every page written; written pages with
 * holes; written pages with fallocated but never written pages.  After
 * every round, whether the collapse succeeded or not, the file (pread)
 * and the mapping must hold exactly what was written, zeroes elsewhere,
 * and the file truncated to 0 must have no block left allocated.
 *
 * Each race but node_edge.seek (which runs NODE_EDGE_COLLAPSES collapses)
 * lasts COLLAPSE_RACE_SECONDS seconds (default 3, fractions allowed);
 * each stops at the first violation and prints one "# stats:" line.
 * A test that saw no collapse (or no rollback, or no overlap) is skipped
 * rather than passed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <sched.h>
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

/* Older harnesses have an unused parameter, which -Wextra reports. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "../kselftest_harness.h"
#pragma GCC diagnostic pop

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_API
#define UFFD_API ((__u64)0xAA)
#endif
#ifndef UFFDIO_REGISTER_MODE_MISSING
#define UFFDIO_REGISTER_MODE_MISSING ((__u64)1 << 0)
#endif
#ifndef UFFD_EVENT_PAGEFAULT
#define UFFD_EVENT_PAGEFAULT 0x12
#endif
#ifndef _UFFDIO_COPY
#define _UFFDIO_COPY 0x03
#endif

#define THP_SYSFS		"/sys/kernel/mm/transparent_hugepage/"
#define DEFAULT_SECONDS		3.0
#define MAX_SECONDS		240.0
#define RACE_TIMEOUT		300	/* harness timeout per test, seconds */
#define COLLAPSE_TRIES		100	/* EAGAIN retries outside the races */
#define RACE_TRIES		8	/* EAGAIN tries within a race round */
/*
 * With pages to swap in, a round's tries all fail EAGAIN now and then
 * (1 round in 5 under TCG with the vCPUs on one host CPU): more tries,
 * and twice COLLAPSE_RACE_SECONDS, as such a round takes about 0.7 s.
 */
#define SWAPIN_TRIES		(4 * RACE_TRIES)
/*
 * Slots of an XArray node (XA_CHUNK_SIZE), so pages per leaf node of the
 * page cache: node_edge.seek aims at 64.  With CONFIG_BASE_SMALL's 16,
 * a huge page's entry sits two levels above the leaves, and of the node
 * ends probed only the one at page 255 climbs onto it.
 */
#define NODE_SLOTS		64
/*
 * Under QEMU TCG with both vCPUs held to one host CPU, so that each is
 * descheduled wherever its time slice ends, node_edge.seek caught 7.2.13
 * in 30 runs of 30 and Debian's 6.12 in 20 of 20, within 1 to 33
 * rounds, after at most 25 completed collapses.  With the vCPUs free on
 * an idle host it once missed 7.2.13 in a run of 300, and it never
 * caught a 6.18 host, run directly, in 2000.  It ends after
 * NODE_EDGE_COLLAPSES (four times the most it took), or after
 * NODE_EDGE_SECONDS (then skipped, if fewer: a pass would mean less).
 * A pass does not show that xas_find() is right: lib/test_xarray.c does.
 */
#define NODE_EDGE_COLLAPSES	100
#define NODE_EDGE_SECONDS	240.0

static size_t psize;		/* base page size */
static size_t pmdsize;		/* huge page (PMD) size */
static unsigned long nr_pages;	/* pages per huge page */

/* What each page of the range is at the start of a round. */
enum {
	PG_DATA = 'W',		/* written with the round's pattern */
	PG_HOLE = 'H',		/* never allocated */
	PG_FALLOC = 'F',	/* fallocated, never written */
	PG_UFFD = 'U',		/* hole filled by our UFFDIO_COPY */
	PG_SWAPPED = 'S',	/* written, then paged out to swap */
};

enum {
	LAYOUT_FULL,
	LAYOUT_HOLES,
	LAYOUT_FALLOC,
	LAYOUT_TAIL_HOLES,	/* only the last two pages are holes */
	LAYOUT_NODE_EDGES,	/* a hole three pages past each node's end */
	LAYOUT_SWAPPED,		/* written pages, some swapped out, and holes */
};

/* Verdicts of probes and checks. */
enum { CHECK_OK, CHECK_VIOLATION, CHECK_ERROR };

enum { PROBE_SEEK = 1, PROBE_MINCORE = 2, PROBE_NODE_EDGES = 4 };

static bool is_data_kind(char k)
{
	return k == PG_DATA || k == PG_UFFD || k == PG_SWAPPED;
}

/* Resident at the start of a round (a swapped out page is data, not). */
static bool is_resident_kind(char k)
{
	return is_data_kind(k) && k != PG_SWAPPED;
}

static const char *kind_name(char k)
{
	switch (k) {
	case PG_DATA:
		return "written";
	case PG_HOLE:
		return "hole";
	case PG_FALLOC:
		return "fallocated";
	case PG_UFFD:
		return "uffd-copied";
	case PG_SWAPPED:
		return "swapped out";
	}
	return "?";
}

static uint64_t data_word(unsigned long round, unsigned long idx, size_t w)
{
	return 0x636f6c6c61707365ULL ^ ((uint64_t)round << 32) ^
	       ((uint64_t)idx << 16) ^ w;
}

static uint64_t uffd_word(unsigned long idx, size_t w)
{
	return 0x7566666400000000ULL ^ ((uint64_t)idx << 16) ^ w;
}

static uint64_t expect_word(char k, unsigned long round, unsigned long idx,
			    size_t w)
{
	if (k == PG_DATA || k == PG_SWAPPED)
		return data_word(round, idx, w);
	if (k == PG_UFFD)
		return uffd_word(idx, w);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double race_seconds(void)
{
	const char *s = getenv("COLLAPSE_RACE_SECONDS");
	char *end;
	double v;

	if (!s || !*s)
		return DEFAULT_SECONDS;
	v = strtod(s, &end);
	if (*end || !(v > 0)) {
		ksft_print_msg("ignoring COLLAPSE_RACE_SECONDS=%s\n", s);
		return DEFAULT_SECONDS;
	}
	if (v > MAX_SECONDS)
		v = MAX_SECONDS;
	return v;
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n, got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got > 0 ? 0 : -1;
}

/* A counter of /proc/vmstat, or -1 if it is absent. */
static long long vmstat_read(const char *name)
{
	char buf[32768], *p;
	size_t len = strlen(name);

	if (read_file("/proc/vmstat", buf, sizeof(buf)))
		return -1;
	for (p = buf; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, name, len) && p[len] == ' ')
			return strtoll(p + len + 1, NULL, 10);
	}
	return -1;
}

/* NULL if shmem THP can be used, else why not. Sets the sizes. */
static const char *thp_unavailable(void)
{
	char buf[256];

	psize = sysconf(_SC_PAGESIZE);
	if (read_file(THP_SYSFS "shmem_enabled", buf, sizeof(buf)))
		return "no THP support (" THP_SYSFS "shmem_enabled missing)";
	if (strstr(buf, "[deny]"))
		return "shmem THP disabled (shmem_enabled is deny)";
	pmdsize = 2UL << 20;
	if (!read_file(THP_SYSFS "hpage_pmd_size", buf, sizeof(buf)))
		pmdsize = strtoul(buf, NULL, 10);
	if (!pmdsize || pmdsize % psize)
		return "unexpected hpage_pmd_size";
	nr_pages = pmdsize / psize;
	return NULL;
}

/* A PMD-aligned, PMD-sized window inside a PROT_NONE reservation. */
struct area {
	void *base;
	size_t len;
	char *addr;
};

static int area_reserve(struct area *a)
{
	a->len = 2 * pmdsize;
	a->base = mmap(NULL, a->len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a->base == MAP_FAILED) {
		a->base = NULL;
		return -1;
	}
	a->addr = (char *)(((uintptr_t)a->base + pmdsize - 1) &
			   ~(uintptr_t)(pmdsize - 1));
	return 0;
}

/* (Re)map the file there: a fresh VMA with no page tables. */
static int area_map(struct area *a, int fd)
{
	void *p = mmap(a->addr, pmdsize, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, fd, 0);

	return p == MAP_FAILED ? -1 : 0;
}

static void area_release(struct area *a)
{
	if (a->base)
		munmap(a->base, a->len);
	a->base = NULL;
}

static void spin(unsigned long n)
{
	unsigned long i;

	/* The compiler barrier keeps the empty loop from being optimised out. */
	for (i = 0; i < n; i++)
		asm volatile("" ::: "memory");
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * MADV_COLLAPSE of a fully written file: 0 if it works, else the errno
 * that says why this kernel cannot be tested.
 */
static int collapse_probe(void)
{
	struct area a = { 0 };
	char *buf;
	int fd, ret = 0, i;
	size_t off;

	fd = memfd_create("collapse_probe", MFD_CLOEXEC);
	if (fd < 0)
		return errno;
	buf = malloc(psize);
	if (!buf || ftruncate(fd, pmdsize) || area_reserve(&a) ||
	    area_map(&a, fd)) {
		ret = errno ? errno : ENOMEM;
		goto out;
	}
	memset(buf, 0x5a, psize);
	for (off = 0; off < pmdsize; off += psize) {
		if (pwrite(fd, buf, psize, off) != (ssize_t)psize) {
			ret = errno ? errno : EIO;
			goto out;
		}
	}
	/* 6.1 wants a page table to exist, so fault one page in. */
	(void)__atomic_load_n(a.addr, __ATOMIC_RELAXED);
	for (i = 0; i < COLLAPSE_TRIES; i++) {
		ret = madvise(a.addr, pmdsize, MADV_COLLAPSE) ? errno : 0;
		if (ret != EAGAIN)
			break;
	}
out:
	area_release(&a);
	free(buf);
	close(fd);
	return ret;
}

struct ctx {
	int fd;
	int layout;
	char *kind;		/* per page, see PG_* */
	unsigned long round;	/* stamped in the written pages */
	struct area map;	/* faulted in, the one collapsed */
	struct area map2;	/* never touched: page-cache path of mincore */
	char *wmap;		/* MADV_NOHUGEPAGE: writes the file */
	char *buf;		/* pread buffer */
	bool map_holes;		/* the content check may fault holes in */
	double seconds;
	unsigned long min_collapses;	/* end the race after so many */
	char mnt[64];		/* private tmpfs mount, if any */
	bool mounted;
	unsigned long swapped;	/* pages paged out, over all rounds */
	unsigned long swap_kept;	/* of those asked, still resident */
	unsigned long inconclusive;	/* rounds in which reclaim swapped */
};

static void layout_init(struct ctx *c)
{
	unsigned long i, n = nr_pages;

	for (i = 0; i < n; i++)
		c->kind[i] = PG_DATA;
	switch (c->layout) {
	case LAYOUT_HOLES:
		for (i = 1; i < n; i++)
			if (i % 8 == 5)
				c->kind[i] = PG_HOLE;
		for (i = n / 2; i < n / 2 + n / 16; i++)
			c->kind[i] = PG_HOLE;
		break;
	case LAYOUT_FALLOC:
		for (i = 1; i < n; i++)
			if (i % 8 == 3)
				c->kind[i] = PG_FALLOC;
		for (i = n / 4; i < n / 4 + n / 16; i++)
			c->kind[i] = PG_FALLOC;
		for (i = 3 * n / 4; i < 3 * n / 4 + 4; i++)
			c->kind[i] = PG_HOLE;
		break;
	case LAYOUT_TAIL_HOLES:
		c->kind[n - 1] = PG_HOLE;
		c->kind[n - 2] = PG_HOLE;
		break;
	case LAYOUT_NODE_EDGES:
		for (i = NODE_SLOTS; i < n; i += NODE_SLOTS)
			c->kind[i + 2] = PG_HOLE;
		break;
	case LAYOUT_SWAPPED:
		/* Which of these really went out, build_round() tells. */
		for (i = 1; i < n; i++)
			if (i % 8 == 5)
				c->kind[i] = PG_HOLE;
			else if (i % 16 == 2)
				c->kind[i] = PG_SWAPPED;
		for (i = n / 2; i < n / 2 + n / 64; i++)
			c->kind[i] = PG_SWAPPED;
		break;
	}
}

/* The fd must be set; everything else is allocated here. */
static int ctx_init(struct ctx *c, int layout)
{
	void *p;

	c->layout = layout;
	c->map_holes = true;
	c->seconds = race_seconds();
	c->kind = malloc(nr_pages);
	c->buf = malloc(pmdsize);
	if (!c->kind || !c->buf)
		return -1;
	if (ftruncate(c->fd, pmdsize))
		return -1;
	if (area_reserve(&c->map) || area_reserve(&c->map2))
		return -1;
	/*
	 * The contents are written through a mapping that forbids THP,
	 * so the pages start small whatever shmem_enabled says.
	 */
	p = mmap(NULL, pmdsize, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (p == MAP_FAILED)
		return -1;
	c->wmap = p;
	if (madvise(c->wmap, pmdsize, MADV_NOHUGEPAGE))
		return -1;
	layout_init(c);
	return 0;
}

static void ctx_fini(struct ctx *c)
{
	area_release(&c->map);
	area_release(&c->map2);
	if (c->wmap)
		munmap(c->wmap, pmdsize);
	c->wmap = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->mounted)
		umount2(c->mnt, MNT_DETACH);
	c->mounted = false;
	if (c->mnt[0])
		rmdir(c->mnt);
	c->mnt[0] = '\0';
	free(c->kind);
	free(c->buf);
	c->kind = NULL;
	c->buf = NULL;
}

/* Write page @idx of a round's pattern at @p. */
static void page_fill(char *p, unsigned long round, unsigned long idx)
{
	uint64_t *q = (uint64_t *)p;
	size_t w, nw = psize / sizeof(uint64_t);

	for (w = 0; w < nw; w++)
		q[w] = data_word(round, idx, w);
}

/*
 * Page the PG_SWAPPED pages out through the writer's mapping, the only
 * one that maps them.  With swap that writes before reclaim goes on, they
 * leave memory at once; one that stays (not on an LRU list yet, say) is
 * a written page like the others for the round.
 */
static int swap_out(struct ctx *c, char *msg, size_t len)
{
	unsigned char *vec = (unsigned char *)c->buf;
	unsigned long i, j;

	for (i = 0; i < nr_pages; i = j) {
		for (j = i + 1; j < nr_pages && c->kind[j] == c->kind[i]; j++)
			;
		if (c->kind[i] != PG_SWAPPED)
			continue;
		if (madvise(c->wmap + i * psize, (j - i) * psize,
			    MADV_PAGEOUT)) {
			snprintf(msg, len, "MADV_PAGEOUT: %s", strerror(errno));
			return -1;
		}
	}
	if (mincore(c->wmap, pmdsize, vec)) {
		snprintf(msg, len, "mincore: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < nr_pages; i++) {
		if (c->kind[i] != PG_SWAPPED)
			continue;
		if (vec[i] & 1) {
			c->kind[i] = PG_DATA;
			c->swap_kept++;
		} else {
			c->swapped++;
		}
	}
	return 0;
}

/*
 * Truncate the file to 0 after round @round: whatever that round's
 * collapse did (a rollback that left a filled hole charged, say), no
 * block may be left allocated.
 */
static int truncate_empty(struct ctx *c, unsigned long round, char *msg,
			  size_t len)
{
	struct stat st;

	if (ftruncate(c->fd, 0) || fstat(c->fd, &st)) {
		snprintf(msg, len, "ftruncate, fstat: %s", strerror(errno));
		return CHECK_ERROR;
	}
	if (st.st_blocks) {
		snprintf(msg, len, "truncated to 0 after round %lu: %lld blocks still allocated",
			 round, (long long)st.st_blocks);
		return CHECK_VIOLATION;
	}
	return CHECK_OK;
}

/*
 * Start a round: rebuild the file from small pages (a collapsed range
 * would stay huge), remap both mappings and fault the written pages in.
 * Only the main thread runs this, while no prober runs.
 */
static int build_round(struct ctx *c, char *msg, size_t len)
{
	unsigned long i, j;
	int ret;

	c->round++;
	layout_init(c);
	ret = truncate_empty(c, c->round - 1, msg, len);
	if (ret)
		return ret;
	if (ftruncate(c->fd, pmdsize)) {
		snprintf(msg, len, "ftruncate: %s", strerror(errno));
		return CHECK_ERROR;
	}
	for (i = 0; i < nr_pages; i++)
		if (c->kind[i] == PG_DATA || c->kind[i] == PG_SWAPPED)
			page_fill(c->wmap + i * psize, c->round, i);
	if (c->layout == LAYOUT_SWAPPED && swap_out(c, msg, len))
		return CHECK_ERROR;
	/* Drop the writer's ptes: only the mapping under test maps pages. */
	if (madvise(c->wmap, pmdsize, MADV_DONTNEED)) {
		snprintf(msg, len, "MADV_DONTNEED: %s", strerror(errno));
		return CHECK_ERROR;
	}
	for (i = 0; i < nr_pages; i = j) {
		for (j = i + 1; j < nr_pages && c->kind[j] == c->kind[i]; j++)
			;
		if (c->kind[i] != PG_FALLOC)
			continue;
		if (fallocate(c->fd, 0, i * psize, (j - i) * psize)) {
			snprintf(msg, len, "fallocate: %s", strerror(errno));
			return CHECK_ERROR;
		}
	}
	if (area_map(&c->map, c->fd) || area_map(&c->map2, c->fd)) {
		snprintf(msg, len, "mmap: %s", strerror(errno));
		return CHECK_ERROR;
	}
	/* Read faults: a hole or fallocated page must not be touched. */
	for (i = 0; i < nr_pages; i++)
		if (c->kind[i] == PG_DATA)
			(void)__atomic_load_n((uint64_t *)(c->map.addr + i * psize),
					      __ATOMIC_RELAXED);
	return CHECK_OK;
}

/* Compare one page with what it must hold; -1 or the first bad word. */
static long page_mismatch(const char *p, char k, unsigned long round,
			  unsigned long idx, uint64_t *got, uint64_t *exp)
{
	const uint64_t *q = (const uint64_t *)p;
	size_t w, nw = psize / sizeof(uint64_t);

	for (w = 0; w < nw; w++) {
		uint64_t e = expect_word(k, round, idx, w);

		if (q[w] != e) {
			*got = q[w];
			*exp = e;
			return w;
		}
	}
	return -1;
}

/* The file and the mapping hold what was written, zeroes elsewhere. */
static int check_content(struct ctx *c, char *msg, size_t len)
{
	uint64_t got, exp;
	size_t done = 0;
	unsigned long i;
	ssize_t n;
	long w;

	while (done < pmdsize) {
		n = pread(c->fd, c->buf + done, pmdsize - done, done);
		if (n <= 0) {
			snprintf(msg, len, "pread: %s",
				 n ? strerror(errno) : "short read");
			return CHECK_ERROR;
		}
		done += n;
	}
	for (i = 0; i < nr_pages; i++) {
		w = page_mismatch(c->buf + i * psize, c->kind[i], c->round, i,
				  &got, &exp);
		if (w >= 0)
			goto bad_file;
	}
	for (i = 0; i < nr_pages; i++) {
		if (!is_data_kind(c->kind[i]) && !c->map_holes)
			continue;
		w = page_mismatch(c->map.addr + i * psize, c->kind[i],
				  c->round, i, &got, &exp);
		if (w >= 0)
			goto bad_map;
	}
	return CHECK_OK;
bad_file:
	snprintf(msg, len,
		 "content: pread of page %lu (%s) word %ld = %#llx, expected %#llx",
		 i, kind_name(c->kind[i]), w, (unsigned long long)got,
		 (unsigned long long)exp);
	return CHECK_VIOLATION;
bad_map:
	snprintf(msg, len,
		 "content: mapping of page %lu (%s) word %ld = %#llx, expected %#llx",
		 i, kind_name(c->kind[i]), w, (unsigned long long)got,
		 (unsigned long long)exp);
	return CHECK_VIOLATION;
}

/*
 * Checking what SEEK_DATA/SEEK_HOLE and mincore() claim about each page.
 *
 * strict: no collapse in flight, the answers must match the layout.
 * Otherwise a page known to be data (written, or seen as data earlier in
 * the round) must never be claimed a hole, while holes and fallocated
 * pages may turn into data (that is what a collapse does to them).
 */
struct probe {
	int fd;
	const char *kind;
	unsigned char *known;	/* page must read as data / resident */
	unsigned char *vec;	/* mincore() vector */
	bool strict;
	char *msg;
	size_t len;
};

/*
 * What is known at the start of a round: a page swapped out is data to
 * lseek() but not resident to mincore() (a probe of both, rollback's,
 * has no page swapped out).
 */
static void probe_reset(struct probe *p, int mask)
{
	bool (*known)(char) = mask & PROBE_MINCORE ? is_resident_kind :
						     is_data_kind;
	unsigned long i;

	for (i = 0; i < nr_pages; i++)
		p->known[i] = known(p->kind[i]);
}

static bool must_be_data(const struct probe *p, unsigned long i)
{
	return p->strict ? is_data_kind(p->kind[i]) : p->known[i];
}

static bool may_be_data(const struct probe *p, unsigned long i)
{
	return p->strict ? is_data_kind(p->kind[i]) : true;
}

static const char *whence_name(int whence)
{
	return whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE";
}

static void fmt_off(char *buf, size_t len, long long off)
{
	if (off < 0)
		snprintf(buf, len, "ENXIO");
	else if ((size_t)off >= pmdsize)
		snprintf(buf, len, "%#llx (EOF)", off);
	else
		snprintf(buf, len, "%#llx", off);
}

static int seek_report(struct probe *p, int whence, off_t off, off_t ans,
		       unsigned long page, bool claimed_hole)
{
	unsigned long i = off / psize;
	char a[32], e[48];
	const char *why;

	/* The first answer consistent with what is known. */
	if (whence == SEEK_DATA) {
		while (i < nr_pages && !(claimed_hole ? must_be_data(p, i) :
					 may_be_data(p, i)))
			i++;
		fmt_off(a, sizeof(a), i < nr_pages ? (long long)(i * psize) :
			(p->strict ? -1 : (long long)pmdsize));
		snprintf(e, sizeof(e), "%s%s", p->strict ? "" : "<= ", a);
	} else {
		while (i < nr_pages && must_be_data(p, i))
			i++;
		fmt_off(a, sizeof(a), i * psize);
		snprintf(e, sizeof(e), "%s%s",
			 p->strict || i == nr_pages ? "" : "a hole >= ", a);
	}
	fmt_off(a, sizeof(a), ans);
	why = claimed_hole && !p->strict && !is_data_kind(p->kind[page]) ?
	      ", seen as data earlier in the round" : "";
	snprintf(p->msg, p->len,
		 "%s%s(%#llx) = %s, expected %s: page %lu (%s%s) reported as %s",
		 p->strict ? "no collapse in flight: " : "",
		 whence_name(whence), (long long)off, a, e, page,
		 kind_name(p->kind[page]), why,
		 claimed_hole ? "a hole" : "data");
	return CHECK_VIOLATION;
}

/*
 * Page i, known to be data, was claimed a hole: that is wrong whatever
 * the next lseek says.  For the report, ask about that page alone too: a
 * lookup that starts at the page tells a walk that stepped over it (a
 * kernel whose page cache walk skips a huge page stored under it) from
 * one that found no data there at all.
 */
static int hole_claimed(struct probe *p, unsigned long i)
{
	off_t o = i * psize, d;
	char a[32];
	size_t n;

	if (p->strict)
		return CHECK_VIOLATION;
	d = lseek(p->fd, o, SEEK_DATA);
	if (d < 0 && errno != ENXIO)
		snprintf(a, sizeof(a), "%s", strerror(errno));
	else
		fmt_off(a, sizeof(a), d);
	n = strlen(p->msg);
	snprintf(p->msg + n, p->len - n, "; SEEK_DATA(%#llx) right after: %s",
		 (long long)o, a);
	return CHECK_VIOLATION;
}

static int claim_holes(struct probe *p, int whence, off_t off, off_t ans,
		       unsigned long from, unsigned long to)
{
	unsigned long i;

	for (i = from; i < to; i++) {
		if (must_be_data(p, i)) {
			seek_report(p, whence, off, ans, i, true);
			return hole_claimed(p, i);
		}
	}
	return CHECK_OK;
}

static int claim_data(struct probe *p, int whence, off_t off, off_t ans,
		      unsigned long from, unsigned long to)
{
	unsigned long i;

	for (i = from; i < to; i++) {
		if (!may_be_data(p, i))
			return seek_report(p, whence, off, ans, i, false);
		p->known[i] = 1;
	}
	return CHECK_OK;
}

static int seek_bogus(struct probe *p, int whence, off_t off, off_t ans)
{
	snprintf(p->msg, p->len, "%s(%#llx) = %#llx: not a page in [%#llx, EOF]",
		 whence_name(whence), (long long)off, (long long)ans,
		 (long long)off);
	return CHECK_VIOLATION;
}

/* One walk over the file, alternating SEEK_DATA and SEEK_HOLE. */
static int __seek_walk(struct probe *p)
{
	off_t size = pmdsize, off = 0, d, h;
	int ret;

	while (off < size) {
		d = lseek(p->fd, off, SEEK_DATA);
		if (d < 0) {
			if (errno != ENXIO)
				goto err;
			/* ENXIO: [off, EOF) is a hole. */
			return claim_holes(p, SEEK_DATA, off, -1, off / psize,
					   nr_pages);
		}
		if (d < off || d >= size || d % psize)
			return seek_bogus(p, SEEK_DATA, off, d);
		ret = claim_holes(p, SEEK_DATA, off, d, off / psize,
				  d / psize);
		if (!ret)
			ret = claim_data(p, SEEK_DATA, off, d, d / psize,
					 d / psize + 1);
		if (ret)
			return ret;
		off = d;
		h = lseek(p->fd, off, SEEK_HOLE);
		if (h < 0)
			goto err;
		if (h < off || h > size || h % psize)
			return seek_bogus(p, SEEK_HOLE, off, h);
		ret = claim_data(p, SEEK_HOLE, off, h, off / psize, h / psize);
		if (!ret && h < size)
			ret = claim_holes(p, SEEK_HOLE, off, h, h / psize,
					  h / psize + 1);
		if (ret)
			return ret;
		off = h;
	}
	return CHECK_OK;
err:
	snprintf(p->msg, p->len, "lseek(%#llx): %s", (long long)off,
		 strerror(errno));
	return CHECK_ERROR;
}

/*
 * One lseek() from page i and the check of its answer: [i, answer) is
 * data for SEEK_HOLE, a hole for SEEK_DATA, and the page at the answer
 * the other way round.
 */
static int seek_from(struct probe *p, int whence, unsigned long i)
{
	off_t size = pmdsize, off = i * psize, a;
	int ret;

	a = lseek(p->fd, off, whence);
	if (a < 0) {
		if (errno != ENXIO || whence != SEEK_DATA) {
			snprintf(p->msg, p->len, "lseek(%#llx, %s): %s",
				 (long long)off, whence_name(whence),
				 strerror(errno));
			return CHECK_ERROR;
		}
		return claim_holes(p, SEEK_DATA, off, -1, i, nr_pages);
	}
	if (a < off || a > size || a % psize ||
	    (whence == SEEK_DATA && a == size))
		return seek_bogus(p, whence, off, a);
	if (whence == SEEK_DATA) {
		ret = claim_holes(p, whence, off, a, i, a / psize);
		if (!ret)
			ret = claim_data(p, whence, off, a, a / psize,
					 a / psize + 1);
	} else {
		ret = claim_data(p, whence, off, a, i, a / psize);
		if (!ret && a < size)
			ret = claim_holes(p, whence, off, a, a / psize,
					  a / psize + 1);
	}
	return ret;
}

/*
 * The page cache keeps a huge page's range as one entry, in the node
 * above the 64-slot leaf nodes that held its small pages (two levels
 * above 16-slot ones, with CONFIG_BASE_SMALL), and the collapse stores
 * it there in place of those nodes at its very end.  A lockless walk
 * that is then just leaving the last slot of one of them climbs straight
 * onto a slot of the new entry: kernels whose xas_find() skipped such a
 * slot reported the rest of the huge page as a hole.  A walk that starts
 * at the last page of a node takes that step at once, so seek from each
 * such page, both ways.
 */
#define SEEK_EDGE	16

static int seek_edges(struct probe *p)
{
	unsigned long i;
	int ret = CHECK_OK;

	for (i = SEEK_EDGE - 1; i + 1 < nr_pages && !ret; i += SEEK_EDGE) {
		ret = seek_from(p, SEEK_HOLE, i);
		if (!ret)
			ret = seek_from(p, SEEK_DATA, i);
	}
	return ret;
}

static int seek_walk(struct probe *p)
{
	int ret = __seek_walk(p);

	return ret ? ret : seek_edges(p);
}

/*
 * SEEK_HOLE from the last page of each node but the range's last one,
 * over and over.  In LAYOUT_NODE_EDGES the next hole is three pages on,
 * so each lseek() takes the page it starts at, steps out of its node,
 * takes the two pages past it and stops at the first page after the
 * hole.  Of a whole-file walk, the step between reading a node's last
 * slot and leaving the node, where a collapse's final store hurts a walk
 * that does not expect it (see seek_edges()), is a small share; of this
 * short one, a larger share.  Any answer short of the hole reports one
 * of the two written pages past the node as a hole.
 */
static int seek_node_edges(struct probe *p)
{
	unsigned long i;
	int ret = CHECK_OK;

	for (i = NODE_SLOTS - 1; i + NODE_SLOTS < nr_pages && !ret;
	     i += NODE_SLOTS)
		ret = seek_from(p, SEEK_HOLE, i);
	return ret;
}

/*
 * mincore() of one mapping.  Residency of a page is shared knowledge: a
 * page resident through one mapping is in the page cache and uptodate,
 * so it must be resident through the other as well.
 */
static int mincore_check(struct probe *p, char *addr, const char *which)
{
	unsigned long i;
	bool res;

	if (mincore(addr, pmdsize, p->vec)) {
		snprintf(p->msg, p->len, "mincore(%s): %s", which,
			 strerror(errno));
		return CHECK_ERROR;
	}
	for (i = 0; i < nr_pages; i++) {
		res = p->vec[i] & 1;
		/* Strict, a page swapped out must not be resident either. */
		if (p->strict ? res != is_resident_kind(p->kind[i]) :
		    !res && p->known[i])
			break;
		if (res)
			p->known[i] = 1;
	}
	if (i == nr_pages)
		return CHECK_OK;
	snprintf(p->msg, p->len,
		 "%smincore(%s) page %lu (%s%s) = %#x, expected %d",
		 p->strict ? "no collapse in flight: " : "", which, i,
		 kind_name(p->kind[i]),
		 !p->strict && !is_resident_kind(p->kind[i]) ?
		 ", seen resident earlier in the round" : "",
		 p->vec[i], !res);
	return CHECK_VIOLATION;
}

static int probe_once(struct probe *p, struct ctx *c, int mask)
{
	int ret = CHECK_OK;

	if (mask & PROBE_SEEK)
		ret = seek_walk(p);
	if (!ret && (mask & PROBE_NODE_EDGES))
		ret = seek_node_edges(p);
	if (!ret && (mask & PROBE_MINCORE))
		ret = mincore_check(p, c->map2.addr, "untouched mapping");
	if (!ret && (mask & PROBE_MINCORE))
		ret = mincore_check(p, c->map.addr, "faulted mapping");
	return ret;
}

static int probe_init(struct probe *p, struct ctx *c, char *msg, size_t len)
{
	p->fd = c->fd;
	p->kind = c->kind;
	p->msg = msg;
	p->len = len;
	p->known = malloc(nr_pages);
	p->vec = malloc(nr_pages);
	return p->known && p->vec ? 0 : -1;
}

static void probe_fini(struct probe *p)
{
	free(p->known);
	free(p->vec);
}

/* The layout as it must read with no collapse in flight. */
static int strict_check(struct ctx *c, int mask, char *msg, size_t len)
{
	struct probe p = { 0 };
	int ret;

	if (probe_init(&p, c, msg, len)) {
		probe_fini(&p);
		snprintf(msg, len, "out of memory");
		return CHECK_ERROR;
	}
	p.strict = true;
	ret = probe_once(&p, c, mask | PROBE_SEEK);
	probe_fini(&p);
	return ret;
}

struct stats {
	unsigned long rounds, collapsed, failed, rollbacks;
	unsigned long eagain, ebusy, einval, enomem, other;
	unsigned long probes, violations, overlaps, early, late;
	bool show_overlaps;
	double first_violation_ms;
	double elapsed_ms;	/* of race_loop() */
};

static void stats_collapse(struct stats *st, int ret, int err,
			   bool allocated)
{
	if (!ret) {
		st->collapsed++;
		return;
	}
	st->failed++;
	if (allocated)
		st->rollbacks++;
	switch (err) {
	case EAGAIN:
		st->eagain++;
		break;
	case EBUSY:
		st->ebusy++;
		break;
	case EINVAL:
		st->einval++;
		break;
	case ENOMEM:
		st->enomem++;
		break;
	default:
		st->other++;
	}
}

/* The "# stats:" line, kept on one line of source to be grepped for. */
#define STATS_FMT "stats: %s rounds=%lu collapsed=%lu failed=%lu (EAGAIN=%lu EBUSY=%lu EINVAL=%lu ENOMEM=%lu other=%lu) rollbacks=%lu probes=%lu%s violations=%lu\n"

static void stats_print(const char *name, const struct stats *st)
{
	char ov[80] = "";

	if (st->show_overlaps)
		snprintf(ov, sizeof(ov), " overlaps=%lu (early=%lu late=%lu)",
			 st->overlaps, st->early, st->late);
	ksft_print_msg(STATS_FMT, name, st->rounds, st->collapsed, st->failed,
		       st->eagain, st->ebusy, st->einval, st->enomem, st->other,
		       st->rollbacks, st->probes, ov, st->violations);
	/* The test child ends with _exit(): flush what we printed. */
	fflush(stdout);
}

static void wait_for(atomic_ulong *v, unsigned long want)
{
	while (atomic_load_explicit(v, memory_order_acquire) != want)
		sched_yield();
}

/*
 * Round hand-off between the main thread and a prober: main builds a
 * round and publishes it in gen; the prober acknowledges with started,
 * probes until it has seen done == gen (the collapse has returned) and
 * then acknowledges the end of the round with ack, after which main may
 * look at the verdict and tear the round down.
 */
struct handoff {
	atomic_ulong gen;
	atomic_ulong started;
	atomic_ulong done;
	atomic_ulong ack;
	atomic_bool stop;
};

/* Returns the round to probe, or 0 when told to stop. */
static unsigned long handoff_next(struct handoff *h, unsigned long last)
{
	unsigned long g;

	while ((g = atomic_load_explicit(&h->gen, memory_order_acquire)) ==
	       last) {
		if (atomic_load_explicit(&h->stop, memory_order_acquire))
			return 0;
		sched_yield();
	}
	return g;
}

static void handoff_stop(struct handoff *h, pthread_t th)
{
	atomic_store_explicit(&h->stop, true, memory_order_release);
	pthread_join(th, NULL);
}

struct race {
	struct handoff h;
	struct ctx *c;
	int mask;
	struct probe p;
	int verdict;		/* of the last round, valid after ack */
	double vtime;
	unsigned long probes;
};

static void *prober_fn(void *arg)
{
	struct race *r = arg;
	unsigned long g = 0;
	bool last;

	while ((g = handoff_next(&r->h, g))) {
		probe_reset(&r->p, r->mask);
		r->verdict = CHECK_OK;
		atomic_store_explicit(&r->h.started, g, memory_order_release);
		do {
			last = atomic_load_explicit(&r->h.done,
						    memory_order_acquire) == g;
			r->verdict = probe_once(&r->p, r->c, r->mask);
			r->probes++;
		} while (!r->verdict && !last);
		if (r->verdict)
			r->vtime = now_ms();
		atomic_store_explicit(&r->h.ack, g, memory_order_release);
	}
	return NULL;
}

/*
 * A race's loop has ended with @ret: unless it already failed, its last
 * round is checked as build_round() checks the others.
 */
static int race_end(struct ctx *c, int ret, struct stats *st, double t0,
		    char *msg, size_t len)
{
	if (ret)
		return ret;
	ret = truncate_empty(c, c->round, msg, len);
	if (ret)
		st->first_violation_ms = now_ms() - t0;
	return ret;
}

static int max_tries(const struct ctx *c)
{
	return c->layout == LAYOUT_SWAPPED ? SWAPIN_TRIES : RACE_TRIES;
}

static int collapse(struct ctx *c, int *err)
{
	int ret = madvise(c->map.addr, pmdsize, MADV_COLLAPSE);

	*err = ret ? errno : 0;
	return ret;
}

/*
 * With the test's swap on, reclaim (kswapd, or the collapse's own direct
 * reclaim) may swap out a page known resident, or the new huge page:
 * then "not resident" is right.  A round in which anything was swapped
 * out, other than by the round's own MADV_PAGEOUT (before @swapped0 was
 * read), cannot judge residency: it is counted, not failed.
 */
static bool reclaim_swapped(struct ctx *c, long long swapped0)
{
	return c->layout == LAYOUT_SWAPPED &&
	       vmstat_read("pswpout") != swapped0;
}

/*
 * A collapse that succeeded swapped in what was out: the huge page is
 * uptodate in the page cache, every page of it resident.
 */
static int collapsed_resident(struct ctx *c, char *msg, size_t len)
{
	unsigned char *vec = (unsigned char *)c->buf;
	unsigned long i;

	if (mincore(c->map2.addr, pmdsize, vec)) {
		snprintf(msg, len, "mincore: %s", strerror(errno));
		return CHECK_ERROR;
	}
	for (i = 0; i < nr_pages; i++) {
		if (!(vec[i] & 1)) {
			snprintf(msg, len,
				 "MADV_COLLAPSE succeeded, then mincore(untouched mapping) page %lu (%s) = %#x, expected 1",
				 i, kind_name(c->kind[i]), vec[i]);
			return CHECK_VIOLATION;
		}
	}
	return CHECK_OK;
}

/*
 * The seek, mincore and rollback races: rounds of build, publish,
 * collapse, wait for the prober, check the content; until the time is up
 * or something is wrong.
 */
static int race_loop(struct ctx *c, int mask, struct stats *st, char *msg,
		     size_t len)
{
	struct race r = { .c = c, .mask = mask };
	long long a0, a1, swapped0;
	double t0, deadline;
	bool allocated;
	pthread_t th;
	int ret, err, rc, tries;

	if (probe_init(&r.p, c, msg, len)) {
		probe_fini(&r.p);
		snprintf(msg, len, "out of memory");
		return CHECK_ERROR;
	}
	if (pthread_create(&th, NULL, prober_fn, &r)) {
		probe_fini(&r.p);
		snprintf(msg, len, "pthread_create failed");
		return CHECK_ERROR;
	}
	t0 = now_ms();
	deadline = t0 + c->seconds * 1e3;
	for (;;) {
		ret = build_round(c, msg, len);
		if (!ret)
			ret = strict_check(c, mask, msg, len);
		if (ret)
			break;
		st->rounds++;
		swapped0 = vmstat_read("pswpout");
		a0 = vmstat_read("thp_collapse_alloc");
		atomic_store_explicit(&r.h.gen, c->round, memory_order_release);
		wait_for(&r.h.started, c->round);
		for (tries = 1; ; tries++) {
			rc = collapse(c, &err);
			a1 = vmstat_read("thp_collapse_alloc");
			allocated = a0 >= 0 && a1 > a0;
			stats_collapse(st, rc, err, allocated);
			/*
			 * EAGAIN before the huge page was allocated: a page
			 * was not yet on the LRU or briefly referenced (slow
			 * kernels, such as debug ones under TCG, hit this in
			 * most rounds).  Try again while the prober probes.
			 */
			if (!rc || err != EAGAIN || allocated ||
			    tries == max_tries(c))
				break;
			a0 = a1;
		}
		atomic_store_explicit(&r.h.done, c->round, memory_order_release);
		wait_for(&r.h.ack, c->round);
		ret = r.verdict;
		if (ret == CHECK_VIOLATION && (mask & PROBE_MINCORE) &&
		    reclaim_swapped(c, swapped0)) {
			c->inconclusive++;
			ret = CHECK_OK;
		}
		if (ret) {
			st->first_violation_ms = r.vtime - t0;
			break;
		}
		if (!rc && c->layout == LAYOUT_SWAPPED) {
			ret = collapsed_resident(c, msg, len);
			if (ret == CHECK_VIOLATION &&
			    reclaim_swapped(c, swapped0)) {
				c->inconclusive++;
				ret = CHECK_OK;
			}
		}
		if (!ret)
			ret = check_content(c, msg, len);
		if (ret) {
			st->first_violation_ms = now_ms() - t0;
			break;
		}
		if (c->min_collapses && st->collapsed >= c->min_collapses)
			break;
		if (now_ms() >= deadline)
			break;
	}
	handoff_stop(&r.h, th);
	ret = race_end(c, ret, st, t0, msg, len);
	st->elapsed_ms = now_ms() - t0;
	st->probes = r.probes;
	if (ret == CHECK_VIOLATION)
		st->violations++;
	probe_fini(&r.p);
	return ret;
}

/*
 * Print the stats of a race and, on a violation or an error, what went
 * wrong.  The caller then fails the test (ASSERT) unless ret is CHECK_OK.
 */
static void race_report(const char *name, int ret, const struct stats *st,
			const char *msg)
{
	stats_print(name, st);
	if (ret == CHECK_VIOLATION)
		ksft_print_msg("first violation after %.0f ms (round %lu): %s\n",
			       st->first_violation_ms, st->rounds, msg);
	else if (ret == CHECK_ERROR)
		ksft_print_msg("error in round %lu: %s\n", st->rounds, msg);
	fflush(stdout);
}

static const char *collapse_unsupported(int err)
{
	switch (err) {
	case 0:
		return NULL;
	case EINVAL:
		return "MADV_COLLAPSE unsupported (EINVAL on a fully written shmem range)";
	case ENOMEM:
		return "MADV_COLLAPSE could not allocate a huge page";
	}
	return "MADV_COLLAPSE of a fully written shmem range failed";
}

/*
 * Everything the tests need from the kernel: NULL if it is there, else
 * why the test must be skipped (a constant string, or written to buf).
 */
static const char *env_unavailable(char *buf, size_t len)
{
	const char *why = thp_unavailable();
	int err;

	if (why)
		return why;
	err = collapse_probe();
	why = collapse_unsupported(err);
	if (!why)
		return NULL;
	snprintf(buf, len, "%s: %s", why, strerror(err));
	return buf;
}

/*
 * Skip from a fixture's setup.  Not every version of the harness stops
 * there (6.1's runs the test anyway), so each test returns at once when
 * its fixture says it skipped.
 */
#define SETUP_SKIP(statement, fmt, ...) do {				\
	self->skipped = true;						\
	SKIP(statement, fmt, ##__VA_ARGS__);				\
} while (0)

/* ---------------------------------------------------------------- */

FIXTURE(collapse) {
	struct ctx c;
	bool skipped;
};

FIXTURE_VARIANT(collapse) {
	const char *name;
	int layout;
};

FIXTURE_VARIANT_ADD(collapse, full) {
	.name = "full",
	.layout = LAYOUT_FULL,
};

FIXTURE_VARIANT_ADD(collapse, holes) {
	.name = "holes",
	.layout = LAYOUT_HOLES,
};

FIXTURE_VARIANT_ADD(collapse, falloc) {
	.name = "falloc",
	.layout = LAYOUT_FALLOC,
};

FIXTURE_SETUP(collapse)
{
	const char *why;
	char buf[256];

	self->c.fd = -1;
	why = env_unavailable(buf, sizeof(buf));
	if (why)
		SETUP_SKIP(return, "%s", why);
	self->c.fd = memfd_create("collapse_races", MFD_CLOEXEC);
	ASSERT_GE(self->c.fd, 0);
	ASSERT_EQ(0, ctx_init(&self->c, variant->layout));
}

FIXTURE_TEARDOWN(collapse)
{
	ctx_fini(&self->c);
}

/*
 * Run a race and fail the test on a violation or an error; NULL if it
 * passed, or why it proves nothing (written to @why): then the caller
 * skips, once it has done whatever must be done either way.
 */
static const char *race_judge(struct __test_metadata *_metadata,
			      struct ctx *c, const char *name, int mask,
			      char *why, size_t len)
{
	struct stats st = { 0 };
	char msg[512];
	int ret;

	ret = race_loop(c, mask, &st, msg, sizeof(msg));
	race_report(name, ret, &st, msg);
	ASSERT_EQ(CHECK_OK, ret);
	if (!st.collapsed && !st.rollbacks) {
		snprintf(why, len, "no collapse happened in %lu rounds",
			 st.rounds);
		return why;
	}
	if (st.collapsed < c->min_collapses) {
		snprintf(why, len,
			 "%lu collapses in %.0f s, not the %lu that make a pass mean something",
			 st.collapsed, st.elapsed_ms / 1e3, c->min_collapses);
		return why;
	}
	return NULL;
}

static void race_test(struct __test_metadata *_metadata, struct ctx *c,
		      const char *name, int mask)
{
	char buf[160];
	const char *why = race_judge(_metadata, c, name, mask, buf,
				     sizeof(buf));

	if (why)
		SKIP(return, "%s", why);
}

TEST_F_TIMEOUT(collapse, seek, RACE_TIMEOUT)
{
	char name[64];

	if (self->skipped)
		return;
	snprintf(name, sizeof(name), "collapse.%s.seek", variant->name);
	race_test(_metadata, &self->c, name, PROBE_SEEK);
}

TEST_F_TIMEOUT(collapse, mincore, RACE_TIMEOUT)
{
	char name[64];

	if (self->skipped)
		return;
	snprintf(name, sizeof(name), "collapse.%s.mincore", variant->name);
	race_test(_metadata, &self->c, name, PROBE_MINCORE);
}

/*
 * The window a collapse's final store leaves a lockless page cache walk,
 * aimed at (see seek_node_edges() and NODE_EDGE_COLLAPSES for how often
 * it catches a kernel whose xas_find() skips the huge page it climbs
 * onto).  It ignores COLLAPSE_RACE_SECONDS: it runs for a number of
 * collapses.
 */
FIXTURE(node_edge) {
	struct ctx c;
	bool skipped;
};

FIXTURE_SETUP(node_edge)
{
	const char *why;
	char buf[256];

	self->c.fd = -1;
	why = env_unavailable(buf, sizeof(buf));
	if (why)
		SETUP_SKIP(return, "%s", why);
	if (nr_pages < 2 * NODE_SLOTS)
		SETUP_SKIP(return, "a huge page of %lu pages fits in one node",
			   nr_pages);
	self->c.fd = memfd_create("collapse_races", MFD_CLOEXEC);
	ASSERT_GE(self->c.fd, 0);
	ASSERT_EQ(0, ctx_init(&self->c, LAYOUT_NODE_EDGES));
	self->c.seconds = NODE_EDGE_SECONDS;
	self->c.min_collapses = NODE_EDGE_COLLAPSES;
}

FIXTURE_TEARDOWN(node_edge)
{
	ctx_fini(&self->c);
}

TEST_F_TIMEOUT(node_edge, seek, RACE_TIMEOUT)
{
	if (self->skipped)
		return;
	race_test(_metadata, &self->c, "node_edge.seek", PROBE_NODE_EDGES);
}

/* ---------------------------------------------------------------- */

static int uffd_open(void)
{
#ifdef __NR_userfaultfd
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	/* Without privilege, a user-mode-only uffd may still be allowed. */
	if (fd < 0 && errno == EPERM)
		fd = syscall(__NR_userfaultfd,
			     O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	return fd;
#else
	errno = EOPNOTSUPP;	/* no userfaultfd syscall on this arch */
	return -1;
#endif
}

static int uffd_api(int uffd)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };

	return ioctl(uffd, UFFDIO_API, &api);
}

static int uffd_register(int uffd, char *addr, size_t len, __u64 *ioctls)
{
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int ret = ioctl(uffd, UFFDIO_REGISTER, &reg);

	if (!ret && ioctls)
		*ioctls = reg.ioctls;
	return ret;
}

/*
 * Register [@addr, @addr + @size) MODE_MISSING, where UFFDIO_COPY must
 * work: NULL, or why not (in @buf).
 */
static const char *uffd_register_copy(int uffd, char *addr, size_t size,
				      char *buf, size_t len)
{
	__u64 ioctls = 0;

	if (uffd_register(uffd, addr, size, &ioctls)) {
		snprintf(buf, len, "UFFDIO_REGISTER MODE_MISSING on shmem: %s",
			 strerror(errno));
		return buf;
	}
	if (!(ioctls & (1ULL << _UFFDIO_COPY)))
		return "UFFDIO_COPY not supported on shmem";
	return NULL;
}

static int uffd_unregister(int uffd, char *addr)
{
	struct uffdio_range range = {
		.start = (unsigned long)addr, .len = pmdsize,
	};

	return ioctl(uffd, UFFDIO_UNREGISTER, &range);
}

FIXTURE(uffd) {
	struct ctx c;
	int uffd;
	bool skipped;
};

FIXTURE_SETUP(uffd)
{
	const char *why;
	char buf[256];

	self->c.fd = -1;
	self->uffd = -1;
	why = env_unavailable(buf, sizeof(buf));
	if (why)
		SETUP_SKIP(return, "%s", why);
	self->uffd = uffd_open();
	if (self->uffd < 0)
		SETUP_SKIP(return, "userfaultfd unavailable: %s", strerror(errno));
	if (uffd_api(self->uffd))
		SETUP_SKIP(return, "UFFDIO_API failed: %s", strerror(errno));
	self->c.fd = memfd_create("collapse_races_uffd", MFD_CLOEXEC);
	ASSERT_GE(self->c.fd, 0);
	ASSERT_EQ(0, ctx_init(&self->c, LAYOUT_HOLES));
}

FIXTURE_TEARDOWN(uffd)
{
	if (self->uffd >= 0)
		close(self->uffd);
	ctx_fini(&self->c);
}

struct fault_ctx {
	int uffd;
	char *addr;			/* page the toucher reads */
	char *src;			/* UFFDIO_COPY source page */
	uint64_t val;			/* what the toucher read */
	atomic_bool touched;
	int verdict;
	char msg[256];
};

static void *toucher_fn(void *arg)
{
	struct fault_ctx *f = arg;

	f->val = __atomic_load_n((uint64_t *)f->addr, __ATOMIC_RELAXED);
	atomic_store_explicit(&f->touched, true, memory_order_release);
	return NULL;
}

/*
 * Resolve one MISSING fault with UFFDIO_COPY.  Fails if the read of the
 * hole completes without an event, or if none comes within 10 s.
 */
static void *handler_fn(void *arg)
{
	struct fault_ctx *f = arg;
	struct pollfd pfd = { .fd = f->uffd, .events = POLLIN };
	struct uffdio_copy copy = { 0 };
	struct uffd_msg m;
	unsigned long addr;
	int n, waited;

	for (waited = 0; waited < 10000; waited += 10) {
		n = poll(&pfd, 1, 10);
		if (n)
			break;
		if (atomic_load_explicit(&f->touched, memory_order_acquire)) {
			f->verdict = CHECK_VIOLATION;
			snprintf(f->msg, sizeof(f->msg),
				 "the read of the hole at %p returned %#llx without a userfaultfd event",
				 f->addr, (unsigned long long)f->val);
			return NULL;
		}
	}
	if (n <= 0) {
		f->verdict = n ? CHECK_ERROR : CHECK_VIOLATION;
		snprintf(f->msg, sizeof(f->msg),
			 "no userfaultfd event for the hole at %p: %s", f->addr,
			 n ? strerror(errno) : "none within 10 s");
		return NULL;
	}
	if (read(f->uffd, &m, sizeof(m)) != sizeof(m)) {
		f->verdict = CHECK_ERROR;
		snprintf(f->msg, sizeof(f->msg), "read(uffd): %s",
			 strerror(errno));
		return NULL;
	}
	if (m.event != UFFD_EVENT_PAGEFAULT) {
		f->verdict = CHECK_VIOLATION;
		snprintf(f->msg, sizeof(f->msg),
			 "userfaultfd event %#x, expected a page fault",
			 m.event);
		return NULL;
	}
	addr = m.arg.pagefault.address & ~(unsigned long)(psize - 1);
	if (addr != (unsigned long)f->addr) {
		f->verdict = CHECK_VIOLATION;
		snprintf(f->msg, sizeof(f->msg),
			 "userfaultfd fault at %#lx, expected %p", addr,
			 f->addr);
	}
	copy.dst = addr;
	copy.src = (unsigned long)f->src;
	copy.len = psize;
	if (ioctl(f->uffd, UFFDIO_COPY, &copy) || copy.copy != (__s64)psize) {
		f->verdict = CHECK_ERROR;
		snprintf(f->msg, sizeof(f->msg), "UFFDIO_COPY: %s (copy %lld)",
			 strerror(errno), (long long)copy.copy);
	}
	return NULL;
}

/*
 * MADV_COLLAPSE must not fill the holes of a range registered with
 * MODE_MISSING: it fails with EBUSY and a later fault on a hole still
 * reaches the userfaultfd handler.
 */
TEST_F_TIMEOUT(uffd, collapse_ebusy, RACE_TIMEOUT)
{
	struct ctx *c = &self->c;
	struct fault_ctx f = { .uffd = self->uffd };
	struct stats st = { 0 };
	pthread_t toucher, handler;
	unsigned long hole;
	const char *why;
	char buf[256];
	char msg[512];
	int ret, err = 0, tries;
	size_t w;

	if (self->skipped)
		return;
	ASSERT_EQ(CHECK_OK, build_round(c, msg, sizeof(msg))) TH_LOG("%s", msg);
	ASSERT_EQ(CHECK_OK, strict_check(c, PROBE_MINCORE, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	why = uffd_register_copy(self->uffd, c->map.addr, pmdsize, buf,
				 sizeof(buf));
	if (why)
		SKIP(return, "%s", why);

	for (tries = 0; tries < COLLAPSE_TRIES; tries++) {
		st.rounds++;
		ret = collapse(c, &err);
		stats_collapse(&st, ret, err, false);
		if (!ret || err != EAGAIN)
			break;
	}
	stats_print("uffd.collapse_ebusy", &st);
	if (ret && err == ENOMEM)
		SKIP(return, "MADV_COLLAPSE could not allocate a huge page");
	if (ret && err == EAGAIN)
		SKIP(return, "MADV_COLLAPSE kept failing with EAGAIN");
	ASSERT_NE(0, ret)
		TH_LOG("%s",
		       "MADV_COLLAPSE succeeded on a range registered with userfaultfd MODE_MISSING: its holes were filled, no MISSING event can come");
	ASSERT_EQ(EBUSY, err)
		TH_LOG("MADV_COLLAPSE on a MODE_MISSING range: %s, expected EBUSY",
		       strerror(err));

	/* The holes stay holes, for lseek() and mincore() alike. */
	ASSERT_EQ(CHECK_OK, strict_check(c, PROBE_MINCORE, msg, sizeof(msg)))
		TH_LOG("after the failed collapse: %s", msg);

	for (hole = 0; hole < nr_pages; hole++)
		if (c->kind[hole] == PG_HOLE)
			break;
	ASSERT_LT(hole, nr_pages);
	f.addr = c->map.addr + hole * psize;
	f.src = malloc(psize);
	ASSERT_NE(NULL, f.src);
	for (w = 0; w < psize / sizeof(uint64_t); w++)
		((uint64_t *)f.src)[w] = uffd_word(hole, w);

	ASSERT_EQ(0, pthread_create(&handler, NULL, handler_fn, &f));
	ASSERT_EQ(0, pthread_create(&toucher, NULL, toucher_fn, &f));
	pthread_join(handler, NULL);
	if (f.verdict && !atomic_load(&f.touched)) {
		/* Unblock the toucher: faults without uffd just proceed. */
		close(self->uffd);
		self->uffd = -1;
	}
	pthread_join(toucher, NULL);
	free(f.src);
	ASSERT_EQ(CHECK_OK, f.verdict) TH_LOG("%s", f.msg);
	ASSERT_EQ(uffd_word(hole, 0), f.val)
		TH_LOG("the faulting read of page %lu saw %#llx", hole,
		       (unsigned long long)f.val);

	/* The copied page is data now, the other holes are still holes. */
	c->kind[hole] = PG_UFFD;
	c->map_holes = false;	/* faulting holes would raise more events */
	ASSERT_EQ(CHECK_OK, strict_check(c, PROBE_MINCORE, msg, sizeof(msg)))
		TH_LOG("after UFFDIO_COPY: %s", msg);
	ASSERT_EQ(CHECK_OK, check_content(c, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_EQ(0, uffd_unregister(self->uffd, c->map.addr));
	c->map_holes = true;
	ASSERT_EQ(CHECK_OK, check_content(c, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/*
 * UFFDIO_REGISTER concurrent with MADV_COLLAPSE.  Nobody faults the holes
 * in, so only the collapse can fill them; once the registration is
 * visible it must not.  A hole seen as a hole after UFFDIO_REGISTER
 * returned must therefore still be a hole after MADV_COLLAPSE returned.
 */
enum { PHASE_BEFORE, PHASE_IN_FLIGHT, PHASE_RETURNED };

struct regrace {
	struct handoff h;
	struct ctx *c;
	int uffd;
	atomic_int phase;	/* of MADV_COLLAPSE: PHASE_* */
	unsigned long spin;	/* delay of the registration, per round */
	/* per round, valid after ack */
	int reg_err;
	int start_phase;	/* phase when UFFDIO_REGISTER was called */
	int reg_phase;		/* phase when UFFDIO_REGISTER returned */
	unsigned char *seen_hole;
	unsigned long probes;
};

static void *register_fn(void *arg)
{
	struct regrace *r = arg;
	struct ctx *c = r->c;
	unsigned long g = 0, i;
	bool last;
	off_t o, d;

	while ((g = handoff_next(&r->h, g))) {
		memset(r->seen_hole, 0, nr_pages);
		r->reg_err = 0;
		r->reg_phase = PHASE_BEFORE;
		atomic_store_explicit(&r->h.started, g, memory_order_release);
		/* Start the random delay when the collapse starts. */
		i = 0;
		while (atomic_load_explicit(&r->phase, memory_order_acquire) ==
		       PHASE_BEFORE)
			if (!(++i % (1UL << 16)))
				sched_yield();
		spin(r->spin);
		r->start_phase = atomic_load_explicit(&r->phase,
						      memory_order_acquire);
		if (uffd_register(r->uffd, c->map.addr, pmdsize, NULL)) {
			r->reg_err = errno;
			atomic_store_explicit(&r->h.ack, g,
					      memory_order_release);
			continue;
		}
		r->reg_phase = atomic_load_explicit(&r->phase,
						    memory_order_acquire);
		do {
			last = atomic_load_explicit(&r->h.done,
						    memory_order_acquire) == g;
			for (i = 0; i < nr_pages; i++) {
				if (c->kind[i] != PG_HOLE)
					continue;
				o = i * psize;
				d = lseek(c->fd, o, SEEK_DATA);
				if ((d < 0 && errno == ENXIO) || d > o)
					r->seen_hole[i] = 1;
			}
			r->probes++;
		} while (!last);
		atomic_store_explicit(&r->h.ack, g, memory_order_release);
	}
	return NULL;
}

static int regrace_loop(struct regrace *r, struct stats *st, char *msg,
			size_t len)
{
	struct ctx *c = r->c;
	uint64_t seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL | 1;
	unsigned long i, hi = 0;
	double t0, t, deadline, spins_per_ms;
	long long a0, a1;
	pthread_t th;
	int ret = CHECK_OK, err, rc;
	off_t o;

	/* How fast we spin: the first guess of hi is one collapse long. */
	t = now_ms();
	spin(1UL << 18);
	spins_per_ms = (1UL << 18) / (now_ms() - t + 0.001);

	if (pthread_create(&th, NULL, register_fn, r)) {
		snprintf(msg, len, "pthread_create failed");
		return CHECK_ERROR;
	}
	t0 = now_ms();
	deadline = t0 + c->seconds * 1e3;
	for (;;) {
		ret = build_round(c, msg, len);
		if (ret)
			break;
		st->rounds++;
		/*
		 * Delay the registration from the start of the collapse by a
		 * random spin in [0, hi], hi tuned so that about a fifth of
		 * the registrations start after the collapse returned: the
		 * whole collapse is swept.
		 */
		r->spin = xorshift(&seed) % (hi + 1);
		atomic_store_explicit(&r->phase, PHASE_BEFORE,
				      memory_order_relaxed);
		a0 = vmstat_read("thp_collapse_alloc");
		atomic_store_explicit(&r->h.gen, c->round,
				      memory_order_release);
		wait_for(&r->h.started, c->round);
		t = now_ms();
		atomic_store_explicit(&r->phase, PHASE_IN_FLIGHT,
				      memory_order_release);
		rc = collapse(c, &err);
		atomic_store_explicit(&r->phase, PHASE_RETURNED,
				      memory_order_release);
		t = now_ms() - t;
		atomic_store_explicit(&r->h.done, c->round,
				      memory_order_release);
		wait_for(&r->h.ack, c->round);
		a1 = vmstat_read("thp_collapse_alloc");
		stats_collapse(st, rc, err, a0 >= 0 && a1 > a0);
		if (r->reg_err) {
			snprintf(msg, len, "UFFDIO_REGISTER: %s",
				 strerror(r->reg_err));
			ret = CHECK_ERROR;
			break;
		}
		if (!hi)
			hi = t * spins_per_ms + 1;
		else if (r->start_phase == PHASE_RETURNED)
			hi -= hi / 4;
		else if (hi < (1UL << 30))
			hi += hi / 10 + 1;
		if (r->reg_phase == PHASE_BEFORE)
			st->early++;
		else if (r->reg_phase == PHASE_RETURNED)
			st->late++;
		else
			st->overlaps++;
		for (i = 0; i < nr_pages; i++) {
			if (!r->seen_hole[i])
				continue;
			o = i * psize;
			if (lseek(c->fd, o, SEEK_DATA) != o)
				continue;
			snprintf(msg, len,
				 "page %lu was a hole after UFFDIO_REGISTER (MODE_MISSING) returned, but SEEK_DATA(%#llx) = %#llx (data) after MADV_COLLAPSE returned %s",
				 i, (long long)o, (long long)o,
				 rc ? strerror(err) : "0");
			st->first_violation_ms = now_ms() - t0;
			ret = CHECK_VIOLATION;
			break;
		}
		if (ret)
			break;
		if (uffd_unregister(r->uffd, c->map.addr)) {
			snprintf(msg, len, "UFFDIO_UNREGISTER: %s",
				 strerror(errno));
			ret = CHECK_ERROR;
			break;
		}
		ret = check_content(c, msg, len);
		if (ret) {
			st->first_violation_ms = now_ms() - t0;
			break;
		}
		if (now_ms() >= deadline)
			break;
	}
	handoff_stop(&r->h, th);
	ret = race_end(c, ret, st, t0, msg, len);
	st->probes = r->probes;
	if (ret == CHECK_VIOLATION)
		st->violations++;
	return ret;
}

TEST_F_TIMEOUT(uffd, register_race, RACE_TIMEOUT)
{
	struct regrace r = { .c = &self->c, .uffd = self->uffd };
	struct stats st = { .show_overlaps = true };
	char msg[512];
	__u64 ioctls = 0;
	int ret;

	if (self->skipped)
		return;
	/* Can this kernel register shmem MODE_MISSING at all? */
	ASSERT_EQ(CHECK_OK, build_round(&self->c, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	if (uffd_register(self->uffd, self->c.map.addr, pmdsize, &ioctls))
		SKIP(return, "UFFDIO_REGISTER MODE_MISSING on shmem: %s",
		     strerror(errno));
	ASSERT_EQ(0, uffd_unregister(self->uffd, self->c.map.addr));

	r.seen_hole = malloc(nr_pages);
	ASSERT_NE(NULL, r.seen_hole);
	ret = regrace_loop(&r, &st, msg, sizeof(msg));
	free(r.seen_hole);
	race_report("uffd.register_race", ret, &st, msg);
	ASSERT_EQ(CHECK_OK, ret);
	if (!st.overlaps)
		SKIP(return, "UFFDIO_REGISTER never returned during a collapse in %lu rounds",
		     st.rounds);
	if (!st.collapsed && !st.failed)
		SKIP(return, "no collapse happened in %lu rounds", st.rounds);
}

/* ---------------------------------------------------------------- */

/*
 * Open, as c->fd, a file on a tmpfs of our own, mounted with @opts in a
 * mount namespace of our own, and detached: nothing is left behind.  The
 * file is unlinked, unless @linked: a kernel may treat an unlinked tmpfs
 * file as anonymous shmem (7.2 does, for the sizes of its folios).
 * NULL, or why not (in @buf).
 */
static const char *tmpfs_file(struct ctx *c, const char *opts, bool linked,
			      char *buf, size_t len)
{
	char path[96];
	int err;

	if (unshare(CLONE_NEWNS)) {
		snprintf(buf, len, "unshare(CLONE_NEWNS): %s", strerror(errno));
		return buf;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		snprintf(buf, len, "making / private: %s", strerror(errno));
		return buf;
	}
	snprintf(c->mnt, sizeof(c->mnt), "/tmp/collapse_races.XXXXXX");
	if (!mkdtemp(c->mnt)) {
		c->mnt[0] = '\0';
		snprintf(buf, len, "mkdtemp: %s", strerror(errno));
		return buf;
	}
	if (mount("tmpfs", c->mnt, "tmpfs", 0, opts)) {
		snprintf(buf, len, "mount -t tmpfs -o %s: %s", opts,
			 strerror(errno));
		return buf;	/* ctx_fini() removes the directory */
	}
	c->mounted = true;
	snprintf(path, sizeof(path), "%s/file", c->mnt);
	c->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	err = errno;
	if (c->fd >= 0 && !linked)
		unlink(path);
	/* An open file keeps its tmpfs alive. */
	if (!umount2(c->mnt, MNT_DETACH))
		c->mounted = false;
	if (!c->mounted && !rmdir(c->mnt))
		c->mnt[0] = '\0';
	if (c->fd < 0) {
		snprintf(buf, len, "open %s: %s", path, strerror(err));
		return buf;
	}
	return NULL;
}

/*
 * A huge page allocated for a write(), a fault or fallocate() of one page
 * fills every hole of its range, as a collapse would.  Where another
 * mapping of the file registered that range MODE_MISSING, the holes must
 * stay holes (a small page is allocated instead), and a read of each one
 * through the registered mapping must raise a MISSING event.  The file is
 * on a tmpfs of our own mounted huge=always, so that, without the
 * registration, a huge page is what the range gets: checked first.
 *
 * The *_beside variants register only the first FILL_PART pages of the
 * range and fill page FILL_BESIDE: the registered holes must stay holes,
 * and where the kernel has large folios smaller than a PMD (it counts
 * them in /sys/kernel/mm/transparent_hugepage/hugepages-*kB/stats), the
 * page filled must get one: the fallback is to the largest order whose
 * range holds no registration (FILL_BESIDE's order-8 range, pages
 * 256-511), not to a small page.
 */
enum { FILL_WRITE, FILL_FAULT, FILL_FALLOC };

/* Read every FILL_STRIDE-th page through the registered mapping. */
#define FILL_STRIDE	37
#define FILL_PART	16	/* *_beside: pages registered */
#define FILL_BESIDE	300	/* *_beside: the page filled */

FIXTURE(uffd_fill) {
	struct ctx c;
	int uffd;
	bool skipped;
};

FIXTURE_VARIANT(uffd_fill) {
	int how;
	const char *name;
	unsigned long part;	/* pages registered; 0: the whole range */
	unsigned long page;	/* the page filled */
};

FIXTURE_VARIANT_ADD(uffd_fill, write) {
	.how = FILL_WRITE,
	.name = "write()",
};

FIXTURE_VARIANT_ADD(uffd_fill, fault) {
	.how = FILL_FAULT,
	.name = "a write fault through an unregistered mapping",
};

FIXTURE_VARIANT_ADD(uffd_fill, falloc) {
	.how = FILL_FALLOC,
	.name = "fallocate()",
};

FIXTURE_VARIANT_ADD(uffd_fill, write_beside) {
	.how = FILL_WRITE,
	.name = "write()",
	.part = FILL_PART,
	.page = FILL_BESIDE,
};

FIXTURE_VARIANT_ADD(uffd_fill, fault_beside) {
	.how = FILL_FAULT,
	.name = "a write fault through an unregistered mapping",
	.part = FILL_PART,
	.page = FILL_BESIDE,
};

FIXTURE_VARIANT_ADD(uffd_fill, falloc_beside) {
	.how = FILL_FALLOC,
	.name = "fallocate()",
	.part = FILL_PART,
	.page = FILL_BESIDE,
};

FIXTURE_SETUP(uffd_fill)
{
	char buf[256];
	const char *why;

	self->c.fd = -1;
	self->uffd = -1;
	why = thp_unavailable();
	if (why)
		SETUP_SKIP(return, "%s", why);
	why = tmpfs_file(&self->c, "huge=always", true, buf, sizeof(buf));
	if (why)
		SETUP_SKIP(return, "%s", why);
	ASSERT_EQ(0, ctx_init(&self->c, LAYOUT_FULL));
	self->uffd = uffd_open();
	if (self->uffd < 0)
		SETUP_SKIP(return, "userfaultfd unavailable: %s", strerror(errno));
	if (uffd_api(self->uffd))
		SETUP_SKIP(return, "UFFDIO_API failed: %s", strerror(errno));
}

FIXTURE_TEARDOWN(uffd_fill)
{
	if (self->uffd >= 0)
		close(self->uffd);
	ctx_fini(&self->c);
}

/*
 * Start a round: an empty file, fresh mappings, page @idx to be filled by
 * @how and every other page a hole.
 */
static int fill_round(struct ctx *c, int how, unsigned long idx, char *msg,
		      size_t len)
{
	unsigned long i;

	c->round++;
	for (i = 0; i < nr_pages; i++)
		c->kind[i] = PG_HOLE;
	c->kind[idx] = how == FILL_FALLOC ? PG_FALLOC : PG_DATA;
	if (ftruncate(c->fd, 0) || ftruncate(c->fd, pmdsize)) {
		snprintf(msg, len, "ftruncate: %s", strerror(errno));
		return CHECK_ERROR;
	}
	if (area_map(&c->map, c->fd) || area_map(&c->map2, c->fd)) {
		snprintf(msg, len, "mmap: %s", strerror(errno));
		return CHECK_ERROR;
	}
	return CHECK_OK;
}

/* Fill page @idx by @how: never through c->map, the registered mapping. */
static int fill_page(struct ctx *c, int how, unsigned long idx, char *msg,
		     size_t len)
{
	switch (how) {
	case FILL_WRITE:
		page_fill(c->buf, c->round, idx);
		if (pwrite(c->fd, c->buf, psize, idx * psize) == (ssize_t)psize)
			return CHECK_OK;
		snprintf(msg, len, "pwrite: %s", strerror(errno));
		return CHECK_ERROR;
	case FILL_FAULT:
		page_fill(c->map2.addr + idx * psize, c->round, idx);
		return CHECK_OK;
	default:
		if (!fallocate(c->fd, 0, idx * psize, psize))
			return CHECK_OK;
		snprintf(msg, len, "fallocate: %s", strerror(errno));
		return CHECK_ERROR;
	}
}

/* Resolves every MISSING fault on the registered mapping with UFFDIO_COPY. */
struct fill_server {
	int uffd;
	char *base;		/* the registered mapping */
	char *src;		/* UFFDIO_COPY source page */
	atomic_bool stop;
	unsigned long events;
	int verdict;
	char msg[256];
};

static void *fill_server_fn(void *arg)
{
	struct fill_server *s = arg;
	struct pollfd pfd = { .fd = s->uffd, .events = POLLIN };
	struct uffdio_copy copy;
	struct uffd_msg m;
	unsigned long idx;
	size_t w;
	int n;

	while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
		n = poll(&pfd, 1, 10);
		if (n < 0 && errno != EINTR)
			goto error;
		if (n <= 0)
			continue;
		if (read(s->uffd, &m, sizeof(m)) != sizeof(m)) {
			if (errno == EAGAIN)
				continue;
			goto error;
		}
		idx = (m.arg.pagefault.address - (unsigned long)s->base) /
		      psize;
		if (m.event != UFFD_EVENT_PAGEFAULT || idx >= nr_pages) {
			s->verdict = CHECK_VIOLATION;
			snprintf(s->msg, sizeof(s->msg),
				 "userfaultfd event %#x at %#llx: expected a page fault in [%p, +%#zx)",
				 m.event,
				 (unsigned long long)m.arg.pagefault.address,
				 s->base, pmdsize);
			goto out;
		}
		for (w = 0; w < psize / sizeof(uint64_t); w++)
			((uint64_t *)s->src)[w] = uffd_word(idx, w);
		memset(&copy, 0, sizeof(copy));
		copy.dst = (unsigned long)s->base + idx * psize;
		copy.src = (unsigned long)s->src;
		copy.len = psize;
		if (ioctl(s->uffd, UFFDIO_COPY, &copy) && errno != EEXIST)
			goto error;
		s->events++;
	}
	return NULL;
error:
	s->verdict = CHECK_ERROR;
	snprintf(s->msg, sizeof(s->msg), "userfaultfd: %s", strerror(errno));
out:
	/* Let a fault waiting for us go on without userfaultfd. */
	close(s->uffd);
	s->uffd = -1;
	return NULL;
}

/*
 * Shmem folios allocated larger than a page and smaller than a PMD, so
 * far: the sum of hugepages-*kB/stats/shmem_alloc of those sizes; -1 if
 * the kernel counts none (before 6.11: no such folios for shmem).
 */
static long long mthp_shmem_allocs(void)
{
	static const char dir[] = "/sys/kernel/mm/transparent_hugepage";
	char path[512], buf[64];
	long long sum = -1;
	unsigned long kb;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (sscanf(e->d_name, "hugepages-%lukB", &kb) != 1 ||
		    kb * 1024 >= pmdsize)
			continue;
		snprintf(path, sizeof(path), "%s/%s/stats/shmem_alloc", dir,
			 e->d_name);
		if (read_file(path, buf, sizeof(buf)))
			continue;
		sum = (sum < 0 ? 0 : sum) + strtoll(buf, NULL, 10);
	}
	closedir(d);
	return sum;
}

TEST_F_TIMEOUT(uffd_fill, missing, RACE_TIMEOUT)
{
	struct ctx *c = &self->c;
	struct fill_server s = { .uffd = self->uffd };
	unsigned long i, reads = 0, zero = 0, first = 0;
	unsigned long registered = variant->part ? variant->part : nr_pages;
	long long h0, h1, h2, m0 = -1, mc = -1, m1, m2;
	bool sub_pmd = false;
	const char *why;
	char buf[256];
	pthread_t server;
	uint64_t v, bad = 0;
	char msg[512];

	if (self->skipped)
		return;

	/* Unregistered, the fill must get a huge page, or there is no test. */
	ASSERT_EQ(CHECK_OK, fill_round(c, variant->how, variant->page, msg,
				       sizeof(msg)))
		TH_LOG("%s", msg);
	h0 = vmstat_read("nr_shmem_hugepages");
	ASSERT_EQ(CHECK_OK, fill_page(c, variant->how, variant->page, msg,
				      sizeof(msg)))
		TH_LOG("%s", msg);
	h1 = vmstat_read("nr_shmem_hugepages");
	if (h0 < 0 || h1 <= h0)
		SKIP(return,
		     "%s of one page of a huge=always tmpfs allocated no huge page (nr_shmem_hugepages %lld -> %lld)",
		     variant->name, h0, h1);

	/*
	 * Beside a registration, a folio smaller than a PMD is expected only
	 * where this kernel gives one to this file: asked with page 0 in the
	 * page cache already (a small page, read through the writer's
	 * MADV_NOHUGEPAGE mapping), so that no PMD fits, and no registration.
	 */
	if (variant->part) {
		ASSERT_EQ(CHECK_OK, fill_round(c, variant->how, variant->page,
					       msg, sizeof(msg)))
			TH_LOG("%s", msg);
		(void)__atomic_load_n(c->wmap, __ATOMIC_RELAXED);
		m0 = mthp_shmem_allocs();
		ASSERT_EQ(CHECK_OK, fill_page(c, variant->how, variant->page,
					      msg, sizeof(msg)))
			TH_LOG("%s", msg);
		mc = mthp_shmem_allocs();
		sub_pmd = m0 >= 0 && mc > m0;
	}

	ASSERT_EQ(CHECK_OK, fill_round(c, variant->how, variant->page, msg,
				       sizeof(msg)))
		TH_LOG("%s", msg);
	why = uffd_register_copy(self->uffd, c->map.addr, registered * psize,
				 buf, sizeof(buf));
	if (why)
		SKIP(return, "%s", why);
	s.base = c->map.addr;
	s.src = malloc(psize);
	ASSERT_NE(NULL, s.src);
	ASSERT_EQ(0, pthread_create(&server, NULL, fill_server_fn, &s));

	h1 = vmstat_read("nr_shmem_hugepages");
	m1 = mthp_shmem_allocs();
	ASSERT_EQ(CHECK_OK, fill_page(c, variant->how, variant->page, msg,
				      sizeof(msg)))
		TH_LOG("%s", msg);
	h2 = vmstat_read("nr_shmem_hugepages");
	m2 = mthp_shmem_allocs();
	/* Registered holes: all of a part, every FILL_STRIDE-th of the range */
	for (i = variant->part ? 0 : 1; i < registered;
	     i += variant->part ? 1 : FILL_STRIDE) {
		v = __atomic_load_n((uint64_t *)(c->map.addr + i * psize),
				    __ATOMIC_RELAXED);
		reads++;
		if (v == uffd_word(i, 0)) {
			c->kind[i] = PG_UFFD;
			continue;
		}
		if (!zero++) {
			first = i;
			bad = v;
		}
	}
	atomic_store_explicit(&s.stop, true, memory_order_release);
	pthread_join(server, NULL);
	free(s.src);
	if (s.uffd < 0)
		self->uffd = -1;
	snprintf(msg, sizeof(msg),
		 "%s of page %lu: nr_shmem_hugepages %lld -> %lld, smaller large folios %lld -> %lld; %lu reads of holes, %lu MISSING events",
		 variant->name, variant->page, h1, h2, m1, m2, reads, s.events);
	TH_LOG("%s", msg);
	ASSERT_EQ(CHECK_OK, s.verdict) TH_LOG("%s", s.msg);
	snprintf(msg, sizeof(msg),
		 "%lu of %lu reads of holes through the mapping registered MODE_MISSING got no event (page %lu read %#llx): the huge page that %s of page %lu allocated filled the holes behind the registration",
		 zero, reads, first, (unsigned long long)bad, variant->name,
		 variant->page);
	ASSERT_EQ(0UL, zero) TH_LOG("%s", msg);
	ASSERT_GE(s.events, reads)
		TH_LOG("%lu MISSING events for %lu reads of holes", s.events,
		       reads);

	/* The file holds the page filled and the copied pages, zeroes elsewhere. */
	ASSERT_EQ(0, uffd_unregister(self->uffd, c->map.addr));
	c->map_holes = false;
	ASSERT_EQ(CHECK_OK, check_content(c, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	if (!variant->part)
		return;
	/* Beside the registration: the largest folio that leaves it alone */
	if (!sub_pmd) {
		snprintf(msg, sizeof(msg),
			 "%s of page %lu with page 0 in the page cache got no folio between a page and a PMD here (%lld -> %lld allocated): only the holes are judged",
			 variant->name, variant->page, m0, mc);
		TH_LOG("%s", msg);
		return;
	}
	snprintf(msg, sizeof(msg),
		 "%s of page %lu, outside the %lu pages registered, got a small page: every large order was given up, though the order-8 range (pages %lu-%lu) holds no registration",
		 variant->name, variant->page, variant->part,
		 variant->page & ~255UL, variant->page | 255UL);
	ASSERT_GT(m2, m1) TH_LOG("%s", msg);
}

/* ---------------------------------------------------------------- */

/*
 * A private tmpfs with room for the written pages only: the two holes
 * at the end of the range cannot be charged, so every collapse fails
 * after the huge page was allocated and must be rolled back.
 */
FIXTURE(rollback) {
	struct ctx c;
	bool skipped;
};

FIXTURE_SETUP(rollback)
{
	char opts[64], buf[256];
	const char *why;

	self->c.fd = -1;
	why = env_unavailable(buf, sizeof(buf));
	if (why)
		SETUP_SKIP(return, "%s", why);
	snprintf(opts, sizeof(opts), "nr_blocks=%lu,huge=never", nr_pages - 2);
	why = tmpfs_file(&self->c, opts, false, buf, sizeof(buf));
	if (why)
		SETUP_SKIP(return, "%s", why);
	ASSERT_EQ(0, ctx_init(&self->c, LAYOUT_TAIL_HOLES));
	/* The tmpfs is full: faulting a hole in would raise SIGBUS. */
	self->c.map_holes = false;
}

FIXTURE_TEARDOWN(rollback)
{
	ctx_fini(&self->c);
}

TEST_F_TIMEOUT(rollback, probes, RACE_TIMEOUT)
{
	struct stats st = { 0 };
	char msg[512];
	int ret;

	if (self->skipped)
		return;
	if (vmstat_read("thp_collapse_alloc") < 0)
		SKIP(return, "no thp_collapse_alloc in /proc/vmstat");
	ret = race_loop(&self->c, PROBE_SEEK | PROBE_MINCORE, &st, msg,
			sizeof(msg));
	race_report("rollback.probes", ret, &st, msg);
	ASSERT_EQ(CHECK_OK, ret);
	if (!st.rollbacks)
		SKIP(return,
		     "no collapse failed after allocating its huge page (%lu rounds, %lu collapsed)",
		     st.rounds, st.collapsed);
}

/* ---------------------------------------------------------------- */

/*
 * What a reader waits for.  mincore() is called precisely so as not to
 * block on I/O, so it must not wait for a page under read I/O; and a
 * reader that does wait for a collapse must die on SIGKILL.  Both need
 * I/O slow enough to watch: null_blk devices, made through configfs,
 * whose every request completes a set time after it was issued.
 */
#define CONFIGFS	"/sys/kernel/config"
#define NULLB_CONFIGFS	CONFIGFS "/nullb"
#define NULLB_MB	64
#define READ_DELAY_MS	2000		/* each read of readahead.mincore */
#define RA_OFFSET	(32UL << 20)	/* away from what udev's blkid reads */
#define RA_LEN		(2UL << 20)
#define HOLD_DELAY_MS	4000		/* each swap write: holds a collapse */
#define SWAP_PAGES	64		/* the slow swap area's size */
#define READER_MS	1000		/* to answer, or to die once killed */
/* By then the hold must be seen, for a reader to be judged before it ends */
#define HOLD_SEEN_MS	(HOLD_DELAY_MS - 2 * READER_MS - 500)
#define WAIT_TIMEOUT	120

struct nullb {
	char dir[96];		/* its configfs directory, once made */
	char name[64];		/* its disk */
	char dev[80];		/* its block device node */
	bool powered;
};

static int write_attr(const char *dir, const char *attr, unsigned long val)
{
	char path[160], buf[32];
	ssize_t n;
	int fd, len;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	len = snprintf(buf, sizeof(buf), "%lu", val);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	return n == len ? 0 : -1;
}

/* Whether this test mounted configfs, which it then unmounts. */
static bool configfs_mounted;

/* null_blk's configfs; mounted where it belongs if nobody has yet. */
static bool nullb_configfs(void)
{
	static char mounts[65536];

	if (!access(NULLB_CONFIGFS, F_OK))
		return true;
	if (!read_file("/proc/mounts", mounts, sizeof(mounts)) &&
	    !strstr(mounts, " configfs ") &&
	    !mount("configfs", CONFIGFS, "configfs", 0, NULL))
		configfs_mounted = true;
	return !access(NULLB_CONFIGFS, F_OK);
}

static void nullb_remove(struct nullb *b)
{
	if (b->powered)
		write_attr(b->dir, "power", 0);
	b->powered = false;
	if (b->dir[0])
		rmdir(b->dir);
	b->dir[0] = '\0';
	if (configfs_mounted && !umount(CONFIGFS))
		configfs_mounted = false;
}

/*
 * A null_blk device whose every request completes @delay_ms after it was
 * issued; @memory_backed keeps what is written (swapon reads its header
 * back).  NULL once its node exists, else why not.
 */
static const char *nullb_make(struct nullb *b, const char *tag,
			      bool memory_backed, unsigned long delay_ms)
{
	struct timespec ms = { 0, 1000000 };
	char buf[32], path[160];
	double t0;

	if (geteuid())
		return "null_blk devices and swap need root";
	if (!nullb_configfs())
		return "no null_blk configfs (CONFIG_BLK_DEV_NULL_BLK, CONFIG_CONFIGFS_FS)";
	snprintf(b->name, sizeof(b->name), "collapse_races_%s_%d", tag,
		 (int)getpid());
	snprintf(b->dir, sizeof(b->dir), NULLB_CONFIGFS "/%s", b->name);
	if (mkdir(b->dir, 0755)) {
		b->dir[0] = '\0';
		nullb_remove(b);
		return "cannot make a null_blk device in " NULLB_CONFIGFS;
	}
	/* (Not every harness tears down after a setup skips: undo here) */
	if (write_attr(b->dir, "size", NULLB_MB) ||
	    write_attr(b->dir, "blocksize", psize) ||
	    write_attr(b->dir, "irqmode", 2) ||	/* completions by timer */
	    write_attr(b->dir, "completion_nsec", delay_ms * 1000000UL) ||
	    write_attr(b->dir, "memory_backed", memory_backed)) {
		nullb_remove(b);
		return "null_blk refused a timed, memory-backed device";
	}
	b->powered = true;
	if (write_attr(b->dir, "power", 1)) {
		nullb_remove(b);
		return "null_blk refused to power a timed, memory-backed device";
	}
	/* The disk is named after the directory (before 5.19, nullb<index>) */
	snprintf(path, sizeof(path), "/sys/block/%s", b->name);
	if (access(path, F_OK)) {
		snprintf(path, sizeof(path), "%s/index", b->dir);
		if (read_file(path, buf, sizeof(buf))) {
			nullb_remove(b);
			return "null_blk has no index for its device";
		}
		snprintf(b->name, sizeof(b->name), "nullb%d", atoi(buf));
	}
	snprintf(b->dev, sizeof(b->dev), "/dev/%s", b->name);
	for (t0 = now_ms(); access(b->dev, F_OK); nanosleep(&ms, NULL)) {
		if (now_ms() - t0 > 5000) {
			nullb_remove(b);
			return "the null_blk device node never appeared in /dev";
		}
	}
	return NULL;
}

/* Requests in flight on the device: reads and writes, -1 if unknown. */
static void nullb_inflight(struct nullb *b, long *reads, long *writes)
{
	char path[160], buf[64];

	*reads = *writes = -1;
	snprintf(path, sizeof(path), "/sys/block/%s/inflight", b->name);
	if (!read_file(path, buf, sizeof(buf)) &&
	    sscanf(buf, "%ld %ld", reads, writes) != 2)
		*reads = *writes = -1;
}

/*
 * Swap of the test's own: on a memory-backed null_blk device, whose
 * writes can be made slow; or on the first ramdisk (brd), whose writes
 * are done before the writer goes on (so that reclaim frees the pages it
 * writes: null_blk's are done only once the plug of the madvise() that
 * pages them out is flushed, and the pages stay in the swap cache).
 */
#define RAMDISK		"/dev/ram0"

struct swapdev {
	char dev[80];		/* the block device, once in use */
	struct nullb b;		/* null_blk's, if that */
	int fd;
	bool on;
};

/* A version 1 swap header of @pages pages on @fd: NULL, or why not. */
static const char *swap_header(int fd, unsigned long pages)
{
	uint32_t *info;
	char *hdr;

	hdr = calloc(1, psize);
	if (!hdr)
		return "no memory for a swap header";
	info = (uint32_t *)(hdr + 1024);
	info[0] = 1;					/* version */
	info[1] = pages;				/* last_page */
	memcpy(hdr + psize - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, hdr, psize, 0) != (ssize_t)psize || fsync(fd)) {
		free(hdr);
		return "cannot write a swap header";
	}
	free(hdr);
	return NULL;
}

/* Write a swap header of @pages pages on the open device, swapon. */
static const char *swapdev_start(struct swapdev *s, unsigned long pages,
				 char *why, size_t len)
{
	const char *err = swap_header(s->fd, pages);

	if (err)
		return err;
	if (swapon(s->dev, 0)) {
		snprintf(why, len, "swapon %s: %s", s->dev, strerror(errno));
		return why;
	}
	s->on = true;
	return NULL;
}

/*
 * Turn on @pages pages of swap on null_blk, whose writes complete
 * @delay_ms after they were issued.  NULL once on, else why not;
 * swapdev_off() undoes what was done either way.
 */
static const char *swapdev_on(struct swapdev *s, const char *tag,
			      unsigned long delay_ms, unsigned long pages,
			      char *why, size_t len)
{
	const char *err;

	err = nullb_make(&s->b, tag, true, delay_ms);
	if (err)
		return err;
	snprintf(s->dev, sizeof(s->dev), "%s", s->b.dev);
	s->fd = open(s->dev, O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		return "cannot open the null_blk device";
	return swapdev_start(s, pages, why, len);
}

/*
 * Swap on the first ramdisk (CONFIG_BLK_DEV_RAM), if nobody uses it:
 * open exclusively (not mounted, not swap), and holding nothing but
 * zeroes or a swap header in its first page.  Up to @pages pages, and
 * at least @least.
 */
static const char *ramswap_on(struct swapdev *s, unsigned long pages,
			      unsigned long least, char *why, size_t len)
{
	unsigned long long bytes;
	const char *err = NULL;
	char *page;
	size_t i;
	int fd;

	if (geteuid())
		return "swap needs root";
	fd = open(RAMDISK, O_RDWR | O_EXCL | O_CLOEXEC);
	if (fd < 0)
		return errno == EBUSY ? "the ramdisk " RAMDISK " is in use" :
		       "no ramdisk " RAMDISK " (CONFIG_BLK_DEV_RAM) for swap";
	page = malloc(psize);
	if (!page || ioctl(fd, BLKGETSIZE64, &bytes) ||
	    pread(fd, page, psize, 0) != (ssize_t)psize) {
		err = "cannot read the ramdisk " RAMDISK;
		goto out;
	}
	for (i = 0; i < psize && !page[i]; i++)
		;
	if (i < psize && memcmp(page + psize - 10, "SWAPSPACE2", 10)) {
		err = "the ramdisk " RAMDISK " holds data (not zeroes, not swap)";
		goto out;
	}
	if (bytes / psize - 1 < pages)
		pages = bytes / psize - 1;
	if (pages < least) {
		err = "the ramdisk " RAMDISK " is too small for swap";
		goto out;
	}
	err = swap_header(fd, pages);
out:
	free(page);
	close(fd);
	if (err)
		return err;
	/* swapon claims the device: our exclusive open must be closed */
	snprintf(s->dev, sizeof(s->dev), "%s", RAMDISK);
	if (swapon(s->dev, 0)) {
		snprintf(why, len, "swapon %s: %s", s->dev, strerror(errno));
		return why;
	}
	s->on = true;
	return NULL;
}

/*
 * Swap off and the device gone: 0, or the errno of a swapoff that failed
 * (then both are left, never a device pulled from under live swap).
 * Whatever was paged out there must be freed or back in memory first.
 */
static int swapdev_off(struct swapdev *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->on) {
		if (swapoff(s->dev))
			return errno;
		s->on = false;
	}
	nullb_remove(&s->b);
	return 0;
}

/* Is any swap on?  -1 if the kernel has none (no CONFIG_SWAP). */
static int swap_is_on(void)
{
	char buf[4096];

	if (read_file("/proc/swaps", buf, sizeof(buf)))
		return -1;
	return !!strchr(buf, '/');
}

/* The state letter of a task (R, S, D, ...), and where it sleeps. */
static char task_state(const char *proc, char *wchan, size_t len)
{
	char path[96], buf[512], *p;

	wchan[0] = '\0';
	snprintf(path, sizeof(path), "%s/stat", proc);
	if (read_file(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	snprintf(path, sizeof(path), "%s/wchan", proc);
	if (read_file(path, wchan, len))
		wchan[0] = '\0';
	return p[2];
}

/*
 * Is the reader in its mincore() or lseek(), asleep?  Where the kernel
 * has no /proc/PID/syscall, asleep uninterruptibly will do.
 */
static bool in_call(const char *proc, int probe, char *wchan, size_t len)
{
	long nr = probe == PROBE_SEEK ? SYS_lseek : SYS_mincore;
	char path[96], buf[256];
	char state;

	state = task_state(proc, wchan, len);
	snprintf(path, sizeof(path), "%s/syscall", proc);
	if (read_file(path, buf, sizeof(buf)))
		return state == 'D';
	return (state == 'D' || state == 'S') && strtol(buf, NULL, 10) == nr;
}

/*
 * swapin.*: the collapse.* races on a range some of whose written pages
 * are swapped out, which collapse_file() swaps in (and waits for) with
 * the huge page already in the page cache below them.  Such a page is
 * data to lseek(), and not resident to mincore() until it is back; once
 * seen resident, it stays so; once a collapse succeeded, every page is.
 * Swap is the test's own, on a ramdisk, which writes at once (so that
 * MADV_PAGEOUT frees what it writes), unless some is on already.
 */
/* Swap for LAYOUT_SWAPPED, if none is on: NULL once there, else why not. */
static const char *swap_for_swapin(struct swapdev *sw, char *buf, size_t len)
{
	const char *why = NULL;

	switch (swap_is_on()) {
	case -1:
		return "no swap support (CONFIG_SWAP)";
	case 0:
		/* Room for a round's pages (about 40) with some to spare */
		why = ramswap_on(sw, 2 * nr_pages, nr_pages / 4, buf, len);
		if (why)
			swapdev_off(sw);
	}
	return why;
}

FIXTURE(swapin) {
	struct ctx c;
	struct swapdev sw;
	bool skipped;
};

FIXTURE_SETUP(swapin)
{
	const char *why;
	char buf[256];

	self->c.fd = -1;
	self->sw.fd = -1;
	why = env_unavailable(buf, sizeof(buf));
	if (why)
		SETUP_SKIP(return, "%s", why);
	self->c.fd = memfd_create("collapse_races_swapin", MFD_CLOEXEC);
	ASSERT_GE(self->c.fd, 0);
	ASSERT_EQ(0, ctx_init(&self->c, LAYOUT_SWAPPED));
	self->c.seconds *= 2;		/* see SWAPIN_TRIES */
	/* Last: an ASSERT above must not leave swap on */
	why = swap_for_swapin(&self->sw, buf, sizeof(buf));
	if (why)
		SETUP_SKIP(return, "%s", why);
}

/* The file goes first: its swap entries are freed, swapoff reads none. */
static int swapin_cleanup(struct ctx *c, struct swapdev *sw)
{
	ctx_fini(c);
	return swapdev_off(sw);
}

FIXTURE_TEARDOWN(swapin)
{
	int err = swapin_cleanup(&self->c, &self->sw);

	if (err)
		ksft_print_msg("swapoff %s: %s: left on\n", self->sw.dev,
			       strerror(err));
}

/* Swap goes off before a skip is said: a failing swapoff fails. */
static void swapin_test(struct __test_metadata *_metadata, struct ctx *c,
			struct swapdev *sw, const char *name, int mask)
{
	const char *why;
	char buf[160];
	int err;

	why = race_judge(_metadata, c, name, mask, buf, sizeof(buf));
	ksft_print_msg("stats: %s swapped_out=%lu left_resident=%lu inconclusive_rounds=%lu\n",
		       name, c->swapped, c->swap_kept, c->inconclusive);
	if (!why && !c->swapped)
		why = "MADV_PAGEOUT never swapped a page out: nothing was swapped in";
	err = swapin_cleanup(c, sw);
	ASSERT_EQ(0, err) {
		TH_LOG("swapoff %s: %s: left on", sw->dev, strerror(err));
	}
	if (why)
		SKIP(return, "%s", why);
}

TEST_F_TIMEOUT(swapin, seek, RACE_TIMEOUT)
{
	if (self->skipped)
		return;
	swapin_test(_metadata, &self->c, &self->sw, "swapin.seek", PROBE_SEEK);
}

TEST_F_TIMEOUT(swapin, mincore, RACE_TIMEOUT)
{
	if (self->skipped)
		return;
	swapin_test(_metadata, &self->c, &self->sw, "swapin.mincore",
		    PROBE_MINCORE);
}

/*
 * cut.*: a hole punch (FALLOC_FL_PUNCH_HOLE) or a truncation racing
 * MADV_COLLAPSE, each round's cut of a random byte range, 8-byte
 * aligned (page aligned every other round), timed to land anywhere from
 * the huge page's allocation (thp_collapse_alloc going up: from then on
 * collapse_file() is at work) to just after the collapse returned.
 * Once both have returned, every byte outside the cut must be as it was,
 * every byte inside it zero: the punched range, or all past the new EOF
 * (seen once the file is extended again, through pread() and through the
 * mapping); a truncated file must have the new size.
 */
FIXTURE(cut) {
	struct ctx c;
	struct swapdev sw;
	bool skipped;
};

FIXTURE_VARIANT(cut) {
	const char *name;
	bool truncate;
	bool swapped;	/* on swapin's layout: the punch meets swap-ins */
};

FIXTURE_VARIANT_ADD(cut, punch) {
	.name = "punch",
	.truncate = false,
};

FIXTURE_VARIANT_ADD(cut, truncate) {
	.name = "truncate",
	.truncate = true,
};

FIXTURE_VARIANT_ADD(cut, punch_swapin) {
	.name = "punch_swapin",
	.truncate = false,
	.swapped = true,
};

FIXTURE_SETUP(cut)
{
	const char *why;
	char buf[256];

	self->c.fd = -1;
	self->sw.fd = -1;
	why = env_unavailable(buf, sizeof(buf));
	if (why)
		SETUP_SKIP(return, "%s", why);
	self->c.fd = memfd_create("collapse_races_cut", MFD_CLOEXEC);
	ASSERT_GE(self->c.fd, 0);
	ASSERT_EQ(0, ctx_init(&self->c, variant->swapped ? LAYOUT_SWAPPED :
			      LAYOUT_HOLES));
	/* Last: an ASSERT above must not leave swap on */
	if (variant->swapped) {
		why = swap_for_swapin(&self->sw, buf, sizeof(buf));
		if (why)
			SETUP_SKIP(return, "%s", why);
	}
}

FIXTURE_TEARDOWN(cut)
{
	int err = swapin_cleanup(&self->c, &self->sw);

	if (err)
		ksft_print_msg("swapoff %s: %s: left on\n", self->sw.dev,
			       strerror(err));
}

struct cutter {
	struct handoff h;
	atomic_ulong go;	/* the round's collapse is about to start */
	struct ctx *c;
	bool truncate;
	off_t from, to;		/* the round's cut: [from, to) */
	long long allocs;	/* thp_collapse_alloc before the collapse */
	double delay_ms;	/* from the huge page's allocation to the cut */
	double t_alloc;		/* when the allocation was seen, or 0 */
	double t0, t1;		/* the cut's call, start and end */
	int err;		/* its errno, 0 if it worked */
};

static void *cutter_fn(void *arg)
{
	struct cutter *k = arg;
	unsigned long g = 0;
	double t;
	int ret;

	while ((g = handoff_next(&k->h, g))) {
		atomic_store_explicit(&k->h.started, g, memory_order_release);
		wait_for(&k->go, g);
		/*
		 * From the huge page's allocation on, collapse_file() is
		 * at work: cut from then on, or once the collapse returned
		 * if it never allocated.
		 */
		k->t_alloc = 0;
		while (atomic_load_explicit(&k->h.done, memory_order_acquire) != g) {
			if (vmstat_read("thp_collapse_alloc") > k->allocs) {
				k->t_alloc = now_ms();
				break;
			}
		}
		for (t = now_ms(); now_ms() - t < k->delay_ms; )
			;
		k->t0 = now_ms();
		if (k->truncate)
			ret = ftruncate(k->c->fd, k->from);
		else
			ret = fallocate(k->c->fd, FALLOC_FL_PUNCH_HOLE |
					FALLOC_FL_KEEP_SIZE, k->from,
					k->to - k->from);
		k->err = ret ? errno : 0;
		k->t1 = now_ms();
		atomic_store_explicit(&k->h.ack, g, memory_order_release);
	}
	return NULL;
}

/* Bytes [from, to) zero, the rest as the round wrote it. */
static int cut_mismatch(struct ctx *c, const char *p, off_t from, off_t to,
			const char *how, char *msg, size_t len)
{
	size_t w, nw = psize / sizeof(uint64_t);
	const uint64_t *q = (const uint64_t *)p;
	unsigned long i;
	uint64_t e;
	off_t off;

	for (i = 0; i < nr_pages; i++) {
		for (w = 0; w < nw; w++) {
			off = i * psize + w * sizeof(uint64_t);
			e = off >= from && off < to ? 0 :
			    expect_word(c->kind[i], c->round, i, w);
			if (q[i * nw + w] == e)
				continue;
			snprintf(msg, len,
				 "%s of byte %#llx (page %lu, %s, %s the cut [%#llx, %#llx)) = %#llx, expected %#llx",
				 how, (long long)off, i, kind_name(c->kind[i]),
				 e ? "outside" : "inside", (long long)from,
				 (long long)to,
				 (unsigned long long)q[i * nw + w],
				 (unsigned long long)e);
			return CHECK_VIOLATION;
		}
	}
	return CHECK_OK;
}

static int cut_check(struct ctx *c, struct cutter *k, char *msg, size_t len)
{
	size_t done = 0;
	struct stat st;
	ssize_t n;
	int ret;

	if (k->err) {
		snprintf(msg, len, "%s: %s", k->truncate ? "ftruncate" :
			 "fallocate(PUNCH_HOLE)", strerror(k->err));
		return CHECK_ERROR;
	}
	if (fstat(c->fd, &st)) {
		snprintf(msg, len, "fstat: %s", strerror(errno));
		return CHECK_ERROR;
	}
	if (st.st_size != (k->truncate ? k->from : (off_t)pmdsize)) {
		snprintf(msg, len, "size %lld after the cut [%#llx, %#llx)",
			 (long long)st.st_size, (long long)k->from,
			 (long long)k->to);
		return CHECK_VIOLATION;
	}
	/* What lay past EOF must come back as zeroes. */
	if (k->truncate && ftruncate(c->fd, pmdsize)) {
		snprintf(msg, len, "ftruncate back: %s", strerror(errno));
		return CHECK_ERROR;
	}
	while (done < pmdsize) {
		n = pread(c->fd, c->buf + done, pmdsize - done, done);
		if (n <= 0) {
			snprintf(msg, len, "pread: %s",
				 n ? strerror(errno) : "short read");
			return CHECK_ERROR;
		}
		done += n;
	}
	ret = cut_mismatch(c, c->buf, k->from, k->to, "pread", msg, len);
	if (!ret)
		ret = cut_mismatch(c, c->map.addr, k->from, k->to,
				   "the mapping's read", msg, len);
	return ret;
}

static void cut_test(struct __test_metadata *_metadata, struct ctx *c,
		     bool truncate, const char *name)
{
	struct cutter k = { .c = c, .truncate = truncate };
	unsigned long overlaps = 0, before = 0, after = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ULL ^ getpid();
	double start, t0, t1, span = 1.0;
	struct stats st = { 0 };
	int ret, rc, err, tries;
	size_t nw = psize / sizeof(uint64_t);
	long long a0, a1;
	bool allocated;
	char msg[512];
	pthread_t th;

	ASSERT_EQ(0, pthread_create(&th, NULL, cutter_fn, &k));
	start = now_ms();
	for (;;) {
		ret = build_round(c, msg, sizeof(msg));
		if (!ret)
			ret = strict_check(c, PROBE_SEEK, msg, sizeof(msg));
		if (ret)
			break;
		st.rounds++;
		/* Anywhere in the range, up to a quarter of it; or a new EOF */
		k.from = xorshift(&seed) % (nr_pages * nw) * sizeof(uint64_t);
		k.to = pmdsize;
		if (!truncate)
			k.to = k.from + (1 + xorshift(&seed) %
					 (nr_pages * nw / 4)) * sizeof(uint64_t);
		if (k.to > (off_t)pmdsize)
			k.to = pmdsize;
		/*
		 * Every other round, whole pages: no partial page at either
		 * end, whose zeroing would wait for the collapse first.
		 */
		if (xorshift(&seed) & 1) {
			k.from &= ~(off_t)(psize - 1);
			k.to = (k.to + psize - 1) & ~(off_t)(psize - 1);
		}
		/* Within the last collapse_file()'s span, or just after it */
		k.delay_ms = (xorshift(&seed) % 1100) * span / 1000.0;
		atomic_store_explicit(&k.h.gen, c->round, memory_order_release);
		wait_for(&k.h.started, c->round);
		t0 = now_ms();
		a0 = vmstat_read("thp_collapse_alloc");
		k.allocs = a0;
		atomic_store_explicit(&k.go, c->round, memory_order_release);
		for (tries = 1; ; tries++) {
			rc = collapse(c, &err);
			a1 = vmstat_read("thp_collapse_alloc");
			/* A failure after the allocation: a rollback */
			allocated = a0 >= 0 && a1 > a0;
			stats_collapse(&st, rc, err, allocated);
			if (!rc || err != EAGAIN || allocated ||
			    tries == max_tries(c))
				break;
			a0 = a1;
		}
		t1 = now_ms();
		atomic_store_explicit(&k.h.done, c->round, memory_order_release);
		wait_for(&k.h.ack, c->round);
		if (!rc && k.t_alloc)
			span = t1 - k.t_alloc;
		if (k.t1 < t0)
			before++;
		else if (k.t0 > t1)
			after++;
		else
			overlaps++;
		ret = cut_check(c, &k, msg, sizeof(msg));
		if (ret || now_ms() - start >= c->seconds * 1e3)
			break;
	}
	handoff_stop(&k.h, th);
	ret = race_end(c, ret, &st, start, msg, sizeof(msg));
	st.show_overlaps = true;
	st.overlaps = overlaps;
	st.early = before;
	st.late = after;
	if (ret == CHECK_VIOLATION)
		st.violations++;
	st.first_violation_ms = now_ms() - start;
	race_report(name, ret, &st, msg);
	ASSERT_EQ(CHECK_OK, ret);
	if (!st.collapsed)
		SKIP(return, "no collapse happened in %lu rounds", st.rounds);
	if (!overlaps)
		SKIP(return, "no cut overlapped a collapse in %lu rounds",
		     st.rounds);
	if (c->layout == LAYOUT_SWAPPED && !c->swapped)
		SKIP(return, "MADV_PAGEOUT never swapped a page out: nothing was swapped in");
}

TEST_F_TIMEOUT(cut, race, RACE_TIMEOUT)
{
	char name[64];

	if (self->skipped)
		return;
	snprintf(name, sizeof(name), "cut.%s.race", variant->name);
	cut_test(_metadata, &self->c, variant->truncate, name);
	if (variant->swapped)
		ksft_print_msg("stats: %s swapped_out=%lu left_resident=%lu\n",
			       name, self->c.swapped, self->c.swap_kept);
}

/*
 * readahead.mincore: pages under read I/O are not resident yet, and
 * mincore() says so at once.
 */
FIXTURE(readahead) {
	struct nullb b;
	int fd;
	char *map;
	bool skipped;
};

FIXTURE_SETUP(readahead)
{
	const char *why;

	self->fd = -1;
	self->map = MAP_FAILED;
	psize = sysconf(_SC_PAGESIZE);
	why = nullb_make(&self->b, "ra", false, READ_DELAY_MS);
	if (why)
		SETUP_SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(readahead)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, RA_LEN);
	if (self->fd >= 0)
		close(self->fd);
	nullb_remove(&self->b);
}

static unsigned long count_resident(char *map, size_t len,
				    unsigned char *vec)
{
	unsigned long i, n = 0;

	if (mincore(map, len, vec))
		return -1UL;
	for (i = 0; i < len / psize; i++)
		n += vec[i] & 1;
	return n;
}

TEST_F_TIMEOUT(readahead, mincore, WAIT_TIMEOUT)
{
	struct timespec ms = { 0, 1000000 };
	unsigned long resident, after;
	double t0, t1, t2, t3;
	long reads, writes;
	unsigned char *vec;

	if (self->skipped)
		return;
	self->fd = open(self->b.dev, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(self->fd, 0);
	self->map = mmap(NULL, RA_LEN, PROT_READ, MAP_SHARED, self->fd,
			 RA_OFFSET);
	ASSERT_NE(MAP_FAILED, self->map);
	vec = malloc(RA_LEN / psize);
	ASSERT_NE(NULL, vec);
	t0 = now_ms();
	/* Starts the reads and returns: the pages sit locked, !uptodate. */
	ASSERT_EQ(0, posix_fadvise(self->fd, RA_OFFSET, RA_LEN,
				   POSIX_FADV_WILLNEED));
	t1 = now_ms();
	nullb_inflight(&self->b, &reads, &writes);
	if (t1 - t0 > READ_DELAY_MS / 4) {
		free(vec);
		SKIP(return, "readahead waited %.0f ms for its I/O", t1 - t0);
	}
	ASSERT_LT(0, reads) {
		TH_LOG("no read in flight after readahead");
	}
	t2 = now_ms();
	if (t2 - t0 > READ_DELAY_MS / 4) {
		free(vec);
		SKIP(return, "too slow to ask before the reads end (%.0f ms)",
		     t2 - t0);
	}
	resident = count_resident(self->map, RA_LEN, vec);
	t3 = now_ms();
	ksft_print_msg("stats: readahead.mincore fadvise_ms=%.1f reads_in_flight=%ld\n",
		       t1 - t0, reads);
	ksft_print_msg("stats: readahead.mincore mincore_ms=%.1f resident=%lu pages=%lu io_ms=%d\n",
		       t3 - t2, resident, RA_LEN / psize, READ_DELAY_MS);
	/* It answered from the uptodate flags, as without the series. */
	EXPECT_LT(t3 - t2, READ_DELAY_MS / 4) {
		TH_LOG("mincore() waited %.0f ms for read I/O", t3 - t2);
	}
	EXPECT_EQ(0UL, resident) {
		TH_LOG("mincore() said %lu pages under read I/O are resident",
		       resident);
	}
	/* The reads were real: once they complete, the pages are resident. */
	do {
		nanosleep(&ms, NULL);
		after = count_resident(self->map, RA_LEN, vec);
	} while (!after && now_ms() - t1 < 3 * READ_DELAY_MS);
	free(vec);
	ksft_print_msg("stats: readahead.mincore resident_after_io=%lu at_ms=%.0f\n",
		       after, now_ms() - t1);
	ASSERT_NE(0UL, after) {
		TH_LOG("nothing resident %d ms after readahead", 3 * READ_DELAY_MS);
	}
	ASSERT_NE(-1UL, after);
	ASSERT_LE(READ_DELAY_MS / 2, now_ms() - t1) {
		TH_LOG("the reads took under %d ms: completion_nsec had no effect",
		       READ_DELAY_MS / 2);
	}
}

/*
 * killable.*: a collapse held in flight, and a reader of its page cache
 * that must answer right or, if it waits for the collapse, die on
 * SIGKILL while the collapse is still held.
 *
 * The hold: pages from the middle of the range on are paged out to a swap
 * device whose writes take HOLD_DELAY_MS.  MADV_COLLAPSE then reaches the
 * first of them with the huge page already in the page cache below it,
 * finds the page still in the swap cache under writeback and waits for
 * the write.  Only the pages below it are judged: the others may be
 * reclaimed from the swap cache once written, and are then rightly not
 * resident.
 */
struct hold {
	int fd;			/* the memfd */
	struct area map;	/* the range collapsed */
	char *map2;		/* never touched: mincore's page-cache path */
	char *wmap;		/* MADV_NOHUGEPAGE: writes, and pages out */
	pthread_t th;
	bool started;
	pid_t reader;		/* the reader, until reaped */
	atomic_ulong tid;	/* of the collapsing thread */
	atomic_ulong done;	/* MADV_COLLAPSE has returned, at t_done */
	double t_done;
	int ret, err;
};

static void *hold_collapse_fn(void *arg)
{
	struct hold *h = arg;
	int ret;

	atomic_store_explicit(&h->tid, syscall(SYS_gettid),
			      memory_order_release);
	ret = madvise(h->map.addr, pmdsize, MADV_COLLAPSE);
	h->err = ret ? errno : 0;
	h->ret = ret;
	h->t_done = now_ms();
	atomic_store_explicit(&h->done, 1, memory_order_release);
	return NULL;
}

static bool hold_done(struct hold *h)
{
	return atomic_load_explicit(&h->done, memory_order_acquire);
}

/* What the reader tells: its answer, and when it had it. */
struct reading {
	long answer;	/* pages below the first paged out not resident, or SEEK_HOLE(0) */
	double t_end;
};

static long read_probe(struct hold *h, int probe, unsigned char *vec)
{
	unsigned long i;
	long n = 0;

	if (probe == PROBE_SEEK)
		return lseek(h->fd, 0, SEEK_HOLE);
	if (mincore(h->map2, pmdsize, vec))
		return -1;
	for (i = 0; i < nr_pages / 2; i++)
		n += !(vec[i] & 1);
	return n;
}

struct killable {
	struct swapdev sw;
	struct hold h;
};

FIXTURE(killable) {
	struct killable k;
	bool skipped;
};

FIXTURE_SETUP(killable)
{
	unsigned long i;
	char buf[256];
	const char *why;

	self->k.h.fd = -1;
	self->k.h.map2 = MAP_FAILED;
	self->k.h.wmap = MAP_FAILED;
	self->k.sw.fd = -1;
	why = env_unavailable(buf, sizeof(buf));
	if (why)
		SETUP_SKIP(return, "%s", why);
	/* Its own swap, alone: the writes that hold the collapse go there. */
	switch (swap_is_on()) {
	case -1:
		SETUP_SKIP(return, "no swap support (CONFIG_SWAP)");
	case 1:
		SETUP_SKIP(return, "swap is on: the test needs its own swap, alone");
	}

	self->k.h.fd = memfd_create("collapse_races_killable", MFD_CLOEXEC);
	ASSERT_GE(self->k.h.fd, 0);
	ASSERT_EQ(0, ftruncate(self->k.h.fd, pmdsize));
	self->k.h.wmap = mmap(NULL, pmdsize, PROT_READ | PROT_WRITE,
			      MAP_SHARED, self->k.h.fd, 0);
	ASSERT_NE(MAP_FAILED, self->k.h.wmap);
	/* Small pages, whatever shmem_enabled says. */
	ASSERT_EQ(0, madvise(self->k.h.wmap, pmdsize, MADV_NOHUGEPAGE));
	for (i = 0; i < nr_pages; i++)
		page_fill(self->k.h.wmap + i * psize, 1, i);
	self->k.h.map2 = mmap(NULL, pmdsize, PROT_READ, MAP_SHARED,
			      self->k.h.fd, 0);
	ASSERT_NE(MAP_FAILED, self->k.h.map2);
	ASSERT_EQ(0, area_reserve(&self->k.h.map));
	ASSERT_EQ(0, area_map(&self->k.h.map, self->k.h.fd));
	/* 6.1 wants a page table to exist, so fault one page in. */
	(void)__atomic_load_n(self->k.h.map.addr, __ATOMIC_RELAXED);
}

/*
 * Undo what the killable tests set up, as far as it got, and say, with 0
 * or an errno, whether the swap they turned on is off again.  Called by
 * each test, which fails on a swapoff that fails, and again by the
 * teardown, for a test that failed before it could.
 */
static int killable_cleanup(struct killable *k)
{
	if (k->h.reader > 0) {
		kill(k->h.reader, SIGKILL);
		waitpid(k->h.reader, NULL, 0);
		k->h.reader = 0;
	}
	if (k->h.started)
		pthread_join(k->h.th, NULL);
	k->h.started = false;
	area_release(&k->h.map);
	if (k->h.map2 != MAP_FAILED)
		munmap(k->h.map2, pmdsize);
	k->h.map2 = MAP_FAILED;
	if (k->h.wmap != MAP_FAILED)
		munmap(k->h.wmap, pmdsize);
	k->h.wmap = MAP_FAILED;
	/* Frees its swap: swapoff has nothing to read back. */
	if (k->h.fd >= 0)
		close(k->h.fd);
	k->h.fd = -1;
	return swapdev_off(&k->sw);
}

FIXTURE_TEARDOWN(killable)
{
	int err = killable_cleanup(&self->k);

	if (err)
		ksft_print_msg("swapoff %s: %s: left on, and its null_blk device\n",
			       self->k.sw.dev, strerror(err));
}

/* The test proper: on a skip, says why in @skip and returns. */
#define KILLABLE_SKIP(statement, fmt, ...) do {			\
	snprintf(skip, skip_len, fmt, ##__VA_ARGS__);			\
	statement;							\
} while (0)

static void killable_test(struct __test_metadata *_metadata,
			  struct killable *self, int probe, const char *name,
			  char *skip, size_t skip_len)
{
	struct timespec ms = { 0, 1000000 };
	char proc[64], cproc[64], wchan[64] = "", why[160];
	double t0, t1, t_kill = 0, t_dead = 0;
	unsigned long i, bad = 0;
	uint64_t got, exp;
	struct reading rd = { -2, 0 };
	long long allocs, allocs0;
	struct hold *h = &self->h;
	long reads, writes = -1;
	unsigned char *vec;
	bool held = false, right = false;
	struct pollfd pfd;
	const char *err;
	int pipefd[2], status;
	pid_t pid;

	/* Room for what the test pages out, little for anyone else's */
	err = swapdev_on(&self->sw, "swap", HOLD_DELAY_MS, SWAP_PAGES, why,
			 sizeof(why));
	if (err)
		KILLABLE_SKIP(return, "%s", err);
	vec = malloc(nr_pages);
	ASSERT_NE(NULL, vec);
	/*
	 * Swap writeback starts, and takes HOLD_DELAY_MS.  Four pages from
	 * the middle on, in case one is not on an LRU list yet (still in
	 * another CPU's batch) and cannot be paged out.
	 */
	allocs0 = vmstat_read("thp_collapse_alloc");
	t0 = now_ms();
	for (i = nr_pages / 2; i < nr_pages; i += nr_pages / 8)
		ASSERT_EQ(0, madvise(h->wmap + i * psize, psize, MADV_PAGEOUT));
	ASSERT_EQ(0, pthread_create(&h->th, NULL, hold_collapse_fn, h));
	h->started = true;
	while (!atomic_load_explicit(&h->tid, memory_order_acquire))
		sched_yield();
	snprintf(proc, sizeof(proc), "/proc/self/task/%lu",
		 atomic_load_explicit(&h->tid, memory_order_relaxed));
	/*
	 * Held: the huge page was allocated, the swap writes are in flight
	 * and the collapse sleeps on a folio (the page under writeback).
	 */
	while (!hold_done(h) && now_ms() - t0 < HOLD_SEEN_MS) {
		/* (System-wide, and absent on some kernels: a hint only) */
		allocs = vmstat_read("thp_collapse_alloc");
		nullb_inflight(&self->sw.b, &reads, &writes);
		held = (allocs < 0 || allocs > allocs0) && writes > 0 &&
		       task_state(proc, wchan, sizeof(wchan)) == 'D' &&
		       (strstr(wchan, "folio") || strstr(wchan, "page"));
		if (held)
			break;
		nanosleep(&ms, NULL);
	}
	if (!held || hold_done(h)) {
		free(vec);
		KILLABLE_SKIP(return,
			      "collapse not held by swap writeback, zswap? (%s; writes %ld; '%s')",
			      hold_done(h) ? "it returned" : "not seen waiting",
			      writes, wchan);
	}

	if (now_ms() - t0 > HOLD_SEEN_MS) {
		free(vec);
		KILLABLE_SKIP(return, "too little of the hold left to judge a reader (%.0f ms in)",
			      now_ms() - t0);
	}
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	wchan[0] = '\0';	/* from now on, the reader's */
	pid = fork();
	if (!pid) {
		rd.answer = read_probe(h, probe, vec);
		rd.t_end = now_ms();
		if (write(pipefd[1], &rd, sizeof(rd)) != sizeof(rd))
			_exit(2);
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_GE(pid, 0);
	h->reader = pid;
	snprintf(cproc, sizeof(cproc), "/proc/%d", (int)pid);
	/* Readable with its answer, or hung up once it is dead. */
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;

	t1 = now_ms();
	while (poll(&pfd, 1, 1) == 0 && !hold_done(h) &&
	       now_ms() - t1 < READER_MS)
		;
	if (!pfd.revents && !hold_done(h)) {
		/* No answer while held: in its call, it must die now. */
		if (!in_call(cproc, probe, wchan, sizeof(wchan))) {
			free(vec);
			KILLABLE_SKIP(return, "the reader was not in its call after %d ms",
				      READER_MS);
		}
		t_kill = now_ms();
		ASSERT_EQ(0, kill(pid, SIGKILL));
		if (poll(&pfd, 1, READER_MS) == 1)
			t_dead = now_ms();
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		h->reader = 0;
		if (WIFEXITED(status)) {
			/* It answered just before the kill: judge the answer */
			t_dead = 0;
			ASSERT_EQ((ssize_t)sizeof(rd),
				  read(pipefd[0], &rd, sizeof(rd)));
		} else {
			ASSERT_NE(0, t_dead) {
				TH_LOG("%s: the reader, asleep in '%s', outlived SIGKILL by %d ms",
				       name, wchan, READER_MS);
			}
		}
	} else {
		/* It answered, or the collapse returned: wait for the answer. */
		ASSERT_EQ(1, poll(&pfd, 1, HOLD_DELAY_MS));
		ASSERT_EQ((ssize_t)sizeof(rd), read(pipefd[0], &rd, sizeof(rd)));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		h->reader = 0;
	}
	close(pipefd[0]);
	pthread_join(h->th, NULL);
	h->started = false;

	ksft_print_msg("stats: %s held_ms=%.0f collapse=%s reader=%s reader_ms=%.1f wchan=%s\n",
		       name, h->t_done - t0, h->ret ? strerror(h->err) : "ok",
		       t_dead ? "killed" : "answered",
		       (t_dead ? t_dead : rd.t_end) - t1, wchan[0] ? wchan : "-");
	if (t_dead) {
		EXPECT_LT(t_dead, h->t_done) {
			TH_LOG("%s: the reader, killed at %.0f ms,", name,
			       t_kill - t1);
			TH_LOG("died only as the collapse returned");
		}
	} else if (probe == PROBE_SEEK) {
		/* Wrong is wrong, collapse in flight or not */
		right = rd.answer == (long)pmdsize;
		EXPECT_TRUE(right) {
			TH_LOG("%s: SEEK_HOLE(0) = %ld on a written %zu-byte file",
			       name, rd.answer, pmdsize);
		}
	} else {
		right = rd.answer == 0;
		EXPECT_TRUE(right) {
			TH_LOG("%s: %ld of the %lu written pages below the hold not resident",
			       name, rd.answer, nr_pages / 2);
		}
	}
	/* Whatever the collapse did, the data is all there. */
	for (i = 0; i < nr_pages; i++)
		bad += page_mismatch(h->map.addr + i * psize, PG_DATA, 1, i,
				     &got, &exp) >= 0;
	free(vec);
	EXPECT_EQ(0UL, bad);
	/* A right answer given once the collapse was over proves nothing */
	if (!t_dead && right && !bad && rd.t_end > h->t_done)
		KILLABLE_SKIP(return, "the reader answered only after the collapse returned");
}

/*
 * Swap goes off before the verdict, so that a failing swapoff fails
 * the test even when it skipped.
 */
static void killable_run(struct __test_metadata *_metadata,
			 struct killable *self, int probe, const char *name)
{
	char skip[256] = "";
	int err;

	killable_test(_metadata, self, probe, name, skip, sizeof(skip));
	err = killable_cleanup(self);
	ASSERT_EQ(0, err) {
		TH_LOG("swapoff %s: %s: left on, and its null_blk device",
		       self->sw.dev, strerror(err));
	}
	if (skip[0])
		SKIP(return, "%s", skip);
}

TEST_F_TIMEOUT(killable, mincore, WAIT_TIMEOUT)
{
	if (self->skipped)
		return;
	killable_run(_metadata, &self->k, PROBE_MINCORE, "killable.mincore");
}

TEST_F_TIMEOUT(killable, seek, WAIT_TIMEOUT)
{
	if (self->skipped)
		return;
	killable_run(_metadata, &self->k, PROBE_SEEK, "killable.seek");
}

TEST_HARNESS_MAIN
