package reconstruct

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
)

// Resolver answers cross-session questions from the sessions index.
type Resolver interface {
	// SessionByKey returns the agent and current session id of a key.
	SessionByKey(key string) (agentID, sessionID string, ok bool)
}

// Options configure reconstruction.
type Options struct {
	Resolver Resolver // may be nil
}

// Confidence values by method. docs/reconstruction.md lists them; change
// both together.
const (
	confHookExact        = 0.99
	confHookOnly         = 0.97
	confTrajectory       = 0.97
	confTranscriptStart  = 0.97
	confTranscriptEnd    = 0.97
	confToolStartEmitter = 0.97
	confToolEndSingle    = 0.97
	confToolEndGroup     = 0.95
	confRunID            = 0.99
	confSegment          = 0.97
	confIDExact          = 1.0
	confNextCall         = 0.97
	confInferredCall     = 0.7
	confInferredLink     = 0.9
	confOrphanHook       = 0.9
	confNoResult         = 0.5
	confRunnerUp         = 0.8
	confCompactionStart  = 0.9
	confUsageRecorded    = 1.0
	confAttemptSum       = 0.9
	confRunBounds        = 0.97
	confSkew             = 0.85
	confModelChange      = 0.9
	confCompactionWindow = 0.9
)

// hookWindow is how far a model_call_started may be from an assistant
// message.timestamp and still be the same call. Measured: 0..9 ms.
const hookWindow = 250 * time.Millisecond

type hookCall struct {
	runID, callID  string
	started, ended *ingest.HookEvent
	used           bool
	trace          TraceID
	span           SpanID
}

func (h *hookCall) start() time.Time { return h.started.Time }

// end returns the end and whether it is known.
func (h *hookCall) end() (time.Time, bool) {
	if h.ended != nil {
		return h.ended.Time, true
	}
	return h.started.Time, false
}

type llmCall struct {
	entries  []*ingest.Entry // fragments of one response, in order
	pos      int             // index of the first fragment in the session
	lastPos  int
	run      *run
	msg      ingest.Message // merged view
	hook     *hookCall
	runnerUp *hookCall
	lateJoin bool // joined by the second pass, outside hookWindow
	span     SpanID
	offPath  bool
	// modelFromChange: the model was taken from the latest model_change.
	modelFromChange bool
}

type toolCall struct {
	id, name    string
	emitter     *llmCall
	emitterHook *hookCall // orphan result whose emitting call only the hooks saw
	inferred    *Span     // orphan result: the emitting call, inferred
	result      *ingest.Entry
	resultPos   int
	consumer    *llmCall
	orphan      bool
	before      *ingest.HookEvent
	after       *ingest.HookEvent
	trajCall    *ingest.HookEvent
	trajRes     *ingest.HookEvent
	argsText    string
	run         *run
	// occ numbers the tool calls that reuse one id in the session (some
	// providers number ids per response: call_0, call_1, …); 0 for the first.
	occ int
}

type run struct {
	runID     string
	viaRunID  bool // boundaries from run ids rather than user-message segmentation
	user      *ingest.Entry
	calls     []*llmCall
	hookCalls []*hookCall // unmatched hook calls of this run
	comps     []*ingest.Entry
	synthetic []*ingest.Entry // assistant messages without a provider call
	terminal  bool            // the last assistant message ended the turn
	failed    bool            // the last assistant message is a failed call
	tools     []*toolCall     // the run's tool calls, in b.tools order
	trace     TraceID
	key       string
	ordinal   int
	firstPos  int
	entries   []*ingest.Entry
}

type builder struct {
	arena    arena
	usedTraj map[*ingest.HookEvent]bool // trajectory errors given to a failed attempt
	s        *ingest.Session
	opt      Options
	onPath   map[string]bool
	runs     []*run
	calls    []*llmCall
	tools    []*toolCall
	toolsBy  map[string]*toolCall
	hcalls   []*hookCall
	skew     time.Duration
	// hook events by tool call id
	before, after, trajCall, trajRes map[string]*ingest.HookEvent
	agentEnd                         map[string]*ingest.HookEvent
	runHookStart                     map[string]time.Time
	compactionHooks                  []time.Time
	prevOf                           map[*ingest.Entry]*ingest.Entry
}

// Session rebuilds the traces of one session: one Trace per agent run, in
// run order. It reads only s, so memory is bounded by the session.
//
// The passes run in this order, each relying on the ones before it:
//  1. activePath: mark entries on the active branch of the parentId tree.
//  2. segmentRuns: split entries into runs (run ids, else user messages) and
//     merge fragments of one response into one LLM call.
//  3. linkTools: toolCall blocks ↔ toolResult entries by id; consumer =
//     the next LLM call after the result.
//  4. pairHooks: model_call_started/ended pairs; tool hooks by id.
//  5. joinHooks: transcript LLM calls ↔ hook calls by run id and start
//     time (correcting a constant clock skew if needed); hook calls left
//     over become failed attempts, compaction calls or unpersisted calls.
//  6. emit: spans with times, evidence and confidence; ids from hashes.
func Session(s *ingest.Session, opt Options) []Trace {
	b := &builder{s: s, opt: opt, toolsBy: map[string]*toolCall{}}
	b.activePath()
	b.segmentRuns()
	b.linkTools()
	b.pairHooks()
	b.joinHooks()
	return b.emit()
}

// activePath marks the entries on the path from the leaf to the root. The
// leaf is the last non-side entry, or the target of the last leaf record.
// runTimeFallback bounds a run that neither its calls, its user message,
// its hooks nor its first entry date — the first entry's timestamp is
// missing or unparseable: by the other entries' timestamps, else their
// message times, else the session header. A run span without a time would
// be exported at year 1.
func (b *builder) runTimeFallback(r *run, widen func(a, z time.Time)) {
	for _, pass := range []func(e *ingest.Entry) time.Time{
		func(e *ingest.Entry) time.Time { return e.Time },
		func(e *ingest.Entry) time.Time {
			if e.Msg != nil {
				return e.Msg.Time
			}
			return time.Time{}
		},
	} {
		found := false
		for _, e := range r.entries {
			if t := pass(e); !t.IsZero() {
				widen(t, t)
				found = true
			}
		}
		if found {
			return
		}
	}
	if h := b.s.Header; h != nil {
		widen(h.Time, h.Time)
	}
}

func (b *builder) activePath() {
	parent := make(map[string]string, len(b.s.Entries))
	leaf := ""
	for i := range b.s.Entries {
		e := &b.s.Entries[i]
		if e.Kind == ingest.EntryHeader || e.ID == "" {
			continue
		}
		if e.Kind == ingest.EntryLeaf {
			if e.TargetID != "" {
				leaf = e.TargetID
			}
			continue
		}
		parent[e.ID] = e.ParentID
		if !e.Side {
			leaf = e.ID
		}
	}
	b.onPath = make(map[string]bool, len(parent))
	for id := leaf; id != "" && !b.onPath[id]; id = parent[id] {
		b.onPath[id] = true
	}
}

