package report

// Baselines and regression checks: `clawtrace baseline` sums per-scenario
// metrics into a reviewable JSON file and `clawtrace check` compares fresh
// inputs against it. docs/ci.md is the user documentation of everything
// here; keep both in sync.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawtrace/clawtrace/reconstruct"
)

// BaselineSchemaVersion is the schema_version of the baseline files this
// package writes and the only one it reads.
const BaselineSchemaVersion = 1

// Values of Thresholds.FailOn.
const (
	FailOnToolError     = "tool-error"     // a scenario has more tool errors than in its baseline
	FailOnProviderError = "provider-error" // a scenario has more failed provider calls than in its baseline
)

// ToolNameUnknown is the tool_calls_by_name key of tool spans without a name.
const ToolNameUnknown = "(unknown)"

// TokenCounts are the tokens of a scenario by kind, as OpenClaw records
// them: Input counts only uncached prompt tokens.
type TokenCounts struct {
	CacheRead  int64 `json:"cache_read"`
	CacheWrite int64 `json:"cache_write"`
	Input      int64 `json:"input"`  // uncached prompt tokens
	Output     int64 `json:"output"` // includes reasoning tokens
	// Total is Input + Output + CacheRead + CacheWrite (computed, not
	// OpenClaw's totalTokens).
	Total int64 `json:"total"`
}

// ScenarioMetrics are the metrics of one scenario: the sums over every run
// (trace) of the sessions that make up the scenario. JSON keys are sorted.
//
// Counting rules (docs/ci.md repeats them):
//   - LLM calls are chat spans (reconstruct.KindLLM), failed attempts
//     included; compaction calls are counted apart. A /fork copy of a call
//     that another session already holds (usage evidence noted
//     reconstruct.NoteForkCopy) is not counted, nor are the tool calls it
//     emitted, as in the cost report.
//   - Tokens and cost come from the usage of LLM and compaction calls; calls
//     without usage (Usage.Known false) add nothing.
//   - CostUSD is the sum of the recorded costs (usage.cost.total). It is nil
//     (unknown, never 0) when a call with usage has no recorded cost or when
//     no call has usage at all; UnpricedCalls counts the former.
//   - WallDurationMS is the sum of the run spans' durations: subagent runs
//     that overlap their parent's run add their own time.
//   - LongestChain is the longest chain of LLM calls in one run where each
//     call consumed a tool result emitted by the previous one (a run whose
//     calls used no tools has chain 1; 0 without LLM calls).
//   - MinConfidence is the lowest span confidence of any span.
type ScenarioMetrics struct {
	CompactionCalls int64            `json:"compaction_calls"`
	CostUSD         *float64         `json:"cost_usd"`
	LLMCalls        int64            `json:"llm_calls"`
	LongestChain    int64            `json:"longest_chain"`
	MinConfidence   float64          `json:"min_confidence"`
	ProviderErrors  int64            `json:"provider_errors"` // LLM and compaction spans with status error
	Runs            int64            `json:"runs"`
	Tokens          TokenCounts      `json:"tokens"`
	ToolCalls       int64            `json:"tool_calls"`
	ToolCallsByName map[string]int64 `json:"tool_calls_by_name"`
	ToolErrors      int64            `json:"tool_errors"` // tool spans with status error
	UnpricedCalls   int64            `json:"unpriced_calls"`
	WallDurationMS  int64            `json:"wall_duration_ms"`
}

// Baseline is the content of a baseline file.
type Baseline struct {
	SchemaVersion int
	// Thresholds are the thresholds stored in the file (all unset if none).
	Thresholds Thresholds
	// Scenarios maps scenario names to their metrics.
	Scenarios map[string]ScenarioMetrics
}

// ---- building ----------------------------------------------------------

// scenarioAcc accumulates the metrics of one scenario.
type scenarioAcc struct {
	m       ScenarioMetrics
	cost    float64
	priced  int64 // calls with usage and a recorded cost
	hasConf bool
}

func newScenarioAcc() *scenarioAcc {
	return &scenarioAcc{m: ScenarioMetrics{ToolCallsByName: map[string]int64{}}}
}

