package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

func init() { extraCommands = append(extraCommands, newShowCmd) }

func newShowCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var evidence bool
	cmd := &cobra.Command{
		Use:   "show [paths...]",
		Short: "Print the reconstructed runs as text waterfalls",
		Long: `show prints every reconstructed run as an indented tree: the run, its LLM
calls and tool calls, with offsets from the run start, durations, tokens,
status and confidence. --evidence adds, for every span, how each field was
obtained (method, confidence, source lines).`,
		Example: `  clawtrace show fixtures/corpus/openclaw-2026.9.6/04-parallel/state
  clawtrace show --evidence --session s06 state/ hooks.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := openPipeline(args, &f, stdio, ingest.ParseOptions{})
			if err != nil {
				return err
			}
			err = p.each(cmd.Context(), func(s *ingest.Session, traces []reconstruct.Trace) error {
				for i := range traces {
					writeTraceText(stdio.Out, &traces[i], evidence)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return p.finish()
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&evidence, "evidence", false, "print the evidence of every span")
	return cmd
}

func writeTraceText(w io.Writer, t *reconstruct.Trace, evidence bool) {
	root := t.Root()
	fmt.Fprintf(w, "trace %s  agent=%s session=%s run=%s  %s  %s\n", t.ID, t.AgentID, t.SessionID, orDash(t.RunID),
		root.Start.Format(time.RFC3339Nano), fmtDur(root.Duration()))
	for i := range t.Spans {
		sp := &t.Spans[i]
		indent := "  "
		if sp.Kind != reconstruct.KindRun {
			indent = "    "
		}
		var extra []string
		if sp.Usage.Known {
			extra = append(extra, fmt.Sprintf("in=%d out=%d cache_read=%d cache_write=%d", sp.Usage.Input, sp.Usage.Output, sp.Usage.CacheRead, sp.Usage.CacheWrite))
		}
		if sp.Status == reconstruct.StatusError {
			extra = append(extra, "ERROR "+sp.StatusMessage)
		}
		if sp.OffPath {
			extra = append(extra, "off-path")
		}
		for _, l := range sp.Links {
			extra = append(extra, l.Relation+"="+l.Span.String())
		}
		fmt.Fprintf(w, "%s%-9s +%-8s %-8s %-36s conf=%.2f %s %s\n", indent, sp.Kind, fmtDur(sp.Start.Sub(root.Start)), fmtDur(sp.Duration()),
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
				fmt.Fprintf(w, "%s    %-12s %-22s %.2f %s%s\n", indent, e.Field, e.Method, e.Confidence, strings.Join(src, ","), note)
			}
		}
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Second && d > -time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
