package ingest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func benchLines(b *testing.B) ([][]byte, int64) {
	files, _ := filepath.Glob("../fixtures/corpus/*/*/state/agents/main/sessions/s*.jsonl")
	var lines [][]byte
	var n int64
	for _, p := range files {
		if filepath.Ext(p) != ".jsonl" || bytes.Contains([]byte(p), []byte("trajectory")) {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			lines = append(lines, append([]byte(nil), sc.Bytes()...))
			n += int64(len(sc.Bytes()) + 1)
		}
	}
	if len(lines) == 0 {
		b.Skip("no fixtures")
	}
	return lines, n
}

// BenchmarkParseEntry measures the transcript-line parser (the fast path,
// falling back to encoding/json where it must) on the real recordings.
func BenchmarkParseEntry(b *testing.B) {
	lines, n := benchLines(b)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if _, err := ParseEntry(l, Source{}, ParseOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParseEntryStd is the same with encoding/json only: the
// reference the fast path is measured against.
func BenchmarkParseEntryStd(b *testing.B) {
	lines, n := benchLines(b)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if _, err := parseEntry(l, Source{}, ParseOptions{}, false, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkParseHookLine(b *testing.B) {
	data, err := os.ReadFile("../fixtures/corpus/openclaw-2026.9.6/08-long/hooks.jsonl")
	if err != nil {
		b.Skip(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if _, err := ParseHookLine(l, Source{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchFile runs parse over every line of the file named by the
// environment variable env (skipping when it is unset), counting its bytes.
func benchFile(b *testing.B, env string, parse func([]byte) error) {
	p := os.Getenv(env)
	if p == "" {
		b.Skip(env + " not set")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if err := parse(l); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParseEntryFile measures the parser on the transcript named by
// CLAWTRACE_BENCH_JSONL (e.g. a large file of a fixtures/gen corpus, whose
// tool outputs are denser in escapes and non-ASCII text than the
// recordings).
func BenchmarkParseEntryFile(b *testing.B) {
	benchFile(b, "CLAWTRACE_BENCH_JSONL", func(l []byte) error {
		_, err := ParseEntry(l, Source{}, ParseOptions{})
		return err
	})
}

// BenchmarkParseHookLineFile is BenchmarkParseHookLine on the hook dump
// named by CLAWTRACE_BENCH_HOOKS (e.g. the one of a fixtures/gen corpus).
func BenchmarkParseHookLineFile(b *testing.B) {
	benchFile(b, "CLAWTRACE_BENCH_HOOKS", func(l []byte) error {
		_, err := ParseHookLine(l, Source{})
		return err
	})
}
