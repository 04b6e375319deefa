package report

import (
	"bufio"
	"container/heap"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

// The page's script and style, inlined into every page (no network access).
var (
	//go:embed view.js
	viewJS string
	//go:embed view.css
	viewCSS string
)

// DefaultViewRuns is how many runs a page lists with their waterfalls by
// default. Every run still counts in the charts and totals; the page says
// how many were left out. It bounds the writer's memory (one short row per
// listed run) and the page's size.
const DefaultViewRuns = 10000

// ViewOptions configure a ViewWriter.
type ViewOptions struct {
	Title string
	// Content shows message and tool text (span.Input/Output) in the
	// span details; off by default.
	Content bool
	// Agg sets the cost mode and price table of the charts and of each
	// run's and call's cost (as report does).
	Agg Options
	// MaxRuns caps the runs listed with a waterfall; 0 means
	// DefaultViewRuns.
	MaxRuns int
}

// ViewSummary is what the page states it was built from, known once every
// input was read.
type ViewSummary struct {
	// Inputs are the paths as given (or the default state dirs).
	Inputs []string
	// Filters are the filtering flags in effect, e.g. "--agent main".
	Filters []string
	// SkippedLines counts the input lines skipped, Reasons by reason.
	SkippedLines int
	Reasons      map[string]int
	// SkippedFiles counts the inputs found but not read (or not to the
	// end) and the named inputs that do not exist.
	SkippedFiles int
	// Problems are the first diagnostics (file:line: reason), as printed
	// on stderr.
	Problems []string
}

// ViewWriter streams the self-contained HTML page of `clawtrace view`: an
// overview (totals and charts of cost and tokens by day, model, tool and
// agent), a sortable, paginated list of runs and, for the run picked, its
// waterfall with every span's tokens, cost, confidence and evidence.
//
// Each run is encoded as it arrives, as a compact JSON block that the
// page's script parses only when the run is opened, into an unlinked
// temporary file; Close writes the page — overview, list, then the blocks
// of the MaxRuns dearest runs. Memory: the chart aggregates (bounded by the
// distinct days, models, tools and agents), one short row per listed run
// and one entry per spawned session.
type ViewWriter struct {
	w      *bufio.Writer
	opt    ViewOptions
	charts [4]*Aggregator // day (or week), model, tool, agent
	price  *Aggregator    // prices each call, as report does
	// Every run's JSON block goes to spill as it arrives; keep holds the
	// rows of the MaxRuns dearest runs so far, whose blocks Close copies
	// into the page.
	spill   *os.File
	spillW  *bufio.Writer
	off     int64
	keep    rowHeap
	parents map[string][2]string // subagent run → the run and span that spawned it
	runs    int
	spans   int
	first   time.Time
	last    time.Time
	// calls of the whole input by how their cost is known
	unpriced, unknown, notBilled int
	err                          error
}

var chartDims = [4]Dimension{DimDay, DimModel, DimTool, DimAgent}

// NewViewWriter writes the page header.
func NewViewWriter(w io.Writer, opt ViewOptions) (*ViewWriter, error) {
	if opt.MaxRuns <= 0 {
		opt.MaxRuns = DefaultViewRuns
	}
	if opt.Agg.Pricing == nil {
		opt.Agg.Pricing = DefaultPricing() // once for the four aggregators
	}
	spill, err := os.CreateTemp("", "clawtrace-view-*")
	if err != nil {
		return nil, err
	}
	os.Remove(spill.Name()) // unlinked: nothing is left behind, even if killed
	v := &ViewWriter{w: bufio.NewWriterSize(w, 64<<10), opt: opt, spill: spill,
		spillW: bufio.NewWriterSize(spill, 64<<10), parents: map[string][2]string{}}
	for i, d := range chartDims {
		o := opt.Agg
		o.GroupBy = []Dimension{d}
		a, err := NewAggregator(o)
		if err != nil {
			spill.Close()
			return nil, err
		}
		v.charts[i] = a
	}
	v.price = v.charts[1]
	v.printf("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"+
		"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"+
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"+
		"<title>%s</title>\n<style>\n%s</style></head>\n<body>\n", html.EscapeString(opt.Title), viewCSS)
	return v, nil
}

func (v *ViewWriter) printf(format string, a ...any) {
	if v.err == nil {
		_, v.err = fmt.Fprintf(v.w, format, a...)
	}
}

// AddSession records a session's coverage counts (copies, skipped lines).
func (v *ViewWriter) AddSession(s *ingest.Session) {
	for _, a := range v.charts {
		a.AddSession(s)
	}
}

// Write adds the runs of one session's traces.
func (v *ViewWriter) Write(traces []reconstruct.Trace) error {
	for _, a := range v.charts {
		a.Add(traces)
	}
	for i := range traces {
		v.trace(&traces[i])
	}
	return v.err
}

// viewRow is a run's line in the list, and where its JSON block is in the
// spill file.
type viewRow struct {
	ID, Start, Agent, Session, Run, Models string
	Parent                                 string // session key of the parent session (subagent runs)
	ParentRun, ParentSpan                  string // the run and span that spawned it, when in the inputs
	DurMs                                  float64
	Calls, Tools, Errors                   int
	Cost                                   *float64
	CostFlag                               int // 0 exact, 1 lower bound, 2 unknown
	Tokens                                 int64
	MinConf                                float64

	seq      int   // arrival order
	off, len int64 // the block in the spill file
}

func (r viewRow) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{r.ID, r.Start, r.Agent, r.Session, r.Run, r.Models, r.DurMs, r.Calls, r.Tools,
		r.Errors, r.Cost, r.CostFlag, r.Tokens, r.MinConf, r.Parent, r.ParentRun, r.ParentSpan})
}

