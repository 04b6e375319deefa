package report

import (
	"fmt"
	"html"
	"strings"
	"time"
)

// maxBars is how many rows a bar chart shows; the rest fold into one
// "(other)" bar.
const maxBars = 12

// maxDayColumns is the most days the time chart shows one column each;
// longer spans are shown by ISO week.
const maxDayColumns = 92

// chartRow is one bar: a key and its counts.
type chartRow struct {
	label string
	c     Counts
}

// overview writes the charts of cost and tokens by day, model, tool and
// agent. They come from the same aggregation as `report --by …`, so their
// numbers match it.
func (v *ViewWriter) overview() {
	v.printf("<section id=\"overview\"><h2>Where the money and tokens went</h2>\n")
	v.timeChart()
	v.printf("<div class=\"grid\">\n")
	for i, title := range []string{"", "Cost by model", "Cost by tool", "Cost by agent"} {
		if i == 0 {
			continue
		}
		rep := v.charts[i].Report(ReportOptions{Sort: SortCost, Top: maxBars})
		var rows []chartRow
		for j := range rep.Rows {
			rows = append(rows, chartRow{rep.Rows[j].Values()[0], rep.Rows[j].Counts})
		}
		if rep.Other != nil {
			label := fmt.Sprintf("(%d others)", rep.OtherRows)
			if rep.OtherRows == 1 {
				label = "(1 other)"
			}
			rows = append(rows, chartRow{label, rep.Other.Counts})
		}
		note := ""
		if chartDims[i] == DimTool {
			note = "decision cost: each LLM call's tokens and cost split equally across the tool calls it emitted; (no tool) = calls that emitted none"
		}
		v.barChart(title, note, rows)
	}
	v.printf("</div>\n<p class=\"legend\">tokens: <i class=\"t0\"></i>input <i class=\"t2\"></i>cache read <i class=\"t3\"></i>cache write <i class=\"t1\"></i>output · cost: <i class=\"cx\"></i>exact <i class=\"cx lbx\"></i>lower bound (some calls of unknown cost) · unknown cost is shown as unknown, never as $0</p>\n</section>\n")
}

// barChart writes one horizontal bar chart of cost with the tokens beside.
func (v *ViewWriter) barChart(title, note string, rows []chartRow) {
	v.printf("<figure class=\"chart\"><figcaption>%s</figcaption>", html.EscapeString(title))
	if len(rows) == 0 {
		v.printf("<p class=\"muted\">no calls</p></figure>\n")
		return
	}
	maxCost, maxTok := maxima(rows)
	v.printf("<table class=\"bars\"><tr class=\"hd\"><th></th><td colspan=\"2\">cost</td><td colspan=\"2\">tokens</td></tr>")
	for _, r := range rows {
		v.printf("<tr><th title=\"%s\">%s</th><td class=\"bar\">", html.EscapeString(r.label), html.EscapeString(clip(r.label, 28)))
		if r.c.Cost != nil && maxCost > 0 {
			cls := "cx"
			if r.c.CostLowerBound {
				cls += " lbx"
			}
			v.printf("<i class=\"%s\" style=\"width:%.2f%%\"></i>", cls, 100**r.c.Cost/maxCost)
		}
		v.printf("</td><td class=\"n\">%s</td><td class=\"bar\">%s</td><td class=\"n\">%s</td></tr>",
			costHTML(&r.c), tokenBar(&r.c, maxTok), fmtTokens(r.c.Tokens()))
	}
	v.printf("</table>")
	if note != "" {
		v.printf("<p class=\"note\">%s</p>", html.EscapeString(note))
	}
	v.printf("</figure>\n")
}

// maxima returns the highest known cost and the most tokens of the rows:
// the scales of a chart.
func maxima(rows []chartRow) (maxCost float64, maxTok int64) {
	for _, r := range rows {
		if r.c.Cost != nil {
			maxCost = max(maxCost, *r.c.Cost)
		}
		maxTok = max(maxTok, r.c.Tokens())
	}
	return maxCost, maxTok
}

// tokenBar is a stacked bar of a row's tokens, scaled to the largest row.
func tokenBar(c *Counts, maxTok int64) string {
	if maxTok <= 0 {
		return ""
	}
	var b strings.Builder
	for i, n := range []int64{c.InputTokens, c.CacheReadTokens, c.CacheWriteTokens, c.OutputTokens} {
		if n > 0 {
			fmt.Fprintf(&b, "<i class=\"t%d\" style=\"width:%.2f%%\"></i>", [4]int{0, 2, 3, 1}[i], 100*float64(n)/float64(maxTok))
		}
	}
	return b.String()
}

