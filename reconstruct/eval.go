package reconstruct

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
)

// Truth is the ground-truth file format of the recorded corpus
// (fixtures/corpus/*/truth.json): what really happened at the provider.
type Truth struct {
	Scenario string     `json:"scenario"`
	Runs     []TruthRun `json:"runs"`
}

// TruthRun is one CLI run of a scenario.
type TruthRun struct {
	Label     string      `json:"label"`
	SessionID string      `json:"session_id"`
	Calls     []TruthCall `json:"llm_calls"`
	Tools     []TruthTool `json:"tool_calls"`
}

// TruthCall is one provider request.
type TruthCall struct {
	Global  int    `json:"global_index"`
	Status  int    `json:"status"`
	StartMs int64  `json:"start_ms"`
	EndMs   int64  `json:"end_ms"`
	Finish  string `json:"finish_reason"`
	Usage   struct {
		Input     int64 `json:"input"`
		Output    int64 `json:"output"`
		CacheRead int64 `json:"cacheRead"`
	} `json:"usage_openclaw_style"`
	run int
}

// TruthTool is one tool call.
type TruthTool struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	EmittedByGlobal  int    `json:"emitted_by_global"`
	ConsumedByGlobal *int   `json:"consumed_by_global"`
	ConsumedAttempts []int  `json:"consumed_by_attempts"`
	ExecStartMs      *int64 `json:"exec_start_ms"`
	ExecEndMs        *int64 `json:"exec_end_ms"`
}

// ReadTruth decodes a truth file.
func ReadTruth(r io.Reader) (*Truth, error) {
	var t Truth
	dec := json.NewDecoder(r)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("decoding truth: %w", err)
	}
	if len(t.Runs) == 0 {
		return nil, fmt.Errorf("truth has no runs")
	}
	return &t, nil
}

// EvalResult is the comparison of a reconstruction with a truth file.
type EvalResult struct {
	Scenario string `json:"scenario"`
	Hooks    bool   `json:"hooks"` // hook events were part of the input

	ChatSpans      int     `json:"chat_spans"`
	TruthCalls     int     `json:"truth_calls"`
	Revealable     int     `json:"revealable_calls"`
	Matched        int     `json:"matched"`
	LLMPrecision   float64 `json:"llm_precision"`
	LLMRecall      float64 `json:"llm_recall"`
	Containment    float64 `json:"containment"`
	OverhangMedian float64 `json:"overhang_median_ms"`
	OverhangP95    float64 `json:"overhang_p95_ms"`
	OverhangMax    float64 `json:"overhang_max_ms"`

	ToolSpans        int     `json:"tool_spans"`
	TruthTools       int     `json:"truth_tools"`
	ToolLinkAccuracy float64 `json:"tool_link_accuracy"`
	ToolWithinGap    float64 `json:"tool_within_gap"`
	// Exec-timed tools only (scenarios with exec truth).
	ToolExecContainment    *float64 `json:"tool_exec_containment,omitempty"`
	ToolExecOverhangMedian *float64 `json:"tool_exec_overhang_median_ms,omitempty"`

	ParentAccuracy float64 `json:"parent_accuracy"`
	ECE            float64 `json:"ece"`
	MeanConfidence float64 `json:"mean_confidence"`

	// Problems lists what was wrong, span by span (empty when all is right).
	Problems []string `json:"problems"`

	// Raw material for pooling several results (Pool).
	overhangs []float64
	execOver  []float64
	calib     []calibPoint
	counts    evalCounts
}

type calibPoint struct {
	conf float64
	ok   bool
}

type evalCounts struct {
	matched, revealHit, contained, pure, links, goodLinks, within, execIn, execN int
}