func (b *builder) isOffPath(e *ingest.Entry) bool {
	if e.ID == "" || len(b.onPath) == 0 {
		return false
	}
	// Side appends hang off the path without moving the leaf.
	if e.Side {
		return false
	}
	return !b.onPath[e.ID]
}

// segmentRuns splits the session into runs. 2026.9 transcripts carry run
// ids (assistant/toolResult __openclaw.runId, user idempotencyKey
// "<runId>:user"): a change of run id starts a run. Without them a user
// message starts a run (order.segment).
func (b *builder) segmentRuns() {
	var cur *run
	var pending []*ingest.Entry
	frag := map[string]*llmCall{}
	b.prevOf = map[*ingest.Entry]*ingest.Entry{}
	newRun := func(rid string, pos int) *run {
		r := &run{runID: rid, viaRunID: rid != "", firstPos: pos}
		b.runs = append(b.runs, r)
		// A compaction that ran before this run's first call (pre-inference
		// compaction) was appended before its user message.
		r.entries, r.comps = append(r.entries, pending...), append(r.comps, pending...)
		pending = nil
		return r
	}
	var prev *ingest.Entry
	var model, provider string // from the latest model_change
	byID := map[string]*run{}
	for i := range b.s.Entries {
		e := &b.s.Entries[i]
		if e.Kind == ingest.EntryHeader {
			continue
		}
		if e.Kind == ingest.EntryModelChange && e.ModelID != "" {
			model, provider = e.ModelID, e.Provider
		}
		rid := e.RunID
		if e.Msg != nil {
			rid = e.Msg.RunID
		}
		switch {
		case e.Msg != nil && e.Msg.Role == ingest.RoleUser:
			cur = newRun("", i)
			cur.user = e
		case e.Msg != nil && (e.Msg.Role == ingest.RoleAssistant || e.Msg.Role == ingest.RoleToolResult),
			e.Kind == ingest.EntryCompaction:
			switch {
			case cur == nil:
				cur = newRun(rid, i)
			case rid == "" && cur.runID == "" && cur.terminal && !cur.failed && e.Msg != nil && e.Msg.Role == ingest.RoleAssistant:
				// Without run ids: an LLM call after a call that ended the
				// turn, with no user message between, is a new run (an
				// announce run, or a run whose prompt was never persisted).
				// After a failed call it is the same run's retry or model
				// fallback (2026.7 persists the failed attempt).
				cur = newRun("", i)
			case rid == "" || cur.runID == rid:
			case byID[rid] != nil && len(cur.calls) == 0 && byID[rid] != cur:
				// A user message in the middle of a run (steering or a
				// queued message): it belongs to the run that goes on.
				r := byID[rid]
				r.entries = append(r.entries, cur.entries...)
				b.runs = slices.DeleteFunc(b.runs, func(x *run) bool { return x == cur })
				cur = r
			case cur.runID == "":
				cur.runID, cur.viaRunID = rid, true
			default:
				cur = newRun(rid, i)
			}
			if rid != "" && byID[rid] == nil {
				byID[rid] = cur
			}
		}
		if prev != nil {
			b.prevOf[e] = prev
		}
		if e.Kind == ingest.EntryCompaction && rid == "" && cur != nil && len(cur.calls) > 0 && prev != nil &&
			e.Time.Sub(prev.Time) > 2*time.Second {
			// Long after the run's last entry and without a run id: the
			// compaction before the next run.
			pending = append(pending, e)
			prev = e
			continue
		}
		if cur == nil {
			prev = e
			continue // session preamble: model_change, custom entries
		}
		cur.entries = append(cur.entries, e)
		prev = e
		switch {
		case e.Kind == ingest.EntryCompaction:
			cur.comps = append(cur.comps, e)
		case e.Msg != nil && e.Msg.Role == ingest.RoleAssistant:
			key := e.Msg.ResponseID
			if key == "" {
				key = e.Msg.TurnID
			}
			if c := frag[key]; key != "" && c != nil && c.run == cur {
				c.entries = append(c.entries, e)
				c.lastPos = i
				mergeFragment(&c.msg, e.Msg)
				continue
			}
			cur.terminal = endsTurn(e.Msg)
			cur.failed = e.Msg.StopReason == "error"
			if ingest.IsSynthetic(e.Msg) {
				cur.synthetic = append(cur.synthetic, e)
				continue
			}
			c := &llmCall{entries: []*ingest.Entry{e}, pos: i, lastPos: i, run: cur, msg: *e.Msg, offPath: b.isOffPath(e)}
			if c.msg.Model == "" && model != "" {
				// Older writers leave the model off the message; the session's
				// latest model_change names it.
				c.msg.Model, c.modelFromChange = model, true
				if c.msg.Provider == "" {
					c.msg.Provider = provider
				}
			}
			if key != "" {
				frag[key] = c
			}
			cur.calls = append(cur.calls, c)
			b.calls = append(b.calls, c)
		}
	}
	if len(pending) > 0 {
		// A compaction with no run after it: a run of its own (its prompt
		// was rejected before any call, as in a context-overflow precheck).
		newRun("", len(b.s.Entries))
	}
}

// endsTurn reports whether an assistant message finished its run's turn:
// a final stop reason, no tool calls, and not endTurn:false.
func endsTurn(m *ingest.Message) bool {
	if m.EndTurn != nil && !*m.EndTurn {
		return false
	}
	for _, b := range m.Blocks {
		if b.Kind == ingest.BlockToolCall {
			return false
		}
	}
	switch m.StopReason {
	case "stop", "length", "error", "aborted", "end_turn", "":
		return true
	}
	return false
}

// mergeFragment folds a later fragment of one provider response into the
// merged message: content is appended; usage, stop reason and errors come
// from the fragment that has them (the last one carries the real usage).
func mergeFragment(dst *ingest.Message, m *ingest.Message) {
	dst.Blocks = append(slices.Clip(dst.Blocks), m.Blocks...)
	dst.ContentSize += m.ContentSize
	if m.Usage.Known {
		dst.Usage = m.Usage
	}
	if m.StopReason != "" {
		dst.StopReason = m.StopReason
	}
	if m.ErrorMessage != "" {
		dst.ErrorMessage = m.ErrorMessage
	}
	if m.ResponseModel != "" {
		dst.ResponseModel = m.ResponseModel
	}
}

