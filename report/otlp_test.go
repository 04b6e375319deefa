package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	tracepb "go.opentelemetry.io/proto/slim/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

var update = flag.Bool("update", false, "update golden files")

// corpusVersions are the recorded OpenClaw versions under fixtures/corpus.
var corpusVersions = []string{"openclaw-2026.9.6", "openclaw-2026.7.35"}

const corpusRoot = "../fixtures/corpus"

// scenario is one recorded scenario directory (state/ + hooks.jsonl).
type scenario struct {
	version, name, dir string
}

func (s scenario) String() string { return s.version + "/" + s.name }

func scenarios(t testing.TB) []scenario {
	t.Helper()
	var out []scenario
	for _, v := range corpusVersions {
		ents, err := os.ReadDir(filepath.Join(corpusRoot, v))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() {
				out = append(out, scenario{v, e.Name(), filepath.Join(corpusRoot, v, e.Name())})
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no scenarios under " + corpusRoot)
	}
	return out
}

// loadSessions runs the real pipeline (ingest → reconstruct) on a scenario
// with its hook dump and returns the traces of each session, in order.
func loadSessions(t testing.TB, sc scenario, workers int, content bool) [][]reconstruct.Trace {
	t.Helper()
	paths := []string{filepath.Join(sc.dir, "state")}
	if _, err := os.Stat(filepath.Join(sc.dir, "hooks.jsonl")); err == nil {
		paths = append(paths, filepath.Join(sc.dir, "hooks.jsonl"))
	}
	c, err := ingest.Open(paths, ingest.Options{Workers: workers, Parse: ingest.ParseOptions{Content: content}})
	if err != nil {
		t.Fatalf("%s: %v", sc, err)
	}
	var out [][]reconstruct.Trace
	err = c.Each(context.Background(), func(s *ingest.Session) error {
		out = append(out, reconstruct.Session(s, reconstruct.Options{Resolver: c}))
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", sc, err)
	}
	return out
}

// writeScenario writes a scenario as the CLI does: one line per session.
func writeScenario(t testing.TB, sessions [][]reconstruct.Trace, opt OTLPOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, traces := range sessions {
		if err := WriteOTLPJSON(&buf, traces, opt); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// goldenOptions are the options of the golden files.
var goldenOptions = OTLPOptions{Version: "golden"}

func TestWriteOTLPJSONGolden(t *testing.T) {
	for _, sc := range scenarios(t) {
		t.Run(sc.String(), func(t *testing.T) {
			got := writeScenario(t, loadSessions(t, sc, 0, false), goldenOptions)
			path := filepath.Join("testdata", "golden", "otlp", sc.version+"-"+sc.name+".jsonl")
			tracetest.Golden(t, path, got, *update, "go test ./report -run Golden -update")
		})
	}
}

// firstDiff describes where two outputs first differ.

func attrStr(m pcommon.Map, k string) (string, bool) {
	v, ok := m.Get(k)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

// usageAttr reports whether an attribute key carries usage or cost.
func usageAttr(k string) bool {
	return strings.HasPrefix(k, "gen_ai.usage.") || strings.HasPrefix(k, "clawtrace.cost.") ||
		strings.HasPrefix(k, "llm.token_count.") || strings.HasPrefix(k, "llm.cost.")
}

// TestWriteOTLPJSONInvariants checks every scenario's OTLP against the
// model it came from.
func TestWriteOTLPJSONInvariants(t *testing.T) {
	opt := OTLPOptions{SemConv: []string{SemConvOpenInference}, Version: "test"}
	for _, sc := range scenarios(t) {
		t.Run(sc.String(), func(t *testing.T) {
			sessions := loadSessions(t, sc, 0, false)
			out := writeScenario(t, sessions, opt)
			lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
			var nonEmpty [][]reconstruct.Trace
			for _, s := range sessions {
				if len(s) > 0 {
					nonEmpty = append(nonEmpty, s)
				}
			}
			if len(lines) != len(nonEmpty) {
				t.Fatalf("%d lines for %d sessions with traces", len(lines), len(nonEmpty))
			}
			for i, line := range lines {
				checkLine(t, line, nonEmpty[i])
			}
		})
	}
}

func checkLine(t *testing.T, line []byte, traces []reconstruct.Trace) {
	t.Helper()
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
	if err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	model := map[pcommon.SpanID]*reconstruct.Span{}
	var wantIn, wantOut, nModel int64
	for i := range traces {
		for j := range traces[i].Spans {
			s := &traces[i].Spans[j]
			model[pcommon.SpanID(s.ID)] = s
			nModel++
			if s.Usage.Known {
				wantIn += s.Usage.Input + s.Usage.CacheRead + s.Usage.CacheWrite
				wantOut += s.Usage.Output
			}
		}
	}
	if int64(td.SpanCount()) != nModel {
		t.Errorf("%d spans, model has %d", td.SpanCount(), nModel)
	}
	// Span ids by trace id, for parent and link checks.
	inTrace := map[pcommon.TraceID]map[pcommon.SpanID]bool{}
	forEachSpan(td, func(_ ptrace.ResourceSpans, sp ptrace.Span) {
		if inTrace[sp.TraceID()] == nil {
			inTrace[sp.TraceID()] = map[pcommon.SpanID]bool{}
		}
		if inTrace[sp.TraceID()][sp.SpanID()] {
			t.Errorf("span %s twice in trace %s", sp.SpanID(), sp.TraceID())
		}
		inTrace[sp.TraceID()][sp.SpanID()] = true
	})
	var gotIn, gotOut int64
	forEachSpan(td, func(rs ptrace.ResourceSpans, sp ptrace.Span) {
		a := sp.Attributes()
		where := sp.Name() + " " + sp.SpanID().String()
		if sp.TraceID().IsEmpty() || sp.SpanID().IsEmpty() {
			t.Errorf("%s: empty id", where)
		}
		if agent, _ := attrStr(rs.Resource().Attributes(), "gen_ai.agent.id"); agent == "" {
			t.Errorf("%s: resource without gen_ai.agent.id", where)
		}
		if !sp.ParentSpanID().IsEmpty() && !inTrace[sp.TraceID()][sp.ParentSpanID()] {
			t.Errorf("%s: parent %s not in trace %s", where, sp.ParentSpanID(), sp.TraceID())
		}
		ms := model[sp.SpanID()]
		if ms == nil {
			t.Errorf("%s: not in the model", where)
			return
		}
		op, _ := attrStr(a, "gen_ai.operation.name")
		if op != ms.Kind.Operation() || !strings.HasPrefix(sp.Name(), op+" ") {
			t.Errorf("%s: operation %q, kind %v", where, op, ms.Kind)
		}
		if k, _ := attrStr(a, "clawtrace.span.kind"); k != ms.Kind.String() {
			t.Errorf("%s: clawtrace.span.kind %q, want %q", where, k, ms.Kind)
		}
		if v, ok := a.Get("clawtrace.confidence"); !ok || v.Type() != pcommon.ValueTypeDouble || v.Double() != ms.Confidence {
			t.Errorf("%s: clawtrace.confidence %v, want %v", where, v.AsRaw(), ms.Confidence)
		}
		if v, ok := a.Get("clawtrace.evidence"); !ok || v.Slice().Len() != len(ms.Evidence) {
			t.Errorf("%s: clawtrace.evidence missing or of the wrong length", where)
		}
		for _, e := range ms.Evidence {
			if _, ok := a.Get("clawtrace.method." + e.Field); !ok {
				t.Errorf("%s: no clawtrace.method.%s", where, e.Field)
			}
		}
		if _, ok := a.Get("clawtrace.off_path"); ok != ms.OffPath {
			t.Errorf("%s: clawtrace.off_path present=%v, model %v", where, ok, ms.OffPath)
		}
		if ms.SessionID != "" {
			if c, _ := attrStr(a, "gen_ai.conversation.id"); c != ms.SessionID {
				t.Errorf("%s: gen_ai.conversation.id %q, want %q", where, c, ms.SessionID)
			}
		}
		wantKind := ptrace.SpanKindInternal
		if op == "chat" {
			wantKind = ptrace.SpanKindClient
		}
		if sp.Kind() != wantKind {
			t.Errorf("%s: kind %v, want %v", where, sp.Kind(), wantKind)
		}
		switch ms.Status {
		case reconstruct.StatusError:
			if sp.Status().Code() != ptrace.StatusCodeError {
				t.Errorf("%s: status %v, want error", where, sp.Status().Code())
			}
		default:
			// Success leaves the status unset (semconv recording-errors).
			if sp.Status().Code() != ptrace.StatusCodeUnset {
				t.Errorf("%s: status %v, want unset", where, sp.Status().Code())
			}
		}
		// Usage only on chat spans, exactly when the model knows it.
		hasUsage := false
		for k := range a.All() {
			if usageAttr(k) {
				hasUsage = true
				if op != "chat" {
					t.Errorf("%s: usage attribute %s on a %s span", where, k, op)
				}
			}
		}
		if op == "chat" && hasUsage != (ms.Usage.Known || ms.Usage.Cost != nil) {
			t.Errorf("%s: usage attributes present=%v, model known=%v", where, hasUsage, ms.Usage.Known)
		}
		if v, ok := a.Get("gen_ai.usage.input_tokens"); ok {
			gotIn += v.Int()
			p, _ := a.Get("llm.token_count.prompt")
			if p.Int() != v.Int() {
				t.Errorf("%s: llm.token_count.prompt %d != gen_ai.usage.input_tokens %d", where, p.Int(), v.Int())
			}
		}
		if v, ok := a.Get("gen_ai.usage.output_tokens"); ok {
			gotOut += v.Int()
		}
		if oi, _ := attrStr(a, "openinference.span.kind"); oi != openInferenceKinds[ms.Kind] {
			t.Errorf("%s: openinference.span.kind %q", where, oi)
		}
		// Links mirror the model's, relation by relation.
		if sp.Links().Len() != len(ms.Links) {
			t.Errorf("%s: %d links, model has %d", where, sp.Links().Len(), len(ms.Links))
		} else {
			for i, l := range ms.Links {
				ln := sp.Links().At(i)
				rel, _ := attrStr(ln.Attributes(), "clawtrace.relation")
				if rel != l.Relation || ln.SpanID() != pcommon.SpanID(l.Span) || ln.TraceID() != pcommon.TraceID(l.Trace) {
					t.Errorf("%s: link %d = %s %s/%s, model %s %s/%s", where, i, rel, ln.TraceID(), ln.SpanID(), l.Relation, l.Trace, l.Span)
				}
				if (rel == "emitted_by" || rel == "consumed_by") && !inTrace[ln.TraceID()][ln.SpanID()] {
					t.Errorf("%s: %s link to %s, not a span of the batch", where, rel, ln.SpanID())
				}
			}
		}
		if op == "execute_tool" {
			if id, _ := attrStr(a, "gen_ai.tool.call.id"); id == "" || id != ms.ToolCallID {
				t.Errorf("%s: gen_ai.tool.call.id %q, model %q", where, id, ms.ToolCallID)
			}
			if !hasLink(sp, "emitted_by") {
				t.Errorf("%s: tool span without an emitted_by link", where)
			}
			if _, ok := ms.Link("consumed_by"); ok && !hasLink(sp, "consumed_by") {
				t.Errorf("%s: tool span without its consumed_by link", where)
			}
			if ms.ChildSessionKey != "" {
				if k, _ := attrStr(a, "clawtrace.subagent.session_key"); k != ms.ChildSessionKey {
					t.Errorf("%s: clawtrace.subagent.session_key %q, want %q", where, k, ms.ChildSessionKey)
				}
			}
		}
	})
	if gotIn != wantIn || gotOut != wantOut {
		t.Errorf("tokens in/out %d/%d, model %d/%d", gotIn, gotOut, wantIn, wantOut)
	}
}

func hasLink(sp ptrace.Span, relation string) bool {
	for i := 0; i < sp.Links().Len(); i++ {
		if r, _ := attrStr(sp.Links().At(i).Attributes(), "clawtrace.relation"); r == relation {
			return true
		}
	}
	return false
}

func forEachSpan(td ptrace.Traces, fn func(ptrace.ResourceSpans, ptrace.Span)) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			for k := 0; k < ss.Spans().Len(); k++ {
				fn(rs, ss.Spans().At(k))
			}
		}
	}
}

// TestWriteOTLPJSONDeterministic: same input, same bytes — on a second run,
// and whatever GOMAXPROCS and the number of ingest workers.
func TestWriteOTLPJSONDeterministic(t *testing.T) {
	opt := OTLPOptions{SemConv: []string{SemConvOpenInference}, Content: true, Version: "test",
		Redact: []*regexp.Regexp{regexp.MustCompile(`[0-9]+`)}}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, sc := range scenarios(t) {
		runtime.GOMAXPROCS(1)
		a := writeScenario(t, loadSessions(t, sc, 1, true), opt)
		b := writeScenario(t, loadSessions(t, sc, 1, true), opt)
		runtime.GOMAXPROCS(4)
		c := writeScenario(t, loadSessions(t, sc, 4, true), opt)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs differ:\n%s", sc, tracetest.FirstDiff(a, b))
		}
		if !bytes.Equal(a, c) {
			t.Errorf("%s: GOMAXPROCS/workers 1 vs 4 differ:\n%s", sc, tracetest.FirstDiff(a, c))
		}
	}
}

// TestWriteOTLPJSONStrict validates the output independently of pdata (whose
// JSON unmarshaler is lenient): the OTLP/JSON encoding rules are checked on
// the raw JSON, then, with hex ids rewritten to base64, each line is decoded
// by protojson into the official generated TracesData with unknown fields
// rejected.
func TestWriteOTLPJSONStrict(t *testing.T) {
	opt := OTLPOptions{SemConv: []string{SemConvOpenInference}, Content: true, Version: "test"}
	for _, sc := range scenarios(t) {
		out := writeScenario(t, loadSessions(t, sc, 0, true), opt)
		sc2 := bufio.NewScanner(bytes.NewReader(out))
		sc2.Buffer(nil, 64<<20)
		for n := 1; sc2.Scan(); n++ {
			line := sc2.Bytes()
			var doc any
			if err := json.Unmarshal(line, &doc); err != nil {
				t.Fatalf("%s line %d: %v", sc, n, err)
			}
			var problems []string
			checkOTLPJSON(doc, "", &problems)
			for _, p := range problems {
				t.Errorf("%s line %d: %s", sc, n, p)
			}
			b64, err := json.Marshal(hexIDsToBase64(doc, ""))
			if err != nil {
				t.Fatal(err)
			}
			var td tracepb.TracesData
			if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(b64, &td); err != nil {
				t.Errorf("%s line %d: protojson: %v", sc, n, err)
			}
		}
	}
}

var (
	idLen          = map[string]int{"traceId": 32, "spanId": 16, "parentSpanId": 16}
	int64Fields    = map[string]bool{"startTimeUnixNano": true, "endTimeUnixNano": true, "timeUnixNano": true, "intValue": true}
	enumFields     = map[string]bool{"kind": true, "code": true}
	lowerCamelName = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
)

// checkOTLPJSON walks decoded OTLP/JSON and records every breach of the
// encoding rules: hex ids of the right length, integer enums, 64-bit
// integers as strings, lowerCamelCase field names (attribute keys are
// data, not field names).
func checkOTLPJSON(v any, key string, problems *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !lowerCamelName.MatchString(k) {
				*problems = append(*problems, fmt.Sprintf("field %q is not lowerCamelCase", k))
			}
			if n, ok := idLen[k]; ok {
				s, _ := x.(string)
				if _, err := hex.DecodeString(s); err != nil || len(s) != n {
					*problems = append(*problems, fmt.Sprintf("%s %q: want %d hex digits", k, s, n))
				}
			}
			if int64Fields[k] {
				if _, ok := x.(string); !ok {
					*problems = append(*problems, fmt.Sprintf("%s is %T, want a string", k, x))
				}
			}
			if enumFields[k] {
				if _, ok := x.(float64); !ok {
					*problems = append(*problems, fmt.Sprintf("%s is %T, want an integer", k, x))
				}
			}
			checkOTLPJSON(x, k, problems)
		}
	case []any:
		for _, x := range v {
			checkOTLPJSON(x, key, problems)
		}
	}
}