// dearer orders runs for the cap: higher cost first (an unknown cost
// counts as 0), then more tokens, then earlier, then by id.
func dearer(a, b *viewRow) bool {
	ca, cb := 0.0, 0.0
	if a.Cost != nil {
		ca = *a.Cost
	}
	if b.Cost != nil {
		cb = *b.Cost
	}
	switch {
	case ca != cb:
		return ca > cb
	case a.Tokens != b.Tokens:
		return a.Tokens > b.Tokens
	case a.Start != b.Start:
		return a.Start < b.Start
	}
	return a.ID < b.ID
}

// rowHeap is a min-heap of rows by dearer: its root is the cheapest run
// kept, the first to go when a dearer one arrives.
type rowHeap []viewRow

func (h rowHeap) Len() int           { return len(h) }
func (h rowHeap) Less(i, j int) bool { return dearer(&h[j], &h[i]) }
func (h rowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)        { *h = append(*h, x.(viewRow)) }
func (h *rowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// viewRun is the JSON block of one run, parsed by the page when opened.
// Evidence strings go through a per-run string table (Str) to keep the
// block small.
type viewRun struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Agent   string     `json:"agent"`
	Session string     `json:"session"`
	Key     string     `json:"key,omitempty"`
	Run     string     `json:"run,omitempty"`
	Start   string     `json:"start"`
	Parent  string     `json:"parent,omitempty"`
	Deleted bool       `json:"deleted,omitempty"`
	Cost    *float64   `json:"cost"`
	Flag    int        `json:"cost_flag"`
	Str     []string   `json:"str"`
	Spans   []viewSpan `json:"spans"`
}

