package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/report"
)

func init() { extraCommands = append(extraCommands, newReportCmd) }

// reportFlags are the flags of the report command besides inputFlags.
type reportFlags struct {
	by      []string
	format  string
	reprice bool
	pricing string
	top     int
	sort    string
	out     string
}

// reportConfig is what the flags resolve to.
type reportConfig struct {
	agg    report.Options
	rep    report.ReportOptions
	format string
}

// resolve checks the flags and loads the price table. Every problem is a
// usage error (exit 2).
func (rf *reportFlags) resolve(formatSet bool) (reportConfig, error) {
	var cfg reportConfig
	dims, err := report.ParseDimensions(rf.by)
	if err != nil {
		return cfg, usageErr("--by: %v", err)
	}
	cfg.agg.GroupBy = dims
	if rf.reprice {
		cfg.agg.Mode = report.CostRepriced
	}
	if cfg.rep.Sort, err = report.ParseSortKey(rf.sort); err != nil {
		return cfg, usageErr("--sort: %v", err)
	}
	if rf.top < 0 {
		return cfg, usageErr("--top %d: want 0 (all rows) or more", rf.top)
	}
	cfg.rep.Top = rf.top
	cfg.format = strings.ToLower(rf.format)
	if !formatSet && rf.out != "" && rf.out != "-" {
		switch strings.ToLower(filepath.Ext(rf.out)) {
		case ".json":
			cfg.format = "json"
		case ".csv":
			cfg.format = "csv"
		case ".md", ".markdown":
			cfg.format = "markdown"
		}
	}
	if !slices.Contains(report.Formats, cfg.format) {
		return cfg, usageErr("--format %q: want %s", rf.format, strings.Join(report.Formats, ", "))
	}
	cfg.agg.Pricing = report.DefaultPricing()
	if rf.pricing != "" {
		f, err := os.Open(rf.pricing)
		if err != nil {
			return cfg, usageErr("--pricing: %v", err)
		}
		defer f.Close()
		o, err := report.LoadPricing(f, filepath.Base(rf.pricing))
		if err != nil {
			return cfg, usageErr("--pricing: %v", err)
		}
		cfg.agg.Pricing = cfg.agg.Pricing.Override(o)
	}
	return cfg, nil
}

const reportLong = `report sums the tokens and the cost of the reconstructed runs by any
combination of agent, session, run, model, provider, tool, subagent, day,
week and month (UTC, by the start of each LLM call; weeks are ISO weeks).

Columns: llm calls, tool calls, tool errors, input (uncached prompt tokens),
output, cache read and cache write tokens, cost in USD, its source and the
calls that had usage but no price.

Cost sources: by default the cost OpenClaw recorded in the transcript
(calls without one are priced from the table: "repriced"); --reprice prices
every call from the embedded pricing table (input, output, cache read, cache
write, long-context tiers), and --pricing FILE overrides or extends that
table (same JSON format). A row is "recorded", "repriced", "mixed" (both,
or some calls of unknown cost: unpriced, or without usage though they did
not fail; the cost is then a lower bound, shown as ≥) or "unknown" (no
price at all: shown as unknown, never as 0). Failed attempts without usage
are taken as not billed.

With --by tool (or subagent), each LLM call's tokens and cost are split
equally across the tool calls it emitted (decision cost; calls that emitted
none are "(no tool)"), and extra columns show allocated estimates: the
context cost of each tool's results in the later calls of the run, and the
rolled-up cost of the subagent sessions a tool call spawned. They are
estimates with a method and a confidence and do not add up across rows.

Every grouping sums to the total row, which is the sum of the usage of
every LLM call. The footer gives the coverage: sessions read, archived
copies deduped, deleted sessions included, unpriced calls, low-confidence
spans and skipped lines. docs/cost.md explains every number.`

func newReportCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var rf reportFlags
	cmd := &cobra.Command{
		Use:   "report [paths...]",
		Short: "Cost attribution by agent, session, run, model, tool, subagent and time",
		Long:  reportLong,
		Example: `  clawtrace report --by day,model
  clawtrace report --by tool --top 10 ~/.openclaw
  clawtrace report --by model --reprice --format json -o cost.json
  clawtrace report --by agent,month --pricing my-prices.json --format csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs := inputPaths(args, &f)
			if rf.pricing != "" {
				inputs = append(inputs, rf.pricing)
			}
			if err := outputIsInput("--output", rf.out, inputs, nil); err != nil {
				return err
			}
			cfg, err := rf.resolve(cmd.Flags().Changed("format"))
			if err != nil {
				return err
			}
			p, err := openPipeline(args, &f, stdio, ingest.ParseOptions{})
			if err != nil {
				return err
			}
			if err := outputIsInput("--output", rf.out, inputs, p.corpus.Inv); err != nil {
				return err
			}
			agg, err := report.NewAggregator(cfg.agg)
			if err != nil {
				return usageErr("%v", err)
			}
			prog := newProgressLine(stdio.Err, p.corpus.NumSessions(), !f.quiet && isTerminal(stdio.Err))
			sessionSkipped := 0
			err = p.each(cmd.Context(), func(s *ingest.Session, traces []reconstruct.Trace) error {
				agg.AddSession(s)
				agg.Add(traces)
				sessionSkipped += s.SkippedLines
				prog.step()
				return nil
			})
			prog.done()
			if err != nil {
				return err
			}
			// The footer's skipped lines are the pipeline's: the sessions'
			// plus those outside sessions (hook dumps).
			agg.AddSkippedLines(p.Skipped - sessionSkipped)
			agg.AddSkippedFiles(p.SkippedFiles)
			rep := agg.Report(cfg.rep)
			toStdout := rf.out == "" || rf.out == "-"
			wopt := report.WriteOptions{Color: toStdout && isTerminal(stdio.Out) && os.Getenv("NO_COLOR") == ""}
			write := func(w io.Writer) error { return rep.Write(w, cfg.format, wopt) }
			if toStdout {
				err = write(stdio.Out)
			} else {
				err = atomicWrite(rf.out, write)
			}
			if err != nil {
				return err
			}
			return p.finish()
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringSliceVar(&rf.by, "by", []string{"model"}, "group by these, comma-separated: agent, session, run, model, provider, tool, subagent, day, week, month")
	fl.StringVarP(&rf.format, "format", "f", "table", "output format: table, markdown, csv or json (default from the -o extension, else table)")
	fl.BoolVar(&rf.reprice, "reprice", false, "price every call from the pricing table instead of the recorded cost")
	fl.StringVar(&rf.pricing, "pricing", "", "JSON price table that overrides or extends the embedded one (same format as report/pricing.json)")
	fl.IntVar(&rf.top, "top", 0, "show the first N rows and fold the rest into one \"(other)\" row (0: all)")
	fl.StringVar(&rf.sort, "sort", "cost", "order rows by cost, tokens, calls (highest first) or name; ties by key")
	fl.StringVarP(&rf.out, "output", "o", "", "write to this file (atomically) instead of stdout")
	return cmd
}

// progressLine shows "sessions n/N" on one terminal line when enabled
// (stderr is a terminal and not --quiet); otherwise nothing. It starts
// after half a second, so short runs print nothing, and redraws at most
// ten times a second.
type progressLine struct {
	w           io.Writer
	n, of       int
	on          bool
	start, last time.Time
	written     bool
}

func newProgressLine(w io.Writer, of int, on bool) *progressLine {
	return &progressLine{w: w, of: of, on: on, start: time.Now()}
}

func (p *progressLine) step() {
	p.n++
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < 500*time.Millisecond {
		return
	}
	if p.n == p.of || now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		fmt.Fprintf(p.w, "\rclawtrace: sessions %d/%d", p.n, p.of)
		p.written = true
	}
}

// done erases the progress line.
func (p *progressLine) done() {
	if p.on && p.written {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
