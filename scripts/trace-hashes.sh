#!/usr/bin/env bash
# trace-hashes.sh OUT: write every trace hash a change must not alter to OUT, one
# run per line: the suite (every named scenario under every protocol), then
# `explore --runs N` (default 500) under every protocol at once and under each
# protocol alone, and `explore --runs M` (default 100) under each mutant. A refactoring that must not change any run leaves OUT
# byte-identical:
#
#   git stash; scripts/trace-hashes.sh /tmp/before; git stash pop
#   scripts/trace-hashes.sh /tmp/after && diff /tmp/before /tmp/after && echo same
#
# Needs jq. Takes one to three minutes on 2 cores. RUNS=N and MUTANT_RUNS=M change
# the number of cases.
set -euo pipefail
out=${1:?usage: scripts/trace-hashes.sh OUT}
runs=${RUNS:-500}
mutant_runs=${MUTANT_RUNS:-100}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/simrun" ./cmd/simrun
bin=$tmp/simrun
{
	echo "# suite: scenario protocol seed trace_hash"
	# exit 1 (a check failed) still prints every result; the hashes are what counts here
	{ "$bin" suite --json 2>/dev/null || true; } | jq -r '.[] | "\(.scenario) \(.protocol) \(.seed) \(.trace_hash)"' | sort
	for p in all $("$bin" protocols | awk '{print $1}'); do
		n=$runs
		case $p in mutant/*) n=$mutant_runs ;; esac
		echo "# explore --runs $n --protocol $p: seed protocol scenario trace_hash"
		"$bin" explore --runs "$n" --protocol "$p" --no-shrink --hashes "$tmp/explore" >/dev/null 2>&1 || true
		cat "$tmp/explore"
	done
} >"$tmp/hashes"
mv "$tmp/hashes" "$out"
echo "$(grep -vc '^#' "$out") trace hashes in $out"
