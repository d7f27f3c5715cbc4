// SPDX-License-Identifier: GPL-2.0
/*
 * What an RCU xas_find() walk costs, per entry, for one lib/xarray.c:
 * built against tools/testing/radix-tree's objects with that file
 * included (-DXARRAY_C="path"), run under callgrind by scripts/
 * xarray-cost, which counts the instructions of walk() alone.
 *
 *   xas_walk ORDER [find]
 *                     fill 64Ki indices with entries of ORDER, walk them
 *                     20 times, print the number of entries walked; with
 *                     xas_for_each() (its inline xas_next_entry() steps
 *                     over consecutive entries without calling xas_find()),
 *                     or, with "find", with one xas_find() call per entry,
 *                     as find_get_entry() (lseek, truncate) walks
 */
#include "test.h"
#define module_init(x)
#define module_exit(x)
#define MODULE_AUTHOR(x)
#define MODULE_LICENSE(x)
#include XARRAY_C

static DEFINE_XARRAY(xa);

static void store_order(unsigned long index, unsigned int order, void *entry)
{
	XA_STATE_ORDER(xas, &xa, index, order);

	do {
		xas_lock(&xas);
		xas_store(&xas, entry);
		xas_unlock(&xas);
	} while (xas_nomem(&xas, GFP_KERNEL));
}

/*
 * One loop for both walks, specialised by the compiler for each constant
 * @find: the walk callgrind counts has no test of the mode in it.
 */
static __always_inline unsigned long __walk(unsigned long rounds, bool find)
{
	unsigned long n = 0, r;
	void *entry;

	for (r = 0; r < rounds; r++) {
		XA_STATE(xas, &xa, 0);

		rcu_read_lock();
		for (entry = xas_find(&xas, ULONG_MAX); entry;
		     entry = find ? xas_find(&xas, ULONG_MAX) :
				    xas_next_entry(&xas, ULONG_MAX)) {
			if (xas_retry(&xas, entry))
				continue;
			n++;
		}
		rcu_read_unlock();
	}
	return n;
}

static noinline unsigned long walk(unsigned long rounds)
{
	return __walk(rounds, false);	/* xas_for_each() */
}

static noinline unsigned long walk_find(unsigned long rounds)
{
	return __walk(rounds, true);	/* find_get_entry() */
}

int main(int argc, char **argv)
{
	unsigned long i, nr = 1UL << 16;
	unsigned int order;

	bool find = argc == 3 && !strcmp(argv[2], "find");

	if (argc < 2 || argc > 3 || (argc == 3 && !find) ||
	    (order = atoi(argv[1])) > 15) {
		fprintf(stderr, "usage: xas_walk ORDER (0 to 15) [find]\n");
		return 2;
	}
	rcu_register_thread();
	radix_tree_init();
	for (i = 0; i < nr; i += 1UL << order)
		store_order(i, order, xa_mk_value(i));
	printf("entries=%lu\n", find ? walk_find(20) : walk(20));
	xa_destroy(&xa);
	rcu_unregister_thread();
	return 0;
}
