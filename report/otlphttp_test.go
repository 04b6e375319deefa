package report

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	collectorpb "go.opentelemetry.io/proto/slim/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/clawtrace/clawtrace/reconstruct"
)

// received is one request as the fake receiver decoded it.
type received struct {
	contentType, encoding, auth string
	spans                       int
}

// receiver is a loopback OTLP/HTTP receiver. It decodes every request
// independently of the exporter's encoder: protobuf with the official
// generated ExportTraceServiceRequest, JSON with pdata and, strictly, with
// protojson into the same type. respond answers request n (0-based).
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	got     []received
	respond func(n int, w http.ResponseWriter, spans int)
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, spans int)) *receiver {
	r := &receiver{t: t, respond: respond}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	t := r.t
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
		t.Errorf("%s %s, want POST /v1/traces", req.Method, req.URL.Path)
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			t.Errorf("gzip: %v", err)
			http.Error(w, "bad gzip", http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Errorf("reading body: %v", err)
	}
	spans := 0
	var msg collectorpb.ExportTraceServiceRequest
	switch ct := req.Header.Get("Content-Type"); ct {
	case "application/x-protobuf":
		if err := proto.Unmarshal(b, &msg); err != nil {
			t.Errorf("protobuf request: %v", err)
		}
	case "application/json":
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(b)
		if err != nil {
			t.Errorf("json request (pdata): %v", err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Errorf("json request: %v", err)
		}
		strict, _ := json.Marshal(hexIDsToBase64(doc, ""))
		if err := protojson.Unmarshal(strict, &msg); err != nil {
			t.Errorf("json request (protojson): %v", err)
		}
		if td.SpanCount() == 0 {
			t.Errorf("json request without spans")
		}
	default:
		t.Errorf("content type %q", ct)
	}
	for _, rs := range msg.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			spans += len(ss.GetSpans())
		}
	}
	r.mu.Lock()
	n := len(r.got)
	r.got = append(r.got, received{req.Header.Get("Content-Type"), req.Header.Get("Content-Encoding"), req.Header.Get("Authorization"), spans})
	r.mu.Unlock()
	if r.respond != nil {
		r.respond(n, w, spans)
		return
	}
	w.Header().Set("Content-Type", req.Header.Get("Content-Type"))
	w.WriteHeader(http.StatusOK)
}

// testTraces returns n synthetic traces of 3 spans each.
func testTraces(n int) ptrace.Traces {
	var traces []reconstruct.Trace
	for i := range n {
		traces = append(traces, synthetic([]string{"a", "b"}[i%2], "s"+string(rune('0'+i)), time.Unix(int64(1000+i), 0)))
	}
	return NewOTLPTraces(traces, OTLPOptions{})
}

// testExporter is NewExporter without waiting: every wait is recorded.
func testExporter(url string, waits *[]time.Duration) *Exporter {
	e := NewExporter(url)
	e.Backoff = func(int) time.Duration { return 0 }
	e.sleep = func(_ context.Context, d time.Duration) error {
		if waits != nil {
			*waits = append(*waits, d)
		}
		return nil
	}
	return e
}