// add adds the runs of one session.
func (a *scenarioAcc) add(traces []reconstruct.Trace) {
	for i := range traces {
		t := &traces[i]
		a.m.Runs++
		if d := t.Root().Duration().Milliseconds(); d > 0 {
			a.m.WallDurationMS += d
		}
		// Fork copies and the tools they emitted are skipped (see ScenarioMetrics).
		copies := map[reconstruct.SpanID]bool{}
		for j := range t.Spans {
			sp := &t.Spans[j]
			if (sp.Kind == reconstruct.KindLLM || sp.Kind == reconstruct.KindCompaction) && isBaselineForkCopy(sp) {
				copies[sp.ID] = true
			}
		}
		for j := range t.Spans {
			sp := &t.Spans[j]
			if !a.hasConf || sp.Confidence < a.m.MinConfidence {
				a.m.MinConfidence, a.hasConf = sp.Confidence, true
			}
			switch sp.Kind {
			case reconstruct.KindLLM, reconstruct.KindCompaction:
				if copies[sp.ID] {
					continue
				}
				if sp.Kind == reconstruct.KindLLM {
					a.m.LLMCalls++
				} else {
					a.m.CompactionCalls++
				}
				if sp.Status == reconstruct.StatusError {
					a.m.ProviderErrors++
				}
				if u := sp.Usage; u.Known {
					a.m.Tokens.Input += u.Input
					a.m.Tokens.Output += u.Output
					a.m.Tokens.CacheRead += u.CacheRead
					a.m.Tokens.CacheWrite += u.CacheWrite
					if u.Cost != nil {
						a.cost += u.Cost.Total
						a.priced++
					} else {
						a.m.UnpricedCalls++
					}
				}
			case reconstruct.KindTool:
				if l, ok := sp.Link("emitted_by"); ok && copies[l.Span] {
					continue
				}
				a.m.ToolCalls++
				name := sp.ToolName
				if name == "" {
					name = ToolNameUnknown
				}
				a.m.ToolCallsByName[name]++
				if sp.Status == reconstruct.StatusError {
					a.m.ToolErrors++
				}
			}
		}
		if c := baselineLongestChain(t, copies); c > a.m.LongestChain {
			a.m.LongestChain = c
		}
	}
}

func (a *scenarioAcc) merge(o *scenarioAcc) {
	a.m.Runs += o.m.Runs
	a.m.WallDurationMS += o.m.WallDurationMS
	a.m.LLMCalls += o.m.LLMCalls
	a.m.CompactionCalls += o.m.CompactionCalls
	a.m.ProviderErrors += o.m.ProviderErrors
	a.m.ToolCalls += o.m.ToolCalls
	a.m.ToolErrors += o.m.ToolErrors
	a.m.UnpricedCalls += o.m.UnpricedCalls
	a.m.Tokens.Input += o.m.Tokens.Input
	a.m.Tokens.Output += o.m.Tokens.Output
	a.m.Tokens.CacheRead += o.m.Tokens.CacheRead
	a.m.Tokens.CacheWrite += o.m.Tokens.CacheWrite
	for _, k := range slices.Sorted(maps.Keys(o.m.ToolCallsByName)) {
		a.m.ToolCallsByName[k] += o.m.ToolCallsByName[k]
	}
	a.m.LongestChain = max(a.m.LongestChain, o.m.LongestChain)
	if o.hasConf && (!a.hasConf || o.m.MinConfidence < a.m.MinConfidence) {
		a.m.MinConfidence, a.hasConf = o.m.MinConfidence, true
	}
	a.cost += o.cost
	a.priced += o.priced
}

func (a *scenarioAcc) metrics() ScenarioMetrics {
	m := a.m
	m.ToolCallsByName = maps.Clone(a.m.ToolCallsByName)
	m.Tokens.Total = m.Tokens.Input + m.Tokens.Output + m.Tokens.CacheRead + m.Tokens.CacheWrite
	if a.priced > 0 && m.UnpricedCalls == 0 {
		c := roundBaselineCost(a.cost)
		m.CostUSD = &c
	}
	return m
}

// roundBaselineCost rounds a sum of costs to 1e-10 USD so that float
// summation noise never shows in the file or in a comparison.
func roundBaselineCost(v float64) float64 { return math.Round(v*1e10) / 1e10 }

func isBaselineForkCopy(sp *reconstruct.Span) bool {
	for _, e := range sp.Evidence {
		if e.Field == "usage" && strings.HasPrefix(e.Note, reconstruct.NoteForkCopy) {
			return true
		}
	}
	return false
}

