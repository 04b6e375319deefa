package reconstruct

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText writes a trace as an indented text waterfall: one line per
// span with its offset from the run start, duration, tokens, status, links
// and confidence; with evidence, one line per evidence record below each
// span. The format is for people and golden tests, not for parsing.
func WriteText(w io.Writer, t *Trace, evidence bool) error {
	root := t.Root()
	var b strings.Builder
	fmt.Fprintf(&b, "trace %s  agent=%s session=%s run=%s  %s  %s\n", t.ID, t.AgentID, t.SessionID, orDash(t.RunID),
		root.Start.UTC().Format(time.RFC3339Nano), fmtDur(root.Duration()))
	for i := range t.Spans {
		sp := &t.Spans[i]
		indent := "  "
		if sp.Kind != KindRun {
			indent = "    "
		}
		var extra []string
		if sp.Usage.Known {
			extra = append(extra, fmt.Sprintf("in=%d out=%d cache_read=%d cache_write=%d", sp.Usage.Input, sp.Usage.Output, sp.Usage.CacheRead, sp.Usage.CacheWrite))
			if sp.Usage.Cost != nil {
				extra = append(extra, fmt.Sprintf("cost=$%.6f", sp.Usage.Cost.Total))
			}
		}
		if sp.Status == StatusError {
			extra = append(extra, "ERROR "+sp.StatusMessage)
		}
		if sp.OffPath {
			extra = append(extra, "off-path")
		}
		for _, l := range sp.Links {
			extra = append(extra, l.Relation+"="+l.Span.String())
		}
		fmt.Fprintf(&b, "%s%-10s +%-8s %-8s %-30s conf=%.2f %s %s\n", indent, sp.Kind, fmtDur(sp.Start.Sub(root.Start)), fmtDur(sp.Duration()),
			sp.Name, sp.Confidence, sp.ID, strings.Join(extra, " "))
		if evidence {
			for _, e := range sp.Evidence {
				var src []string
				for _, s := range e.Sources {
					src = append(src, s.String())
				}
				note := ""
				if e.Note != "" {
					note = " — " + e.Note
				}
				fmt.Fprintf(&b, "%s    %-12s %-22s %.2f %s%s\n", indent, e.Field, e.Method, e.Confidence, strings.Join(src, ","), note)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtDur(d time.Duration) string {
	if d < time.Second && d > -time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
