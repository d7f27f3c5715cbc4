/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tools/stress/collapse_stress.c and tools/stress/movecharge.c share:
 * the page sizes, the start time and the helpers that set up a collapse.
 * Include after the system headers.
 */
#ifndef STRESS_COMMON_H
#define STRESS_COMMON_H

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif

static size_t psize;		/* base page */
static size_t pmdsize;		/* huge page */
static struct timespec t_start;

static double elapsed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec - t_start.tv_sec +
	       (ts.tv_nsec - t_start.tv_nsec) / 1e9;
}

static void *reserve_aligned(size_t len, void **res)
{
	char *r = mmap(NULL, len + pmdsize, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (r == MAP_FAILED)
		return NULL;
	*res = r;
	return (void *)(((uintptr_t)r + pmdsize - 1) & ~(uintptr_t)(pmdsize - 1));
}

static uint64_t touch(const char *p)
{
	return *(const volatile uint64_t *)p;
}

static bool pwrite_full(int fd, const char *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, buf + done, len - done, off + done);
		if (n <= 0)
			return false;
		done += n;
	}
	return true;
}

/* MADV_COLLAPSE of a written, faulted extent: 0 or why it fails. */
static int collapse_probe(void)
{
	char *buf, *p;
	void *res;
	int fd, err = 0, i;

	fd = memfd_create("collapse_probe", MFD_CLOEXEC);
	buf = malloc(pmdsize);
	if (fd < 0 || !buf || ftruncate(fd, pmdsize))
		return errno ? errno : ENOMEM;
	memset(buf, 0x5a, pmdsize);
	if (!pwrite_full(fd, buf, pmdsize, 0))
		return errno;
	p = reserve_aligned(pmdsize, &res);
	if (!p || mmap(p, pmdsize, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) ==
		  MAP_FAILED)
		return errno;
	touch(p);
	for (i = 0; i < 100; i++) {
		err = madvise(p, pmdsize, MADV_COLLAPSE) ? errno : 0;
		if (err != EAGAIN)
			break;
	}
	munmap(res, 2 * pmdsize);
	close(fd);
	free(buf);
	return err;
}

#endif /* STRESS_COMMON_H */
