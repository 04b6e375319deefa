package ingest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// seedLines adds up to n lines of each fixture file matching glob.
func seedLines(f *testing.F, glob string, n int) {
	files, _ := filepath.Glob(glob)
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for i := 0; i < n && sc.Scan(); i++ {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
	}
}

// FuzzParseEntry checks that the transcript-line parser never panics and
// that what it accepts is self-consistent.
func FuzzParseEntry(f *testing.F) {
	seedLines(f, "../fixtures/corpus/openclaw-2026.7.35/0[1-6]*/state/agents/main/sessions/s*.jsonl", 40)
	f.Add([]byte(`{"type":"message","id":"a","message":{"role":"assistant","usage":{"cost":0.1}}}`))
	f.Add([]byte("\ufeff{\"type\":\"session\",\"id\":\"x\"}"))
	f.Add([]byte(`{"kind":"event","row":{"seq":1,"event_json":"{\"type\":\"custom\"}","created_at":1}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if r, ok := coldRecordOf(line); ok && r.Kind == "event" { // a cold-archive record wraps an entry
			_, _ = ParseEntry([]byte(r.Row.EventJSON), Source{File: "f", Line: 1}, ParseOptions{})
		}
		for _, content := range []bool{false, true} {
			e, err := ParseEntry(line, Source{File: "f", Line: 1}, ParseOptions{Content: content})
			if err != nil {
				continue
			}
			if e.Type == "" {
				t.Fatalf("accepted entry without type: %q", line)
			}
			if e.Kind == EntryMessage && e.Msg == nil {
				t.Fatalf("message entry without message: %q", line)
			}
			if e.Msg != nil {
				size := 0
				for _, b := range e.Msg.Blocks {
					size += b.Size
					if !content && b.Text != "" {
						t.Fatalf("content kept without opt-in: %q", line)
					}
				}
				if e.Msg.Role != RoleBashExecution && size != e.Msg.ContentSize {
					t.Fatalf("ContentSize %d != sum of blocks %d", e.Msg.ContentSize, size)
				}
				if e.Msg.Usage.Cost != nil && !e.Msg.Usage.Known {
					t.Fatalf("cost without usage: %q", line)
				}
			}
		}
	})
}

// FuzzParseHookLine checks the hook-dump line parser never panics.
func FuzzParseHookLine(f *testing.F) {
	seedLines(f, "../fixtures/corpus/openclaw-2026.9.6/0[2-6]*/hooks.jsonl", 30)
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := ParseHookLine(line, Source{})
		if err != nil {
			return
		}
		if ev.Name == "" || ev.Time.IsZero() && !bytes.Contains(line, []byte(`"ts"`)) {
			t.Fatalf("accepted line without hook or ts: %q", line)
		}
		_, _ = ParseTrajectoryLine(line, Source{})
		_, _ = ParseTimelineLine(line, Source{})
	})
}

// FuzzParseIndex checks the sessions-index parser never panics and reports
// rows it could not decode rather than dropping them silently.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"agent:main:main":{"sessionId":"a","updatedAt":1}}`))
	f.Add([]byte(`{"k":{"sessionId":"b","spawnedBy":"agent:main:main","forkSource":{"sessionId":"x"}},"j":[]}`))
	if b, err := os.ReadFile("../fixtures/corpus/openclaw-2026.7.35/10-subagent/state/agents/main/sessions/sessions.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		n := 0
		errs := ParseIndex(bytes.NewReader(doc), "s.json", func(r IndexRow) {
			n++
			if r.Src.Line < 1 {
				t.Fatalf("row without position")
			}
		})
		for _, e := range errs {
			if !strings.HasPrefix(e.Error(), "s.json") {
				t.Fatalf("error without file prefix: %v", e)
			}
		}
	})
}

// FuzzFastMatchesSlow checks that the fast decoder gives exactly what
// encoding/json gives, on every input: the same entry, or an error in both.
func FuzzFastMatchesSlow(f *testing.F) {
	seedLines(f, "../fixtures/corpus/openclaw-2026.9.6/0[1-9]*/state/agents/main/sessions/s*.jsonl", 40)
	for _, s := range []string{
		`{"type":"message","id":"a","message":{"role":"user","content":"x\ud83d\u0041\n\"q\"\\"}}`,
		`{"TYPE":"custom","id":"a"}`,
		`{"type":"message","id":"a","message":{"role":"assistant","usage":{"input":"5","output":1e2},"content":[]}}`,
		`{"type":"message","id":"a","message":{"role":"bashExecution","output":"a\tb","exitCode":null}}`,
		`{"type":"x","id":"a","extra":{"deep":[1,2,{"k":"v\u00e9"}],"n":-0.5e-3},"fromHook":true,"label":null}`,
		`{"type":"message","id":"a","message":{"role":"assistant","content":[{"type":"toolCall","id":"c","name":"n","arguments":{"a":[true,false,null]}},{"type":"image","data":"AAAA"}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, content := range []bool{false, true} {
			opt := ParseOptions{Content: content}
			a, errA := parseEntry(line, Source{File: "f", Line: 1}, opt, true, nil)
			b, errB := parseEntry(line, Source{File: "f", Line: 1}, opt, false, nil)
			if (errA == nil) != (errB == nil) || (errA != nil && errA.Error() != errB.Error()) {
				t.Fatalf("errors differ: fast %v, slow %v for %q", errA, errB, line)
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("entries differ for %q:\nfast %+v\nslow %+v", line, a, b)
			}
		}
	})
}

// FuzzHookFastMatchesSlow: the fast hook-line decoder equals encoding/json.
func FuzzHookFastMatchesSlow(f *testing.F) {
	seedLines(f, "../fixtures/corpus/openclaw-2026.9.6/*/hooks.jsonl", 20)
	f.Add([]byte(`{"ts":1,"hook":"x","event":{"durationMs":1.5,"error":{"message":"m"},"success":null,"usage":{"input":"3"}},"ctx":null}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		a, errA := parseHookLine(line, Source{File: "h", Line: 1}, true, nil)
		b, errB := parseHookLine(line, Source{File: "h", Line: 1}, false, nil)
		if (errA == nil) != (errB == nil) || (errA != nil && errA.Error() != errB.Error()) {
			t.Fatalf("errors differ: fast %v, slow %v for %q", errA, errB, line)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("events differ for %q:\nfast %+v\nslow %+v", line, a, b)
		}
	})
}
