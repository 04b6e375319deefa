package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

func newEvalCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var truthPath, corpusDir, mode string
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
			if corpusDir != "" {
				return evalCorpus(cmd, stdio, &f, corpusDir, mode, asJSON)
			}
			if truthPath == "" {
				return usageErr("--truth (or --corpus) is required")
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
			res, err := evalWith(cmd, p, truth)
			if err != nil {
				return err
			}
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
	cmd.Flags().StringVar(&corpusDir, "corpus", "", "score every scenario under DIR (each a folder with state/, hooks.jsonl, truth.json)")
	cmd.Flags().StringVar(&mode, "mode", "both", "with --corpus: hooks, transcripts or both")
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

func evalWith(cmd *cobra.Command, p *pipeline, truth *reconstruct.Truth) (reconstruct.EvalResult, error) {
	var traces []reconstruct.Trace
	var sessions []*ingest.Session
	if err := p.each(cmd.Context(), func(s *ingest.Session, ts []reconstruct.Trace) error {
		sessions = append(sessions, s)
		traces = append(traces, ts...)
		return nil
	}); err != nil {
		return reconstruct.EvalResult{}, err
	}
	return reconstruct.Evaluate(traces, sessions, truth), nil
}

// evalCorpus scores every scenario folder (one holding truth.json) found
// under dir, in both modes, and prints one row per scenario and mode plus
// the pooled rows.
func evalCorpus(cmd *cobra.Command, stdio IO, f *inputFlags, dir, mode string, asJSON bool) error {
	var modes []bool // with hooks?
	switch mode {
	case "both":
		modes = []bool{false, true}
	case "hooks":
		modes = []bool{true}
	case "transcripts":
		modes = []bool{false}
	default:
		return usageErr("--mode %q: want hooks, transcripts or both", mode)
	}
	truths, err := filepath.Glob(filepath.Join(dir, "*", "truth.json"))
	if err != nil {
		return err
	}
	more, _ := filepath.Glob(filepath.Join(dir, "*", "*", "truth.json"))
	truths = append(truths, more...)
	slices.Sort(truths)
	if len(truths) == 0 {
		return fmt.Errorf("%s: no scenario folders with truth.json", dir)
	}
	type row struct {
		Scenario string                 `json:"scenario"`
		Hooks    bool                   `json:"hooks"`
		Result   reconstruct.EvalResult `json:"result"`
	}
	var rows []row
	pooled := map[bool][]reconstruct.EvalResult{}
	for _, withHooks := range modes {
		for _, tp := range truths {
			sc := filepath.Dir(tp)
			tf, err := os.Open(tp)
			if err != nil {
				return err
			}
			truth, err := reconstruct.ReadTruth(tf)
			tf.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", tp, err)
			}
			args := []string{filepath.Join(sc, "state")}
			if withHooks {
				args = append(args, filepath.Join(sc, "hooks.jsonl"))
			}
			ff := *f
			ff.quiet = true
			p, err := openPipeline(args, &ff, stdio, ingest.ParseOptions{})
			if err != nil {
				return err
			}
			res, err := evalWith(cmd, p, truth)
			if err != nil {
				return err
			}
			name, _ := filepath.Rel(dir, sc)
			res.Scenario = filepath.ToSlash(name)
			rows = append(rows, row{res.Scenario, withHooks, res})
			pooled[withHooks] = append(pooled[withHooks], res)
		}
	}
	for _, withHooks := range modes {
		label := "ALL (transcripts only)"
		if withHooks {
			label = "ALL (with hooks)"
		}
		rows = append(rows, row{label, withHooks, reconstruct.Pool(label, pooled[withHooks])})
	}
	if asJSON {
		enc := json.NewEncoder(stdio.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	w := stdio.Out
	fmt.Fprintf(w, "| scenario | hooks | LLM P | LLM R | tool links | containment | overhang median / p95 / max ms | tools in gap | exec containment | parents | ECE |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		x := r.Result
		exec := "–"
		if x.ToolExecContainment != nil {
			exec = fmt.Sprintf("%.3f", *x.ToolExecContainment)
		}
		hooks := "no"
		if r.Hooks {
			hooks = "yes"
		}
		fmt.Fprintf(w, "| %s | %s | %.3f | %.3f | %.3f | %.3f | %.0f / %.0f / %.0f | %.3f | %s | %.3f | %.3f |\n",
			r.Scenario, hooks, x.LLMPrecision, x.LLMRecall, x.ToolLinkAccuracy, x.Containment,
			x.OverhangMedian, x.OverhangP95, x.OverhangMax, x.ToolWithinGap, exec, x.ParentAccuracy, x.ECE)
	}
	return nil
}
