package report

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/clawtrace/clawtrace/reconstruct"
)

// bigTrace is a synthetic trace with n spans (its three spans repeated).
func bigTrace(session string, n int) reconstruct.Trace {
	tr := synthetic("main", session, time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	spans := make([]reconstruct.Span, 0, n)
	for len(spans) < n {
		spans = append(spans, tr.Spans[len(spans)%len(tr.Spans)])
	}
	tr.Spans = spans
	return tr
}

// TestWriteOTLPJSONSplitsHugeSessions: up to MaxSpansPerLine spans make one
// line; past it, lines hold whole traces of at most that many spans, and a
// larger trace is a line of its own, in order.
func TestWriteOTLPJSONSplitsHugeSessions(t *testing.T) {
	half := MaxSpansPerLine / 2
	for _, c := range []struct {
		name  string
		sizes []int
		want  []int // spans per line
	}{
		{"small", []int{3, 3}, []int{6}},
		{"exactly the limit", []int{half, half}, []int{2 * half}},
		{"one span over", []int{half, half, 1}, []int{2 * half, 1}},
		{"a trace over the limit", []int{half + 1, half, MaxSpansPerLine + 1, 3}, []int{half + 1, half, MaxSpansPerLine + 1, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var traces []reconstruct.Trace
			for _, n := range c.sizes {
				traces = append(traces, bigTrace("s1", n))
			}
			var b bytes.Buffer
			if err := WriteOTLPJSON(&b, traces, OTLPOptions{}); err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, line := range bytes.SplitAfter(b.Bytes(), []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, td.SpanCount())
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("spans per line %v, want %v", got, c.want)
			}
		})
	}
}
