// SPDX-License-Identifier: GPL-2.0
/*
 * collapse_bench: what the collapse-races series costs the readers of the
 * shmem page cache that it changes, lseek(SEEK_DATA/SEEK_HOLE) and
 * mincore(), and shmem collapse itself.  Run it on base and on patched
 * (scripts/bench does, alternating boots) and compare.
 *
 * Every figure is printed as one line,
 *     figure NAME VALUE UNIT
 * or, when it cannot be measured here,
 *     skip NAME REASON
 * and lines starting with '#' say how it went (spread, counts).
 *
 * Files: one memfd of -m MiB (default 64) per layout, all four built and
 * checked (one seek walk and mincore() must see the layout as written)
 * before the measurements, checked again and freed after them:
 *   full     every page written (pwrite), small pages;
 *   sparse   every other page written (even page indices), the others
 *            holes (never allocated);
 *   huge     as full, then every 2 MiB collapsed (MADV_COLLAPSE through a
 *            PMD-aligned mapping) and the mapping faulted again; checked
 *            with ShmemPmdMapped (/proc/self/smaps: all of it mapped by
 *            PMDs), skipped with a reason if not huge;
 *   falloc   fallocate()d over its whole size and never written: every
 *            page is a !uptodate folio, the one case where the series
 *            adds work (a folio trylock per folio met).
 *
 * Uncontended figures (no collapse in flight), each the median of -r
 * (default 10) slices of SECONDS/r each, -s SECONDS (default 2); the
 * slices of all of them taken in turn, round after round:
 *   calib_getppid          getppid() calls per second: a system call the
 *                          series does not touch, to tell how fast the
 *                          host let the guest run (scripts/bench divides
 *                          the other figures of the run by it);
 *   seek_LAYOUT            lseek calls per second.  The calls are those of
 *                          a sparse-aware copy walking the file:
 *                              off = 0
 *                              loop: d = lseek(fd, off, SEEK_DATA)
 *                                    ENXIO: the walk ends, off = 0 again
 *                                    h = lseek(fd, d, SEEK_HOLE)
 *                                    off = h (0 again at EOF)
 *                          so "full" and "huge" walks are SEEK_DATA(0) and
 *                          one SEEK_HOLE that scans the whole file;
 *                          "sparse" walks are 2 calls per written page,
 *                          each scanning one or two entries; "falloc"
 *                          walks are one SEEK_DATA(0) that meets every
 *                          (!uptodate) folio and fails ENXIO.
 *   mincore_cold_LAYOUT    pages per second of mincore() over the whole
 *                          file through a mapping never faulted (no page
 *                          tables: every page is a page cache lookup).
 *   mincore_mapped_LAYOUT  the same through a mapping whose page tables
 *                          exist: every written page faulted in (read);
 *                          "huge" PMD-mapped; "falloc" has its page tables
 *                          made by faulting one page per 2 MiB, then that
 *                          page punched out and fallocated again, so every
 *                          pte is none and looked up in the page cache
 *                          under the page table lock.
 *   collapse_us            MADV_COLLAPSE latency per 2 MiB, median over
 *                          extents: rounds of a fresh 16 MiB memfd, every
 *                          page written and faulted in (small pages), each
 *                          2 MiB collapsed in turn and timed (the call that
 *                          succeeds; EAGAIN attempts are retried, counted
 *                          and not timed).
 *   collapse_holes_us      the same with every other page a hole (what
 *                          patch 2's userfaultfd check applies to).
 *   collapse_p10_us, collapse_holes_p10_us
 *                          their 10th percentiles: under TCG on a busy
 *                          host the median follows the host's load, the
 *                          low percentiles the cost of a collapse.
 *   huge_fault_us          a huge shmem fault, median over faults: the
 *                          first write to a 2 MiB extent of a fresh 16 MiB
 *                          memfd through a PMD-aligned MADV_HUGEPAGE
 *                          mapping (a huge page allocated, cleared and
 *                          mapped by a PMD: checked, ShmemPmdMapped, or
 *                          skipped), extents 1-7 (extent 0 left a hole).
 *                          What patch 7's check costs a file that was
 *                          never registered with userfaultfd.
 *   huge_fault_uffd_us     the same with extent 0 also mapped on its own
 *                          and that mapping registered MODE_MISSING: each
 *                          fault walks the file's mappings (i_mmap) for a
 *                          registration over its extent, finds none, and
 *                          is huge.  (shmem_enabled: where it is "never",
 *                          set to "advise" for these two figures, and back.)
 *
 * Contended figures: a collapser thread loops over the 2 MiB extents of
 * an 8 MiB memfd: punch the extent, write it again through mapping A
 * (faults: small pages, and no i_rwsem for lseek() to wait for, as a
 * pwrite() would hold), MADV_COLLAPSE it (timed).  Meanwhile, for 2 x
 * SECONDS each, one prober times every call of
 *   contended_seek_*       lseek from a random page offset of the file,
 *                          alternately SEEK_DATA and SEEK_HOLE;
 *   contended_mincore_*    mincore() of a random 2 MiB extent, alternately
 *                          through A (faulted, being collapsed) and B
 *                          (never faulted);
 * and reports p50, p99 and max in microseconds, and *_overlap_p99_us, the
 * p99 of the calls that overlapped a MADV_COLLAPSE (a collapse was in
 * flight when they started, or started before they returned): those are
 * the calls that may wait for a folio lock on patched.  contended_collapse_us and
 * contended_collapse_max_us are the median and longest MADV_COLLAPSE of
 * the collapser meanwhile: a reader that waits for a folio lock
 * (patched) waits for at most one collapse.
 *
 * Build: gcc -O2 -g -Wall -Wextra -Werror -static -pthread
 * Usage: collapse_bench [-s SECONDS] [-r SLICES] [-m MIB] [-U]
 * -U: the uncontended figures only (a guest whose clock counts
 * instructions, QEMU -icount, runs its vCPUs in turn: nothing contends).
 * Runs as any user; root is not needed.  Exit: 0, 1 on error, 2 on bad
 * usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/userfaultfd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif

#define THP_SYSFS	"/sys/kernel/mm/transparent_hugepage/"
#define COLLAPSE_TRIES	50		/* EAGAIN retries per extent */
#define COLLAPSE_MIB	16		/* file of the collapse figures */
#define CONTEND_MIB	8		/* file of the contended figures */
#define MIN_COLLAPSES	16		/* samples of collapse_us, at least */
#define MAX_SAMPLES	(1L << 21)	/* latencies kept per contended figure */
#define MAX_SLICES	50

