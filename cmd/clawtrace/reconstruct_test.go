package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const fixtureDir = "../../fixtures/corpus/openclaw-2026.9.6"

// fixtureArgs are the inputs of one recorded scenario: state dir + hook dump.
func fixtureArgs(scenario string) []string {
	d := filepath.Join(fixtureDir, scenario)
	return []string{filepath.Join(d, "state"), filepath.Join(d, "hooks.jsonl")}
}

// run runs clawtrace with args and returns the exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// otlpLines decodes OTLP JSON lines and returns the number of spans.
func otlpLines(t *testing.T, out string) (lines, spans int) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(line))
		if err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		lines++
		spans += td.SpanCount()
	}
	return lines, spans
}

func TestNewCmdReconstruct(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-f", "csv"}, exitUsage, `-f "csv": want otlp-json or parquet`},
		{[]string{"-f", "parquet"}, exitUsage, "-f parquet needs -o DIR"},
		{[]string{"--semconv", "langfuse"}, exitUsage, `--semconv "langfuse"`},
		{[]string{"--redact", "("}, exitUsage, "--redact: error parsing regexp"},
		{[]string{"--content", "--redact", "("}, exitUsage, "--redact: error parsing regexp"},
		{[]string{"--bogus"}, exitUsage, "unknown flag"},
	} {
		args := append([]string{"reconstruct"}, c.args...)
		args = append(args, fixtureArgs("01-plain")...)
		code, _, stderr := run(t, args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.msg)
		}
	}
}

func TestReconstructRun(t *testing.T) {
	args := append([]string{"reconstruct", "--workers", "1"}, fixtureArgs("04-parallel")...)
	code, out1, stderr := run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines, spans := otlpLines(t, out1)
	if lines == 0 || spans == 0 {
		t.Fatalf("%d lines, %d spans", lines, spans)
	}
	args[2] = "4"
	if _, out2, _ := run(t, args...); out2 != out1 {
		t.Errorf("output differs between --workers 1 and 4")
	}

	// -o: the same bytes, written atomically, with a summary on stderr.
	dir := t.TempDir()
	path := filepath.Join(dir, "traces.jsonl")
	code, stdout, stderr := run(t, append(args, "-o", path)...)
	if code != exitOK || stdout != "" {
		t.Fatalf("-o: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != out1 {
		t.Errorf("-o file differs from stdout output (err %v)", err)
	}
	if want := "wrote " + strconv.Itoa(spans) + " spans"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
	assertOnlyFile(t, dir, "traces.jsonl")
}

func TestReconstructOpenInferenceContent(t *testing.T) {
	args := append([]string{"reconstruct", "--semconv", "openinference", "--content", "--redact", `child\.txt`}, fixtureArgs("10-subagent")...)
	code, out, stderr := run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	otlpLines(t, out)
	for _, want := range []string{`"openinference.span.kind"`, `"clawtrace.content.input"`, "[REDACTED]"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	if strings.Contains(out, "child.txt") {
		t.Errorf("redacted text in the output")
	}
	// Without --content no text at all.
	_, plain, _ := run(t, append([]string{"reconstruct"}, fixtureArgs("10-subagent")...)...)
	if strings.Contains(plain, "clawtrace.content.") {
		t.Errorf("content written without --content")
	}
}

func assertOnlyFile(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("directory holds %v, want %v (temp file left behind?)", got, names)
	}
}

func TestAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := atomicWrite(path, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("failed write changed the file: %q", b)
	}
	assertOnlyFile(t, dir, "out.jsonl")

	if err := atomicWrite(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if b, _ := os.ReadFile(path); string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("file %q mode %v; want \"new\" keeping mode 0600", b, st.Mode().Perm())
	}
	if err := atomicWrite(filepath.Join(dir, "missing", "x"), func(io.Writer) error { return nil }); err == nil {
		t.Errorf("no error writing into a missing directory")
	}
	assertOnlyFile(t, dir, "out.jsonl")
}

// otlpServer is a loopback OTLP/HTTP receiver that decodes the protobuf
// (gzip) requests it gets and answers with respond, or 200.
type otlpServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	spans    int
}

// requestBody reads a request's body, gunzipped when it is gzip.
func requestBody(t *testing.T, r *http.Request) []byte {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Errorf("gzip: %v", err)
			return nil
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	return b
}

