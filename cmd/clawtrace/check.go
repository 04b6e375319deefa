package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/report"
)

func init() { extraCommands = append(extraCommands, newBaselineCmd, newCheckCmd) }

// thresholdFlags are the threshold flags of baseline and check.
type thresholdFlags struct {
	maxCost, maxTokens, maxCalls, maxDuration string
	failOn, requireTool, forbidTool           []string
	minConfidence                             float64
}

func (t *thresholdFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&t.maxCost, "max-cost-increase", "", `largest allowed cost increase per scenario: "10%" or USD ("0.01")`)
	fl.StringVar(&t.maxTokens, "max-tokens-increase", "", `largest allowed increase of total tokens: "10%" or tokens ("500")`)
	fl.StringVar(&t.maxCalls, "max-calls-increase", "", `largest allowed increase of LLM calls and of tool calls, each: "10%" or calls ("1")`)
	fl.StringVar(&t.maxDuration, "max-duration-increase", "", `largest allowed increase of the summed run durations: "25%", ms ("500") or "2s"`)
	fl.StringSliceVar(&t.failOn, "fail-on", nil, "fail when a scenario has more tool-error or provider-error than its baseline (comma-separated; none: off)")
	fl.StringSliceVar(&t.requireTool, "require-tool", nil, "fail when a scenario never calls this tool (repeatable, comma-separated)")
	fl.StringSliceVar(&t.forbidTool, "forbid-tool", nil, "fail when a scenario calls this tool (repeatable, comma-separated)")
	fl.Float64Var(&t.minConfidence, "min-confidence", 0, "fail when a span of a scenario has a lower confidence (0 to 1)")
}

// thresholds returns the thresholds the flags set; flags not given stay
// unset. Bad values are usage errors.
func (t *thresholdFlags) thresholds(cmd *cobra.Command) (report.Thresholds, error) {
	var th report.Thresholds
	fl := cmd.Flags()
	for _, l := range []struct {
		flag  string
		val   string
		dst   **report.Limit
		parse func(string) (report.Limit, error)
	}{
		{"max-cost-increase", t.maxCost, &th.MaxCostIncrease, report.ParseLimit},
		{"max-tokens-increase", t.maxTokens, &th.MaxTokensIncrease, report.ParseLimit},
		{"max-calls-increase", t.maxCalls, &th.MaxCallsIncrease, report.ParseLimit},
		{"max-duration-increase", t.maxDuration, &th.MaxDurationIncrease, report.ParseDurationLimit},
	} {
		if !fl.Changed(l.flag) {
			continue
		}
		lim, err := l.parse(l.val)
		if err != nil {
			return th, usageErr("--%s: %v", l.flag, err)
		}
		*l.dst = &lim
	}
	if fl.Changed("fail-on") {
		th.FailOn = []string{}
		for _, v := range t.failOn {
			switch v = strings.TrimSpace(v); v {
			case "none", "":
			case report.FailOnToolError, report.FailOnProviderError:
				th.FailOn = append(th.FailOn, v)
			default:
				return th, usageErr("--fail-on %q: want %s, %s or none", v, report.FailOnToolError, report.FailOnProviderError)
			}
		}
	}
	for _, l := range []struct {
		flag string
		val  []string
		dst  *[]string
	}{{"require-tool", t.requireTool, &th.RequireTool}, {"forbid-tool", t.forbidTool, &th.ForbidTool}} {
		if !fl.Changed(l.flag) {
			continue
		}
		*l.dst = []string{}
		for _, v := range l.val {
			if v = strings.TrimSpace(v); v == "" {
				return th, usageErr("--%s: empty tool name", l.flag)
			}
			*l.dst = append(*l.dst, v)
		}
	}
	if fl.Changed("min-confidence") {
		if t.minConfidence < 0 || t.minConfidence > 1 {
			return th, usageErr("--min-confidence %v: want a value from 0 to 1", t.minConfidence)
		}
		c := t.minConfidence
		th.MinConfidence = &c
	}
	return th, nil
}

