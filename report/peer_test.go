package report

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Peer fixtures are OpenClaw state dirs rebuilt from other projects' tests
// (ccusage, tokscale, codeburn, agentsview, openclaw, pi-mono), each with an
// expected.json holding what the peer's test asserts ("peer_asserts") and a
// raw count of the files ("own_count"). They live outside this repository,
// in the shared steering tree; this test reads them in place when they are
// there and is skipped otherwise. Never copy them into the repository.
var peerRoot = filepath.Join("..", "..", "shared", "peer-fixtures")

// peerWant is one number to check. metric is one of ours (see peerMetric).
// peer is a path into expected.json ("peer_asserts.input",
// "peer_asserts.rows.0.totalCost", dotted keys allowed); when ours is nil
// our number must equal the peer's. When clawtrace deliberately counts
// otherwise, ours holds our documented number (NaN: cost unknown) and why
// says why; the peer's number is then only read, to make sure the peer
// still asserts it.
type peerWant struct {
	metric string
	peer   string
	ours   *float64
	why    string
}

// peerRun is one report over a sample: cost mode, an optional price table
// (pricing.json format) and the numbers to check.
type peerRun struct {
	mode    CostMode
	pricing string
	wants   []peerWant
}

func eq(metric, peer string) peerWant { return peerWant{metric: metric, peer: peer} }

func differs(metric, peer string, ours float64, why string) peerWant {
	return peerWant{metric: metric, peer: peer, ours: &ours, why: why}
}

// ours checks a number the peer does not assert.
func ours(metric string, v float64, why string) peerWant { return differs(metric, "", v, why) }

var unknownCost = math.NaN()

const (
	whyNeverZero     = "usage with no price is unknown, never 0: a recorded cost of 0 next to real usage means OpenClaw had no price"
	whyNoUsageCalls  = "assistant messages without usage are still LLM calls; they count in llm_calls and calls_without_usage, never in tokens or cost"
	whyReasoning     = "output keeps the reasoning tokens, as OpenClaw records them (reasoning is part of output); tokscale moves them out of output"
	whyModelFromMsg  = "the model comes from the assistant message only; model_change / model-snapshot entries are settings, not the model a call used (docs/openclaw-formats.md §2.5), so this call is under (unknown) and unpriced"
	whyNoToolCallID  = "a toolCall block without an id has no tool span: calls and results are paired by id"
	whyCountAllUsage = "every call with usage is counted, whatever its timestamp or model; tokscale/codeburn drop calls they cannot date or attribute"
)