// baselineLongestChain returns the number of LLM calls in the longest chain
// call → tool (emitted_by call) → next call (consumed_by) of one run.
// Fork copies are not nodes; links to spans of other traces match no node.
// A link cycle, which reconstruct never builds, is cut where it closes.
func baselineLongestChain(t *reconstruct.Trace, skip map[reconstruct.SpanID]bool) int64 {
	preds := map[reconstruct.SpanID][]reconstruct.SpanID{} // consumer → emitters
	var calls []reconstruct.SpanID
	for j := range t.Spans {
		sp := &t.Spans[j]
		switch sp.Kind {
		case reconstruct.KindLLM:
			if !skip[sp.ID] {
				calls = append(calls, sp.ID)
			}
		case reconstruct.KindTool:
			from, ok1 := sp.Link("emitted_by")
			to, ok2 := sp.Link("consumed_by")
			if ok1 && ok2 {
				preds[to.Span] = append(preds[to.Span], from.Span)
			}
		}
	}
	isCall := map[reconstruct.SpanID]bool{}
	for _, id := range calls {
		isCall[id] = true
	}
	memo := map[reconstruct.SpanID]int64{}
	visiting := map[reconstruct.SpanID]bool{}
	var depth func(id reconstruct.SpanID) int64
	depth = func(id reconstruct.SpanID) int64 {
		if d, ok := memo[id]; ok {
			return d
		}
		visiting[id] = true
		best := int64(0)
		for _, p := range preds[id] {
			if isCall[p] && !visiting[p] {
				best = max(best, depth(p))
			}
		}
		visiting[id] = false
		memo[id] = best + 1
		return best + 1
	}
	var longest int64
	for _, id := range calls {
		longest = max(longest, depth(id))
	}
	return longest
}

// pendingSubagent is a subagent session whose spawner's scenario is not
// known yet.
type pendingSubagent struct {
	parentKey string // session key of the spawning session
	own       string // the scenario it falls back to
	acc       *scenarioAcc
}

// BaselineBuilder sums the metrics of scenarios from the traces of one
// session at a time. Memory grows with the number of scenarios, plus one
// entry per session that spawned a subagent and per subagent session seen
// before its spawner (see AddSession); never with spans.
type BaselineBuilder struct {
	smap     *ScenarioMap
	acc      map[string]*scenarioAcc
	spawners map[string]string // session key → scenario, for sessions that spawned subagents
	pending  map[string]*pendingSubagent
}

// NewBaselineBuilder returns an empty builder. smap may be nil: then every
// session is its own scenario (see ScenarioName).
func NewBaselineBuilder(smap *ScenarioMap) *BaselineBuilder {
	return &BaselineBuilder{smap: smap, acc: map[string]*scenarioAcc{},
		spawners: map[string]string{}, pending: map[string]*pendingSubagent{}}
}

// Add adds the runs (traces) of one session to the named scenario. A
// scenario exists once it has at least one run: Add with no traces does
// nothing. Call it once per session.
func (b *BaselineBuilder) Add(scenario string, traces []reconstruct.Trace) {
	if len(traces) == 0 {
		return
	}
	a := b.acc[scenario]
	if a == nil {
		a = newScenarioAcc()
		b.acc[scenario] = a
	}
	a.add(traces)
	b.noteSpawner(scenario, traces)
}

func (b *BaselineBuilder) noteSpawner(scenario string, traces []reconstruct.Trace) {
	for i := range traces {
		t := &traces[i]
		if t.SessionKey == "" {
			continue
		}
		for j := range t.Spans {
			if t.Spans[j].Kind == reconstruct.KindTool && t.Spans[j].ChildSessionKey != "" {
				b.spawners[t.SessionKey] = scenario
				return
			}
		}
	}
}

// AddSession adds the traces of one session (all from the same session) to
// the scenario it belongs to:
//
//  1. the group of the scenario map whose patterns match the session;
//  2. else, for a subagent session, the scenario of the session that
//     spawned it (Trace.ParentSessionKey), so that a re-recorded subagent
//     with a fresh session id still counts toward its task. If the spawner
//     has not been added yet, the session is held until Baseline; if it
//     never is, the session joins the own scenario of its topmost
//     ancestor among the inputs (itself if none);
//  3. else ScenarioName of the session.
//
// It returns an error only when the session matches several groups of the
// scenario map. Empty traces are ignored.
func (b *BaselineBuilder) AddSession(traces []reconstruct.Trace) error {
	if len(traces) == 0 {
		return nil
	}
	t := &traces[0]
	if b.smap != nil {
		name, ok, err := b.smap.Match(t.AgentID, t.SessionID, t.SessionKey)
		if err != nil {
			return err
		}
		if ok {
			b.Add(name, traces)
			return nil
		}
	}
	own := ScenarioName(t.AgentID, t.SessionID)
	if !t.Subagent || t.ParentSessionKey == "" {
		b.Add(own, traces)
		return nil
	}
	if sc, ok := b.spawners[t.ParentSessionKey]; ok {
		b.Add(sc, traces)
		return nil
	}
	key := t.SessionKey
	if key == "" {
		key = "\x00" + own // cannot be anyone's parent
	}
	p := b.pending[key]
	if p == nil {
		p = &pendingSubagent{parentKey: t.ParentSessionKey, own: own, acc: newScenarioAcc()}
		b.pending[key] = p
	}
	p.acc.add(traces)
	return nil
}

