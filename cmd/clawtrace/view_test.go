package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestViewGolden keeps the page of one small recording byte for byte
// (go test ./cmd/clawtrace -run ViewGolden -update rewrites it), and checks
// the page is the same whatever the worker count.
func TestViewGolden(t *testing.T) {
	const rec = "../../fixtures/corpus/openclaw-2026.9.6/06-retry"
	code, out, errs := run(t, "view", "-q", rec)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden(t, filepath.Join("testdata", "golden", "view", "06-retry.html"), []byte(out))
	for _, w := range []string{"1", "3"} {
		if _, again, _ := run(t, "view", "-q", "--workers", w, rec); again != out {
			t.Errorf("--workers %s gives other bytes", w)
		}
	}
}

// TestViewSelfContained: the page of every recording fetches nothing (no
// URL, no external script, style, font or image) and forbids it.
func TestViewSelfContained(t *testing.T) {
	code, out, errs := run(t, "view", "-q", "../../fixtures/corpus")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, re := range []string{`https?://`, `(?i)<link\b`, `(?i)\bsrc\s*=`, `(?i)url\(`, `(?i)@import`} {
		if m := regexp.MustCompile(re).FindString(out); m != "" {
			t.Errorf("page refers to an external resource: %q", m)
		}
	}
	if !strings.Contains(out, `content="default-src 'none'`) {
		t.Error("page lacks the Content-Security-Policy that forbids fetching")
	}
}

// TestViewStatesWhatItRead: the page names its inputs and filters, counts
// the skipped lines by reason, shows unknown cost as unknown and a lower
// bound with ≥, and says when --max-runs left runs out of the list.
func TestViewStatesWhatItRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	if err := os.CopyFS(dir, os.DirFS("../../fixtures/corpus/openclaw-2026.9.6/11-compaction")); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "hooks.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{not json\n")
	f.Close()
	code, out, errs := run(t, "view", "--max-runs", "4", "--agent", "main", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"<code>" + dir + "</code>",  // the input
		"<code>--agent main</code>", // the filter
		"1 input lines skipped",     // what was lost
		"the list and waterfalls hold the 4 dearest runs of 5",
		"what was skipped, where", "hooks.jsonl:", // where, in the page itself
		"≥$", // the total is a lower bound (a summarisation without usage)
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	_, all, _ := run(t, "view", "-q", dir)
	if !strings.Contains(all, `"cost":null,"cost_flag":2`) {
		t.Error("the run whose only call has no usage should have an unknown cost, not $0")
	}
	// The run left out by --max-runs 4 is the cheapest: the one of
	// unknown cost.
	unknownRun := regexp.MustCompile(`id="run-([0-9a-f]+)">\{[^<]*"cost":null,"cost_flag":2`).FindStringSubmatch(all)
	if unknownRun == nil || strings.Contains(out, `id="run-`+unknownRun[1]+`"`) || strings.Count(out, `<script type="application/json" id="run-`) != 4 {
		t.Error("--max-runs 4 should keep the four dearest runs and leave out the one of unknown cost")
	}
	if !strings.Contains(errs, "hooks.jsonl:") {
		t.Errorf("stderr lacks the file:line of the skipped line:\n%s", errs)
	}
}
