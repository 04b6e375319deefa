package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

// Cost attribution: an Aggregator is fed one session's traces at a time and
// keeps one accumulator per distinct group key (never spans), plus, for the
// subagent roll-up, one cost per subagent session and one record per spawn
// call. Report turns the accumulators into rows; Report.Write renders them
// as a table, markdown, CSV or JSON. docs/cost.md explains every number;
// keep both in sync.

// Dimension is one grouping key of a cost report.
type Dimension uint8

const (
	DimAgent    Dimension = iota // agent id
	DimSession                   // session id
	DimRun                       // run id, or "<session>#<ordinal>" when the run has none
	DimModel                     // model id as requested (response model if none)
	DimProvider                  // provider id
	DimTool                      // tool name; chat calls that emitted no tool call: "(no tool)"
	DimSubagent                  // session key of the subagent session; "(none)" outside subagents
	DimDay                       // UTC day of the chat call's start, 2026-11-25
	DimWeek                      // ISO week of the chat call's start, 2026-W48
	DimMonth                     // UTC month of the chat call's start, 2026-11
	numDimensions
)

var dimensionNames = [numDimensions]string{"agent", "session", "run", "model", "provider", "tool", "subagent", "day", "week", "month"}

func (d Dimension) String() string {
	if d < numDimensions {
		return dimensionNames[d]
	}
	return "unknown"
}

// Placeholder key values.
const (
	KeyNoTool  = "(no tool)" // tool dimension of a chat call that emitted no tool call
	KeyNone    = "(none)"    // subagent dimension outside subagent sessions; agent without id
	KeyUnknown = "(unknown)" // model, provider, tool name or time not recorded
	KeyOther   = "(other)"   // the rows folded by --top
	KeyTotal   = "(total)"   // the totals row
)

// ctxConfBase caps the context-cost confidence: the result's tokens are
// estimated from its bytes and its place in the prompt from prompt sizes.
const ctxConfBase = 0.5

