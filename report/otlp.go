package report

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

// Names used in the OTLP output. docs/otlp.md lists every attribute; change
// both together.
const (
	// DefaultServiceName is the resource service.name when
	// OTLPOptions.ServiceName is "".
	DefaultServiceName = "openclaw"
	// ScopeName is the instrumentation scope name of every span.
	ScopeName = "clawtrace"
	// SemConvOpenInference in OTLPOptions.SemConv adds the OpenInference
	// attributes (openinference.span.kind, llm.*, tool.name, session.id).
	SemConvOpenInference = "openinference"
	// Redacted replaces every OTLPOptions.Redact match.
	Redacted = "[REDACTED]"
)

// OTLPOptions configure NewOTLPTraces and WriteOTLPJSON. The zero value
// gives the OpenTelemetry GenAI and clawtrace attributes, no content,
// service.name "openclaw" and an empty scope version.
type OTLPOptions struct {
	// SemConv lists semantic conventions to add to the OpenTelemetry GenAI
	// ones, which are always written. Known: SemConvOpenInference. Unknown
	// names are ignored (the CLI validates them).
	SemConv []string
	// Content adds the span input and output text as
	// clawtrace.content.input / clawtrace.content.output (and input.value /
	// output.value with OpenInference). The traces only hold text when the
	// corpus was parsed with ingest.ParseOptions.Content.
	Content bool
	// Redact: every match of each expression, applied in order, is replaced
	// by Redacted in content attributes and in status messages.
	Redact []*regexp.Regexp
	// ServiceName is the resource service.name; "" means DefaultServiceName.
	ServiceName string
	// Version is the instrumentation scope version (the clawtrace version).
	Version string
}

// NewOTLPTraces converts traces to pdata.
//
// Layout (docs/otlp.md has the picture and the attribute list):
//   - one ResourceSpans per agent id, in order of first appearance in
//     traces, with service.name, gen_ai.agent.id and gen_ai.agent.name;
//   - in it one ScopeSpans (ScopeName, opt.Version) holding the spans of
//     that agent's traces in input order, each trace root first;
//   - span ids, parents, names, times, status and links come from the
//     model unchanged; tool spans are children of the run span and point at
//     their LLM calls with links (clawtrace.relation = emitted_by,
//     consumed_by, spawned, …).
//
// Attributes are inserted in a fixed order, so equal inputs give equal
// bytes once marshaled. Usage and cost appear only on chat spans (LLM and
// compaction calls), and only when known.
func NewOTLPTraces(traces []reconstruct.Trace, opt OTLPOptions) ptrace.Traces {
	td := ptrace.NewTraces()
	w := otlpWriter{opt: opt, oi: slices.Contains(opt.SemConv, SemConvOpenInference)}
	// The map is only looked up, never ranged over: resource order is the
	// order of first appearance.
	byAgent := map[string]ptrace.SpanSlice{}
	for i := range traces {
		t := &traces[i]
		spans, ok := byAgent[t.AgentID]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			w.resource(rs.Resource().Attributes(), t.AgentID)
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName(ScopeName)
			ss.Scope().SetVersion(opt.Version)
			spans = ss.Spans()
			byAgent[t.AgentID] = spans
		}
		spans.EnsureCapacity(spans.Len() + len(t.Spans))
		for j := range t.Spans {
			w.span(spans.AppendEmpty(), t, &t.Spans[j])
		}
	}
	return td
}

// MaxSpansPerLine bounds the spans of one OTLP JSON line: a session with
// more (tens of thousands of runs) is written as several lines, each a
// whole number of its traces, so that only one line's pdata and bytes are
// in memory at a time instead of the whole session's (~15 KB per span).
const MaxSpansPerLine = 10000

// WriteOTLPJSON writes traces as one OTLP/JSON ExportTraceServiceRequest on
// a single line ending in "\n" — the layout of the collector's otlpjsonfile
// receiver and file exporter (one request per line). Call it once per
// session (or other batch) to stream a corpus. Past MaxSpansPerLine spans it
// writes several lines, each holding whole traces of at most that many
// spans (a single larger trace is one line). It writes nothing when traces
// hold no spans. The bytes depend only on traces and opt.
func WriteOTLPJSON(w io.Writer, traces []reconstruct.Trace, opt OTLPOptions) error {
	for len(traces) > 0 {
		n, k := 0, 0
		for k < len(traces) && (k == 0 || n+len(traces[k].Spans) <= MaxSpansPerLine) {
			n += len(traces[k].Spans)
			k++
		}
		if err := writeOTLPLine(w, traces[:k], n, opt); err != nil {
			return err
		}
		traces = traces[k:]
	}
	return nil
}