// linkTools pairs toolCall blocks with toolResult entries by id and finds
// the LLM call that consumed each result: the first LLM call after it.
func (b *builder) linkTools() {
	for _, c := range b.calls {
		n := 0
		for _, bl := range c.msg.Blocks {
			if bl.Kind != ingest.BlockToolCall {
				continue
			}
			id := bl.ToolCallID
			if id == "" {
				// No id (old or foreign writers): a synthetic one; no result
				// can link to it.
				id = c.entries[0].ID + "#tool" + strconv.Itoa(n+1)
			}
			prev := b.toolsBy[id]
			if prev != nil && prev.emitter == c {
				continue // replayed block in a later fragment of the same call
			}
			t := &toolCall{id: id, name: bl.ToolName, emitter: c, argsText: bl.Text, run: c.run}
			if prev != nil {
				t.occ = prev.occ + 1 // another call reusing the id
			}
			b.toolsBy[t.id] = t
			b.tools = append(b.tools, t)
			n++
		}
	}
	for i := range b.s.Entries {
		e := &b.s.Entries[i]
		if e.Msg == nil || e.Msg.Role != ingest.RoleToolResult || e.Msg.ToolCallID == "" {
			continue
		}
		t, again := b.resultTarget(e.Msg.ToolCallID, i)
		if again {
			continue // a second result for one call
		}
		if t == nil {
			// Orphan result: its toolCall was never persisted (2026.7
			// drops the assistant message of an unknown tool). Its emitter
			// is a provider call that only the hooks saw, or one inferred
			// from the result itself (emit).
			t = &toolCall{id: e.Msg.ToolCallID, name: e.Msg.ToolName, orphan: true}
			for _, r := range b.runs {
				if slices.Contains(r.entries, e) {
					t.run = r
				}
			}
			if t.run == nil {
				continue
			}
			if prev := b.toolsBy[t.id]; prev != nil {
				t.occ = prev.occ + 1
			}
			b.toolsBy[t.id] = t
			b.tools = append(b.tools, t)
		}
		if t.result != nil {
			continue
		}
		t.result, t.resultPos = e, i
		if t.name == "" {
			t.name = e.Msg.ToolName
		}
		// b.calls is in entry order: the first call after the result.
		if k, _ := slices.BinarySearchFunc(b.calls, i, func(c *llmCall, pos int) int { return c.pos - pos }); k < len(b.calls) {
			if b.calls[k].pos == i {
				k++
			}
			if k < len(b.calls) {
				t.consumer = b.calls[k]
			}
		}
	}
}

// resultTarget returns the tool call a result at entry pos answers: of the
// calls with its id emitted before it, the latest still without a result
// (ids are unique per session for most providers; some reuse them per
// response). Nil when there is none: an orphan result; again when the id
// belongs to a single call that already has its result.
func (b *builder) resultTarget(id string, pos int) (t *toolCall, again bool) {
	last := b.toolsBy[id]
	if last == nil {
		return nil, false
	}
	if last.occ == 0 {
		return last, last.result != nil
	}
	// The latest call before the result still waiting for that id: an
	// earlier one left without a result (an aborted run) must not take it.
	var best *toolCall
	for _, t := range b.tools {
		if t.id == id && t.result == nil && t.emitter != nil && t.emitter.pos < pos && (best == nil || t.emitter.pos > best.emitter.pos) {
			best = t
		}
	}
	return best, best == nil
}

// pairHooks pairs model_call_started with model_call_ended (same run id
// and call id, the latest open start) and indexes tool hooks by id.
func (b *builder) pairHooks() {
	b.before, b.after = map[string]*ingest.HookEvent{}, map[string]*ingest.HookEvent{}
	b.trajCall, b.trajRes = map[string]*ingest.HookEvent{}, map[string]*ingest.HookEvent{}
	b.agentEnd = map[string]*ingest.HookEvent{}
	b.runHookStart = map[string]time.Time{}
	open := map[string]*hookCall{}
	// N.B. s.Hooks is ordered by time, so hcalls is sorted by start (join
	// relies on it).
	for i := range b.s.Hooks {
		ev := &b.s.Hooks[i]
		if ev.RunID != "" {
			if t, ok := b.runHookStart[ev.RunID]; !ok || ev.Time.Before(t) {
				if ev.Kind == ingest.HookLLMInput || ev.Kind == ingest.HookModelCallStarted {
					b.runHookStart[ev.RunID] = ev.Time
				}
			}
		}
		switch ev.Kind {
		case ingest.HookModelCallStarted:
			h := &hookCall{runID: ev.RunID, callID: ev.CallID, started: ev}
			open[ev.RunID+"\x00"+ev.CallID] = h
			b.hcalls = append(b.hcalls, h)
		case ingest.HookModelCallEnded:
			if h := open[ev.RunID+"\x00"+ev.CallID]; h != nil && h.ended == nil {
				h.ended = ev
				delete(open, ev.RunID+"\x00"+ev.CallID)
			}
		case ingest.HookBeforeToolCall:
			if _, ok := b.before[ev.ToolCallID]; !ok && ev.ToolCallID != "" {
				b.before[ev.ToolCallID] = ev
			}
		case ingest.HookAfterToolCall:
			if ev.ToolCallID != "" {
				b.after[ev.ToolCallID] = ev
			}
		case ingest.HookAgentEnd:
			b.agentEnd[ev.RunID] = ev
		case ingest.HookBeforeCompaction, ingest.HookAfterCompaction:
			b.compactionHooks = append(b.compactionHooks, ev.Time)
		}
	}
	for i := range b.s.Trajectory {
		ev := &b.s.Trajectory[i]
		switch ev.Kind {
		case ingest.TrajToolCall:
			if _, ok := b.trajCall[ev.ToolCallID]; !ok && ev.ToolCallID != "" {
				b.trajCall[ev.ToolCallID] = ev
			}
		case ingest.TrajToolResult:
			if ev.ToolCallID != "" {
				b.trajRes[ev.ToolCallID] = ev
			}
		}
	}
	reused := map[string]bool{}
	for _, t := range b.tools {
		if t.occ > 0 {
			reused[t.id] = true
		}
	}
	for _, t := range b.tools {
		if reused[t.id] {
			// Several calls share the id: the k-th call gets the k-th of
			// each event, when the counts agree; else none (not guessed).
			t.before, t.after = b.nthHook(t, ingest.HookBeforeToolCall), b.nthHook(t, ingest.HookAfterToolCall)
			continue
		}
		t.before, t.after = b.before[t.id], b.after[t.id]
		t.trajCall, t.trajRes = b.trajCall[t.id], b.trajRes[t.id]
	}
}

// nthHook returns the t.occ-th hook event of kind for t's id when there
// are as many of them as tool calls with that id.
func (b *builder) nthHook(t *toolCall, kind ingest.HookKind) *ingest.HookEvent {
	var evs []*ingest.HookEvent
	for i := range b.s.Hooks {
		if ev := &b.s.Hooks[i]; ev.Kind == kind && ev.ToolCallID == t.id {
			evs = append(evs, ev)
		}
	}
	n := 0
	for _, o := range b.tools {
		if o.id == t.id {
			n++
		}
	}
	if len(evs) != n {
		return nil
	}
	return evs[t.occ]
}