// Evaluate compares traces with the truth. sessions are the ingested
// sessions the traces came from; they define which provider requests the
// inputs can reveal (persisted in the transcript, or seen by a
// model_call_started/ended pair of the hooks).
//
// Definitions:
//   - Chat spans are matched one-to-one to truth calls, preferring equal
//     usage, then containment, then least overhang.
//   - Precision = matched chat spans / chat spans; recall = revealable truth
//     calls matched / revealable truth calls.
//   - Containment: span.start ≤ provider receive and span.end ≥ last byte.
//     Overhang = (receive − span.start) + (span.end − last byte), in ms.
//   - A tool link is right when the emitted_by link points at the span
//     matched to the emitting call, and consumed_by at the span matched to
//     the consuming call (any attempt that carried the result).
//   - A tool span is within its gap when it starts no earlier than the end
//     of the emitting call and ends no later than the start of the consuming
//     call.
//   - Parent accuracy: chat spans whose trace holds only calls of their own
//     truth run.
//   - ECE: 10 equal-width confidence bins over chat and tool spans; a chat
//     span is correct when matched and containing, a tool span when both of
//     its links are right and it lies within its gap.
func Evaluate(traces []Trace, sessions []*ingest.Session, truth *Truth) EvalResult {
	res := EvalResult{Scenario: truth.Scenario}
	var calls []*TruthCall
	byGlobal := map[int]*TruthCall{}
	for ri := range truth.Runs {
		for ci := range truth.Runs[ri].Calls {
			c := &truth.Runs[ri].Calls[ci]
			c.run = ri
			calls = append(calls, c)
			byGlobal[c.Global] = c
		}
	}
	res.TruthCalls = len(calls)
	var chat []*Span
	tools := map[string]*Span{}
	traceOf := map[*Span]int{}
	for ti := range traces {
		for si := range traces[ti].Spans {
			sp := &traces[ti].Spans[si]
			switch sp.Kind {
			case KindLLM, KindCompaction:
				chat = append(chat, sp)
				traceOf[sp] = ti
			case KindTool:
				tools[sp.ToolCallID] = sp
				res.ToolSpans++
			}
		}
	}
	res.ChatSpans = len(chat)
	for _, s := range sessions {
		for i := range s.Hooks {
			if s.Hooks[i].Kind == ingest.HookModelCallStarted {
				res.Hooks = true
			}
		}
	}
	revealable := revealableCalls(sessions, calls)
	res.Revealable = len(revealable)

	// One-to-one matching.
	type pair struct {
		sp       *Span
		c        *TruthCall
		usage    bool
		contains bool
		over     int64
	}
	var pairs []pair
	for _, sp := range chat {
		s, e := sp.Start.UnixMilli(), sp.End.UnixMilli()
		for _, c := range calls {
			if e < c.StartMs-2000 || s > c.EndMs+2000 {
				continue
			}
			p := pair{sp: sp, c: c, contains: s <= c.StartMs && e >= c.EndMs}
			p.usage = sp.Usage.Known && sp.Usage.Input == c.Usage.Input && sp.Usage.Output == c.Usage.Output && sp.Usage.CacheRead == c.Usage.CacheRead
			p.over = abs64(c.StartMs-s) + abs64(e-c.EndMs)
			pairs = append(pairs, p)
		}
	}
	slices.SortStableFunc(pairs, func(a, b pair) int {
		if a.usage != b.usage {
			return boolCmp(b.usage, a.usage)
		}
		if a.contains != b.contains {
			return boolCmp(b.contains, a.contains)
		}
		return int(a.over - b.over)
	})
	spanCall := map[*Span]*TruthCall{}
	callSpan := map[*TruthCall]*Span{}
	for _, p := range pairs {
		if spanCall[p.sp] != nil || callSpan[p.c] != nil {
			continue
		}
		spanCall[p.sp], callSpan[p.c] = p.c, p.sp
	}
	res.Matched = len(spanCall)
	res.LLMPrecision = ratio(len(spanCall), len(chat))
	hit := 0
	for _, c := range revealable {
		if callSpan[c] != nil {
			hit++
		} else {
			res.Problems = append(res.Problems, fmt.Sprintf("call %d (status %d, %d..%d) has no chat span", c.Global, c.Status, c.StartMs, c.EndMs))
		}
	}
	res.LLMRecall = ratio(hit, len(revealable))
	var overs []float64
	contained := 0
	correct := map[*Span]bool{}
	for _, sp := range chat {
		c := spanCall[sp]
		if c == nil {
			res.Problems = append(res.Problems, fmt.Sprintf("chat span %s (%s) matches no provider request", sp.ID, sp.Start.Format(time.RFC3339Nano)))
			continue
		}
		s, e := sp.Start.UnixMilli(), sp.End.UnixMilli()
		if s <= c.StartMs && e >= c.EndMs {
			contained++
			correct[sp] = true
		} else {
			res.Problems = append(res.Problems, fmt.Sprintf("chat span %s does not contain call %d: span %d..%d, provider %d..%d", sp.ID, c.Global, s, e, c.StartMs, c.EndMs))
		}
		overs = append(overs, float64(max(0, c.StartMs-s)+max(0, e-c.EndMs)))
	}
	res.Containment = ratio(contained, len(spanCall))
	res.OverhangMedian, res.OverhangP95, res.OverhangMax = quantile(overs, 0.5), quantile(overs, 0.95), quantile(overs, 1)
	res.overhangs = overs
	res.counts.matched, res.counts.revealHit, res.counts.contained = len(spanCall), hit, contained

	// Parent accuracy: trace purity.
	runsOfTrace := map[int]map[int]bool{}
	for sp, c := range spanCall {
		ti := traceOf[sp]
		if runsOfTrace[ti] == nil {
			runsOfTrace[ti] = map[int]bool{}
		}
		runsOfTrace[ti][c.run] = true
	}
	pure := 0
	for sp := range spanCall {
		if len(runsOfTrace[traceOf[sp]]) == 1 {
			pure++
		} else {
			correct[sp] = false
		}
	}
	res.ParentAccuracy = ratio(pure, len(spanCall))
	res.counts.pure = pure

	// Tools.
	links, goodLinks, within := 0, 0, 0
	var execOver []float64
	execIn, execN := 0, 0
	for ri := range truth.Runs {
		for _, tt := range truth.Runs[ri].Tools {
			res.TruthTools++
			sp := tools[tt.ID]
			if sp == nil {
				links += 2
				res.Problems = append(res.Problems, fmt.Sprintf("tool %s has no span", tt.ID))
				continue
			}
			ok := true
			links++
			em := callSpan[byGlobal[tt.EmittedByGlobal]]
			if l, has := sp.Link("emitted_by"); has && em != nil && l.Span == em.ID {
				goodLinks++
			} else {
				ok = false
				res.Problems = append(res.Problems, fmt.Sprintf("tool %s: emitted_by link wrong", tt.ID))
			}
			var consumer *TruthCall
			if tt.ConsumedByGlobal != nil {
				consumer = byGlobal[*tt.ConsumedByGlobal]
				links++
				l, has := sp.Link("consumed_by")
				good := false
				for _, g := range append([]int{*tt.ConsumedByGlobal}, tt.ConsumedAttempts...) {
					if cs := callSpan[byGlobal[g]]; has && cs != nil && l.Span == cs.ID {
						good = true
					}
				}
				if good {
					goodLinks++
				} else {
					ok = false
					res.Problems = append(res.Problems, fmt.Sprintf("tool %s: consumed_by link wrong", tt.ID))
				}
			}
			s, e := sp.Start.UnixMilli(), sp.End.UnixMilli()
			emitter := byGlobal[tt.EmittedByGlobal]
			in := emitter != nil && s >= emitter.EndMs && (consumer == nil || e <= consumer.StartMs) && e >= s
			if in {
				within++
			} else {
				ok = false
				res.Problems = append(res.Problems, fmt.Sprintf("tool %s span %d..%d outside its gap", tt.ID, s, e))
			}
			if tt.ExecStartMs != nil && tt.ExecEndMs != nil {
				execN++
				if s <= *tt.ExecStartMs && e >= *tt.ExecEndMs {
					execIn++
				}
				execOver = append(execOver, float64(max(0, *tt.ExecStartMs-s)+max(0, e-*tt.ExecEndMs)))
			}
			correct[sp] = ok
		}
	}
	res.ToolLinkAccuracy = ratio(goodLinks, links)
	res.counts.links, res.counts.goodLinks, res.counts.within = links, goodLinks, within
	res.counts.execIn, res.counts.execN, res.execOver = execIn, execN, execOver
	res.ToolWithinGap = ratio(within, res.TruthTools)
	if execN > 0 {
		c := ratio(execIn, execN)
		m := quantile(execOver, 0.5)
		res.ToolExecContainment, res.ToolExecOverhangMedian = &c, &m
	}

	// Calibration over chat and tool spans.
	for _, sp := range chat {
		res.calib = append(res.calib, calibPoint{sp.Confidence, correct[sp]})
	}
	for _, id := range sortedKeys(tools) {
		res.calib = append(res.calib, calibPoint{tools[id].Confidence, correct[tools[id]]})
	}
	res.ECE, res.MeanConfidence = ece(res.calib)
	slices.Sort(res.Problems)
	if res.Problems == nil {
		res.Problems = []string{}
	}
	return res
}

