package reconstruct_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

// countKinds counts the LLM and compaction spans of traces.
func countKinds(traces []reconstruct.Trace) (llm, compaction int) {
	for _, t := range traces {
		for _, sp := range t.Spans {
			switch sp.Kind {
			case reconstruct.KindLLM:
				llm++
			case reconstruct.KindCompaction:
				compaction++
			}
		}
	}
	return
}

// hookLines reads a recording's hook dump as lines (each with its newline).
func hookLines(t *testing.T, rec string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(rec, "hooks.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(data, []byte("\n"))
}

// reconstructWithHooks writes lines as a hook dump and reconstructs the
// recording's state dir with it.
func reconstructWithHooks(t *testing.T, rec string, lines [][]byte) []reconstruct.Trace {
	t.Helper()
	dump := filepath.Join(t.TempDir(), "hooks.jsonl")
	if err := os.WriteFile(dump, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _, err := tracetest.Reconstruct([]string{filepath.Join(rec, "state"), dump}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPartialHookDumpKeepsCompactions: a hook dump that no longer reaches
// back to a compaction (its older part rotated away) must not make the
// transcript's compaction calls disappear.
func TestPartialHookDumpKeepsCompactions(t *testing.T) {
	const rec = "../fixtures/corpus/openclaw-2026.7.35/11-compaction"
	alone, _, err := tracetest.Reconstruct([]string{filepath.Join(rec, "state")}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLLM, wantComp := countKinds(alone)
	if wantComp == 0 {
		t.Fatal("fixture has no compaction span without hooks")
	}
	lines := hookLines(t, rec)
	got := reconstructWithHooks(t, rec, lines[len(lines)*2/3:])
	if err := tracetest.Validate(got); err != nil {
		t.Fatal(err)
	}
	llm, comp := countKinds(got)
	if comp < wantComp || llm < wantLLM {
		t.Errorf("with the last third of the hook dump: %d LLM and %d compaction spans, transcripts alone give %d and %d", llm, comp, wantLLM, wantComp)
	}
}

// TestReusedToolCallIDs: some providers number tool call ids per response
// (call_0, call_1, …), so one id recurs across the calls of a session. Each
// call's tools must still get their own spans, results and links, as with
// unique ids.
func TestReusedToolCallIDs(t *testing.T) {
	const rec = "../fixtures/corpus/openclaw-2026.7.35/03-chain3/state"
	want, _, err := tracetest.Reconstruct([]string{rec}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.CopyFS(dir, os.DirFS(rec)); err != nil {
		t.Fatal(err)
	}
	sessions := filepath.Join(dir, "agents", "main", "sessions")
	trajs, _ := filepath.Glob(filepath.Join(sessions, "*.trajectory*"))
	for _, p := range trajs {
		os.Remove(p)
	}
	p := filepath.Join(sessions, "s03.jsonl")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ls", "read", "write"} {
		data = bytes.ReplaceAll(data, []byte("call_s03_"+name), []byte("call_0"))
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, _, err := tracetest.Reconstruct([]string{dir}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tracetest.Validate(got); err != nil {
		t.Fatal(err)
	}
	links := func(traces []reconstruct.Trace) (tools, linked int) {
		for _, tr := range traces {
			for _, sp := range tr.Spans {
				if sp.Kind == reconstruct.KindTool {
					tools++
					linked += len(sp.Links)
				}
			}
		}
		return
	}
	wt, wl := links(want)
	gt, gl := links(got)
	if wt != 3 || gt != wt || gl != wl {
		t.Errorf("reused ids: %d tool spans with %d links; unique ids: %d with %d", gt, gl, wt, wl)
	}
}

// TestPartialHookDumpJoinsTheRightRun: 2026.7 transcripts learn their run
// ids from the hooks. With only the last part of the dump, a run must get
// its own run id or none — never another run's (the offset that aligns the
// first calls with the first surviving hooks is wrong for a truncated dump).
func TestPartialHookDumpJoinsTheRightRun(t *testing.T) {
	const rec = "../fixtures/corpus/openclaw-2026.7.35/07-multi-run"
	full, _, err := tracetest.Reconstruct([]string{filepath.Join(rec, "state"), filepath.Join(rec, "hooks.jsonl")}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := reconstructWithHooks(t, rec, hookLines(t, rec)[39:])
	want := map[int]string{}
	for _, tr := range full {
		want[tr.Ordinal] = tr.RunID
	}
	learned := 0
	for _, tr := range got {
		if tr.RunID == "" {
			continue
		}
		learned++
		if tr.RunID != want[tr.Ordinal] {
			t.Errorf("run %d got run id %s, it is %s", tr.Ordinal, tr.RunID, want[tr.Ordinal])
		}
	}
	if learned == 0 {
		t.Error("no run learned its id from the surviving hooks")
	}
}

// TestLateHookJoinsInsteadOfPhantom: a model_call_started fired 400 ms after
// its message.timestamp (outside the 250 ms window) still joins its call,
// with a lower confidence, instead of becoming a second, phantom call.
func TestLateHookJoinsInsteadOfPhantom(t *testing.T) {
	const rec = "../fixtures/corpus/openclaw-2026.9.6/07-multi-run"
	want, _, err := tracetest.Reconstruct([]string{filepath.Join(rec, "state"), filepath.Join(rec, "hooks.jsonl")}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines := hookLines(t, rec)
	late := 0
	for i, l := range lines {
		if bytes.Contains(l, []byte(`"hook":"model_call_`)) && late < 2 && i > len(lines)/2 {
			// Shift one started/ended pair by 400 ms.
			var ts int64
			if _, err := fmt.Sscanf(string(l[bytes.Index(l, []byte(`"ts":`))+5:]), "%d", &ts); err != nil {
				t.Fatal(err)
			}
			lines[i] = bytes.Replace(l, []byte(fmt.Sprintf(`"ts":%d`, ts)), []byte(fmt.Sprintf(`"ts":%d`, ts+400)), 1)
			late++
		}
	}
	got := reconstructWithHooks(t, rec, lines)
	wl, _ := countKinds(want)
	gl, _ := countKinds(got)
	if gl != wl {
		t.Errorf("%d LLM spans with one late hook pair, %d without", gl, wl)
	}
}

// TestReusedIDAfterAbortedCall: a call_0 left without a result (the user
// moved on) must not take the result of the next run's call_0.
func TestReusedIDAfterAbortedCall(t *testing.T) {
	traces, _, err := tracetest.Reconstruct([]string{"testdata/reused-id-aborted.jsonl"}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 2 {
		t.Fatalf("%d runs, want 2", len(traces))
	}
	for i, tr := range traces {
		for _, sp := range tr.Spans {
			if sp.Kind != reconstruct.KindTool {
				continue
			}
			consumed := slices.ContainsFunc(sp.Links, func(l reconstruct.Link) bool { return l.Relation == "consumed_by" })
			if want := i == 1; consumed != want || (i == 0 && sp.Duration() > 30*time.Second) {
				t.Errorf("run %d: tool consumed %v (want %v), lasts %v", i+1, consumed, want, sp.Duration())
			}
		}
	}
}
