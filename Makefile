# collapse-races: a Linux mm patch series fixing the races between shmem
# collapse and page cache readers, with its selftests and the bench that
# applies, builds, boots and tests it.  See README.

SHELL := /bin/bash
BUILD_DIR ?= $(CURDIR)/.build
export BUILD_DIR

SELFTEST_SRC := tools/testing/selftests/mm/collapse_races.c
SELFTEST_BIN := $(BUILD_DIR)/selftests/collapse_races

.PHONY: all check deps base series kernels selftests selftest-patch \
	bench stress mbox send clean help upstream-base upstream-series \
	upstream-kernels upstream-mbox upstream-send

# The main job: base and patched kernels, the race selftests on both, and
# the table of results.
all:
	@scripts/make-all

# The project's test suite (what CI runs).
check:
	@scripts/check

help:
	@sed -n '1,10p' README

deps:
	@scripts/install-deps

base: deps
	@scripts/prepare-base

series: base
	@scripts/apply-series

kernels: series
	@for k in base patched; do scripts/build-kernel $$k || exit 1; done

kernel-%: series
	@scripts/build-kernel $*

selftests: $(SELFTEST_BIN)

$(SELFTEST_BIN): $(SELFTEST_SRC) scripts/build-selftests
	@scripts/build-selftests

# Regenerate both series' selftest patches from the sources.
selftest-patch: base upstream-base
	@scripts/gen-selftest-patch
	@SERIES=upstream scripts/gen-selftest-patch

# What the series costs: collapse_bench on base and patched, alternating
# boots; the table goes to $(BUILD_DIR)/results/bench.txt.
bench:
	@scripts/bench

# Reliability: debug-kernel stress, the v5 3/3 deadlock on the frozen
# comparison kernel, rollback soak, base's own selftests, 50-run flake
# rates, the race selftests on the 6.12 reference kernel.  STRESS_ARGS, e.g. "--seconds 120 --flake-runs 20", tunes it.
stress:
	@scripts/stress $(STRESS_ARGS)

# The series as one mbox (cover letter and patches, To/Cc from the base's
# get_maintainer.pl): $(BUILD_DIR)/mbox/collapse-races.mbox.
mbox: series
	@scripts/mbox

# What would be mailed (git send-email --dry-run); only SEND=yes mails.
send: series
	@scripts/send $(if $(filter yes,$(SEND)),--really)

# The upstream series (upstream/series, upstream/patches/) on Debian's 7.2.
upstream-base: deps
	@scripts/prepare-upstream

upstream-series: upstream-base
	@SERIES=upstream scripts/apply-series

upstream-kernels: upstream-series
	@for k in upstream upstream-patched; do scripts/build-kernel $$k || exit 1; done

upstream-mbox: upstream-series
	@SERIES=upstream scripts/mbox

upstream-send: upstream-series
	@SERIES=upstream scripts/send $(if $(filter yes,$(SEND)),--really)

clean:
	rm -rf $(BUILD_DIR)/out $(BUILD_DIR)/selftests $(BUILD_DIR)/logs
