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

# fuzz every entry point, one after another (a short minimize time keeps
# the big transcript lines from stalling the run; crashes land in
# <pkg>/testdata/fuzz/<Fuzzer>/)
fuzz seconds="20":
    go test ./ingest -run '^$' -fuzz '^FuzzParseEntry$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1
    go test ./ingest -run '^$' -fuzz '^FuzzParseHookLine$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1
    go test ./ingest -run '^$' -fuzz '^FuzzParseIndex$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1
    go test ./ingest -run '^$' -fuzz '^FuzzFastMatchesSlow$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1
    go test ./ingest -run '^$' -fuzz '^FuzzHookFastMatchesSlow$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1
    go test ./ingest -run '^$' -fuzz '^FuzzRowEvent$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1
    go test ./ingest -run '^$' -fuzz '^FuzzReadDB$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1
    go test ./report -run '^$' -fuzz '^FuzzLoadPricing$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1
    go test ./report -run '^$' -fuzz '^FuzzReadBaseline$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1
    go test ./report -run '^$' -fuzz '^FuzzWriteOTLPJSON$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1
    go test ./reconstruct -run '^$' -fuzz '^FuzzMatcher$' -fuzztime {{seconds}}s -fuzzminimizetime 3s -parallel 1

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
