package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

func newEvalCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var truthPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "eval --truth truth.json [paths...]",
		Short: "Score the reconstruction against a ground-truth file",
		Long: `eval reconstructs the inputs and compares the result with a truth file
recorded at the provider (format: fixtures/corpus/README.md): LLM-call
precision and recall, tool-link accuracy, containment and overhang of chat
spans, tool spans within their gaps, parent accuracy, and the expected
calibration error of the confidence scores. Give the hook dump among the
inputs to score the "with hooks" mode, leave it out for transcripts alone.`,
		Example: `  clawtrace eval --truth fixtures/corpus/openclaw-2026.9.6/06-retry/truth.json \
      fixtures/corpus/openclaw-2026.9.6/06-retry/state fixtures/corpus/openclaw-2026.9.6/06-retry/hooks.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if truthPath == "" {
				return usageErr("--truth is required")
			}
			tf, err := os.Open(truthPath)
			if err != nil {
				return err
			}
			truth, err := reconstruct.ReadTruth(tf)
			tf.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", truthPath, err)
			}
			p, err := openPipeline(args, &f, stdio, ingest.ParseOptions{})
			if err != nil {
				return err
			}
			var traces []reconstruct.Trace
			var sessions []*ingest.Session
			if err := p.each(cmd.Context(), func(s *ingest.Session, ts []reconstruct.Trace) error {
				sessions = append(sessions, s)
				traces = append(traces, ts...)
				return nil
			}); err != nil {
				return err
			}
			res := reconstruct.Evaluate(traces, sessions, truth)
			if asJSON {
				enc := json.NewEncoder(stdio.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			printEval(stdio, &res)
			return p.finish()
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&truthPath, "truth", "", "truth.json recorded at the provider")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func printEval(stdio IO, r *reconstruct.EvalResult) {
	w := stdio.Out
	mode := "transcripts only"
	if r.Hooks {
		mode = "with hooks"
	}
	fmt.Fprintf(w, "scenario %s (%s)\n", r.Scenario, mode)
	fmt.Fprintf(w, "  llm calls   precision %.3f  recall %.3f  (%d chat spans, %d of %d revealable provider requests matched, %d in truth)\n",
		r.LLMPrecision, r.LLMRecall, r.ChatSpans, r.Matched, r.Revealable, r.TruthCalls)
	fmt.Fprintf(w, "  timing      containment %.3f  overhang median %.0f ms, p95 %.0f ms, max %.0f ms\n", r.Containment, r.OverhangMedian, r.OverhangP95, r.OverhangMax)
	fmt.Fprintf(w, "  tools       link accuracy %.3f  within gap %.3f  (%d spans, %d in truth)\n", r.ToolLinkAccuracy, r.ToolWithinGap, r.ToolSpans, r.TruthTools)
	if r.ToolExecContainment != nil {
		fmt.Fprintf(w, "  exec timing containment %.3f  overhang median %.0f ms\n", *r.ToolExecContainment, *r.ToolExecOverhangMedian)
	}
	fmt.Fprintf(w, "  parents     accuracy %.3f\n", r.ParentAccuracy)
	fmt.Fprintf(w, "  confidence  ECE %.4f  mean %.3f\n", r.ECE, r.MeanConfidence)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  ! %s\n", p)
	}
}
