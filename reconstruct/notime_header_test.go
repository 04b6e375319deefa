package reconstruct_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

// TestRunWithoutAnyTimeTakesHeaderTime (issue 11, the matcher's time
// fallback): a run none of whose entries carries a time — no entry
// timestamp, no message timestamp — is placed at the session header's
// time, not at year 1 and not left without a time.
func TestRunWithoutAnyTimeTakesHeaderTime(t *testing.T) {
	const header = `{"type":"session","version":3,"id":"s9","timestamp":"2026-06-01T09:00:00.000Z"}` + "\n"
	for name, lines := range map[string]string{
		"user message only": `{"type":"message","id":"u1","parentId":null,"message":{"role":"user","content":"hi"}}` + "\n",
		"user and assistant": `{"type":"message","id":"u1","parentId":null,"message":{"role":"user","content":"hi"}}` + "\n" +
			`{"type":"message","id":"a1","parentId":"u1","message":{"role":"assistant","content":[{"type":"text","text":"yo"}],"usage":{"input":3,"output":1},"stopReason":"stop"}}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "s9.jsonl")
			if err := os.WriteFile(p, []byte(header+lines), 0o644); err != nil {
				t.Fatal(err)
			}
			traces, _, err := tracetest.Reconstruct([]string{p}, ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tracetest.Validate(traces); err != nil {
				t.Fatal(err)
			}
			want := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
			if len(traces) != 1 {
				t.Fatalf("%d traces, want 1", len(traces))
			}
			if r := traces[0].Root(); !r.Start.Equal(want) || !r.End.Equal(want) {
				t.Errorf("run %v – %v, want the header's time %v", r.Start, r.End, want)
			}
		})
	}
}