// ece is the expected calibration error over 10 equal-width bins, and the
// mean confidence.
func ece(points []calibPoint) (float64, float64) {
	var bins [10]struct {
		n, right int
		conf     float64
	}
	var sum float64
	for _, p := range points {
		i := min(int(p.conf*10), 9)
		bins[i].n++
		bins[i].conf += p.conf
		if p.ok {
			bins[i].right++
		}
		sum += p.conf
	}
	var e float64
	for _, b := range bins {
		if b.n > 0 {
			e += float64(b.n) / float64(len(points)) * math.Abs(float64(b.right)/float64(b.n)-b.conf/float64(b.n))
		}
	}
	return round4(e), round4(sum / math.Max(1, float64(len(points))))
}

// Pool combines per-scenario results into one, as if all scenarios were
// one corpus: ratios over the summed counts, quantiles over all overhangs,
// calibration over all spans.
func Pool(name string, rs []EvalResult) EvalResult {
	p := EvalResult{Scenario: name, Problems: []string{}}
	var c evalCounts
	for _, r := range rs {
		p.Hooks = p.Hooks || r.Hooks
		p.ChatSpans += r.ChatSpans
		p.TruthCalls += r.TruthCalls
		p.Revealable += r.Revealable
		p.Matched += r.Matched
		p.ToolSpans += r.ToolSpans
		p.TruthTools += r.TruthTools
		p.overhangs = append(p.overhangs, r.overhangs...)
		p.execOver = append(p.execOver, r.execOver...)
		p.calib = append(p.calib, r.calib...)
		c.matched += r.counts.matched
		c.revealHit += r.counts.revealHit
		c.contained += r.counts.contained
		c.pure += r.counts.pure
		c.links += r.counts.links
		c.goodLinks += r.counts.goodLinks
		c.within += r.counts.within
		c.execIn += r.counts.execIn
		c.execN += r.counts.execN
		for _, pr := range r.Problems {
			p.Problems = append(p.Problems, r.Scenario+": "+pr)
		}
	}
	p.counts = c
	p.LLMPrecision = ratio(c.matched, p.ChatSpans)
	p.LLMRecall = ratio(c.revealHit, p.Revealable)
	p.Containment = ratio(c.contained, c.matched)
	p.OverhangMedian, p.OverhangP95, p.OverhangMax = quantile(p.overhangs, 0.5), quantile(p.overhangs, 0.95), quantile(p.overhangs, 1)
	p.ToolLinkAccuracy = ratio(c.goodLinks, c.links)
	p.ToolWithinGap = ratio(c.within, p.TruthTools)
	p.ParentAccuracy = ratio(c.pure, c.matched)
	if c.execN > 0 {
		x := ratio(c.execIn, c.execN)
		m := quantile(p.execOver, 0.5)
		p.ToolExecContainment, p.ToolExecOverhangMedian = &x, &m
	}
	p.ECE, p.MeanConfidence = ece(p.calib)
	return p
}