type viewSpan struct {
	ID      string      `json:"id"`
	Parent  int         `json:"p"` // index of the parent span, -1 for the run
	Emitter int         `json:"e"` // index of the emitting call, -1 if none
	Kind    string      `json:"k"` // run, llm, compaction, tool
	Name    string      `json:"n"` // span name
	T       float64     `json:"t"` // start, ms after the run's start
	D       float64     `json:"d"` // duration, ms
	Err     bool        `json:"err,omitempty"`
	Msg     string      `json:"msg,omitempty"`
	ErrType string      `json:"et,omitempty"`
	Conf    float64     `json:"c"`
	Inf     []string    `json:"inf,omitempty"` // fields inferred, not read
	Off     bool        `json:"off,omitempty"`
	Model   string      `json:"m,omitempty"`
	Tool    string      `json:"tool,omitempty"`
	CallID  string      `json:"call,omitempty"`
	Usage   *[4]int64   `json:"u,omitempty"` // input, output, cache read, cache write
	Cost    *float64    `json:"cost,omitempty"`
	CostSrc string      `json:"cs,omitempty"` // recorded, repriced, unpriced, unknown, not billed, fork copy
	Links   [][3]string `json:"l,omitempty"`  // relation, trace id, span id
	Ev      [][5]any    `json:"ev"`           // field, method, confidence, sources, note (string-table indexes)
	In      string      `json:"in,omitempty"`
	Out     string      `json:"out,omitempty"`
}

func (v *ViewWriter) trace(t *reconstruct.Trace) {
	root := t.Root()
	v.runs++
	if v.first.IsZero() || root.Start.Before(v.first) {
		v.first = root.Start
	}
	if root.End.After(v.last) {
		v.last = root.End
	}
	row := viewRow{ID: t.ID.String(), Start: root.Start.UTC().Format("2006-01-02T15:04:05.000Z"), Agent: t.AgentID,
		Session: t.SessionID, Run: t.RunID, Parent: t.ParentSessionKey, DurMs: ms(root.Duration()), MinConf: 1, seq: v.runs}
	var models []string
	run := viewRun{ID: row.ID, Name: root.Name, Agent: t.AgentID, Session: t.SessionID, Key: t.SessionKey, Run: t.RunID,
		Start: row.Start, Parent: t.ParentSessionKey, Deleted: t.Deleted}
	strs := map[string]int{}
	str := func(s string) int {
		if i, ok := strs[s]; ok {
			return i
		}
		strs[s] = len(run.Str)
		run.Str = append(run.Str, s)
		return len(run.Str) - 1
	}
	index := make(map[reconstruct.SpanID]int, len(t.Spans))
	for i := range t.Spans {
		index[t.Spans[i].ID] = i
	}
	var cost costAcc
	for i := range t.Spans {
		sp := &t.Spans[i]
		v.spans++
		row.MinConf = min(row.MinConf, sp.Confidence)
		vs := viewSpan{ID: sp.ID.String(), Parent: -1, Emitter: -1, Kind: sp.Kind.String(), Name: sp.Name,
			T: ms(sp.Start.Sub(root.Start)), D: ms(sp.Duration()), Err: sp.Status == reconstruct.StatusError,
			Msg: sp.StatusMessage, ErrType: sp.ErrorType, Conf: sp.Confidence, Inf: sp.Inferred, Off: sp.OffPath,
			Tool: sp.ToolName, CallID: sp.ToolCallID}
		if p, ok := index[sp.Parent]; ok && i > 0 {
			vs.Parent = p
		}
		if vs.Err && i > 0 {
			row.Errors++
		}
		for _, l := range sp.Links {
			if l.Relation == "spawned" {
				v.parents[l.Trace.String()] = [2]string{row.ID, vs.ID}
			}
			if l.Relation == "emitted_by" && l.Trace == t.ID {
				if e, ok := index[l.Span]; ok {
					vs.Emitter = e
				}
			}
			tr := "" // this run
			if l.Trace != t.ID {
				tr = l.Trace.String()
			}
			vs.Links = append(vs.Links, [3]string{l.Relation, tr, l.Span.String()})
		}
		switch sp.Kind {
		case reconstruct.KindLLM, reconstruct.KindCompaction:
			row.Calls++
			vs.Model = sp.Model
			if vs.Model == "" {
				vs.Model = sp.ResponseModel
			}
			if vs.Model != "" && !slices.Contains(models, vs.Model) {
				models = append(models, vs.Model)
			}
			if u := sp.Usage; u.Known {
				vs.Usage = &[4]int64{u.Input, u.Output, u.CacheRead, u.CacheWrite}
				row.Tokens += u.Input + u.Output + u.CacheRead + u.CacheWrite
			}
			if v.price.isForkCopy(sp) {
				vs.CostSrc = "fork copy" // counted in the session it was copied from
				break
			}
			p := v.price.priceCall(sp)
			cost.add(p, 1)
			vs.CostSrc = srcName(p.src)
			switch p.src {
			case srcUnpriced:
				v.unpriced++
			case srcUnknown:
				v.unknown++
			case srcNoUsage:
				v.notBilled++
			}
			if p.src == srcRecorded || p.src == srcRepriced {
				c := roundCost(p.cost)
				vs.Cost = &c
			}
		case reconstruct.KindTool:
			row.Tools++
		}
		for _, e := range sp.Evidence {
			src := make([]int, 0, 2*len(e.Sources))
			for _, s := range e.Sources {
				src = append(src, str(s.File), s.Line)
			}
			vs.Ev = append(vs.Ev, [5]any{str(e.Field), str(e.Method), e.Confidence, src, str(e.Note)})
		}
		if v.opt.Content {
			vs.In, vs.Out = sp.Input, sp.Output
		}
		run.Spans = append(run.Spans, vs)
	}
	row.Models = strings.Join(models, ", ")
	switch {
	case row.Calls == 0: // no provider call: nothing was billed
		zero := 0.0
		row.Cost = &zero
	default: // as report --by run: unknown unless some call was priced
		row.Cost, row.CostFlag = cost.value(false), costFlag(cost)
	}
	run.Cost, run.Flag = row.Cost, row.CostFlag
	data, err := json.Marshal(run) // escapes <, > and & (no "</script>" in the block)
	if err != nil {
		v.fail(err)
		return
	}
	row.off, row.len = v.off, int64(len(data))
	if _, err := v.spillW.Write(data); err != nil {
		v.fail(err)
	}
	v.off += row.len
	switch {
	case len(v.keep) < v.opt.MaxRuns:
		heap.Push(&v.keep, row)
	case dearer(&row, &v.keep[0]):
		v.keep[0] = row
		heap.Fix(&v.keep, 0)
	}
}

