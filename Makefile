# ckptsim — the commands a newcomer needs are `make run` and `make test`.
GO ?= go
PKGS := ./...

.PHONY: run test bench fuzz check-long vet fmt flink-benchmark checkmate example-tidy

# The main job: every named scenario under every protocol; results, tables and figures in out/.
run:
	$(GO) run ./cmd/simrun suite --out out

# docs/flink-benchmark.md: Flink's checkpointing benchmark reproduced, beside the analytical model.
flink-benchmark:
	$(GO) run ./cmd/simrun flink-benchmark --write docs/flink-benchmark.md

# docs/checkmate.md and docs/checkmate/*.svg: CheckMate's comparison of the three families reproduced.
checkmate:
	$(GO) run ./cmd/simrun checkmate --write docs/checkmate.md

# Everything CI runs: vet, formatting, and the test suite with the race-free default budget.
test: vet
	@unformatted=$$(gofmt -l . ); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -count=1 -timeout 14m $(PKGS)
	cd examples/myprotocol && $(GO) test -count=1 -timeout 5m ./...

vet: example-tidy
	$(GO) vet $(PKGS)
	cd examples/myprotocol && $(GO) vet ./...

# examples/myprotocol is a module of its own: its go.mod lists the root module's
# dependencies, so a change of the root go.mod needs a tidy there too (checked
# first, so a stale one fails at once and says what to run).
example-tidy:
	@cd examples/myprotocol && $(GO) mod tidy -diff >/dev/null 2>&1 || { \
		echo "examples/myprotocol/go.mod is stale (the root go.mod changed): run"; \
		echo "    cd examples/myprotocol && go mod tidy"; \
		echo "and commit examples/myprotocol/go.mod and go.sum with your change. The difference:"; \
		$(GO) mod tidy -diff; exit 1; }

# Benchmarks: medians of several runs; compare with benchstat. The kernel and the
# engine, then whole scenarios (BenchmarkScenario/<name>, simsec/s) and explore's
# random cases with every oracle (BenchmarkPropertyRun, runs/s): about 3 minutes
# on 2 cores (docs/performance.md).
bench:
	mkdir -p out && { $(GO) test -run '^$$' -bench . -benchmem -count 6 ./sim/ ./engine/ && \
		$(GO) test -run '^$$' -bench '^(BenchmarkScenario|BenchmarkPropertyRun)$$' -benchmem -count 6 ./scenarios/; } | tee out/bench.txt

# Fuzzing of the loaders and kernel inputs, and coverage-guided search of fault schedules (FuzzSchedule), a few minutes each.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseDuration$$' -fuzztime 2m ./sim/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 2m ./scenarios/
	$(GO) test -run '^$$' -fuzz '^FuzzSchedule$$' -fuzztime 5m ./check/

# Long property runs: many more rapid checks than CI.
check-long:
	$(GO) test -count=1 -timeout 120m ./sim/ ./engine/ ./protocol/ -rapid.checks=5000
	$(GO) test -count=1 -timeout 120m ./scenarios/ -run Property -rapid.checks=2000
	$(GO) test -count=1 -timeout 60m ./check/ -run TestBuiltinProtocols -long
	$(GO) run ./cmd/simrun explore --runs 2000 --protocol all --check-determinism
