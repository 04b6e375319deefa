// Package tracetest holds test helpers shared by the packages that consume
// reconstructed traces: an invariant validator and a fixture loader.
package tracetest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

// Validate checks the invariants every reconstruction must hold and
// reports every violation, not just the first:
//   - trace and span ids are non-zero and unique; the run span is first and
//     the only root; every parent exists in the trace;
//   - spans nest inside their run; no negative durations; no zero times;
//   - confidence is in [0,1] and equals the minimum of the evidence;
//   - every inferred field has evidence;
//   - usage only on LLM and compaction spans;
//   - every tool span carries a tool-call id and exactly one emitted_by link
//     to an LLM or compaction span of a trace in the set, at most one
//     consumed_by link.
func Validate(traces []reconstruct.Trace) error {
	var errs []error
	bad := func(t *reconstruct.Trace, sp *reconstruct.Span, format string, a ...any) {
		errs = append(errs, fmt.Errorf("trace %s span %s (%s): %s", t.ID, sp.ID, sp.Name, fmt.Sprintf(format, a...)))
	}
	spans := map[reconstruct.SpanID]*reconstruct.Span{}
	traceIDs := map[reconstruct.TraceID]bool{}
	for ti := range traces {
		t := &traces[ti]
		if traceIDs[t.ID] {
			errs = append(errs, fmt.Errorf("duplicate trace id %s", t.ID))
		}
		traceIDs[t.ID] = true
		for si := range t.Spans {
			sp := &t.Spans[si]
			if spans[sp.ID] != nil {
				bad(t, sp, "duplicate span id")
			}
			spans[sp.ID] = sp
		}
	}
	for ti := range traces {
		t := &traces[ti]
		if len(t.Spans) == 0 || t.Spans[0].Kind != reconstruct.KindRun || !t.Spans[0].Parent.IsZero() {
			errs = append(errs, fmt.Errorf("trace %s: first span is not a root run span", t.ID))
			continue
		}
		root := &t.Spans[0]
		ids := map[reconstruct.SpanID]bool{}
		for i := range t.Spans {
			ids[t.Spans[i].ID] = true
		}
		for i := range t.Spans {
			sp := &t.Spans[i]
			if sp.Trace != t.ID {
				bad(t, sp, "span belongs to trace %s", sp.Trace)
			}
			if i > 0 && (sp.Parent.IsZero() || !ids[sp.Parent]) {
				bad(t, sp, "parent %s not in trace", sp.Parent)
			}
			if sp.Start.IsZero() || sp.End.IsZero() {
				bad(t, sp, "zero time")
			}
			if sp.End.Before(sp.Start) {
				bad(t, sp, "negative duration %v", sp.Duration())
			}
			if sp.Start.Before(root.Start) || sp.End.After(root.End) {
				bad(t, sp, "not inside its run [%v, %v]", root.Start, root.End)
			}
			if sp.Confidence < 0 || sp.Confidence > 1 {
				bad(t, sp, "confidence %v", sp.Confidence)
			}
			minConf := 1.0
			fields := map[string]bool{}
			for _, e := range sp.Evidence {
				minConf = min(minConf, e.Confidence)
				fields[e.Field] = true
				if e.Method == "" {
					bad(t, sp, "evidence for %s without method", e.Field)
				}
			}
			if len(sp.Evidence) > 0 && minConf != sp.Confidence {
				bad(t, sp, "confidence %v is not the minimum of its evidence %v", sp.Confidence, minConf)
			}
			for _, f := range sp.Inferred {
				if !fields[f] {
					bad(t, sp, "inferred field %s has no evidence", f)
				}
			}
			if !slices.IsSorted(sp.Inferred) {
				bad(t, sp, "inferred fields not sorted")
			}
			isChat := sp.Kind == reconstruct.KindLLM || sp.Kind == reconstruct.KindCompaction
			if sp.Usage.Known && !isChat {
				bad(t, sp, "usage on a %s span", sp.Kind)
			}
			if sp.Kind != reconstruct.KindTool {
				continue
			}
			if sp.ToolCallID == "" {
				bad(t, sp, "tool span without tool call id")
			}
			em, co := 0, 0
			for _, l := range sp.Links {
				switch l.Relation {
				case "emitted_by":
					em++
					if target := spans[l.Span]; target == nil || (target.Kind != reconstruct.KindLLM && target.Kind != reconstruct.KindCompaction) {
						bad(t, sp, "emitted_by link to %s is not an LLM span of the set", l.Span)
					}
				case "consumed_by":
					co++
					if target := spans[l.Span]; target == nil || target.Kind != reconstruct.KindLLM {
						bad(t, sp, "consumed_by link to %s is not an LLM span of the set", l.Span)
					}
				}
			}
			if em != 1 || co > 1 {
				bad(t, sp, "%d emitted_by and %d consumed_by links", em, co)
			}
		}
	}
	return errors.Join(errs...)
}

// Scenario is one recorded fixture scenario.
type Scenario struct {
	Name  string // "openclaw-2026.9.6/04-parallel"
	Dir   string
	State string
	Hooks string
	Truth string
}

// Scenarios lists the fixture scenarios under root (fixtures/corpus),
// sorted.
func Scenarios(root string) []Scenario {
	truths, _ := filepath.Glob(filepath.Join(root, "*", "*", "truth.json"))
	slices.Sort(truths)
	var out []Scenario
	for _, tp := range truths {
		d := filepath.Dir(tp)
		name, _ := filepath.Rel(root, d)
		out = append(out, Scenario{Name: filepath.ToSlash(name), Dir: d, State: filepath.Join(d, "state"), Hooks: filepath.Join(d, "hooks.jsonl"), Truth: tp})
	}
	return out
}

// Reconstruct runs ingest and the matcher over paths, returning every
// trace and session in delivery order.
func Reconstruct(paths []string, opt ingest.Options) ([]reconstruct.Trace, []*ingest.Session, error) {
	c, err := ingest.Open(paths, opt)
	if err != nil {
		return nil, nil, err
	}
	var traces []reconstruct.Trace
	var sessions []*ingest.Session
	err = c.Each(context.Background(), func(s *ingest.Session) error {
		sessions = append(sessions, s)
		traces = append(traces, reconstruct.Session(s, reconstruct.Options{Resolver: c})...)
		return nil
	})
	return traces, sessions, err
}
