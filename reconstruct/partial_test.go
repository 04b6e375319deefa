package reconstruct_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

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
	data, err := os.ReadFile(filepath.Join(rec, "hooks.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	dir := t.TempDir()
	partial := filepath.Join(dir, "hooks.jsonl")
	if err := os.WriteFile(partial, bytes.Join(lines[len(lines)*2/3:], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _, err := tracetest.Reconstruct([]string{filepath.Join(rec, "state"), partial}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tracetest.Validate(got); err != nil {
		t.Fatal(err)
	}
	llm, comp := countKinds(got)
	if comp < wantComp || llm < wantLLM {
		t.Errorf("with the last third of the hook dump: %d LLM and %d compaction spans, transcripts alone give %d and %d", llm, comp, wantLLM, wantComp)
	}
}
