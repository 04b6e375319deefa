package main

import (
	"context"
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
	// Unreadable counts the inputs that could not be read at all (a missing
	// path, an unreadable or corrupt file): the job then exits 1.
	Unreadable int
	fileErrs   map[string]bool
	forks      reconstruct.ForkDeduper
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
		p.warn(e)
	}
	p.Skipped += c.Stats().HookSkipped
	return p, nil
}

func (p *pipeline) warn(err error) {
	if le, ok := err.(*ingest.LineError); ok && le.Src.Line > 0 {
		p.Reasons[shortReason(le.Err.Error())]++
	} else {
		// A whole input: report and count it once, however many sessions
		// it touched.
		msg := err.Error()
		if p.fileErrs[msg] {
			return
		}
		if p.fileErrs == nil {
			p.fileErrs = map[string]bool{}
		}
		p.fileErrs[msg] = true
		p.Unreadable++
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
		p.Sessions++
		for _, le := range s.LineErrors {
			p.warn(le)
		}
		if extra := s.SkippedLines - len(s.LineErrors); extra > 0 {
			p.Reasons["more in the same session"] += extra
			if !p.flags.quiet {
				fmt.Fprintf(p.stdio.Err, "clawtrace: skipped %d more lines of session %s\n", extra, s.SessionID)
			}
		}
		p.Skipped += s.SkippedLines
		// The dedup sees every run, filtered or not, so which session owns a
		// copied call does not depend on the filter. kept shares the spans of
		// all, so it sees the change.
		n := p.forks.Apply(r.all)
		p.ForkCopies += n
		return fn(s, r.kept, r.v, n > 0)
	})
}

// finish maps what was lost to the exit code once the job is done (its
// output written): an input that could not be read fails the job (1);
// with --strict, so does a skipped line (3).
func (p *pipeline) finish() error {
	if p.Sessions == 0 && (len(p.flags.agents) > 0 || len(p.flags.sessions) > 0) && !p.flags.quiet {
		fmt.Fprintf(p.stdio.Err, "clawtrace: no session matched --agent %s --session %s\n",
			orNone(strings.Join(p.flags.agents, ",")), orNone(strings.Join(p.flags.sessions, ",")))
	}
	if p.Unreadable > 0 {
		noun := "inputs"
		if p.Unreadable == 1 {
			noun = "input"
		}
		return &exitErr{code: exitError, err: fmt.Errorf("%d %s could not be read (reported above); the rest was processed", p.Unreadable, noun)}
	}
	if p.flags.strict && p.Skipped > 0 {
		return &exitErr{code: exitSkipped, err: fmt.Errorf("%d input lines were skipped (--strict)", p.Skipped)}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(any)"
	}
	return s
}