// writeOTLPLine writes traces, which hold n spans, as one line.
func writeOTLPLine(w io.Writer, traces []reconstruct.Trace, n int, opt OTLPOptions) error {
	if n == 0 {
		return nil
	}
	b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(NewOTLPTraces(traces, opt))
	if err != nil {
		return fmt.Errorf("marshaling otlp json: %w", err)
	}
	// N.B. the marshaler escapes control characters inside strings, so the
	// request is a single line.
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

type otlpWriter struct {
	opt OTLPOptions
	oi  bool // OpenInference attributes
}

func (w *otlpWriter) resource(a pcommon.Map, agent string) {
	svc := w.opt.ServiceName
	if svc == "" {
		svc = DefaultServiceName
	}
	a.PutStr("service.name", svc)
	if agent != "" {
		a.PutStr("gen_ai.agent.id", agent)
		a.PutStr("gen_ai.agent.name", agent)
	}
}

func otlpKind(k reconstruct.SpanKind) ptrace.SpanKind {
	switch k {
	case reconstruct.KindLLM, reconstruct.KindCompaction:
		return ptrace.SpanKindClient
	}
	return ptrace.SpanKindInternal
}

// openInferenceKinds maps span kinds to openinference.span.kind.
var openInferenceKinds = [...]string{
	reconstruct.KindRun:        "AGENT",
	reconstruct.KindLLM:        "LLM",
	reconstruct.KindCompaction: "LLM",
	reconstruct.KindTool:       "TOOL",
}

func timestamp(t time.Time) pcommon.Timestamp {
	if t.IsZero() {
		return 0
	}
	return pcommon.NewTimestampFromTime(t)
}

func isChat(k reconstruct.SpanKind) bool {
	return k == reconstruct.KindLLM || k == reconstruct.KindCompaction
}

// span fills sp from s. The attribute order below is part of the output
// format: keep it fixed (goldens compare bytes).
func (w *otlpWriter) span(sp ptrace.Span, t *reconstruct.Trace, s *reconstruct.Span) {
	sp.SetTraceID(pcommon.TraceID(s.Trace))
	sp.SetSpanID(pcommon.SpanID(s.ID))
	if !s.Parent.IsZero() {
		sp.SetParentSpanID(pcommon.SpanID(s.Parent))
	}
	sp.SetName(s.Name)
	sp.SetKind(otlpKind(s.Kind))
	sp.SetStartTimestamp(timestamp(s.Start))
	sp.SetEndTimestamp(timestamp(s.End))

	a := sp.Attributes()
	a.EnsureCapacity(32)
	putStr := func(k, v string) {
		if v != "" {
			a.PutStr(k, v)
		}
	}
	chat := isChat(s.Kind)

	// 1. OpenTelemetry GenAI.
	a.PutStr("gen_ai.operation.name", s.Kind.Operation())
	switch {
	case s.Kind == reconstruct.KindRun:
		putStr("gen_ai.provider.name", GenAIProvider(s.Provider))
		putStr("clawtrace.provider", s.Provider)
		putStr("gen_ai.request.model", s.Model)
		putStr("gen_ai.agent.id", s.AgentID)
		putStr("gen_ai.agent.name", s.AgentID)
	case chat:
		putStr("gen_ai.provider.name", GenAIProvider(s.Provider))
		putStr("clawtrace.provider", s.Provider)
		putStr("gen_ai.request.model", s.Model)
		putStr("gen_ai.response.model", s.ResponseModel)
		putStr("gen_ai.response.id", s.ResponseID)
		if s.FinishReason != "" {
			a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr(GenAIFinishReason(s.FinishReason))
		}
	case s.Kind == reconstruct.KindTool:
		putStr("gen_ai.tool.name", s.ToolName)
		putStr("gen_ai.tool.call.id", s.ToolCallID)
		a.PutStr("gen_ai.tool.type", "function")
	}
	putStr("gen_ai.conversation.id", s.SessionID)
	u := &s.Usage
	if chat && u.Known {
		a.PutInt("gen_ai.usage.input_tokens", promptTokens(u))
		a.PutInt("gen_ai.usage.output_tokens", u.Output)
		a.PutInt("gen_ai.usage.cache_read.input_tokens", u.CacheRead)
		a.PutInt("gen_ai.usage.cache_write.input_tokens", u.CacheWrite)
	}
	if s.Status == reconstruct.StatusError {
		// The provider's error code when the trajectory gave it, else
		// the convention's fallback value.
		et := s.ErrorType
		if et == "" {
			et = "_OTHER"
		}
		a.PutStr("error.type", et)
	}

	// 2. clawtrace: identity and kind-specific facts.
	a.PutStr("clawtrace.span.kind", s.Kind.String())
	putStr("clawtrace.session.key", s.SessionKey)
	putStr("clawtrace.run.id", s.RunID)
	switch {
	case s.Kind == reconstruct.KindRun:
		a.PutInt("clawtrace.run.ordinal", int64(t.Ordinal))
		if t.Deleted {
			a.PutBool("clawtrace.session.deleted", true)
		}
		if t.Subagent {
			a.PutBool("clawtrace.session.subagent", true)
			putStr("clawtrace.session.parent_key", t.ParentSessionKey)
		}
	case chat:
		putStr("clawtrace.llm.api", s.API)
		putStr("clawtrace.llm.call_id", s.CallID)
		if c := u.Cost; c != nil {
			// The same values as the Parquet cost_source column.
			src := CostSourceRecorded
			if c.ProviderBilled {
				src = CostSourceProviderBilled
			}
			a.PutDouble("clawtrace.cost.usd", c.Total)
			a.PutStr("clawtrace.cost.source", src)
		}
	case s.Kind == reconstruct.KindTool:
		if s.ResultSize > 0 {
			a.PutInt("clawtrace.tool.result_bytes", int64(s.ResultSize))
		}
		putStr("clawtrace.subagent.session_key", s.ChildSessionKey)
		putStr("clawtrace.subagent.session_id", s.ChildSessionID)
	}
	if s.OffPath {
		a.PutBool("clawtrace.off_path", true)
	}

	// 3. clawtrace: how sure we are and why.
	a.PutDouble("clawtrace.confidence", s.Confidence)
	if len(s.Inferred) > 0 {
		inf := a.PutEmptySlice("clawtrace.inferred")
		inf.EnsureCapacity(len(s.Inferred))
		for _, f := range s.Inferred {
			inf.AppendEmpty().SetStr(f)
		}
	}
	seen := make([]string, 0, len(s.Evidence))
	for _, e := range s.Evidence {
		if slices.Contains(seen, e.Field) {
			continue // the first evidence of a field names its method
		}
		seen = append(seen, e.Field)
		a.PutStr("clawtrace.method."+e.Field, e.Method)
	}
	if len(s.Evidence) > 0 {
		ev := a.PutEmptySlice("clawtrace.evidence")
		ev.EnsureCapacity(len(s.Evidence))
		for _, e := range s.Evidence {
			ev.AppendEmpty().SetStr(EvidenceString(e))
		}
	}

	// 4. Content, redacted.
	var in, out string
	if w.opt.Content {
		in, out = w.redact(s.Input), w.redact(s.Output)
		putStr("clawtrace.content.input", in)
		putStr("clawtrace.content.output", out)
	}

	// 5. OpenInference.
	if w.oi {
		w.openInference(a, s, in, out)
	}

	for _, l := range s.Links {
		ln := sp.Links().AppendEmpty()
		ln.SetTraceID(pcommon.TraceID(l.Trace))
		ln.SetSpanID(pcommon.SpanID(l.Span))
		la := ln.Attributes()
		la.PutStr("clawtrace.relation", l.Relation)
		for _, e := range s.Evidence {
			if e.Field == l.Relation {
				la.PutDouble("clawtrace.confidence", e.Confidence)
				break
			}
		}
	}

	switch s.Status {
	case reconstruct.StatusError:
		// Success leaves the status unset, as the conventions require
		// (recording-errors: "MUST be left unset").
		sp.Status().SetCode(ptrace.StatusCodeError)
		sp.Status().SetMessage(w.redact(s.StatusMessage))
	}
}

func (w *otlpWriter) openInference(a pcommon.Map, s *reconstruct.Span, in, out string) {
	putStr := func(k, v string) {
		if v != "" {
			a.PutStr(k, v)
		}
	}
	a.PutStr("openinference.span.kind", openInferenceKinds[s.Kind])
	putStr("session.id", s.SessionID)
	switch {
	case s.Kind == reconstruct.KindRun:
		putStr("agent.name", s.AgentID)
	case isChat(s.Kind):
		model := s.ResponseModel
		if model == "" {
			model = s.Model
		}
		putStr("llm.provider", s.Provider)
		putStr("llm.model_name", model)
		putStr("llm.finish_reason", s.FinishReason)
		if u := &s.Usage; u.Known {
			p := promptTokens(u)
			a.PutInt("llm.token_count.prompt", p)
			a.PutInt("llm.token_count.completion", u.Output)
			a.PutInt("llm.token_count.total", p+u.Output)
			a.PutInt("llm.token_count.prompt_details.cache_read", u.CacheRead)
			a.PutInt("llm.token_count.prompt_details.cache_write", u.CacheWrite)
		}
		if c := s.Usage.Cost; c != nil {
			a.PutDouble("llm.cost.total", c.Total)
		}
	case s.Kind == reconstruct.KindTool:
		putStr("tool.name", s.ToolName)
	}
	if in != "" {
		a.PutStr("input.value", in)
		a.PutStr("input.mime_type", "text/plain")
	}
	if out != "" {
		a.PutStr("output.value", out)
		a.PutStr("output.mime_type", "text/plain")
	}
}

// promptTokens is the whole prompt: OpenClaw's Input counts only uncached
// tokens, the conventions want cache reads and writes included.
func promptTokens(u *ingest.Usage) int64 { return u.Input + u.CacheRead + u.CacheWrite }

func (w *otlpWriter) redact(s string) string {
	for _, re := range w.opt.Redact {
		s = re.ReplaceAllLiteralString(s, Redacted)
	}
	return s
}

// EvidenceString formats one evidence record as it appears in the
// clawtrace.evidence attribute:
//
//	<field> <method> <confidence> <sources> [<note>]
//
// sources is a comma-separated list of file:line ("-" when there are none;
// spaces in file names are written as %20); the note, which may contain
// spaces, is everything after the fourth space and is left out when empty.
// Example: "end transcript.group_end 0.9 sessions/s.jsonl:7 parallel tool
// group: toolResult time is when the whole group finished".
func EvidenceString(e reconstruct.Evidence) string {
	var b strings.Builder
	b.WriteString(e.Field)
	b.WriteByte(' ')
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatFloat(e.Confidence, 'f', -1, 64))
	b.WriteByte(' ')
	if len(e.Sources) == 0 {
		b.WriteByte('-')
	}
	for i, src := range e.Sources {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.ReplaceAll(src.String(), " ", "%20"))
	}
	if e.Note != "" {
		b.WriteByte(' ')
		b.WriteString(e.Note)
	}
	return b.String()
}

