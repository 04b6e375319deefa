package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func readAll(t *testing.T, paths []string, opt Options) ([]*Session, *Corpus) {
	t.Helper()
	c, err := Open(paths, opt)
	if err != nil {
		t.Fatalf("Open(%v): %v", paths, err)
	}
	var out []*Session
	if err := c.Each(context.Background(), func(s *Session) error {
		out = append(out, s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out, c
}

// comparable strips what legitimately differs between the copies of one
// entry (where it was read from).
func comparable(es []Entry) []Entry {
	out := make([]Entry, len(es))
	for i, e := range es {
		e.Src = Source{}
		out[i] = e
	}
	return out
}

// TestSQLiteAndJSONLSameEntries reads each 2026.9.6 scenario once from its
// SQLite database alone and once from the exported JSONL alone: the entries
// must be identical. Read together, nothing may be counted twice.
func TestSQLiteAndJSONLSameEntries(t *testing.T) {
	dirs, _ := filepath.Glob("../fixtures/corpus/openclaw-2026.9.6/*/state/agents/main")
	if len(dirs) < 10 {
		t.Fatalf("fixtures missing: %v", dirs)
	}
	for _, agentDir := range dirs {
		name := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(agentDir))))
		t.Run(name, func(t *testing.T) {
			db, _ := readAll(t, []string{filepath.Join(agentDir, "agent", "openclaw-agent.sqlite")}, Options{})
			js, _ := readAll(t, []string{filepath.Join(agentDir, "sessions")}, Options{})
			both, _ := readAll(t, []string{filepath.Join(agentDir, "..", "..")}, Options{})
			if len(db) != len(js) || len(db) != len(both) || len(db) == 0 {
				t.Fatalf("sessions: db %d, jsonl %d, both %d", len(db), len(js), len(both))
			}
			for i := range db {
				if db[i].SessionID != js[i].SessionID {
					t.Fatalf("session %d: %s vs %s", i, db[i].SessionID, js[i].SessionID)
				}
				if !reflect.DeepEqual(comparable(db[i].Entries), comparable(js[i].Entries)) {
					t.Errorf("%s: SQLite and JSONL entries differ", db[i].SessionID)
				}
				if len(both[i].Entries) != len(db[i].Entries) {
					t.Errorf("%s: both copies give %d entries, one copy %d", db[i].SessionID, len(both[i].Entries), len(db[i].Entries))
				}
				if both[i].DupEntries() != len(db[i].Entries) {
					t.Errorf("%s: %d duplicates, want %d", db[i].SessionID, both[i].DupEntries(), len(db[i].Entries))
				}
				if db[i].Index == nil || js[i].Index == nil || db[i].Key != js[i].Key {
					t.Errorf("%s: index rows: db %v, jsonl %v", db[i].SessionID, db[i].Index, js[i].Index)
				}
				if len(db[i].Trajectory) != len(both[i].Trajectory) {
					t.Errorf("%s: trajectory events db %d, both %d", db[i].SessionID, len(db[i].Trajectory), len(both[i].Trajectory))
				}
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const miniSession = `{"type":"session","version":3,"id":"s1","timestamp":"2026-06-01T09:00:00.000Z"}
{"type":"message","id":"e1","parentId":null,"timestamp":"2026-06-01T09:00:01.000Z","message":{"role":"user","content":"hi","timestamp":1780304400900}}
{"type":"message","id":"e2","parentId":"e1","timestamp":"2026-06-01T09:00:03.000Z","message":{"role":"assistant","content":[{"type":"text","text":"yo"}],"provider":"p","model":"m","usage":{"input":10,"output":2,"cost":{"total":0.5}},"stopReason":"stop","timestamp":1780304401100}}
`

func TestBadInputIsReportedAndSkipped(t *testing.T) {
	dir := t.TempDir()
	sd := filepath.Join(dir, "agents", "main", "sessions")
	writeFile(t, filepath.Join(sd, "s1.jsonl"), miniSession+
		"{not json}\n"+
		"\n"+
		`{"type":"message","id":"e3","message":{"role":"user","content":5}}`+"\n"+
		"{\"type\":\"custom\",\"id\":\"e4\",\"note\":\"\xff\xfe\"}\n"+
		`{"type":"message","id":"e5","parentId":"e2","message":{"role":"assist`) // still being written
	writeFile(t, filepath.Join(sd, "empty.jsonl"), "")
	ss, c := readAll(t, []string{dir, filepath.Join(dir, "missing")}, Options{})
	if len(ss) != 2 {
		t.Fatalf("sessions = %d", len(ss))
	}
	var s *Session
	for _, x := range ss {
		if x.SessionID == "s1" {
			s = x
		}
	}
	if s == nil || len(s.Entries) != 4 {
		t.Fatalf("s1 entries: %+v", s)
	}
	var got []string
	for _, le := range s.LineErrors {
		got = append(got, le.Error())
	}
	wantErrs := []string{
		"main/sessions/s1.jsonl:4: invalid JSON at byte 2",
		"main/sessions/s1.jsonl:6: message: content: unexpected 5",
		"main/sessions/s1.jsonl:8: truncated last line (file still being written?)",
	}
	if s.SkippedLines != 3 || len(got) != 3 {
		t.Fatalf("skipped %d: %q", s.SkippedLines, got)
	}
	for i, w := range wantErrs {
		if !strings.Contains(got[i], w[strings.Index(w, "s1.jsonl"):]) {
			t.Errorf("error %d = %q, want it to contain %q", i, got[i], w)
		}
	}
	errs := c.Stats().Errors
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "missing: no such file or directory") {
		t.Errorf("problems = %v", errs)
	}
}

func TestArchivedCopiesCountOnce(t *testing.T) {
	dir := t.TempDir()
	sd := filepath.Join(dir, "agents", "main", "sessions")
	writeFile(t, filepath.Join(sd, "s1.jsonl"), miniSession)
	writeFile(t, filepath.Join(sd, "s1.jsonl.deleted.2026-06-02T10-00-00.000Z"), miniSession)
	writeFile(t, filepath.Join(sd, "s1.jsonl.reset.2026-06-03T10-00-00.000Z"), miniSession)
	// A cold archive of the same session, zstd-compressed.
	var buf strings.Builder
	zw, _ := zstd.NewWriter(nil)
	buf.Write(zw.EncodeAll([]byte(miniSession), nil))
	writeFile(t, filepath.Join(sd, "cold", "abc123.jsonl.zst"), buf.String())
	// And an archive-only (deleted) session.
	writeFile(t, filepath.Join(sd, "s2.jsonl.deleted.2026-06-02T10-00-00.000Z"), strings.ReplaceAll(miniSession, `"id":"s1"`, `"id":"s2"`))
	ss, _ := readAll(t, []string{dir}, Options{})
	if len(ss) != 2 {
		t.Fatalf("sessions = %d", len(ss))
	}
	s1, s2 := ss[0], ss[1]
	if len(s1.Copies) != 4 || len(s1.Entries) != 3 || s1.DupEntries() != 9 || s1.Deleted {
		t.Errorf("s1: copies %d entries %d dups %d deleted %v", len(s1.Copies), len(s1.Entries), s1.DupEntries(), s1.Deleted)
	}
	if !s2.Deleted || len(s2.Entries) != 3 {
		t.Errorf("s2: deleted %v entries %d", s2.Deleted, len(s2.Entries))
	}
	if c := s1.Count(); c.LLMCalls != 1 {
		t.Errorf("llm calls %d", c.LLMCalls)
	}
}

func TestOrderDoesNotDependOnWorkers(t *testing.T) {
	paths := []string{"../fixtures/corpus/openclaw-2026.9.6/10-subagent/state", "../fixtures/corpus/openclaw-2026.9.6/10-subagent/hooks.jsonl",
		"../fixtures/corpus/openclaw-2026.7.35/08-long/state"}
	render := func(workers int) string {
		ss, _ := readAll(t, paths, Options{Workers: workers})
		var b strings.Builder
		for _, s := range ss {
			fmt.Fprintf(&b, "%s/%s %d %d %d\n", s.AgentID, s.SessionID, len(s.Entries), len(s.Hooks), len(s.Trajectory))
			for _, e := range s.Entries {
				fmt.Fprintf(&b, " %s %s %v\n", e.ID, e.Src, e.Time)
			}
		}
		return b.String()
	}
	one := render(1)
	for _, w := range []int{2, 4, 16} {
		if got := render(w); got != one {
			t.Fatalf("workers=%d changed the output", w)
		}
	}
}

func TestStdinAndCompressedSingleFiles(t *testing.T) {
	ss, _ := readAll(t, []string{"-"}, Options{Stdin: strings.NewReader(miniSession)})
	if len(ss) != 1 || ss[0].SessionID != "s1" || len(ss[0].Entries) != 3 {
		t.Fatalf("stdin: %+v", ss)
	}
	dir := t.TempDir()
	zw, _ := zstd.NewWriter(nil)
	writeFile(t, filepath.Join(dir, "x.jsonl.zst"), string(zw.EncodeAll([]byte(miniSession), nil)))
	ss, _ = readAll(t, []string{filepath.Join(dir, "x.jsonl.zst")}, Options{})
	if len(ss) != 1 || len(ss[0].Entries) != 3 {
		t.Fatalf("zst: %+v", ss)
	}
}

func TestV1EntriesGetSyntheticIDs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "v1.jsonl"), `{"type":"session","id":"v1","timestamp":"2026-01-01T00:00:00Z"}
{"type":"message","timestamp":"2026-01-01T00:00:01Z","message":{"role":"user","content":"a"}}
{"type":"message","timestamp":"2026-01-01T00:00:02Z","message":{"role":"assistant","content":[],"usage":{"input":1}}}
`)
	ss, _ := readAll(t, []string{filepath.Join(dir, "v1.jsonl")}, Options{})
	es := ss[0].Entries
	if es[1].ID != "L2" || es[2].ID != "L3" || es[2].ParentID != "L2" || es[1].ParentID != "" {
		t.Errorf("ids: %q/%q %q/%q", es[1].ID, es[1].ParentID, es[2].ID, es[2].ParentID)
	}
}

func TestHookAttribution(t *testing.T) {
	ss, c := readAll(t, []string{"../fixtures/corpus/openclaw-2026.9.6/10-subagent/state", "../fixtures/corpus/openclaw-2026.9.6/10-subagent/hooks.jsonl"}, Options{})
	total := 0
	for _, s := range ss {
		total += len(s.Hooks)
	}
	st := c.Stats()
	if total+st.HookUnattributed != st.HookLines || st.HookLines != 68 {
		t.Errorf("hooks: %d attributed + %d unattributed != %d lines", total, st.HookUnattributed, st.HookLines)
	}
	for _, s := range ss {
		for _, h := range s.Hooks {
			if h.Kind == HookSubagentSpawned && s.SessionID != "s10" {
				t.Errorf("subagent_spawned filed under %s, want the parent s10", s.SessionID)
			}
		}
	}
}

func TestEachCancelled(t *testing.T) {
	c, err := Open([]string{"../fixtures/corpus/openclaw-2026.9.6/10-subagent", "../fixtures/corpus/openclaw-2026.9.6/11-compaction"}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Each(ctx, func(*Session) error { return nil }); err != context.Canceled {
		t.Errorf("Each on a cancelled context = %v", err)
	}
	// Stopping from the callback returns its error.
	stop := fmt.Errorf("stop")
	n := 0
	if err := c.Each(context.Background(), func(*Session) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Each = %v after %d sessions", err, n)
	}
}

// TestHookSegmentsMatchSequential: pass 1 over a hook dump cut into
// segments gives the same events, order, line numbers and diagnostics as
// one sequential pass.
func TestHookSegmentsMatchSequential(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../fixtures/corpus/openclaw-2026.9.6/10-subagent/hooks.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	// A bad line in the middle and a truncated last line.
	lines := strings.SplitAfter(string(src), "\n")
	mid := len(lines) / 2
	doc := strings.Join(lines[:mid], "") + "{broken\n" + strings.Join(lines[mid:], "") + `{"ts":1,"hook":"x"`
	writeFile(t, filepath.Join(dir, "hooks.jsonl"), doc)
	paths := []string{"../fixtures/corpus/openclaw-2026.9.6/10-subagent/state", filepath.Join(dir, "hooks.jsonl")}
	render := func(workers int) string {
		ss, c := readAll(t, paths, Options{Workers: workers})
		var b strings.Builder
		for _, e := range c.Stats().Errors {
			fmt.Fprintln(&b, e)
		}
		fmt.Fprintf(&b, "%d %d %d\n", c.Stats().HookLines, c.Stats().HookSkipped, c.Stats().HookUnattributed)
		for _, s := range ss {
			for _, h := range s.Hooks {
				fmt.Fprintf(&b, "%s %s %s %s\n", s.SessionID, h.Src, h.Name, h.Time)
			}
		}
		return b.String()
	}
	old := hookSegmentMin
	defer func() { hookSegmentMin = old }()
	want := render(1)
	hookSegmentMin = 0
	for _, w := range []int{2, 3, 7} {
		if got := render(w); got != want {
			t.Fatalf("workers=%d: segmented pass differs:\n%s\nwant:\n%s", w, got, want)
		}
	}
	if !strings.Contains(want, "hooks.jsonl:"+fmt.Sprint(mid+1)+": invalid JSON") || !strings.Contains(want, "truncated last line") {
		t.Errorf("diagnostics: %s", want[:min(len(want), 400)])
	}
}

// TestLongLines: a line of several MB (a big tool output) is read whole.
func TestLongLines(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat(`line of tool output with \"quotes\" and \\ slashes\n`, 120000) // ~6 MB
	writeFile(t, filepath.Join(dir, "agents", "main", "sessions", "s1.jsonl"), miniSession+
		`{"type":"message","id":"e3","parentId":"e2","timestamp":"2026-06-01T09:00:04.000Z","message":{"role":"toolResult","toolCallId":"c","toolName":"read","content":[{"type":"text","text":"`+big+`"}],"isError":false,"timestamp":1780304404000}}`+"\n")
	ss, _ := readAll(t, []string{dir}, Options{})
	if len(ss) != 1 || len(ss[0].Entries) != 4 || ss[0].SkippedLines != 0 {
		t.Fatalf("entries %d skipped %d", len(ss[0].Entries), ss[0].SkippedLines)
	}
	if got, want := ss[0].Entries[3].Msg.ContentSize, 120000*len("line of tool output with \"quotes\" and \\ slashes\n"); got != want {
		t.Errorf("content size %d, want %d", got, want)
	}
}

// TestCopiedHookDumpCountsOnce reads a recording whose hook dump was kept
// twice (a rotated copy, or two backups of one state dir): every hook
// event must be seen once, as with the dump alone.
func TestCopiedHookDumpCountsOnce(t *testing.T) {
	const rec = "../fixtures/corpus/openclaw-2026.9.6/11-compaction"
	want, _ := readAll(t, []string{rec}, Options{})
	dir := t.TempDir()
	for _, snap := range []string{"snap1", "snap2"} {
		if err := os.CopyFS(filepath.Join(dir, snap), os.DirFS(rec)); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(rec, "hooks.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, snap, "hooks.1.jsonl"), string(data))
	}
	got, _ := readAll(t, []string{dir}, Options{})
	if len(got) != len(want) {
		t.Fatalf("sessions = %d, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i].Hooks) != len(want[i].Hooks) {
			t.Errorf("%s: %d hook events, want %d", want[i].SessionID, len(got[i].Hooks), len(want[i].Hooks))
		}
	}
}

// TestSameIDDifferentSessions: recordings made with fixed session ids reuse
// them (the 2026.7.35 corpus has s03 in 03-chain3 and 14-unknown-tool-ls).
// Read together, sessions whose headers give different creation times stay
// apart — each reported as "<id>@<recording>" — while copies of one session
// (same creation time: backups) still merge. File names are relative to the
// folder of recordings. The same holds when each recording is given as
// DIR/state DIR/hooks.jsonl, in any order.
func TestSameIDDifferentSessions(t *testing.T) {
	const corpus = "../fixtures/corpus/openclaw-2026.7.35"
	all, _ := readAll(t, []string{corpus}, Options{})
	ids := map[string]int{}
	for _, s := range all {
		ids[s.SessionID] = s.Count().ToolCalls
	}
	for _, want := range []string{"s03@03-chain3", "s03@14-unknown-tool-ls", "s11@11-compaction", "s11@15-context-overflow-precheck"} {
		if _, ok := ids[want]; !ok {
			t.Errorf("no session %s; have %v", want, ids)
		}
	}
	// Each scenario alone gives the same tool calls as the corpus does.
	sum := 0
	scenarios, _ := filepath.Glob(filepath.Join(corpus, "*"))
	for _, sc := range scenarios {
		ss, _ := readAll(t, []string{sc}, Options{})
		for _, s := range ss {
			sum += s.Count().ToolCalls
		}
	}
	total := 0
	for _, n := range ids {
		total += n
	}
	if total != sum {
		t.Errorf("tool calls: %d read together, %d scenario by scenario", total, sum)
	}
	for _, s := range all {
		for _, cp := range s.Copies {
			if !strings.Contains(cp.Name, "/state/") {
				t.Errorf("copy name %q not relative to the folder of recordings", cp.Name)
			}
		}
	}
}

func TestSameIDDifferentSessionsSplitArgs(t *testing.T) {
	scenarios, _ := filepath.Glob("../fixtures/corpus/openclaw-2026.7.35/*")
	var args []string
	for _, sc := range scenarios {
		args = append(args, filepath.Join(sc, "state"), filepath.Join(sc, "hooks.jsonl"))
	}
	summary := func(args []string) map[string][2]int {
		ss, _ := readAll(t, args, Options{})
		m := map[string][2]int{}
		for _, s := range ss {
			m[s.SessionID] = [2]int{s.Count().LLMCalls, len(s.Hooks)}
		}
		return m
	}
	fwd := summary(args)
	slices.Reverse(args)
	rev := summary(args)
	if !maps.Equal(fwd, rev) {
		t.Errorf("depends on the order of inputs:\n%v\n%v", fwd, rev)
	}
	alone, _ := readAll(t, []string{"../fixtures/corpus/openclaw-2026.7.35/03-chain3"}, Options{})
	if got, want := fwd["s03@03-chain3"], [2]int{alone[0].Count().LLMCalls, len(alone[0].Hooks)}; got != want {
		t.Errorf("s03@03-chain3: %d calls, %d hook events; alone: %d, %d", got[0], got[1], want[0], want[1])
	}
}

// TestColdArchiveRecords reads a 2026.8+ cold-storage archive: a zstd file
// of {"kind":"header"|"event"|"identity"|…} records whose event rows hold
// the transcript entries (session-cold-storage-codec in OpenClaw).
func TestColdArchiveRecords(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(`{"kind":"header","version":1,"sessionId":"s1","generation":"g1"}` + "\n")
	for i, l := range strings.Split(strings.TrimSpace(miniSession), "\n") {
		row, _ := json.Marshal(map[string]any{"kind": "event", "row": map[string]any{"seq": i, "event_json": l, "created_at": 1780304400000}})
		b.Write(row)
		b.WriteString("\n")
	}
	b.WriteString(`{"kind":"identity","row":{"event_id":"x","seq":0,"event_type":"session","parent_id":null,"message_idempotency_key":null,"created_at":1}}` + "\n")
	b.WriteString(`{"kind":"fts","row":{"text":null,"message_id":null,"role":null,"timestamp":null}}` + "\n")
	zw, _ := zstd.NewWriter(nil)
	writeFile(t, filepath.Join(dir, "agents", "main", "sessions", "cold", "0123abcd.jsonl.zst"), string(zw.EncodeAll([]byte(b.String()), nil)))
	ss, _ := readAll(t, []string{dir}, Options{})
	if len(ss) != 1 || ss[0].SessionID != "s1" || len(ss[0].Entries) != 3 || ss[0].SkippedLines != 0 {
		t.Fatalf("%d sessions; %+v", len(ss), ss)
	}
	if c := ss[0].Count(); c.LLMCalls != 1 {
		t.Errorf("llm calls %d", c.LLMCalls)
	}
}

func TestClassifyTranscriptNames(t *testing.T) {
	for name, want := range map[string]struct {
		sid  string
		kind CopyKind
		ok   bool
	}{
		"s1.jsonl":     {"s1", CopyLive, true},
		"s1.jsonl.zst": {"s1", CopyLive, true},
		"s1.jsonl.reset.2026-06-03T10-00-00.000Z":       {"s1", CopyReset, true},
		"s1.jsonl.deleted.2026-06-02T10-00-00.000Z.zst": {"s1", CopyDeleted, true},
		"s1.jsonl.bak.1":                                           {"s1", CopyBackup, true},
		"s1.checkpoint.0b1c.jsonl":                                 {"s1", CopyCheckpoint, true},
		"s1.corrupt-2026-06-01-ab12.jsonl":                         {"s1", CopyCorrupt, true},
		"s1.jsonl.corrupt-2026-06-01T10-00-00.000Z-ab12cd34.jsonl": {"s1", CopyCorrupt, true}, // 2026.7
		"sessions.json":                                            {"", 0, false},
		"s1.jsonl.lock":                                            {"", 0, false},
	} {
		sid, kind, ok := classifyTranscriptName(name)
		if sid != want.sid || kind != want.kind || ok != want.ok {
			t.Errorf("%s: %q %v %v, want %q %v %v", name, sid, kind, ok, want.sid, want.kind, want.ok)
		}
	}
}

// TestTopicTranscriptJoinsItsIndexRow: a 2026.7 Telegram topic transcript
// is <sessionId>-topic-<n>.jsonl while its index row names sessionId and
// the file (sessionFile): the session still gets its key.
func TestTopicTranscriptJoinsItsIndexRow(t *testing.T) {
	dir := t.TempDir()
	sd := filepath.Join(dir, "agents", "main", "sessions")
	writeFile(t, filepath.Join(sd, "s1-topic-42.jsonl"), miniSession)
	writeFile(t, filepath.Join(sd, "sessions.json"), `{"agent:main:telegram:group:-100:topic:42":{"sessionId":"s1","sessionFile":"`+filepath.ToSlash(filepath.Join(sd, "s1-topic-42.jsonl"))+`","chatType":"group"}}`)
	ss, _ := readAll(t, []string{dir}, Options{Sessions: []string{"agent:main:telegram:group:-100:topic:42"}})
	if len(ss) != 1 || ss[0].Key != "agent:main:telegram:group:-100:topic:42" {
		t.Fatalf("%d sessions for the topic key", len(ss))
	}
}

// TestNestedCollection: a folder of folders of recordings (the fixture
// corpus: releases of recordings) is read whole, as its releases are one
// by one.
func TestNestedCollection(t *testing.T) {
	count := func(paths ...string) int {
		c, err := Open(paths, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return c.NumSessions()
	}
	releases, _ := filepath.Glob("../fixtures/corpus/*")
	want := 0
	for _, r := range releases {
		want += count(r)
	}
	if got := count("../fixtures/corpus"); got != want || want < 30 {
		t.Errorf("fixtures/corpus: %d sessions, its releases one by one: %d", got, want)
	}
}
