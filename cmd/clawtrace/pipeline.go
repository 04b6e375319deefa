package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

// pipeline reads the inputs session by session and reconstructs each one.
// Diagnostics for skipped lines go to stderr in input order.
type pipeline struct {
	corpus  *ingest.Corpus
	stdio   IO
	flags   *inputFlags
	rng     timeRange
	Skipped int
	Reasons map[string]int // short reason → count
	// Sessions counts the sessions delivered.
	Sessions int
	// ForkCopies counts LLM calls whose usage was already counted in an
	// earlier session (a /fork copy).
	ForkCopies int
	// SkippedFiles counts the inputs found but not read, or not to the end
	// (unreadable, corrupt database or compressed stream, dangling link):
	// reported and counted like skipped lines (exit 0, or 3 with --strict).
	SkippedFiles int
	// Missing counts the paths named as inputs that do not exist: a usage
	// mistake, the job exits 1.
	Missing int
	// Problems are the first maxProblems diagnostics, as printed.
	Problems []string
	fileErrs map[string]bool
	// headers are the (agent, header id, creation time) of the sessions
	// delivered: see renamedCopy.
	headers map[[3]string]string
	forks   reconstruct.ForkDeduper
}

func openPipeline(args []string, f *inputFlags, stdio IO, parse ingest.ParseOptions) (*pipeline, error) {
	rng, err := f.timeRange()
	if err != nil {
		return nil, err
	}
	if f.workers < 0 {
		return nil, usageErr("--workers %d: want 0 (one per CPU) or more", f.workers)
	}
	opt := ingest.Options{Parse: parse, Agents: f.agents, Sessions: f.sessions, Workers: f.workers, Stdin: stdio.In}
	if f.shard != "" {
		k, n, ok := strings.Cut(f.shard, "/")
		ki, e1 := strconv.Atoi(k)
		ni, e2 := strconv.Atoi(n)
		if !ok || e1 != nil || e2 != nil || ni < 1 || ki < 1 || ki > ni {
			return nil, usageErr("--shard %q: want K/N with 1 ≤ K ≤ N", f.shard)
		}
		opt.ShardK, opt.ShardN = ki, ni
	}
	paths := append(append([]string(nil), args...), f.hooks...)
	if len(args) == 0 {
		paths = append(ingest.DefaultStateDirs(), f.hooks...)
	}
	c, err := ingest.Open(paths, opt)
	if err != nil {
		return nil, err
	}
	p := &pipeline{corpus: c, stdio: stdio, flags: f, rng: rng, Reasons: map[string]int{}}
	for _, e := range c.Stats().Errors {
		if le, ok := e.(*ingest.LineError); ok && le.Src.Line > 0 {
			p.warnLine(le)
		} else {
			p.warnFile(e)
		}
	}
	p.Skipped += c.Stats().HookSkipped
	return p, nil
}

// warnLine reports a skipped line and counts its reason.
func (p *pipeline) warnLine(le *ingest.LineError) {
	p.Reasons[shortReason(le.Err.Error())]++
	p.print(le)
}

// warnFile reports an input that could not be read, or not to the end,
// and counts it once however many sessions it touched.
func (p *pipeline) warnFile(err error) {
	msg := err.Error()
	if p.fileErrs[msg] {
		return
	}
	if p.fileErrs == nil {
		p.fileErrs = map[string]bool{}
	}
	p.fileErrs[msg] = true
	if errors.Is(err, ingest.ErrNoSuchInput) {
		p.Missing++
	} else {
		p.SkippedFiles++
	}
	p.print(err)
}

// maxProblems bounds the diagnostics kept for the HTML view's list.
const maxProblems = 100

func (p *pipeline) print(err error) {
	if len(p.Problems) < maxProblems {
		p.Problems = append(p.Problems, err.Error())
	}
	if !p.flags.quiet {
		fmt.Fprintf(p.stdio.Err, "clawtrace: skipped %v\n", err)
	}
}

// shortReason keeps the part of a reason before its details.
func shortReason(s string) string {
	for _, sep := range []string{" at byte", ":", " ("} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	return s
}

// each delivers every session with its traces. Runs outside --since /
// --until are dropped from the traces (the session is still delivered).
func (p *pipeline) each(ctx context.Context, fn func(s *ingest.Session, traces []reconstruct.Trace) error) error {
	return eachPrepared(ctx, p, func(*ingest.Session, []reconstruct.Trace) struct{} { return struct{}{} },
		func(s *ingest.Session, traces []reconstruct.Trace, _ struct{}, _ bool) error { return fn(s, traces) })
}

type prepared[T any] struct {
	all, kept []reconstruct.Trace
	v         T
}

