GO ?= go

# The bundled sample export: regenerate with `make sample`.
SAMPLE_DIR   := testdata/sample-export
SAMPLE_FLAGS := --dataset hardware_firmware --records 600 --files 16 --groups 12 \
	--layout by-group --quirks --seed 20261130 --generated-time 2026-11-30T06:00:00Z

# Extra flags for mdvm-bench, e.g. BENCH_FLAGS="--records 3000000 --runs 3".
# The 10M-record software vulnerabilities run, against DuckDB and against a
# hardware_firmware corpus of about the same JSON size (MB/s per JSON byte):
#   make bench BENCH_FLAGS="--dataset software_vulnerabilities --records 10000000 --compare-hardware"
BENCH_FLAGS ?=

# Snapshot datasets `make bench-datasets` measures, one after the other.
BENCH_DATASETS ?= hardware_firmware software_vulnerabilities secure_configuration software_inventory \
	software_inventory_non_cpe browser_extensions certificates security_baselines

.PHONY: build sample bench bench-datasets bench-go demo

build:
	$(GO) build -o bin/mdvm-parquet ./cmd/mdvm-parquet
	$(GO) build -o bin/mdvm-gen ./cmd/mdvm-gen

sample:
	rm -rf $(SAMPLE_DIR)
	$(GO) run ./cmd/mdvm-gen $(SAMPLE_FLAGS) --out $(SAMPLE_DIR)

# End-to-end throughput and peak memory of convert against DuckDB on a
# generated 1M-record corpus, cached under .bench/.
bench: build
	$(GO) run ./cmd/mdvm-bench --bin ./bin/mdvm-parquet $(BENCH_FLAGS)

# `make bench` on a corpus of each of BENCH_DATASETS (BENCH_FLAGS apply to
# each): compare their JSON MB/s. vulnerability_changes, partitioned by event
# date, is not measured.
bench-datasets: build
	$(GO) build -o bin/mdvm-bench ./cmd/mdvm-bench
	set -e; for d in $(BENCH_DATASETS); do ./bin/mdvm-bench --bin ./bin/mdvm-parquet --dataset $$d $(BENCH_FLAGS); done

# Go micro-benchmarks of every package.
bench-go:
	$(GO) test -run '^$$' -bench . ./...

demo:
	$(GO) build -o bin/mdvm-parquet ./cmd/mdvm-parquet && ./bin/mdvm-parquet convert --output ./lake $(SAMPLE_DIR)

.PHONY: test

# Every test, with the race detector; Azure tests start Azurite themselves.
test:
	$(GO) test -race -count=1 ./...
