package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/report"
)

func init() { extraCommands = append(extraCommands, newHTMLCmd) }

func newHTMLCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var out, title string
	var content bool
	cmd := &cobra.Command{
		Use:   "html [paths...] -o view.html",
		Short: "Write a self-contained HTML page with a waterfall per run",
		Long: `html writes one HTML file (inline CSS, no scripts or external resources) with
a waterfall per reconstructed run: every LLM call, compaction call and tool
call as a bar, coloured by kind, red on error, hatched below confidence
0.5. Hover a bar for tokens, cost and status; click a row for its links and
evidence. Use --session / --since to keep the page small on big corpora.`,
		Example: `  clawtrace html fixtures/corpus/openclaw-2026.9.6/04-parallel -o view.html
  clawtrace html --since 2026-06-01 --agent main -o june.html`,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := openPipeline(args, &f, stdio, ingest.ParseOptions{Content: content})
			if err != nil {
				return err
			}
			write := func(w io.Writer) error {
				h := report.NewHTMLWriter(w, title, content)
				if err := p.each(cmd.Context(), func(s *ingest.Session, traces []reconstruct.Trace) error {
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
			return p.finish()
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (default stdout)")
	cmd.Flags().StringVar(&title, "title", "clawtrace runs", "page title")
	cmd.Flags().BoolVar(&content, "content", false, "include message and tool content (off by default)")
	return cmd
}