// resolvePending returns the scenario of a pending subagent: that of its
// nearest ancestor that was added to a scenario, else the own scenario of
// its topmost pending ancestor (itself if none).
func (b *BaselineBuilder) resolvePending(p *pendingSubagent) string {
	key, fallback := p.parentKey, p.own
	for range len(b.pending) + 1 {
		if sc, ok := b.spawners[key]; ok {
			return sc
		}
		up, ok := b.pending[key]
		if !ok {
			return fallback
		}
		key, fallback = up.parentKey, up.own
	}
	return p.own // a spawn cycle: give up
}

// Baseline resolves the held subagent sessions and returns the baseline
// with the given thresholds. The builder must not be used afterwards.
func (b *BaselineBuilder) Baseline(th Thresholds) *Baseline {
	for _, k := range slices.Sorted(maps.Keys(b.pending)) {
		p := b.pending[k]
		sc := b.resolvePending(p)
		a := b.acc[sc]
		if a == nil {
			a = newScenarioAcc()
			b.acc[sc] = a
		}
		a.merge(p.acc)
	}
	b.pending = nil
	out := &Baseline{SchemaVersion: BaselineSchemaVersion, Thresholds: th, Scenarios: map[string]ScenarioMetrics{}}
	for name, a := range b.acc {
		out.Scenarios[name] = a.metrics()
	}
	return out
}

// ScenarioName is the scenario of a session that no mapping names:
// "<agent>/<session id>", or the session id alone when the agent is unknown.
func ScenarioName(agentID, sessionID string) string {
	if agentID == "" {
		return sessionID
	}
	return agentID + "/" + sessionID
}

// ---- scenario map ------------------------------------------------------

// ScenarioMap groups sessions into named scenarios. Its file is one JSON
// object mapping a scenario name to a list of patterns:
//
//	{"summarise-notes": ["s02", "agent:main:explicit:s03"], "spawn": ["main/s10", "agent:main:subagent:*"]}
//
// A pattern matches a session when it equals, or matches as a path.Match
// glob, the session id, the session key or "<agent>/<session id>".
type ScenarioMap struct {
	names    []string // sorted
	patterns [][]string
}

// ReadScenarioMap parses a scenario map file; name is used in errors.
// Errors: malformed JSON (with line and column), an empty scenario name or
// pattern list, an empty or malformed glob.
func ReadScenarioMap(r io.Reader, name string) (*ScenarioMap, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var raw map[string][]string
	if err := decodeBaselineJSON(data, &raw); err != nil {
		return nil, baselineJSONError(name, "malformed scenario map", data, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("%s: malformed scenario map: want a JSON object", name)
	}
	m := &ScenarioMap{names: slices.Sorted(maps.Keys(raw))}
	for _, n := range m.names {
		if strings.TrimSpace(n) == "" {
			return nil, fmt.Errorf("%s: empty scenario name", name)
		}
		if len(raw[n]) == 0 {
			return nil, fmt.Errorf("%s: scenario %q: no session patterns", name, n)
		}
		for _, p := range raw[n] {
			if p == "" {
				return nil, fmt.Errorf("%s: scenario %q: empty pattern", name, n)
			}
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("%s: scenario %q: pattern %q: %w", name, n, p, err)
			}
		}
		m.patterns = append(m.patterns, raw[n])
	}
	return m, nil
}

// Match returns the scenario whose patterns match the session. ok is false
// when none does; an error says that several scenarios match.
func (m *ScenarioMap) Match(agentID, sessionID, sessionKey string) (name string, ok bool, err error) {
	cands := []string{sessionID, sessionKey, ScenarioName(agentID, sessionID)}
	var found []string
	for i, n := range m.names {
		if scenarioPatternsMatch(m.patterns[i], cands) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return "", false, nil
	case 1:
		return found[0], true, nil
	}
	return "", false, fmt.Errorf("session %s matches several scenarios of the scenario map: %s",
		ScenarioName(agentID, sessionID), strings.Join(found, ", "))
}

func scenarioPatternsMatch(patterns, cands []string) bool {
	for _, p := range patterns {
		for _, c := range cands {
			if c == "" {
				continue
			}
			if ok, _ := path.Match(p, c); ok || p == c {
				return true
			}
		}
	}
	return false
}

// ---- thresholds --------------------------------------------------------

