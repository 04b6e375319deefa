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

# end-to-end run of the real OpenClaw against the scripted provider (slow)
e2e:
    go test -tags e2e ./fixtures/e2e -run TestE2E -v -timeout 60m