// hexIDsToBase64 rewrites OTLP/JSON's hex ids into the base64 that protojson
// expects for bytes fields.
func hexIDsToBase64(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if _, ok := idLen[k]; ok {
				if s, ok := x.(string); ok {
					b, _ := hex.DecodeString(s)
					out[k] = base64.StdEncoding.EncodeToString(b)
					continue
				}
			}
			out[k] = hexIDsToBase64(x, k)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = hexIDsToBase64(x, key)
		}
		return out
	}
	return v
}

// TestNewOTLPTracesContent: content only with Content, redacted.
func TestNewOTLPTracesContent(t *testing.T) {
	sc := scenario{"openclaw-2026.9.6", "10-subagent", filepath.Join(corpusRoot, "openclaw-2026.9.6", "10-subagent")}
	sessions := loadSessions(t, sc, 0, true)
	var traces []reconstruct.Trace
	for _, s := range sessions {
		traces = append(traces, s...)
	}
	re := regexp.MustCompile(`child\.txt`)
	contentKeys := []string{"clawtrace.content.input", "clawtrace.content.output", "input.value", "output.value"}

	off := NewOTLPTraces(traces, OTLPOptions{SemConv: []string{SemConvOpenInference}})
	forEachSpan(off, func(_ ptrace.ResourceSpans, sp ptrace.Span) {
		for _, k := range contentKeys {
			if _, ok := sp.Attributes().Get(k); ok {
				t.Errorf("%s: %s without Content", sp.Name(), k)
			}
		}
	})

	on := NewOTLPTraces(traces, OTLPOptions{SemConv: []string{SemConvOpenInference}, Content: true, Redact: []*regexp.Regexp{re}})
	redacted := 0
	forEachSpan(on, func(_ ptrace.ResourceSpans, sp ptrace.Span) {
		for _, k := range contentKeys {
			v, ok := attrStr(sp.Attributes(), k)
			if !ok {
				continue
			}
			if re.MatchString(v) {
				t.Errorf("%s: %s still matches the redaction: %q", sp.Name(), k, v)
			}
			redacted += strings.Count(v, Redacted)
		}
		if re.MatchString(sp.Status().Message()) {
			t.Errorf("%s: status message not redacted", sp.Name())
		}
	})
	if redacted == 0 {
		t.Errorf("no %s in the content: the fixture mentions child.txt", Redacted)
	}
	// The run span's input is the user message.
	root := on.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	if v, _ := attrStr(root.Attributes(), "clawtrace.content.input"); v == "" {
		t.Errorf("run span has no clawtrace.content.input")
	}
}

