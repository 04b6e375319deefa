package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

// ---- compact prototypes ------------------------------------------------

var blT0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func blSID(name string) reconstruct.SpanID { return reconstruct.NewSpanID(reconstruct.TraceID{}, name) }

// blChat is an LLM call at second `at` with usage (in, out, cacheRead,
// cacheWrite) and a recorded cost (cost < 0: no cost recorded; in < 0: no usage).
func blChat(name string, at int, in, out, cr, cw int64, cost float64) reconstruct.Span {
	sp := reconstruct.Span{ID: blSID(name), Kind: reconstruct.KindLLM, Start: blT0.Add(time.Duration(at) * time.Second),
		Status: reconstruct.StatusOK, Confidence: 0.99}
	sp.End = sp.Start.Add(time.Second)
	if in >= 0 {
		sp.Usage = ingest.Usage{Known: true, Input: in, Output: out, CacheRead: cr, CacheWrite: cw}
		if cost >= 0 {
			sp.Usage.Cost = &ingest.Cost{Total: cost}
		}
	}
	return sp
}

func blFailed(name string, at int) reconstruct.Span {
	sp := blChat(name, at, -1, 0, 0, 0, -1)
	sp.Status = reconstruct.StatusError
	return sp
}

func blTool(name, tool string, at int, emitter, consumer string, failed bool) reconstruct.Span {
	sp := reconstruct.Span{ID: blSID(name), Kind: reconstruct.KindTool, ToolName: tool, Start: blT0.Add(time.Duration(at) * time.Second),
		Status: reconstruct.StatusOK, Confidence: 0.97}
	sp.End = sp.Start.Add(time.Second)
	if failed {
		sp.Status = reconstruct.StatusError
	}
	if emitter != "" {
		sp.Links = append(sp.Links, reconstruct.Link{Span: blSID(emitter), Relation: "emitted_by"})
	}
	if consumer != "" {
		sp.Links = append(sp.Links, reconstruct.Link{Span: blSID(consumer), Relation: "consumed_by"})
	}
	return sp
}

// blTrace is a run of `seconds` seconds of session agent/session with the spans.
func blTrace(agent, session string, seconds int, spans ...reconstruct.Span) reconstruct.Trace {
	root := reconstruct.Span{ID: blSID(session + "/root"), Kind: reconstruct.KindRun, Start: blT0,
		End: blT0.Add(time.Duration(seconds) * time.Second), Confidence: 0.97}
	t := reconstruct.Trace{AgentID: agent, SessionID: session, SessionKey: "agent:" + agent + ":explicit:" + session,
		Spans: append([]reconstruct.Span{root}, spans...)}
	return t
}

func blMetrics(t *testing.T, traces ...reconstruct.Trace) ScenarioMetrics {
	t.Helper()
	b := NewBaselineBuilder(nil)
	b.Add("x", traces)
	return b.Baseline(Thresholds{}).Scenarios["x"]
}

func blF(v float64) *float64 { return &v }

func blLimit(t *testing.T, s string) *Limit {
	t.Helper()
	l, err := ParseLimit(s)
	if err != nil {
		t.Fatal(err)
	}
	return &l
}

// ---- building ----------------------------------------------------------

func TestBaselineMetrics(t *testing.T) {
	// A run: call c1 → read (t1) → c2 → ls (t2, failed) + read (t3) → c3,
	// plus a failed provider attempt and a compaction call.
	chain := blTrace("main", "s1", 10,
		blChat("c1", 1, 100, 10, 0, 0, 0.001),
		blTool("t1", "read", 2, "c1", "c2", false),
		blFailed("f1", 3),
		blChat("c2", 4, 20, 5, 100, 0, 0.0005),
		blTool("t2", "ls", 5, "c2", "c3", true),
		blTool("t3", "read", 5, "c2", "c3", false),
		blChat("c3", 6, 30, 7, 120, 10, 0.0002),
	)
	comp := blChat("k1", 7, 50, 5, 0, 0, 0.0001)
	comp.Kind = reconstruct.KindCompaction
	comp.Confidence = 0.5
	second := blTrace("main", "s1", 3, blChat("c4", 1, 10, 1, 0, 0, 0.00001), comp)
	m := blMetrics(t, chain, second)
	want := ScenarioMetrics{
		CompactionCalls: 1, CostUSD: blF(0.00181), LLMCalls: 5, LongestChain: 3, MinConfidence: 0.5, ProviderErrors: 1,
		Runs: 2, Tokens: TokenCounts{CacheRead: 220, CacheWrite: 10, Input: 210, Output: 28, Total: 468},
		ToolCalls: 3, ToolCallsByName: map[string]int64{"ls": 1, "read": 2}, ToolErrors: 1, WallDurationMS: 13000,
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("metrics:\n got %+v cost %v\nwant %+v cost %v", m, *m.CostUSD, want, *want.CostUSD)
	}
}