// joinHooks matches each transcript LLM call to the model_call_started
// that fired at its message.timestamp (same instant in the recordings,
// 0..9 ms), within the same run id when both are known. If fewer than half
// of the calls find a partner, a constant clock offset is estimated from
// calls paired by order and the join is retried with it.
func (b *builder) joinHooks() {
	if len(b.hcalls) == 0 || len(b.calls) == 0 {
		return
	}
	if n0 := b.join(0); n0 < (len(b.calls)+1)/2 {
		// Few calls found their hook: the clocks may differ, or the dump
		// may cover only part of the session (older files rotated away, or
		// the recorder started late). Try the offsets that align the calls
		// with the hook calls from the start and from the end, and keep
		// the one that joins the most calls — if it beats no offset.
		reset := func() {
			for _, h := range b.hcalls {
				h.used = false
			}
			for _, c := range b.calls {
				c.hook, c.runnerUp = nil, nil
			}
		}
		best, bestN := time.Duration(0), n0
		for _, fromEnd := range []bool{false, true} {
			off, ok := b.estimateSkew(fromEnd)
			if !ok || off == 0 {
				continue
			}
			reset()
			if n := b.join(off); n > bestN || n == bestN && best != 0 && absDur(off) < absDur(best) {
				best, bestN = off, n
			}
		}
		reset()
		b.skew = best
		b.join(best)
	}
	b.lateJoin()
	// Runs of 2026.7 transcripts learn their run id from the hooks.
	for _, r := range b.runs {
		if r.runID != "" {
			continue
		}
		for _, c := range r.calls {
			if c.hook != nil && c.hook.runID != "" {
				r.runID = c.hook.runID
				break
			}
		}
	}
}

// lateJoin gives a transcript call left without a hook the nearest hook
// call left without a transcript call of the same run id, up to
// lateJoinWindow away: the two timestamps were taken further apart than
// usual (a slow clock read, a stalled process), and without this the hook
// call would become a second, phantom call of its own. Both run ids must be
// known and equal; the join is recorded with a lower confidence.
func (b *builder) lateJoin() {
	for _, c := range b.calls {
		if c.hook != nil || c.msg.Time.IsZero() || c.run.runID == "" {
			continue
		}
		t := c.msg.Time.Add(-b.skew)
		var best *hookCall
		var bestD time.Duration
		for _, h := range b.hcalls {
			if h.used || h.runID != c.run.runID || h.ended == nil || h.ended.Outcome == "error" {
				continue
			}
			if d := absDur(h.start().Sub(t)); d <= lateJoinWindow && (best == nil || d < bestD) {
				best, bestD = h, d
			}
		}
		if best != nil {
			best.used, c.hook, c.lateJoin = true, best, true
		}
	}
}

// lateJoinWindow bounds lateJoin.
const lateJoinWindow = 2 * time.Second

func (b *builder) join(off time.Duration) int {
	n := 0
	for _, c := range b.calls {
		t := c.msg.Time.Add(-off)
		if c.msg.Time.IsZero() {
			continue
		}
		var best, second *hookCall
		var bestD, secondD time.Duration
		// hcalls are in firing order: only the window around t is looked at.
		lo, _ := slices.BinarySearchFunc(b.hcalls, t.Add(-hookWindow), func(h *hookCall, x time.Time) int { return h.start().Compare(x) })
		for _, h := range b.hcalls[lo:] {
			if h.start().After(t.Add(hookWindow)) {
				break
			}
			if h.used {
				continue
			}
			if c.run.runID != "" && h.runID != "" && c.run.runID != h.runID {
				continue
			}
			d := h.start().Sub(t)
			if d < 0 {
				d = -d
			}
			if d > hookWindow {
				continue
			}
			switch {
			case best == nil || d < bestD:
				second, secondD = best, bestD
				best, bestD = h, d
			case second == nil || d < secondD:
				second, secondD = h, d
			}
		}
		if best == nil {
			continue
		}
		best.used = true
		c.hook = best
		if second != nil && secondD-bestD < 20*time.Millisecond {
			c.runnerUp = second
		}
		n++
	}
	return n
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// estimateSkew pairs transcript calls and successful hook calls by their
// order — from the first ones, or from the last ones — and returns the
// median offset msg.timestamp − model_call_started.
func (b *builder) estimateSkew(fromEnd bool) (time.Duration, bool) {
	var hs []*hookCall
	for _, h := range b.hcalls {
		if h.ended == nil || h.ended.Outcome == "error" {
			continue
		}
		hs = append(hs, h)
	}
	n := min(len(hs), len(b.calls))
	if n == 0 {
		return 0, false
	}
	d := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		c, h := b.calls[i], hs[i]
		if fromEnd {
			c, h = b.calls[len(b.calls)-n+i], hs[len(hs)-n+i]
		}
		d = append(d, c.msg.Time.Sub(h.start()))
	}
	slices.Sort(d)
	return d[len(d)/2], true
}

func (b *builder) hookTime(t time.Time) time.Time { return t.Add(b.skew) }

// arena hands out the small slices of a session's evidence (sources and
// evidence lists) from a few large blocks instead of one allocation each:
// they are most of the matcher's allocations.
type arena struct {
	srcs []ingest.Source
	evs  []Evidence
}

// sources returns the sources of xs with a file, in a slice of exactly that
// length and capacity (never nil).
func (a *arena) sources(xs []ingest.Source) []ingest.Source {
	n := 0
	for _, x := range xs {
		if x.File != "" {
			n++
		}
	}
	if a == nil {
		a = &arena{}
	}
	if cap(a.srcs)-len(a.srcs) < n || a.srcs == nil {
		a.srcs = make([]ingest.Source, 0, max(256, n))
	}
	out := a.srcs[len(a.srcs) : len(a.srcs) : len(a.srcs)+n]
	for _, x := range xs {
		if x.File != "" {
			out = append(out, x)
		}
	}
	a.srcs = a.srcs[:len(a.srcs)+n]
	return out
}

// evidence returns an empty evidence list with room for n.
func (a *arena) evidence(n int) []Evidence {
	if a == nil {
		return nil
	}
	if cap(a.evs)-len(a.evs) < n {
		a.evs = make([]Evidence, 0, 64*n)
	}
	out := a.evs[len(a.evs) : len(a.evs) : len(a.evs)+n]
	a.evs = a.evs[:len(a.evs)+n]
	return out
}

// spanBuilder accumulates evidence for one span.
type spanBuilder struct {
	sp    Span
	arena *arena
}

func (sb *spanBuilder) ev(field, method string, conf float64, note string, src ...ingest.Source) {
	if sb.sp.Evidence == nil {
		sb.sp.Evidence = sb.arena.evidence(6)
	}
	sb.sp.Evidence = append(sb.sp.Evidence, Evidence{Field: field, Method: method, Confidence: conf, Sources: sb.arena.sources(src), Note: note})
	if !directRead(method) {
		if !slices.Contains(sb.sp.Inferred, field) {
			sb.sp.Inferred = append(sb.sp.Inferred, field)
		}
	}
}

// directRead reports whether a method reads a value rather than infers it;
// fields set any other way are listed in Span.Inferred.
func directRead(method string) bool {
	switch method {
	case MethodTranscriptUsage, MethodIDExact, MethodHookExact, MethodTrajectory, MethodTranscriptRunID,
		MethodCompactionEntry, MethodCompactionID:
		return true
	}
	return false
}