// Limit is the largest allowed increase of a metric over its baseline:
// a percentage of the baseline value ("10%") or an absolute amount in the
// metric's unit ("5": calls, tokens, USD, or milliseconds; durations also
// accept Go syntax such as "2s"). The zero Limit allows no increase.
type Limit struct {
	Value   float64 // percent when Percent, else metric units
	Percent bool
	text    string // as written, for display
}

// ParseLimit parses "10%", "+10%", "2.5%", "5" or "0.01". Negative, NaN
// and infinite values are errors.
func ParseLimit(s string) (Limit, error) {
	t := strings.TrimSpace(s)
	n := strings.TrimPrefix(strings.TrimSpace(strings.TrimSuffix(t, "%")), "+")
	v, err := strconv.ParseFloat(n, 64)
	if err != nil || n == "" || strings.HasPrefix(n, "+") || math.IsNaN(v) || math.IsInf(v, 0) {
		return Limit{}, fmt.Errorf("bad limit %q: want a percentage like \"10%%\" or an absolute increase like \"5\"", s)
	}
	if strings.HasPrefix(n, "-") {
		return Limit{}, fmt.Errorf("bad limit %q: must not be negative", s)
	}
	return Limit{Value: v, Percent: strings.HasSuffix(t, "%"), text: t}, nil
}

// ParseDurationLimit is ParseLimit for wall durations: it also accepts Go
// durations ("1.5s", "500ms"), converted to an absolute number of ms.
func ParseDurationLimit(s string) (Limit, error) {
	l, err := ParseLimit(s)
	if err == nil {
		return l, nil
	}
	d, derr := time.ParseDuration(strings.TrimPrefix(strings.TrimSpace(s), "+"))
	if derr != nil || d < 0 {
		return Limit{}, fmt.Errorf("bad limit %q: want a percentage like \"10%%\", milliseconds like \"500\" or a duration like \"2s\"", s)
	}
	return Limit{Value: float64(d) / float64(time.Millisecond), text: strings.TrimSpace(s)}, nil
}

// String returns the limit as written, or a canonical form ("10%", "5").
func (l Limit) String() string {
	if l.text != "" {
		return strings.TrimPrefix(l.text, "+")
	}
	s := strconv.FormatFloat(l.Value, 'f', -1, 64)
	if l.Percent {
		s += "%"
	}
	return s
}

// allowed returns the largest value that passes for a baseline value.
func (l Limit) allowed(base float64) float64 {
	if l.Percent {
		return base + math.Abs(base)*l.Value/100
	}
	return base + l.Value
}

// Thresholds say when `clawtrace check` fails. An unset field (nil) checks
// nothing. For lists, nil is unset and an empty list is set to nothing, so
// a per-scenario entry can switch a global list off.
type Thresholds struct {
	MaxCostIncrease     *Limit   // cost_usd
	MaxTokensIncrease   *Limit   // tokens.total
	MaxCallsIncrease    *Limit   // llm_calls and tool_calls, each
	MaxDurationIncrease *Limit   // wall_duration_ms
	FailOn              []string // FailOnToolError, FailOnProviderError
	RequireTool         []string // every scenario must call each at least once
	ForbidTool          []string // no scenario may call any of them
	MinConfidence       *float64 // lowest allowed span confidence, in [0,1]
	// Scenarios holds per-scenario overrides, keyed by scenario name or a
	// path.Match glob over names. Their Scenarios field is ignored.
	Scenarios map[string]Thresholds
}

// IsZero reports whether no threshold is set (per-scenario ones included).
func (t Thresholds) IsZero() bool {
	return t.MaxCostIncrease == nil && t.MaxTokensIncrease == nil && t.MaxCallsIncrease == nil &&
		t.MaxDurationIncrease == nil && t.FailOn == nil && t.RequireTool == nil && t.ForbidTool == nil &&
		t.MinConfidence == nil && len(t.Scenarios) == 0
}

// overlay sets the fields set in o.
func (t Thresholds) overlay(o Thresholds) Thresholds {
	if o.MaxCostIncrease != nil {
		t.MaxCostIncrease = o.MaxCostIncrease
	}
	if o.MaxTokensIncrease != nil {
		t.MaxTokensIncrease = o.MaxTokensIncrease
	}
	if o.MaxCallsIncrease != nil {
		t.MaxCallsIncrease = o.MaxCallsIncrease
	}
	if o.MaxDurationIncrease != nil {
		t.MaxDurationIncrease = o.MaxDurationIncrease
	}
	if o.FailOn != nil {
		t.FailOn = o.FailOn
	}
	if o.RequireTool != nil {
		t.RequireTool = o.RequireTool
	}
	if o.ForbidTool != nil {
		t.ForbidTool = o.ForbidTool
	}
	if o.MinConfidence != nil {
		t.MinConfidence = o.MinConfidence
	}
	return t
}