func TestBaselineMetricsUnknownCost(t *testing.T) {
	for _, c := range []struct {
		name     string
		spans    []reconstruct.Span
		unpriced int64
	}{
		{"a call with usage but no cost", []reconstruct.Span{blChat("a", 1, 10, 1, 0, 0, 0.1), blChat("b", 2, 10, 1, 0, 0, -1)}, 1},
		{"no call with usage", []reconstruct.Span{blFailed("a", 1)}, 0},
		{"no calls", nil, 0},
	} {
		m := blMetrics(t, blTrace("main", "s", 1, c.spans...))
		if m.CostUSD != nil || m.UnpricedCalls != c.unpriced {
			t.Errorf("%s: cost %v unpriced %d; want nil and %d", c.name, m.CostUSD, m.UnpricedCalls, c.unpriced)
		}
	}
}

func TestBaselineMetricsForkCopy(t *testing.T) {
	copied := blChat("old", 1, 1000, 100, 0, 0, 1)
	copied.Evidence = []reconstruct.Evidence{{Field: "usage", Note: reconstruct.NoteForkCopy + " main/parent"}}
	m := blMetrics(t, blTrace("main", "fork", 5, copied, blTool("t", "read", 2, "old", "new", false), blChat("new", 3, 10, 1, 0, 0, 0.01)))
	if m.LLMCalls != 1 || m.ToolCalls != 0 || m.Tokens.Total != 11 || *m.CostUSD != 0.01 {
		t.Errorf("fork copy counted: %+v", m)
	}
}

