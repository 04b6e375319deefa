package report

import (
	"fmt"
	"maps"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
)

// ---- comparison --------------------------------------------------------

// CheckStatus is the outcome of one check.
type CheckStatus uint8

const (
	CheckPass CheckStatus = iota
	CheckFail             // a threshold was crossed, or a baseline scenario is missing
	CheckWarn             // a scenario not in the baseline (not compared)
	CheckSkip             // the check could not be made (unknown cost)
	numCheckStatuses
)

var checkStatusNames = [numCheckStatuses]string{"pass", "fail", "warn", "skip"}

func (s CheckStatus) String() string {
	if s < numCheckStatuses {
		return checkStatusNames[s]
	}
	return "unknown"
}

// MarshalText makes the status a JSON string.
func (s CheckStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Check names, in the order results of one scenario are listed.
const (
	CheckScenario       = "scenario"       // presence in the baseline and in the inputs
	CheckCost           = "cost"           // cost_usd ≤ baseline + max_cost_increase
	CheckTokens         = "tokens"         // tokens.total ≤ baseline + max_tokens_increase
	CheckLLMCalls       = "llm_calls"      // ≤ baseline + max_calls_increase
	CheckToolCalls      = "tool_calls"     // ≤ baseline + max_calls_increase
	CheckDuration       = "duration"       // wall_duration_ms ≤ baseline + max_duration_increase
	CheckToolErrors     = "tool-error"     // fail_on: tool_errors ≤ baseline
	CheckProviderErrors = "provider-error" // fail_on: provider_errors ≤ baseline
	CheckRequireTool    = "require-tool"   // "require-tool NAME": tool_calls_by_name.NAME ≥ 1
	CheckForbidTool     = "forbid-tool"    // "forbid-tool NAME": tool_calls_by_name.NAME = 0
	CheckMinConfidence  = "min-confidence" // min_confidence ≥ threshold
)

// CheckResult is the outcome of one check of one scenario.
type CheckResult struct {
	Scenario string      `json:"scenario"`
	Check    string      `json:"check"` // a Check* name; require/forbid add " NAME"
	Status   CheckStatus `json:"status"`
	// Metric is the baseline-file name of the compared value
	// ("cost_usd", "tokens.total", "tool_calls_by_name.read").
	Metric string `json:"metric"`
	// Baseline and New are nil when the scenario or the value is absent or
	// unknown.
	Baseline *float64 `json:"baseline"`
	New      *float64 `json:"new"`
	// Change is the difference, in percent for a percentage threshold
	// ("+62.6%"), else in the metric's unit ("+3"); "" if not computable.
	Change    string `json:"change"`
	Threshold string `json:"threshold"` // "+10%", "+5", "≤ baseline", "≥ 1", "= 0", "≥ 0.5", "present"
	// Message names the scenario, the metric, both values and the threshold.
	Message string `json:"message"`
}

// CheckReport is the outcome of Compare: one result per scenario and check,
// sorted by scenario name, then in the order of the Check* constants
// (require and forbid by tool name).
type CheckReport struct {
	Results []CheckResult
	// BaselineScenarios and NewScenarios count the scenarios of each side.
	BaselineScenarios, InputScenarios int
	// NoOverlap is true when both sides have scenarios but none in common:
	// usually a different --scenarios map than the baseline was made with.
	NoOverlap bool
	// NoThresholds is true when no threshold was set: only missing
	// scenarios can fail.
	NoThresholds bool
	// UnmatchedThresholds are per-scenario threshold keys that match no
	// scenario of either side (a typo, or a glob whose * was meant to
	// cross the "/" of agent/session): their limits applied nowhere.
	UnmatchedThresholds []string
}

// Counts returns the number of results by status.
func (r *CheckReport) Counts() (pass, fail, warn, skip int) {
	for _, x := range r.Results {
		switch x.Status {
		case CheckPass:
			pass++
		case CheckFail:
			fail++
		case CheckWarn:
			warn++
		case CheckSkip:
			skip++
		}
	}
	return
}

// Failed reports whether any check failed.
func (r *CheckReport) Failed() bool {
	_, fail, _, _ := r.Counts()
	return fail > 0
}

// Compare checks current against base with the thresholds th (usually
// base.Thresholds overridden by command-line flags).
//
// Per scenario:
//   - in the baseline but not in current: one failing "scenario" result
//     (a task that no longer runs, or was renamed, must not pass silently);
//   - in current but not in the baseline: one warning "scenario" result;
//     its values are not compared, but the absolute checks (fail_on and
//     min_confidence against a baseline of 0 errors, require_tool,
//     forbid_tool) still apply;
//   - in both: a passing "scenario" result, then every check whose
//     threshold is set. A cost check with an unknown cost on either side is
//     skipped with a message saying so.
func Compare(base, current *Baseline, th Thresholds) *CheckReport {
	rep := &CheckReport{BaselineScenarios: len(base.Scenarios), InputScenarios: len(current.Scenarios), NoThresholds: th.IsZero()}
	names := slices.Sorted(maps.Keys(base.Scenarios))
	common := 0
	for _, n := range slices.Sorted(maps.Keys(current.Scenarios)) {
		if _, ok := base.Scenarios[n]; ok {
			common++
		} else {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	rep.NoOverlap = common == 0 && len(base.Scenarios) > 0 && len(current.Scenarios) > 0
	for _, k := range slices.Sorted(maps.Keys(th.Scenarios)) {
		if !slices.ContainsFunc(names, func(n string) bool { ok, _ := path.Match(k, n); return ok || k == n }) {
			rep.UnmatchedThresholds = append(rep.UnmatchedThresholds, k)
		}
	}
	for _, n := range names {
		b, inBase := base.Scenarios[n]
		c, inCur := current.Scenarios[n]
		t := th.For(n)
		switch {
		case inBase && !inCur:
			rep.Results = append(rep.Results, CheckResult{Scenario: n, Check: CheckScenario, Status: CheckFail,
				Metric: "runs", Baseline: checkF64(b.Runs), New: nil, Threshold: "present",
				Message: fmt.Sprintf("scenario %s: missing: runs %d → none; every baseline scenario must be in the inputs", n, b.Runs)})
		case !inBase && inCur:
			rep.Results = append(rep.Results, CheckResult{Scenario: n, Check: CheckScenario, Status: CheckWarn,
				Metric: "runs", Baseline: nil, New: checkF64(c.Runs), Threshold: "present",
				Message: fmt.Sprintf("scenario %s: new, not in the baseline: runs none → %d; values not compared (run clawtrace baseline to add it)", n, c.Runs)})
			rep.Results = append(rep.Results, checkAbsolute(n, ScenarioMetrics{}, c, t, true)...)
		default:
			rep.Results = append(rep.Results, CheckResult{Scenario: n, Check: CheckScenario, Status: CheckPass,
				Metric: "runs", Baseline: checkF64(b.Runs), New: checkF64(c.Runs), Threshold: "present",
				Message: fmt.Sprintf("scenario %s: present: runs %d → %d", n, b.Runs, c.Runs)})
			rep.Results = append(rep.Results, checkRelative(n, b, c, t)...)
			rep.Results = append(rep.Results, checkAbsolute(n, b, c, t, false)...)
		}
	}
	return rep
}

func checkF64[T int64 | float64](v T) *float64 { x := float64(v); return &x }

// fmtCheckValue formats a metric value: integers without decimals, costs
// rounded to 1e-10.
func fmtCheckValue(v *float64) string {
	if v == nil {
		return "none"
	}
	return strconv.FormatFloat(roundBaselineCost(*v), 'f', -1, 64)
}

func checkRelative(n string, b, c ScenarioMetrics, t Thresholds) []CheckResult {
	var out []CheckResult
	rel := func(check, metric string, lim *Limit, bv, cv *float64) {
		if lim == nil {
			return
		}
		r := CheckResult{Scenario: n, Check: check, Metric: metric, Baseline: bv, New: cv, Threshold: "+" + lim.String()}
		if bv == nil || cv == nil {
			side := "the baseline"
			if bv != nil {
				side = "the inputs"
			}
			r.Status = CheckSkip
			r.Message = fmt.Sprintf("scenario %s: %s %s → %s: unknown in %s, threshold %s skipped",
				n, metric, fmtCheckValue(bv), fmtCheckValue(cv), side, r.Threshold)
			out = append(out, r)
			return
		}
		r.Change = fmtCheckChange(*bv, *cv, lim.Percent)
		allowed := lim.allowed(*bv)
		if *cv > allowed+1e-9*math.Max(1, math.Abs(allowed)) {
			r.Status = CheckFail
			r.Message = fmt.Sprintf("scenario %s: %s %s → %s (%s) exceeds %s", n, metric, fmtCheckValue(bv), fmtCheckValue(cv), r.Change, r.Threshold)
		} else {
			r.Status = CheckPass
			r.Message = fmt.Sprintf("scenario %s: %s %s → %s (%s) within %s", n, metric, fmtCheckValue(bv), fmtCheckValue(cv), r.Change, r.Threshold)
		}
		out = append(out, r)
	}
	rel(CheckCost, "cost_usd", t.MaxCostIncrease, b.CostUSD, c.CostUSD)
	rel(CheckTokens, "tokens.total", t.MaxTokensIncrease, checkF64(b.Tokens.Total), checkF64(c.Tokens.Total))
	rel(CheckLLMCalls, "llm_calls", t.MaxCallsIncrease, checkF64(b.LLMCalls), checkF64(c.LLMCalls))
	rel(CheckToolCalls, "tool_calls", t.MaxCallsIncrease, checkF64(b.ToolCalls), checkF64(c.ToolCalls))
	rel(CheckDuration, "wall_duration_ms", t.MaxDurationIncrease, checkF64(b.WallDurationMS), checkF64(c.WallDurationMS))
	return out
}

// fmtCheckChange formats the change from b to c: in percent ("+62.6%", "from
// 0" when b is 0) or as a signed difference.
func fmtCheckChange(b, c float64, percent bool) string {
	if !percent {
		d := roundBaselineCost(c - b)
		s := strconv.FormatFloat(d, 'f', -1, 64)
		if d >= 0 {
			s = "+" + s
		}
		return s
	}
	if b == 0 {
		if c == 0 {
			return "+0%"
		}
		return "from 0"
	}
	s := strconv.FormatFloat((c-b)/math.Abs(b)*100, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		s = "0"
	}
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s + "%"
}

func checkAbsolute(n string, b, c ScenarioMetrics, t Thresholds, isNew bool) []CheckResult {
	var out []CheckResult
	baseOf := func(v int64) *float64 {
		if isNew {
			return nil
		}
		return checkF64(v)
	}
	for _, kind := range []struct {
		check, metric string
		b, c          int64
	}{
		{CheckToolErrors, "tool_errors", b.ToolErrors, c.ToolErrors},
		{CheckProviderErrors, "provider_errors", b.ProviderErrors, c.ProviderErrors},
	} {
		if !slices.Contains(t.FailOn, kind.check) {
			continue
		}
		r := CheckResult{Scenario: n, Check: kind.check, Metric: kind.metric, Baseline: baseOf(kind.b), New: checkF64(kind.c),
			Threshold: fmt.Sprintf("≤ %d", kind.b), Change: fmtCheckChange(float64(kind.b), float64(kind.c), false)}
		vals := fmt.Sprintf("%s %s → %d", kind.metric, fmtCheckValue(r.Baseline), kind.c)
		if kind.c > kind.b {
			r.Status = CheckFail
			r.Message = fmt.Sprintf("scenario %s: %s exceeds %s (fail-on %s: no more than the baseline)", n, vals, r.Threshold, kind.check)
		} else {
			r.Message = fmt.Sprintf("scenario %s: %s within %s (fail-on %s)", n, vals, r.Threshold, kind.check)
		}
		out = append(out, r)
	}
	for _, tool := range checkSortedUnique(t.RequireTool) {
		bv, cv := b.ToolCallsByName[tool], c.ToolCallsByName[tool]
		r := CheckResult{Scenario: n, Check: CheckRequireTool + " " + tool, Metric: "tool_calls_by_name." + tool,
			Baseline: baseOf(bv), New: checkF64(cv), Threshold: "≥ 1", Change: fmtCheckChange(float64(bv), float64(cv), false)}
		vals := fmt.Sprintf("%s %s → %d", r.Metric, fmtCheckValue(r.Baseline), cv)
		if cv < 1 {
			r.Status = CheckFail
			r.Message = fmt.Sprintf("scenario %s: %s: required tool %s was not called (threshold %s)", n, vals, tool, r.Threshold)
		} else {
			r.Message = fmt.Sprintf("scenario %s: %s: required tool %s was called (threshold %s)", n, vals, tool, r.Threshold)
		}
		out = append(out, r)
	}
	for _, tool := range checkSortedUnique(t.ForbidTool) {
		bv, cv := b.ToolCallsByName[tool], c.ToolCallsByName[tool]
		r := CheckResult{Scenario: n, Check: CheckForbidTool + " " + tool, Metric: "tool_calls_by_name." + tool,
			Baseline: baseOf(bv), New: checkF64(cv), Threshold: "= 0", Change: fmtCheckChange(float64(bv), float64(cv), false)}
		vals := fmt.Sprintf("%s %s → %d", r.Metric, fmtCheckValue(r.Baseline), cv)
		if cv > 0 {
			r.Status = CheckFail
			r.Message = fmt.Sprintf("scenario %s: %s: forbidden tool %s was called (threshold %s)", n, vals, tool, r.Threshold)
		} else {
			r.Message = fmt.Sprintf("scenario %s: %s: forbidden tool %s was not called (threshold %s)", n, vals, tool, r.Threshold)
		}
		out = append(out, r)
	}
	if t.MinConfidence != nil {
		min := *t.MinConfidence
		var bv *float64
		if !isNew {
			bv = checkF64(b.MinConfidence)
		}
		r := CheckResult{Scenario: n, Check: CheckMinConfidence, Metric: "min_confidence", Baseline: bv, New: checkF64(c.MinConfidence),
			Threshold: "≥ " + strconv.FormatFloat(min, 'f', -1, 64)}
		if bv != nil {
			r.Change = fmtCheckChange(*bv, c.MinConfidence, false)
		}
		vals := fmt.Sprintf("min_confidence %s → %s", fmtCheckValue(bv), fmtCheckValue(r.New))
		if c.MinConfidence < min {
			r.Status = CheckFail
			r.Message = fmt.Sprintf("scenario %s: %s is below %s", n, vals, r.Threshold)
		} else {
			r.Message = fmt.Sprintf("scenario %s: %s within %s", n, vals, r.Threshold)
		}
		out = append(out, r)
	}
	return out
}

func checkSortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// AllowMissing turns the failures of missing scenarios into warnings and
// appends reason to their messages. For inputs narrowed by a filter
// (agents, sessions, time range, shard), which may leave out baseline
// scenarios on purpose.
func (r *CheckReport) AllowMissing(reason string) {
	for i := range r.Results {
		x := &r.Results[i]
		if x.Check == CheckScenario && x.Status == CheckFail {
			x.Status = CheckWarn
			x.Message += " (not a failure: " + reason + ")"
		}
	}
}
