package main

import (
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/report"
)

func init() { extraCommands = append(extraCommands, newViewCmd) }

func newViewCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var cf contentFlags
	var out, title string
	var maxRuns int
	rf := reportFlags{format: "table", by: []string{"model"}, sort: "cost"}
	cmd := &cobra.Command{
		Use:     "view [paths...] -o report.html",
		Aliases: []string{"html"},
		Short:   "Write a self-contained HTML page: cost charts, a sortable list of runs, a waterfall per run",
		Long: `view writes one HTML file with no network access (inline CSS, SVG and
script, nothing fetched): what it was built from and what was skipped;
totals; cost and tokens by day, model, tool and agent as charts (the
numbers of report --by); a list of runs sortable by start, cost, duration,
calls and lowest confidence, filterable and paginated; and for the run
picked, its waterfall: the run, every LLM call and the tool calls it
emitted on one time axis (parallel tools side by side), failed attempts and
compaction calls marked, each bar's opacity its confidence, inferred
boundaries dotted, confidence ≤ 0.5 hatched; click a row for its tokens,
cost, links and evidence.

Unknown cost shows as unknown, a lower bound as ≥. The page lists the
--max-runs dearest runs (by cost, then tokens; the charts and totals count
all of them); each run is a
compact JSON block that the page parses only when the run is opened, so
10,000 runs stay responsive. The same inputs give the same bytes.
Message and tool text is left out unless --content is given; --redact masks
parts of it and of error messages, as for reconstruct.`,
		Example: `  clawtrace view fixtures/corpus/openclaw-2026.9.6 -o report.html
  clawtrace view --since 2026-06-01 --agent main -o june.html
  clawtrace view --content --redact 'sk-[A-Za-z0-9]+' --session s04 -o s04.html`,
		RunE: func(cmd *cobra.Command, args []string) error {
			redact, err := cf.regexps()
			if err != nil {
				return err
			}
			if maxRuns < 1 {
				return usageErr("--max-runs %d: want 1 or more", maxRuns)
			}
			inputs := inputPaths(args, &f)
			if rf.pricing != "" {
				inputs = append(inputs, rf.pricing)
			}
			if err := outputIsInput("--output", out, inputs, nil); err != nil {
				return err
			}
			cfg, err := rf.resolve(false)
			if err != nil {
				return err
			}
			p, err := openPipeline(args, &f, stdio, ingest.ParseOptions{Content: cf.content})
			if err != nil {
				return err
			}
			if err := outputIsInput("--output", out, inputs, p.corpus.Inv); err != nil {
				return err
			}
			write := func(w io.Writer) error {
				v, err := report.NewViewWriter(w, report.ViewOptions{Title: title, Content: cf.content, Agg: cfg.agg, MaxRuns: maxRuns})
				if err != nil {
					return err
				}
				if err := p.each(cmd.Context(), func(s *ingest.Session, traces []reconstruct.Trace) error {
					v.AddSession(s)
					redactSpans(traces, redact)
					return v.Write(traces)
				}); err != nil {
					v.Abort()
					return err
				}
				return v.Close(report.ViewSummary{Inputs: inputs, Filters: filterFlags(cmd), SkippedLines: p.Skipped,
					Reasons: p.Reasons, SkippedFiles: p.SkippedFiles + p.Missing, Problems: redactAll(p.Problems, redact)})
			}
			if out == "" || out == "-" {
				err = write(stdio.Out)
			} else {
				err = atomicWrite(out, write)
			}
			if err != nil {
				return err
			}
			printSkipped(p)
			return p.finish()
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (default stdout)")
	cmd.Flags().StringVar(&title, "title", "clawtrace runs", "page title")
	cmd.Flags().IntVar(&maxRuns, "max-runs", report.DefaultViewRuns, "list this many dearest runs with their waterfalls (charts and totals count all)")
	cmd.Flags().BoolVar(&rf.reprice, "reprice", false, "price every call from the pricing table instead of the recorded cost")
	cmd.Flags().StringVar(&rf.pricing, "pricing", "", "JSON price table that overrides or extends the embedded one")
	cf.register(cmd, "include message and tool content (off by default)")
	return cmd
}

// redactAll applies --redact to diagnostics shown in the page.
func redactAll(xs []string, res []*regexp.Regexp) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		for _, re := range res {
			x = re.ReplaceAllLiteralString(x, report.Redacted)
		}
		out[i] = x
	}
	return out
}

// filterFlags lists the filtering flags given, as the page states them.
func filterFlags(cmd *cobra.Command) []string {
	var out []string
	for _, name := range []string{"agent", "session", "since", "until", "shard"} {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			v := fl.Value.String()
			if sv, ok := fl.Value.(interface{ GetSlice() []string }); ok {
				v = strings.Join(sv.GetSlice(), ",")
			}
			out = append(out, "--"+name+" "+v)
		}
	}
	return out
}

// redactSpans replaces every match of each expression, in order, by
// report.Redacted in the text the HTML page shows: the content (input and
// output) and the error message of every span, as the OTLP writer does
// for --redact.
func redactSpans(traces []reconstruct.Trace, res []*regexp.Regexp) {
	if len(res) == 0 {
		return
	}
	red := func(s string) string {
		for _, re := range res {
			s = re.ReplaceAllLiteralString(s, report.Redacted)
		}
		return s
	}
	for i := range traces {
		for j := range traces[i].Spans {
			sp := &traces[i].Spans[j]
			sp.Input, sp.Output, sp.StatusMessage = red(sp.Input), red(sp.Output), red(sp.StatusMessage)
		}
	}
}