func TestNewOTLPTracesOpenInferenceOff(t *testing.T) {
	sc := scenario{"openclaw-2026.9.6", "04-parallel", filepath.Join(corpusRoot, "openclaw-2026.9.6", "04-parallel")}
	var traces []reconstruct.Trace
	for _, s := range loadSessions(t, sc, 0, false) {
		traces = append(traces, s...)
	}
	td := NewOTLPTraces(traces, OTLPOptions{})
	oiPrefixes := []string{"openinference.", "llm.", "tool.", "session.", "agent.", "input.", "output."}
	forEachSpan(td, func(_ ptrace.ResourceSpans, sp ptrace.Span) {
		for k := range sp.Attributes().All() {
			for _, p := range oiPrefixes {
				if strings.HasPrefix(k, p) {
					t.Errorf("%s: %s without SemConvOpenInference", sp.Name(), k)
				}
			}
		}
	})
}

// synthetic builds a small trace by hand: a run, one LLM call with usage
// and cost, one tool call linked to it.
func synthetic(agent, session string, t0 time.Time) reconstruct.Trace {
	tid := reconstruct.NewTraceID(agent, session, "run#1")
	root := reconstruct.NewSpanID(tid, "run")
	llm := reconstruct.NewSpanID(tid, "llm", "e1")
	tool := reconstruct.NewSpanID(tid, "tool", "call_1")
	ev := func(field, method string, conf float64, note string) reconstruct.Evidence {
		return reconstruct.Evidence{Field: field, Method: method, Confidence: conf, Sources: []ingest.Source{{File: "s.jsonl", Line: 3}}, Note: note}
	}
	return reconstruct.Trace{ID: tid, AgentID: agent, SessionID: session, Ordinal: 1, Spans: []reconstruct.Span{
		{Trace: tid, ID: root, Kind: reconstruct.KindRun, Name: "invoke_agent " + agent, Start: t0, End: t0.Add(3 * time.Second),
			Status: reconstruct.StatusOK, AgentID: agent, SessionID: session, Confidence: 0.95,
			Evidence: []reconstruct.Evidence{ev("start", reconstruct.MethodRunBounds, 0.95, "")}, Inferred: []string{"start"}},
		{Trace: tid, ID: llm, Parent: root, Kind: reconstruct.KindLLM, Name: "chat m", Start: t0, End: t0.Add(time.Second),
			Status: reconstruct.StatusOK, AgentID: agent, SessionID: session, Provider: "anthropic", Model: "m", FinishReason: "toolUse",
			Usage:      ingest.Usage{Known: true, Input: 10, Output: 5, CacheRead: 100, CacheWrite: 20, Cost: &ingest.Cost{Total: 0.25}},
			Confidence: 1, Evidence: []reconstruct.Evidence{ev("usage", reconstruct.MethodTranscriptUsage, 1, "")}},
		{Trace: tid, ID: tool, Parent: root, Kind: reconstruct.KindTool, Name: "execute_tool read", Start: t0.Add(time.Second), End: t0.Add(2 * time.Second),
			Status: reconstruct.StatusError, StatusMessage: "no such file: secret-42", AgentID: agent, SessionID: session,
			ToolName: "read", ToolCallID: "call_1", OffPath: true, Confidence: 0.9,
			Links:    []reconstruct.Link{{Trace: tid, Span: llm, Relation: "emitted_by"}},
			Evidence: []reconstruct.Evidence{ev("emitted_by", reconstruct.MethodIDExact, 1, ""), ev("end", reconstruct.MethodTranscriptGroup, 0.9, reconstruct.NoteParallelGroupEnd)}},
	}}
}