func newOTLPServer(t *testing.T, respond func(w http.ResponseWriter)) *otlpServer {
	s := &otlpServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := requestBody(t, r)
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(b)
		if err != nil || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("request %s %s: %v", r.URL.Path, r.Header.Get("Content-Type"), err)
		}
		if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "clawtrace/") {
			t.Errorf("User-Agent %q", ua)
		}
		if got := r.Header.Get("X-Tenant"); got != "t1" {
			t.Errorf("X-Tenant header %q", got)
		}
		s.mu.Lock()
		s.requests++
		s.spans += td.SpanCount()
		s.mu.Unlock()
		if respond != nil {
			respond(w)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

var exportedRE = regexp.MustCompile(`exported (\d+) spans \((\d+) requests\)`)

func TestExportRun(t *testing.T) {
	_, out, _ := run(t, append([]string{"reconstruct"}, fixtureArgs("08-long")...)...)
	_, want := otlpLines(t, out)

	srv := newOTLPServer(t, nil)
	args := append([]string{"export", "--endpoint", srv.URL, "--header", "X-Tenant=t1", "--batch", "7"}, fixtureArgs("08-long")...)
	code, stdout, stderr := run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := exportedRE.FindStringSubmatch(stderr)
	if m == nil || stdout != "" {
		t.Fatalf("stderr %q, stdout %q", stderr, stdout)
	}
	n, _ := strconv.Atoi(m[1])
	reqs, _ := strconv.Atoi(m[2])
	if n != want || srv.spans != want || reqs != srv.requests {
		t.Errorf("reported %d spans in %d requests, server got %d in %d, reconstruct wrote %d", n, reqs, srv.spans, srv.requests, want)
	}
	if least := (want + 6) / 7; srv.requests < least {
		t.Errorf("%d requests for %d spans in batches of 7", srv.requests, want)
	}
}

func TestExportRejected(t *testing.T) {
	srv := newOTLPServer(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"partialSuccess":{"rejectedSpans":"1","errorMessage":"span too old"}}`)
	})
	args := append([]string{"export", "--endpoint", srv.URL, "--header", "X-Tenant=t1"}, fixtureArgs("02-one-tool")...)
	code, _, stderr := run(t, args...)
	if code != exitError || !strings.Contains(stderr, "receiver rejected 1 spans: span too old") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestExportUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"export", "--endpoint", "http://" + addr, "--retries", "0"}, fixtureArgs("02-one-tool")...)
	code, _, stderr := run(t, args...)
	// No "exported 0 spans" summary next to the error.
	if code != exitError || !strings.Contains(stderr, "connection refused") || strings.Contains(stderr, "exported") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestNewCmdExport(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{nil, "--endpoint is required"},
		{[]string{"--endpoint", "localhost:4318"}, "want an http:// or https:// URL"},
		{[]string{"--endpoint", "http://x", "--batch", "0"}, "--batch 0"},
		{[]string{"--endpoint", "http://x", "--header", "novalue"}, `--header (value not shown): want key=value`},
		{[]string{"--endpoint", "http://x", "--retries", "-1"}, "--retries -1"},
	} {
		args := append(append([]string{"export"}, c.args...), fixtureArgs("01-plain")...)
		code, _, stderr := run(t, args...)
		if code != exitUsage || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want usage error %q", c.args, code, stderr, c.msg)
		}
	}
}

func TestReconstructParquet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spans")
	code, _, errs := run(t, append([]string{"reconstruct", "-f", "parquet", "--partition", "day", "-o", dir}, fixtureArgs("10-subagent")...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "date=*", "spans-*.parquet"))
	if len(files) == 0 || !strings.Contains(errs, "wrote 10 spans") {
		t.Errorf("files %v, stderr %q", files, errs)
	}
	if code, _, errs := run(t, "reconstruct", "-f", "parquet", "--partition", "week", "-o", dir, "x"); code != exitUsage {
		t.Errorf("--partition week: exit %d %s", code, errs)
	}
}

// TestReconstructForkCopy: a /fork copy's calls keep their spans but their
// usage is counted once, also when the encoding ran before the dedup.
func TestReconstructForkCopy(t *testing.T) {
	dir := tracetest.ForkedStateDir(t, false)
	code, out, errs := run(t, "reconstruct", "-q", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := strings.Count(out, `"gen_ai.usage.output_tokens"`); n != 1 {
		t.Errorf("usage attributes on %d spans, want 1", n)
	}
	if !strings.Contains(out, "usage not counted") {
		t.Error("fork-copy evidence missing")
	}
}
