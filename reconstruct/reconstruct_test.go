package reconstruct_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const corpus = "../fixtures/corpus"

type mode struct {
	name  string
	hooks bool
}

var modes = []mode{{"transcripts", false}, {"hooks", true}}

func inputs(sc tracetest.Scenario, m mode) []string {
	if m.hooks {
		return []string{sc.State, sc.Hooks}
	}
	return []string{sc.State}
}

func render(traces []reconstruct.Trace) []byte {
	var b bytes.Buffer
	for i := range traces {
		if err := reconstruct.WriteText(&b, &traces[i], true); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

// TestGolden compares the reconstruction of every fixture scenario, in both
// modes, with the evidence, against testdata/golden. Regenerate with
// go test ./reconstruct -run Golden -update.
func TestGolden(t *testing.T) {
	scs := tracetest.Scenarios(corpus)
	if len(scs) < 30 {
		t.Fatalf("found %d scenarios", len(scs))
	}
	for _, sc := range scs {
		for _, m := range modes {
			t.Run(sc.Name+"/"+m.name, func(t *testing.T) {
				traces, _, err := tracetest.Reconstruct(inputs(sc, m), ingest.Options{})
				if err != nil {
					t.Fatal(err)
				}
				got := render(traces)
				path := filepath.Join("testdata", "golden", sc.Name+"."+m.name+".txt")
				tracetest.Golden(t, path, got, *update, "go test ./reconstruct -run Golden -update")
			})
		}
	}
}

// TestInvariants runs the validator on every scenario in both modes.
func TestInvariants(t *testing.T) {
	for _, sc := range tracetest.Scenarios(corpus) {
		for _, m := range modes {
			traces, _, err := tracetest.Reconstruct(inputs(sc, m), ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tracetest.Validate(traces); err != nil {
				t.Errorf("%s/%s:\n%v", sc.Name, m.name, err)
			}
		}
	}
}

// TestDeterministic: the same input gives byte-identical output for any
// number of workers and any GOMAXPROCS, and input order does not matter.
func TestDeterministic(t *testing.T) {
	sc := tracetest.Scenarios(corpus)
	paths := []string{sc[0].State}
	for _, s := range sc {
		if strings.Contains(s.Name, "2026.9.6/1") {
			paths = append(paths, s.State)
		}
	}
	ref := func() []byte {
		tr, _, err := tracetest.Reconstruct(paths, ingest.Options{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		return render(tr)
	}()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 8} {
		runtime.GOMAXPROCS(procs)
		for _, w := range []int{0, 3} {
			rev := append([]string(nil), paths...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			tr, _, err := tracetest.Reconstruct(rev, ingest.Options{Workers: w})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(render(tr), ref) {
				t.Fatalf("GOMAXPROCS=%d workers=%d reversed inputs: output differs", procs, w)
			}
		}
	}
}

// knownMisses lists the scenarios where the acceptance targets are not met
// and why; every other scenario must score perfectly.
var knownMisses = map[string]string{
	// The mock sleeps after its last chunk before res.end(), so its end_ms
	// trails the end the client saw (FINDINGS.md §12 side note): no input
	// holds a later time.
	"openclaw-2026.9.6/17-exec-chain-long":  "containment",
	"openclaw-2026.7.35/17-exec-chain-long": "containment",
}

// TestEvalTargets checks the reconstruct issue's accuracy targets on the
// recorded corpus, per scenario and pooled.
func TestEvalTargets(t *testing.T) {
	for _, m := range modes {
		var all []reconstruct.EvalResult
		for _, sc := range tracetest.Scenarios(corpus) {
			traces, sessions, err := tracetest.Reconstruct(inputs(sc, m), ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(sc.Truth)
			if err != nil {
				t.Fatal(err)
			}
			truth, err := reconstruct.ReadTruth(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			r := reconstruct.Evaluate(traces, sessions, truth)
			r.Scenario = sc.Name
			all = append(all, r)
			if r.Hooks != m.hooks {
				t.Errorf("%s/%s: Hooks = %v", sc.Name, m.name, r.Hooks)
			}
			if r.LLMPrecision != 1 || r.LLMRecall != 1 || r.ParentAccuracy != 1 {
				t.Errorf("%s/%s: precision %v recall %v parents %v: %v", sc.Name, m.name, r.LLMPrecision, r.LLMRecall, r.ParentAccuracy, r.Problems)
			}
			miss := knownMisses[sc.Name] + knownMisses[sc.Name+"/"+m.name]
			if !strings.Contains(miss, "containment") && (r.Containment != 1 || r.ToolWithinGap != 1) {
				t.Errorf("%s/%s: containment %v, tools within gap %v: %v", sc.Name, m.name, r.Containment, r.ToolWithinGap, r.Problems)
			}
			if !strings.Contains(miss, "tool links") && r.ToolLinkAccuracy != 1 {
				t.Errorf("%s/%s: tool links %v: %v", sc.Name, m.name, r.ToolLinkAccuracy, r.Problems)
			}
			if r.ToolExecContainment != nil && *r.ToolExecContainment != 1 {
				t.Errorf("%s/%s: exec containment %v", sc.Name, m.name, *r.ToolExecContainment)
			}
		}
		p := reconstruct.Pool("all", all)
		t.Logf("%s: P %.3f R %.3f links %.3f containment %.3f overhang median %.0f ms p95 %.0f ms, in gap %.3f, ECE %.4f",
			m.name, p.LLMPrecision, p.LLMRecall, p.ToolLinkAccuracy, p.Containment, p.OverhangMedian, p.OverhangP95, p.ToolWithinGap, p.ECE)
		if p.ECE > 0.05 {
			t.Errorf("%s: pooled ECE %.4f > 0.05", m.name, p.ECE)
		}
		if p.Containment < 0.96 {
			t.Errorf("%s: pooled containment %.3f", m.name, p.Containment)
		}
		limit := 30.0
		if !m.hooks {
			limit = 32 // transcript timestamps alone: see docs/reconstruction.md
		}
		if p.OverhangMedian > limit {
			t.Errorf("%s: pooled median overhang %.0f ms > %.0f", m.name, p.OverhangMedian, limit)
		}
	}
}

// TestForkCopiesCountOnce: a session copied by /fork (same entry ids,
// times and usage) keeps its spans but not its usage.
func TestForkCopiesCountOnce(t *testing.T) {
	dir := tracetest.ForkedStateDir(t, true)
	traces, _, err := tracetest.Reconstruct([]string{dir}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var d reconstruct.ForkDeduper
	if n := d.Apply(traces); n != 1 {
		t.Fatalf("Apply changed %d spans, want 1", n)
	}
	if !traces[0].Spans[1].Usage.Known || traces[1].Spans[1].Usage.Known {
		t.Errorf("usage: s1 %v, s9 %v", traces[0].Spans[1].Usage.Known, traces[1].Spans[1].Usage.Known)
	}
	ev := traces[1].Spans[1].Evidence
	if last := ev[len(ev)-1]; last.Note != reconstruct.NoteForkCopy+" main/s1" {
		t.Errorf("note %q", last.Note)
	}
}