func TestNewOTLPTracesLayout(t *testing.T) {
	t0 := time.Date(2026, 9, 1, 10, 0, 0, 123456789, time.UTC)
	traces := []reconstruct.Trace{synthetic("beta", "s1", t0), synthetic("alpha", "s2", t0), synthetic("beta", "s3", t0)}
	td := NewOTLPTraces(traces, OTLPOptions{ServiceName: "my-gateway", Version: "1.2.3",
		Redact: []*regexp.Regexp{regexp.MustCompile(`secret-\d+`)}})

	if n := td.ResourceSpans().Len(); n != 2 {
		t.Fatalf("%d resources, want 2 (one per agent)", n)
	}
	for i, want := range []struct {
		agent string
		spans int
	}{{"beta", 6}, {"alpha", 3}} {
		rs := td.ResourceSpans().At(i)
		ra := rs.Resource().Attributes()
		if got, _ := attrStr(ra, "gen_ai.agent.id"); got != want.agent {
			t.Errorf("resource %d: agent %q, want %q (order of first appearance)", i, got, want.agent)
		}
		if got, _ := attrStr(ra, "service.name"); got != "my-gateway" {
			t.Errorf("service.name %q", got)
		}
		if rs.ScopeSpans().Len() != 1 {
			t.Fatalf("%d scopes", rs.ScopeSpans().Len())
		}
		ss := rs.ScopeSpans().At(0)
		if ss.Scope().Name() != ScopeName || ss.Scope().Version() != "1.2.3" {
			t.Errorf("scope %s %s", ss.Scope().Name(), ss.Scope().Version())
		}
		if ss.Spans().Len() != want.spans {
			t.Errorf("resource %s: %d spans, want %d", want.agent, ss.Spans().Len(), want.spans)
		}
	}
	spans := td.ResourceSpans().At(1).ScopeSpans().At(0).Spans()
	run, llm, tool := spans.At(0), spans.At(1), spans.At(2)
	if !run.ParentSpanID().IsEmpty() || llm.ParentSpanID() != run.SpanID() || tool.ParentSpanID() != run.SpanID() {
		t.Errorf("parents: run %s, llm %s, tool %s", run.ParentSpanID(), llm.ParentSpanID(), tool.ParentSpanID())
	}
	if got := run.StartTimestamp().AsTime(); !got.Equal(t0) {
		t.Errorf("start %v, want %v (nanoseconds kept)", got, t0)
	}
	want := map[string]any{
		"gen_ai.usage.input_tokens":             130, // 10 + 100 cache read + 20 cache write
		"gen_ai.usage.output_tokens":            5,
		"gen_ai.usage.cache_read.input_tokens":  100,
		"gen_ai.usage.cache_write.input_tokens": 20,
		"gen_ai.provider.name":                  "anthropic",
		"gen_ai.response.finish_reasons":        []any{"tool_call"},
		"clawtrace.cost.usd":                    0.25,
		"clawtrace.cost.source":                 CostSourceRecorded,
	}
	raw := llm.Attributes().AsRaw()
	for k, v := range want {
		got := raw[k]
		if n, ok := got.(int64); ok {
			got = int(n)
		}
		if fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("llm %s = %v, want %v", k, raw[k], v)
		}
	}
	ta := tool.Attributes().AsRaw()
	if ta["clawtrace.off_path"] != true || ta["gen_ai.tool.call.id"] != "call_1" || ta["error.type"] != "_OTHER" {
		t.Errorf("tool attributes: %v", ta)
	}
	if ta["clawtrace.method.end"] != reconstruct.MethodTranscriptGroup || ta["clawtrace.method.emitted_by"] != reconstruct.MethodIDExact {
		t.Errorf("tool methods: %v %v", ta["clawtrace.method.end"], ta["clawtrace.method.emitted_by"])
	}
	if _, ok := run.Attributes().Get("clawtrace.off_path"); ok {
		t.Errorf("clawtrace.off_path on a span that is on the path")
	}
	if tool.Status().Code() != ptrace.StatusCodeError || tool.Status().Message() != "no such file: "+Redacted {
		t.Errorf("tool status %v %q", tool.Status().Code(), tool.Status().Message())
	}
	if tool.Links().Len() != 1 || tool.Links().At(0).SpanID() != llm.SpanID() {
		t.Fatalf("tool links: %d", tool.Links().Len())
	}
	la := tool.Links().At(0).Attributes().AsRaw()
	if la["clawtrace.relation"] != "emitted_by" || la["clawtrace.confidence"] != 1.0 {
		t.Errorf("link attributes %v", la)
	}
	for k := range run.Attributes().All() {
		if usageAttr(k) {
			t.Errorf("run span has %s", k)
		}
	}
	if run.Kind() != ptrace.SpanKindInternal || llm.Kind() != ptrace.SpanKindClient || tool.Kind() != ptrace.SpanKindInternal {
		t.Errorf("kinds %v %v %v", run.Kind(), llm.Kind(), tool.Kind())
	}
}