// genAIProviders maps OpenClaw provider ids to the well-known values of
// gen_ai.provider.name (OpenTelemetry GenAI registry); other ids pass
// through unchanged, as the convention allows. The OpenClaw id is kept in
// clawtrace.provider.
var genAIProviders = map[string]string{
	"anthropic":              "anthropic",
	"openai":                 "openai",
	"openai-codex":           "openai",
	"azure-openai":           "azure.ai.openai",
	"azure-openai-responses": "azure.ai.openai",
	"google-gemini-cli":      "gcp.gemini",
	"google":                 "gcp.gemini",
	"gemini":                 "gcp.gemini",
	"google-vertex":          "gcp.vertex_ai",
	"vertex":                 "gcp.vertex_ai",
	"amazon-bedrock":         "aws.bedrock",
	"bedrock":                "aws.bedrock",
	"aws-bedrock":            "aws.bedrock",
	"mistral":                "mistral_ai",
	"xai":                    "x_ai",
	"groq":                   "groq",
	"deepseek":               "deepseek",
	"perplexity":             "perplexity",
	"cohere":                 "cohere",
}

// GenAIProvider returns the gen_ai.provider.name value for an OpenClaw
// provider id.
func GenAIProvider(id string) string {
	if v, ok := genAIProviders[strings.ToLower(id)]; ok {
		return v
	}
	return id
}

// GenAIFinishReason maps OpenClaw's stopReason to the convention's finish
// reasons (stop, length, tool_call, error, …); others pass through.
func GenAIFinishReason(r string) string {
	switch r {
	case "toolUse":
		return "tool_call"
	case "stop", "length", "error", "content_filter":
		return r
	}
	return r
}