func (sb *spanBuilder) done() Span {
	sp := sb.sp
	sp.Confidence = 1
	for _, e := range sp.Evidence {
		sp.Confidence = min(sp.Confidence, e.Confidence)
	}
	if sp.End.Before(sp.Start) {
		sp.End = sp.Start
	}
	slices.Sort(sp.Inferred)
	return sp
}

func (b *builder) emit() []Trace {
	s := b.s
	// Hook calls not joined to a transcript call go to the run with their
	// run id, or to a run of their own (failed runs, compaction runs,
	// hook-dump-only sessions).
	byRunID := map[string]*run{}
	for _, r := range b.runs {
		if r.runID != "" {
			if _, ok := byRunID[r.runID]; !ok {
				byRunID[r.runID] = r
			}
		}
	}
	nTranscriptRuns := len(b.runs)
	for _, h := range b.hcalls {
		if h.used {
			continue
		}
		r := byRunID[h.runID]
		if r == nil {
			r = &run{runID: h.runID, viaRunID: true, firstPos: len(s.Entries)}
			byRunID[h.runID] = r
			b.runs = append(b.runs, r)
		}
		r.hookCalls = append(r.hookCalls, h)
	}
	// Trace ids: transcript runs by their ordinal in the session (stable as
	// the session grows, and computable from another session for subagent
	// links); hook-only runs by run id.
	for i, r := range b.runs {
		r.ordinal = i + 1
		if i < nTranscriptRuns {
			r.key = "run#" + strconv.Itoa(i+1)
		} else {
			r.key = "hook:" + r.runID
		}
		r.trace = NewTraceID(s.AgentID, s.SessionID, r.key)
	}
	for _, c := range b.calls {
		c.span = NewSpanID(c.run.trace, "llm", c.entries[0].ID, strconv.Itoa(c.pos))
	}
	for _, r := range b.runs {
		for _, h := range r.hookCalls {
			h.trace = r.trace
			h.span = NewSpanID(r.trace, "hookcall", h.runID, h.callID, strconv.FormatInt(h.started.Time.UnixMilli(), 10), strconv.FormatInt(h.started.Seq, 10))
		}
	}
	// An orphan tool result (its toolCall was never persisted) was emitted
	// by the last provider call before it that only the hooks saw.
	for _, t := range b.tools {
		if !t.orphan || t.result == nil {
			continue
		}
		for _, h := range b.hcalls {
			if h.used || h.ended == nil || h.ended.Outcome == "error" {
				continue
			}
			if e, _ := h.end(); !b.hookTime(e).After(t.result.Time) {
				if t.emitterHook == nil || h.start().After(t.emitterHook.start()) {
					t.emitterHook = h
				}
			}
		}
	}
	for _, t := range b.tools {
		if t.orphan && t.emitterHook == nil && t.result != nil {
			t.inferred = b.inferredCall(t)
		}
	}
	for _, t := range b.tools {
		t.run.tools = append(t.run.tools, t)
	}
	traces := make([]Trace, 0, len(b.runs))
	for _, r := range b.runs {
		traces = append(traces, b.emitRun(r))
	}
	return traces
}

