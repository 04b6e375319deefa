package reconstruct_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

// TestClockSkew: a hook dump whose clock runs 5 s ahead of the transcript's
// still joins every call (after the offset is estimated), with the
// clock-skew note and a lowered confidence, and the corrected spans still
// contain the provider's intervals.
func TestClockSkew(t *testing.T) {
	sc := filepath.Join(corpus, "openclaw-2026.9.6", "03-chain3")
	in, err := os.Open(filepath.Join(sc, "hooks.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var b strings.Builder
	s := bufio.NewScanner(in)
	s.Buffer(make([]byte, 1<<20), 64<<20)
	for s.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(s.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		var ts int64
		json.Unmarshal(m["ts"], &ts)
		m["ts"], _ = json.Marshal(ts + 5000)
		line, _ := json.Marshal(m)
		b.Write(line)
		b.WriteByte('\n')
	}
	hooks := filepath.Join(t.TempDir(), "hooks.jsonl")
	os.WriteFile(hooks, []byte(b.String()), 0o644)
	traces, sessions, err := tracetest.Reconstruct([]string{filepath.Join(sc, "state"), hooks}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	skewed := 0
	for _, tr := range traces {
		for _, sp := range tr.Spans {
			for _, e := range sp.Evidence {
				if e.Field == "hook_join" && e.Note == reconstruct.NoteClockSkew {
					skewed++
					if sp.Confidence > 0.85 {
						t.Errorf("skew-corrected span %s has confidence %v", sp.Name, sp.Confidence)
					}
				}
			}
		}
	}
	if skewed != 4 {
		t.Errorf("%d calls joined after skew correction, want 4", skewed)
	}
	f, _ := os.Open(filepath.Join(sc, "truth.json"))
	truth, _ := reconstruct.ReadTruth(f)
	f.Close()
	r := reconstruct.Evaluate(traces, sessions, truth)
	if r.LLMPrecision != 1 || r.LLMRecall != 1 || r.ToolLinkAccuracy != 1 || r.Containment != 1 {
		t.Errorf("skewed hooks: %+v", r.Problems)
	}
}

// TestAbandonedBranch: a call on a branch the user rewound from is kept,
// marked off-path, and its usage still counts; the active branch is not.
func TestAbandonedBranch(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "agents", "main", "sessions", "b1.jsonl")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(`{"type":"session","version":3,"id":"b1","timestamp":"2026-06-01T09:00:00.000Z"}
{"type":"message","id":"u1","parentId":null,"timestamp":"2026-06-01T09:00:01.000Z","message":{"role":"user","content":"first try","timestamp":1780304401000}}
{"type":"message","id":"a1","parentId":"u1","timestamp":"2026-06-01T09:00:03.000Z","message":{"role":"assistant","content":[],"provider":"p","model":"m","usage":{"input":10,"output":2},"stopReason":"stop","timestamp":1780304401100}}
{"type":"message","id":"u2","parentId":null,"timestamp":"2026-06-01T09:00:10.000Z","message":{"role":"user","content":"edited","timestamp":1780304410000}}
{"type":"message","id":"a2","parentId":"u2","timestamp":"2026-06-01T09:00:12.000Z","message":{"role":"assistant","content":[],"provider":"p","model":"m","usage":{"input":20,"output":3},"stopReason":"stop","timestamp":1780304410100}}
`), 0o644)
	traces, _, err := tracetest.Reconstruct([]string{dir}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 2 {
		t.Fatalf("%d traces", len(traces))
	}
	first, second := traces[0].Spans[1], traces[1].Spans[1]
	if !first.OffPath || second.OffPath || !first.Usage.Known || first.Usage.Input != 10 {
		t.Errorf("first: off-path %v usage %+v; second off-path %v", first.OffPath, first.Usage, second.OffPath)
	}
	found := false
	for _, e := range first.Evidence {
		found = found || e.Note == reconstruct.NoteOffPath
	}
	if !found {
		t.Error("off-path span has no off-path evidence")
	}
}