// revealableCalls returns the truth calls that the inputs can reveal: each
// persisted assistant call (merged fragments) and each hook model-call pair
// reveals at most one provider request, the one it contains (the successful
// one when it contains several, as a 2026.7 SDK retry does).
func revealableCalls(sessions []*ingest.Session, calls []*TruthCall) []*TruthCall {
	type iv struct{ s, e int64 }
	var ivs []iv
	for _, s := range sessions {
		seen := map[string]bool{}
		for i := range s.Entries {
			e := &s.Entries[i]
			if e.Msg == nil || e.Msg.Role != ingest.RoleAssistant {
				continue
			}
			k := e.Msg.ResponseID
			if k == "" {
				k = e.Msg.TurnID
			}
			if k != "" && seen[k] {
				continue
			}
			seen[k] = true
			ivs = append(ivs, iv{e.Msg.Time.UnixMilli() - 50, e.Time.UnixMilli() + 50})
		}
		starts := map[string]int64{}
		for i := range s.Hooks {
			h := &s.Hooks[i]
			switch h.Kind {
			case ingest.HookModelCallStarted:
				starts[h.RunID+"\x00"+h.CallID] = h.Time.UnixMilli()
			case ingest.HookModelCallEnded:
				if st, ok := starts[h.RunID+"\x00"+h.CallID]; ok {
					ivs = append(ivs, iv{st - 50, h.Time.UnixMilli() + 50})
					delete(starts, h.RunID+"\x00"+h.CallID)
				}
			}
		}
	}
	got := map[*TruthCall]bool{}
	for _, v := range ivs {
		var in []*TruthCall
		for _, c := range calls {
			if c.StartMs >= v.s && c.EndMs <= v.e {
				in = append(in, c)
			}
		}
		if len(in) == 0 {
			continue
		}
		pick := in[len(in)-1]
		for _, c := range in {
			if c.Status == 200 {
				pick = c
			}
		}
		got[pick] = true
	}
	var out []*TruthCall
	for _, c := range calls {
		if got[c] {
			out = append(out, c)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return round4(float64(a) / float64(b))
}

func round4(f float64) float64 { return math.Round(f*10000) / 10000 }

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
