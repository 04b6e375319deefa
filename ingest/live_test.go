package ingest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The live-writer test runs a separate process that writes a state dir the
// way a running OpenClaw gateway does, while this process reads it over and
// over through the public API (Open, Each). The writer is this test binary
// re-executed with liveWriterEnv set (see TestLiveWriterProcess).
const liveWriterEnv = "CLAWTRACE_TEST_LIVE_WRITER"

const (
	liveLines   = 240 // transcript lines the writer appends
	liveTxRows  = 3   // rows per database transaction: a read sees a multiple
	liveTxEvery = 3   // one transaction per this many transcript lines
	// livePauses are the transcript lines at which the writer stops with the
	// line half written and a database transaction open, until the reader
	// has read: a deterministic look at the worst moment.
	livePauseA, livePauseB = 40, 170
	// liveMaxStall bounds any single write() or commit of the writer. The
	// writes take microseconds; a reader that locked the database or the
	// file would stall them for seconds (busy_timeout) or fail them.
	liveMaxStall = time.Second
)

func liveJSONLEntry(i int) string {
	parent := `null`
	if i > 0 {
		parent = fmt.Sprintf(`"j%d"`, i-1)
	}
	ms := int64(1780304400000) + int64(i)*1000
	return fmt.Sprintf(`{"type":"message","id":"j%d","parentId":%s,"timestamp":"%s","message":{"role":"user","content":"line %d: %s","timestamp":%d}}`,
		i, parent, time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), i, strings.Repeat("été ", 20+i%7), ms)
}

func liveDBEntry(i int) string {
	parent := `null`
	if i > 0 {
		parent = fmt.Sprintf(`"d%d"`, i-1)
	}
	ms := int64(1780304400000) + int64(i)*1000
	return fmt.Sprintf(`{"type":"message","id":"d%d","parentId":%s,"timestamp":"%s","message":{"role":"user","content":"row %d","timestamp":%d}}`,
		i, parent, time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), i, ms)
}

// TestLiveWriterProcess is the writer side of TestLiveWriters; it does
// nothing unless started by it. Protocol on stdout: "ready", then
// "paused jsonl=K db=M" (the committed/complete counts; it waits for a line
// on stdin), then "done ... maxwrite=NS maxtx=NS"; it waits for a last line
// on stdin before closing the database, so that the close is the last one
// and removes the -wal and -shm as a gateway that stops cleanly does.
func TestLiveWriterProcess(t *testing.T) {
	dir := os.Getenv(liveWriterEnv)
	if dir == "" {
		t.Skip("helper process of TestLiveWriters")
	}
	if err := liveWrite(dir, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "writer:", err)
		os.Exit(2)
	}
}