static size_t psize, pmdsize;
static double seconds = 2.0;
static int slices = 10;
static size_t fsize;			/* bytes per layout file */
static const char *collapse_skip;	/* why there is no collapse here */

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "collapse_bench: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "collapse_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (usage: collapse_bench [-s SECONDS] [-r SLICES] [-m MIB] [-U])\n");
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of v[0..n), which it sorts. */
static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

/* A "Name:   N kB" field of /proc/meminfo, in kB; -1 if missing. */
static long meminfo_kb(const char *name)
{
	char line[256];
	size_t len = strlen(name);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* A field of the smaps entry of the VMA starting at addr, in kB; or -1. */
static long smaps_kb(const void *addr, const char *name)
{
	char line[512];
	size_t len = strlen(name);
	bool in = false;
	long v = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			if (in)
				break;
			in = start == (uintptr_t)addr;
			continue;
		}
		if (in && !strncmp(line, name, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* MAP_SHARED of [0, len) of fd at a PMD-aligned address. */
static char *map_aligned(int fd, size_t len)
{
	char *base, *addr;
	size_t extra = pmdsize;

	base = mmap(NULL, len + extra, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	addr = (char *)(((uintptr_t)base + pmdsize - 1) & ~(uintptr_t)(pmdsize - 1));
	if (mmap(addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED)
		die("mmap of the file: %s", strerror(errno));
	if (addr > base)
		munmap(base, addr - base);
	if (base + len + extra > addr + len)
		munmap(addr + len, base + len + extra - (addr + len));
	return addr;
}

static void touch_pages(const char *addr, size_t len, size_t stride)
{
	size_t off;

	for (off = 0; off < len; off += stride)
		(void)*(volatile const char *)(addr + off);
}

static int new_memfd(const char *name, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		die("memfd_create: %s", strerror(errno));
	if (ftruncate(fd, len))
		die("ftruncate: %s", strerror(errno));
	return fd;
}

/* Write [off, off + len) of fd: all of it, or one page in every `stride`. */
static void write_pages(int fd, off_t off, size_t len, size_t stride)
{
	static char *buf;
	static const size_t buflen = 1 << 20;
	size_t done, n;

	if (!buf) {
		buf = malloc(buflen);
		if (!buf)
			die("out of memory");
		memset(buf, 0x5a, buflen);
	}
	for (done = 0; done < len; done += stride == psize ? n : stride) {
		n = stride == psize ? buflen : psize;
		if (n > len - done)
			n = len - done;
		if (pwrite(fd, buf, n, off + done) != (ssize_t)n)
			die("pwrite: %s", errno ? strerror(errno) : "short write");
	}
}

/* MADV_COLLAPSE of one 2 MiB extent, retrying EAGAIN: 0 or an errno. */
static int collapse_extent(char *addr, int *eagains, uint64_t *ns)
{
	uint64_t t0;
	int i, err = 0;

	for (i = 0; i < COLLAPSE_TRIES; i++) {
		t0 = now_ns();
		err = madvise(addr, pmdsize, MADV_COLLAPSE) ? errno : 0;
		if (ns)
			*ns = now_ns() - t0;
		if (err != EAGAIN)
			break;
		if (eagains)
			++*eagains;
	}
	return err;
}

/*
 * Uncontended measurement: step(arg, batch) does `batch` units of work and
 * returns how many operations that was.
 */
typedef long (*step_fn)(void *arg, long batch);

struct figure {
	char name[48];
	const char *unit;
	step_fn step;
	void *arg;
	double rate[MAX_SLICES];
};

/*
 * One slice of a figure: the rate of operations for seconds/slices.  The
 * batch doubles until a step takes 1 ms, so that the clock is read rarely
 * without overshooting the slice.  One untimed step first, to warm up
 * after the previous figure.
 */
static double slice(struct figure *f)
{
	uint64_t slice_ns = seconds / slices * 1e9;
	uint64_t t0, t, s0, deadline;
	long batch = 1;
	double ops = 0;

	f->step(f->arg, 1);
	t0 = t = now_ns();
	deadline = t0 + slice_ns;
	while (t < deadline) {
		s0 = t;
		ops += f->step(f->arg, batch);
		t = now_ns();
		if (t - s0 < 1000000 && batch < (1L << 20))
			batch *= 2;
	}
	return ops / ((t - t0) / 1e9);
}

/* The median rate of the slices, and their spread. */
static void report_figure(struct figure *f)
{
	double v[MAX_SLICES], med;

	memcpy(v, f->rate, sizeof(double) * slices);
	med = median(v, slices);
	printf("figure %s %.9g %s\n", f->name, med, f->unit);
	printf("# %s: %d slices, min %.6g max %.6g (%.1f%% of the median)\n",
	       f->name, slices, v[0], v[slices - 1],
	       med > 0 ? 100 * (v[slices - 1] - v[0]) / med : 0);
}

/* The seek walk of the header comment; `batch` calls. */
struct seek_state {
	int fd;
	off_t off;
};

static long seek_step(void *arg, long batch)
{
	struct seek_state *s = arg;
	long n = 0;
	off_t d, h;

	while (n < batch) {
		d = lseek(s->fd, s->off, SEEK_DATA);
		n++;
		if (d < 0) {
			if (errno != ENXIO)
				die("lseek SEEK_DATA: %s", strerror(errno));
			s->off = 0;
			continue;
		}
		h = lseek(s->fd, d, SEEK_HOLE);
		n++;
		if (h < 0)
			die("lseek SEEK_HOLE: %s", strerror(errno));
		s->off = h >= (off_t)fsize ? 0 : h;
	}
	return n;
}

struct mincore_state {
	char *addr;
	unsigned char *vec;
};

static long mincore_step(void *arg, long batch)
{
	struct mincore_state *s = arg;
	long i;

	for (i = 0; i < batch; i++)
		if (mincore(s->addr, fsize, s->vec))
			die("mincore: %s", strerror(errno));
	return batch * (long)(fsize / psize);
}

enum layout { L_FULL, L_SPARSE, L_HUGE, L_FALLOC, NR_LAYOUTS };
static const char *const layout_name[] = { "full", "sparse", "huge", "falloc" };

/* Is page i data in this layout? */
static bool is_data(enum layout l, size_t i)
{
	switch (l) {
	case L_FULL:
	case L_HUGE:
		return true;
	case L_SPARSE:
		return i % 2 == 0;
	default:
		return false;
	}
}

/*
 * Before measuring, check that both calls see the layout as it is: one
 * seek walk, and mincore() through map.
 */
static void check_layout(enum layout l, int fd, char *map, unsigned char *vec)
{
	size_t i, n = fsize / psize, page = 0;
	off_t d, h = 0;

	for (;;) {
		d = lseek(fd, h, SEEK_DATA);
		if (d < 0 && errno != ENXIO)
			die("lseek SEEK_DATA: %s", strerror(errno));
		if (d < 0)
			d = fsize;
		for (; page < n && page * psize < (size_t)d; page++)
			if (is_data(l, page))
				die("%s: page %zu is data, SEEK_DATA(%#llx) = %#llx",
				    layout_name[l], page, (long long)h,
				    (long long)d);
		if (d >= (off_t)fsize)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0)
			die("lseek SEEK_HOLE: %s", strerror(errno));
		for (; page < n && page * psize < (size_t)h; page++)
			if (!is_data(l, page))
				die("%s: page %zu is a hole, SEEK_HOLE(%#llx) = %#llx",
				    layout_name[l], page, (long long)d,
				    (long long)h);
	}
	if (mincore(map, fsize, vec))
		die("mincore: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if ((vec[i] & 1) != is_data(l, i))
			die("%s: mincore says page %zu is %sresident",
			    layout_name[l], i, vec[i] & 1 ? "" : "not ");
}

static void skip_layout(enum layout l, const char *why)
{
	printf("skip seek_%s %s\n", layout_name[l], why);
	printf("skip mincore_cold_%s %s\n", layout_name[l], why);
	printf("skip mincore_mapped_%s %s\n", layout_name[l], why);
}

/* A layout's file and mappings, and its three figures. */
struct layout_bench {
	enum layout l;
	int fd;
	char *cold, *mapped;
	unsigned char *vec_cold, *vec_mapped;
	struct seek_state ss;
	struct mincore_state ms_cold, ms_mapped;
	struct figure fig[3];
};

/* Build the layout's file and mappings; false (and skip lines) if not. */
static bool layout_setup(struct layout_bench *b, enum layout l)
{
	size_t off;

	b->l = l;
	b->fd = -1;
	if (l == L_HUGE && collapse_skip) {
		skip_layout(l, collapse_skip);
		return false;
	}
	b->vec_cold = malloc(fsize / psize);
	b->vec_mapped = malloc(fsize / psize);
	if (!b->vec_cold || !b->vec_mapped)
		die("out of memory");
	b->fd = new_memfd(layout_name[l], fsize);
	b->cold = map_aligned(b->fd, fsize);
	b->mapped = map_aligned(b->fd, fsize);
	switch (l) {
	case L_FULL:
	case L_HUGE:
		write_pages(b->fd, 0, fsize, psize);
		touch_pages(b->mapped, fsize, psize);
		break;
	case L_SPARSE:
		write_pages(b->fd, 0, fsize, 2 * psize);
		touch_pages(b->mapped, fsize, 2 * psize);
		break;
	case L_FALLOC:
		if (fallocate(b->fd, 0, 0, fsize))
			die("fallocate: %s", strerror(errno));
		/* Page tables for `mapped`, with none of the pages mapped. */
		for (off = 0; off < fsize; off += pmdsize) {
			touch_pages(b->mapped + off, psize, psize);
			if (fallocate(b->fd,
				      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      off, psize) ||
			    fallocate(b->fd, 0, off, psize))
				die("fallocate: %s", strerror(errno));
		}
		break;
	default:
		break;
	}
	if (l == L_HUGE) {
		long before = meminfo_kb("ShmemHugePages"), after, pmd;
		const char *why = NULL;
		int err = 0;

		for (off = 0; off < fsize && !err; off += pmdsize)
			err = collapse_extent(b->mapped + off, NULL, NULL);
		after = meminfo_kb("ShmemHugePages");
		touch_pages(b->mapped, fsize, psize);	/* map it huge */
		pmd = smaps_kb(b->mapped, "ShmemPmdMapped");
		/* ShmemHugePages is system-wide: others may free theirs */
		if (err)
			why = strerror(err);
		else if (pmd != (long)(fsize >> 10))
			why = "not all of the mapping is PMD-mapped (ShmemPmdMapped)";
		if (why) {
			printf("# huge: MADV_COLLAPSE at %#zx: %s\n",
			       off - pmdsize, why);
			skip_layout(l, "MADV_COLLAPSE did not collapse the file");
			munmap(b->cold, fsize);
			munmap(b->mapped, fsize);
			close(b->fd);
			b->fd = -1;
			return false;
		}
		printf("# huge: ShmemPmdMapped %ld kB of %zu kB, ShmemHugePages +%ld kB\n",
		       pmd, fsize >> 10, after - before);
	}
	check_layout(l, b->fd, b->cold, b->vec_cold);
	check_layout(l, b->fd, b->mapped, b->vec_mapped);

	b->ss = (struct seek_state){ .fd = b->fd };
	b->ms_cold = (struct mincore_state){ b->cold, b->vec_cold };
	b->ms_mapped = (struct mincore_state){ b->mapped, b->vec_mapped };
	b->fig[0] = (struct figure){ .unit = "calls/s", .step = seek_step,
				     .arg = &b->ss };
	b->fig[1] = (struct figure){ .unit = "pages/s", .step = mincore_step,
				     .arg = &b->ms_cold };
	b->fig[2] = (struct figure){ .unit = "pages/s", .step = mincore_step,
				     .arg = &b->ms_mapped };
	snprintf(b->fig[0].name, sizeof(b->fig[0].name), "seek_%s",
		 layout_name[l]);
	snprintf(b->fig[1].name, sizeof(b->fig[1].name), "mincore_cold_%s",
		 layout_name[l]);
	snprintf(b->fig[2].name, sizeof(b->fig[2].name), "mincore_mapped_%s",
		 layout_name[l]);
	return true;
}

static void layout_teardown(struct layout_bench *b)
{
	if (b->fd < 0)
		return;
	if (smaps_kb(b->cold, "Rss") != 0)
		die("%s: the never-faulted mapping has pages mapped",
		    layout_name[b->l]);
	check_layout(b->l, b->fd, b->cold, b->vec_cold);
	munmap(b->cold, fsize);
	munmap(b->mapped, fsize);
	close(b->fd);
	free(b->vec_cold);
	free(b->vec_mapped);
}

/* getppid() calls: the speed of the (virtual) CPU at the moment */
static long getppid_step(void *arg, long batch)
{
	long i;

	(void)arg;
	for (i = 0; i < batch; i++)
		syscall(SYS_getppid);
	return batch;
}

/*
 * The uncontended figures: all layouts built first, then their figures
 * measured in turn, one slice each per round, so that a burst of noise
 * (TCG on shared cores) spreads over all figures rather than one.  Each
 * round starts with a slice of calib_getppid, a system call that the
 * series does not touch: the figures over it cancel out how fast the
 * host let this guest run.
 */
static void bench_layouts(void)
{
	struct layout_bench b[NR_LAYOUTS];
	struct figure calib = { .name = "calib_getppid", .unit = "calls/s",
				.step = getppid_step };
	bool ok[NR_LAYOUTS];
	int l, r, i;

	for (l = 0; l < NR_LAYOUTS; l++)
		ok[l] = layout_setup(&b[l], l);
	for (r = 0; r < slices; r++) {
		calib.rate[r] = slice(&calib);
		for (l = 0; l < NR_LAYOUTS; l++)
			for (i = 0; ok[l] && i < 3; i++)
				b[l].fig[i].rate[r] = slice(&b[l].fig[i]);
	}
	report_figure(&calib);
	for (l = 0; l < NR_LAYOUTS; l++) {
		for (i = 0; ok[l] && i < 3; i++)
			report_figure(&b[l].fig[i]);
		layout_teardown(&b[l]);
	}
}

/* collapse_us / collapse_holes_us */
static void bench_collapse(const char *name, size_t stride)
{
	size_t len = (size_t)COLLAPSE_MIB << 20, off;
	uint64_t t_end = now_ns() + seconds * 1e9, ns;
	double *v;
	int n = 0, max = 4096, eagains = 0, rounds = 0, err, fd;
	char *map, p10name[64];

	if (collapse_skip) {
		printf("skip %s %s\n", name, collapse_skip);
		printf("skip %.*s_p10_us %s\n", (int)(strlen(name) - 3), name,
		       collapse_skip);
		return;
	}
	v = malloc(max * sizeof(*v));
	if (!v)
		die("out of memory");
	while ((now_ns() < t_end || n < MIN_COLLAPSES) && n + 64 < max) {
		fd = new_memfd(name, len);
		map = map_aligned(fd, len);
		write_pages(fd, 0, len, stride);
		touch_pages(map, len, stride);
		for (off = 0; off < len; off += pmdsize) {
			err = collapse_extent(map + off, &eagains, &ns);
			if (err)
				die("%s: MADV_COLLAPSE: %s", name, strerror(err));
			v[n++] = ns / 1e3;
		}
		rounds++;
		munmap(map, len);
		close(fd);
	}
	qsort(v, n, sizeof(*v), cmp_double);
	printf("figure %s %.9g us\n", name, median(v, n));
	/* The 10th percentile: the cost of a collapse the host did not slow */
	snprintf(p10name, sizeof(p10name), "%.*s_p10_us",
		 (int)(strlen(name) - 3), name);
	printf("figure %s %.9g us\n", p10name, v[n / 10]);
	printf("# %s: %d collapses of 2 MiB in %d rounds, %d EAGAIN retried; min %.0f p90 %.0f max %.0f us\n",
	       name, n, rounds, eagains, v[0], v[n * 9 / 10], v[n - 1]);
	fflush(stdout);
	free(v);
}

#define SHMEM_ENABLED	THP_SYSFS "shmem_enabled"

/*
 * huge_fault_us / huge_fault_uffd_us: with `uffd`, extent 0 is mapped a
 * second time and that mapping registered MODE_MISSING.
 */
static void bench_fault(const char *name, bool uffd, const char *skip)
{
	size_t len = (size_t)COLLAPSE_MIB << 20, nr = len / pmdsize, e;
	uint64_t t_end = now_ns() + seconds * 1e9, t0;
	int n = 0, max = 4096, rounds = 0, fd, ufd = -1;
	char *map, *reg = NULL;
	long pmd_kb;
	double *v;

	if (!skip && nr < 2)
		skip = "a file of one extent";
	if (skip) {
		printf("skip %s %s\n", name, skip);
		return;
	}
	v = malloc(max * sizeof(*v));
	if (!v)
		die("out of memory");
	while ((now_ns() < t_end || n < MIN_COLLAPSES) && n + (int)nr < max) {
		fd = new_memfd(name, len);
		map = map_aligned(fd, len);
		if (madvise(map, len, MADV_HUGEPAGE))
			die("%s: MADV_HUGEPAGE: %s", name, strerror(errno));
		if (uffd) {
			struct uffdio_api api = { .api = UFFD_API };
			struct uffdio_register r = { .mode = UFFDIO_REGISTER_MODE_MISSING };

			reg = mmap(NULL, pmdsize, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0);
			if (reg == MAP_FAILED)
				die("%s: mmap: %s", name, strerror(errno));
			ufd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
			if (ufd < 0 || ioctl(ufd, UFFDIO_API, &api)) {
				printf("skip %s userfaultfd: %s\n", name, strerror(errno));
				munmap(reg, pmdsize);
				munmap(map, len);
				close(fd);
				free(v);
				return;
			}
			r.range.start = (uintptr_t)reg;
			r.range.len = pmdsize;
			if (ioctl(ufd, UFFDIO_REGISTER, &r))
				die("%s: UFFDIO_REGISTER of a shmem mapping: %s",
				    name, strerror(errno));
		}
		for (e = 1; e < nr; e++) {
			t0 = now_ns();
			*(volatile char *)(map + e * pmdsize) = 1;
			v[n++] = (now_ns() - t0) / 1e3;
		}
		pmd_kb = smaps_kb(map, "ShmemPmdMapped");
		if (pmd_kb != (long)((len - pmdsize) >> 10)) {
			printf("skip %s faults not huge: ShmemPmdMapped %ld kB of %zu\n",
			       name, pmd_kb, (len - pmdsize) >> 10);
			n = -1;
		}
		if (uffd) {
			close(ufd);
			munmap(reg, pmdsize);
		}
		munmap(map, len);
		close(fd);
		rounds++;
		if (n < 0)
			break;
	}
	if (n > 0) {
		qsort(v, n, sizeof(*v), cmp_double);
		printf("figure %s %.9g us\n", name, median(v, n));
		printf("# %s: %d huge faults in %d rounds; min %.0f p90 %.0f max %.0f us\n",
		       name, n, rounds, v[0], v[n * 9 / 10], v[n - 1]);
	}
	fflush(stdout);
	free(v);
}

static bool shmem_enabled_set;	/* "never" made "advise" by fault_setup() */

/* Put shmem_enabled back to "never" (also at exit, after a die()). */
static void shmem_enabled_back(void)
{
	int fd;

	if (!shmem_enabled_set)
		return;
	shmem_enabled_set = false;
	fd = open(SHMEM_ENABLED, O_WRONLY);
	if (fd < 0 || write(fd, "never", 5) != 5)
		fprintf(stderr, "collapse_bench: cannot set %s back to never: %s\n",
			SHMEM_ENABLED, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/*
 * The fault figures need huge shmem faults through an MADV_HUGEPAGE
 * mapping: shmem_enabled "advise" (or "always", "within_size", "force").
 * Where it is "never", set "advise" if this may, until
 * shmem_enabled_back().  NULL, or why there are no fault figures.
 */
static const char *fault_setup(void)
{
	char buf[256];
	int fd;

	if (read_text(SHMEM_ENABLED, buf, sizeof(buf)))
		return "no shmem THP (" SHMEM_ENABLED " missing)";
	if (strstr(buf, "[deny]"))
		return "shmem THP disabled (shmem_enabled is deny)";
	if (!strstr(buf, "[never]"))
		return NULL;
	fd = open(SHMEM_ENABLED, O_WRONLY);
	if (fd < 0 || write(fd, "advise", 6) != 6) {
		if (fd >= 0)
			close(fd);
		return "shmem_enabled is never and cannot be set to advise here";
	}
	close(fd);
	shmem_enabled_set = true;
	atexit(shmem_enabled_back);
	return NULL;
}

/* The contended figures. */
struct contend {
	int fd;
	size_t len;
	char *a, *b;		/* faulted (collapsed) / never faulted */
	atomic_bool stop;
	/* collapser */
	double *coll_us;
	int ncoll, maxcoll, eagains, fails;
	uint64_t coll_ns;	/* time spent in MADV_COLLAPSE */
	atomic_ulong inflight;	/* odd while in MADV_COLLAPSE */
};

static void *collapser(void *arg)
{
	struct contend *c = arg;
	size_t off = 0;
	uint64_t t0;
	int err;

	while (!atomic_load(&c->stop)) {
		if (fallocate(c->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      off, pmdsize))
			die("fallocate: %s", strerror(errno));
		/* Faults, not pwrite(): lseek() would wait for its i_rwsem */
		memset(c->a + off, 0x5a, pmdsize);
		t0 = now_ns();
		atomic_fetch_add(&c->inflight, 1);
		err = madvise(c->a + off, pmdsize, MADV_COLLAPSE) ? errno : 0;
		atomic_fetch_add(&c->inflight, 1);
		t0 = now_ns() - t0;
		c->coll_ns += t0;
		if (err == EAGAIN)
			c->eagains++;
		else if (err)
			c->fails++;
		else if (c->ncoll < c->maxcoll)
			c->coll_us[c->ncoll++] = t0 / 1e3;
		if (err != EAGAIN)
			off = (off + pmdsize) % c->len;
	}
	return NULL;
}

static void report_latency(const char *name, uint64_t *lat, long n,
			   uint64_t *olap, long no)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("figure %s_p50_us %.1f us\n", name, lat[n / 2] / 1e3);
	printf("figure %s_p99_us %.1f us\n", name,
	       lat[(n * 99 + 99) / 100 - 1] / 1e3);
	printf("figure %s_max_us %.1f us\n", name, lat[n - 1] / 1e3);
	if (no) {
		qsort(olap, no, sizeof(*olap), cmp_u64);
		printf("figure %s_overlap_p99_us %.1f us\n", name,
		       olap[(no * 99 + 99) / 100 - 1] / 1e3);
	} else {
		printf("skip %s_overlap_p99_us no call overlapped a MADV_COLLAPSE\n",
		       name);
	}
	printf("# %s: %ld calls timed, %ld (%.1f%%) overlapped a MADV_COLLAPSE",
	       name, n, no, 100.0 * no / n);
	if (no)
		printf(": those p50 %.1f p99 %.1f max %.1f us", olap[no / 2] / 1e3,
		       olap[(no * 99 + 99) / 100 - 1] / 1e3, olap[no - 1] / 1e3);
	printf("\n");
}

static void contend_phase(struct contend *c, bool seek)
{
	const char *name = seek ? "contended_seek" : "contended_mincore";
	uint64_t *lat = malloc(MAX_SAMPLES * sizeof(*lat));
	uint64_t *olap = malloc(MAX_SAMPLES * sizeof(*olap));
	unsigned char *vec = malloc(pmdsize / psize);
	uint64_t seed = 0x9e3779b97f4a7c15ULL, t0, t_end, r;
	size_t npages = c->len / psize;
	unsigned long g0;
	long n = 0, no = 0;
	pthread_t th;
	char *addr;

	if (!lat || !olap || !vec)
		die("out of memory");
	atomic_store(&c->stop, false);
	if (pthread_create(&th, NULL, collapser, c))
		die("pthread_create failed");
	t_end = now_ns() + 2 * seconds * 1e9;
	while (n < MAX_SAMPLES && now_ns() < t_end) {
		r = xorshift(&seed);
		g0 = atomic_load(&c->inflight);
		if (seek) {
			off_t off = (r >> 8) % npages * psize;
			int whence = n % 2 ? SEEK_HOLE : SEEK_DATA;

			t0 = now_ns();
			if (lseek(c->fd, off, whence) < 0 && errno != ENXIO)
				die("lseek: %s", strerror(errno));
		} else {
			addr = (n % 2 ? c->b : c->a) +
			       (r >> 8) % (c->len / pmdsize) * pmdsize;
			t0 = now_ns();
			if (mincore(addr, pmdsize, vec))
				die("mincore: %s", strerror(errno));
		}
		lat[n] = now_ns() - t0;
		/* A collapse was running when the call began, or began since */
		if (g0 % 2 || atomic_load(&c->inflight) != g0)
			olap[no++] = lat[n];
		n++;
	}
	atomic_store(&c->stop, true);
	pthread_join(th, NULL);
	report_latency(name, lat, n, olap, no);
	free(lat);
	free(olap);
	free(vec);
}

static void bench_contended(void)
{
	static const char *const names[] = {
		"contended_seek_p50_us", "contended_seek_p99_us",
		"contended_seek_max_us", "contended_seek_overlap_p99_us",
		"contended_mincore_p50_us", "contended_mincore_p99_us",
		"contended_mincore_max_us", "contended_mincore_overlap_p99_us",
		"contended_collapse_us", "contended_collapse_max_us",
	};
	struct contend c = { .len = (size_t)CONTEND_MIB << 20 };
	uint64_t t0 = now_ns(), dt;
	unsigned int i;

	if (collapse_skip) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			printf("skip %s %s\n", names[i], collapse_skip);
		return;
	}
	c.maxcoll = 1 << 16;
	c.coll_us = malloc(c.maxcoll * sizeof(*c.coll_us));
	if (!c.coll_us)
		die("out of memory");
	c.fd = new_memfd("contended", c.len);
	c.a = map_aligned(c.fd, c.len);
	c.b = map_aligned(c.fd, c.len);
	write_pages(c.fd, 0, c.len, psize);
	touch_pages(c.a, c.len, psize);
	contend_phase(&c, true);
	contend_phase(&c, false);
	dt = now_ns() - t0;
	if (!c.ncoll)
		die("contended: no MADV_COLLAPSE succeeded (%d EAGAIN, %d failed)",
		    c.eagains, c.fails);
	qsort(c.coll_us, c.ncoll, sizeof(*c.coll_us), cmp_double);
	printf("figure contended_collapse_us %.1f us\n",
	       median(c.coll_us, c.ncoll));
	printf("figure contended_collapse_max_us %.1f us\n",
	       c.coll_us[c.ncoll - 1]);
	printf("# contended: %d collapses (%d EAGAIN, %d failed), in MADV_COLLAPSE %.0f%% of the time\n",
	       c.ncoll, c.eagains, c.fails, 100.0 * c.coll_ns / dt);
	fflush(stdout);
	munmap(c.a, c.len);
	munmap(c.b, c.len);
	close(c.fd);
	free(c.coll_us);
}

/* NULL if MADV_COLLAPSE of shmem works here, else why not. */
static const char *collapse_unavailable(void)
{
	static char why[128];
	char buf[256];
	int fd, err;
	char *map;

	if (read_text(THP_SYSFS "shmem_enabled", buf, sizeof(buf)))
		return "no shmem THP (" THP_SYSFS "shmem_enabled missing)";
	if (strstr(buf, "[deny]"))
		return "shmem THP disabled (shmem_enabled is deny)";
	if (!strstr(buf, "[never]") && !strstr(buf, "[advise]"))
		printf("# note: shmem_enabled is %.*s: files may start huge\n",
		       (int)strcspn(buf, "\n"), buf);
	fd = new_memfd("probe", pmdsize);
	map = map_aligned(fd, pmdsize);
	write_pages(fd, 0, pmdsize, psize);
	touch_pages(map, pmdsize, psize);
	err = collapse_extent(map, NULL, NULL);
	munmap(map, pmdsize);
	close(fd);
	if (!err)
		return NULL;
	snprintf(why, sizeof(why), "MADV_COLLAPSE of a written shmem range: %s",
		 strerror(err));
	return why;
}

static double parse_num(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		usage_error("%s: want a number from %g to %g, got '%s'", opt,
			    lo, hi, s);
	return v;
}

int main(int argc, char **argv)
{
	struct utsname u;
	char buf[256];
	uint64_t t0 = now_ns();
	int opt;
	double mib = 64;
	bool contended = true;
	const char *fault_skip;

	opterr = 0;
	while ((opt = getopt(argc, argv, ":s:r:m:Uh")) != -1) {
		switch (opt) {
		case 's':
			seconds = parse_num("-s", optarg, 0.01, 600);
			break;
		case 'r':
			slices = parse_num("-r", optarg, 1, MAX_SLICES);
			if (slices != atof(optarg))
				usage_error("-r: want a whole number, got '%s'", optarg);
			break;
		case 'm':
			mib = parse_num("-m", optarg, 2, 4096);
			break;
		case 'U':
			contended = false;
			break;
		case 'h':
			usage_error("prints the figures of collapse-races' bench");
			break;
		case ':':
			usage_error("-%c needs an argument", optopt);
			break;
		default:
			usage_error("unknown option '-%c'", optopt);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);

	setvbuf(stdout, NULL, _IOLBF, 0);
	psize = sysconf(_SC_PAGESIZE);
	pmdsize = 2UL << 20;
	if (!read_text(THP_SYSFS "hpage_pmd_size", buf, sizeof(buf)))
		pmdsize = strtoul(buf, NULL, 10);
	if (!pmdsize || pmdsize % psize)
		die("unexpected hpage_pmd_size %zu", pmdsize);
	fsize = (size_t)mib << 20;
	if (fsize % pmdsize || fsize != mib * (1 << 20))
		usage_error("-m: want a multiple of %zu MiB, got '%g'",
			    pmdsize >> 20, mib);
	uname(&u);
	if (read_text("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		      buf, sizeof(buf)))
		strcpy(buf, "?");
	buf[strcspn(buf, "\n")] = '\0';
	printf("# collapse_bench on %s %s (%ld CPUs, clocksource %s): page %zu, pmd %zu, files of %zu MiB, %d slices of %.3g s per figure\n",
	       u.sysname, u.release, sysconf(_SC_NPROCESSORS_ONLN), buf, psize,
	       pmdsize, fsize >> 20, slices, seconds / slices);
	collapse_skip = collapse_unavailable();
	if (collapse_skip)
		printf("# no collapse: %s\n", collapse_skip);

	bench_layouts();
	bench_collapse("collapse_us", psize);
	bench_collapse("collapse_holes_us", 2 * psize);
	fault_skip = fault_setup();
	bench_fault("huge_fault_us", false, fault_skip);
	bench_fault("huge_fault_uffd_us", true, fault_skip);
	shmem_enabled_back();
	if (contended)
		bench_contended();
	printf("# collapse_bench done in %.1f s\n", (now_ns() - t0) / 1e9);
	return 0;
}