// unset clears the fields set in o.
func (t Thresholds) unset(o Thresholds) Thresholds {
	if o.MaxCostIncrease != nil {
		t.MaxCostIncrease = nil
	}
	if o.MaxTokensIncrease != nil {
		t.MaxTokensIncrease = nil
	}
	if o.MaxCallsIncrease != nil {
		t.MaxCallsIncrease = nil
	}
	if o.MaxDurationIncrease != nil {
		t.MaxDurationIncrease = nil
	}
	if o.FailOn != nil {
		t.FailOn = nil
	}
	if o.RequireTool != nil {
		t.RequireTool = nil
	}
	if o.ForbidTool != nil {
		t.ForbidTool = nil
	}
	if o.MinConfidence != nil {
		t.MinConfidence = nil
	}
	return t
}

// Override returns t with every field set in o replacing t's, globally and
// in every per-scenario entry: command-line flags win over the file. o's
// own Scenarios entries are added (replacing entries of the same key).
func (t Thresholds) Override(o Thresholds) Thresholds {
	out := t.overlay(o)
	out.Scenarios = nil
	for _, k := range slices.Sorted(maps.Keys(t.Scenarios)) {
		if out.Scenarios == nil {
			out.Scenarios = map[string]Thresholds{}
		}
		out.Scenarios[k] = t.Scenarios[k].unset(o)
	}
	for _, k := range slices.Sorted(maps.Keys(o.Scenarios)) {
		if out.Scenarios == nil {
			out.Scenarios = map[string]Thresholds{}
		}
		out.Scenarios[k] = o.Scenarios[k]
	}
	return out
}

// For returns the thresholds that apply to a scenario: the global ones,
// overlaid with every per-scenario entry whose key equals the name or
// matches it as a glob, in key order. The result has no Scenarios.
func (t Thresholds) For(scenario string) Thresholds {
	out := t
	out.Scenarios = nil
	for _, k := range slices.Sorted(maps.Keys(t.Scenarios)) {
		if ok, _ := path.Match(k, scenario); ok || k == scenario {
			out = out.overlay(t.Scenarios[k])
		}
	}
	return out
}

// Validate checks the values that ParseLimit cannot: fail_on names,
// tool names and the confidence range. where prefixes the messages.
func (t Thresholds) Validate() error {
	return t.validate("thresholds", true)
}