func TestExporterProtobufGzipBatches(t *testing.T) {
	r := newReceiver(t, nil)
	e := testExporter(r.srv.URL, nil)
	e.BatchSpans = 4
	e.Headers = map[string]string{"Authorization": "Bearer t0ken"}
	td := testTraces(3) // 9 spans → 4 + 4 + 1
	n, err := e.Export(context.Background(), td)
	if err != nil || n != 9 {
		t.Fatalf("Export = %d, %v; want 9, nil", n, err)
	}
	got := r.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	total := 0
	for _, g := range got {
		if g.contentType != "application/x-protobuf" || g.encoding != "gzip" || g.auth != "Bearer t0ken" {
			t.Errorf("request headers %+v", g)
		}
		if g.spans > 4 {
			t.Errorf("request of %d spans, batch is 4", g.spans)
		}
		total += g.spans
	}
	if total != 9 {
		t.Errorf("receiver decoded %d spans, want 9", total)
	}
	if st := e.Stats(); st.Requests != 3 || st.Attempts != 3 || st.Spans != 9 || st.Rejected != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestExporterJSON(t *testing.T) {
	for _, gz := range []bool{false, true} {
		r := newReceiver(t, nil)
		e := testExporter(r.srv.URL+"/", nil) // trailing slash: still /v1/traces
		e.JSON, e.Gzip = true, gz
		n, err := e.Export(context.Background(), testTraces(2))
		if err != nil || n != 6 {
			t.Fatalf("gzip=%v: Export = %d, %v", gz, n, err)
		}
		got := r.requests()
		wantEnc := map[bool]string{true: "gzip", false: ""}[gz]
		if len(got) != 1 || got[0].contentType != "application/json" || got[0].encoding != wantEnc || got[0].spans != 6 {
			t.Errorf("gzip=%v: requests %+v", gz, got)
		}
	}
}

func TestExporterRetryAfter(t *testing.T) {
	r := newReceiver(t, func(n int, w http.ResponseWriter, _ int) {
		if n == 0 {
			w.Header().Set("Retry-After", "7")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	var waits []time.Duration
	e := testExporter(r.srv.URL, &waits)
	n, err := e.Export(context.Background(), testTraces(1))
	if err != nil || n != 3 {
		t.Fatalf("Export = %d, %v; want 3, nil", n, err)
	}
	if len(r.requests()) != 2 {
		t.Errorf("%d requests, want 2", len(r.requests()))
	}
	if len(waits) != 1 || waits[0] != 7*time.Second {
		t.Errorf("waits %v, want [7s] from Retry-After", waits)
	}
	if st := e.Stats(); st.Attempts != 2 || st.Requests != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"99999", maxRetryAfter, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	} {
		got, ok := retryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestExporterGivesUpOn503(t *testing.T) {
	r := newReceiver(t, func(_ int, w http.ResponseWriter, _ int) {
		http.Error(w, "collector overloaded", http.StatusServiceUnavailable)
	})
	var attempts []int
	e := testExporter(r.srv.URL, nil)
	e.MaxRetries = 3
	e.Backoff = func(a int) time.Duration { attempts = append(attempts, a); return 0 }
	n, err := e.Export(context.Background(), testTraces(1))
	if err == nil || n != 0 {
		t.Fatalf("Export = %d, %v; want an error", n, err)
	}
	for _, want := range []string{"503 Service Unavailable", "collector overloaded", "gave up after 4 attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 503 {
		t.Errorf("error is not an *HTTPError 503: %v", err)
	}
	if len(r.requests()) != 4 || len(attempts) != 3 || attempts[2] != 2 {
		t.Errorf("%d requests, backoff attempts %v; want 4 requests, [0 1 2]", len(r.requests()), attempts)
	}
}

func TestExporterBadRequest(t *testing.T) {
	long := strings.Repeat("x", 1000)
	r := newReceiver(t, func(_ int, w http.ResponseWriter, _ int) {
		http.Error(w, "invalid span: \n trace id is empty "+long, http.StatusBadRequest)
	})
	e := testExporter(r.srv.URL, nil)
	_, err := e.Export(context.Background(), testTraces(1))
	if err == nil {
		t.Fatal("no error for 400")
	}
	if len(r.requests()) != 1 {
		t.Errorf("%d requests: 400 must not be retried", len(r.requests()))
	}
	msg := err.Error()
	if !strings.Contains(msg, "400 Bad Request") || !strings.Contains(msg, "invalid span: trace id is empty") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want status and a one-line snippet", msg)
	}
	if len(msg) > 500 {
		t.Errorf("error is %d bytes: the body snippet is not bounded", len(msg))
	}
}

func TestExporterBadRequestProtobufStatus(t *testing.T) {
	// google.rpc.Status{code=3, message="bad trace"}: field 1 varint, field 2 string.
	status := append([]byte{0x08, 0x03, 0x12, 9}, "bad trace"...)
	r := newReceiver(t, func(_ int, w http.ResponseWriter, _ int) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusBadRequest)
		w.Write(status)
	})
	_, err := testExporter(r.srv.URL, nil).Export(context.Background(), testTraces(1))
	if err == nil || !strings.HasSuffix(err.Error(), "400 Bad Request: bad trace") {
		t.Errorf("error %v: want the Status message", err)
	}
}

func TestExporterUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	e := testExporter("http://"+addr, nil)
	e.MaxRetries = 1
	n, err := e.Export(context.Background(), testTraces(1))
	if err == nil || n != 0 {
		t.Fatalf("Export = %d, %v; want an error", n, err)
	}
	msg := err.Error()
	for _, want := range []string{"posting to http://" + addr + "/v1/traces", "connection refused", "gave up after 2 attempts"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if e.Stats().Attempts != 2 {
		t.Errorf("%d attempts, want 2", e.Stats().Attempts)
	}
}

func TestExporterPartialSuccess(t *testing.T) {
	resp := &collectorpb.ExportTraceServiceResponse{PartialSuccess: &collectorpb.ExportTracePartialSuccess{RejectedSpans: 2, ErrorMessage: "2 spans too old"}}
	for _, c := range []struct {
		name  string
		ctype string
		body  func() ([]byte, error)
	}{
		{"json", "application/json", func() ([]byte, error) { return protojson.Marshal(resp) }},
		{"protobuf", "application/x-protobuf", func() ([]byte, error) { return proto.Marshal(resp) }},
		{"json-number", "application/json; charset=utf-8", func() ([]byte, error) {
			return []byte(`{"partialSuccess":{"rejectedSpans":2,"errorMessage":"2 spans too old"}}`), nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, err := c.body()
			if err != nil {
				t.Fatal(err)
			}
			r := newReceiver(t, func(n int, w http.ResponseWriter, _ int) {
				w.Header().Set("Content-Type", c.ctype)
				w.WriteHeader(http.StatusOK)
				if n == 0 {
					w.Write(body)
				}
			})
			e := testExporter(r.srv.URL, nil)
			e.BatchSpans = 3
			n, err := e.Export(context.Background(), testTraces(2))
			if n != 4 {
				t.Errorf("accepted %d, want 6 - 2 = 4", n)
			}
			var pe *PartialSuccessError
			if !errors.As(err, &pe) || pe.Rejected != 2 || pe.Message != "2 spans too old" {
				t.Errorf("error %v, want a PartialSuccessError of 2 spans", err)
			}
			if len(r.requests()) != 2 {
				t.Errorf("%d requests: a partial success must not stop the export", len(r.requests()))
			}
			if st := e.Stats(); st.Rejected != 2 || st.Spans != 6 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestExporterPartialSuccessWarning(t *testing.T) {
	r := newReceiver(t, func(_ int, w http.ResponseWriter, _ int) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"partialSuccess":{"errorMessage":"attribute values truncated"}}`)
	})
	e := testExporter(r.srv.URL, nil)
	n, err := e.Export(context.Background(), testTraces(1))
	if err != nil || n != 3 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	if w := e.Stats().Warnings; len(w) != 1 || w[0] != "attribute values truncated" {
		t.Errorf("warnings %q", w)
	}
}

func TestExporterCanceled(t *testing.T) {
	r := newReceiver(t, func(_ int, w http.ResponseWriter, _ int) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	e := NewExporter(r.srv.URL)
	e.Backoff = func(int) time.Duration { return time.Hour }
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := e.Export(ctx, testTraces(1))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestTracesURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://localhost:4318", "http://localhost:4318/v1/traces"},
		{"http://localhost:4318/", "http://localhost:4318/v1/traces"},
		{"https://otel.example.com/v1/traces", "https://otel.example.com/v1/traces"},
		{"https://gw.example.com/otlp", "https://gw.example.com/otlp/v1/traces"},
		{"https://gw.example.com/tenant/v1/traces?x=1", "https://gw.example.com/tenant/v1/traces?x=1"},
		{"localhost:4318", ""},
		{"ftp://x", ""},
		{"http://", ""},
	} {
		got, err := TracesURL(c.in)
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("TracesURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestProtoPartialSuccessMalformed(t *testing.T) {
	for _, b := range [][]byte{{0x0a}, {0x0a, 0x05, 0x08}, {0xff, 0xff}, bytes.Repeat([]byte{0x80}, 11)} {
		if n, msg := protoPartialSuccess(b); n != 0 || msg != "" {
			t.Errorf("protoPartialSuccess(%x) = %d, %q", b, n, msg)
		}
	}
}

// TestExporterExactURL: a per-signal endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
// is used as it is; a base endpoint gets /v1/traces.
func TestExporterExactURL(t *testing.T) {
	var paths []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	for _, exact := range []bool{true, false} {
		e := NewExporter(srv.URL + "/otlp/traces")
		e.ExactURL = exact
		if _, err := e.Export(context.Background(), testTraces(1)); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"/otlp/traces", "/otlp/traces/v1/traces"}; strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("paths %v, want %v", paths, want)
	}
}
