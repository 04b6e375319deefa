package reconstruct_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

// fuzzBase holds the recorded sessions the matcher fuzzer mutates, loaded
// once per process.
var fuzzBase struct {
	once     sync.Once
	sessions []*ingest.Session
	resolver reconstruct.Resolver
}

// baseSessions returns every session of the fixture corpus (transcripts and
// hook dumps of both recorded OpenClaw versions).
func baseSessions(tb testing.TB) ([]*ingest.Session, reconstruct.Resolver) {
	fuzzBase.once.Do(func() {
		var paths []string
		for _, sc := range tracetest.Scenarios(corpus) {
			paths = append(paths, sc.Dir)
		}
		c, err := ingest.Open(paths, ingest.Options{})
		if err != nil {
			return
		}
		_ = c.Each(tb.Context(), func(s *ingest.Session) error {
			fuzzBase.sessions = append(fuzzBase.sessions, s)
			return nil
		})
		fuzzBase.resolver = c
	})
	if len(fuzzBase.sessions) == 0 {
		tb.Skip("no fixture sessions")
	}
	return fuzzBase.sessions, fuzzBase.resolver
}

// cloneSession copies what the mutations below change: the entry and hook
// slices, messages and their blocks.
func cloneSession(s *ingest.Session) *ingest.Session {
	c := *s
	c.Entries = slices.Clone(s.Entries)
	for i := range c.Entries {
		c.Entries[i] = cloneEntry(c.Entries[i])
	}
	c.Hooks = slices.Clone(s.Hooks)
	c.Trajectory = slices.Clone(s.Trajectory)
	return &c
}

func cloneEntry(e ingest.Entry) ingest.Entry {
	if e.Msg != nil {
		m := *e.Msg
		m.Blocks = slices.Clone(m.Blocks)
		e.Msg = &m
	}
	return e
}

// mutate applies a program to a session: each 3-byte instruction (op, a,
// b) reorders, duplicates, drops or retimes one entry or hook event, or
// breaks a link (ids, run ids, parent ids), so that the matcher sees
// well-formed events in every arrangement real inputs can take: pairs with
// a half missing, duplicates, skewed and shuffled clocks.
func mutate(s *ingest.Session, prog []byte) {
	for len(prog) >= 3 {
		op, a, b := prog[0], int(prog[1]), int(prog[2])
		prog = prog[3:]
		ne, nh := len(s.Entries), len(s.Hooks)
		switch op % 14 {
		case 0: // swap two entries
			if ne > 0 {
				s.Entries[a%ne], s.Entries[b%ne] = s.Entries[b%ne], s.Entries[a%ne]
			}
		case 1: // duplicate an entry; message time kept or moved
			if ne > 0 {
				e := cloneEntry(s.Entries[a%ne])
				if e.Msg != nil && b%3 != 0 {
					e.Msg.Time = shift(e.Msg.Time, time.Duration(b)*time.Millisecond)
				}
				s.Entries = slices.Insert(s.Entries, b%(ne+1), e)
			}
		case 2: // drop an entry
			if ne > 0 {
				s.Entries = slices.Delete(s.Entries, a%ne, a%ne+1)
			}
		case 3: // drop a hook event (one half of a pair)
			if nh > 0 {
				s.Hooks = slices.Delete(s.Hooks, a%nh, a%nh+1)
			}
		case 4: // duplicate a hook event: the same hook fired twice (a
			// plugin registered twice), or an exact copy of the line (a
			// dump kept twice, which the corpus drops; so does
			// dedupeHooks below)
			if nh > 0 {
				ev := s.Hooks[a%nh]
				if b&1 == 1 {
					ev.Seq += 1 + int64(b)
				}
				s.Hooks = slices.Insert(s.Hooks, b%(nh+1), ev)
			}
		case 5: // move an entry (and its message) in time
			if ne > 0 {
				d := time.Duration(int8(b)) * 97 * time.Millisecond
				e := &s.Entries[a%ne]
				e.Time = shift(e.Time, d)
				if e.Msg != nil && a&1 == 0 {
					e.Msg.Time = shift(e.Msg.Time, d)
				}
			}
		case 6: // move a hook event in time
			if nh > 0 {
				s.Hooks[a%nh].Time = shift(s.Hooks[a%nh].Time, time.Duration(int8(b))*37*time.Millisecond)
			}
		case 7: // skew the hook clock
			d := time.Duration(int8(a))*time.Second + time.Duration(b)*time.Millisecond
			for i := range s.Hooks {
				s.Hooks[i].Time = shift(s.Hooks[i].Time, d)
			}
		case 8: // lose run ids
			if ne > 0 && s.Entries[a%ne].Msg != nil {
				s.Entries[a%ne].Msg.RunID = ""
			}
			if nh > 0 {
				s.Hooks[b%nh].RunID = ""
			}
		case 9: // collide tool-call ids
			id := fmt.Sprintf("call_%d", b%4)
			if ne > 0 {
				if m := s.Entries[a%ne].Msg; m != nil {
					m.ToolCallID = id
					for i := range m.Blocks {
						if m.Blocks[i].Kind == ingest.BlockToolCall {
							m.Blocks[i].ToolCallID = id
							break
						}
					}
				}
			}
			if nh > 0 && s.Hooks[a%nh].ToolCallID != "" {
				s.Hooks[a%nh].ToolCallID = id
			}
		case 10: // re-parent an entry (branches, cycles)
			if ne > 0 {
				s.Entries[a%ne].ParentID = s.Entries[b%ne].ID
			}
		case 11: // turn a hook into another one (a start without its end…)
			if nh > 0 {
				h := &s.Hooks[a%nh]
				h.Kind = ingest.HookKind(b % int(ingest.HookPluginRegister+1))
				h.Name = h.Kind.String()
			}
		case 12: // drop timestamps
			if ne > 0 {
				e := &s.Entries[a%ne]
				if b&1 == 0 {
					e.Time = time.Time{}
				} else if e.Msg != nil {
					e.Msg.Time = time.Time{}
				}
			}
		case 13: // cut the session short (a file still being written)
			if ne > 0 {
				s.Entries = s.Entries[:a%(ne+1)]
			}
			if nh > 0 {
				s.Hooks = s.Hooks[:b%(nh+1)]
			}
		}
	}
	dedupeEntries(s)
	// The corpus delivers hook events in this order, without copies.
	slices.SortStableFunc(s.Hooks, ingest.CompareHookEvents)
	s.Hooks = dedupeHooks(s.Hooks)
}

