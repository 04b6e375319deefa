# Optional sugar: every recipe is a plain command you can run without just.

default: test

# build the clawtrace binary into ./bin
build:
    go build -trimpath -o bin/clawtrace ./cmd/clawtrace

# the test suite (what CI runs, after .ci/run installs DuckDB)
test:
    go test ./...

# vet and formatting
lint:
    gofmt -l . | tee /dev/stderr | (! read)
    go vet ./...

# throughput and peak RSS on generated 10 MB / 100 MB / 1 GB corpora
bench:
    scripts/bench.sh

# Go micro-benchmarks of the parser and the matcher
microbench:
    go test -run '^$' -bench . -benchmem ./ingest ./reconstruct

# short fuzzing of every parser
fuzz seconds="20":
    go test ./ingest -run '^$' -fuzz FuzzParseEntry -fuzztime {{seconds}}s
    go test ./ingest -run '^$' -fuzz FuzzParseHookLine -fuzztime {{seconds}}s
    go test ./ingest -run '^$' -fuzz FuzzParseIndex -fuzztime {{seconds}}s

# regenerate golden files after an intended change
golden:
    go test ./reconstruct ./report ./cmd/clawtrace -run Golden -update

# accuracy against the recorded corpus
eval:
    go run ./cmd/clawtrace eval --corpus fixtures/corpus

# end-to-end run of the real OpenClaw (npm) against the scripted provider
# (~7 min warm, ~9 cold; docs/e2e.md). Extra flags go after the package:
#   just e2e -e2e.versions 2026.7.35 -record /tmp/rec
e2e *ARGS:
    go test -tags e2e -count=1 -timeout 45m -v -run TestE2E ./fixtures/e2e {{ARGS}}
