package report

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/clawtrace/clawtrace/reconstruct"
)

// shiftTrace moves every span of a trace by d.
func shiftTrace(tr reconstruct.Trace, d time.Duration) reconstruct.Trace {
	tr.Spans = append([]reconstruct.Span(nil), tr.Spans...)
	for i := range tr.Spans {
		tr.Spans[i].Start = tr.Spans[i].Start.Add(d)
		tr.Spans[i].End = tr.Spans[i].End.Add(d)
	}
	tr.ID[15] ^= byte(d / (24 * time.Hour))
	return tr
}

// TestViewTimeAxis: the time chart is a real time axis — a day without
// calls is an empty column — and turns to ISO weeks past 92 days.
func TestViewTimeAxis(t *testing.T) {
	base := corpusTraces(t, "openclaw-2026.9.6")[0]
	day := 24 * time.Hour
	cols := regexp.MustCompile(`viewBox="0 0 (\d+) 90"[^>]*aria-label="cost by ([a-zA-Z ]+)"`)
	for _, c := range []struct {
		name  string
		shift []time.Duration
		unit  string
		n     int
	}{
		{"one day", nil, "day", 1},
		{"a gap of three days", []time.Duration{4 * day}, "day", 5},
		{"half a year", []time.Duration{100 * day, 200 * day}, "ISO week", 0},
	} {
		traces := []reconstruct.Trace{base}
		for _, d := range c.shift {
			traces = append(traces, shiftTrace(base, d))
		}
		var buf bytes.Buffer
		v, err := NewViewWriter(&buf, ViewOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range traces {
			if err := v.Write(traces[i : i+1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := v.Close(ViewSummary{}); err != nil {
			t.Fatal(err)
		}
		m := cols.FindStringSubmatch(buf.String())
		if m == nil {
			t.Fatalf("%s: no time chart", c.name)
		}
		width, _ := strconv.Atoi(m[1])
		n := width / 14
		if m[2] != c.unit {
			t.Errorf("%s: chart by %s, want by %s", c.name, m[2], c.unit)
		}
		if c.n > 0 && n != c.n {
			t.Errorf("%s: %d columns, want %d", c.name, n, c.n)
		}
		if c.unit == "ISO week" && (n < 28 || n > 30) {
			t.Errorf("%s: %d weekly columns for 200 days", c.name, n)
		}
	}
}