func TestBaselineSubagentFold(t *testing.T) {
	parent := blTrace("main", "p", 5, blChat("c", 1, 10, 1, 0, 0, 0.1), blTool("spawn", "sessions_spawn", 2, "c", "", false))
	parent.Spans[2].ChildSessionKey = "agent:main:subagent:k1"
	child := blTrace("main", "uuid-1", 2, blChat("cc", 1, 10, 1, 0, 0, 0.2), blTool("spawn2", "sessions_spawn", 2, "cc", "", false))
	child.SessionKey, child.Subagent, child.ParentSessionKey = "agent:main:subagent:k1", true, parent.SessionKey
	child.Spans[2].ChildSessionKey = "agent:main:subagent:k2"
	grandchild := blTrace("main", "uuid-2", 1, blChat("g", 1, 10, 1, 0, 0, 0.4))
	grandchild.SessionKey, grandchild.Subagent, grandchild.ParentSessionKey = "agent:main:subagent:k2", true, child.SessionKey
	orphan := blTrace("main", "uuid-3", 1, blChat("o", 1, 10, 1, 0, 0, 0.8), blTool("spawn3", "sessions_spawn", 2, "o", "", false))
	orphan.SessionKey, orphan.Subagent, orphan.ParentSessionKey = "agent:main:subagent:k3", true, "agent:main:explicit:gone"
	orphan.Spans[2].ChildSessionKey = "agent:main:subagent:k4"
	orphanChild := blTrace("main", "uuid-4", 1, blChat("oc", 1, 10, 1, 0, 0, 1.6))
	orphanChild.SessionKey, orphanChild.Subagent, orphanChild.ParentSessionKey = "agent:main:subagent:k4", true, orphan.SessionKey

	for _, order := range [][]reconstruct.Trace{
		{parent, child, grandchild, orphan, orphanChild},
		{grandchild, orphanChild, child, orphan, parent},
		{child, parent, grandchild, orphan, orphanChild},
	} {
		b := NewBaselineBuilder(nil)
		for _, tr := range order {
			if err := b.AddSession([]reconstruct.Trace{tr}); err != nil {
				t.Fatal(err)
			}
		}
		bl := b.Baseline(Thresholds{})
		p, o := bl.Scenarios["main/p"], bl.Scenarios["main/uuid-3"]
		if len(bl.Scenarios) != 2 || p.Runs != 3 || *p.CostUSD != 0.7 || p.ToolCallsByName["sessions_spawn"] != 2 || o.Runs != 2 || *o.CostUSD != 2.4 {
			t.Errorf("order %s…: scenarios %v, main/p %+v", order[0].SessionID, keysOf(bl.Scenarios), p)
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBaselineScenarioMap(t *testing.T) {
	m, err := ReadScenarioMap(strings.NewReader(`{"summarise": ["s02", "agent:main:explicit:s03"], "spawn": ["main/s1*"], "subs": ["agent:*:subagent:*"]}`), "map.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ agent, id, key, want string }{
		{"main", "s02", "", "summarise"},
		{"main", "x", "agent:main:explicit:s03", "summarise"},
		{"main", "s10", "agent:main:explicit:s10", "spawn"},
		{"other", "s10", "", ""},
		{"main", "uuid", "agent:main:subagent:abc", "subs"},
	} {
		got, ok, err := m.Match(c.agent, c.id, c.key)
		if err != nil || got != c.want || ok != (c.want != "") {
			t.Errorf("Match(%s, %s, %s) = %q, %v, %v; want %q", c.agent, c.id, c.key, got, ok, err, c.want)
		}
	}
	amb, _ := ReadScenarioMap(strings.NewReader(`{"a": ["s1"], "b": ["main/*"]}`), "map.json")
	if _, _, err := amb.Match("main", "s1", ""); err == nil || !strings.Contains(err.Error(), "matches several scenarios of the scenario map: a, b") {
		t.Errorf("ambiguous match: %v", err)
	}
	// The builder groups by the map, and falls back to the session.
	b := NewBaselineBuilder(m)
	for _, s := range []string{"s02", "s11", "s12", "s99"} {
		if err := b.AddSession([]reconstruct.Trace{blTrace("main", s, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	got := b.Baseline(Thresholds{}).Scenarios
	if got["spawn"].Runs != 2 || got["summarise"].Runs != 1 || got["main/s99"].Runs != 1 || len(got) != 3 {
		t.Errorf("grouped: %v", got)
	}
	for _, c := range []struct{ in, want string }{
		{`{"a": []}`, `map.json: scenario "a": no session patterns`},
		{`{"a": [""]}`, `map.json: scenario "a": empty pattern`},
		{`{"a": ["s[1"]}`, `map.json: scenario "a": pattern "s[1": syntax error in pattern`},
		{`{"a": "s1"}`, `map.json:1:10: malformed scenario map: want a list, got string`},
		{`["s1"]`, `map.json:1:1: malformed scenario map: want an object, got array`},
		{"{\n\"a\": [\"s1\",]}", `map.json:2:12: malformed scenario map: invalid character ']' looking for beginning of value`},
		{`null`, `map.json: malformed scenario map: want a JSON object`},
	} {
		_, err := ReadScenarioMap(strings.NewReader(c.in), "map.json")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v\nwant %s", c.in, err, c.want)
		}
	}
}

// ---- the file ----------------------------------------------------------

func blSample(t *testing.T) *Baseline {
	b := NewBaselineBuilder(nil)
	b.Add("main/s2", []reconstruct.Trace{blTrace("main", "s2", 2, blChat("c1", 1, 100, 10, 0, 0, 0.001),
		blTool("t1", "read", 2, "c1", "c2", false), blChat("c2", 3, 10, 5, 100, 0, 0.0005))})
	b.Add("main/s1", []reconstruct.Trace{blTrace("main", "s1", 1, blChat("c", 1, 10, 1, 0, 0, -1))})
	th := Thresholds{MaxCostIncrease: blLimit(t, "10%"), MaxCallsIncrease: blLimit(t, "1"), FailOn: []string{FailOnToolError},
		MinConfidence: blF(0.5), Scenarios: map[string]Thresholds{"main/s1": {FailOn: []string{}}, "main/*": {ForbidTool: []string{"exec"}}}}
	return b.Baseline(th)
}

func TestBaselineWriteRead(t *testing.T) {
	bl := blSample(t)
	var buf bytes.Buffer
	if err := bl.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := `{
  "schema_version": 1,
  "thresholds": {
    "fail_on": [
      "tool-error"
    ],
    "max_calls_increase": "1",
    "max_cost_increase": "10%",
    "min_confidence": 0.5,
    "scenarios": {
      "main/*": {
        "forbid_tool": [
          "exec"
        ]
      },
      "main/s1": {
        "fail_on": []
      }
    }
  },
  "scenarios": {
    "main/s1": {
      "compaction_calls": 0,
      "cost_usd": null,
      "llm_calls": 1,
      "longest_chain": 1,
      "min_confidence": 0.97,
      "provider_errors": 0,
      "runs": 1,
      "tokens": {
        "cache_read": 0,
        "cache_write": 0,
        "input": 10,
        "output": 1,
        "total": 11
      },
      "tool_calls": 0,
      "tool_calls_by_name": {},
      "tool_errors": 0,
      "unpriced_calls": 1,
      "wall_duration_ms": 1000
    },
    "main/s2": {
      "compaction_calls": 0,
      "cost_usd": 0.0015,
      "llm_calls": 2,
      "longest_chain": 2,
      "min_confidence": 0.97,
      "provider_errors": 0,
      "runs": 1,
      "tokens": {
        "cache_read": 100,
        "cache_write": 0,
        "input": 110,
        "output": 15,
        "total": 225
      },
      "tool_calls": 1,
      "tool_calls_by_name": {
        "read": 1
      },
      "tool_errors": 0,
      "unpriced_calls": 0,
      "wall_duration_ms": 2000
    }
  }
}
`
	if buf.String() != want {
		t.Errorf("written:\n%s\nwant:\n%s", buf.String(), want)
	}
	back, err := ReadBaseline(bytes.NewReader(buf.Bytes()), "baseline.json")
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := back.Write(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != want {
		t.Errorf("round trip differs:\n%s", again.String())
	}
	if f := back.Thresholds.Scenarios["main/s1"].FailOn; f == nil || len(f) != 0 {
		t.Errorf("empty per-scenario fail_on read back as %#v, want an empty, non-nil list", f)
	}
}

func TestBaselineReadMalformed(t *testing.T) {
	const metrics = `{"runs": 1, "llm_calls": 1, "min_confidence": 0.9}`
	for _, c := range []struct{ name, in, want string }{
		{"syntax", "{\n  \"schema_version\": 1,\n  \"scenarios\": {,}\n}", `b.json:3:17: malformed baseline: invalid character ',' looking for beginning of object key string`},
		{"truncated", "{\"schema_version\": 1,\n \"scenarios\": {", `b.json:2:15: malformed baseline: unexpected end of file`},
		{"empty file", "", `b.json: malformed baseline: empty file`},
		{"not an object", `[1]`, `b.json:1:1: malformed baseline: want an object, got array`},
		{"trailing data", `{"schema_version": 1, "scenarios": {"a": ` + metrics + `}} {}`, `b.json:1:95: malformed baseline: trailing data after the JSON value`},
		{"no version", `{"scenarios": {}}`, `b.json: malformed baseline: no schema_version (want 1)`},
		{"newer version", `{"schema_version": 2, "scenarios": {}, "new_thing": 1}`, `b.json: unsupported baseline schema_version 2: this clawtrace reads 1`},
		{"string version", `{"schema_version": "1"}`, `b.json: unsupported baseline schema_version "1": this clawtrace reads 1`},
		{"no scenarios", `{"schema_version": 1, "scenarios": {}}`, `b.json: malformed baseline: no scenarios`},
		{"wrong type", "{\"schema_version\": 1,\n\"scenarios\": {\"a\": {\"runs\": \"one\"}}}", `b.json:2:33: malformed baseline: runs: want a number, got string`},
		{"misspelt threshold", "{\"schema_version\": 1,\n\"thresholds\": {\"max_cost_increse\": \"10%\"}, \"scenarios\": {\"a\": " + metrics + "}}", `b.json:2:16: malformed baseline: unknown key "max_cost_increse"`},
		{"bad limit", `{"schema_version": 1, "thresholds": {"max_cost_increase": "10 percent"}, "scenarios": {"a": ` + metrics + `}}`,
			`b.json: bad thresholds: thresholds.max_cost_increase: bad limit "10 percent": want a percentage like "10%" or an absolute increase like "5"`},
		{"negative limit", `{"schema_version": 1, "thresholds": {"max_calls_increase": -1}, "scenarios": {"a": ` + metrics + `}}`,
			`b.json: bad thresholds: thresholds.max_calls_increase: bad limit "-1": must not be negative`},
		{"limit type", `{"schema_version": 1, "thresholds": {"max_tokens_increase": true}, "scenarios": {"a": ` + metrics + `}}`,
			`b.json: bad thresholds: thresholds.max_tokens_increase: want a string like "10%" or a number, got true`},
		{"bad fail_on", `{"schema_version": 1, "thresholds": {"fail_on": ["tool-errors"]}, "scenarios": {"a": ` + metrics + `}}`,
			`b.json: bad thresholds: thresholds.fail_on: unknown value "tool-errors": want "tool-error" or "provider-error"`},
		{"bad confidence", `{"schema_version": 1, "thresholds": {"min_confidence": 1.5}, "scenarios": {"a": ` + metrics + `}}`,
			`b.json: bad thresholds: thresholds.min_confidence: 1.5 is outside [0, 1]`},
		{"bad per-scenario limit", `{"schema_version": 1, "thresholds": {"scenarios": {"main/*": {"max_duration_increase": "soon"}}}, "scenarios": {"a": ` + metrics + `}}`,
			`b.json: bad thresholds: thresholds.scenarios.main/*.max_duration_increase: bad limit "soon": want a percentage like "10%", milliseconds like "500" or a duration like "2s"`},
		{"nested per-scenario", `{"schema_version": 1, "thresholds": {"scenarios": {"a": {"scenarios": {"b": {}}}}}, "scenarios": {"a": ` + metrics + `}}`,
			`b.json: bad thresholds: thresholds.scenarios.a: per-scenario thresholds cannot nest "scenarios"`},
		{"bad metric confidence", `{"schema_version": 1, "scenarios": {"a": {"min_confidence": 2}}}`,
			`b.json: malformed baseline: scenarios.a.min_confidence: 2 is outside [0, 1]`},
	} {
		_, err := ReadBaseline(strings.NewReader(c.in), "b.json")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error\n  %v\nwant\n  %s", c.name, err, c.want)
		}
	}
}

func TestBaselineParseLimit(t *testing.T) {
	for _, c := range []struct {
		in       string
		duration bool
		value    float64
		percent  bool
		text     string
		err      string
	}{
		{"10%", false, 10, true, "10%", ""},
		{" +2.5% ", false, 2.5, true, "2.5%", ""},
		{"0%", false, 0, true, "0%", ""},
		{"5", false, 5, false, "5", ""},
		{"0.01", false, 0.01, false, "0.01", ""},
		{"2s", true, 2000, false, "2s", ""},
		{"1.5s", true, 1500, false, "1.5s", ""},
		{"500", true, 500, false, "500", ""},
		{"", false, 0, false, "", "bad limit"},
		{"%", false, 0, false, "", "bad limit"},
		{"ten%", false, 0, false, "", "bad limit"},
		{"NaN", false, 0, false, "", "bad limit"},
		{"inf%", false, 0, false, "", "bad limit"},
		{"-5%", false, 0, false, "", "must not be negative"},
		{"++5", false, 0, false, "", "bad limit"},
		{"2s", false, 0, false, "", "bad limit"},
		{"-2s", true, 0, false, "", "bad limit"},
	} {
		parse := ParseLimit
		if c.duration {
			parse = ParseDurationLimit
		}
		l, err := parse(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || l.Value != c.value || l.Percent != c.percent || l.String() != c.text {
			t.Errorf("%q: %+v %q %v; want %v %v %q", c.in, l, l.String(), err, c.value, c.percent, c.text)
		}
	}
}

func TestBaselineThresholdsOverrideAndFor(t *testing.T) {
	file := Thresholds{MaxCostIncrease: blLimit(t, "10%"), FailOn: []string{FailOnToolError}, RequireTool: []string{"read"},
		Scenarios: map[string]Thresholds{
			"main/*":   {MaxCostIncrease: blLimit(t, "50%"), RequireTool: []string{}},
			"main/s05": {FailOn: []string{}},
		}}
	if got := file.For("main/s05"); got.MaxCostIncrease.String() != "50%" || got.FailOn == nil || len(got.FailOn) != 0 || len(got.RequireTool) != 0 {
		t.Errorf("For(main/s05) = %+v", got)
	}
	if got := file.For("other/s1"); got.MaxCostIncrease.String() != "10%" || len(got.FailOn) != 1 || got.RequireTool[0] != "read" {
		t.Errorf("For(other/s1) = %+v", got)
	}
	// A flag wins over the global value and over every per-scenario value.
	cli := Thresholds{MaxCostIncrease: blLimit(t, "5%")}
	eff := file.Override(cli)
	if got := eff.For("main/s05"); got.MaxCostIncrease.String() != "5%" || len(got.FailOn) != 0 {
		t.Errorf("overridden For(main/s05) = %+v", got)
	}
	if file.Scenarios["main/*"].MaxCostIncrease.String() != "50%" {
		t.Error("Override modified its receiver")
	}
	if !(Thresholds{}).IsZero() || eff.IsZero() {
		t.Error("IsZero")
	}
}

// ---- comparison --------------------------------------------------------

// blScenario is a compact ScenarioMetrics: cost < 0 means unknown.
func blScenario(runs, llm, tools int64, tokens int64, cost float64, ms int64) ScenarioMetrics {
	m := ScenarioMetrics{Runs: runs, LLMCalls: llm, ToolCalls: tools, Tokens: TokenCounts{Input: tokens, Total: tokens},
		WallDurationMS: ms, MinConfidence: 0.97, LongestChain: llm, ToolCallsByName: map[string]int64{}}
	if tools > 0 {
		m.ToolCallsByName["read"] = tools
	}
	if cost >= 0 {
		m.CostUSD = &cost
	}
	return m
}

func blBaseline(scen map[string]ScenarioMetrics) *Baseline {
	return &Baseline{SchemaVersion: 1, Scenarios: scen}
}

func TestCheckCompare(t *testing.T) {
	base := blScenario(1, 2, 1, 3000, 0.0123, 1000)
	with := func(f func(m *ScenarioMetrics)) ScenarioMetrics {
		m := blScenario(1, 2, 1, 3000, 0.0123, 1000)
		m.ToolCallsByName = map[string]int64{"read": 1}
		f(&m)
		return m
	}
	all := Thresholds{MaxCostIncrease: blLimit(t, "10%"), MaxTokensIncrease: blLimit(t, "10%"), MaxCallsIncrease: blLimit(t, "1"),
		MaxDurationIncrease: blLimit(t, "25%"), FailOn: []string{FailOnToolError, FailOnProviderError},
		RequireTool: []string{"read"}, ForbidTool: []string{"exec"}, MinConfidence: blF(0.5)}
	for _, c := range []struct {
		name  string
		cur   ScenarioMetrics
		th    Thresholds
		check string // the one failing check, "" for none
		msg   string
	}{
		{"pass", base, all, "", ""},
		{"pass at the limit", with(func(m *ScenarioMetrics) { m.CostUSD = blF(0.01353); m.LLMCalls = 3 }), all, "", ""},
		{"cost", with(func(m *ScenarioMetrics) { m.CostUSD = blF(0.02) }), all, CheckCost,
			"scenario main/s1: cost_usd 0.0123 → 0.02 (+62.6%) exceeds +10%"},
		{"cost absolute", with(func(m *ScenarioMetrics) { m.CostUSD = blF(0.02) }), Thresholds{MaxCostIncrease: blLimit(t, "0.005")}, CheckCost,
			"scenario main/s1: cost_usd 0.0123 → 0.02 (+0.0077) exceeds +0.005"},
		{"tokens", with(func(m *ScenarioMetrics) { m.Tokens.Total = 3301 }), all, CheckTokens,
			"scenario main/s1: tokens.total 3000 → 3301 (+10%) exceeds +10%"},
		{"llm calls", with(func(m *ScenarioMetrics) { m.LLMCalls = 4 }), all, CheckLLMCalls,
			"scenario main/s1: llm_calls 2 → 4 (+2) exceeds +1"},
		{"tool calls", with(func(m *ScenarioMetrics) { m.ToolCalls = 3 }), all, CheckToolCalls,
			"scenario main/s1: tool_calls 1 → 3 (+2) exceeds +1"},
		{"duration", with(func(m *ScenarioMetrics) { m.WallDurationMS = 1300 }), all, CheckDuration,
			"scenario main/s1: wall_duration_ms 1000 → 1300 (+30%) exceeds +25%"},
		{"tool error", with(func(m *ScenarioMetrics) { m.ToolErrors = 1 }), all, CheckToolErrors,
			"scenario main/s1: tool_errors 0 → 1 exceeds ≤ 0 (fail-on tool-error: no more than the baseline)"},
		{"provider error", with(func(m *ScenarioMetrics) { m.ProviderErrors = 2 }), all, CheckProviderErrors,
			"scenario main/s1: provider_errors 0 → 2 exceeds ≤ 0 (fail-on provider-error: no more than the baseline)"},
		{"required tool", with(func(m *ScenarioMetrics) { m.ToolCallsByName = map[string]int64{"ls": 1} }), all, CheckRequireTool + " read",
			"scenario main/s1: tool_calls_by_name.read 1 → 0: required tool read was not called (threshold ≥ 1)"},
		{"forbidden tool", with(func(m *ScenarioMetrics) { m.ToolCallsByName["exec"] = 2 }), all, CheckForbidTool + " exec",
			"scenario main/s1: tool_calls_by_name.exec 0 → 2: forbidden tool exec was called (threshold = 0)"},
		{"confidence", with(func(m *ScenarioMetrics) { m.MinConfidence = 0.4 }), all, CheckMinConfidence,
			"scenario main/s1: min_confidence 0.97 → 0.4 is below ≥ 0.5"},
		{"no thresholds", with(func(m *ScenarioMetrics) { m.CostUSD = blF(1) }), Thresholds{}, "", ""},
		{"per-scenario override", with(func(m *ScenarioMetrics) { m.CostUSD = blF(0.02) }),
			Thresholds{MaxCostIncrease: blLimit(t, "10%"), Scenarios: map[string]Thresholds{"main/*": {MaxCostIncrease: blLimit(t, "100%")}}}, "", ""},
	} {
		rep := Compare(blBaseline(map[string]ScenarioMetrics{"main/s1": base}), blBaseline(map[string]ScenarioMetrics{"main/s1": c.cur}), c.th)
		var failed []CheckResult
		for _, r := range rep.Results {
			if r.Status == CheckFail {
				failed = append(failed, r)
			}
		}
		switch {
		case c.check == "" && len(failed) > 0:
			t.Errorf("%s: failed %+v", c.name, failed)
		case c.check != "" && (len(failed) != 1 || failed[0].Check != c.check || failed[0].Message != c.msg):
			t.Errorf("%s: failed %+v\nwant %s: %s", c.name, failed, c.check, c.msg)
		}
		if rep.Failed() != (c.check != "") {
			t.Errorf("%s: Failed() = %v", c.name, rep.Failed())
		}
		if rep.NoThresholds != c.th.IsZero() {
			t.Errorf("%s: NoThresholds = %v", c.name, rep.NoThresholds)
		}
	}
}

func TestCheckCompareResultsAndOrder(t *testing.T) {
	th := Thresholds{MaxCostIncrease: blLimit(t, "10%"), MaxCallsIncrease: blLimit(t, "10%"), ForbidTool: []string{"exec"}, MinConfidence: blF(0.5)}
	base := map[string]ScenarioMetrics{
		"main/a": blScenario(1, 2, 1, 100, 0.01, 10), // missing from current
		"main/b": blScenario(1, 2, 1, 100, -1, 10),   // cost unknown in the baseline
	}
	newc := blScenario(1, 1, 1, 50, 0.01, 10)
	newc.ToolCallsByName = map[string]int64{"exec": 1}
	cur := map[string]ScenarioMetrics{
		"main/b": blScenario(1, 2, 1, 100, 0.02, 10),
		"main/c": newc, // new, and calls a forbidden tool
	}
	rep := Compare(blBaseline(base), blBaseline(cur), th)
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.Scenario+" "+r.Check+" "+r.Status.String())
	}
	want := []string{
		"main/a scenario fail",
		"main/b scenario pass", "main/b cost skip", "main/b llm_calls pass", "main/b tool_calls pass",
		"main/b forbid-tool exec pass", "main/b min-confidence pass",
		"main/c scenario warn", "main/c forbid-tool exec fail", "main/c min-confidence pass",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	msgs := map[string]string{}
	for _, r := range rep.Results {
		msgs[r.Scenario+" "+r.Check] = r.Message
	}
	for k, want := range map[string]string{
		"main/a scenario":         "scenario main/a: missing: runs 1 → none; every baseline scenario must be in the inputs",
		"main/b cost":             "scenario main/b: cost_usd none → 0.02: unknown in the baseline, threshold +10% skipped",
		"main/c scenario":         "scenario main/c: new, not in the baseline: runs none → 1; values not compared (run clawtrace baseline to add it)",
		"main/c forbid-tool exec": "scenario main/c: tool_calls_by_name.exec none → 1: forbidden tool exec was called (threshold = 0)",
	} {
		if msgs[k] != want {
			t.Errorf("%s: message\n  %s\nwant\n  %s", k, msgs[k], want)
		}
	}
	if pass, fail, warn, skip := rep.Counts(); pass != 6 || fail != 2 || warn != 1 || skip != 1 {
		t.Errorf("counts %d %d %d %d", pass, fail, warn, skip)
	}
	// Only new scenarios: warnings, and the note about a different map.
	rep = Compare(blBaseline(map[string]ScenarioMetrics{"x": base["main/a"]}), blBaseline(map[string]ScenarioMetrics{"y": base["main/a"]}), Thresholds{})
	if !rep.NoOverlap || !rep.NoThresholds || !rep.Failed() {
		t.Errorf("no overlap: %+v", rep)
	}
	rep = Compare(blBaseline(map[string]ScenarioMetrics{"x": base["main/a"]}), blBaseline(map[string]ScenarioMetrics{"x": base["main/a"], "y": base["main/a"]}), Thresholds{})
	if rep.Failed() {
		t.Errorf("a new scenario failed the check: %+v", rep.Results)
	}
}

// ---- writers -----------------------------------------------------------

func blReport(t *testing.T) *CheckReport {
	base := map[string]ScenarioMetrics{"main/s1": blScenario(1, 2, 1, 3000, 0.0123, 1000), "main/gone": blScenario(1, 1, 0, 10, 0.1, 5)}
	cur := map[string]ScenarioMetrics{"main/s1": blScenario(1, 2, 1, 3000, 0.02, 1000), `main/<new>&"x"`: blScenario(2, 1, 0, 10, -1, 5)}
	return Compare(blBaseline(base), blBaseline(cur), Thresholds{MaxCostIncrease: blLimit(t, "10%"), MaxCallsIncrease: blLimit(t, "10%")})
}

func TestCheckWriteJUnit(t *testing.T) {
	rep := blReport(t)
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML header: %.60s", buf.String())
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, buf.String())
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d testsuites, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Name != "clawtrace check" || s.Tests != len(rep.Results) || len(s.Cases) != len(rep.Results) || s.Failures != 2 || doc.Failures != 2 || doc.Skipped != 1 || doc.Tests != len(rep.Results) {
		t.Errorf("suite %q tests %d (%d cases) failures %d; doc %d/%d/%d", s.Name, s.Tests, len(s.Cases), s.Failures, doc.Tests, doc.Failures, doc.Skipped)
	}
	var failures, skipped []string
	for i, c := range s.Cases {
		r := rep.Results[i]
		if c.Classname != r.Scenario || c.Name != r.Check || c.SystemOut != r.Message {
			t.Errorf("case %d: %s/%s %q; want %s/%s %q", i, c.Classname, c.Name, c.SystemOut, r.Scenario, r.Check, r.Message)
		}
		if c.Failure != nil {
			failures = append(failures, c.Failure.Type+": "+c.Failure.Message)
		}
		if c.Skipped != nil {
			skipped = append(skipped, c.Skipped.Message)
		}
	}
	wantFailures := []string{
		"missing-scenario: scenario main/gone: missing: runs 1 → none; every baseline scenario must be in the inputs",
		"threshold: scenario main/s1: cost_usd 0.0123 → 0.02 (+62.6%) exceeds +10%",
	}
	if !reflect.DeepEqual(failures, wantFailures) {
		t.Errorf("failures:\n%q\nwant\n%q", failures, wantFailures)
	}
	if len(skipped) != 1 || !strings.HasPrefix(skipped[0], `scenario main/<new>&"x": new`) {
		t.Errorf("skipped: %q", skipped)
	}
}

func TestCheckWriteAnnotations(t *testing.T) {
	var buf bytes.Buffer
	if err := blReport(t).WriteAnnotations(&buf); err != nil {
		t.Fatal(err)
	}
	want := "::warning title=clawtrace check::scenario main/<new>&\"x\": new, not in the baseline: runs none → 2; values not compared (run clawtrace baseline to add it)\n" +
		"::error title=clawtrace check::scenario main/gone: missing: runs 1 → none; every baseline scenario must be in the inputs\n" +
		"::error title=clawtrace check::scenario main/s1: cost_usd 0.0123 → 0.02 (+62.6%25) exceeds +10%25\n"
	if buf.String() != want {
		t.Errorf("annotations:\n%s\nwant:\n%s", buf.String(), want)
	}
	if got := escapeAnnotationData("a%b\r\nc"); got != "a%25b%0D%0Ac" {
		t.Errorf("escapeAnnotationData = %q", got)
	}
	if got := escapeAnnotationProperty("a:b,c"); got != "a%3Ab%2Cc" {
		t.Errorf("escapeAnnotationProperty = %q", got)
	}
}

func TestCheckWriteTableJSONMarkdown(t *testing.T) {
	rep := blReport(t)
	var tbl bytes.Buffer
	if err := rep.WriteTable(&tbl); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"│ main/s1        │ cost       │   0.0123 │ 0.02 │ +62.6% │ +10%      │ fail   │",
		"FAIL: 6 checks: 3 passed, 2 failed, 1 warning, 0 skipped (2 scenarios in the baseline, 2 in the inputs)",
		"  FAIL scenario main/s1: cost_usd 0.0123 → 0.02 (+62.6%) exceeds +10%",
	} {
		if !strings.Contains(tbl.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tbl.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var out struct {
		SchemaVersion int            `json:"schema_version"`
		Result        string         `json:"result"`
		Counts        map[string]int `json:"counts"`
		Results       []struct {
			Scenario, Check, Status, Metric, Change, Threshold, Message string
			Baseline, New                                               *float64
		} `json:"results"`
	}
	if err := json.Unmarshal(js.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Result != "fail" || out.Counts["fail"] != 2 || len(out.Results) != len(rep.Results) || out.SchemaVersion != 1 {
		t.Errorf("json: %+v", out)
	}
	for _, r := range out.Results {
		if r.Check == CheckCost && (r.Status != "fail" || *r.Baseline != 0.0123 || *r.New != 0.02 || r.Threshold != "+10%" || r.Metric != "cost_usd") {
			t.Errorf("json cost result: %+v", r)
		}
		if r.Status == "fail" && r.Check == CheckScenario && r.New != nil {
			t.Errorf("missing scenario has a new value: %+v", r)
		}
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## clawtrace check: ❌ failed\n",
		"| main/s1 | cost | 0.0123 | 0.02 | +62.6% | +10% | fail |",
		"<details><summary>All 6 checks</summary>",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if got := escapeCheckMarkdownCell("a|b\nc"); got != `a\|b c` {
		t.Errorf("escapeCheckMarkdownCell = %q", got)
	}
}

func TestBaselineDecodeStrictErrors(t *testing.T) {
	var v map[string]any
	err := decodeBaselineJSON([]byte(`{"a":1} x`), &v)
	var td *baselineTrailingData
	if !errors.As(err, &td) || td.off != 9 {
		t.Errorf("trailing: %v", err)
	}
	if l, c := baselineLineCol([]byte("ab\ncd"), 5); l != 2 || c != 2 {
		t.Errorf("baselineLineCol = %d:%d", l, c)
	}
}

// TestCompareUnmatchedThresholds: a per-scenario threshold key that matches
// no scenario (a typo, or "*", which does not cross "/") is reported in the
// notes instead of silently applying nowhere.
func TestCompareUnmatchedThresholds(t *testing.T) {
	b := &Baseline{Scenarios: map[string]ScenarioMetrics{"main/s02": {Runs: 1}}}
	th := Thresholds{Scenarios: map[string]Thresholds{"*": {}, "main/*": {}, "main/s2": {}}}
	rep := Compare(b, b, th)
	if !slices.Equal(rep.UnmatchedThresholds, []string{"*", "main/s2"}) {
		t.Errorf("unmatched %q", rep.UnmatchedThresholds)
	}
	if notes := strings.Join(rep.notes(), "\n"); !strings.Contains(notes, `"main/s2" match no scenario`) {
		t.Errorf("notes lack the unmatched key:\n%s", notes)
	}
}
