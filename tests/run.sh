#!/bin/bash
# `make check`: every suite in turn, then one line that sums them: "N passed, N failed".
# A suite that dies without its own summary line counts as one failure, never as a pass.
set -u
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "make check needs root for its network namespaces: sudo make check" >&2
	exit 1
fi

passed=0 failed=0 skipped=0

run_suite() {
	local name=$1 out line p f s
	shift
	echo "== $name"
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	line=$(grep -E '^([A-Za-z0-9_]+: )?[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$line" ]; then
		echo "FAIL $name: ended without a summary line"
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/^([A-Za-z0-9_]+: )?([0-9]+) passed.*/\2/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
}

run_suite "unit tests" tests/check_parse
run_suite "unit tests under ASan and UBSan" tests/check_parse_san
run_suite "reassembly unit tests" tests/check_reasm
run_suite "reassembly unit tests under ASan and UBSan" tests/check_reasm_san
run_suite "IPv6 unit tests" tests/check_ipv6
run_suite "IPv6 unit tests under ASan and UBSan" tests/check_ipv6_san
run_suite "operations unit tests" tests/check_ops
run_suite "operations unit tests under ASan and UBSan" tests/check_ops_san
run_suite "stream analysis unit tests" tests/check_analyze
run_suite "stream analysis unit tests under ASan and UBSan" tests/check_analyze_san
run_suite "stream health unit tests" tests/check_health
run_suite "stream health unit tests under ASan and UBSan" tests/check_health_san
for t in tests/netns_*.sh; do
	run_suite "$t" "$t"
done
run_suite "fuzz targets, a short run each" tests/fuzz_smoke.sh

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