func (b *builder) emitRun(r *run) Trace {
	s := b.s
	tr := Trace{ID: r.trace, AgentID: s.AgentID, SessionID: s.SessionID, SessionKey: s.Key, RunID: r.runID, Ordinal: r.ordinal, Deleted: s.Deleted}
	if s.Index != nil && (s.Index.SpawnedBy != "" || strings.Contains(s.Key, ":subagent:")) {
		tr.Subagent = true
		tr.ParentSessionKey = s.Index.SpawnedBy
		if tr.ParentSessionKey == "" {
			tr.ParentSessionKey = s.Index.ParentSessionKey
		}
	}
	root := NewSpanID(r.trace, "run")
	base := Span{Trace: r.trace, Parent: root, AgentID: s.AgentID, SessionID: s.SessionID, SessionKey: s.Key, RunID: r.runID}
	var spans []Span

	// Parent (run membership) evidence shared by the run's spans.
	parentEv := func(sb *spanBuilder, src ingest.Source) {
		switch {
		case r.viaRunID:
			sb.ev("parent", MethodTranscriptRunID, confRunID, "", src)
		case r.runID != "" && b.skew != 0:
			sb.ev("parent", MethodHookJoin, confSkew, "", src) // learned through a skew-corrected join
		case r.runID != "":
			sb.ev("parent", MethodHookJoin, confRunID, "", src)
		default:
			sb.ev("parent", MethodOrderSegment, confSegment, "", src)
		}
	}

	for _, c := range r.calls {
		spans = append(spans, b.llmSpan(base, c, parentEv))
	}
	for _, h := range r.hookCalls {
		spans = append(spans, b.hookOnlySpan(base, r, h))
	}
	for _, e := range r.comps {
		if b.compactionHooked(e) {
			continue // its provider call is a hook span (isCompaction)
		}
		sb := spanBuilder{sp: base, arena: &b.arena}
		sb.sp.Kind = KindCompaction
		sb.sp.ID = NewSpanID(r.trace, "compaction", e.ID)
		sb.sp.End = e.Time
		sb.sp.Start = e.Time
		if p := b.prevOf[e]; p != nil && !p.Time.IsZero() {
			sb.sp.Start = p.Time
		}
		sb.sp.Name = "chat compaction"
		sb.sp.Status = StatusOK
		sb.sp.OffPath = b.isOffPath(e)
		sb.ev("kind", MethodCompactionEntry, 1, "", e.Src)
		sb.ev("start", MethodIntervalNeighbour, confCompactionStart, NoteCompactionNoHook, e.Src)
		sb.ev("end", MethodTranscriptTime, confTranscriptEnd, "", e.Src)
		parentEv(&sb, e.Src)
		spans = append(spans, sb.done())
	}
	for _, t := range r.tools {
		if t.inferred != nil {
			spans = append(spans, *t.inferred)
		}
	}
	for _, t := range r.tools {
		spans = append(spans, b.toolSpan(base, t, spans))
	}

	// Root: the hull of the children, the user message and the run hooks.
	rs := spanBuilder{sp: Span{Trace: r.trace, ID: root, Kind: KindRun, AgentID: s.AgentID, SessionID: s.SessionID, SessionKey: s.Key, RunID: r.runID}, arena: &b.arena}
	rs.sp.Name = "invoke_agent " + s.AgentID
	var start, end time.Time
	widen := func(a, z time.Time) {
		if !a.IsZero() && (start.IsZero() || a.Before(start)) {
			start = a
		}
		if !z.IsZero() && z.After(end) {
			end = z
		}
	}
	var rootSrc []ingest.Source
	if r.user != nil {
		widen(r.user.Time, r.user.Time)
		rootSrc = append(rootSrc, r.user.Src)
		if r.user.Msg != nil && len(r.user.Msg.Blocks) > 0 {
			rs.sp.Input = blockText(r.user.Msg.Blocks)
		}
	}
	for i := range spans {
		widen(spans[i].Start, spans[i].End)
	}
	if r.runID != "" {
		if ae := b.agentEnd[r.runID]; ae != nil {
			widen(time.Time{}, b.hookTime(ae.Time))
			rootSrc = append(rootSrc, ae.Src)
			if ae.Success != nil && !*ae.Success {
				rs.sp.Status = StatusError
				rs.sp.StatusMessage = ae.Error
			}
		}
		if t, ok := b.runHookStart[r.runID]; ok {
			widen(b.hookTime(t), time.Time{})
		}
	}
	if start.IsZero() && len(r.entries) > 0 {
		widen(r.entries[0].Time, r.entries[len(r.entries)-1].Time)
	}
	if start.IsZero() {
		b.runTimeFallback(r, widen)
	}
	rs.sp.Start, rs.sp.End = start, end
	for i := range spans {
		if sp := &spans[i]; sp.Start.IsZero() {
			sp.Start, sp.End = start, start // nothing dates it: at the run's start
		}
	}
	rs.ev("start", MethodRunBounds, confRunBounds, "", rootSrc...)
	rs.ev("end", MethodRunBounds, confRunBounds, "", rootSrc...)
	if rs.sp.Status == StatusUnset {
		rs.sp.Status = StatusOK
		for i := range spans {
			if spans[i].Kind == KindLLM && spans[i].Status == StatusError && i == len(r.calls)-1 {
				rs.sp.Status = StatusError
				rs.sp.StatusMessage = spans[i].StatusMessage
			}
		}
	}
	if tr.Subagent {
		rs.sp.Links = nil
	}
	// The run's model and provider are those of its first call in time.
	var first *Span
	for i := range spans {
		if sp := &spans[i]; sp.Model != "" && (first == nil || sp.Start.Before(first.Start)) {
			first = sp
		}
	}
	if first != nil {
		rs.sp.Model, rs.sp.Provider = first.Model, first.Provider
	}
	rootSpan := rs.done()
	slices.SortStableFunc(spans, func(a, b Span) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	tr.Spans = append([]Span{rootSpan}, spans...)
	return tr
}

func blockText(bs []ingest.Block) string {
	var sb strings.Builder
	for _, b := range bs {
		if b.Kind == ingest.BlockText && b.Text != "" {
			if sb.Len() > 0 {
				sb.WriteByte('\n')
			}
			sb.WriteString(b.Text)
		}
	}
	return sb.String()
}

func (b *builder) llmSpan(base Span, c *llmCall, parentEv func(*spanBuilder, ingest.Source)) Span {
	first, last := c.entries[0], c.entries[len(c.entries)-1]
	m := &c.msg
	sb := spanBuilder{sp: base, arena: &b.arena}
	sb.sp.ID = c.span
	sb.sp.Kind = KindLLM
	sb.sp.Provider, sb.sp.Model, sb.sp.ResponseModel, sb.sp.API = m.Provider, m.Model, m.ResponseModel, m.API
	sb.sp.ResponseID = m.ResponseID
	sb.sp.FinishReason = m.StopReason
	sb.sp.Name = "chat " + m.Model
	sb.sp.OffPath = c.offPath
	sb.sp.Output = blockText(m.Blocks)
	if m.StopReason == "error" || m.StopReason == "aborted" {
		sb.sp.Status = StatusError
		sb.sp.StatusMessage = m.ErrorMessage
		if sb.sp.StatusMessage == "" {
			sb.sp.StatusMessage = m.StopReason
		}
	} else {
		sb.sp.Status = StatusOK
	}
	// Start: message.timestamp is taken before the request is sent; the
	// model_call_started hook fires at the same instant. Both are lower
	// bounds of the provider's receive time: take the later one.
	start, end := m.Time, last.Time
	startM, endM := MethodTranscriptTime, MethodTranscriptTime
	startC, endC := confTranscriptStart, confTranscriptEnd
	startSrc, endSrc := []ingest.Source{first.Src}, []ingest.Source{last.Src}
	if m.Time.IsZero() {
		start, startM, startC = first.Time, MethodIntervalNeighbour, 0.5
	}
	if h := c.hook; h != nil {
		sb.sp.CallID = h.callID
		hs := b.hookTime(h.start())
		if hs.After(start) {
			start = hs
		}
		startM, startC = MethodHookExact, confHookExact
		if b.skew != 0 {
			startM, startC = MethodHookSkewed, confSkew
		}
		startSrc = append(startSrc, h.started.Src)
		if he, ok := h.end(); ok {
			he = b.hookTime(he)
			// Entry append time and model_call_ended are both upper bounds
			// of the last byte: take the earlier one.
			if end.IsZero() || he.Before(end) {
				end = he
			}
			endM, endC = MethodHookExact, confHookExact
			if b.skew != 0 {
				endM, endC = MethodHookSkewed, confSkew
			}
			endSrc = append(endSrc, h.ended.Src)
		}
		note := ""
		conf := confHookExact
		if b.skew != 0 {
			note, conf = NoteClockSkew, confSkew
		}
		if c.runnerUp != nil {
			note = NoteRunnerUp + " (" + c.runnerUp.callID + " at " + c.runnerUp.start().UTC().Format(time.RFC3339Nano) + ")"
			conf = confRunnerUp
		}
		if c.lateJoin {
			note, conf = NoteLateJoin, confRunnerUp
			startC, endC = min(startC, conf), min(endC, conf)
		}
		sb.ev("hook_join", MethodHookJoin, conf, note, h.started.Src)
	}
	sb.sp.Start, sb.sp.End = start, end
	sb.ev("start", startM, startC, "", startSrc...)
	sb.ev("end", endM, endC, "", endSrc...)
	parentEv(&sb, first.Src)
	if m.Usage.Known {
		sb.sp.Usage = m.Usage
		sb.ev("usage", MethodTranscriptUsage, confUsageRecorded, "", last.Src)
		if first.ID != "" {
			sb.sp.forkKey = forkKey(first.ID, m)
		}
	}
	if sb.sp.OffPath {
		sb.ev("path", MethodTranscriptTime, 1, NoteOffPath, first.Src)
	}
	if c.modelFromChange {
		sb.ev("model", MethodModelChange, confModelChange, "", first.Src)
	}
	return sb.done()
}

// hookOnlySpan builds a span for a provider call that only the hooks saw:
// a failed attempt, a compaction (summarisation) call, or a call whose
// transcript is missing.
func (b *builder) hookOnlySpan(base Span, r *run, h *hookCall) Span {
	sb := spanBuilder{sp: base, arena: &b.arena}
	sb.sp.ID = h.span
	sb.sp.Kind = KindLLM
	sb.sp.Provider, sb.sp.Model, sb.sp.CallID = h.started.Provider, h.started.Model, h.callID
	sb.sp.Start = b.hookTime(h.start())
	endC, endM, endNote := confHookExact, MethodHookExact, ""
	endSrc := []ingest.Source{h.started.Src}
	if e, ok := h.end(); ok {
		sb.sp.End = b.hookTime(e)
		endSrc = append(endSrc, h.ended.Src)
	} else {
		sb.sp.End = sb.sp.Start
		endC, endM, endNote = 0.5, MethodIntervalNeighbour, NoteNoEndHook
	}
	note := NoteHookOnly
	isComp, compM, compC := b.isCompaction(h)
	switch {
	case h.ended != nil && h.ended.Outcome == "error":
		sb.sp.Status = StatusError
		sb.sp.StatusMessage = strings.TrimSpace(h.ended.ErrorCategory + " " + h.ended.FailureKind)
		if ev := b.attemptError(h); ev != nil {
			// The provider's own message and code, from the trajectory.
			sb.sp.StatusMessage, sb.sp.ErrorType = ev.Error, ev.ErrorCode
			sb.ev("status", MethodTrajectory, confTrajectory, "", ev.Src)
		}
		if sb.sp.StatusMessage == "" {
			sb.sp.StatusMessage = "provider call failed"
		}
		note = NoteFailedAttempt
	case isComp:
		sb.sp.Kind = KindCompaction
		sb.sp.Status = StatusOK
		sb.ev("kind", compM, compC, "", h.started.Src)
	default:
		sb.sp.Status = StatusOK
	}
	sb.sp.Name = "chat " + sb.sp.Model
	if sb.sp.Kind == KindCompaction {
		sb.sp.Name = "chat compaction"
	}
	sb.ev("start", MethodHookExact, confHookOnly, note, h.started.Src)
	sb.ev("end", endM, min(endC, confHookOnly), endNote, endSrc...)
	sb.ev("parent", MethodHookExact, confHookOnly, "", h.started.Src)
	// Usage: llm_output carries the attempt sum; it is this call's usage
	// only when the attempt had a single call and none was persisted.
	if u, src, ok := b.attemptUsage(r, h); ok {
		sb.sp.Usage = u
		sb.ev("usage", MethodHookAttemptSum, confAttemptSum, "", src)
	}
	return sb.done()
}

// attemptError returns the trajectory's model.completed error of a failed
// hook-only call: the first unused one of its run recorded at or after the
// call's end, within 5 s. Nil when there is none (no trajectory, no
// message in it).
func (b *builder) attemptError(h *hookCall) *ingest.HookEvent {
	end, ok := h.end()
	if !ok || h.runID == "" {
		return nil
	}
	for i := range b.s.Trajectory {
		ev := &b.s.Trajectory[i]
		if ev.Kind != ingest.TrajModelCompleted || !ev.HasError || ev.Error == "" || ev.RunID != h.runID || b.usedTraj[ev] {
			continue
		}
		if d := ev.Time.Sub(end); d >= -50*time.Millisecond && d <= 5*time.Second {
			if b.usedTraj == nil {
				b.usedTraj = map[*ingest.HookEvent]bool{}
			}
			b.usedTraj[ev] = true
			return ev
		}
	}
	return nil
}

// compactionHooked reports whether the hook dump saw the provider call of
// compaction entry e: a hook call started up to a minute before it (the
// window isCompaction uses). A partial dump (rotated away) may not reach
// back to e; the entry then makes its own span, as without hooks.
func (b *builder) compactionHooked(e *ingest.Entry) bool {
	for _, h := range b.hcalls {
		if h.used {
			continue // joined to a transcript call: not the compaction's
		}
		if d := e.Time.Sub(h.start()); d >= 0 && d < 60*time.Second {
			return true
		}
	}
	return false
}

// isCompaction tells whether a hook-only call is a compaction's
// summarisation call, and how it knows: by name (a …:compaction:… run id or
// an internal- session: a direct read) or by time (near a before/after
// compaction hook or up to a minute before a compaction entry: inferred).
func (b *builder) isCompaction(h *hookCall) (bool, string, float64) {
	if strings.Contains(h.runID, ":compaction:") || strings.HasPrefix(b.s.SessionID, "internal-") {
		return true, MethodCompactionID, confHookOnly
	}
	st := h.start()
	for _, t := range b.compactionHooks {
		if d := st.Sub(t); d > -10*time.Second && d < 60*time.Second {
			return true, MethodCompactionWindow, confCompactionWindow
		}
	}
	for _, r := range b.runs {
		for _, e := range r.comps {
			if d := e.Time.Sub(st); d >= 0 && d < 60*time.Second {
				return true, MethodCompactionWindow, confCompactionWindow
			}
		}
	}
	return false, "", 0
}

// attemptUsage returns llm_output usage for a hook-only call when that call
// is the only provider call of its run in the hooks and the run persisted
// no LLM call (so the sum cannot be double counted).
func (b *builder) attemptUsage(r *run, h *hookCall) (ingest.Usage, ingest.Source, bool) {
	if len(r.calls) > 0 || len(r.hookCalls) != 1 || h.ended == nil || h.ended.Outcome == "error" {
		return ingest.Usage{}, ingest.Source{}, false
	}
	for i := range b.s.Hooks {
		ev := &b.s.Hooks[i]
		if ev.Kind == ingest.HookLLMOutput && ev.RunID == h.runID && ev.Usage.Known {
			return ev.Usage, ev.Src, true
		}
	}
	return ingest.Usage{}, ingest.Source{}, false
}

func (b *builder) toolSpan(base Span, t *toolCall, siblings []Span) Span {
	r := t.run
	sb := spanBuilder{sp: base, arena: &b.arena}
	sb.sp.ID = NewSpanID(r.trace, "tool", t.id)
	if t.occ > 0 {
		sb.sp.ID = NewSpanID(r.trace, "tool", t.id, strconv.Itoa(t.occ))
	}
	sb.sp.Kind = KindTool
	sb.sp.ToolName, sb.sp.ToolCallID = t.name, t.id
	sb.sp.Name = "execute_tool " + t.name
	sb.sp.Input = t.argsText
	sb.sp.Status = StatusOK
	var emitterEnd time.Time
	var emitterSrc ingest.Source
	if p := t.inferred; p != nil {
		emitterSrc = t.result.Src
		sb.sp.Links = append(sb.sp.Links, Link{Trace: p.Trace, Span: p.ID, Relation: "emitted_by"})
		sb.ev("emitted_by", MethodInferredCall, confInferredLink, NoteOrphanResult, t.result.Src)
	} else if h := t.emitterHook; h != nil {
		emitterSrc = h.started.Src
		emitterEnd, _ = h.end()
		emitterEnd = b.hookTime(emitterEnd)
		sb.sp.Links = append(sb.sp.Links, Link{Trace: h.trace, Span: h.span, Relation: "emitted_by"})
		sb.ev("emitted_by", MethodHookJoin, confOrphanHook, NoteOrphanResultHook, h.started.Src)
	} else if t.emitter != nil {
		last := t.emitter.entries[len(t.emitter.entries)-1]
		emitterSrc = last.Src
		emitterEnd = last.Time
		if t.emitter.hook != nil {
			if he, ok := t.emitter.hook.end(); ok && b.hookTime(he).Before(emitterEnd) {
				emitterEnd = b.hookTime(he)
			}
		}
		sb.sp.OffPath = t.emitter.offPath
		sb.sp.Links = append(sb.sp.Links, Link{Trace: t.emitter.run.trace, Span: t.emitter.span, Relation: "emitted_by"})
		sb.ev("emitted_by", MethodIDExact, confIDExact, "", emitterSrc)
	}
	if t.consumer != nil {
		sb.sp.Links = append(sb.sp.Links, Link{Trace: t.consumer.run.trace, Span: t.consumer.span, Relation: "consumed_by"})
		sb.ev("consumed_by", MethodOrderNextCall, confNextCall, "", t.consumer.entries[0].Src)
	}
	if t.result != nil {
		m := t.result.Msg
		sb.sp.ResultSize = m.ContentSize
		sb.sp.Output = blockText(m.Blocks)
		if m.IsError {
			sb.sp.Status = StatusError
			sb.sp.StatusMessage = truncateText(blockText(m.Blocks), 200)
			if sb.sp.StatusMessage == "" {
				sb.sp.StatusMessage = "tool error"
			}
		}
		if m.ChildSessionKey != "" {
			sb.sp.ChildSessionKey = m.ChildSessionKey
			if b.opt.Resolver != nil {
				if agent, sid, ok := b.opt.Resolver.SessionByKey(m.ChildSessionKey); ok {
					sb.sp.ChildSessionID = sid
					child := NewTraceID(agent, sid, "run#1")
					sb.sp.Links = append(sb.sp.Links, Link{Trace: child, Span: NewSpanID(child, "run"), Relation: "spawned"})
				}
			}
		}
	}
	if t.after != nil && t.after.HasError && sb.sp.Status != StatusError {
		sb.sp.Status = StatusError
		sb.sp.StatusMessage = t.after.Error
		if sb.sp.StatusMessage == "" { // the text is content (ingest keeps it only with --content)
			sb.sp.StatusMessage = "tool error"
		}
	}

	// Start: before_tool_call fires as the tool starts; the trajectory
	// tool.call likewise. Without them the earliest possible start is the
	// end of the emitting call.
	switch {
	case t.before != nil:
		sb.sp.Start = b.hookTime(t.before.Time)
		sb.ev("start", MethodHookExact, confHookExact, "", t.before.Src)
	case t.trajCall != nil:
		sb.sp.Start = t.trajCall.Time
		sb.ev("start", MethodTrajectory, confTrajectory, "", t.trajCall.Src)
	case !emitterEnd.IsZero():
		sb.sp.Start = emitterEnd
		sb.ev("start", MethodIntervalNeighbour, confToolStartEmitter, "", emitterSrc)
	case t.result != nil:
		sb.sp.Start = t.result.Time
		sb.ev("start", MethodIntervalNeighbour, confNoResult, "", t.result.Src)
	}
	// End: after_tool_call fires when the tool finished; a trajectory
	// tool.result likewise. The toolResult message time is the end only for
	// a single tool; for a parallel group it is the group's end.
	parallel := t.emitter != nil && countTools(t.emitter) > 1
	switch {
	case t.after != nil:
		sb.sp.End = b.hookTime(t.after.Time)
		sb.ev("end", MethodHookExact, confHookExact, "", t.after.Src)
	case t.trajRes != nil:
		sb.sp.End = t.trajRes.Time
		sb.ev("end", MethodTrajectory, confTrajectory, "", t.trajRes.Src)
	case t.result != nil && !t.result.Msg.Time.IsZero():
		sb.sp.End = t.result.Msg.Time
		if parallel {
			sb.ev("end", MethodTranscriptGroup, confToolEndGroup, NoteParallelGroupEnd, t.result.Src)
		} else {
			sb.ev("end", MethodTranscriptTime, confToolEndSingle, "", t.result.Src)
		}
	case t.result != nil:
		sb.sp.End = t.result.Time
		sb.ev("end", MethodTranscriptTime, confToolEndGroup, "", t.result.Src)
	default:
		end := sb.sp.Start
		if t.consumer != nil {
			end = t.consumer.msg.Time
		} else {
			for _, s := range siblings {
				if s.Start.After(sb.sp.Start) && (end.Equal(sb.sp.Start) || s.Start.Before(end)) {
					end = s.Start
				}
			}
		}
		sb.sp.End = end
		sb.ev("end", MethodIntervalNeighbour, confNoResult, NoteNoResult, emitterSrc)
	}
	if sb.sp.Start.IsZero() {
		sb.sp.Start = sb.sp.End
	}
	src := emitterSrc
	if t.result != nil {
		src = t.result.Src
	}
	if r.viaRunID {
		sb.ev("parent", MethodTranscriptRunID, confRunID, "", src)
	} else {
		sb.ev("parent", MethodOrderSegment, confSegment, "", src)
	}
	return sb.done()
}

// inferredCall makes the chat span of a provider call whose assistant
// message was never persisted but whose tool result was: it lies between
// the entry before the result and the result itself. Usage is unknown.
func (b *builder) inferredCall(t *toolCall) *Span {
	r := t.run
	sb := spanBuilder{sp: Span{Trace: r.trace, Parent: NewSpanID(r.trace, "run"), AgentID: b.s.AgentID, SessionID: b.s.SessionID, SessionKey: b.s.Key, RunID: r.runID}, arena: &b.arena}
	sb.sp.ID = NewSpanID(r.trace, "inferred-call", t.id)
	if t.occ > 0 {
		sb.sp.ID = NewSpanID(r.trace, "inferred-call", t.id, strconv.Itoa(t.occ))
	}
	sb.sp.Kind = KindLLM
	sb.sp.Name = "chat unknown"
	sb.sp.Status = StatusUnset
	sb.sp.End = t.result.Time
	if !t.result.Msg.Time.IsZero() && t.result.Msg.Time.Before(sb.sp.End) {
		sb.sp.End = t.result.Msg.Time
	}
	sb.sp.Start = sb.sp.End
	src := []ingest.Source{t.result.Src}
	if p := b.prevOf[t.result]; p != nil && !p.Time.IsZero() {
		sb.sp.Start = p.Time
		src = append(src, p.Src)
	}
	sb.ev("kind", MethodInferredCall, confInferredCall, NoteInferredCall, src...)
	sb.ev("start", MethodIntervalNeighbour, confInferredCall, "", src...)
	sb.ev("end", MethodIntervalNeighbour, confInferredCall, "", t.result.Src)
	sp := sb.done()
	return &sp
}

func countTools(c *llmCall) int {
	n := 0
	for _, b := range c.msg.Blocks {
		if b.Kind == ingest.BlockToolCall {
			n++
		}
	}
	return n
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