// ParseDimensions parses --by values; each item may hold a comma-separated
// list. Unknown or repeated names are errors; an empty list is an error.
func ParseDimensions(items []string) ([]Dimension, error) {
	var out []Dimension
	for _, it := range items {
		for _, s := range strings.Split(it, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			if s == "" {
				continue
			}
			i := slices.Index(dimensionNames[:], s)
			if i < 0 {
				return nil, fmt.Errorf("unknown grouping %q: want %s", s, strings.Join(dimensionNames[:], ", "))
			}
			if slices.Contains(out, Dimension(i)) {
				return nil, fmt.Errorf("grouping %q given twice", s)
			}
			out = append(out, Dimension(i))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no grouping: want one or more of %s", strings.Join(dimensionNames[:], ", "))
	}
	return out, nil
}

// CostMode says which price is preferred for a call.
type CostMode uint8

const (
	// CostRecorded uses the cost OpenClaw recorded in the transcript; calls
	// without one are priced from the table when it knows the model.
	CostRecorded CostMode = iota
	// CostRepriced prices every call from the table; calls of models the
	// table does not know keep their recorded cost.
	CostRepriced
)

func (m CostMode) String() string {
	if m == CostRepriced {
		return "repriced"
	}
	return "recorded"
}

// Cost sources shown per row.
const (
	SourceRecorded = "recorded" // every priced call used the recorded cost
	SourceRepriced = "repriced" // every priced call was priced from the table
	SourceMixed    = "mixed"    // both, or some calls priced and some not (then the cost is a lower bound)
	SourceUnknown  = "unknown"  // no call of the row could be priced: cost is null, never 0
	SourceNone     = "none"     // allocation columns only: nothing to price (no later call, no spawn)
)

// SortKey orders report rows; every order ends with the key (ascending).
type SortKey uint8

const (
	SortCost   SortKey = iota // cost, highest first; unknown cost last
	SortTokens                // input+output+cache read+cache write, highest first
	SortCalls                 // llm calls then tool calls, highest first
	SortName                  // key ascending
)

var sortNames = []string{"cost", "tokens", "calls", "name"}

func (s SortKey) String() string { return sortNames[s] }

// ParseSortKey parses --sort.
func ParseSortKey(s string) (SortKey, error) {
	i := slices.Index(sortNames, strings.ToLower(strings.TrimSpace(s)))
	if i < 0 {
		return 0, fmt.Errorf("unknown sort %q: want cost, tokens, calls or name", s)
	}
	return SortKey(i), nil
}

// Options configure an Aggregator.
type Options struct {
	GroupBy []Dimension
	Mode    CostMode
	// Pricing is the price table (embedded, possibly overridden with
	// --pricing). nil means DefaultPricing().
	Pricing *PriceTable
}

// Coverage says what the numbers stand on. Every field is a count.
type Coverage struct {
	SessionsRead int64 `json:"sessions_read"`
	Runs         int64 `json:"runs"`
	// ArchivedCopies counts the copies of a session read besides the first
	// (.reset/.deleted archives, the JSONL export of a database, backups,
	// checkpoints); DuplicateEntries the entries seen again in them,
	// counted once.
	ArchivedCopies   int64 `json:"archived_copies"`
	DuplicateEntries int64 `json:"duplicate_entries_deduped"`
	// DeletedSessions counts sessions known only from archived copies:
	// they are included in the numbers.
	DeletedSessions int64 `json:"deleted_sessions_included"`
	// ForkCopies counts assistant messages that a /fork copied from a
	// session already counted: their usage is not counted again.
	ForkCopies         int64 `json:"fork_copies_skipped"`
	UnpricedCalls      int64 `json:"unpriced_calls"`
	CallsWithoutUsage  int64 `json:"calls_without_usage"`
	LowConfidenceSpans int64 `json:"low_confidence_spans"`
	SkippedLines       int64 `json:"skipped_lines"`
	// SkippedFiles counts the inputs found but not read, or not to the
	// end (unreadable, corrupt database or compressed stream).
	SkippedFiles int64 `json:"skipped_files"`
	// SubagentsNotFound counts spawned sessions whose transcript was not
	// among the inputs: their cost is unknown in the roll-up.
	SubagentsNotFound int64 `json:"subagent_sessions_not_found"`
}

// costSrc is where one call's price came from.
type costSrc uint8

const (
	srcNoUsage  costSrc = iota // a failed call without usage: taken as not billed
	srcUnknown                 // a call that did not fail but has no usage: cost unknown
	srcUnpriced                // usage but no price
	srcRecorded
	srcRepriced
)

type callPrice struct {
	cost float64
	src  costSrc
}

// costAcc sums prices and remembers their sources.
type costAcc struct {
	sum                float64
	recorded, repriced int64 // priced items by source
	unpriced           int64 // items with usage but no price
	unknown            int64 // items without usage that did not fail: cost unknown
}

func (c *costAcc) add(p callPrice, weight float64) {
	switch p.src {
	case srcRecorded:
		c.sum += p.cost * weight
		c.recorded++
	case srcRepriced:
		c.sum += p.cost * weight
		c.repriced++
	case srcUnpriced:
		c.unpriced++
	case srcUnknown:
		c.unknown++
	}
}

func (c *costAcc) merge(o costAcc) {
	c.sum += o.sum
	c.recorded += o.recorded
	c.repriced += o.repriced
	c.unpriced += o.unpriced
	c.unknown += o.unknown
}

func (c costAcc) priced() bool { return c.recorded+c.repriced > 0 }

// lowerBound reports whether some items have an unknown cost, so that the
// sum, when there is one, is a lower bound.
func (c costAcc) lowerBound() bool { return c.unpriced+c.unknown > 0 }

// value is the cost, nil when nothing was priced; emptyZero makes "nothing
// to price at all" a known 0 (allocation columns).
func (c costAcc) value(emptyZero bool) *float64 {
	if !c.priced() {
		if emptyZero && c.unpriced == 0 && c.unknown == 0 {
			z := 0.0
			return &z
		}
		return nil
	}
	v := roundCost(c.sum)
	return &v
}

func (c costAcc) source(emptyNone bool) string {
	switch {
	case !c.priced() && c.unpriced == 0 && c.unknown == 0 && emptyNone:
		return SourceNone
	case !c.priced():
		return SourceUnknown
	case c.lowerBound(), c.recorded > 0 && c.repriced > 0:
		return SourceMixed
	case c.recorded > 0:
		return SourceRecorded
	}
	return SourceRepriced
}

// roundCost drops float noise below 1e-10 USD so outputs are stable.
func roundCost(v float64) float64 { return math.Round(v*1e10) / 1e10 }

// acc accumulates one row.
type acc struct {
	key                 []string
	llm, tools, errs    int64
	unpriced, noUsage   int64
	in, out, cr, cw     int64
	cost                costAcc
	resultTokens        int64
	ctx                 costAcc
	decConf, ctxConf    float64 // minimum over the row's tool calls
	sub                 costAcc
	spawns              int64
	hasDecConf, hasCtxC bool
}

func (r *acc) minConf(dec, ctx float64) {
	if !r.hasDecConf || dec < r.decConf {
		r.decConf, r.hasDecConf = dec, true
	}
	if !r.hasCtxC || ctx < r.ctxConf {
		r.ctxConf, r.hasCtxC = ctx, true
	}
}

type spawn struct {
	row   *acc
	child string
}

// Aggregator sums the cost of agent runs by group key. Feed it one session
// at a time: AddSession (coverage counts; optional) then Add with that
// session's traces. Memory is bounded by the number of distinct group keys,
// plus one cost per subagent session and one record per spawning tool
// call; spans are never kept. Not safe for concurrent use.
type Aggregator struct {
	opt   Options
	price *PriceTable
	alloc bool // grouping has tool or subagent: allocation columns
	dimOf [numDimensions]int

	rows  map[string]*acc
	total acc
	cov   Coverage

	lookups map[string]*ModelPrice // model id → price (nil: not in the table)

	// Subagent roll-up: cost of each subagent session's own calls, the
	// sessions each session spawned, and the spawning calls.
	subOwn   map[string]*costAcc
	children map[string][]string
	spawns   []spawn
	parentOf map[string]string
}

// NewAggregator returns an empty Aggregator. GroupBy must not be empty.
func NewAggregator(opt Options) (*Aggregator, error) {
	if len(opt.GroupBy) == 0 {
		return nil, fmt.Errorf("no grouping")
	}
	a := &Aggregator{opt: opt, price: opt.Pricing, rows: map[string]*acc{}, lookups: map[string]*ModelPrice{},
		subOwn: map[string]*costAcc{}, children: map[string][]string{}, parentOf: map[string]string{}}
	if a.price == nil {
		a.price = DefaultPricing()
	}
	for i := range a.dimOf {
		a.dimOf[i] = -1
	}
	for i, d := range opt.GroupBy {
		if d >= numDimensions {
			return nil, fmt.Errorf("unknown grouping %d", d)
		}
		a.dimOf[d] = i
		if d == DimTool || d == DimSubagent {
			a.alloc = true
		}
	}
	return a, nil
}

func (a *Aggregator) has(d Dimension) bool { return a.dimOf[d] >= 0 }

// AddSession records the coverage counts of a session: copies read,
// duplicate entries, deletion and skipped lines.
func (a *Aggregator) AddSession(s *ingest.Session) {
	a.cov.SessionsRead++
	a.cov.DuplicateEntries += int64(s.DupEntries())
	a.cov.SkippedLines += int64(s.SkippedLines)
	if s.Deleted {
		a.cov.DeletedSessions++
	}
	if len(s.Copies) > 1 {
		a.cov.ArchivedCopies += int64(len(s.Copies) - 1)
	}
}

// AddSkippedLines counts bad input lines outside sessions (hook dumps,
// indexes) in the coverage.
func (a *Aggregator) AddSkippedLines(n int) { a.cov.SkippedLines += int64(n) }

// AddSkippedFiles counts the inputs that could not be read, or not to the
// end, in the coverage.
func (a *Aggregator) AddSkippedFiles(n int) { a.cov.SkippedFiles += int64(n) }

type spanRef struct{ t, s int }

// Add adds the traces of one session. A /fork copy of a call that another
// session holds (usage evidence noted reconstruct.NoteForkCopy) is not
// counted again: its chat span and the tool calls it emitted are skipped.
//
// Each chat span (LLM or compaction call) adds its usage and price to the
// row of its key and to the totals. With a tool grouping, a chat call that
// emitted k tool calls is split into k equal shares, one per tool call (the
// decision cost; tokens are split in whole tokens, the remainder going to
// the first shares), and a chat call that emitted none goes to "(no tool)".
// Each tool span adds a tool call (and error) to the row of its key, whose
// model, provider and time are those of the chat call that emitted it; with
// a tool or subagent grouping it also adds its context cost and, for a
// sessions_spawn call, a spawn resolved in Report.
func (a *Aggregator) Add(traces []reconstruct.Trace) {
	chats := map[reconstruct.SpanID]spanRef{}
	emitted := map[reconstruct.SpanID][]spanRef{}
	for ti := range traces {
		for si := range traces[ti].Spans {
			sp := &traces[ti].Spans[si]
			switch sp.Kind {
			case reconstruct.KindLLM, reconstruct.KindCompaction:
				chats[sp.ID] = spanRef{ti, si}
			case reconstruct.KindTool:
				if l, ok := sp.Link("emitted_by"); ok {
					emitted[l.Span] = append(emitted[l.Span], spanRef{ti, si})
				}
			}
		}
	}
	for ti := range traces {
		t := &traces[ti]
		a.cov.Runs++
		if t.Subagent && t.SessionKey != "" {
			if a.subOwn[t.SessionKey] == nil {
				a.subOwn[t.SessionKey] = &costAcc{}
			}
			if t.ParentSessionKey != "" {
				a.parentOf[t.SessionKey] = t.ParentSessionKey
			}
		}
		for si := range t.Spans {
			sp := &t.Spans[si]
			if IsLowConfidence(sp.Confidence) {
				a.cov.LowConfidenceSpans++
			}
			switch sp.Kind {
			case reconstruct.KindLLM, reconstruct.KindCompaction:
				if a.isForkCopy(sp) {
					a.cov.ForkCopies++
					continue
				}
				var tools []*reconstruct.Span
				for _, r := range emitted[sp.ID] {
					tools = append(tools, &traces[r.t].Spans[r.s])
				}
				a.addChat(t, sp, tools)
			case reconstruct.KindTool:
				var emitter *reconstruct.Span
				if l, ok := sp.Link("emitted_by"); ok {
					if r, ok := chats[l.Span]; ok {
						emitter = &traces[r.t].Spans[r.s]
					}
				}
				if emitter != nil && a.isForkCopy(emitter) {
					continue
				}
				a.addTool(traces, chats, t, sp, emitter)
			}
		}
	}
}

func (a *Aggregator) isForkCopy(sp *reconstruct.Span) bool {
	for _, e := range sp.Evidence {
		if e.Field == "usage" && strings.HasPrefix(e.Note, reconstruct.NoteForkCopy) {
			return true
		}
	}
	return false
}

// lookup finds a model's price, memoized (bounded by distinct model ids).
func (a *Aggregator) lookup(sp *reconstruct.Span) *ModelPrice {
	for _, m := range []string{sp.Model, sp.ResponseModel} {
		if m == "" {
			continue
		}
		mp, ok := a.lookups[m]
		if !ok {
			mp, _ = a.price.Lookup(m)
			a.lookups[m] = mp
		}
		if mp != nil {
			return mp
		}
	}
	return nil
}

// priceCall prices one chat call. Recorded mode: the recorded cost, else
// the table, else unpriced. Repriced mode: the table, else the recorded
// cost, else unpriced. No usage: nothing to price.
func (a *Aggregator) priceCall(sp *reconstruct.Span) callPrice {
	u := sp.Usage
	if !u.Known {
		if sp.Status == reconstruct.StatusError {
			return callPrice{src: srcNoUsage}
		}
		return callPrice{src: srcUnknown}
	}
	rec := func() (callPrice, bool) {
		if u.Cost == nil {
			return callPrice{}, false
		}
		return callPrice{cost: u.Cost.Total, src: srcRecorded}, true
	}
	tab := func() (callPrice, bool) {
		mp := a.lookup(sp)
		if mp == nil {
			return callPrice{}, false
		}
		return callPrice{cost: mp.Cost(u), src: srcRepriced}, true
	}
	first, second := rec, tab
	if a.opt.Mode == CostRepriced {
		first, second = tab, rec
	}
	if p, ok := first(); ok {
		return p
	}
	if p, ok := second(); ok {
		return p
	}
	return callPrice{src: srcUnpriced}
}

// row returns the accumulator of a key, creating it.
func (a *Aggregator) row(key []string) *acc {
	k := strings.Join(key, "\x1f")
	r := a.rows[k]
	if r == nil {
		r = &acc{key: key}
		a.rows[k] = r
	}
	return r
}

func dayOf(t time.Time) (day, week, month string) {
	if t.IsZero() {
		return KeyUnknown, KeyUnknown, KeyUnknown
	}
	t = t.UTC()
	y, w := t.ISOWeek()
	return t.Format("2006-01-02"), fmt.Sprintf("%d-W%02d", y, w), t.Format("2006-01")
}

func orKey(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// keyOf builds the group key of a chat share or a tool call: chat is the
// chat span (the emitter for a tool call; may be nil), tool the tool span
// (nil for a chat call that emitted no tool).
func (a *Aggregator) keyOf(t *reconstruct.Trace, chat, tool *reconstruct.Span) []string {
	key := make([]string, len(a.opt.GroupBy))
	var when time.Time
	switch {
	case chat != nil:
		when = chat.Start
	case tool != nil:
		when = tool.Start
	}
	for i, d := range a.opt.GroupBy {
		var v string
		switch d {
		case DimAgent:
			v = orKey(t.AgentID, KeyNone)
		case DimSession:
			v = orKey(t.SessionID, KeyUnknown)
		case DimRun:
			v = t.RunID
			if v == "" {
				v = t.SessionID + "#" + strconv.Itoa(t.Ordinal)
			}
		case DimModel:
			v = KeyUnknown
			if chat != nil {
				v = orKey(chat.Model, orKey(chat.ResponseModel, KeyUnknown))
			}
		case DimProvider:
			v = KeyUnknown
			if chat != nil {
				v = orKey(chat.Provider, KeyUnknown)
			}
		case DimTool:
			v = KeyNoTool
			if tool != nil {
				v = orKey(tool.ToolName, KeyUnknown)
			}
		case DimSubagent:
			v = KeyNone
			if t.Subagent {
				v = orKey(t.SessionKey, KeyUnknown)
			}
		case DimDay, DimWeek, DimMonth:
			day, week, month := dayOf(when)
			switch d {
			case DimDay:
				v = day
			case DimWeek:
				v = week
			default:
				v = month
			}
		}
		key[i] = v
	}
	return key
}

// split returns share i of n split into k whole parts (remainder to the
// first parts), so the shares sum to n exactly.
func split(n int64, i, k int) int64 {
	q, r := n/int64(k), n%int64(k)
	if int64(i) < r {
		q++
	}
	return q
}

func (a *Aggregator) addChat(t *reconstruct.Trace, sp *reconstruct.Span, tools []*reconstruct.Span) {
	p := a.priceCall(sp)
	u := sp.Usage
	count := func(r *acc) {
		r.llm++
		switch p.src {
		case srcUnpriced:
			r.unpriced++
		case srcNoUsage, srcUnknown:
			r.noUsage++
		}
	}
	share := func(r *acc, i, k int) {
		if u.Known {
			r.in += split(u.Input, i, k)
			r.out += split(u.Output, i, k)
			r.cr += split(u.CacheRead, i, k)
			r.cw += split(u.CacheWrite, i, k)
		}
		r.cost.add(p, 1/float64(k))
	}
	count(&a.total)
	share(&a.total, 0, 1)
	if t.Subagent && t.SessionKey != "" {
		a.subOwn[t.SessionKey].add(p, 1)
	}
	if !a.has(DimTool) || len(tools) == 0 {
		r := a.row(a.keyOf(t, sp, nil))
		count(r)
		share(r, 0, 1)
		return
	}
	var seen []*acc
	for i, tool := range tools {
		r := a.row(a.keyOf(t, sp, tool))
		if !slices.Contains(seen, r) {
			count(r)
			seen = append(seen, r)
		}
		share(r, i, len(tools))
	}
}

func evidenceConf(sp *reconstruct.Span, field string) (float64, bool) {
	c, ok := 1.0, false
	for _, e := range sp.Evidence {
		if e.Field == field {
			c, ok = min(c, e.Confidence), true
		}
	}
	return c, ok
}

func (a *Aggregator) addTool(traces []reconstruct.Trace, chats map[reconstruct.SpanID]spanRef, t *reconstruct.Trace, sp, emitter *reconstruct.Span) {
	r := a.row(a.keyOf(t, emitter, sp))
	for _, x := range []*acc{r, &a.total} {
		x.tools++
		if sp.Status == reconstruct.StatusError {
			x.errs++
		}
	}
	if !a.alloc {
		return
	}
	dec, ok := evidenceConf(sp, "emitted_by")
	if !ok || emitter == nil {
		dec = 0
	}
	tokens, ctx, cconf := a.contextCost(traces, chats, sp)
	r.resultTokens += tokens
	r.ctx.merge(ctx)
	r.minConf(dec, cconf)
	if sp.ChildSessionKey != "" {
		a.spawns = append(a.spawns, spawn{row: r, child: sp.ChildSessionKey})
		if t.SessionKey != "" {
			a.children[t.SessionKey] = append(a.children[t.SessionKey], sp.ChildSessionKey)
		}
	}
}

// Prompt segments a tool result can sit in.
const (
	segInput = iota
	segCacheRead
	segCacheWrite
)

// ResultTokens estimates the tokens of a tool result from its size: one
// token per 4 bytes, rounded up.
func ResultTokens(bytes int) int64 { return (int64(bytes) + 3) / 4 }

// contextCost estimates what a tool result costs in the calls that read it
// (the context cost; an allocated estimate, confidence ≤ ctxConfBase):
//
//  1. tokens r = ResultTokens(ResultSize).
//  2. The readers are the consuming call (consumed_by link) and every later
//     chat call of its run, up to and including the first compaction call
//     (after a compaction the result is assumed summarised away). A result
//     on an abandoned branch (OffPath) is read by its consumer only. Calls
//     without usage are skipped.
//  3. The result ends the prompt of the consumer, of P tokens (its input +
//     cache read + cache write). In a later call L whose prompt starts with
//     that prefix, the result lies in the cache-read part when
//     L.CacheRead ≥ P, in the cache-write part when L.CacheRead +
//     L.CacheWrite ≥ P, else in the uncached input.
//  4. Each read costs r × L's per-token price of that part: in recorded
//     mode the recorded cost of that part divided by its tokens, else the
//     table price (at L's long-context tier); repriced mode the reverse.
//     Neither: the read is unpriced.
//
// Confidence: min(ctxConfBase, the consumed_by evidence confidence).
func (a *Aggregator) contextCost(traces []reconstruct.Trace, chats map[reconstruct.SpanID]spanRef, tool *reconstruct.Span) (int64, costAcc, float64) {
	var out costAcc
	r := ResultTokens(tool.ResultSize)
	conf := ctxConfBase
	l, ok := tool.Link("consumed_by")
	if !ok {
		return r, out, conf
	}
	if c, ok := evidenceConf(tool, "consumed_by"); ok {
		conf = min(conf, c)
	}
	ref, ok := chats[l.Span]
	if !ok || r == 0 {
		return r, out, conf
	}
	spans := traces[ref.t].Spans
	consumer := &spans[ref.s]
	var p int64
	if consumer.Usage.Known {
		p = PromptTokens(consumer.Usage)
	}
	for i := ref.s; i < len(spans); i++ {
		L := &spans[i]
		if L.Kind != reconstruct.KindLLM && L.Kind != reconstruct.KindCompaction {
			continue
		}
		if L.Usage.Known && !a.isForkCopy(L) {
			seg := segInput
			switch {
			case p > 0 && L.Usage.CacheRead >= p:
				seg = segCacheRead
			case p > 0 && L.Usage.CacheRead+L.Usage.CacheWrite >= p:
				seg = segCacheWrite
			}
			if rate, src, ok := a.segmentRate(L, seg); ok {
				out.add(callPrice{cost: float64(r) * rate, src: src}, 1)
			} else {
				out.add(callPrice{src: srcUnpriced}, 1)
			}
		}
		if L.Kind == reconstruct.KindCompaction || tool.OffPath {
			break
		}
	}
	return r, out, conf
}

// segmentRate returns the per-token price of one prompt part of a call.
func (a *Aggregator) segmentRate(sp *reconstruct.Span, seg int) (float64, costSrc, bool) {
	u := sp.Usage
	rec := func() (float64, bool) {
		if u.Cost == nil {
			return 0, false
		}
		var c float64
		var n int64
		switch seg {
		case segInput:
			c, n = u.Cost.Input, u.Input
		case segCacheRead:
			c, n = u.Cost.CacheRead, u.CacheRead
		case segCacheWrite:
			c, n = u.Cost.CacheWrite, u.CacheWrite
		}
		if n <= 0 || c <= 0 {
			return 0, false
		}
		return c / float64(n), true
	}
	tab := func() (float64, bool) {
		mp := a.lookup(sp)
		if mp == nil {
			return 0, false
		}
		rt := mp.RatesFor(PromptTokens(u))
		switch seg {
		case segCacheRead:
			return rt.CacheRead / 1e6, true
		case segCacheWrite:
			return rt.CacheWrite / 1e6, true
		}
		return rt.Input / 1e6, true
	}
	if a.opt.Mode == CostRepriced {
		if v, ok := tab(); ok {
			return v, srcRepriced, true
		}
		if v, ok := rec(); ok {
			return v, srcRecorded, true
		}
		return 0, srcUnpriced, false
	}
	if v, ok := rec(); ok {
		return v, srcRecorded, true
	}
	if v, ok := tab(); ok {
		return v, srcRepriced, true
	}
	return 0, srcUnpriced, false
}

// ReportOptions order and trim the rows of a Report.
type ReportOptions struct {
	Sort SortKey
	// Top keeps the first Top rows and folds the rest into Report.Other;
	// 0 keeps all.
	Top int
}

// Counts are the additive columns of a row and of the totals.
type Counts struct {
	LLMCalls         int64 `json:"llm_calls"`
	ToolCalls        int64 `json:"tool_calls"`
	ToolErrors       int64 `json:"tool_errors"`
	InputTokens      int64 `json:"input_tokens"` // uncached prompt tokens
	OutputTokens     int64 `json:"output_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
	// Cost in USD; nil (JSON null) when no call could be priced. When
	// CostLowerBound is set, it is a lower bound (CostSource "mixed").
	Cost              *float64 `json:"cost"`
	CostSource        string   `json:"cost_source"`
	UnpricedCalls     int64    `json:"unpriced_calls"`
	CallsWithoutUsage int64    `json:"calls_without_usage"`
	// CostLowerBound is set when Cost is a lower bound: some calls had
	// usage but no price, or did not fail and recorded no usage.
	CostLowerBound bool `json:"cost_lower_bound,omitempty"`
}

// Tokens returns input + output + cache read + cache write.
func (c *Counts) Tokens() int64 {
	return c.InputTokens + c.OutputTokens + c.CacheReadTokens + c.CacheWriteTokens
}

// Allocation holds the allocated estimates of a row with tool calls, shown
// when the grouping has tool or subagent. None of them is additive across
// rows (see docs/cost.md).
type Allocation struct {
	// ResultTokens is the estimated size of the row's tool results
	// (ResultTokens of each result's bytes).
	ResultTokens      int64    `json:"result_tokens"`
	ContextCost       *float64 `json:"context_cost"`
	ContextCostSource string   `json:"context_cost_source"`
	// DecisionConfidence is the lowest emitted_by confidence of the row's
	// tool calls (0 when a tool call has no emitting call);
	// ContextConfidence the lowest context-cost confidence.
	DecisionConfidence float64 `json:"decision_confidence"`
	ContextConfidence  float64 `json:"context_confidence"`
	// SubagentCost is the rolled-up cost of the sessions the row's tool
	// calls spawned (their own calls and their subagents'); nil when none
	// was spawned or none could be priced.
	SubagentCost       *float64 `json:"subagent_cost"`
	SubagentCostSource string   `json:"subagent_cost_source"`
	SpawnedSessions    int64    `json:"spawned_sessions"`
}

// Row is one group of a report.
type Row struct {
	// Key maps each grouping dimension to this row's value.
	Key map[string]string `json:"key"`
	// ParentSession is the session key that spawned the row's subagent
	// session (subagent grouping only).
	ParentSession string `json:"parent_session,omitempty"`
	Counts
	Allocation *Allocation `json:"allocation,omitempty"`

	values []string // key values in grouping order
}

// Values returns the key values in grouping order.
func (r *Row) Values() []string { return r.values }

// PricingInfo says which price tables were used.
type PricingInfo struct {
	// Tables lists the embedded table and any --pricing file with their
	// as-of dates, e.g. "embedded (as of 2026-11-25)".
	Tables []string `json:"tables"`
}

// Report is the result of an Aggregator, ready to write.
type Report struct {
	SchemaVersion int         `json:"schema_version"`
	GroupBy       []string    `json:"group_by"`
	CostMode      string      `json:"cost_mode"`
	Pricing       PricingInfo `json:"pricing"`
	Sort          string      `json:"sort"`
	Rows          []Row       `json:"rows"`
	// Other sums the rows that --top left out; OtherRows counts them.
	Other     *Row `json:"other,omitempty"`
	OtherRows int  `json:"other_rows,omitempty"`
	// Totals are computed from the calls, not from the rows; every grouping
	// sums to them (see docs/cost.md for the exceptions under tool
	// grouping: llm_calls and unpriced_calls count a call in each of its
	// tools' rows).
	Totals                Counts   `json:"totals"`
	Coverage              Coverage `json:"coverage"`
	ToolAttributionMethod string   `json:"tool_attribution_method"`

	alloc    bool
	subagent bool
}

// ToolAttributionMethod names how tool rows are attributed; the footer and
// the JSON "tool_attribution_method" show it.
const ToolAttributionMethod = "decision cost = each chat call's tokens and cost split equally across the tool calls it emitted (emitted_by link), shown as the cost of tool rows; " +
	"context cost = result tokens (result bytes / 4, rounded up) × the per-token price of each later chat call of the run that read the result " +
	"(cache-read price when that call's cache read covers the prompt that first carried the result, cache-write price when its cache write does, else the input price; " +
	"up to the first compaction); subagent cost = rolled-up cost of the sessions a tool call spawned. " +
	"All three are allocated estimates; context confidence ≤ 0.5"

// Report resolves the subagent roll-up and returns the rows, sorted and
// trimmed. It may be called once; the Aggregator is spent afterwards.
func (a *Aggregator) Report(opt ReportOptions) *Report {
	a.resolveSpawns()
	rep := &Report{SchemaVersion: 1, CostMode: a.opt.Mode.String(), Sort: opt.Sort.String(),
		Pricing: PricingInfo{Tables: slices.Clone(a.price.Origins)}, ToolAttributionMethod: ToolAttributionMethod,
		alloc: a.alloc, subagent: a.has(DimSubagent), Rows: []Row{}}
	if rep.Pricing.Tables == nil {
		rep.Pricing.Tables = []string{}
	}
	for _, d := range a.opt.GroupBy {
		rep.GroupBy = append(rep.GroupBy, d.String())
	}
	for _, r := range a.rows {
		rep.Rows = append(rep.Rows, a.makeRow(r))
	}
	sortRows(rep.Rows, opt.Sort)
	if opt.Top > 0 && len(rep.Rows) > opt.Top {
		rest := rep.Rows[opt.Top:]
		var o acc
		for i := range rest {
			o.merge(a.rows[strings.Join(rest[i].values, "\x1f")])
		}
		o.key = make([]string, len(a.opt.GroupBy))
		o.key[0] = KeyOther
		or := a.makeRow(&o)
		rep.Other, rep.OtherRows = &or, len(rest)
		rep.Rows = rep.Rows[:opt.Top:opt.Top]
	}
	rep.Totals = a.total.counts()
	a.cov.UnpricedCalls = a.total.unpriced
	a.cov.CallsWithoutUsage = a.total.noUsage
	rep.Coverage = a.cov
	return rep
}

func (r *acc) merge(o *acc) {
	r.llm += o.llm
	r.tools += o.tools
	r.errs += o.errs
	r.unpriced += o.unpriced
	r.noUsage += o.noUsage
	r.in += o.in
	r.out += o.out
	r.cr += o.cr
	r.cw += o.cw
	r.cost.merge(o.cost)
	r.resultTokens += o.resultTokens
	r.ctx.merge(o.ctx)
	r.sub.merge(o.sub)
	r.spawns += o.spawns
	if o.hasDecConf {
		r.minConf(o.decConf, o.ctxConf)
	}
}

func (r *acc) counts() Counts {
	return Counts{LLMCalls: r.llm, ToolCalls: r.tools, ToolErrors: r.errs, InputTokens: r.in, OutputTokens: r.out,
		CacheReadTokens: r.cr, CacheWriteTokens: r.cw, Cost: r.cost.value(false), CostSource: r.cost.source(false),
		UnpricedCalls: r.unpriced, CallsWithoutUsage: r.noUsage, CostLowerBound: r.cost.value(false) != nil && r.cost.lowerBound()}
}

func (a *Aggregator) makeRow(r *acc) Row {
	row := Row{Key: map[string]string{}, values: r.key, Counts: r.counts()}
	for i, d := range a.opt.GroupBy {
		row.Key[d.String()] = r.key[i]
	}
	if i := a.dimOf[DimSubagent]; i >= 0 {
		row.ParentSession = a.parentOf[r.key[i]]
	}
	if a.alloc && r.tools > 0 {
		row.Allocation = &Allocation{ResultTokens: r.resultTokens, ContextCost: r.ctx.value(true), ContextCostSource: r.ctx.source(true),
			DecisionConfidence: r.decConf, ContextConfidence: r.ctxConf, SpawnedSessions: r.spawns,
			SubagentCostSource: SourceNone}
		if r.spawns > 0 {
			row.Allocation.SubagentCost = r.sub.value(false)
			row.Allocation.SubagentCostSource = r.sub.source(false)
		}
	}
	return row
}

// resolveSpawns adds to each spawning row the rolled-up cost of the session
// it spawned: rolled(k) = own(k) + Σ rolled(c) over the sessions k spawned.
// A child never seen counts as one unpriced item (and in the coverage). A
// cycle (not expected) is cut at the repeated session.
func (a *Aggregator) resolveSpawns() {
	memo := map[string]costAcc{}
	visiting := map[string]bool{}
	missing := map[string]bool{}
	var rolled func(k string) costAcc
	rolled = func(k string) costAcc {
		if c, ok := memo[k]; ok {
			return c
		}
		if visiting[k] {
			return costAcc{}
		}
		visiting[k] = true
		var c costAcc
		if own := a.subOwn[k]; own != nil {
			c = *own
		} else {
			c.unpriced++
			missing[k] = true
		}
		for _, ch := range a.children[k] {
			c.merge(rolled(ch))
		}
		visiting[k] = false
		memo[k] = c
		return c
	}
	for _, s := range a.spawns {
		s.row.sub.merge(rolled(s.child))
		s.row.spawns++
	}
	a.spawns = nil
	a.cov.SubagentsNotFound = int64(len(missing))
}

func sortRows(rows []Row, by SortKey) {
	costOf := func(r *Row) float64 {
		if r.Cost == nil {
			return -1
		}
		return *r.Cost
	}
	slices.SortFunc(rows, func(x, y Row) int {
		var c int
		switch by {
		case SortCost:
			c = cmpDesc(costOf(&x), costOf(&y))
		case SortTokens:
			c = cmpDesc(float64(x.Tokens()), float64(y.Tokens()))
		case SortCalls:
			c = cmpDesc(float64(x.LLMCalls), float64(y.LLMCalls))
			if c == 0 {
				c = cmpDesc(float64(x.ToolCalls), float64(y.ToolCalls))
			}
		}
		if c != 0 {
			return c
		}
		return slices.Compare(x.values, y.values)
	})
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// Formats Report.Write accepts.
var Formats = []string{"table", "markdown", "csv", "json"}

// WriteOptions configure Report.Write.
type WriteOptions struct {
	// Color colours the table. The caller decides (stdout is a terminal
	// and NO_COLOR is unset): the renderer's own check looks at os.Stdout,
	// not at the writer.
	Color bool
}

// Write renders the report in one of Formats. Every format ends with the
// coverage footer (CSV: as "#" comment lines).
func (r *Report) Write(w io.Writer, format string, opt WriteOptions) error {
	switch format {
	case "table":
		return r.writeTable(w, false, opt.Color)
	case "markdown":
		return r.writeTable(w, true, false)
	case "csv":
		return r.writeCSV(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	}
	return fmt.Errorf("unknown format %q: want %s", format, strings.Join(Formats, ", "))
}

// fmtInt formats an integer with thousands separators.
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fmtCost formats a cost for people: "$0.0123", "$1,234.5000", "<$0.0001"
// for a positive amount below the precision, "unknown" for nil, and a
// leading "≥" when the amount is a lower bound (some items unpriced).
func fmtCost(v *float64, lowerBound bool) string {
	if v == nil {
		return "unknown"
	}
	x := *v
	var s string
	switch {
	case x > 0 && x < 0.00005:
		s = "<$0.0001"
	default:
		whole := math.Floor(x)
		frac := strconv.FormatFloat(x-whole, 'f', 4, 64) // "0.1234" or "1.0000"
		if strings.HasPrefix(frac, "1") {
			whole++
			frac = "0.0000"
		}
		s = "$" + fmtInt(int64(whole)) + frac[1:]
	}
	if lowerBound {
		s = "≥" + s
	}
	return s
}

func fmtConf(c float64) string { return strconv.FormatFloat(c, 'f', 2, 64) }

// rawCost formats a cost for machines: shortest exact decimal, "" for nil.
func rawCost(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func (r *Report) headers(machine bool) []string {
	h := slices.Clone(r.GroupBy)
	if r.subagent {
		h = append(h, pick(machine, "parent_session", "parent session"))
	}
	if machine {
		h = append(h, "llm_calls", "tool_calls", "tool_errors", "input_tokens", "output_tokens", "cache_read_tokens",
			"cache_write_tokens", "cost", "cost_source", "unpriced_calls", "calls_without_usage")
		if r.alloc {
			h = append(h, "result_tokens", "context_cost", "context_cost_source", "decision_confidence", "context_confidence",
				"subagent_cost", "subagent_cost_source", "spawned_sessions")
		}
		return h
	}
	h = append(h, "llm calls", "tool calls", "tool errors", "input", "output", "cache read", "cache write", "cost", "cost source", "unpriced")
	if r.alloc {
		h = append(h, "result tok~", "context cost~", "subagent cost~", "conf dec/ctx")
	}
	return h
}

func pick(machine bool, a, b string) string {
	if machine {
		return a
	}
	return b
}

// cells renders one row; label replaces the key values (totals, other).
func (r *Report) cells(row *Row, machine bool, label string) []string {
	var out []string
	if label != "" {
		out = append(out, label)
		for range len(r.GroupBy) - 1 {
			out = append(out, "")
		}
	} else {
		out = append(out, row.values...)
	}
	if r.subagent {
		out = append(out, row.ParentSession)
	}
	c := &row.Counts
	partial := c.CostLowerBound
	if machine {
		out = append(out, strconv.FormatInt(c.LLMCalls, 10), strconv.FormatInt(c.ToolCalls, 10), strconv.FormatInt(c.ToolErrors, 10),
			strconv.FormatInt(c.InputTokens, 10), strconv.FormatInt(c.OutputTokens, 10), strconv.FormatInt(c.CacheReadTokens, 10),
			strconv.FormatInt(c.CacheWriteTokens, 10), rawCost(c.Cost), c.CostSource, strconv.FormatInt(c.UnpricedCalls, 10),
			strconv.FormatInt(c.CallsWithoutUsage, 10))
		if r.alloc {
			if al := row.Allocation; al != nil {
				out = append(out, strconv.FormatInt(al.ResultTokens, 10), rawCost(al.ContextCost), al.ContextCostSource,
					strconv.FormatFloat(al.DecisionConfidence, 'f', -1, 64), strconv.FormatFloat(al.ContextConfidence, 'f', -1, 64),
					rawCost(al.SubagentCost), al.SubagentCostSource, strconv.FormatInt(al.SpawnedSessions, 10))
			} else {
				out = append(out, "", "", "", "", "", "", "", "")
			}
		}
		return out
	}
	out = append(out, fmtInt(c.LLMCalls), fmtInt(c.ToolCalls), fmtInt(c.ToolErrors), fmtInt(c.InputTokens), fmtInt(c.OutputTokens),
		fmtInt(c.CacheReadTokens), fmtInt(c.CacheWriteTokens), fmtCost(c.Cost, partial), c.CostSource, fmtInt(c.UnpricedCalls))
	if r.alloc {
		if al := row.Allocation; al != nil {
			sub := ""
			if al.SpawnedSessions > 0 {
				sub = fmtCost(al.SubagentCost, al.SubagentCostSource == SourceMixed)
			}
			ctxPartial := al.ContextCost != nil && al.ContextCostSource == SourceMixed
			out = append(out, fmtInt(al.ResultTokens), fmtCost(al.ContextCost, ctxPartial), sub,
				fmtConf(al.DecisionConfidence)+"/"+fmtConf(al.ContextConfidence))
		} else {
			out = append(out, "", "", "", "")
		}
	}
	return out
}

func (r *Report) writeTable(w io.Writer, markdown, color bool) error {
	headers := r.headers(false)
	nKey := len(r.GroupBy)
	if r.subagent {
		nKey++
	}
	align := make([]tw.Align, len(headers))
	for i := range align {
		align[i] = tw.AlignRight
		if i < nKey || headers[i] == "cost source" {
			align[i] = tw.AlignLeft
		}
	}
	cfg := tw.CellAlignment{PerColumn: align}
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(cfg),
		tablewriter.WithFooterAlignmentConfig(cfg),
		tablewriter.WithHeaderAlignmentConfig(cfg),
	}
	switch {
	case markdown:
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	case color:
		// Attributes of github.com/fatih/color: 0 reset, 1 bold, 2 faint.
		// No background: the default colourized style paints it black.
		plain, bold, faint := renderer.Tint{FG: renderer.Colors{0}}, renderer.Tint{FG: renderer.Colors{1}}, renderer.Tint{FG: renderer.Colors{2}}
		opts = append(opts, tablewriter.WithRenderer(renderer.NewColorized(renderer.ColorizedConfig{
			Header: bold, Column: plain, Footer: bold, Border: faint, Separator: faint})))
	}
	t := tablewriter.NewTable(w, opts...)
	t.Header(headers)
	for i := range r.Rows {
		if err := t.Append(r.cells(&r.Rows[i], false, "")); err != nil {
			return err
		}
	}
	if r.Other != nil {
		if err := t.Append(r.cells(r.Other, false, fmt.Sprintf("%s %d more rows", KeyOther, r.OtherRows))); err != nil {
			return err
		}
	}
	total := Row{Counts: r.Totals}
	totalCells := r.cells(&total, false, KeyTotal)
	if markdown {
		// Markdown tables have no footer: the totals are the last row.
		if err := t.Append(totalCells); err != nil {
			return err
		}
	} else {
		t.Footer(totalCells)
	}
	if err := t.Render(); err != nil {
		return err
	}
	if markdown {
		fmt.Fprintln(w)
	}
	for _, l := range r.footerLines() {
		if markdown {
			l = "- " + l
		}
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// footerLines are the notes under the table: cost sources, coverage and,
// for tool or subagent groupings, the attribution method.
func (r *Report) footerLines() []string {
	tables := strings.Join(r.Pricing.Tables, " + ")
	var lines []string
	if r.CostMode == CostRepriced.String() {
		lines = append(lines, "cost: repriced from the pricing table "+tables+
			"; calls of models not in it keep the cost OpenClaw recorded (source recorded); unknown = no price, never 0")
	} else {
		lines = append(lines, "cost: as OpenClaw recorded it in the transcript; calls without a recorded cost are priced from the table "+tables+
			" (source repriced); unknown = no price, never 0; ≥ = lower bound: some calls unpriced, or without usage though they did not fail")
	}
	c := r.Coverage
	lines = append(lines, fmt.Sprintf("coverage: sessions read %s (runs %s); archived or exported copies read %s (duplicate entries counted once: %s); "+
		"deleted sessions included %s; /fork copies not counted again %s; unpriced calls %s; calls without usage %s; "+
		"low-confidence spans (≤0.5) %s; skipped lines %s; skipped files %s; spawned sessions not found %s",
		fmtInt(c.SessionsRead), fmtInt(c.Runs), fmtInt(c.ArchivedCopies), fmtInt(c.DuplicateEntries), fmtInt(c.DeletedSessions),
		fmtInt(c.ForkCopies), fmtInt(c.UnpricedCalls), fmtInt(c.CallsWithoutUsage), fmtInt(c.LowConfidenceSpans),
		fmtInt(c.SkippedLines), fmtInt(c.SkippedFiles), fmtInt(c.SubagentsNotFound)))
	if r.alloc {
		lines = append(lines, "~ allocated estimates, not additive across rows: "+r.ToolAttributionMethod)
	}
	return lines
}

func (r *Report) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.headers(true)); err != nil {
		return err
	}
	for i := range r.Rows {
		if err := cw.Write(r.cells(&r.Rows[i], true, "")); err != nil {
			return err
		}
	}
	if r.Other != nil {
		if err := cw.Write(r.cells(r.Other, true, KeyOther)); err != nil {
			return err
		}
	}
	total := Row{Counts: r.Totals}
	if err := cw.Write(r.cells(&total, true, KeyTotal)); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	for _, l := range r.footerLines() {
		// Comment lines: read the CSV with comment='#'.
		if _, err := fmt.Fprintln(w, "# "+strings.ReplaceAll(l, "\n", " ")); err != nil {
			return err
		}
	}
	return nil
}
