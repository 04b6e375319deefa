package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/clawtrace/clawtrace/reconstruct"
)

// HTMLWriter streams a self-contained HTML page (inline CSS, no scripts, no
// external resources) with one waterfall per run: every span a bar placed
// by its start and duration within the run, coloured by kind, hatched when
// its confidence is low (LowConfidence), faded when off the active branch,
// with its details (tokens, cost, status, methods, links, evidence) in a
// tooltip and an expandable row. Runs are written as they arrive; an index
// of them (one short line each) closes the page.
type HTMLWriter struct {
	w       *bufio.Writer
	title   string
	content bool
	runs    int
	spans   int
	index   []string // one table row per run, written by Close
	err     error
}

// LowConfidence is the confidence at or below which a span counts as low
// confidence (report coverage, hatched bars): 0.5 is the lowest the matcher
// gives, to bounds it could not measure (a tool without a result, a call
// without model_call_ended, an orphan tool's start).
const LowConfidence = 0.5

// maxIndexRuns bounds the index (and the memory it takes: one short row
// per run).
const maxIndexRuns = 10000

// IsLowConfidence reports whether a span's confidence is low.
func IsLowConfidence(c float64) bool { return c <= LowConfidence }

// NewHTMLWriter writes the page header. Content (span.Input/Output) is
// shown only when content is true.
func NewHTMLWriter(w io.Writer, title string, content bool) *HTMLWriter {
	h := &HTMLWriter{w: bufio.NewWriterSize(w, 64<<10), title: title, content: content}
	h.printf(htmlHead, html.EscapeString(title), html.EscapeString(title))
	return h
}

func (h *HTMLWriter) printf(format string, a ...any) {
	if h.err == nil {
		_, h.err = fmt.Fprintf(h.w, format, a...)
	}
}

// Write adds the runs of one batch of traces.
func (h *HTMLWriter) Write(traces []reconstruct.Trace) error {
	for i := range traces {
		h.trace(&traces[i])
	}
	return h.err
}

func (h *HTMLWriter) trace(t *reconstruct.Trace) {
	root := t.Root()
	total := root.Duration()
	if total <= 0 {
		total = time.Millisecond
	}
	h.runs++
	var calls, tools int
	var in, out, cacheR int64
	var cost float64
	costKnown, costUnknown := false, 0
	for i := range t.Spans {
		sp := &t.Spans[i]
		switch sp.Kind {
		case reconstruct.KindLLM, reconstruct.KindCompaction:
			calls++
			if sp.Usage.Known {
				in += sp.Usage.Input
				out += sp.Usage.Output
				cacheR += sp.Usage.CacheRead
				if sp.Usage.Cost != nil {
					cost += sp.Usage.Cost.Total
					costKnown = true
				} else {
					costUnknown++
				}
			} else if sp.Status != reconstruct.StatusError {
				costUnknown++ // no usage, yet not failed: cost unknown (docs/cost.md)
			}
		case reconstruct.KindTool:
			tools++
		}
	}
	costText := "unknown"
	if costKnown {
		costText = fmt.Sprintf("$%.4f", cost)
		if costUnknown > 0 {
			costText = fmt.Sprintf("≥$%.4f (%d calls of unknown cost)", cost, costUnknown)
		}
	}
	sub := ""
	if t.Subagent {
		sub = " · subagent of " + html.EscapeString(t.ParentSessionKey)
	}
	h.printf(`<section class="run" id="t%s"><h2>%s <small>%s · session %s · run %s%s</small></h2>`+"\n",
		t.ID, html.EscapeString(root.Name), root.Start.UTC().Format("2006-01-02 15:04:05.000Z"),
		html.EscapeString(t.SessionID), html.EscapeString(orDash(t.RunID)), sub)
	h.printf(`<p class="sum">%s · %d LLM calls · %d tool calls · input %d (+%d cache read) · output %d · cost %s</p>`+"\n",
		fmtDuration(total), calls, tools, in, cacheR, out, costText)
	if len(h.index) < maxIndexRuns {
		h.index = append(h.index, fmt.Sprintf(`<tr><td><a href="#t%s">%s</a></td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%s</td></tr>`,
			t.ID, root.Start.UTC().Format("2006-01-02 15:04:05Z"), html.EscapeString(t.SessionID), html.EscapeString(orDash(t.RunID)),
			fmtDuration(total), calls, tools, html.EscapeString(costText)))
	}
	h.printf("<div class=\"wf\">\n")
	for i := range t.Spans {
		h.span(t, &t.Spans[i], root, total)
	}
	h.printf("</div></section>\n")
}

