# tests/tools.mk - the test programs, included by the top Makefile; paths from the project root.
# Dynamically linked, unlike mcr itself: they only ever run here and in CI.

# Defining targets here must not steal the including Makefile's default goal.
tools_mk_saved_goal := $(.DEFAULT_GOAL)

TEST_TOOLS := tests/sender tests/receiver tests/inject tests/inject6 tests/noring tests/wake \
	tests/oracle_rx
TEST_TOOLS_CFLAGS := -O2 -Wall -Wextra -Werror -std=gnu11

$(TEST_TOOLS): tests/%: tests/%.c tests/payload.h tests/addr.h
	$(CC) $(TEST_TOOLS_CFLAGS) -o $@ $<
tests/inject tests/inject6: tests/frame.h

.PHONY: test-tools
test-tools: $(TEST_TOOLS)

.DEFAULT_GOAL := $(tools_mk_saved_goal)