// dedupeHooks drops copies of one hook line as the corpus does: events of
// the same time with the same hook, process, sequence number, ids and
// usage.
func dedupeHooks(evs []ingest.HookEvent) []ingest.HookEvent {
	var out []ingest.HookEvent
	for _, ev := range evs {
		dup := false
		for k := len(out) - 1; k >= 0 && out[k].Time.Equal(ev.Time); k-- {
			a := &out[k]
			if a.Name == ev.Name && a.Seq == ev.Seq && a.PID == ev.PID && a.RunID == ev.RunID && a.CallID == ev.CallID &&
				a.ToolCallID == ev.ToolCallID && a.SessionKey == ev.SessionKey && a.Usage.Input == ev.Usage.Input && a.Usage.Output == ev.Usage.Output {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, ev)
		}
	}
	return out
}

// shift moves a time; a zero time (absent) stays absent, as no input can
// hold a time before year 1.
func shift(t time.Time, d time.Duration) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Add(d)
}

// dedupeEntries keeps one entry per (id, message time), as the corpus does
// across copies of a session.
func dedupeEntries(s *ingest.Session) {
	type key struct {
		id string
		ms int64
	}
	seen := map[key]bool{}
	s.Entries = slices.DeleteFunc(s.Entries, func(e ingest.Entry) bool {
		k := key{id: e.ID}
		if e.Kind == ingest.EntryHeader {
			k.id = "\x00header"
		}
		if e.Msg != nil {
			k.ms = e.Msg.Time.UnixMilli()
		}
		if k.id == "" {
			return false
		}
		dup := seen[k]
		seen[k] = true
		return dup
	})
}

// inputTokens is the usage the session records: assistant messages, hook
// events and trajectory events. Every span's usage comes from one of them.
func inputTokens(s *ingest.Session) int64 {
	var n int64
	for i := range s.Entries {
		if m := s.Entries[i].Msg; m != nil && m.Usage.Known {
			n += m.Usage.Total
		}
	}
	for _, evs := range [][]ingest.HookEvent{s.Hooks, s.Trajectory} {
		for i := range evs {
			if evs[i].Usage.Known {
				n += evs[i].Usage.Total
			}
		}
	}
	return n
}

// matchWithin runs the matcher, failing if it does not finish in time.
func matchWithin(t *testing.T, s *ingest.Session, res reconstruct.Resolver, d time.Duration) []reconstruct.Trace {
	done := make(chan []reconstruct.Trace, 1)
	go func() { done <- reconstruct.Session(s, reconstruct.Options{Resolver: res}) }()
	select {
	case tr := <-done:
		return tr
	case <-time.After(d):
		t.Fatalf("matcher did not finish in %v", d)
		return nil
	}
}

