#!/bin/bash
# The libFuzzer targets build, and a short run of each on its seed corpus finds nothing: every
# seed replayed, then FUZZ_SMOKE_SECONDS (10) of mutation. `make fuzz` is the long run.
# New inputs go to a temporary directory, never into tests/fuzz/; a crashing input is kept in
# build/fuzz/ (replay a frame input with MCR_FUZZ_FRESH=1 tests/fuzz_frame FILE).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh

SECONDS_EACH=${FUZZ_SMOKE_SECONDS:-10}
WORK=$(mktemp -d /tmp/mcr-fuzz.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT

declare -A max_len=([frame]=9100 [args]=4096 [analyze]=20000)

for name in frame args analyze; do
	target=tests/fuzz_$name
	if ! make -s "$target" >"$WORK/build-$name.log" 2>&1; then
		mcr_fail "fuzz_$name" \
			"does not build: $(tail -n 3 "$WORK/build-$name.log" | tr '\n' ' ')"
		continue
	fi
	mkdir -p "$WORK/$name"
	cp tests/fuzz/"$name"/* "$WORK/$name"/
	"$target" -max_total_time="$SECONDS_EACH" -timeout=10 -max_len="${max_len[$name]}" \
		-dict="tests/fuzz/$name.dict" -artifact_prefix="$WORK/$name-" \
		"$WORK/$name" >"$WORK/$name.log" 2>&1
	status=$?
	runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$WORK/$name.log" | tail -n 1)
	if [ "$status" = 0 ] && [ -n "$runs" ]; then
		mcr_pass "fuzz_$name: $runs runs, no finding"
	else
		# The report: what broke, where in our code, and the input, kept for replaying.
		grep -E -e '^(==[0-9]+== ?ERROR|SUMMARY)' -e 'broken promise|runtime error' \
			-e '#[0-9]+ .*(parse|fuzz_[a-z]+)[.]c:' "$WORK/$name.log" | head -n 20
		for crash in "$WORK/$name"-*; do
			[ -e "$crash" ] || continue
			mkdir -p build/fuzz
			cp "$crash" build/fuzz/
			echo "reproducer build/fuzz/$(basename "$crash"):"
			od -An -tx1 -v "$crash" | tr -d ' \n' | fold -w 96
			echo
		done
		mcr_fail "fuzz_$name" "libFuzzer exited $status${runs:+ after $runs runs}"
	fi
done
mcr_summary