func (v *ViewWriter) fail(err error) {
	if v.err == nil {
		v.err = err
	}
}

// costFlag is 0 when the cost is exact, 1 when it is a lower bound, 2
// when it is unknown (nothing priced).
func costFlag(c costAcc) int {
	switch {
	case !c.priced():
		return 2
	case c.lowerBound():
		return 1
	}
	return 0
}

func srcName(s costSrc) string {
	switch s {
	case srcNoUsage:
		return "not billed"
	case srcUnknown:
		return "unknown"
	case srcUnpriced:
		return "unpriced"
	case srcRecorded:
		return "recorded"
	}
	return "repriced"
}

// ms is a duration in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// Close writes the overview, the list of runs, the blocks of the runs
// listed and the script, and flushes.
func (v *ViewWriter) Close(sum ViewSummary) error {
	defer v.spill.Close()
	if err := v.spillW.Flush(); err != nil {
		v.fail(err)
	}
	rows := []viewRow(v.keep)
	slices.SortFunc(rows, func(a, b viewRow) int { return a.seq - b.seq })
	for i := range rows {
		if p, ok := v.parents[rows[i].ID]; ok {
			rows[i].ParentRun, rows[i].ParentSpan = p[0], p[1]
		}
	}
	v.printf("<header><h1>%s</h1>\n", html.EscapeString(v.opt.Title))
	v.summary(sum, len(rows))
	v.printf("</header>\n<noscript><p class=\"warn\">The list of runs and the waterfalls need JavaScript (inline, no network access); the overview below does not.</p></noscript>\n")
	v.overview()
	v.printf(`<section id="list"><h2>Runs</h2><div class="tools"><input id="filter" type="search" placeholder="filter: agent, session, run, model" aria-label="filter runs"> <span id="count"></span></div>
<table class="runs"><thead><tr><th data-k="1">start</th><th data-k="2">agent</th><th data-k="3">session</th><th data-k="4">run</th><th data-k="5">models</th><th data-k="6" class="n">duration</th><th data-k="7" class="n">LLM calls</th><th data-k="8" class="n">tools</th><th data-k="9" class="n">errors</th><th data-k="12" class="n">tokens</th><th data-k="10" class="n">cost</th><th data-k="13" class="n">lowest confidence</th></tr></thead><tbody id="rows"></tbody></table>
<div class="pager"><button id="prev" type="button">‹ previous</button> <span id="page"></span> <button id="next" type="button">next ›</button></div></section>
<section id="run"><h2>Waterfall</h2><p class="muted" id="pick">Pick a run in the list.</p><div id="wf"></div><div id="detail"></div></section>
`)
	v.printf("<footer>generated by clawtrace from the inputs above · %d runs, %d spans · the same inputs give the same bytes</footer>\n", v.runs, v.spans)
	v.printf("<div id=\"data\" hidden>\n<script type=\"application/json\" id=\"runs\">")
	if rows == nil {
		rows = []viewRow{}
	}
	data, err := json.Marshal(rows)
	if err != nil {
		v.fail(err)
	}
	v.printf("%s</script>\n", data)
	var buf []byte
	for _, r := range rows {
		if int64(cap(buf)) < r.len {
			buf = make([]byte, r.len)
		}
		buf = buf[:r.len]
		if _, err := v.spill.ReadAt(buf, r.off); err != nil {
			v.fail(err)
			break
		}
		v.printf("<script type=\"application/json\" id=\"run-%s\">%s</script>\n", r.ID, buf)
	}
	v.printf("</div>\n<script>\n%s</script>\n</body></html>\n", viewJS)
	if v.err != nil {
		return v.err
	}
	return v.w.Flush()
}

