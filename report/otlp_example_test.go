package report_test

import (
	"fmt"
	"time"

	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/report"
)

func ExampleNewOTLPTraces() {
	t0 := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	tid := reconstruct.NewTraceID("main", "s01", "run#1")
	run := reconstruct.NewSpanID(tid, "run")
	llm := reconstruct.NewSpanID(tid, "llm", "e1")
	tr := reconstruct.Trace{ID: tid, AgentID: "main", SessionID: "s01", Ordinal: 1, Spans: []reconstruct.Span{
		{Trace: tid, ID: run, Kind: reconstruct.KindRun, Name: "invoke_agent main", Start: t0, End: t0.Add(2 * time.Second), AgentID: "main", SessionID: "s01", Confidence: 0.95},
		{Trace: tid, ID: llm, Parent: run, Kind: reconstruct.KindLLM, Name: "chat gpt-5", Start: t0, End: t0.Add(time.Second), AgentID: "main", SessionID: "s01", Model: "gpt-5", Confidence: 1},
		{Trace: tid, ID: reconstruct.NewSpanID(tid, "tool", "c1"), Parent: run, Kind: reconstruct.KindTool, Name: "execute_tool read",
			Start: t0.Add(time.Second), End: t0.Add(2 * time.Second), ToolName: "read", ToolCallID: "c1", Confidence: 0.95,
			Links: []reconstruct.Link{{Trace: tid, Span: llm, Relation: "emitted_by"}}},
	}}
	td := report.NewOTLPTraces([]reconstruct.Trace{tr}, report.OTLPOptions{Version: "0.1.0"})
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := 0; i < spans.Len(); i++ {
		sp := spans.At(i)
		op, _ := sp.Attributes().Get("gen_ai.operation.name")
		fmt.Printf("%-18s %-8s op=%s links=%d\n", sp.Name(), sp.Kind(), op.Str(), sp.Links().Len())
	}
	// Output:
	// invoke_agent main  Internal op=invoke_agent links=0
	// chat gpt-5         Client   op=chat links=0
	// execute_tool read  Internal op=execute_tool links=1
}