// peerCases lists every sample. A new sample must be added here.
var peerCases = map[string][]peerRun{
	// Real pi-mono sessions (no peer asserts): our raw counts, and the
	// recorded costs (written by pi-ai's own price table) reproduced exactly
	// by the embedded table — a cross-check of the Opus 4.5 / Sonnet 4.5
	// prices, cache writes included.
	"badlogic__pi-mono/before-compaction-v1": {
		{wants: []peerWant{
			eq("input", "own_count.agents/main/sessions/ffae836b-9420-4060-ac13-7745215f90ff.jsonl.raw_usage_sums_no_dedup.input"),
			eq("output", "own_count.agents/main/sessions/ffae836b-9420-4060-ac13-7745215f90ff.jsonl.raw_usage_sums_no_dedup.output"),
			eq("cache_read", "own_count.agents/main/sessions/ffae836b-9420-4060-ac13-7745215f90ff.jsonl.raw_usage_sums_no_dedup.cacheRead"),
			eq("cache_write", "own_count.agents/main/sessions/ffae836b-9420-4060-ac13-7745215f90ff.jsonl.raw_usage_sums_no_dedup.cacheWrite"),
			eq("cost", "own_count.agents/main/sessions/ffae836b-9420-4060-ac13-7745215f90ff.jsonl.raw_cost_total_sum_no_dedup"),
			differs("calls", "own_count.agents/main/sessions/ffae836b-9420-4060-ac13-7745215f90ff.jsonl.assistant_messages", 486,
				"the 2 compaction entries are summarisation calls (without usage) besides the 484 assistant messages"),
		}},
		{mode: CostRepriced, wants: []peerWant{
			eq("cost", "own_count.agents/main/sessions/ffae836b-9420-4060-ac13-7745215f90ff.jsonl.raw_cost_total_sum_no_dedup"),
		}},
	},
	"badlogic__pi-mono/large-session-v1": {
		{wants: []peerWant{
			eq("calls", "own_count.agents/main/sessions/d703a1a9-1b7b-4fb1-b512-c9738b1fe617.jsonl.assistant_messages"),
			eq("input", "own_count.agents/main/sessions/d703a1a9-1b7b-4fb1-b512-c9738b1fe617.jsonl.raw_usage_sums_no_dedup.input"),
			eq("output", "own_count.agents/main/sessions/d703a1a9-1b7b-4fb1-b512-c9738b1fe617.jsonl.raw_usage_sums_no_dedup.output"),
			eq("cache_read", "own_count.agents/main/sessions/d703a1a9-1b7b-4fb1-b512-c9738b1fe617.jsonl.raw_usage_sums_no_dedup.cacheRead"),
			eq("cache_write", "own_count.agents/main/sessions/d703a1a9-1b7b-4fb1-b512-c9738b1fe617.jsonl.raw_usage_sums_no_dedup.cacheWrite"),
			eq("cost", "own_count.agents/main/sessions/d703a1a9-1b7b-4fb1-b512-c9738b1fe617.jsonl.raw_cost_total_sum_no_dedup"),
		}},
		{mode: CostRepriced, wants: []peerWant{
			eq("cost", "own_count.agents/main/sessions/d703a1a9-1b7b-4fb1-b512-c9738b1fe617.jsonl.raw_cost_total_sum_no_dedup"),
		}},
	},
	"badlogic__pi-mono/migration-v1-inline": {{wants: []peerWant{
		eq("input", "own_count.agents/main/sessions/sess-1.jsonl.raw_usage_sums_no_dedup.input"),
		differs("cost", "own_count.agents/main/sessions/sess-1.jsonl.raw_cost_total_sum_no_dedup", unknownCost, whyNeverZero),
	}}},

	"getagentseal__codeburn/invalid-timestamps": {{wants: []peerWant{
		differs("calls", "peer_asserts.calls", 1, whyCountAllUsage+" (the call is under day (unknown))"),
		ours("input", 100, ""),
	}}},
	"getagentseal__codeburn/model-change-event": {{wants: []peerWant{
		eq("input", "own_count.agents/proj/sessions/mc-test.jsonl.raw_usage_sums_no_dedup.input"),
		ours("cost", unknownCost, whyModelFromMsg),
	}}},
	"getagentseal__codeburn/model-snapshot-event": {{wants: []peerWant{
		eq("input", "own_count.agents/proj/sessions/snap-test.jsonl.raw_usage_sums_no_dedup.input"),
		eq("output", "own_count.agents/proj/sessions/snap-test.jsonl.raw_usage_sums_no_dedup.output"),
		ours("cost", unknownCost, whyModelFromMsg),
	}}},
	"getagentseal__codeburn/session-v3-tools": {{wants: []peerWant{
		eq("calls", "peer_asserts.calls"),
		eq("input", "own_count.agents/proj/sessions/test-sess-1.jsonl.raw_usage_sums_no_dedup.input"),
		eq("cache_read", "own_count.agents/proj/sessions/test-sess-1.jsonl.raw_usage_sums_no_dedup.cacheRead"),
		// calls[1] recorded $0.05; calls[0] has no recorded cost and is
		// priced from the table (claude-sonnet-4-6: 500×3 + 100×15 +
		// 200×0.30 + 50×3.75 = 3247.5 µ$), so the total is "mixed".
		differs("cost", "peer_asserts.calls[1].costUSD", 0.0532475, "the call without a recorded cost is priced from the table instead of being left out"),
		ours("tool_calls", 3, ""),
	}}},

	"junhoyeo__tokscale/bom-crlf-invalid-line": {{wants: []peerWant{
		eq("calls", "peer_asserts.messages"), eq("input", "peer_asserts.input"), eq("output", "peer_asserts.output"),
		eq("cache_read", "peer_asserts.cache_read"), eq("cache_write", "peer_asserts.cache_write"), eq("cost", "peer_asserts.cost"),
	}}},
	"junhoyeo__tokscale/bookkeeping-rows-ignored": {{wants: []peerWant{
		eq("calls", "peer_asserts.messages"), ours("input", 10, ""),
	}}},
	"junhoyeo__tokscale/codex-mirror-row": {{wants: []peerWant{
		eq("calls", "peer_asserts.messages"), eq("input", "peer_asserts.totals.input"), eq("output", "peer_asserts.totals.output"),
		eq("cache_read", "peer_asserts.totals.cache_read"),
		// m2 (claude-opus-4-6, 10 in / 5 out) is priced from the table:
		// 10×5 + 5×25 = 175 µ$; the codex mirror row stays unpriced.
		differs("cost", "peer_asserts.totals.cost", 0.000175, whyNeverZero),
	}}},
	"junhoyeo__tokscale/index-relative-and-missing-sessionfile": {{wants: []peerWant{
		differs("calls", "peer_asserts.fallback-123.messages", 1,
			"the two files hold the same call (entry id msg1, same time, same usage): a /fork copy, counted once (coverage fork_copies_skipped)"),
		ours("input", 100, ""),
	}}},
	"junhoyeo__tokscale/no-model-and-dedup-id": {{wants: []peerWant{
		eq("calls", "peer_asserts.messages"), eq("input", "peer_asserts.input_sum"), eq("output", "peer_asserts.output_sum"),
	}}},
	"junhoyeo__tokscale/reasoning-exceeds-output": {{wants: []peerWant{
		eq("calls", "peer_asserts.messages"),
		differs("output", "peer_asserts.output_after_split", 5, whyReasoning),
	}}},
	"junhoyeo__tokscale/sqlite-and-jsonl-same-events": {{wants: []peerWant{
		eq("calls", "peer_asserts.combined_after_dedup.messages"), eq("input", "peer_asserts.combined_after_dedup.input"),
		eq("output", "peer_asserts.combined_after_dedup.raw_output"), eq("cache_read", "peer_asserts.combined_after_dedup.cache_read"),
		eq("cache_write", "peer_asserts.combined_after_dedup.cache_write"),
		// a2 has no recorded cost and no model on the message; the session's
		// model_change names it, so the table prices it (the peer leaves it
		// out): 0.0036 recorded for a1 + 0.000115 table price for a2.
		differs("cost", "peer_asserts.combined_after_dedup.cost", 0.003715, "a2's model comes from model_change and is priced from the table"),
		ours("unpriced", 0, ""),
	}}},
	"junhoyeo__tokscale/sqlite-created-at-fallback": {{wants: []peerWant{
		eq("calls", "peer_asserts.messages"),
	}}},
	"junhoyeo__tokscale/sqlite-fork-copies": {{wants: []peerWant{
		eq("calls", "peer_asserts.after_caller_dedup.unique_keys"), eq("input", "peer_asserts.after_caller_dedup.input"),
		eq("output", "peer_asserts.after_caller_dedup.output"),
	}}},
	"junhoyeo__tokscale/sqlite-ignores-user-toolresult-and-no-usage": {{wants: []peerWant{
		differs("calls", "peer_asserts.messages", 3, whyNoUsageCalls),
		eq("input", "peer_asserts.input"),
	}}},
	"junhoyeo__tokscale/sqlite-malformed-rows": {{wants: []peerWant{
		eq("calls", "peer_asserts.messages"), eq("input", "peer_asserts.input_sum"), eq("output", "peer_asserts.output_sum"),
	}}},
	"junhoyeo__tokscale/sqlite-model-fallback-order": {{wants: []peerWant{
		differs("calls", "peer_asserts.messages", 5, whyCountAllUsage+" (sess-b/b1 is under model (unknown))"),
	}}},
	"junhoyeo__tokscale/sqlite-usage-fields": {{wants: []peerWant{
		eq("calls", "peer_asserts.messages"), eq("input", "peer_asserts.input"),
		differs("output", "peer_asserts.output_after_reasoning_split", 50, whyReasoning),
		eq("cache_read", "peer_asserts.cache_read"), eq("cache_write", "peer_asserts.cache_write"), eq("cost", "peer_asserts.cost"),
	}}},

	"kenn-io__agentsview/archive-selection": {{wants: []peerWant{ours("calls", 0, "header-only files: nothing to count")}}},
	"kenn-io__agentsview/assistant-usage-with-cost": {{wants: []peerWant{
		eq("output", "peer_asserts.output_tokens"), eq("prompt", "peer_asserts.context_tokens (input+cacheRead+cacheWrite)"),
		eq("input", "peer_asserts.normalized_token_usage.input_tokens"),
		eq("cache_write", "peer_asserts.normalized_token_usage.cache_creation_input_tokens"),
		eq("cost", "own_count.agents/main/sessions/test-session.jsonl.raw_cost_total_sum_no_dedup"),
	}}},
	"kenn-io__agentsview/assistant-usage-without-cost": {{wants: []peerWant{
		eq("output", "peer_asserts.output_tokens"), eq("prompt", "peer_asserts.context_tokens"),
		// No recorded cost: priced from the table (claude-haiku-4-5:
		// 42×1 + 17×5 = 127 µ$).
		ours("cost", 0.000127, ""),
	}}},
	"kenn-io__agentsview/basic": {{wants: []peerWant{ours("tokens", 0, "")}}},
	"kenn-io__agentsview/compaction-entry": {{wants: []peerWant{
		ours("calls", 1, "the compaction entry is a summarisation call without usage"), ours("tokens", 0, ""),
	}}},
	"kenn-io__agentsview/header-only":                {{wants: []peerWant{ours("calls", 0, "")}}},
	"kenn-io__agentsview/no-usage":                   {{wants: []peerWant{ours("tokens", 0, ""), ours("cost", unknownCost, "")}}},
	"kenn-io__agentsview/orphan-tool-result":         {{wants: []peerWant{ours("tokens", 0, "")}}},
	"kenn-io__agentsview/partial-usage-output-only":  {{wants: []peerWant{eq("output", "peer_asserts.output_tokens"), ours("prompt", 0, "")}}},
	"kenn-io__agentsview/same-id-two-agents":         {{wants: []peerWant{ours("calls", 0, "")}}},
	"kenn-io__agentsview/thinking":                   {{wants: []peerWant{ours("tokens", 0, "")}}},
	"kenn-io__agentsview/tool-use-snake-case":        {{wants: []peerWant{eq("tool_calls", "peer_asserts.msgs[1].tool_calls")}}},
	"kenn-io__agentsview/toolcall-camel-case":        {{wants: []peerWant{ours("tool_calls", 1, whyNoToolCallID+" (msgs[3] read)")}}},
	"openclaw__openclaw/cost-flat-number-openrouter": {{wants: []peerWant{eq("tokens", "peer_asserts.totals.totalTokens"), eq("cost", "peer_asserts.totals.totalCost_approx")}}},
	"openclaw__openclaw/cost-daily-totals": {{wants: []peerWant{
		differs("tokens", "peer_asserts.totals.totalTokens", 60,
			"no implicit 30-day window (use --since): entry3 is counted"),
		differs("cost", "peer_asserts.totals.totalCost_approx", 0.04,
			"OpenClaw's config prices are not read and gpt-5.2 is not in the table: entry2 is unpriced, the total a lower bound (mixed, 1 unpriced)"),
		ours("unpriced", 1, ""),
	}}},
	"openclaw__openclaw/message-counts-tool-usage": {{wants: []peerWant{
		eq("calls", "peer_asserts.messageCounts.assistant"), eq("tool_calls", "peer_asserts.toolUsage.totalCalls"), ours("cost", 0.02, ""),
	}}},
	"openclaw__openclaw/non-main-agent": {{wants: []peerWant{eq("tokens", "peer_asserts.totalTokens"), eq("cost", "peer_asserts.totalCost_approx")}}},
	"openclaw__openclaw/timeseries-downsample": {{wants: []peerWant{
		eq("tokens", "peer_asserts.totalTokens"), eq("cost", "peer_asserts.totalCost_approx"),
		eq("input", "peer_asserts.input_sum"), eq("output", "peer_asserts.output_sum"),
	}}},

	"ryoppippi__ccusage/rs-cost-override": {
		{wants: []peerWant{eq("calls", "peer_asserts.entries"), eq("cost", "peer_asserts.logged_cost_usd")}},
		// ccusage's "calculate" mode with a per-token override is our
		// --reprice with a --pricing file (per million tokens).
		{mode: CostRepriced, pricing: `{"schema_version":1,"models":[{"id":"gpt-5.2","input":1,"output":2,"cache_read":0,"cache_write":0}]}`,
			wants: []peerWant{eq("cost", "peer_asserts.calculated_cost_with_override")}},
	},
	"ryoppippi__ccusage/rs-dedup-repeated-line": {{wants: []peerWant{eq("calls", "peer_asserts.entries")}}},
	"ryoppippi__ccusage/rs-model-change-usage": {{wants: []peerWant{
		eq("calls", "peer_asserts.entries"), eq("input", "peer_asserts.input_tokens"), eq("output", "peer_asserts.output_tokens"),
		eq("cache_read", "peer_asserts.cache_read_tokens"), eq("cache_write", "peer_asserts.cache_write_tokens"), eq("cost", "peer_asserts.cost"),
	}}},
	"ryoppippi__ccusage/rs-total-tokens-only": {{wants: []peerWant{
		differs("output", "peer_asserts.output_tokens", 0,
			"usage with only totalTokens has no split: the call is counted (unpriced), its tokens are not guessed; ccusage books them as output"),
		ours("calls", 1, ""), ours("unpriced", 1, ""),
	}}},
	"ryoppippi__ccusage/ts-archived-deleted-reset": {{wants: []peerWant{eq("calls", "peer_asserts.entries")}}},
	"ryoppippi__ccusage/ts-daily-rows": {{wants: []peerWant{
		eq("input", "peer_asserts.rows.0.inputTokens"), eq("output", "peer_asserts.rows.0.outputTokens"),
		eq("cache_write", "peer_asserts.rows.0.cacheCreationTokens"), eq("cache_read", "peer_asserts.rows.0.cacheReadTokens"),
		eq("tokens", "peer_asserts.rows.0.totalTokens"), eq("cost", "peer_asserts.rows.0.totalCost"),
	}}},
	"ryoppippi__ccusage/ts-ignores-user-and-missing-usage": {{wants: []peerWant{eq("calls", "peer_asserts.entries")}}},
	"ryoppippi__ccusage/ts-model-snapshot": {{wants: []peerWant{
		eq("calls", "peer_asserts.entries"), eq("tokens", "peer_asserts.tokenTotal"), ours("cost", unknownCost, whyModelFromMsg),
	}}},
}