func TestNewOTLPTracesUnknownUsageAndTimes(t *testing.T) {
	tr := synthetic("a", "s", time.Time{})
	tr.Spans[1].Usage = ingest.Usage{}
	td := NewOTLPTraces([]reconstruct.Trace{tr}, OTLPOptions{SemConv: []string{SemConvOpenInference}})
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for k := range spans.At(1).Attributes().All() {
		if usageAttr(k) {
			t.Errorf("unknown usage written as %s", k)
		}
	}
	// A zero time is "unknown": the field is left out, not year 1.
	if spans.At(0).StartTimestamp() != 0 {
		t.Errorf("zero start written as %d", spans.At(0).StartTimestamp())
	}
}

func TestWriteOTLPJSONEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteOTLPJSON(&buf, nil, OTLPOptions{}); err != nil || buf.Len() != 0 {
		t.Errorf("empty input wrote %q, %v", buf.String(), err)
	}
}

func TestWriteOTLPJSONOneLine(t *testing.T) {
	tr := synthetic("a", "s", time.Unix(1, 0))
	tr.Spans[0].Input = "line one\nline two\r\n\ttabbed \u2028"
	var buf bytes.Buffer
	if err := WriteOTLPJSON(&buf, []reconstruct.Trace{tr}, OTLPOptions{Content: true}); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 || !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		t.Errorf("want exactly one line ending in a newline, got %q", buf.String())
	}
}

