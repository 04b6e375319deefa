package reconstruct_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

// timelineFromHooks writes the diagnostics timeline OpenClaw would have
// written for the model_call_* hooks of a recorded dump (same instants: the
// mark is emitted right after model_call_started, the terminal record at
// the call's end).
func timelineFromHooks(t *testing.T, hooks, out string) {
	t.Helper()
	f, err := os.Open(hooks)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	starts := map[string]int64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var h struct {
			TS    int64  `json:"ts"`
			Hook  string `json:"hook"`
			Event struct {
				RunID, CallID, Provider, Model, Outcome string
			} `json:"event"`
		}
		if json.Unmarshal(sc.Bytes(), &h) != nil {
			continue
		}
		iso := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") }
		switch h.Hook {
		case "model_call_started":
			starts[h.Event.RunID+h.Event.CallID] = h.TS
			fmt.Fprintf(&b, `{"schemaVersion":"openclaw.diagnostics.v1","type":"mark","timestamp":%q,"name":"provider.request.started","pid":1,"runId":%q,"spanId":%q}`+"\n", iso(h.TS), h.Event.RunID, h.Event.CallID)
		case "model_call_ended":
			st := starts[h.Event.RunID+h.Event.CallID]
			fmt.Fprintf(&b, `{"schemaVersion":"openclaw.diagnostics.v1","type":"provider.request","timestamp":%q,"name":"provider.request","pid":1,"runId":%q,"spanId":%q,"durationMs":%d,"provider":%q,"operation":"openai-completions","ok":%v,"attributes":{"model":%q,"terminalAtMs":%d,"terminalReason":"done"}}`+"\n",
				iso(st), h.Event.RunID, h.Event.CallID, h.TS-st, h.Event.Provider, h.Event.Outcome != "error", h.Event.Model, h.TS)
		}
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDiagnosticsTimeline: with the transcript and a diagnostics timeline
// (no hook dump), the failed attempts that only the timeline shows are
// found, as with hooks.
func TestDiagnosticsTimeline(t *testing.T) {
	sc := filepath.Join(corpus, "openclaw-2026.9.6", "06-retry")
	tl := filepath.Join(t.TempDir(), "timeline.jsonl")
	timelineFromHooks(t, filepath.Join(sc, "hooks.jsonl"), tl)
	traces, sessions, err := tracetest.Reconstruct([]string{filepath.Join(sc, "state"), tl}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tracetest.Validate(traces); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join(sc, "truth.json"))
	truth, err := reconstruct.ReadTruth(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := reconstruct.Evaluate(traces, sessions, truth)
	if r.Revealable != 5 || r.LLMRecall != 1 || r.LLMPrecision != 1 || r.Containment != 1 {
		t.Errorf("revealable %d recall %v precision %v containment %v: %v", r.Revealable, r.LLMRecall, r.LLMPrecision, r.Containment, r.Problems)
	}
}