// eachPrepared is each with a step prep that runs in the workers, after the
// matcher and the time filter, on the traces fn will get (e.g. encoding
// them). The matcher and prep run concurrently; diagnostics, the fork dedup
// and fn run in session order. stale tells fn that the fork dedup changed
// the traces after prep ran (rare: a /fork copy), so what prep made must be
// made again.
func eachPrepared[T any](ctx context.Context, p *pipeline, prep func(*ingest.Session, []reconstruct.Trace) T,
	fn func(s *ingest.Session, traces []reconstruct.Trace, v T, stale bool) error) error {
	opt := reconstruct.Options{Resolver: p.corpus}
	work := func(s *ingest.Session) prepared[T] {
		all := reconstruct.Session(s, opt)
		kept := all
		if !p.rng.since.IsZero() || !p.rng.until.IsZero() {
			kept = nil
			for _, t := range all {
				if p.rng.contains(t.Start()) {
					kept = append(kept, t)
				}
			}
		}
		return prepared[T]{all: all, kept: kept, v: prep(s, kept)}
	}
	return ingest.EachWith(ctx, p.corpus, work, func(s *ingest.Session, r prepared[T]) error {
		for _, le := range s.LineErrors {
			p.warnLine(le)
		}
		for _, fe := range s.FileErrors {
			p.warnFile(fe)
		}
		if extra := s.SkippedLines - len(s.LineErrors); extra > 0 {
			p.Reasons["more in the same session"] += extra
			if !p.flags.quiet {
				fmt.Fprintf(p.stdio.Err, "clawtrace: skipped %d more lines of session %s\n", extra, s.SessionID)
			}
		}
		p.Skipped += s.SkippedLines
		if !hasContent(s) || p.renamedCopy(s) {
			return nil
		}
		p.Sessions++
		// The dedup sees every run, filtered or not, so which session owns a
		// copied call does not depend on the filter. kept shares the spans of
		// all, so it sees the change.
		n := p.forks.Apply(r.all)
		p.ForkCopies += n
		return fn(s, r.kept, r.v, n > 0)
	})
}

// hasContent reports whether any copy of s gave an entry, a hook event or
// a trajectory event. A transcript that gave nothing (an empty file,
// binary junk, a copy that could not be read) is not a session: its
// problems are reported and counted, but it is not delivered, so that the
// totals are those of the valid part of the inputs.
func hasContent(s *ingest.Session) bool {
	return len(s.Entries) > 0 || len(s.Hooks) > 0 || len(s.Trajectory) > 0
}

// renamedCopy reports a session whose header — session id and creation
// time — is that of a session already delivered under another id: a
// transcript copied under another file name ("s02 (copy).jsonl"), which
// discovery, going by file names, took for another session. Its usage
// must not be counted twice; it is reported and left out.
func (p *pipeline) renamedCopy(s *ingest.Session) bool {
	if s.Header == nil || s.Header.SessionID == "" {
		return false
	}
	// A file named after another id whose header names a session that is
	// in the inputs: that session is the original (it also owns the
	// session's hook events and index row), whatever order they come in.
	// Split instances (<id>@<scope>) and 2026.7 topic transcripts
	// (<id>-topic-<n>) are named after their header's id on purpose.
	hid := s.Header.SessionID
	if hid != s.SessionID && !strings.HasPrefix(s.SessionID, hid+"@") && !strings.HasPrefix(s.SessionID, hid+"-topic-") &&
		p.corpus.HasSession(s.AgentID, hid) {
		if !p.flags.quiet {
			fmt.Fprintf(p.stdio.Err, "clawtrace: skipped session %s: a copy of session %s (same header), counted once\n", s.SessionID, hid)
		}
		return true
	}
	k := [3]string{s.AgentID, hid, s.Header.Time.String()}
	first, dup := p.headers[k]
	if !dup {
		if p.headers == nil {
			p.headers = map[[3]string]string{}
		}
		p.headers[k] = s.SessionID
		return false
	}
	if !p.flags.quiet {
		fmt.Fprintf(p.stdio.Err, "clawtrace: skipped session %s: a copy of session %s (same header), counted once\n", s.SessionID, first)
	}
	return true
}

// finish maps what was lost to the exit code once the job is done (its
// output written): a named input that does not exist fails the job (1);
// with --strict, so does a skipped line or file (3). A file that was found
// but could not be read is skipped and counted like a bad line.
func (p *pipeline) finish() error {
	if p.Sessions == 0 && (len(p.flags.agents) > 0 || len(p.flags.sessions) > 0) && !p.flags.quiet {
		fmt.Fprintf(p.stdio.Err, "clawtrace: no session matched --agent %s --session %s\n",
			orNone(strings.Join(p.flags.agents, ",")), orNone(strings.Join(p.flags.sessions, ",")))
	}
	if p.Missing > 0 {
		return &exitErr{code: exitError, err: fmt.Errorf("%s (reported above); the rest was processed", plural(p.Missing, "input does not exist", "inputs do not exist"))}
	}
	if p.flags.strict && (p.Skipped > 0 || p.SkippedFiles > 0) {
		return &exitErr{code: exitSkipped, err: fmt.Errorf("%s and %s were skipped (--strict)",
			plural(p.Skipped, "input line", "input lines"), plural(p.SkippedFiles, "file", "files"))}
	}
	return nil
}

// plural is "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func orNone(s string) string {
	if s == "" {
		return "(any)"
	}
	return s
}
