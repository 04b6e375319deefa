package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

func TestHTMLWriter(t *testing.T) {
	traces, _, err := tracetest.Reconstruct([]string{"../fixtures/corpus/openclaw-2026.9.6/06-retry"}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	h := NewHTMLWriter(&buf, "runs <&>", false)
	if err := h.Write(traces); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	spans := 0
	for _, tr := range traces {
		spans += len(tr.Spans)
	}
	if got := strings.Count(out, `<details class="row`); got != spans {
		t.Errorf("%d rows for %d spans", got, spans)
	}
	for _, want := range []string{"<title>runs &lt;&amp;&gt;</title>", "</html>", "bar k-llm err", "5 LLM calls", "hook.exact"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(out, "<script") || strings.Contains(out, "http://") || strings.Contains(out, "https://") {
		t.Error("page is not self-contained")
	}
	// Deterministic.
	var again bytes.Buffer
	h = NewHTMLWriter(&again, "runs <&>", false)
	h.Write(traces)
	h.Close()
	if again.String() != out {
		t.Error("output differs between runs")
	}
}

func TestHTMLWriterEscapesAndContent(t *testing.T) {
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	tr := reconstruct.Trace{ID: reconstruct.NewTraceID("x"), SessionID: `<s>`, Spans: []reconstruct.Span{
		{Kind: reconstruct.KindRun, Name: "invoke_agent <img src=x>", Start: start, End: start.Add(time.Second), Confidence: 1},
		{Kind: reconstruct.KindTool, Name: "execute_tool a", Start: start, End: start.Add(time.Millisecond), Confidence: 0.3,
			Input: "<secret>", Output: "out"},
	}}
	for _, content := range []bool{false, true} {
		var buf bytes.Buffer
		h := NewHTMLWriter(&buf, "t", content)
		h.Write([]reconstruct.Trace{tr})
		h.Close()
		out := buf.String()
		if strings.Contains(out, "<img") || strings.Contains(out, "<s>") {
			t.Error("unescaped input in page")
		}
		if got := strings.Contains(out, "&lt;secret&gt;"); got != content {
			t.Errorf("content=%v: content shown %v", content, got)
		}
		if !strings.Contains(out, "bar k-tool low") {
			t.Error("low confidence not marked")
		}
	}
}

// TestHTMLIndexAndLowConfidence: every run is in the index with a link to
// its section, and a span at the matcher's lowest confidence (0.5) is
// hatched.
func TestHTMLIndexAndLowConfidence(t *testing.T) {
	traces, _, err := tracetest.Reconstruct([]string{"../fixtures/corpus/openclaw-2026.9.6"}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	traces[0].Spans[len(traces[0].Spans)-1].Confidence = 0.5
	var buf bytes.Buffer
	h := NewHTMLWriter(&buf, "runs", false)
	if err := h.Write(traces); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	_, index, ok := strings.Cut(out, `id="index"`)
	if !ok {
		t.Fatal("no index")
	}
	for _, tr := range traces {
		if !strings.Contains(index, `<a href="#t`+tr.ID.String()+`">`) || !strings.Contains(out, `id="t`+tr.ID.String()+`"`) {
			t.Errorf("run %s not in the index or without its section", tr.ID)
		}
	}
	if got := strings.Count(out, " low\" style="); got != 1 {
		t.Errorf("%d hatched bars, want 1", got)
	}
}