func (h *HTMLWriter) span(t *reconstruct.Trace, sp, root *reconstruct.Span, total time.Duration) {
	h.spans++
	left := 100 * float64(sp.Start.Sub(root.Start)) / float64(total)
	width := 100 * float64(sp.Duration()) / float64(total)
	left = max(0, min(left, 100))
	width = max(0.15, min(width, 100-left))
	cls := "k-" + sp.Kind.String()
	if sp.Status == reconstruct.StatusError {
		cls += " err"
	}
	if IsLowConfidence(sp.Confidence) {
		cls += " low"
	}
	if sp.OffPath {
		cls += " off"
	}
	var tip []string
	tip = append(tip, fmt.Sprintf("%s  +%s  %s  confidence %.2f", sp.Name, fmtDuration(sp.Start.Sub(root.Start)), fmtDuration(sp.Duration()), sp.Confidence))
	if sp.Usage.Known {
		u := sp.Usage
		c := "cost unknown"
		if u.Cost != nil {
			c = fmt.Sprintf("cost $%.6f", u.Cost.Total)
		}
		tip = append(tip, fmt.Sprintf("input %d, output %d, cache read %d, cache write %d, %s", u.Input, u.Output, u.CacheRead, u.CacheWrite, c))
	}
	if sp.Status == reconstruct.StatusError {
		tip = append(tip, "error: "+sp.StatusMessage)
	}
	indent := "indent"
	if sp.Kind == reconstruct.KindRun {
		indent = ""
	}
	label := sp.Name
	if sp.ToolCallID != "" {
		label += " · " + sp.ToolCallID
	}
	h.printf(`<details class="row %s"><summary title="%s"><span class="lbl %s">%s</span><span class="track"><span class="bar %s" style="left:%.3f%%;width:%.3f%%"></span></span><span class="dur">%s</span></summary>`,
		indent, html.EscapeString(strings.Join(tip, "\n")), indent, html.EscapeString(label), cls, left, width, fmtDuration(sp.Duration()))
	h.printf(`<div class="ev"><div>span %s · trace %s · %s</div>`, sp.ID, t.ID, html.EscapeString(strings.Join(tip[1:], " · ")))
	for _, l := range sp.Links {
		h.printf(`<div>%s → <a href="#t%s">%s</a></div>`, html.EscapeString(l.Relation), l.Trace, l.Span)
	}
	if len(sp.Inferred) > 0 {
		h.printf(`<div>inferred: %s</div>`, html.EscapeString(strings.Join(sp.Inferred, ", ")))
	}
	h.printf("<table>")
	for _, e := range sp.Evidence {
		var src []string
		for _, s := range e.Sources {
			src = append(src, s.String())
		}
		h.printf("<tr><td>%s</td><td>%s</td><td>%.2f</td><td>%s</td><td>%s</td></tr>", html.EscapeString(e.Field), html.EscapeString(e.Method),
			e.Confidence, html.EscapeString(strings.Join(src, " ")), html.EscapeString(e.Note))
	}
	h.printf("</table>")
	if h.content && (sp.Input != "" || sp.Output != "") {
		h.printf("<pre>%s</pre><pre>%s</pre>", html.EscapeString(sp.Input), html.EscapeString(sp.Output))
	}
	h.printf("</div></details>\n")
}

// Close writes the page footer and flushes.
func (h *HTMLWriter) Close() error {
	if h.runs == 0 {
		h.printf("<p>No runs in the inputs.</p>\n")
	} else {
		h.printf("<section class=\"run\" id=\"index\"><h2>Index of runs</h2><table class=\"idx\"><tr><th>start</th><th>session</th><th>run</th><th>duration</th><th>LLM calls</th><th>tool calls</th><th>cost</th></tr>\n")
		for _, r := range h.index {
			h.printf("%s\n", r)
		}
		h.printf("</table>")
		if h.runs > len(h.index) {
			h.printf("<p>The index lists the first %d runs of %d.</p>", len(h.index), h.runs)
		}
		h.printf("</section>\n")
	}
	h.printf("<footer>%d runs, %d spans · generated by clawtrace · bars: <span class=\"key k-run\">run</span> <span class=\"key k-llm\">LLM call</span> <span class=\"key k-compaction\">compaction</span> <span class=\"key k-tool\">tool</span> <span class=\"key k-llm err\">error</span> <span class=\"key k-llm low\">confidence ≤ 0.5</span> <span class=\"key k-llm off\">off the active branch</span> · links to runs not in this page (filtered out) lead nowhere</footer>\n</body></html>\n", h.runs, h.spans)
	if h.err != nil {
		return h.err
	}
	return h.w.Flush()
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

const htmlHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2430;background:#fafbfc}
h1{font-size:18px}h2{font-size:14px;margin:.2em 0}h2 small{font-weight:normal;color:#667}
.run{background:#fff;border:1px solid #dde;border-radius:6px;padding:.6em .8em;margin:0 0 1em}
.sum{margin:.2em 0 .5em;color:#445}
.row{margin:0}.row summary{display:flex;align-items:center;cursor:pointer;list-style:none;padding:1px 0}
.row summary::-webkit-details-marker{display:none}
.lbl{width:30%%;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}.lbl.indent{padding-left:1.2em;box-sizing:border-box}
.track{position:relative;flex:1;height:12px;background:#f0f2f5;border-radius:2px}
.bar{position:absolute;top:0;height:12px;border-radius:2px;min-width:2px}
.dur{width:6em;text-align:right;color:#556;font-variant-numeric:tabular-nums}
.k-run{background:#9aa5b1}.k-llm{background:#3b82f6}.k-compaction{background:#8b5cf6}.k-tool{background:#10b981}
.err{background:#ef4444}.low{background-image:repeating-linear-gradient(45deg,transparent 0 3px,rgba(255,255,255,.6) 3px 6px)}
.off{opacity:.45}
.ev{margin:.3em 0 .6em 1.2em;padding:.4em;background:#f6f8fa;border-radius:4px;font-size:12px}
.ev table{border-collapse:collapse;margin-top:.3em}.ev td{padding:1px 8px 1px 0;vertical-align:top}
.ev pre{white-space:pre-wrap;max-height:20em;overflow:auto;background:#fff;padding:.4em}
.key{display:inline-block;padding:0 6px;border-radius:2px;color:#fff}
footer{color:#667;margin-top:1em}
.idx{border-collapse:collapse}.idx td,.idx th{padding:1px 10px 1px 0;text-align:left;font-variant-numeric:tabular-nums}
</style></head><body><h1>%s</h1>
<p><a href="#index">index of runs</a> (at the end of the page)</p>
`