// peerMetric returns one of our totals; cost is NaN when unknown.
func peerMetric(c *Counts, metric string) float64 {
	switch metric {
	case "calls":
		return float64(c.LLMCalls)
	case "tool_calls":
		return float64(c.ToolCalls)
	case "input":
		return float64(c.InputTokens)
	case "output":
		return float64(c.OutputTokens)
	case "cache_read":
		return float64(c.CacheReadTokens)
	case "cache_write":
		return float64(c.CacheWriteTokens)
	case "prompt":
		return float64(c.InputTokens + c.CacheReadTokens + c.CacheWriteTokens)
	case "tokens":
		return float64(c.Tokens())
	case "unpriced":
		return float64(c.UnpricedCalls)
	case "cost":
		if c.Cost == nil {
			return math.NaN()
		}
		return *c.Cost
	}
	panic("unknown metric " + metric)
}

// peerNumber finds a number in expected.json by a dotted path whose keys
// may themselves hold dots; a numeric part indexes an array.
func peerNumber(v any, path string) (float64, bool) {
	if path == "" {
		if f, ok := v.(float64); ok {
			return f, true
		}
		return 0, false
	}
	cut := func(i int) (string, string) {
		if i < 0 {
			return path, ""
		}
		return path[:i], path[i+1:]
	}
	switch x := v.(type) {
	case map[string]any:
		for i := 0; i <= len(path); i++ {
			if i < len(path) && path[i] != '.' {
				continue
			}
			j := i
			if i == len(path) {
				j = -1
			}
			k, rest := cut(j)
			if sub, ok := x[k]; ok {
				if f, ok := peerNumber(sub, rest); ok {
					return f, true
				}
			}
		}
	case []any:
		k, rest, _ := strings.Cut(path, ".")
		if i, err := strconv.Atoi(k); err == nil && i >= 0 && i < len(x) {
			return peerNumber(x[i], rest)
		}
	}
	return 0, false
}

