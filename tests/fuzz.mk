# tests/fuzz.mk - libFuzzer targets for parse.c, included by the top Makefile; paths from the
# project root.
#
#   make fuzz                   each target for FUZZ_SECONDS (600), one after the other
#   make -j3 fuzz               all at once
#   make fuzz FUZZ_MERGE=1      then merge what was found into the seed corpus in tests/fuzz/
#
# Inputs found go to $(FUZZ_WORK)/NAME, a copy of the seeds that grows from run to run; crashes
# to $(FUZZ_WORK)/NAME-crash-*. tests/fuzz/ changes only with FUZZ_MERGE=1. Replay one saved
# frame input alone with MCR_FUZZ_FRESH=1 tests/fuzz_frame FILE (see tests/fuzz_frame.c).

# Defining targets here must not steal the including Makefile's default goal.
fuzz_mk_saved_goal := $(.DEFAULT_GOAL)

FUZZ_CC ?= clang
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -I.
FUZZ_SECONDS ?= 600
FUZZ_WORK ?= build/fuzz
FUZZ_MERGE ?= 0
FUZZ_TARGETS := tests/fuzz_frame tests/fuzz_args tests/fuzz_analyze
# A jumbo frame and some; command lines up to 64 arguments of any length that matters.
FUZZ_MAX_LEN_frame := 9100
FUZZ_MAX_LEN_args := 4096
# A few jumbo datagrams of RTP or TS, with their length headers.
FUZZ_MAX_LEN_analyze := 20000

$(FUZZ_TARGETS): tests/fuzz_%: tests/fuzz_%.c parse.c mcr.h tests/fuzz_util.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< parse.c

.PHONY: fuzz fuzz-frame fuzz-args fuzz-analyze fuzz-deps fuzz-clean
fuzz: fuzz-frame fuzz-args fuzz-analyze

# Once, even under -j: clang and libFuzzer's runtime come from .ci/deps.
fuzz-deps:
	@.ci/deps

# libFuzzer exits non-zero on a crash, a leak or a timeout, and so does the recipe.
fuzz-frame fuzz-args fuzz-analyze: fuzz-%: fuzz-deps
	$(MAKE) tests/fuzz_$*
	mkdir -p $(FUZZ_WORK)/$*
	cp tests/fuzz/$*/* $(FUZZ_WORK)/$*/
	tests/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN_$*) \
		-dict=tests/fuzz/$*.dict -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_WORK)/$*- $(FUZZ_WORK)/$*
	@echo "fuzz_$*: corpus $$(ls $(FUZZ_WORK)/$* | wc -l) inputs in $(FUZZ_WORK)/$*"
	@if [ "$(FUZZ_MERGE)" = 1 ]; then \
		tests/fuzz_$* -merge=1 -max_len=$(FUZZ_MAX_LEN_$*) tests/fuzz/$* $(FUZZ_WORK)/$*; \
	fi

fuzz-clean:
	rm -f $(FUZZ_TARGETS)
	rm -rf $(FUZZ_WORK)

clean: fuzz-clean

.DEFAULT_GOAL := $(fuzz_mk_saved_goal)
