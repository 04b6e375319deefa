package ingest

import (
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func fileSum(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		return [32]byte{}
	}
	return sha256.Sum256(b)
}

// TestLiveDatabase reads an agent database in WAL mode while another
// connection holds an open write transaction, as a running gateway would:
// the read sees the committed rows, does not block, and changes no byte of
// the database or its WAL.
func TestLiveDatabase(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "agents", "main", "agent", "openclaw-agent.sqlite")
	os.MkdirAll(filepath.Dir(dbPath), 0o755)
	w, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := w.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(`CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL, event_zstd BLOB, PRIMARY KEY (session_id, seq))`)
	mustExec(`CREATE TABLE session_nodes (session_key TEXT PRIMARY KEY, current_session_id TEXT NOT NULL, entry_json TEXT NOT NULL)`)
	lines := []string{
		`{"type":"session","version":4,"id":"s1","timestamp":"2026-06-01T09:00:00.000Z"}`,
		`{"type":"message","id":"e1","parentId":null,"timestamp":"2026-06-01T09:00:01.000Z","message":{"role":"user","content":"hi","timestamp":1780304400900}}`,
	}
	for i, l := range lines {
		mustExec(`INSERT INTO transcript_events VALUES ('s1', ?, ?, 1780304400000, NULL)`, i, l)
	}
	// A zstd-compressed row, as OpenClaw stores large events.
	enc, _ := zstd.NewWriter(nil)
	big := `{"type":"message","id":"e2","parentId":"e1","timestamp":"2026-06-01T09:00:03.000Z","message":{"role":"assistant","content":[],"provider":"p","model":"m","usage":{"input":10,"output":2},"stopReason":"stop","timestamp":1780304401100}}`
	mustExec(`INSERT INTO transcript_events VALUES ('s1', 2, NULL, 1780304400000, ?)`, enc.EncodeAll([]byte(big), nil))
	mustExec(`INSERT INTO session_nodes VALUES ('agent:main:main', 's1', '{"sessionId":"s1"}')`)

	// The "gateway" starts writing and does not commit.
	tx, err := w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO transcript_events VALUES ('s1', 3, '{"type":"custom","id":"e3"}', 1, NULL)`); err != nil {
		t.Fatal(err)
	}
	before := [2][32]byte{fileSum(t, dbPath), fileSum(t, dbPath+"-wal")}

	done := make(chan []*Session, 1)
	go func() {
		ss, _ := readAll(t, []string{dir}, Options{})
		done <- ss
	}()
	var ss []*Session
	select {
	case ss = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("reading a database with an open write transaction blocked")
	}
	if len(ss) != 1 || len(ss[0].Entries) != 3 || ss[0].Key != "agent:main:main" {
		t.Fatalf("sessions %d, entries %d, key %q", len(ss), len(ss[0].Entries), ss[0].Key)
	}
	if c := ss[0].Count(); c.LLMCalls != 1 {
		t.Errorf("zstd row not read: %+v", c)
	}
	after := [2][32]byte{fileSum(t, dbPath), fileSum(t, dbPath+"-wal")}
	if before != after {
		t.Error("reading changed the database or its WAL")
	}
}

// TestWALWithoutSHM: a copied WAL database (db and -wal, no -shm: a backup,
// a crashed writer) is read with the WAL's rows, and nothing is created next
// to it — SQLite would otherwise create the -shm in the input directory.
func TestWALWithoutSHM(t *testing.T) {
	src := t.TempDir()
	dbPath := filepath.Join(src, "openclaw-agent.sqlite")
	w, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL, event_zstd BLOB, PRIMARY KEY (session_id, seq))`,
		`INSERT INTO transcript_events VALUES ('s1', 0, '{"type":"session","version":4,"id":"s1","timestamp":"2026-06-01T09:00:00.000Z"}', 1, NULL)`,
		`INSERT INTO transcript_events VALUES ('s1', 1, '{"type":"message","id":"e1","parentId":null,"timestamp":"2026-06-01T09:00:01.000Z","message":{"role":"user","content":"hi","timestamp":1780304400900}}', 1, NULL)`,
	} {
		if _, err := w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// Copy the database and its WAL (the rows live only there) while the
	// writer keeps them open, as a backup tool would, without the -shm.
	dir := t.TempDir()
	agentDir := filepath.Join(dir, "agents", "main", "agent")
	os.MkdirAll(agentDir, 0o755)
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(dbPath + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(agentDir, "openclaw-agent.sqlite"+suffix), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ss, _ := readAll(t, []string{dir}, Options{})
	if len(ss) != 1 || len(ss[0].Entries) != 2 {
		t.Fatalf("sessions %d (want 1 with the 2 entries of the WAL)", len(ss))
	}
	ents, _ := os.ReadDir(agentDir)
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("the input dir holds %v: reading created files", names)
	}
}