func sameNumber(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

func TestPeerFixtures(t *testing.T) {
	if _, err := os.Stat(peerRoot); err != nil {
		t.Skipf("no peer fixtures at %s", peerRoot)
	}
	files, err := filepath.Glob(filepath.Join(peerRoot, "*", "*", "expected.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("no peer samples under %s", peerRoot)
	}
	seen := map[string]bool{}
	for _, f := range files {
		dir := filepath.Dir(f)
		name := filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(dir)), filepath.Base(dir)))
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			runs, ok := peerCases[name]
			if !ok {
				t.Fatalf("no expectations for peer sample %s: add it to peerCases", name)
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var expected any
			if err := json.Unmarshal(b, &expected); err != nil {
				t.Fatal(err)
			}
			sessions := loadCostSessions(t, []string{dir}, 0)
			for _, run := range runs {
				opt := Options{GroupBy: []Dimension{DimModel}, Mode: run.mode, Pricing: DefaultPricing()}
				if run.pricing != "" {
					o, err := LoadPricing(strings.NewReader(run.pricing), "peer.json")
					if err != nil {
						t.Fatal(err)
					}
					opt.Pricing = opt.Pricing.Override(o)
				}
				rep := costAggregate(t, sessions, opt, ReportOptions{})
				checkCostSums(t, name, rep)
				for _, w := range run.wants {
					got := peerMetric(&rep.Totals, w.metric)
					var peer float64
					if w.peer != "" {
						var ok bool
						if peer, ok = peerNumber(expected, w.peer); !ok {
							t.Errorf("%s: expected.json has no number at %s", w.metric, w.peer)
							continue
						}
					}
					want := peer
					if w.ours != nil {
						want = *w.ours
					}
					if !sameNumber(got, want) {
						t.Errorf("%s mode %s: %s = %v, want %v (peer %s = %v; %s)", name, run.mode, w.metric, got, want, w.peer, peer, w.why)
					}
				}
			}
		})
	}
	for name := range peerCases {
		if !seen[name] {
			t.Errorf("peer sample %s is gone: remove it from peerCases", name)
		}
	}
}