func TestEvidenceString(t *testing.T) {
	src := func(f string, l int) ingest.Source { return ingest.Source{File: f, Line: l} }
	for _, c := range []struct {
		e    reconstruct.Evidence
		want string
	}{
		{reconstruct.Evidence{Field: "start", Method: "hook.exact", Confidence: 0.99, Sources: []ingest.Source{src("a.jsonl", 3), src("hooks.jsonl", 17)}},
			"start hook.exact 0.99 a.jsonl:3,hooks.jsonl:17"},
		{reconstruct.Evidence{Field: "end", Method: "transcript.group_end", Confidence: 0.9, Sources: []ingest.Source{src("s.jsonl", 7)}, Note: reconstruct.NoteParallelGroupEnd},
			"end transcript.group_end 0.9 s.jsonl:7 " + reconstruct.NoteParallelGroupEnd},
		{reconstruct.Evidence{Field: "usage", Method: "transcript.usage", Confidence: 1}, "usage transcript.usage 1 -"},
		{reconstruct.Evidence{Field: "parent", Method: "order.segment", Confidence: 0.93, Sources: []ingest.Source{src("my dir/s.jsonl", 0)}},
			"parent order.segment 0.93 my%20dir/s.jsonl"},
	} {
		if got := EvidenceString(c.e); got != c.want {
			t.Errorf("EvidenceString = %q, want %q", got, c.want)
		}
	}
}

