package main

import (
	"io"
	"regexp"

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
	cmd := &cobra.Command{
		Use:     "view [paths...] -o report.html",
		Aliases: []string{"html"},
		Short: "Write a self-contained HTML page with a waterfall per run",
		Long: `html writes one HTML file (inline CSS, no scripts or external resources) with
a waterfall per reconstructed run: every LLM call, compaction call and tool
call as a bar, coloured by kind, red on error, hatched at confidence 0.5
or below, faded off the active branch. Hover a bar for tokens, cost and status; click a row for its links and
evidence. Use --session / --since to keep the page small on big corpora.
Message and tool text is left out unless --content is given; --redact masks
parts of it and of error messages, as for reconstruct.`,
		Example: `  clawtrace view fixtures/corpus/openclaw-2026.9.6/04-parallel -o view.html
  clawtrace view --since 2026-06-01 --agent main -o june.html
  clawtrace view --content --redact 'sk-[A-Za-z0-9]+' --session s04 -o s04.html`,
		RunE: func(cmd *cobra.Command, args []string) error {
			redact, err := cf.regexps()
			if err != nil {
				return err
			}
			inputs := inputPaths(args, &f)
			if err := outputIsInput("--output", out, inputs, nil); err != nil {
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
				h := report.NewHTMLWriter(w, title, cf.content)
				if err := p.each(cmd.Context(), func(s *ingest.Session, traces []reconstruct.Trace) error {
					redactSpans(traces, redact)
					return h.Write(traces)
				}); err != nil {
					return err
				}
				return h.Close()
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
	cf.register(cmd, "include message and tool content (off by default)")
	return cmd
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