// TestSessionWindowsKeepTheirKey: session_nodes names only the current
// session of a key; the sessions a reset or compaction replaced are in
// session_windows and keep the key (for --session by key, and the report's
// session key).
func TestSessionWindowsKeepTheirKey(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "agents", "main", "agent", "openclaw-agent.sqlite")
	os.MkdirAll(filepath.Dir(dbPath), 0o755)
	w, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL, event_zstd BLOB, PRIMARY KEY (session_id, seq))`,
		`CREATE TABLE session_nodes (session_key TEXT PRIMARY KEY, current_session_id TEXT NOT NULL, entry_json TEXT NOT NULL)`,
		`CREATE TABLE session_windows (session_id TEXT NOT NULL PRIMARY KEY, session_key TEXT NOT NULL, previous_session_id TEXT, reason TEXT)`,
		`INSERT INTO transcript_events VALUES ('s1', 0, '{"type":"session","version":4,"id":"s1","timestamp":"2026-06-01T09:00:00.000Z"}', 1, NULL)`,
		`INSERT INTO transcript_events VALUES ('s2', 0, '{"type":"session","version":4,"id":"s2","timestamp":"2026-06-02T09:00:00.000Z"}', 1, NULL)`,
		`INSERT INTO session_nodes VALUES ('agent:main:telegram:direct:42', 's2', '{"sessionId":"s2"}')`,
		`INSERT INTO session_windows VALUES ('s1', 'agent:main:telegram:direct:42', NULL, 'initial')`,
		`INSERT INTO session_windows VALUES ('s2', 'agent:main:telegram:direct:42', 's1', 'compaction')`,
	} {
		if _, err := w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	ss, _ := readAll(t, []string{dir}, Options{Sessions: []string{"agent:main:telegram:direct:42"}})
	if len(ss) != 2 || ss[0].Key != "agent:main:telegram:direct:42" || ss[1].Key != "agent:main:telegram:direct:42" {
		t.Fatalf("%d sessions for the key", len(ss))
	}
}

// TestSameIDDifferentSessionsDBOnly: two recordings of the 2026.8+ layout
// (databases only) that reuse a session id for different sessions stay
// apart: the creation time comes from the database's header row.
func TestSameIDDifferentSessionsDBOnly(t *testing.T) {
	const rec = "../fixtures/corpus/openclaw-2026.9.6/02-one-tool/state"
	dir := t.TempDir()
	for i, name := range []string{"r1", "r2"} {
		state := filepath.Join(dir, name, "state")
		if err := os.CopyFS(state, os.DirFS(rec)); err != nil {
			t.Fatal(err)
		}
		jsonl, _ := filepath.Glob(filepath.Join(state, "agents", "main", "sessions", "*.jsonl"))
		for _, p := range jsonl {
			os.Remove(p)
		}
		if i == 1 { // another session under the same id: created a day later
			db, err := sql.Open("sqlite", "file:"+filepath.Join(state, "agents", "main", "agent", "openclaw-agent.sqlite"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`UPDATE transcript_events SET event_json = replace(event_json, '2026-11-25T', '2026-11-26T') WHERE event_json IS NOT NULL`); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}
	}
	ss, _ := readAll(t, []string{dir}, Options{})
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.SessionID)
	}
	if !slices.Contains(ids, "s02@r1") || !slices.Contains(ids, "s02@r2") {
		t.Errorf("sessions %v, want s02@r1 and s02@r2", ids)
	}
}