func TestSplitTraces(t *testing.T) {
	t0 := time.Unix(100, 0)
	td := NewOTLPTraces([]reconstruct.Trace{synthetic("a", "s1", t0), synthetic("b", "s2", t0), synthetic("a", "s3", t0)}, OTLPOptions{})
	for _, limit := range []int{0, 1, 2, 4, 9, 100} {
		parts := SplitTraces(td, limit)
		var ids []string
		for _, p := range parts {
			if limit > 0 && p.SpanCount() > limit {
				t.Errorf("limit %d: part of %d spans", limit, p.SpanCount())
			}
			forEachSpan(p, func(rs ptrace.ResourceSpans, sp ptrace.Span) {
				agent, _ := attrStr(rs.Resource().Attributes(), "gen_ai.agent.id")
				ids = append(ids, agent+"/"+sp.SpanID().String())
			})
		}
		var want []string
		forEachSpan(td, func(rs ptrace.ResourceSpans, sp ptrace.Span) {
			agent, _ := attrStr(rs.Resource().Attributes(), "gen_ai.agent.id")
			want = append(want, agent+"/"+sp.SpanID().String())
		})
		if !slices.Equal(ids, want) {
			t.Errorf("limit %d: spans or resources changed:\n got %v\nwant %v", limit, ids, want)
		}
		if limit > 0 {
			wantParts := (td.SpanCount() + limit - 1) / limit
			if len(parts) != wantParts {
				t.Errorf("limit %d: %d parts, want %d", limit, len(parts), wantParts)
			}
		}
	}
}