// FuzzMatcher feeds the matcher the recorded sessions of the fixture corpus
// after a fuzzed program of mutations (see mutate) and checks that it
// terminates and that its output holds every trace invariant
// (tracetest.Validate: ids unique, parents in the trace, end ≥ start,
// confidence in [0,1] and the minimum of the evidence, tool links), is
// deterministic, and never counts usage twice.
func FuzzMatcher(f *testing.F) {
	sessions, _ := baseSessions(f)
	for i := range sessions {
		f.Add([]byte{byte(i)})
		f.Add([]byte{byte(i), 3, 0, 0, 6, 1, 200, 1, 2, 5})
		f.Add([]byte{byte(i), 7, 251, 0, 0, 1, 4, 4, 3, 3, 13, 200, 7})
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		sessions, res := baseSessions(t)
		if len(prog) == 0 {
			return
		}
		base := sessions[int(prog[0])%len(sessions)]
		s := cloneSession(base)
		mutate(s, prog[1:])
		again := cloneSession(s)
		traces := matchWithin(t, s, res, 10*time.Second)
		if err := tracetest.Validate(traces); err != nil {
			t.Fatalf("%s/%s: %v", base.AgentID, base.SessionID, err)
		}
		var spanTokens int64
		for _, tr := range traces {
			for _, sp := range tr.Spans {
				if sp.Usage.Known {
					spanTokens += sp.Usage.Total
				}
			}
		}
		if in := inputTokens(again); spanTokens > in {
			t.Fatalf("%s/%s: spans carry %d tokens, the inputs record %d", base.AgentID, base.SessionID, spanTokens, in)
		}
		if twice := matchWithin(t, again, res, 10*time.Second); !reflect.DeepEqual(traces, twice) {
			t.Fatalf("%s/%s: two runs on the same input differ", base.AgentID, base.SessionID)
		}
	})
}

// TestFuzzMatcherSessions: the matcher fuzzer has recorded sessions to
// mutate (it would otherwise skip every input).
func TestFuzzMatcherSessions(t *testing.T) {
	sessions, _ := baseSessions(t)
	if len(sessions) < 10 {
		t.Fatalf("%d fixture sessions", len(sessions))
	}
}

// TestSpansWithoutTime: lines whose timestamps are missing (a damaged or
// truncated transcript) still give spans with times, inside their run,
// never at year 1: a run that is only a user message is dated by the
// message's own time; an assistant message with no time at all is placed
// at its run's start.
func TestSpansWithoutTime(t *testing.T) {
	const header = `{"type":"session","version":3,"id":"s9","timestamp":"2026-06-01T09:00:00.000Z"}` + "\n"
	for name, tt := range map[string]struct {
		lines string
		start time.Time
	}{
		"user message without timestamp": {
			`{"type":"message","id":"u1","parentId":null,"message":{"role":"user","content":"hi","timestamp":1780304405000}}` + "\n",
			time.UnixMilli(1780304405000),
		},
		"assistant message without entry timestamp": {
			`{"type":"message","id":"u1","parentId":null,"timestamp":"2026-06-01T09:00:05.000Z","message":{"role":"user","content":"hi"}}` + "\n" +
				`{"type":"message","id":"a1","parentId":"u1","message":{"role":"assistant","content":[],"usage":{"input":3,"output":1},"stopReason":"stop","timestamp":1780304406000}}` + "\n",
			time.Date(2026, 6, 1, 9, 0, 5, 0, time.UTC),
		},
		"assistant message without timestamps": {
			`{"type":"message","id":"u1","parentId":null,"timestamp":"2026-06-01T09:00:05.000Z","message":{"role":"user","content":"hi"}}` + "\n" +
				`{"type":"message","id":"a1","parentId":"u1","message":{"role":"assistant","content":[{"type":"text","text":"yo"}],"usage":{"input":3,"output":1},"stopReason":"stop"}}` + "\n",
			time.Date(2026, 6, 1, 9, 0, 5, 0, time.UTC),
		},
	} {
		p := filepath.Join(t.TempDir(), "s9.jsonl")
		if err := os.WriteFile(p, []byte(header+tt.lines), 0o644); err != nil {
			t.Fatal(err)
		}
		traces, _, err := tracetest.Reconstruct([]string{p}, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := tracetest.Validate(traces); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(traces) != 1 || !traces[0].Root().Start.Equal(tt.start) {
			t.Errorf("%s: %d traces, run start %v", name, len(traces), traces[0].Root().Start)
		}
	}
}