// timeChart writes the cost and tokens per day (per ISO week when the
// inputs span more than maxDayColumns days) as two column charts in SVG,
// on a real time axis: a day or week without calls is an empty column.
func (v *ViewWriter) timeChart() {
	rep := v.charts[0].Report(ReportOptions{Sort: SortName})
	byDay := map[string]*Counts{}
	var days []time.Time
	for i := range rep.Rows {
		d, err := time.Parse("2006-01-02", rep.Rows[i].Values()[0])
		if err != nil {
			continue // (unknown): a call without a time
		}
		days = append(days, d)
		byDay[rep.Rows[i].Values()[0]] = &rep.Rows[i].Counts
	}
	var cols []chartRow
	unit := "day"
	if len(days) > 0 {
		first, last := days[0], days[len(days)-1]
		weekly := last.Sub(first) > maxDayColumns*24*time.Hour
		if weekly {
			unit = "ISO week"
		}
		for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
			label := d.Format("2006-01-02")
			if weekly {
				y, w := d.ISOWeek()
				label = fmt.Sprintf("%04d-W%02d", y, w)
			}
			if len(cols) == 0 || cols[len(cols)-1].label != label {
				cols = append(cols, chartRow{label: label})
			}
			if c := byDay[d.Format("2006-01-02")]; c != nil {
				addCounts(&cols[len(cols)-1].c, c)
			}
		}
	}
	v.printf("<figure class=\"chart wide\"><figcaption>Cost and tokens by %s (UTC, by each LLM call's start)</figcaption>", unit)
	if len(cols) == 0 {
		v.printf("<p class=\"muted\">no calls</p></figure>\n")
		return
	}
	const colW, h = 14.0, 90.0
	width := colW * float64(len(cols))
	maxCost, maxTok := maxima(cols)
	// Columns are at least 16 px wide; many columns shrink to the page.
	px := max(width*16/colW, 160)
	v.printf("<div class=\"note\">cost (highest %s: $%s; light blue: lower bound; grey stub: unknown)</div><svg class=\"cols\" width=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"cost by %s\">", unit, fmtUSD(maxCost), px, width, h, unit)
	for i, c := range cols {
		x := float64(i) * colW
		tip := fmt.Sprintf("%s: cost %s, %d LLM calls", c.label, plainCost(&c.c), c.c.LLMCalls)
		switch {
		case c.c.Cost != nil && maxCost > 0:
			bh := max(1, h**c.c.Cost/maxCost)
			cls := "cx"
			if c.c.CostLowerBound {
				cls = "cx lbx"
			}
			v.printf("<rect class=\"%s\" x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\"><title>%s</title></rect>", cls, x+1, h-bh, colW-2, bh, html.EscapeString(tip))
		case c.c.Cost == nil && c.c.LLMCalls > 0:
			v.printf("<rect class=\"unkx\" x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"4\"><title>%s</title></rect>", x+1, h-4, colW-2, html.EscapeString(tip))
		}
	}
	v.printf("</svg>")
	v.printf("<div class=\"note\">tokens (highest %s: %s)</div><svg class=\"cols\" width=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"tokens by %s\">", unit, fmtTokens(maxTok), px, width, h, unit)
	for i, c := range cols {
		if maxTok == 0 {
			break
		}
		x, y := float64(i)*colW, h
		tip := fmt.Sprintf("%s: %d tokens (input %d, cache read %d, cache write %d, output %d)", c.label, c.c.Tokens(),
			c.c.InputTokens, c.c.CacheReadTokens, c.c.CacheWriteTokens, c.c.OutputTokens)
		for j, n := range []int64{c.c.InputTokens, c.c.CacheReadTokens, c.c.CacheWriteTokens, c.c.OutputTokens} {
			if n <= 0 {
				continue
			}
			bh := h * float64(n) / float64(maxTok)
			y -= bh
			v.printf("<rect class=\"t%d\" x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\"><title>%s</title></rect>", [4]int{0, 2, 3, 1}[j], x+1, y, colW-2, bh, html.EscapeString(tip))
		}
	}
	v.printf("</svg><div class=\"axis\" style=\"width:%.0fpx\"><span>%s</span><span>%s</span></div>", px, html.EscapeString(cols[0].label), html.EscapeString(cols[len(cols)-1].label))
	if len(cols) == 1 {
		v.printf("<p class=\"note\">one %s</p>", unit)
	}
	v.printf("</figure>\n")
}

// addCounts adds b's counts to a, keeping the cost honest: a lower bound if
// either is, unknown only if both are.
func addCounts(a, b *Counts) {
	empty := a.LLMCalls == 0 && a.Cost == nil && a.CostSource == ""
	a.LLMCalls += b.LLMCalls
	a.ToolCalls += b.ToolCalls
	a.ToolErrors += b.ToolErrors
	a.InputTokens += b.InputTokens
	a.OutputTokens += b.OutputTokens
	a.CacheReadTokens += b.CacheReadTokens
	a.CacheWriteTokens += b.CacheWriteTokens
	a.UnpricedCalls += b.UnpricedCalls
	a.CallsWithoutUsage += b.CallsWithoutUsage
	switch {
	case empty:
		a.Cost, a.CostLowerBound, a.CostSource = b.Cost, b.CostLowerBound, b.CostSource
	case a.Cost == nil && b.Cost == nil:
	case a.Cost == nil || b.Cost == nil:
		known := a.Cost
		if known == nil {
			known = b.Cost
		}
		c := *known
		a.Cost, a.CostLowerBound, a.CostSource = &c, true, SourceMixed
	default:
		c := roundCost(*a.Cost + *b.Cost)
		a.Cost = &c
		a.CostLowerBound = a.CostLowerBound || b.CostLowerBound
		if a.CostSource != b.CostSource {
			a.CostSource = SourceMixed
		}
	}
}

// plainCost is costHTML without markup, for SVG titles.
func plainCost(c *Counts) string {
	switch {
	case c.Cost == nil:
		return "unknown"
	case c.CostLowerBound:
		return "≥$" + fmtUSD(*c.Cost)
	}
	return "$" + fmtUSD(*c.Cost)
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