// filtered reports whether an input filter may have left out sessions.
func (f *inputFlags) filtered() bool {
	return len(f.agents) > 0 || len(f.sessions) > 0 || f.since != "" || f.until != "" || f.shard != ""
}

// openWithMap reads the scenario map and opens the inputs, then checks
// that the output named by flag is not a file discovery found among them.
func openWithMap(args []string, f *inputFlags, stdio IO, scenarios, flag, out string, inputs []string) (*pipeline, *report.ScenarioMap, error) {
	smap, err := readScenarioMap(scenarios)
	if err != nil {
		return nil, nil, err
	}
	p, err := openPipeline(args, f, stdio, ingest.ParseOptions{})
	if err != nil {
		return nil, nil, err
	}
	if err := outputIsInput(flag, out, inputs, p.corpus.Inv); err != nil {
		return nil, nil, err
	}
	return p, smap, nil
}

// readScenarioMap reads --scenarios; "" means no map.
func readScenarioMap(path string) (*report.ScenarioMap, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return report.ReadScenarioMap(f, path)
}

// buildBaseline reconstructs the inputs and sums them per scenario.
func buildBaseline(cmd *cobra.Command, p *pipeline, smap *report.ScenarioMap, th report.Thresholds) (*report.Baseline, error) {
	b := report.NewBaselineBuilder(smap)
	err := p.each(cmd.Context(), func(_ *ingest.Session, traces []reconstruct.Trace) error {
		return b.AddSession(traces)
	})
	if err != nil {
		return nil, err
	}
	return b.Baseline(th), nil
}

