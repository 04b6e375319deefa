package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/clawtrace/clawtrace/ingest"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes. docs/cli.md documents them; keep both in sync.
const (
	exitOK         = 0
	exitError      = 1   // the job failed: a named input does not exist, write error, ...
	exitUsage      = 2   // bad flags or arguments
	exitSkipped    = 3   // --strict and some input lines or files were skipped
	exitRegression = 4   // check: a threshold was crossed
	exitInterrupt  = 130 // SIGINT / SIGTERM
)

// IO are the streams a command uses; tests replace them.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// exitError carries an exit code through cobra.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitErr) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitErr{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// Main runs clawtrace with args and returns the exit code.
func Main(ctx context.Context, args []string, stdio IO) int {
	defer ingest.RemoveTempFiles() // database copies, also when a command stops early
	root := newRootCmd(stdio)
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitError
	var ee *exitErr
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.Is(err, context.Canceled):
		code = exitInterrupt
	case strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") ||
		strings.Contains(err.Error(), "arg(s)"):
		code = exitUsage
	}
	msg := err.Error()
	if code == exitInterrupt {
		msg = "interrupted"
	}
	if msg != "" {
		fmt.Fprintf(stdio.Err, "clawtrace: %s\n", msg)
	}
	if code == exitUsage {
		fmt.Fprintln(stdio.Err, "Run 'clawtrace --help' for usage.")
	}
	return code
}

// inputFlags are the flags every command that reads inputs shares.
type inputFlags struct {
	agents, sessions []string
	since, until     string
	workers          int
	strict           bool
	quiet            bool
	shard            string
	hooks            []string
}

func (f *inputFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.agents, "agent", nil, "only these agent ids (repeatable, comma-separated)")
	fl.StringSliceVar(&f.sessions, "session", nil, "only these sessions: id, id prefix or session key (repeatable)")
	fl.StringVar(&f.since, "since", "", "only runs starting at or after this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.until, "until", "", "only runs starting before this time (RFC 3339, or YYYY-MM-DD meaning the end of that day)")
	fl.IntVar(&f.workers, "workers", 0, "sessions parsed in parallel (default: number of CPUs; output does not depend on it)")
	fl.BoolVar(&f.strict, "strict", false, "exit with code 3 if any input line or file was skipped")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "do not print skipped-line diagnostics on stderr")
	fl.StringVar(&f.shard, "shard", "", "process only slice K of N (K/N, by session id) for scale-out")
	fl.StringSliceVar(&f.hooks, "hooks", nil, "hook dump file(s) to read in addition to the inputs")
}

type timeRange struct{ since, until time.Time }

func (r timeRange) contains(t time.Time) bool {
	if !r.since.IsZero() && t.Before(r.since) {
		return false
	}
	if !r.until.IsZero() && !t.Before(r.until) {
		return false
	}
	return true
}

func parseWhen(s string, endOfDay bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("bad time %q: want RFC 3339 (2026-06-01T09:00:00Z) or a date (2026-06-01)", s)
}

func (f *inputFlags) timeRange() (timeRange, error) {
	var r timeRange
	var err error
	if r.since, err = parseWhen(f.since, false); err != nil {
		return r, usageErr("--since: %v", err)
	}
	if r.until, err = parseWhen(f.until, true); err != nil {
		return r, usageErr("--until: %v", err)
	}
	return r, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

const rootLong = `clawtrace reads what OpenClaw agents leave on disk — JSONL transcripts
(up to 2026.7.x), the per-agent SQLite store (2026.8+), session indexes and
hook dumps — and rebuilds every agent run as a trace:

  agent run → LLM call → tool call(s) → LLM call → …

with a confidence score and the evidence behind every inferred span. It
writes OTLP JSON (or pushes OTLP/HTTP), Parquet tables, cost attribution
reports, HTML waterfalls and CI regression checks. It works offline and
never writes to its inputs.

With no input paths it reads $OPENCLAW_STATE_DIR, else ~/.openclaw.
An input may be a state dir, an agents/<id> dir, a sessions dir, an agent
database (openclaw-agent.sqlite), a recording folder (state/ + hook dumps),
a folder of state dirs, single .jsonl / .jsonl.gz / .jsonl.zst files, a
hook dump, a diagnostics timeline, or - for stdin.`

func newRootCmd(stdio IO) *cobra.Command {
	root := &cobra.Command{
		Use:           "clawtrace",
		Short:         "Traces and honest cost numbers from OpenClaw transcripts",
		Long:          rootLong,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Example: `  clawtrace scan fixtures/corpus/openclaw-2026.9.6
  clawtrace report --by day,model
  clawtrace show --evidence --session s06 fixtures/corpus/openclaw-2026.9.6/06-retry
  clawtrace reconstruct ~/.openclaw -o traces.jsonl
  clawtrace view --since 2026-06-01 -o runs.html
  clawtrace eval --corpus fixtures/corpus`,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitErr{code: exitUsage, err: err} })
	var cpuProfile, memProfile string
	var profFile *os.File
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) to this file")
	root.PersistentFlags().StringVar(&memProfile, "memprofile", "", "write a heap profile (pprof) to this file at exit")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	_ = root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		profFile = f
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRunE = func(*cobra.Command, []string) error {
		if profFile != nil {
			pprof.StopCPUProfile()
			profFile.Close()
		}
		if memProfile != "" {
			f, err := os.Create(memProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			return pprof.WriteHeapProfile(f)
		}
		return nil
	}
	root.AddCommand(newScanCmd(stdio), newEvalCmd(stdio))
	for _, add := range extraCommands {
		root.AddCommand(add(stdio))
	}
	return root
}

// extraCommands lets each command file register itself.
var extraCommands []func(IO) *cobra.Command
