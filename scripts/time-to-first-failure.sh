#!/usr/bin/env bash
# scripts/time-to-first-failure.sh [SECONDS] [MUTANT...]: for each built-in mutant
# (default: all of them), the wall time until random explore finds a first failure
# and until the coverage-guided fuzzer (FuzzSchedule) does, each given at most
# SECONDS (default 120) and PAR workers (default 1), one mutant after the other, so both
# searches of a mutant run under the same load. Prints a Markdown table for
# docs/exploration.md. Needs jq.
#
# The fuzzer runs in a copy of the tracked files (its failing inputs are written
# to testdata/fuzz/ of the copy, not of this tree) with a private GOCACHE whose
# fuzz cache is cleared before each mutant: every search starts from the seed
# inputs alone. Explore runs seed order from root seed 1, without shrinking.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-120}
par=${PAR:-1}
shift || true
command -v jq >/dev/null || { echo "time-to-first-failure.sh needs jq" >&2; exit 2; }

work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "work dir $work" >&2 || trap 'rm -rf "$work" "${corpus:-}"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$work"
# a private build cache, kept between runs: its fuzz cache is cleared per mutant
export GOCACHE="${TMPDIR:-/tmp}/ckptsim-ttff-gocache" GOFLAGS=
mkdir -p "$work/bin" && go build -o "$work/bin/simrun" ./cmd/simrun # the copy has a simrun/ directory
mutants=("$@")
if [ ${#mutants[@]} -eq 0 ]; then
	mapfile -t mutants < <("$work/bin/simrun" protocols | awk '/^mutant\//{print $1}')
fi
(cd "$work" && go test -c -o /dev/null ./check/) # warm the private cache
# the committed corpus (seed files of failures found before) is part of every search's
# seed inputs; what a search writes there is dropped before the next one
corpus=$(mktemp -d) && cp -r "$work/check/testdata/fuzz/." "$corpus/" 2>/dev/null || true

now() { date +%s.%N; } # wall clock: this script measures, it never touches a trace
echo "budget ${budget} s per search, $par worker(s); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the start" >&2
echo "| mutant | explore: first failure | runs | FuzzSchedule: first failure | execs | found by |"
echo "|---|---|---|---|---|---|"
for m in "${mutants[@]}"; do
	t0=$(now)
	out=$("$work/bin/simrun" explore --protocol "$m" --runs 100000000 --time-budget "${budget}s" \
		--max-failures 1 --no-shrink --parallel "$par" --json 2>/dev/null || true)
	t1=$(now)
	if [ "$(jq -r .failures <<<"$out")" = 1 ]; then
		explore=$(printf '%.1f s' "$(echo "$t1 - $t0" | bc)")
	else
		explore="not in ${budget} s"
	fi
	runs=$(jq -r .runs <<<"$out")

	rm -rf "$GOCACHE/fuzz"
	fz=$(cd "$work" && CKPTSIM_FUZZ_PROTOCOL="$m" go test -run '^$' -fuzz '^FuzzSchedule$' \
		-fuzztime "${budget}s" -parallel "$par" ./check/ 2>&1 || true)
	rm -rf "$work/check/testdata/fuzz" && mkdir -p "$work/check/testdata/fuzz" && cp -r "$corpus/." "$work/check/testdata/fuzz/"
	# no execs line when a seed input fails during the baseline
	execs=$( (grep -o 'execs: [0-9]*' <<<"$fz" || true) | tail -1 | cut -d' ' -f2)
	if secs=$(grep -m1 -o -- '--- FAIL: FuzzSchedule ([0-9.]*s)' <<<"$fz"); then
		fuzz=$(sed 's/.*(\([0-9.]*\)s)/\1 s/' <<<"$secs")
		by="fuzzing"
		grep -q 'failure while testing seed corpus entry' <<<"$fz" && by="a seed input"
	else
		fuzz="not in ${budget} s"
		by="—"
	fi
	echo "| \`$m\` | $explore | $runs | $fuzz | ${execs:-0} | $by |"
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end" >&2