// writeFileAtomicCheck writes data to path atomically (see atomicWrite).
func writeFileAtomicCheck(path string, data []byte) error {
	return atomicWrite(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

const checkExitCodes = `Exit codes:
  0  every check passed (warnings, such as new scenarios, allowed)
  1  the baseline or the scenario map is malformed, a named input does not
     exist, or an output could not be written
  2  bad flags or arguments (a bad threshold value)
  3  --strict and some input lines or files were skipped (only if no check
     failed)
  4  a threshold was crossed, or a baseline scenario is missing`

const thresholdHelp = `Thresholds (flags override the "thresholds" of the baseline file):
  --max-cost-increase 10%      cost_usd may grow by at most 10% ("0.01": USD)
  --max-tokens-increase 10%    tokens.total (input+output+cache read+write)
  --max-calls-increase 1       llm_calls and tool_calls, each
  --max-duration-increase 25%  wall_duration_ms ("500": ms, or "2s")
  --fail-on tool-error,provider-error
                               no more tool errors / failed provider calls
                               than the baseline (0 if it had none)
  --require-tool NAME          every scenario calls NAME at least once
  --forbid-tool NAME           no scenario calls NAME
  --min-confidence 0.5         no span with a lower confidence
A percentage is relative to the baseline value (from 0, any increase
fails); a plain number is an absolute increase in the metric's unit.`

const baselineLong = `baseline reconstructs the inputs and writes one entry of metrics per
scenario to a JSON file meant to be committed and reviewed: runs, LLM
calls, compaction calls, tool calls by name, tool errors, provider errors,
tokens by kind, recorded cost (null when unknown), summed run duration,
longest LLM call chain and lowest span confidence. 'clawtrace check'
compares later inputs against it.

A scenario is one session, named "<agent>/<session id>"; a subagent
session counts toward the scenario of the session that spawned it. With
--scenarios, sessions are grouped by a JSON file mapping a scenario name to
session ids, session keys or globs:

  {"summarise": ["s02", "agent:main:explicit:s03"], "spawn": ["main/s1*"]}

Threshold flags given here are stored in the file. When the output file
exists, its thresholds are kept (flags override them), so regenerating a
baseline never drops the gate; the command refuses to overwrite a baseline
it cannot read. The file is written atomically (temporary file + rename).
docs/ci.md documents the file format.

` + thresholdHelp + `

Exit codes: 0 written; 1 a named input does not exist, malformed existing
baseline or scenario map, or no runs found; 2 bad flags; 3 --strict and
some input lines or files were skipped.`

func newBaselineCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var tf thresholdFlags
	var out, scenarios string
	cmd := &cobra.Command{
		Use:   "baseline [paths...] -o baseline.json",
		Short: "Write per-scenario metrics for 'clawtrace check' to compare against",
		Long:  baselineLong,
		Example: `  clawtrace baseline recordings/state recordings/hooks.jsonl -o baseline.json
  clawtrace baseline --scenarios scenarios.json --max-cost-increase 10% -o baseline.json state/
  clawtrace baseline state/ -o -            # print to stdout`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cli, err := tf.thresholds(cmd)
			if err != nil {
				return err
			}
			if out == "" {
				return usageErr("-o is required: a file, or - for stdout")
			}
			inputs := inputPaths(args, &f)
			if scenarios != "" {
				inputs = append(inputs, scenarios)
			}
			if err := outputIsInput("--output", out, inputs, nil); err != nil {
				return err
			}
			p, smap, err := openWithMap(args, &f, stdio, scenarios, "--output", out, inputs)
			if err != nil {
				return err
			}
			var kept report.Thresholds
			if out != "-" {
				if data, err := os.ReadFile(out); err == nil {
					old, err := report.ReadBaseline(bytes.NewReader(data), out)
					if err != nil {
						return fmt.Errorf("%w (not overwriting a baseline that cannot be read: its thresholds would be lost; fix or delete it)", err)
					}
					kept = old.Thresholds
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			bl, err := buildBaseline(cmd, p, smap, kept.Override(cli))
			if err != nil {
				return err
			}
			if len(bl.Scenarios) == 0 {
				return errors.New("no runs in the inputs: not writing an empty baseline")
			}
			printSkipped(p)
			if err := p.finish(); err != nil {
				// A missing input, or --strict and skipped lines or
				// files: a baseline of incomplete inputs is not written.
				return fmt.Errorf("%w; baseline not written", err)
			}
			var buf bytes.Buffer
			if err := bl.Write(&buf); err != nil {
				return err
			}
			if out == "-" {
				if _, err := stdio.Out.Write(buf.Bytes()); err != nil {
					return err
				}
			} else {
				if err := writeFileAtomicCheck(out, buf.Bytes()); err != nil {
					return err
				}
				runs := int64(0)
				for _, m := range bl.Scenarios {
					runs += m.Runs
				}
				fmt.Fprintf(stdio.Err, "wrote %s: %s scenarios, %s runs\n", out, num(len(bl.Scenarios)), num64(runs))
				if !kept.IsZero() {
					fmt.Fprintf(stdio.Err, "kept the thresholds of the existing %s\n", out)
				}
			}
			return nil
		},
	}
	f.register(cmd)
	tf.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "baseline file to write (- for stdout)")
	cmd.Flags().StringVar(&scenarios, "scenarios", "", "JSON file grouping sessions into named scenarios")
	return cmd
}

const checkLong = `check reconstructs the inputs, sums them per scenario exactly as
'clawtrace baseline' does, and compares every scenario with the baseline
file. It prints one row per scenario and check (a diff table, or JSON with
--json) and fails when a threshold is crossed.

A scenario of the baseline that is missing from the inputs fails; a
scenario that is new (not in the baseline) is a warning: its values are not
compared, but --fail-on (against 0), --require-tool, --forbid-tool and
--min-confidence still apply. With --agent, --session, --since, --until or
--shard, a missing scenario is only a warning. A cost check is skipped, with a warning, when
the cost is unknown on either side. Pass the same --scenarios file as when
the baseline was made.

For CI: --junit FILE writes JUnit XML (one test case per scenario and
check); when GITHUB_ACTIONS=true every failure and warning is also printed
as a GitHub Actions annotation (on stderr with --json, else on stdout); when
GITHUB_STEP_SUMMARY names a file, a Markdown summary is appended to it.
docs/ci.md has a complete workflow.

` + thresholdHelp + `

` + checkExitCodes

func newCheckCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var tf thresholdFlags
	var baselinePath, scenarios, junit string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check --baseline baseline.json [paths...]",
		Short: "Fail when runs got more expensive, slower or started failing (CI gate)",
		Long:  checkLong,
		Example: `  clawtrace check --baseline baseline.json recordings/state recordings/hooks.jsonl
  clawtrace check --baseline baseline.json --max-cost-increase 10% --fail-on tool-error state/
  clawtrace check --baseline baseline.json --junit check.xml --json state/ > check.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if baselinePath == "" {
				return usageErr("--baseline is required")
			}
			cli, err := tf.thresholds(cmd)
			if err != nil {
				return err
			}
			inputs := append(inputPaths(args, &f), baselinePath)
			if scenarios != "" {
				inputs = append(inputs, scenarios)
			}
			if err := outputIsInput("--junit", junit, inputs, nil); err != nil {
				return err
			}
			data, err := os.ReadFile(baselinePath)
			if err != nil {
				return err
			}
			base, err := report.ReadBaseline(bytes.NewReader(data), baselinePath)
			if err != nil {
				return err
			}
			p, smap, err := openWithMap(args, &f, stdio, scenarios, "--junit", junit, inputs)
			if err != nil {
				return err
			}
			cur, err := buildBaseline(cmd, p, smap, report.Thresholds{})
			if err != nil {
				return err
			}
			if len(cur.Scenarios) == 0 {
				// Nothing to compare (an empty dir, a filter that matches
				// nothing): not a pass, and not a regression either.
				return errors.New("no runs in the inputs: nothing to check")
			}
			rep := report.Compare(base, cur, base.Thresholds.Override(cli))
			if f.filtered() {
				rep.AllowMissing("the inputs were filtered with --agent, --session, --since, --until or --shard")
			}
			if err := writeCheckOutputs(stdio, rep, asJSON, junit); err != nil {
				return err
			}
			printSkipped(p)
			if rep.Failed() {
				_, fail, _, _ := rep.Counts()
				return &exitErr{code: exitRegression, err: fmt.Errorf("check failed: %d of %d checks failed", fail, len(rep.Results))}
			}
			return p.finish()
		},
	}
	f.register(cmd)
	tf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&baselinePath, "baseline", "", "baseline file written by 'clawtrace baseline' (required)")
	fl.StringVar(&scenarios, "scenarios", "", "JSON file grouping sessions into named scenarios (as for baseline)")
	fl.BoolVar(&asJSON, "json", false, "print the results as one JSON object instead of a table")
	fl.StringVar(&junit, "junit", "", "also write the results as JUnit XML to this file")
	return cmd
}

// writeCheckOutputs writes the table or JSON, the JUnit file, the GitHub
// annotations and the step summary.
func writeCheckOutputs(stdio IO, rep *report.CheckReport, asJSON bool, junit string) error {
	if asJSON {
		if err := rep.WriteJSON(stdio.Out); err != nil {
			return err
		}
	} else if err := rep.WriteTable(stdio.Out); err != nil {
		return err
	}
	if junit != "" {
		var buf bytes.Buffer
		if err := rep.WriteJUnit(&buf); err != nil {
			return err
		}
		if err := writeFileAtomicCheck(junit, buf.Bytes()); err != nil {
			return err
		}
	}
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		var w io.Writer = stdio.Out
		if asJSON {
			w = stdio.Err // keep stdout valid JSON; the runner reads both
		}
		if err := rep.WriteAnnotations(w); err != nil {
			return err
		}
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		var buf bytes.Buffer
		if err := rep.WriteMarkdown(&buf); err != nil {
			return err
		}
		sf, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
		}
		if _, err := sf.Write(buf.Bytes()); err != nil {
			sf.Close()
			return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
		}
		if err := sf.Close(); err != nil {
			return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	return nil
}