func liveWrite(dir string, in io.Reader, out io.Writer) error {
	stdin := bufio.NewReader(in)
	agent := filepath.Join(dir, "agents", "main")
	if err := os.MkdirAll(filepath.Join(agent, "sessions"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(agent, "agent"), 0o755); err != nil {
		return err
	}
	// busy_timeout(0): any lock the reader held would fail a write at once
	// with SQLITE_BUSY instead of silently waiting.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(agent, "agent", "openclaw-agent.sqlite")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(0)")
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL, event_zstd BLOB, PRIMARY KEY (session_id, seq))`,
		`CREATE TABLE session_nodes (session_key TEXT PRIMARY KEY, current_session_id TEXT NOT NULL, entry_json TEXT NOT NULL)`,
		`INSERT INTO transcript_events VALUES ('dsess', 0, '{"type":"session","version":4,"id":"dsess","timestamp":"2026-06-01T08:00:00.000Z"}', 1780304400000, NULL)`,
		`INSERT INTO session_nodes VALUES ('agent:main:main', 'dsess', '{"sessionId":"dsess"}')`,
	} {
		if _, err := db.Exec(q); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(filepath.Join(agent, "sessions", "jsess.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteString(`{"type":"session","version":3,"id":"jsess","timestamp":"2026-06-01T08:00:00.000Z"}` + "\n"); err != nil {
		return err
	}
	fmt.Fprintln(out, "ready")

	var maxWrite, maxTx time.Duration
	write := func(s string) error {
		t0 := time.Now()
		_, err := f.WriteString(s)
		maxWrite = max(maxWrite, time.Since(t0))
		return err
	}
	rows := 0
	// insert runs one transaction of liveTxRows rows; before, if set, runs
	// with the transaction open and its rows not yet committed.
	insert := func(before func() error) error {
		t0 := time.Now()
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for k := range liveTxRows {
			n := rows + k
			if _, err := tx.Exec(`INSERT INTO transcript_events VALUES ('dsess', ?, ?, ?, NULL)`, n+1, liveDBEntry(n), 1780304400000+n); err != nil {
				return err
			}
		}
		stall := time.Since(t0)
		if before != nil {
			if err := before(); err != nil {
				return err
			}
		}
		t1 := time.Now()
		if err := tx.Commit(); err != nil {
			return err
		}
		maxTx = max(maxTx, stall+time.Since(t1))
		rows += liveTxRows
		return nil
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range liveLines {
		line := liveJSONLEntry(i) + "\n"
		if i == livePauseA || i == livePauseB {
			// The worst moment, held until the reader has looked: half a
			// line at EOF and uncommitted rows in the WAL.
			cut := 1 + rnd.IntN(len(line)-2)
			if err := write(line[:cut]); err != nil {
				return err
			}
			err := insert(func() error {
				fmt.Fprintf(out, "paused jsonl=%d db=%d\n", i, rows)
				_, err := stdin.ReadString('\n')
				return err
			})
			if err != nil {
				return err
			}
			if err := write(line[cut:]); err != nil {
				return err
			}
			continue
		}
		if i%4 == 1 {
			// A line written in two write() calls, as a buffered writer
			// flushing mid-line does, with a pause in between.
			cut := 1 + rnd.IntN(len(line)-2)
			if err := write(line[:cut]); err != nil {
				return err
			}
			time.Sleep(2 * time.Millisecond)
			line = line[cut:]
		}
		if err := write(line); err != nil {
			return err
		}
		if i%liveTxEvery == 0 {
			if err := insert(nil); err != nil {
				return err
			}
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Fprintf(out, "done jsonl=%d db=%d maxwrite=%d maxtx=%d\n", liveLines, rows, maxWrite, maxTx)
	if _, err := stdin.ReadString('\n'); err != nil {
		return err
	}
	return db.Close()
}

// liveRead is what one read of the live state dir saw.
type liveRead struct {
	jsonl, db int  // complete entries of each session (header excluded)
	partial   bool // the transcript ended in a half-written line
}

// readLive reads dir through the public API and checks what any read of a
// live state dir must satisfy: each session's entries are a prefix of what
// the writer wrote (transcript) or a committed state (database: whole
// transactions), every id at most once, and no diagnostic except, for the
// transcript, one "truncated last line" right after the complete ones.
func readLive(t *testing.T, dir string) liveRead {
	t.Helper()
	c, err := Open([]string{dir}, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if errs := c.Stats().Errors; len(errs) > 0 {
		t.Fatalf("read reported %v", errs)
	}
	var r liveRead
	err = c.Each(context.Background(), func(s *Session) error {
		var ids []string
		for _, e := range s.Entries {
			if e.Kind != EntryHeader {
				ids = append(ids, e.ID)
			}
		}
		prefix, want := "", 0
		switch s.SessionID {
		case "jsess":
			prefix, r.jsonl = "j", len(ids)
		case "dsess":
			prefix, r.db = "d", len(ids)
			if len(ids)%liveTxRows != 0 {
				t.Errorf("database read %d rows: not a committed state (transactions of %d)", len(ids), liveTxRows)
			}
			if s.Key != "agent:main:main" {
				t.Errorf("database session key %q", s.Key)
			}
		default:
			t.Errorf("unexpected session %q", s.SessionID)
			return nil
		}
		if s.Header == nil {
			t.Errorf("%s: no header", s.SessionID)
		}
		for i, id := range ids {
			if id != fmt.Sprintf("%s%d", prefix, i) {
				t.Errorf("%s: entry %d is %q: not a prefix of what was written, or read twice", s.SessionID, i, id)
				break
			}
			want++
		}
		for _, le := range s.LineErrors {
			// The transcript's line after the last complete entry (header
			// on line 1) may be in progress: reported under its own reason.
			if s.SessionID == "jsess" && le.Src.Line == len(ids)+2 && strings.HasPrefix(le.Err.Error(), "truncated last line (file still being written?)") && !r.partial {
				r.partial = true
				continue
			}
			t.Errorf("%s: unexpected diagnostic: %v", s.SessionID, le)
		}
		if s.SkippedLines != len(s.LineErrors) {
			t.Errorf("%s: skipped %d lines, %d reported", s.SessionID, s.SkippedLines, len(s.LineErrors))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fileState is the names, sizes, times and contents of every file under a
// directory.
func fileState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fmt.Sprintf("%d %s %x", info.Size(), info.ModTime().Format(time.RFC3339Nano), sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLiveWriters reads a state dir while another process appends to a
// JSONL transcript (lines sometimes written in two write() calls) and
// commits rows to a WAL database. Every read returns only complete entries,
// each once, a prefix of the transcript and a committed state of the
// database; a half-written last line is reported as "truncated last line"
// and nothing else; the writer is never failed or stalled; and once it is
// done a read sees everything exactly once and changes no file.
func TestLiveWriters(t *testing.T) {
	if os.Getenv(liveWriterEnv) != "" {
		t.Skip("in the helper process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLiveWriterProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), liveWriterEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("writer exited early: %v\n%s", cmd.Wait(), stderr.String())
			}
			return l
		case <-time.After(20 * time.Second):
			t.Fatal("writer stalled (blocked by the reader?)")
		}
		return ""
	}
	if l := next(); l != "ready" {
		t.Fatalf("writer said %q", l)
	}

	allowed := []string{"agents/main/agent/openclaw-agent.sqlite", "agents/main/agent/openclaw-agent.sqlite-shm",
		"agents/main/agent/openclaw-agent.sqlite-wal", "agents/main/sessions/jsess.jsonl"}
	var last liveRead
	reads, partial, paused := 0, 0, 0
	var done string
	start := time.Now()
	for done == "" {
		var l string
		select {
		case l = <-lines:
		default:
		}
		switch {
		case strings.HasPrefix(l, "paused"):
			var wj, wd int
			fmt.Sscanf(l, "paused jsonl=%d db=%d", &wj, &wd)
			r := readLive(t, dir)
			if r.jsonl != wj || r.db != wd || !r.partial {
				t.Errorf("read while the writer is paused mid-line and mid-transaction: %+v, want jsonl=%d db=%d with the half line reported", r, wj, wd)
			}
			paused++
			io.WriteString(stdin, "go on\n")
			continue
		case strings.HasPrefix(l, "done"):
			done = l
			continue
		case l != "":
			t.Fatalf("writer said %q", l)
		}
		r := readLive(t, dir)
		reads++
		if r.partial {
			partial++
		}
		if r.jsonl < last.jsonl || r.db < last.db {
			t.Errorf("read %+v after %+v: went back", r, last)
		}
		last = r
		for name := range fileState(t, dir) {
			if !slices.Contains(allowed, filepath.ToSlash(name)) {
				t.Errorf("the state dir holds %s during the reads", name)
			}
		}
		if t.Failed() {
			break
		}
	}
	if t.Failed() {
		return
	}
	var wj, wd int
	var maxWrite, maxTx time.Duration
	fmt.Sscanf(done, "done jsonl=%d db=%d maxwrite=%d maxtx=%d", &wj, &wd, &maxWrite, &maxTx)
	t.Logf("%d reads in %v (%d saw a half-written line), writer max write() %v, max transaction %v",
		reads, time.Since(start).Round(time.Millisecond), partial, maxWrite, maxTx)
	if paused != 2 {
		t.Errorf("%d paused reads, want 2", paused)
	}
	if maxWrite > liveMaxStall || maxTx > liveMaxStall {
		t.Errorf("writer stalled: max write() %v, max transaction %v", maxWrite, maxTx)
	}
	// The gateway stops: it closes the database last (removing -wal, -shm).
	io.WriteString(stdin, "stop\n")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("writer: %v\n%s", err, stderr.String())
	}

	before := fileState(t, dir)
	r := readLive(t, dir)
	if r.jsonl != wj || r.db != wd || r.partial {
		t.Errorf("final read %+v, want every entry once: jsonl=%d db=%d", r, wj, wd)
	}
	if after := fileState(t, dir); !maps.Equal(before, after) {
		t.Errorf("reading changed the state dir:\nbefore %v\nafter  %v", before, after)
	}
}

// growingFile reads like a file being appended to: each chunk, then EOF,
// then (on the next read) the next chunk.
type growingFile struct {
	chunks []string
	eof    bool
}

func (g *growingFile) Read(p []byte) (int, error) {
	if g.eof || len(g.chunks) == 0 {
		g.eof = false
		return 0, io.EOF
	}
	n := copy(p, g.chunks[0])
	g.chunks[0] = g.chunks[0][n:]
	if g.chunks[0] == "" {
		g.chunks, g.eof = g.chunks[1:], true
	}
	return n, nil
}

// TestLineReaderStopsAtEOF: once a read has reached the end of a file, the
// line reader must not read on — a file being appended to would hand it
// the rest of the half-written line it just returned as a line of its own
// (reported as "not a JSON object", or worse, parsed).
func TestLineReaderStopsAtEOF(t *testing.T) {
	lr := newLineReader(&growingFile{chunks: []string{"{\"a\":1}\n{\"b\":", "2}\n{\"c\":3}\n"}})
	defer lr.release()
	var got []string
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s last=%v", line, lr.last))
	}
	want := []string{`{"a":1} last=false`, `{"b": last=true`}
	if !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}