func (t Thresholds) validate(where string, top bool) error {
	var errs []error
	for _, f := range t.FailOn {
		if f != FailOnToolError && f != FailOnProviderError {
			errs = append(errs, fmt.Errorf("%s.fail_on: unknown value %q: want %q or %q", where, f, FailOnToolError, FailOnProviderError))
		}
	}
	for _, l := range []struct {
		name  string
		tools []string
	}{{"require_tool", t.RequireTool}, {"forbid_tool", t.ForbidTool}} {
		for _, n := range l.tools {
			if strings.TrimSpace(n) == "" {
				errs = append(errs, fmt.Errorf("%s.%s: empty tool name", where, l.name))
			}
		}
	}
	if c := t.MinConfidence; c != nil && (math.IsNaN(*c) || *c < 0 || *c > 1) {
		errs = append(errs, fmt.Errorf("%s.min_confidence: %v is outside [0, 1]", where, *c))
	}
	if !top && len(t.Scenarios) > 0 {
		errs = append(errs, fmt.Errorf("%s: per-scenario thresholds cannot nest \"scenarios\"", where))
	}
	for _, k := range slices.Sorted(maps.Keys(t.Scenarios)) {
		if _, err := path.Match(k, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s.scenarios: key %q: %w", where, k, err))
		}
		if err := t.Scenarios[k].validate(where+".scenarios."+k, false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// thresholdsJSON is the file form of Thresholds (keys sorted).
type thresholdsJSON struct {
	FailOn              *[]string                 `json:"fail_on,omitempty"`
	ForbidTool          *[]string                 `json:"forbid_tool,omitempty"`
	MaxCallsIncrease    json.RawMessage           `json:"max_calls_increase,omitempty"`
	MaxCostIncrease     json.RawMessage           `json:"max_cost_increase,omitempty"`
	MaxDurationIncrease json.RawMessage           `json:"max_duration_increase,omitempty"`
	MaxTokensIncrease   json.RawMessage           `json:"max_tokens_increase,omitempty"`
	MinConfidence       *float64                  `json:"min_confidence,omitempty"`
	RequireTool         *[]string                 `json:"require_tool,omitempty"`
	Scenarios           map[string]thresholdsJSON `json:"scenarios,omitempty"`
}

func thresholdLimitJSON(l *Limit) json.RawMessage {
	if l == nil {
		return nil
	}
	b, _ := json.Marshal(l.String())
	return b
}

func thresholdListJSON(l []string) *[]string {
	if l == nil {
		return nil
	}
	return &l
}

func (t Thresholds) toJSON() thresholdsJSON {
	out := thresholdsJSON{
		FailOn: thresholdListJSON(t.FailOn), ForbidTool: thresholdListJSON(t.ForbidTool), RequireTool: thresholdListJSON(t.RequireTool),
		MaxCallsIncrease: thresholdLimitJSON(t.MaxCallsIncrease), MaxCostIncrease: thresholdLimitJSON(t.MaxCostIncrease),
		MaxDurationIncrease: thresholdLimitJSON(t.MaxDurationIncrease), MaxTokensIncrease: thresholdLimitJSON(t.MaxTokensIncrease),
		MinConfidence: t.MinConfidence,
	}
	for k, s := range t.Scenarios {
		if out.Scenarios == nil {
			out.Scenarios = map[string]thresholdsJSON{}
		}
		out.Scenarios[k] = s.toJSON()
	}
	return out
}

// parseThresholdLimit parses a limit written as a string ("10%") or a number.
func parseThresholdLimit(raw json.RawMessage, where string, parse func(string) (Limit, error)) (*Limit, error) {
	if raw == nil {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("%s: want a string like \"10%%\" or a number, got %s", where, raw)
		}
		s = string(raw)
	}
	l, err := parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return &l, nil
}

func (j thresholdsJSON) thresholds(where string) (Thresholds, error) {
	var t Thresholds
	var errs []error
	for _, f := range []struct {
		raw   json.RawMessage
		name  string
		dst   **Limit
		parse func(string) (Limit, error)
	}{
		{j.MaxCostIncrease, "max_cost_increase", &t.MaxCostIncrease, ParseLimit},
		{j.MaxTokensIncrease, "max_tokens_increase", &t.MaxTokensIncrease, ParseLimit},
		{j.MaxCallsIncrease, "max_calls_increase", &t.MaxCallsIncrease, ParseLimit},
		{j.MaxDurationIncrease, "max_duration_increase", &t.MaxDurationIncrease, ParseDurationLimit},
	} {
		l, err := parseThresholdLimit(f.raw, where+"."+f.name, f.parse)
		if err != nil {
			errs = append(errs, err)
		}
		*f.dst = l
	}
	deref := func(p *[]string) []string {
		if p == nil {
			return nil
		}
		if *p == nil {
			return []string{}
		}
		return *p
	}
	t.FailOn, t.RequireTool, t.ForbidTool = deref(j.FailOn), deref(j.RequireTool), deref(j.ForbidTool)
	t.MinConfidence = j.MinConfidence
	for _, k := range slices.Sorted(maps.Keys(j.Scenarios)) {
		s, err := j.Scenarios[k].thresholds(where + ".scenarios." + k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if t.Scenarios == nil {
			t.Scenarios = map[string]Thresholds{}
		}
		t.Scenarios[k] = s
	}
	return t, errors.Join(errs...)
}

// ---- the file ----------------------------------------------------------

type baselineFile struct {
	SchemaVersion int                        `json:"schema_version"`
	Thresholds    *thresholdsJSON            `json:"thresholds,omitempty"`
	Scenarios     map[string]ScenarioMetrics `json:"scenarios"`
}

// Write writes the baseline as JSON indented by two spaces, with sorted
// keys (the top level keeps the order schema_version, thresholds,
// scenarios), and a final newline. Equal baselines give equal bytes.
func (b *Baseline) Write(w io.Writer) error {
	f := baselineFile{SchemaVersion: BaselineSchemaVersion, Scenarios: map[string]ScenarioMetrics{}}
	if !b.Thresholds.IsZero() {
		j := b.Thresholds.toJSON()
		f.Thresholds = &j
	}
	for k, m := range b.Scenarios {
		if m.ToolCallsByName == nil {
			m.ToolCallsByName = map[string]int64{}
		}
		f.Scenarios[k] = m
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // scenario and tool names stay readable
	if err := enc.Encode(f); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ReadBaseline reads a baseline file; name is used in errors, which say
// what is wrong and, for JSON errors, where ("baseline.json:3:17: ...").
// Errors: malformed JSON, trailing data, unknown keys (a misspelt
// threshold must not be ignored), a missing or unsupported schema_version,
// bad threshold values, and a file without scenarios.
func ReadBaseline(r io.Reader, name string) (*Baseline, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// The version first, so that a newer file says so rather than failing on
	// a key this version does not know.
	var head map[string]json.RawMessage
	if err := decodeBaselineJSON(data, &head); err != nil {
		return nil, baselineJSONError(name, "malformed baseline", data, err)
	}
	if head == nil {
		return nil, fmt.Errorf("%s: malformed baseline: want a JSON object", name)
	}
	v, ok := head["schema_version"]
	if !ok {
		return nil, fmt.Errorf("%s: malformed baseline: no schema_version (want %d)", name, BaselineSchemaVersion)
	}
	var ver int
	if err := json.Unmarshal(v, &ver); err != nil || ver != BaselineSchemaVersion {
		return nil, fmt.Errorf("%s: unsupported baseline schema_version %s: this clawtrace reads %d", name, v, BaselineSchemaVersion)
	}
	var f baselineFile
	if err := decodeBaselineJSON(data, &f); err != nil {
		return nil, baselineJSONError(name, "malformed baseline", data, err)
	}
	if len(f.Scenarios) == 0 {
		return nil, fmt.Errorf("%s: malformed baseline: no scenarios", name)
	}
	b := &Baseline{SchemaVersion: f.SchemaVersion, Scenarios: f.Scenarios}
	if f.Thresholds != nil {
		th, err := f.Thresholds.thresholds("thresholds")
		if err == nil {
			err = th.Validate()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: bad thresholds: %w", name, err)
		}
		b.Thresholds = th
	}
	for _, k := range slices.Sorted(maps.Keys(b.Scenarios)) {
		m := b.Scenarios[k]
		if m.ToolCallsByName == nil {
			m.ToolCallsByName = map[string]int64{}
			b.Scenarios[k] = m
		}
		if m.MinConfidence < 0 || m.MinConfidence > 1 {
			return nil, fmt.Errorf("%s: malformed baseline: scenarios.%s.min_confidence: %v is outside [0, 1]", name, k, m.MinConfidence)
		}
	}
	return b, nil
}

// decodeBaselineJSON decodes one JSON value, rejecting unknown keys and trailing data.
func decodeBaselineJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			return errors.New("empty file")
		}
		return err
	}
	end := dec.InputOffset()
	rest := data[end:]
	if trimmed := bytes.TrimLeft(rest, " \t\r\n"); len(trimmed) > 0 {
		return &baselineTrailingData{off: end + int64(len(rest)-len(trimmed)) + 1}
	}
	return nil
}

// baselineTrailingData is data after the one JSON value of a file.
type baselineTrailingData struct{ off int64 }

func (e *baselineTrailingData) Error() string { return "trailing data after the JSON value" }

// baselineJSONError prefixes a JSON error with file:line:col where it is known.
func baselineJSONError(name, what string, data []byte, err error) error {
	off := int64(-1)
	msg := err.Error()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var td *baselineTrailingData
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &td):
		off = td.off
	case errors.As(err, &te):
		// N.B. Field leaves out map keys ("scenarios.runs" for
		// scenarios.<name>.runs): keep its last element, the position says
		// which scenario.
		off = te.Offset
		msg = fmt.Sprintf("want %s, got %s", baselineJSONType(te.Type.Kind().String()), te.Value)
		if f := te.Field; f != "" {
			msg = f[strings.LastIndexByte(f, '.')+1:] + ": " + msg
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
		msg = "unexpected end of file"
	case strings.HasPrefix(msg, "json: unknown field "):
		key := strings.TrimPrefix(msg, "json: unknown field ")
		if i := bytes.Index(data, []byte(key)); i >= 0 {
			off = int64(i) + 1
		}
		msg = "unknown key " + key
	}
	msg = strings.TrimPrefix(msg, "json: ")
	if off < 0 {
		return fmt.Errorf("%s: %s: %s", name, what, msg)
	}
	line, col := baselineLineCol(data, off)
	return fmt.Errorf("%s:%d:%d: %s: %s", name, line, col, what, msg)
}

func baselineJSONType(kind string) string {
	switch kind {
	case "int", "int64", "float64", "uint8":
		return "a number"
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice":
		return "a list"
	case "bool":
		return "true or false"
	}
	return kind
}

// baselineLineCol converts an offset as encoding/json reports it (the number of
// bytes read, so the 1-based position of the last byte read) to a 1-based
// line and column.
func baselineLineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 1 {
		off = 1
	}
	before := data[:off-1]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off-1) - bytes.LastIndexByte(before, '\n')
	return line, col
}
