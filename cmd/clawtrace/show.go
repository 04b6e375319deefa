package main

import (
	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

func init() { extraCommands = append(extraCommands, newShowCmd) }

func newShowCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var evidence bool
	var redactExprs []string
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
			redact, err := compileRedact(redactExprs)
			if err != nil {
				return err
			}
			p, err := openPipeline(args, &f, stdio, ingest.ParseOptions{})
			if err != nil {
				return err
			}
			err = p.each(cmd.Context(), func(s *ingest.Session, traces []reconstruct.Trace) error {
				redactSpans(traces, redact)
				for i := range traces {
					if err := reconstruct.WriteText(stdio.Out, &traces[i], evidence); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			printSkipped(p)
			return p.finish()
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&evidence, "evidence", false, "print the evidence of every span")
	registerRedact(cmd.Flags(), &redactExprs)
	return cmd
}
