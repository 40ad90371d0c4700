#!/usr/bin/env bash
# scripts/exhaustive-mutants.sh [SCENARIO] [MUTANT...]: the exhaustive crash points
# of SCENARIO (default crash-during-alignment) under every built-in mutant (default:
# all of them), one after the other, each with --parallel 1 --max-failures 1: the
# cases it has, how many ran until the first failure, the wall time, and the first
# failing point. Prints a Markdown table for docs/exploration.md. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-crash-during-alignment}
shift || true
command -v jq >/dev/null || { echo "exhaustive-mutants.sh needs jq" >&2; exit 2; }

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/simrun" ./cmd/simrun
mutants=("$@")
if [ ${#mutants[@]} -eq 0 ]; then
	mapfile -t mutants < <("$bin/simrun" protocols | awk '/^mutant\//{print $1}')
fi

now() { date +%s.%N; } # wall clock: this script measures, it never touches a trace
echo "$scenario, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the start, $(date -u +%H:%M:%S) UTC, commit $(git rev-parse --short HEAD)" >&2
echo "| mutant | cases tried until the first failure | wall | first failing point |"
echo "|---|---|---|---|"
for m in "${mutants[@]}"; do
	t0=$(now)
	out=$("$bin/simrun" explore --exhaustive "$scenario" --protocol "$m" --parallel 1 --max-failures 1 --json 2>/dev/null || true)
	t1=$(now)
	wall=$(printf '%.1f s' "$(echo "$t1 - $t0" | bc)")
	tried=$(jq -r .tried <<<"$out")
	cases=$(jq -r .cases <<<"$out")
	if [ "$(jq -r .failures <<<"$out")" -ge 1 ]; then
		first=$(jq -r '.failed[0] | "case \(.case): \(.point), crash of \(.target) (\(.check))"' <<<"$out")
		echo "| \`$m\` | $tried of $cases | $wall | $first |"
	else
		echo "| \`$m\` | $tried of $cases, none failed | $wall | — |"
	fi
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(date -u +%H:%M:%S) UTC" >&2
