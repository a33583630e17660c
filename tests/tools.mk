# tests/tools.mk - the test programs, included by the top Makefile; paths from the project root.
# Dynamically linked, unlike mcr itself: they only ever run here and in CI.

# Defining targets here must not steal the including Makefile's default goal.
tools_mk_saved_goal := $(.DEFAULT_GOAL)

TEST_TOOLS := tests/sender tests/receiver tests/inject tests/inject6 tests/noring tests/wake \
	tests/streamer tests/oracle_rx tests/batchref
TEST_TOOLS_CFLAGS := -O2 -Wall -Wextra -Werror -std=gnu11

$(TEST_TOOLS): tests/%: tests/%.c tests/payload.h tests/addr.h
	$(CC) $(TEST_TOOLS_CFLAGS) -o $@ $<
tests/inject tests/inject6: tests/frame.h

# Linked with parse.c: the analysis alone, for make bench (added after the rule above).
TEST_TOOLS += tests/bench_analyze
tests/bench_analyze: tests/bench_analyze.c parse.c mcr.h
	$(CC) $(TEST_TOOLS_CFLAGS) -g -D_GNU_SOURCE -I. -o $@ tests/bench_analyze.c parse.c

# A preloaded library: fault injection into mcr_asan's io_uring completions.
TEST_TOOLS += tests/cqefault.so
tests/cqefault.so: tests/cqefault.c
	$(CC) $(TEST_TOOLS_CFLAGS) -shared -fPIC -o $@ $< -ldl

.PHONY: test-tools
test-tools: $(TEST_TOOLS)

.DEFAULT_GOAL := $(tools_mk_saved_goal)
