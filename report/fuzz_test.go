package report

import (
	"bytes"
	"io"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/clawtrace/clawtrace/ingest"
)

// FuzzLoadPricing checks that a --pricing file never panics the loader and
// that a table it accepts is usable: lookups of its own names and of
// unrelated ones, and the cost of ordinary usages, which must be a finite,
// non-negative number.
func FuzzLoadPricing(f *testing.F) {
	f.Add(embeddedPricing)
	f.Add([]byte(`{"schema_version":1,"models":[{"id":"m","aliases":["a"," A "],"input":1,"output":2,"cache_read":0.1,"cache_write":1.5,` +
		`"tiers":[{"above_prompt_tokens":200000,"input":2,"output":4,"cache_read":0.2,"cache_write":3,"cache_write_1h":6}]}]}`))
	f.Add([]byte(`{"schema_version":1,"models":[{"id":"x","input":1e308,"output":1e308,"cache_read":1e308,"cache_write":1e308}]}`))
	f.Add([]byte(`{"schema_version":1,"models":[{"id":"x","input":-0,"output":0,"cache_read":0,"cache_write":0,"tiers":[{"above_prompt_tokens":9223372036854775807,"input":0,"output":0,"cache_read":0,"cache_write":0}]}]}`))
	f.Add([]byte(`{"schema_version":1,"models":[{"id":"x","input":1,"output":1,"cache_read":1,"cache_write":1},{"id":"X ","input":1,"output":1,"cache_read":1,"cache_write":1}]}`))
	f.Add(append([]byte(`{"schema_version":1,"notes":`), bytes.Repeat([]byte("["), 20000)...))
	usages := []ingest.Usage{
		{},
		{Input: 1000, Output: 200, CacheRead: 300_000, CacheWrite: 50, CacheWrite1h: 20, Known: true},
		{Input: -5, Output: 1, CacheWrite1h: 99, Known: true},
		{Input: 1 << 40, Output: 1 << 40, Known: true},
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		tab, err := LoadPricing(bytes.NewReader(doc), "p.json")
		if err != nil {
			if tab != nil {
				t.Fatalf("table and error: %v", err)
			}
			return
		}
		names := []string{"", "claude-sonnet-4-6", "gpt-5-2026-01-01", "m-latest", "\x00"}
		for _, m := range tab.Models() {
			names = append(names, m.ID, m.ID+"-20260101", "provider/"+m.ID)
			names = append(names, m.Aliases...)
		}
		for _, n := range names {
			mp, ok := tab.Lookup(n)
			if ok != (mp != nil) {
				t.Fatalf("Lookup(%q) = %v, %v", n, mp, ok)
			}
			if !ok {
				continue
			}
			for _, u := range usages {
				c := mp.Cost(u)
				if math.IsNaN(c) || u.Input >= 0 && c < 0 {
					t.Fatalf("Cost(%+v) of %s = %v", u, mp.ID, c)
				}
			}
		}
		for _, m := range tab.Models() {
			if mp, ok := tab.Lookup(m.ID); !ok || mp != m && normModel(mp.ID) != normModel(m.ID) {
				t.Fatalf("model %q not found by its own id", m.ID)
			}
		}
		_ = DefaultPricing().Override(tab)
	})
}

// FuzzReadBaseline checks that `check` never panics on a baseline file,
// and that a baseline it accepts round-trips (Write then ReadBaseline
// gives the same baseline, and Write is then a fixed point) and can be
// compared against itself and the fixture baseline, and reported in every
// output format.
func FuzzReadBaseline(f *testing.F) {
	for _, p := range []string{"../fixtures/baseline.json", "../fixtures/worsened/baseline.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"schema_version":1,"scenarios":{"a":{"runs":1,"cost_usd":null,"min_confidence":1,"tool_calls_by_name":{"":1}}}}`))
	f.Add([]byte(`{"schema_version":1,"thresholds":{"max_cost_increase":"10%","max_calls_increase":"1","fail_on":["tool-error"],` +
		`"scenarios":{"*":{"forbid_tool":["exec"]},"[":{}}},"scenarios":{"[":{"runs":-1,"cost_usd":1e308,"tokens":{"total":9223372036854775807}}}}`))
	f.Add([]byte(`{"schema_version":1,"scenarios":{"a":{"cost_usd":-0}}} x`))
	f.Add(append([]byte(`{"schema_version":1,"scenarios":`), bytes.Repeat([]byte(`{"a":`), 20000)...))
	var fixture *Baseline
	if b, err := os.ReadFile("../fixtures/baseline.json"); err == nil {
		fixture, _ = ReadBaseline(bytes.NewReader(b), "fixture")
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		b, err := ReadBaseline(bytes.NewReader(doc), "b.json")
		if err != nil {
			if b != nil {
				t.Fatalf("baseline and error: %v", err)
			}
			return
		}
		var w1 bytes.Buffer
		if err := b.Write(&w1); err != nil {
			t.Fatalf("write: %v", err)
		}
		b2, err := ReadBaseline(bytes.NewReader(w1.Bytes()), "b2.json")
		if err != nil {
			t.Fatalf("re-read of written baseline: %v\n%s", err, w1.Bytes())
		}
		var w2 bytes.Buffer
		if err := b2.Write(&w2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w1.Bytes(), w2.Bytes()) {
			t.Fatalf("write is not a fixed point:\n%s\n%s", w1.Bytes(), w2.Bytes())
		}
		if !reflect.DeepEqual(b.Scenarios, b2.Scenarios) {
			t.Fatalf("scenarios changed in the round trip:\n%+v\n%+v", b.Scenarios, b2.Scenarios)
		}
		reports := []*CheckReport{Compare(b, b2, b.Thresholds)}
		if fixture != nil {
			reports = append(reports, Compare(fixture, b, b.Thresholds), Compare(b, fixture, fixture.Thresholds.Override(b.Thresholds)))
		}
		for _, rep := range reports {
			_, _ = rep.Verdict()
			for _, write := range []func(io.Writer) error{rep.WriteTable, rep.WriteJSON, rep.WriteJUnit, rep.WriteAnnotations, rep.WriteMarkdown} {
				if err := write(io.Discard); err != nil {
					t.Fatalf("writing the report: %v", err)
				}
			}
		}
		for _, r := range reports[0].Results {
			switch r.Check {
			case CheckScenario, CheckCost, CheckTokens, CheckLLMCalls, CheckToolCalls, CheckDuration, CheckToolErrors, CheckProviderErrors:
				if r.Status == CheckFail {
					t.Fatalf("a baseline fails a relative check against itself: %+v", r)
				}
			}
		}
	})
}
