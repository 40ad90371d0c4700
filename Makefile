# ckptsim — the commands a newcomer needs are `make run` and `make test`.
GO ?= go
PKGS := ./...

.PHONY: run test bench fuzz check-long vet fmt

# The main job: a demo of the simulated world until the scenario CLI lands.
run:
	$(GO) run ./cmd/simrun demo --out out

# Everything CI runs: vet, formatting, and the test suite with the race-free default budget.
test: vet
	@unformatted=$$(gofmt -l . ); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -count=1 -timeout 14m $(PKGS)

vet:
	$(GO) vet $(PKGS)

# Benchmarks: medians of several runs; compare with benchstat.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./sim/ ./engine/ | tee out-bench.txt

# Fuzzing of the loaders and kernel inputs, a few minutes each.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseDuration$$' -fuzztime 2m ./sim/

# Long property runs: many more rapid checks than CI.
check-long:
	$(GO) test -count=1 -timeout 120m -rapid.checks=5000 ./sim/