// Abort releases the writer after an error, without writing the rest.
func (v *ViewWriter) Abort() { v.spill.Close() }

// summary states what the page was built from and what was left out.
func (v *ViewWriter) summary(sum ViewSummary, listed int) {
	rep := v.charts[1].Report(ReportOptions{})
	tot, cov := rep.Totals, rep.Coverage
	v.printf("<p class=\"inputs\">Built from %s", listOrNone(sum.Inputs))
	if len(sum.Filters) > 0 {
		v.printf(" · filters %s", listOrNone(sum.Filters))
	}
	v.printf("</p>\n<dl class=\"totals\">")
	item := func(k, val string) { v.printf("<div><dt>%s</dt><dd>%s</dd></div>", k, val) }
	item("runs", fmt.Sprint(v.runs))
	item("sessions", fmt.Sprint(cov.SessionsRead))
	if !v.first.IsZero() {
		item("from", v.first.UTC().Format("2006-01-02 15:04Z"))
		item("to", v.last.UTC().Format("2006-01-02 15:04Z"))
	}
	item("LLM calls", fmt.Sprint(tot.LLMCalls))
	item("tool calls", fmt.Sprint(tot.ToolCalls))
	item("tokens", fmtTokens(tot.Tokens()))
	if tot.LLMCalls == 0 {
		item("cost", "$0 (no LLM call)")
	} else {
		item("cost", costHTML(&tot))
	}
	v.printf("</dl>\n<p class=\"cover\">")
	var notes []string
	if sum.SkippedLines > 0 {
		var rs []string
		for _, r := range sortedKeys(sum.Reasons) {
			rs = append(rs, fmt.Sprintf("%s: %d", r, sum.Reasons[r]))
		}
		notes = append(notes, fmt.Sprintf("<b class=\"bad\">%d input lines skipped</b> (%s)", sum.SkippedLines, html.EscapeString(strings.Join(rs, "; "))))
	} else {
		notes = append(notes, "no input line skipped")
	}
	if sum.SkippedFiles > 0 {
		notes = append(notes, fmt.Sprintf("<b class=\"bad\">%d input files skipped or not read to the end</b> (named on stderr)", sum.SkippedFiles))
	}
	if cov.ArchivedCopies > 0 || cov.DuplicateEntries > 0 {
		notes = append(notes, fmt.Sprintf("%d archived copies read, %d duplicate entries counted once", cov.ArchivedCopies, cov.DuplicateEntries))
	}
	if cov.ForkCopies > 0 {
		notes = append(notes, fmt.Sprintf("%d calls copied by /fork not counted again", cov.ForkCopies))
	}
	if cov.DeletedSessions > 0 {
		notes = append(notes, fmt.Sprintf("%d deleted sessions included", cov.DeletedSessions))
	}
	if n := v.unpriced + v.unknown; n > 0 {
		notes = append(notes, fmt.Sprintf("%d calls of unknown cost (%d with usage but no price, %d that did not fail yet recorded no usage): costs with ≥ are lower bounds", n, v.unpriced, v.unknown))
	}
	if v.notBilled > 0 {
		notes = append(notes, fmt.Sprintf("%d failed attempts without usage, taken as not billed", v.notBilled))
	}
	notes = append(notes, fmt.Sprintf("%d low-confidence spans (≤ %.1f)", cov.LowConfidenceSpans, LowConfidence))
	if v.runs > listed {
		notes = append(notes, fmt.Sprintf("<b class=\"bad\">the list and waterfalls hold the %d dearest runs of %d</b> (by cost, then tokens; charts and totals count all; raise --max-runs or narrow with --since, --agent or --session)", listed, v.runs))
	}
	notes = append(notes, "prices: "+html.EscapeString(strings.Join(rep.Pricing.Tables, ", "))+", cost mode "+rep.CostMode)
	v.printf("%s</p>\n", strings.Join(notes, " · "))
	if len(sum.Problems) > 0 {
		v.printf("<details class=\"problems\"><summary>what was skipped, where (%d", len(sum.Problems))
		if more := sum.SkippedLines + sum.SkippedFiles - len(sum.Problems); more > 0 {
			v.printf(" listed, %d more on stderr", more)
		}
		v.printf(")</summary><ul>")
		for _, p := range sum.Problems {
			v.printf("<li><code>%s</code></li>", html.EscapeString(p))
		}
		v.printf("</ul></details>\n")
	}
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "(nothing)"
	}
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "<code>" + html.EscapeString(x) + "</code>"
	}
	return strings.Join(q, " ")
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// costHTML shows a cost as report does: unknown, never 0, and ≥ for a
// lower bound.
func costHTML(c *Counts) string {
	switch {
	case c.Cost == nil && c.CostSource == SourceNone:
		return "$0"
	case c.Cost == nil:
		return `<span class="unk">unknown</span>`
	case c.CostLowerBound:
		return fmt.Sprintf(`<span class="lb" title="lower bound: some calls have an unknown cost">≥$%s</span>`, fmtUSD(*c.Cost))
	}
	return "$" + fmtUSD(*c.Cost)
}

func fmtUSD(x float64) string {
	switch {
	case x == 0:
		return "0"
	case x < 0.01:
		return fmt.Sprintf("%.6f", x)
	case x < 100:
		return fmt.Sprintf("%.4f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func fmtTokens(n int64) string {
	switch {
	case n >= 1_000_000_000:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