// FuzzWriteOTLPJSON: any text in names, ids and content gives one line that
// pdata reads back and re-marshals to the same bytes.
func FuzzWriteOTLPJSON(f *testing.F) {
	f.Add("read", "call_1", "hello\nworld", "sk-123", 0.5)
	f.Add("", "", "\x00\xff\u2028", "(", 1.0)
	f.Fuzz(func(t *testing.T, tool, callID, content, redact string, conf float64) {
		tr := synthetic("a", "s", time.Unix(1700000000, 5))
		sp := &tr.Spans[2]
		sp.ToolName, sp.ToolCallID, sp.Input, sp.Output, sp.StatusMessage = tool, callID, content, content, content
		sp.Name = "execute_tool " + tool
		sp.Confidence = conf
		opt := OTLPOptions{Content: true, SemConv: []string{SemConvOpenInference}}
		if re, err := regexp.Compile(redact); err == nil {
			opt.Redact = []*regexp.Regexp{re}
		}
		var buf bytes.Buffer
		if err := WriteOTLPJSON(&buf, []reconstruct.Trace{tr}, opt); err != nil {
			return // e.g. NaN confidence cannot be marshaled
		}
		line := buf.Bytes()
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("not one line: %q", line)
		}
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
		if err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		again, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(append(again, '\n'), line) {
			t.Fatalf("round trip changed the bytes:\n%s", tracetest.FirstDiff(line, append(again, '\n')))
		}
	})
}

func TestGenAIProviderAndFinishReason(t *testing.T) {
	for id, want := range map[string]string{"google": "gcp.gemini", "amazon-bedrock": "aws.bedrock", "xai": "x_ai",
		"mistral": "mistral_ai", "azure-openai-responses": "azure.ai.openai", "openai": "openai", "ollama": "ollama", "mock": "mock"} {
		if got := GenAIProvider(id); got != want {
			t.Errorf("GenAIProvider(%q) = %q, want %q", id, got, want)
		}
	}
	for r, want := range map[string]string{"toolUse": "tool_call", "stop": "stop", "length": "length", "error": "error", "aborted": "aborted"} {
		if got := GenAIFinishReason(r); got != want {
			t.Errorf("GenAIFinishReason(%q) = %q, want %q", r, got, want)
		}
	}
}
