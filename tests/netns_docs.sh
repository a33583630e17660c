#!/bin/bash
# The manual and the README against the binary: mdoc lint, the SYNOPSIS that --help prints, the
# same options in both, and every mcr command the docs show parses. No network is used; the
# name puts it among the suites tests/run.sh runs.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

MCR=$PWD/mcr

name="mcr.1 is clean under mandoc -Tlint -W warning"
lint=$(mandoc -Tlint -W warning mcr.1 2>&1)
if [ $? = 0 ] && [ -z "$lint" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$lint"
fi

# The manual as plain text: mandoc's overstrikes removed (col -b would need bsdextrautils).
man_text() { mandoc -Tascii -O width=400 mcr.1 | sed 's/.\x08//g'; }

# The usage forms, one per line: whitespace collapsed, "usage:" dropped.
forms() { tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//; s/ mcr /\nmcr /g'; }
name="the mcr.1 SYNOPSIS is the --help usage"
synopsis=$(man_text | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' |
	sed '1d;$d' | forms)
usage=$("$MCR" --help | sed -n '1,/^$/p' | sed 's/^usage: //' | forms)
if [ -n "$usage" ] && [ "$synopsis" = "$usage" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "SYNOPSIS: $synopsis | usage: $usage"
fi

name="README's Usage synopsis is the --help usage"
readme=$(sed -n '/^## Usage/,/^`mcr -h`/p' README | sed -n 's/^    //p' | forms)
# README shows the first form only; -h | -V is for the manual.
if [ -n "$readme" ] && [ "$readme" = "$(echo "$usage" | head -n 1)" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "README: $readme | usage: $usage"
fi

name="--help and mcr.1 describe the same long options"
help_opts=$("$MCR" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
man_opts=$(sed -n 's/^\.It Fl \(. , Fl \)\{0,1\}-\([a-z][a-z-]*\).*/--\2/p' mcr.1 | sort -u)
if [ "$(echo "$help_opts" | grep -c .)" -ge 15 ] && [ "$help_opts" = "$man_opts" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "help: $(echo $help_opts) | man: $(echo $man_opts)"
fi

# commands FILE...: each "mcr -..." command in the text, continuation lines joined, one a line;
# usage forms (with IFACE or |) are not commands.
commands() {
	cat "$@" | awk '
		cont { line = line " " $0; if (!sub(/\\$/, "", line)) { print line; cont = 0 } next }
		/^[ \t]+mcr -[-a-zA-Z]/ { line = $0; if (sub(/\\$/, "", line)) cont = 1; else print line }' |
		grep -v -e 'IFACE' -e ' | ' | sed 's/^[ \t]*//'
}

name="every mcr command in README and mcr.1 parses (mcr ARGS -h exits 0)"
DOCS=$(mktemp)
trap 'rm -f "$DOCS"' EXIT
man_text >"$DOCS"
bad= n=0
while IFS= read -r cmd; do
	n=$((n + 1))
	# The words up to the first redirection, pipe or &: what mcr would get.
	read -r -a words <<<"$cmd"
	args=()
	for w in "${words[@]:1}"; do
		[[ $w == *'>'* || $w == '&' || $w == '|' || $w == '&&' ]] && break
		args+=("$w")
	done
	err=$("$MCR" "${args[@]}" -h 2>&1 >/dev/null) || bad="$bad [$cmd: $err]"
done < <(commands README "$DOCS")
if [ "$n" -ge 12 ] && [ -z "$bad" ]; then
	echo "  $n commands"
	mcr_pass "$name"
else
	mcr_fail "$name" "$n commands;$bad"
fi

mcr_summary
