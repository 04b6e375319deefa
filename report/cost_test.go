package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

// ---- helpers -------------------------------------------------------------

const costCorpus = "../fixtures/corpus"

// costInputs returns the inputs of one recorded scenario: its state dir and
// its hook dump when there is one.
func costInputs(t testing.TB, version, name string) []string {
	t.Helper()
	d := filepath.Join(costCorpus, version, name)
	paths := []string{filepath.Join(d, "state")}
	if _, err := os.Stat(filepath.Join(d, "hooks.jsonl")); err == nil {
		paths = append(paths, filepath.Join(d, "hooks.jsonl"))
	}
	return paths
}

// costScenarios lists every recorded scenario as (version, name).
func costScenarios(t testing.TB) [][2]string {
	t.Helper()
	var out [][2]string
	for _, v := range []string{"openclaw-2026.9.6", "openclaw-2026.7.35"} {
		ents, err := os.ReadDir(filepath.Join(costCorpus, v))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() {
				out = append(out, [2]string{v, e.Name()})
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no scenarios under " + costCorpus)
	}
	return out
}

// costSession is one session as the CLI delivers it.
type costSession struct {
	s      *ingest.Session
	traces []reconstruct.Trace
}

// loadCostSessions runs ingest + reconstruct (+ the /fork dedup) over the
// inputs, as the CLI does, and returns every session in delivery order.
func loadCostSessions(t testing.TB, paths []string, workers int) []costSession {
	t.Helper()
	c, err := ingest.Open(paths, ingest.Options{Workers: workers})
	if err != nil {
		t.Fatalf("%v: %v", paths, err)
	}
	var out []costSession
	var forks reconstruct.ForkDeduper // as the CLI pipeline does, in delivery order
	err = c.Each(context.Background(), func(s *ingest.Session) error {
		traces := reconstruct.Session(s, reconstruct.Options{Resolver: c})
		forks.Apply(traces)
		out = append(out, costSession{s, traces})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// aggregate feeds sessions to a new Aggregator and returns its report.
func costAggregate(t testing.TB, sessions []costSession, opt Options, ropt ReportOptions) *Report {
	t.Helper()
	a, err := NewAggregator(opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range sessions {
		if cs.s != nil {
			a.AddSession(cs.s)
		}
		a.Add(cs.traces)
	}
	return a.Report(ropt)
}

func costDims(t testing.TB, s string) []Dimension {
	t.Helper()
	d, err := ParseDimensions([]string{s})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func costRow(t testing.TB, r *Report, values ...string) *Row {
	t.Helper()
	for i := range r.Rows {
		if slices.Equal(r.Rows[i].values, values) {
			return &r.Rows[i]
		}
	}
	t.Fatalf("no row %q in %d rows", values, len(r.Rows))
	return nil
}

func costF64(v float64) *float64 { return &v }

func costEq(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func wantCost(t testing.TB, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: cost unknown, want %.10g", what, want)
		return
	}
	if !costEq(*got, want) {
		t.Errorf("%s: cost %.10g, want %.10g", what, *got, want)
	}
}

// Synthetic traces. Span ids are hashes of names, so tests can link spans
// by name.
var costT0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func costSID(name string) reconstruct.SpanID {
	return reconstruct.NewSpanID(reconstruct.TraceID{}, name)
}

func costUsage(in, out, cr, cw int64, cost *ingest.Cost) ingest.Usage {
	return ingest.Usage{Known: true, Input: in, Output: out, CacheRead: cr, CacheWrite: cw, Total: in + out + cr + cw, Cost: cost}
}

func costChat(name, model string, at int, u ingest.Usage) reconstruct.Span {
	sp := reconstruct.Span{ID: costSID(name), Kind: reconstruct.KindLLM, Name: "chat " + model, Model: model, Provider: "p",
		Start: costT0.Add(time.Duration(at) * time.Second), Usage: u, Status: reconstruct.StatusOK, Confidence: 1}
	sp.End = sp.Start.Add(time.Second)
	if u.Known {
		sp.Evidence = append(sp.Evidence, reconstruct.Evidence{Field: "usage", Method: reconstruct.MethodTranscriptUsage, Confidence: 1})
	}
	return sp
}

func costFailed(sp reconstruct.Span) reconstruct.Span {
	sp.Status, sp.StatusMessage = reconstruct.StatusError, "429"
	return sp
}

func costCompaction(name string, at int, u ingest.Usage) reconstruct.Span {
	sp := costChat(name, "m", at, u)
	sp.Kind = reconstruct.KindCompaction
	return sp
}

func costTool(name, toolName string, at int, emitter, consumer string, resultBytes int) reconstruct.Span {
	sp := reconstruct.Span{ID: costSID(name), Kind: reconstruct.KindTool, Name: "execute_tool " + toolName, ToolName: toolName,
		ToolCallID: name, Start: costT0.Add(time.Duration(at) * time.Second), ResultSize: resultBytes, Status: reconstruct.StatusOK, Confidence: 0.97}
	sp.End = sp.Start
	if emitter != "" {
		sp.Links = append(sp.Links, reconstruct.Link{Span: costSID(emitter), Relation: "emitted_by"})
		sp.Evidence = append(sp.Evidence, reconstruct.Evidence{Field: "emitted_by", Method: reconstruct.MethodIDExact, Confidence: 1})
	}
	if consumer != "" {
		sp.Links = append(sp.Links, reconstruct.Link{Span: costSID(consumer), Relation: "consumed_by"})
		sp.Evidence = append(sp.Evidence, reconstruct.Evidence{Field: "consumed_by", Method: reconstruct.MethodOrderNextCall, Confidence: 0.97})
	}
	return sp
}

func costTrace(session string, spans ...reconstruct.Span) reconstruct.Trace {
	tr := reconstruct.Trace{AgentID: "main", SessionID: session, SessionKey: "agent:main:" + session, RunID: session + "-run", Ordinal: 1}
	root := reconstruct.Span{ID: costSID(session + "/run"), Kind: reconstruct.KindRun, Start: costT0, End: costT0.Add(time.Minute), Confidence: 1}
	tr.Spans = append([]reconstruct.Span{root}, spans...)
	return tr
}

// ---- pricing ---------------------------------------------------------------

func TestPricingEmbeddedLookup(t *testing.T) {
	p := DefaultPricing()
	if !strings.HasPrefix(p.AsOf(), "embedded (as of 20") {
		t.Errorf("AsOf = %q", p.AsOf())
	}
	for _, c := range []struct{ model, want string }{
		{"claude-sonnet-4-5", "claude-sonnet-4-5"},
		{"Claude-Sonnet-4-5", "claude-sonnet-4-5"},
		{"claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		{"claude-sonnet-4-5@20250929", "claude-sonnet-4-5"},
		{"anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"},
		{"openrouter/anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"},
		{"us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"},
		{"claude-sonnet-4-5[1m]", "claude-sonnet-4-5"},
		{"claude-sonnet-4-20250514", "claude-sonnet-4"},
		{"claude-sonnet-4-6", "claude-sonnet-4-6"},
		{"claude-opus-4-5", "claude-opus-4-5"},
		{"claude-opus-4-1-20250805", "claude-opus-4-1"},
		{"claude-haiku-4-5-20251001", "claude-haiku-4-5"},
		{"gpt-5", "gpt-5"},
		{"openai/gpt-5-2025-08-07", "gpt-5"},
		{"gpt-5-mini-2025-08-07", "gpt-5-mini"},
		{"gpt-4.1", "gpt-4.1"},
		{"gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"gpt-4o-2024-08-06", "gpt-4o"},
		{"o3", "o3"},
		{"o3-2025-04-16", "o3"},
		{"o4-mini", "o4-mini"},
		{"gemini-2.5-pro", "gemini-2.5-pro"},
		{"google/gemini-2.5-flash", "gemini-2.5-flash"},
		{"gemini-2.5-pro-preview-06-05", "gemini-2.5-pro"},
		// A suffix that continues the version or names a variant is not a
		// snapshot of the shorter id: unpriced.
		{"claude-sonnet-4-7", ""},
		{"claude-opus-4-9", ""},
		{"gpt-5-pro", ""},
		{"gpt-5.2", ""},
		{"o3-pro", ""},
		{"gemini-2.5-flash-image", ""},
		{"mock-a", ""},
		{"", ""},
	} {
		m, ok := p.Lookup(c.model)
		got := ""
		if ok {
			got = m.ID
		}
		if got != c.want {
			t.Errorf("Lookup(%q) = %q, want %q", c.model, got, c.want)
		}
	}
	// Every required family is there.
	for _, id := range []string{"claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "gpt-5", "gpt-5-mini", "gpt-4.1",
		"gpt-4o", "o3", "o4-mini", "gemini-2.5-pro", "gemini-2.5-flash"} {
		if _, ok := p.Lookup(id); !ok {
			t.Errorf("embedded table lacks %s", id)
		}
	}
}

func TestPricingRepriceArithmetic(t *testing.T) {
	p := DefaultPricing()
	son, _ := p.Lookup("claude-sonnet-4-5")
	gem, _ := p.Lookup("gemini-2.5-pro")
	gpt, _ := p.Lookup("gpt-5")
	for _, c := range []struct {
		name string
		m    *ModelPrice
		u    ingest.Usage
		want float64
	}{
		// 1000×3 + 500×15 + 2000×0.30 + (400−100)×3.75 + 100×6 (1h write)
		// = 3000 + 7500 + 600 + 1125 + 600 = 12825 µ$ → $0.012825
		{"sonnet base with 1h cache write", son, ingest.Usage{Known: true, Input: 1000, Output: 500, CacheRead: 2000, CacheWrite: 400, CacheWrite1h: 100}, 0.012825},
		// prompt 150000+60000 = 210000 > 200000: the whole call at the
		// long-context tier: 150000×6 + 60000×0.60 + 1000×22.50
		// = 900000 + 36000 + 22500 = 958500 µ$ → $0.9585
		{"sonnet long-context tier", son, ingest.Usage{Known: true, Input: 150000, Output: 1000, CacheRead: 60000}, 0.9585},
		// prompt exactly 200000 is not above the threshold: base band.
		// 200000×3 + 1000×15 = 615000 µ$
		{"sonnet at the threshold", son, ingest.Usage{Known: true, Input: 200000, Output: 1000}, 0.615},
		// gemini-2.5-pro >200k: 250000×2.50 + 2000×15 = 655000 µ$
		{"gemini pro long-context tier", gem, ingest.Usage{Known: true, Input: 250000, Output: 2000}, 0.655},
		// gpt-5: 10000×1.25 + 90000×0.125 + 1000×10 = 12500+11250+10000
		{"gpt-5 cached input", gpt, ingest.Usage{Known: true, Input: 10000, Output: 1000, CacheRead: 90000}, 0.03375},
	} {
		if got := c.m.Cost(c.u); !costEq(got, c.want) {
			t.Errorf("%s: %.10g, want %.10g", c.name, got, c.want)
		}
	}
}

func TestPricingLoadErrors(t *testing.T) {
	for _, c := range []struct{ name, json, msg string }{
		{"schema", `{"schema_version":2,"models":[]}`, "schema_version 2"},
		{"unknown field", `{"schema_version":1,"modles":[]}`, "unknown field"},
		{"missing price", `{"schema_version":1,"models":[{"id":"x","input":1,"output":2,"cache_read":0.1}]}`, "missing cache_write"},
		{"negative", `{"schema_version":1,"models":[{"id":"x","input":-1,"output":2,"cache_read":0.1,"cache_write":1}]}`, "negative input"},
		{"no id", `{"schema_version":1,"models":[{"input":1,"output":2,"cache_read":0.1,"cache_write":1}]}`, "missing id"},
		{"tiers", `{"schema_version":1,"models":[{"id":"x","input":1,"output":2,"cache_read":0.1,"cache_write":1,"tiers":[{"above_prompt_tokens":0,"input":1,"output":2,"cache_read":0.1,"cache_write":1}]}]}`, "ascending"},
		{"duplicate", `{"schema_version":1,"models":[{"id":"x","input":1,"output":2,"cache_read":0.1,"cache_write":1},{"id":"y","aliases":["X"],"input":1,"output":2,"cache_read":0.1,"cache_write":1}]}`, `name "x"`},
		{"currency", `{"schema_version":1,"currency":"EUR","models":[]}`, "only USD"},
	} {
		_, err := LoadPricing(strings.NewReader(c.json), "f.json")
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.msg)
		}
	}
}

func TestPricingOverride(t *testing.T) {
	o, err := LoadPricing(strings.NewReader(`{"schema_version":1,"as_of":"2026-12-01","models":[
		{"id":"claude-sonnet-4-5","input":1,"output":2,"cache_read":0.1,"cache_write":1.25},
		{"id":"mock-a","aliases":["mock-b"],"input":1,"output":2,"cache_read":0.1,"cache_write":1}]}`), "mine.json")
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultPricing().Override(o)
	if got := strings.Join(p.Origins, " + "); !strings.Contains(got, "mine.json (as of 2026-12-01)") {
		t.Errorf("origins %q", got)
	}
	// The override replaces the whole embedded entry, aliases included.
	for _, id := range []string{"claude-sonnet-4-5", "claude-sonnet-4-5-20250929"} {
		m, ok := p.Lookup(id)
		if ok && m.Origin == "embedded" {
			t.Errorf("%s still priced from the embedded entry", id)
		}
		if ok && m.Input != 1 {
			t.Errorf("%s input %v, want 1", id, m.Input)
		}
	}
	if m, ok := p.Lookup("mock-b"); !ok || m.ID != "mock-a" {
		t.Errorf("mock-b not found through the alias")
	}
	if _, ok := p.Lookup("gpt-5"); !ok {
		t.Error("override dropped an unrelated embedded model")
	}
}

// ---- unknown and partial prices -------------------------------------------

func TestCostUnknownAndPartialPrices(t *testing.T) {
	rec := func(total float64) *ingest.Cost { return &ingest.Cost{Total: total} }
	// claude-haiku-4-5 is in the table: 1000×1 + 100×5 = 1500 µ$.
	const haiku = 0.0015
	for _, c := range []struct {
		name     string
		mode     CostMode
		calls    []reconstruct.Span
		cost     *float64
		source   string
		unpriced int64
		noUsage  int64
		table    string // the cost cell of the table
	}{
		{"all recorded", CostRecorded, []reconstruct.Span{
			costChat("a", "unknown-model", 1, costUsage(1000, 100, 0, 0, rec(0.01))),
			costChat("b", "unknown-model", 2, costUsage(1000, 100, 0, 0, rec(0.02)))},
			costF64(0.03), SourceRecorded, 0, 0, "$0.0300"},
		{"usage without any price is unknown, never 0", CostRecorded, []reconstruct.Span{
			costChat("a", "unknown-model", 1, costUsage(1000, 100, 0, 0, nil))},
			nil, SourceUnknown, 1, 0, "unknown"},
		{"partial: one priced, one not → lower bound", CostRecorded, []reconstruct.Span{
			costChat("a", "unknown-model", 1, costUsage(1000, 100, 0, 0, rec(0.01))),
			costChat("b", "unknown-model", 2, costUsage(1000, 100, 0, 0, nil))},
			costF64(0.01), SourceMixed, 1, 0, "≥$0.0100"},
		{"recorded mode falls back to the table", CostRecorded, []reconstruct.Span{
			costChat("a", "claude-haiku-4-5", 1, costUsage(1000, 100, 0, 0, nil))},
			costF64(haiku), SourceRepriced, 0, 0, "$0.0015"},
		{"recorded + table fallback → mixed, complete", CostRecorded, []reconstruct.Span{
			costChat("a", "claude-haiku-4-5", 1, costUsage(1000, 100, 0, 0, rec(0.5))),
			costChat("b", "claude-haiku-4-5", 2, costUsage(1000, 100, 0, 0, nil))},
			costF64(0.5 + haiku), SourceMixed, 0, 0, "$0.5015"},
		{"repriced mode ignores the recorded cost", CostRepriced, []reconstruct.Span{
			costChat("a", "claude-haiku-4-5", 1, costUsage(1000, 100, 0, 0, rec(0.5)))},
			costF64(haiku), SourceRepriced, 0, 0, "$0.0015"},
		{"repriced mode keeps the recorded cost of unknown models", CostRepriced, []reconstruct.Span{
			costChat("a", "claude-haiku-4-5", 1, costUsage(1000, 100, 0, 0, nil)),
			costChat("b", "unknown-model", 2, costUsage(1000, 100, 0, 0, rec(0.25)))},
			costF64(0.25 + haiku), SourceMixed, 0, 0, "$0.2515"},
		{"calls without usage: nothing priced, nothing unpriced", CostRecorded, []reconstruct.Span{
			costChat("a", "unknown-model", 1, ingest.Usage{})},
			nil, SourceUnknown, 0, 1, "unknown"},
		{"a call that did not fail but has no usage makes the cost a lower bound", CostRecorded, []reconstruct.Span{
			costChat("a", "unknown-model", 1, costUsage(10, 1, 0, 0, rec(0.001))),
			costChat("b", "unknown-model", 2, ingest.Usage{})},
			costF64(0.001), SourceMixed, 0, 1, "≥$0.0010"},
		{"a failed call without usage is taken as not billed", CostRecorded, []reconstruct.Span{
			costChat("a", "unknown-model", 1, costUsage(10, 1, 0, 0, rec(0.001))),
			costFailed(costChat("b", "unknown-model", 2, ingest.Usage{}))},
			costF64(0.001), SourceRecorded, 0, 1, "$0.0010"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := costAggregate(t, []costSession{{traces: []reconstruct.Trace{costTrace("s1", c.calls...)}}},
				Options{GroupBy: []Dimension{DimAgent}, Mode: c.mode}, ReportOptions{})
			if len(rep.Rows) != 1 {
				t.Fatalf("%d rows", len(rep.Rows))
			}
			for what, got := range map[string]Counts{"row": rep.Rows[0].Counts, "totals": rep.Totals} {
				if (got.Cost == nil) != (c.cost == nil) || (got.Cost != nil && !costEq(*got.Cost, *c.cost)) {
					t.Errorf("%s cost = %v, want %v", what, fmtCost(got.Cost, false), fmtCost(c.cost, false))
				}
				if got.CostSource != c.source || got.UnpricedCalls != c.unpriced || got.CallsWithoutUsage != c.noUsage {
					t.Errorf("%s source %s unpriced %d no-usage %d, want %s %d %d", what, got.CostSource, got.UnpricedCalls,
						got.CallsWithoutUsage, c.source, c.unpriced, c.noUsage)
				}
			}
			if rep.Coverage.UnpricedCalls != c.unpriced || rep.Coverage.CallsWithoutUsage != c.noUsage {
				t.Errorf("coverage %+v", rep.Coverage)
			}
			// The writers: table shows "unknown" / "≥", CSV an empty cell,
			// JSON null.
			var tb, cs, js bytes.Buffer
			for f, b := range map[string]*bytes.Buffer{"table": &tb, "csv": &cs, "json": &js} {
				if err := rep.Write(b, f, WriteOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if !strings.Contains(tb.String(), " "+c.table+" ") {
				t.Errorf("table lacks cost cell %q:\n%s", c.table, tb.String())
			}
			recs, err := csv.NewReader(strings.NewReader(stripCSVComments(cs.String()))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			costCol := slices.Index(recs[0], "cost")
			if got := recs[1][costCol]; (got == "") != (c.cost == nil) {
				t.Errorf("csv cost cell %q", got)
			}
			var j struct {
				Totals struct {
					Cost *float64 `json:"cost"`
				} `json:"totals"`
			}
			if err := json.Unmarshal(js.Bytes(), &j); err != nil {
				t.Fatal(err)
			}
			if (j.Totals.Cost == nil) != (c.cost == nil) {
				t.Errorf("json totals.cost = %v", j.Totals.Cost)
			}
			if c.cost == nil && !strings.Contains(js.String(), `"cost": null`) {
				t.Error(`json lacks "cost": null`)
			}
		})
	}
}

func stripCSVComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// ---- dedup across archived copies ----------------------------------------

const dedupSession = `{"type":"session","version":3,"id":"sess1","timestamp":"2026-06-01T09:00:00.000Z","cwd":"/w"}
{"type":"message","id":"e1","parentId":null,"timestamp":"2026-06-01T09:00:01.000Z","message":{"role":"user","content":"hi","timestamp":1780304401000}}
{"type":"message","id":"e2","parentId":"e1","timestamp":"2026-06-01T09:00:03.000Z","message":{"role":"assistant","content":[{"type":"text","text":"hello"}],"api":"anthropic-messages","provider":"anthropic","model":"claude-sonnet-4-5","usage":{"input":1000,"output":100,"cacheRead":500,"cacheWrite":0,"totalTokens":1600,"cost":{"input":0.003,"output":0.0015,"cacheRead":0.00015,"cacheWrite":0,"total":0.00465}},"stopReason":"stop","timestamp":1780304401500}}
`

func TestCostDedupArchivedCopies(t *testing.T) {
	dir := t.TempDir()
	sessions := filepath.Join(dir, "agents", "main", "sessions")
	if err := os.MkdirAll(sessions, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(sessions, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A live session and an identical archived copy of it: counted once.
	write("sess1.jsonl", dedupSession)
	write("sess1.jsonl.deleted.2026-06-02T10-00-00.000Z", dedupSession)
	// A session known only from its archive: deleted, still included.
	// (Another call: the same entry id, time and usage in another session
	// would be a /fork copy, counted once.)
	sess2 := strings.NewReplacer("sess1", "sess2", `"id":"e2"`, `"id":"f2"`, "1780304401500", "1780304461500").Replace(dedupSession)
	write("sess2.jsonl.reset.2026-06-03T10-00-00.000Z", sess2)
	// A /fork of sess1: the copied call is counted in sess1 only.
	write("sess3.jsonl", strings.ReplaceAll(dedupSession, "sess1", "sess3"))

	rep := costAggregate(t, loadCostSessions(t, []string{dir}, 2), Options{GroupBy: costDims(t, "session")}, ReportOptions{Sort: SortName})
	for _, s := range []string{"sess1", "sess2"} {
		r := costRow(t, rep, s)
		if r.LLMCalls != 1 || r.InputTokens != 1000 || r.OutputTokens != 100 || r.CacheReadTokens != 500 {
			t.Errorf("%s: %+v, want one call counted once", s, r.Counts)
		}
		wantCost(t, s, r.Cost, 0.00465)
	}
	if rep.Totals.LLMCalls != 2 || rep.Totals.InputTokens != 2000 {
		t.Errorf("totals %+v", rep.Totals)
	}
	wantCost(t, "totals", rep.Totals.Cost, 0.0093)
	cov := rep.Coverage
	// sess2's archive is its only copy: not an extra one.
	if cov.SessionsRead != 3 || cov.ArchivedCopies != 1 || cov.DuplicateEntries != 3 || cov.DeletedSessions != 1 || cov.ForkCopies != 1 {
		t.Errorf("coverage %+v: want 3 sessions, 1 archived copy, 3 duplicate entries (the whole copy), 1 deleted, 1 fork copy", cov)
	}
}

// ---- per-tool context cost ------------------------------------------------

// TestCostToolContextArithmetic checks the decision and context cost of a
// hand-built run. Prices are per token, derived from each call's recorded
// cost breakdown (recorded mode): input 3e-6, cache read 3e-7, cache
// write 3.75e-6.
//
//	C1  in 1000 out 50               cost 0.00375 (in 0.003, out 0.00075)  emits T1 read, T2 ls
//	T1  read, 4000 bytes → 1000 tokens, consumed by C2
//	T2  ls,    402 bytes →  101 tokens (rounded up), consumed by C2
//	C2  in 1200 cr 1000 out 40       cost 0.0045 (in 0.0036, cr 0.0003, out 0.0006)
//	    prompt P = 1200+1000 = 2200: the prompt that first carries T1, T2
//	C3  in 100 cr 2200 out 20        cost 0.00126 (in 0.0003, cr 0.00066, out 0.0003)  emits T3 write
//	T3  write, 40 bytes → 10 tokens, consumed by C4
//	C4  in 50 cr 1500 cw 900 out 10  cost 0.003995 (in 0.00015, cr 0.00045, cw 0.003375, out 0.00002)
//	C5  compaction, in 3000 out 200  cost 0.0094 (in 0.009, out 0.0004)
//	C6  in 500 out 5                 cost 0.00151 (in 0.0015, out 0.00001) — after the compaction
//
// Where T1/T2 sit in each later call (P = 2200):
//
//	C2: cr 1000 < 2200, cr+cw 1000 < 2200 → input       3e-6
//	C3: cr 2200 ≥ 2200                    → cache read  3e-7
//	C4: cr 1500 < 2200, cr+cw 2400 ≥ 2200 → cache write 3.75e-6
//	C5: compaction, cr 0                  → input       3e-6, and the last reader
//	C6: after the compaction              → not counted
//
//	T1: 1000 × (3e-6 + 3e-7 + 3.75e-6 + 3e-6) = 1000 × 1.005e-5 = 0.01005
//	T2:  101 × 1.005e-5                                          = 0.00101505
//
// T3 is first carried by C4's prompt (P = 50+1500+900 = 2450): in C4,
// cr+cw = 2400 < 2450 → input 3e-6; in C5 → input 3e-6:
//
//	T3:   10 × (3e-6 + 3e-6) = 0.00006
//
// Decision cost: C1's 0.00375 split over T1 and T2 = 0.001875 each (input
// 500 + 500, output 25 + 25); C3's 0.00126 all to T3; C2, C4, C5, C6 go
// to "(no tool)": 0.0045 + 0.003995 + 0.0094 + 0.00151 = 0.019405.
func TestCostToolContextArithmetic(t *testing.T) {
	cost := func(in, cr, cw, out float64) *ingest.Cost {
		return &ingest.Cost{Input: in, CacheRead: cr, CacheWrite: cw, Output: out, Total: in + cr + cw + out}
	}
	tr := costTrace("ctx",
		costChat("C1", "m", 1, costUsage(1000, 50, 0, 0, cost(0.003, 0, 0, 0.00075))),
		costTool("T1", "read", 2, "C1", "C2", 4000),
		costTool("T2", "ls", 2, "C1", "C2", 402),
		costChat("C2", "m", 3, costUsage(1200, 40, 1000, 0, cost(0.0036, 0.0003, 0, 0.0006))),
		costChat("C3", "m", 4, costUsage(100, 20, 2200, 0, cost(0.0003, 0.00066, 0, 0.0003))),
		costTool("T3", "write", 5, "C3", "C4", 40),
		costChat("C4", "m", 6, costUsage(50, 10, 1500, 900, cost(0.00015, 0.00045, 0.003375, 0.00002))),
		costCompaction("C5", 7, costUsage(3000, 200, 0, 0, cost(0.009, 0, 0, 0.0004))),
		costChat("C6", "m", 8, costUsage(500, 5, 0, 0, cost(0.0015, 0, 0, 0.00001))),
	)
	rep := costAggregate(t, []costSession{{traces: []reconstruct.Trace{tr}}}, Options{GroupBy: costDims(t, "tool")}, ReportOptions{})
	for _, c := range []struct {
		tool         string
		decision     float64
		in, out      int64
		resultTokens int64
		context      float64
	}{
		{"read", 0.001875, 500, 25, 1000, 0.01005},
		{"ls", 0.001875, 500, 25, 101, 0.00101505},
		{"write", 0.00126, 100, 20, 10, 0.00006},
	} {
		r := costRow(t, rep, c.tool)
		wantCost(t, c.tool+" decision", r.Cost, c.decision)
		if r.InputTokens != c.in || r.OutputTokens != c.out || r.ToolCalls != 1 || r.LLMCalls != 1 {
			t.Errorf("%s: %+v", c.tool, r.Counts)
		}
		al := r.Allocation
		if al == nil {
			t.Fatalf("%s: no allocation", c.tool)
		}
		if al.ResultTokens != c.resultTokens {
			t.Errorf("%s: result tokens %d, want %d", c.tool, al.ResultTokens, c.resultTokens)
		}
		wantCost(t, c.tool+" context", al.ContextCost, c.context)
		if al.ContextCostSource != SourceRecorded || al.DecisionConfidence != 1 || al.ContextConfidence != 0.5 {
			t.Errorf("%s: allocation %+v", c.tool, *al)
		}
	}
	none := costRow(t, rep, KeyNoTool)
	wantCost(t, "(no tool)", none.Cost, 0.019405)
	if none.Allocation != nil {
		t.Error("(no tool) row has an allocation")
	}
	// Decision cost sums to the cost of tool-calling calls; with (no
	// tool) every row sums to the total.
	wantCost(t, "total", rep.Totals.Cost, 0.00375+0.0045+0.00126+0.003995+0.0094+0.00151)
	checkCostSums(t, "synthetic/tool", rep)

	// Repriced mode takes the per-token prices from the table instead:
	// model m at input $2/M, cache read $0.2/M, cache write $2.5/M gives
	// T3: 10 × (2e-6 + 2e-6) = 0.00004.
	tab, err := LoadPricing(strings.NewReader(`{"schema_version":1,"models":[{"id":"m","input":2,"output":8,"cache_read":0.2,"cache_write":2.5}]}`), "t.json")
	if err != nil {
		t.Fatal(err)
	}
	rep = costAggregate(t, []costSession{{traces: []reconstruct.Trace{tr}}}, Options{GroupBy: costDims(t, "tool"), Mode: CostRepriced, Pricing: tab}, ReportOptions{})
	w := costRow(t, rep, "write")
	wantCost(t, "repriced write context", w.Allocation.ContextCost, 0.00004)
	if w.Allocation.ContextCostSource != SourceRepriced {
		t.Errorf("source %s", w.Allocation.ContextCostSource)
	}
	// T1 in repriced mode: 1000 × (2e-6 + 2e-7 + 2.5e-6 + 2e-6) = 0.0067.
	wantCost(t, "repriced read context", costRow(t, rep, "read").Allocation.ContextCost, 0.0067)
}

// ---- subagent roll-up ------------------------------------------------------

func TestCostSubagentRollupFixture(t *testing.T) {
	sessions := loadCostSessions(t, costInputs(t, "openclaw-2026.9.6", "10-subagent"), 0)
	if len(sessions) != 2 {
		t.Fatalf("%d sessions", len(sessions))
	}
	// Sessions arrive sorted by id: the child (0d53…) before its parent
	// (s10). Reversing the order must not change anything.
	rev := slices.Clone(sessions)
	slices.Reverse(rev)
	var outs [][]byte
	for _, ss := range [][]costSession{sessions, rev} {
		rep := costAggregate(t, ss, Options{GroupBy: costDims(t, "subagent,tool")}, ReportOptions{Sort: SortName})
		// The child's own cost: its calls, found under its session key.
		var child float64
		var childKey string
		for _, r := range rep.Rows {
			if r.values[0] != KeyNone {
				childKey = r.values[0]
				child += *r.Cost
				if r.ParentSession != "agent:main:explicit:s10" {
					t.Errorf("parent session %q", r.ParentSession)
				}
			}
		}
		if childKey == "" || child == 0 {
			t.Fatalf("no subagent rows in %+v", rep.Rows)
		}
		spawn := costRow(t, rep, KeyNone, "sessions_spawn")
		al := spawn.Allocation
		if al == nil || al.SpawnedSessions != 1 {
			t.Fatalf("spawn row %+v", spawn)
		}
		// 0.002 (2000 in + 10 out) + 0.00037 (200 in, 12 out, 1900 cache read)
		wantCost(t, "rolled-up subagent cost", al.SubagentCost, child)
		wantCost(t, "rolled-up subagent cost (hand)", al.SubagentCost, 0.002434)
		if al.SubagentCostSource != SourceRecorded || rep.Coverage.SubagentsNotFound != 0 {
			t.Errorf("source %s, not found %d", al.SubagentCostSource, rep.Coverage.SubagentsNotFound)
		}
		var buf bytes.Buffer
		if err := rep.Write(&buf, "json", WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, buf.Bytes())
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("the report depends on the order the child and the parent arrive in")
	}
}

func TestCostSubagentRollupNestedAndMissing(t *testing.T) {
	rec := func(v float64) *ingest.Cost { return &ingest.Cost{Total: v} }
	sub := func(tr reconstruct.Trace, key, parent string) reconstruct.Trace {
		tr.Subagent, tr.SessionKey, tr.ParentSessionKey = true, key, parent
		return tr
	}
	spawnTool := func(name, emitter, child string) reconstruct.Span {
		sp := costTool(name, "sessions_spawn", 2, emitter, "", 100)
		sp.ChildSessionKey = child
		return sp
	}
	parent := costTrace("p", costChat("p1", "m", 1, costUsage(10, 1, 0, 0, rec(1))), spawnTool("ps", "p1", "agent:main:subagent:a"),
		spawnTool("pm", "p1", "agent:main:subagent:missing"))
	a := sub(costTrace("a", costChat("a1", "m", 1, costUsage(10, 1, 0, 0, rec(0.5))), spawnTool("as", "a1", "agent:main:subagent:b")),
		"agent:main:subagent:a", "agent:main:p")
	b := sub(costTrace("b", costChat("b1", "m", 1, costUsage(10, 1, 0, 0, rec(0.25)))), "agent:main:subagent:b", "agent:main:subagent:a")
	// b (grandchild) first, then the parent, then a.
	sessions := []costSession{{traces: []reconstruct.Trace{b}}, {traces: []reconstruct.Trace{parent}}, {traces: []reconstruct.Trace{a}}}
	rep := costAggregate(t, sessions, Options{GroupBy: costDims(t, "session,tool")}, ReportOptions{})
	spawns := costRow(t, rep, "p", "sessions_spawn")
	// a (0.5) + b (0.25) found; the missing child is unknown → lower bound.
	wantCost(t, "p spawns", spawns.Allocation.SubagentCost, 0.75)
	if spawns.Allocation.SubagentCostSource != SourceMixed || spawns.Allocation.SpawnedSessions != 2 {
		t.Errorf("p spawns: %+v", *spawns.Allocation)
	}
	wantCost(t, "a spawns", costRow(t, rep, "a", "sessions_spawn").Allocation.SubagentCost, 0.25)
	if rep.Coverage.SubagentsNotFound != 1 {
		t.Errorf("not found %d", rep.Coverage.SubagentsNotFound)
	}
	// The roll-up is an allocation: the totals count each call once.
	wantCost(t, "total", rep.Totals.Cost, 1.75)
	checkCostSums(t, "synthetic/subagent", rep)
}

// ---- reconciliation ---------------------------------------------------------

// checkSums asserts that the rows (plus the folded "other" row) sum to the
// totals. Under a tool grouping a chat call that emitted several tools
// counts in each of their rows' llm_calls and unpriced_calls, so those two
// may only exceed the totals; everything else is exact.
func checkCostSums(t *testing.T, what string, rep *Report) {
	t.Helper()
	var sum Counts
	var cost float64
	rows := slices.Clone(rep.Rows)
	if rep.Other != nil {
		rows = append(rows, *rep.Other)
	}
	for _, r := range rows {
		sum.LLMCalls += r.LLMCalls
		sum.ToolCalls += r.ToolCalls
		sum.ToolErrors += r.ToolErrors
		sum.InputTokens += r.InputTokens
		sum.OutputTokens += r.OutputTokens
		sum.CacheReadTokens += r.CacheReadTokens
		sum.CacheWriteTokens += r.CacheWriteTokens
		sum.UnpricedCalls += r.UnpricedCalls
		sum.CallsWithoutUsage += r.CallsWithoutUsage
		if r.Cost != nil {
			cost += *r.Cost
		}
	}
	tot := rep.Totals
	if sum.ToolCalls != tot.ToolCalls || sum.ToolErrors != tot.ToolErrors || sum.InputTokens != tot.InputTokens ||
		sum.OutputTokens != tot.OutputTokens || sum.CacheReadTokens != tot.CacheReadTokens || sum.CacheWriteTokens != tot.CacheWriteTokens {
		t.Errorf("%s: rows sum to %+v, totals %+v", what, sum, tot)
	}
	if slices.Contains(rep.GroupBy, "tool") {
		if sum.LLMCalls < tot.LLMCalls || sum.UnpricedCalls < tot.UnpricedCalls || sum.CallsWithoutUsage < tot.CallsWithoutUsage {
			t.Errorf("%s: rows count fewer calls than the totals: %+v vs %+v", what, sum, tot)
		}
	} else if sum.LLMCalls != tot.LLMCalls || sum.UnpricedCalls != tot.UnpricedCalls || sum.CallsWithoutUsage != tot.CallsWithoutUsage {
		t.Errorf("%s: rows count %d/%d/%d calls, totals %d/%d/%d", what, sum.LLMCalls, sum.UnpricedCalls, sum.CallsWithoutUsage,
			tot.LLMCalls, tot.UnpricedCalls, tot.CallsWithoutUsage)
	}
	tc := 0.0
	if tot.Cost != nil {
		tc = *tot.Cost
	}
	if !costEq(cost, tc) {
		t.Errorf("%s: row costs sum to %.12g, total %.12g", what, cost, tc)
	}
}

// callTotals sums the usage of every chat span that is not a /fork copy,
// independently of the Aggregator.
func costCallTotals(sessions []costSession) (calls, in, out, cr, cw int64, cost float64) {
	for _, cs := range sessions {
		for _, tr := range cs.traces {
			for _, sp := range tr.Spans {
				if sp.Kind != reconstruct.KindLLM && sp.Kind != reconstruct.KindCompaction {
					continue
				}
				fork := false
				for _, e := range sp.Evidence {
					fork = fork || (e.Field == "usage" && strings.HasPrefix(e.Note, reconstruct.NoteForkCopy))
				}
				if fork {
					continue
				}
				calls++
				in, out, cr, cw = in+sp.Usage.Input, out+sp.Usage.Output, cr+sp.Usage.CacheRead, cw+sp.Usage.CacheWrite
				if sp.Usage.Cost != nil {
					cost += sp.Usage.Cost.Total
				}
			}
		}
	}
	return
}

var sumGroupings = []string{"agent", "session", "run", "model", "provider", "tool", "subagent", "day", "week", "month",
	"day,model", "tool,model", "subagent,tool", "agent,session,run", "week,provider,tool"}

func TestCostEveryGroupingSumsToTotal(t *testing.T) {
	for _, sc := range costScenarios(t) {
		sessions := loadCostSessions(t, costInputs(t, sc[0], sc[1]), 0)
		calls, in, out, cr, cw, cost := costCallTotals(sessions)
		for _, g := range sumGroupings {
			for _, mode := range []CostMode{CostRecorded, CostRepriced} {
				what := fmt.Sprintf("%s/%s by %s %s", sc[0], sc[1], g, mode)
				rep := costAggregate(t, sessions, Options{GroupBy: costDims(t, g), Mode: mode}, ReportOptions{Top: 2})
				checkCostSums(t, what, rep)
				tot := rep.Totals
				if tot.LLMCalls != calls || tot.InputTokens != in || tot.OutputTokens != out || tot.CacheReadTokens != cr || tot.CacheWriteTokens != cw {
					t.Errorf("%s: totals %+v, per-call sums %d calls %d/%d/%d/%d", what, tot, calls, in, out, cr, cw)
				}
				// The fixtures' models (mock-a, mock-b) are not in the table,
				// so both modes give the recorded cost.
				if tot.Cost == nil || !costEq(*tot.Cost, cost) {
					t.Errorf("%s: total cost %v, recorded sum %.10g", what, fmtCost(tot.Cost, false), cost)
				}
			}
		}
	}
}

func TestCostDeterministic(t *testing.T) {
	paths := costInputs(t, "openclaw-2026.9.6", "08-long")
	paths = append(paths, costInputs(t, "openclaw-2026.9.6", "10-subagent")...)
	var prev []byte
	for _, workers := range []int{1, 4, 1} {
		rep := costAggregate(t, loadCostSessions(t, paths, workers), Options{GroupBy: costDims(t, "day,tool,model")}, ReportOptions{})
		var buf bytes.Buffer
		for _, f := range Formats {
			if err := rep.Write(&buf, f, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if prev != nil && !bytes.Equal(prev, buf.Bytes()) {
			t.Fatalf("output differs with %d workers", workers)
		}
		prev = buf.Bytes()
	}
}

func TestCostTopAndSort(t *testing.T) {
	rec := func(v float64) *ingest.Cost { return &ingest.Cost{Total: v} }
	tr := costTrace("s",
		costChat("a", "alpha", 1, costUsage(100, 1, 0, 0, rec(0.3))),
		costChat("b", "beta", 2, costUsage(900, 1, 0, 0, rec(0.1))),
		costChat("c", "gamma", 3, costUsage(10, 1, 0, 0, nil)),
		costChat("d", "delta", 4, costUsage(10, 1, 0, 0, rec(0.3))),
	)
	keys := func(r *Report) string {
		var out []string
		for _, row := range r.Rows {
			out = append(out, row.values[0])
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		sort SortKey
		want string
	}{
		{SortCost, "alpha,delta,beta,gamma"}, // ties by key; unknown last
		{SortTokens, "beta,alpha,delta,gamma"},
		{SortCalls, "alpha,beta,delta,gamma"},
		{SortName, "alpha,beta,delta,gamma"},
	} {
		rep := costAggregate(t, []costSession{{traces: []reconstruct.Trace{tr}}}, Options{GroupBy: costDims(t, "model")}, ReportOptions{Sort: c.sort})
		if got := keys(rep); got != c.want {
			t.Errorf("sort %s: %s, want %s", c.sort, got, c.want)
		}
	}
	rep := costAggregate(t, []costSession{{traces: []reconstruct.Trace{tr}}}, Options{GroupBy: costDims(t, "model")}, ReportOptions{Top: 2})
	if keys(rep) != "alpha,delta" || rep.Other == nil || rep.OtherRows != 2 {
		t.Fatalf("top 2: %s other %v", keys(rep), rep.Other)
	}
	// beta (0.1) + gamma (unpriced) → lower bound 0.1, mixed.
	wantCost(t, "other", rep.Other.Cost, 0.1)
	if rep.Other.CostSource != SourceMixed || rep.Other.LLMCalls != 2 || rep.Other.values[0] != KeyOther {
		t.Errorf("other %+v", rep.Other)
	}
	checkCostSums(t, "top", rep)
}

func TestParseDimensions(t *testing.T) {
	if d, err := ParseDimensions([]string{"day, Model", "tool"}); err != nil || !slices.Equal(d, []Dimension{DimDay, DimModel, DimTool}) {
		t.Errorf("got %v %v", d, err)
	}
	for _, bad := range [][]string{{"day,day"}, {"colour"}, {""}, nil} {
		if _, err := ParseDimensions(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := ParseSortKey("price"); err == nil {
		t.Error("sort price accepted")
	}
}

func TestCostTimeKeys(t *testing.T) {
	// 2026-11-29 is a Sunday of ISO week 48; 2027-01-01 is in week 53 of 2026.
	for _, c := range []struct {
		at               time.Time
		day, week, month string
	}{
		{time.Date(2026, 11, 29, 23, 59, 0, 0, time.UTC), "2026-11-29", "2026-W48", "2026-11"},
		{time.Date(2027, 1, 1, 0, 30, 0, 0, time.FixedZone("x", 3600)), "2026-12-31", "2026-W53", "2026-12"},
		{time.Time{}, KeyUnknown, KeyUnknown, KeyUnknown},
	} {
		d, w, m := dayOf(c.at)
		if d != c.day || w != c.week || m != c.month {
			t.Errorf("%v: %s %s %s", c.at, d, w, m)
		}
	}
}

// ---- golden outputs --------------------------------------------------------

// mockPricing prices the fixtures' mock models for the repriced golden.
const mockPricing = `{"schema_version":1,"as_of":"2026-11-25","models":[
 {"id":"mock-a","input":1,"output":2,"cache_read":0.1,"cache_write":1.25},
 {"id":"mock-b","input":3,"output":15,"cache_read":0.3,"cache_write":3.75}]}`

type costGolden struct {
	name    string
	inputs  [][2]string // (version, scenario)
	by      string
	mode    CostMode
	pricing bool
	top     int
}

func costGoldens(t testing.TB) []costGolden {
	var all [][2]string
	for _, sc := range costScenarios(t) {
		if sc[0] == "openclaw-2026.9.6" {
			all = append(all, sc)
		}
	}
	v96 := func(n string) [2]string { return [2]string{"openclaw-2026.9.6", n} }
	return []costGolden{
		{name: "9.6-02-one-tool.by-model", inputs: [][2]string{v96("02-one-tool")}, by: "model"},
		{name: "9.6-04-parallel.by-tool", inputs: [][2]string{v96("04-parallel")}, by: "tool"},
		{name: "9.6-10-subagent.by-subagent-tool", inputs: [][2]string{v96("10-subagent")}, by: "subagent,tool"},
		{name: "9.6-11-compaction.by-run", inputs: [][2]string{v96("11-compaction")}, by: "run"},
		{name: "9.6-08-long.by-day-model.repriced", inputs: [][2]string{v96("08-long")}, by: "day,model", mode: CostRepriced, pricing: true},
		{name: "7.35-14-unknown-tool-ls.by-tool", inputs: [][2]string{{"openclaw-2026.7.35", "14-unknown-tool-ls"}}, by: "tool"},
		{name: "9.6-all.by-model", inputs: all, by: "model"},
		{name: "9.6-all.by-tool.top3", inputs: all, by: "tool", top: 3},
	}
}

func TestCostReportGolden(t *testing.T) {
	for _, g := range costGoldens(t) {
		t.Run(g.name, func(t *testing.T) {
			var paths []string
			for _, in := range g.inputs {
				paths = append(paths, costInputs(t, in[0], in[1])...)
			}
			opt := Options{GroupBy: costDims(t, g.by), Mode: g.mode, Pricing: DefaultPricing()}
			if g.pricing {
				o, err := LoadPricing(strings.NewReader(mockPricing), "mock.json")
				if err != nil {
					t.Fatal(err)
				}
				opt.Pricing = opt.Pricing.Override(o)
			}
			rep := costAggregate(t, loadCostSessions(t, paths, 0), opt, ReportOptions{Top: g.top})
			checkCostSums(t, g.name, rep)
			for _, f := range Formats {
				var buf bytes.Buffer
				if err := rep.Write(&buf, f, WriteOptions{}); err != nil {
					t.Fatal(err)
				}
				ext := map[string]string{"table": "txt", "markdown": "md", "csv": "csv", "json": "json"}[f]
				path := filepath.Join("testdata", "golden", "report", g.name+"."+ext)
				compareCostGolden(t, path, buf.Bytes())
			}
		})
	}
}

// compareCostGolden compares got with the golden file, or rewrites it with
// -update.
func compareCostGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	tracetest.Golden(t, path, got, *update, "go test ./report -run CostReportGolden -update")
}
