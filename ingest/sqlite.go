package ingest

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	_ "modernc.org/sqlite" // pure-Go SQLite: keeps the binary static
)

// openDB opens an agent database read-only. mode=ro takes only shared
// (read) locks, so a live gateway keeps writing; query_only guards against
// any statement of ours writing. If the database cannot be opened that way
// (a WAL database in a read-only directory has no -shm to map), it is
// retried with immutable=1, which takes no locks at all.
func openDB(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if snap, err := walSnapshot(abs); err != nil {
		return nil, err
	} else if snap != "" {
		abs = snap
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	modes := []string{"mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)", "mode=ro&immutable=1&_pragma=query_only(1)"}
	if walIdle(abs) {
		modes = modes[1:]
	}
	if _, busy := lockedDBs.Load(abs); busy && len(modes) > 1 {
		modes = modes[1:]
	}
	for _, q := range modes {
		u.RawQuery = q
		db, err := sql.Open("sqlite", u.String())
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		if err = db.Ping(); err == nil {
			var n int
			if err = db.QueryRow(`SELECT count(*) FROM sqlite_master`).Scan(&n); err == nil {
				return db, nil
			}
		}
		db.Close()
		if q == "mode=ro&immutable=1&_pragma=query_only(1)" {
			return nil, fmt.Errorf("opening database read-only: %w", err)
		}
		lockedDBs.Store(abs, true)
	}
	panic("unreachable")
}

// lockedDBs are the databases that could not be opened with locks in this
// process (a writer held them, busy_timeout ran out): they are opened with
// immutable=1 straight away from then on, instead of waiting out the busy
// timeout again at every open (discovery, then each session).
var lockedDBs sync.Map

// walIdle reports a WAL-mode database that no process has open: no -wal,
// no -shm (a gateway stopped cleanly, a copied database). Its rows are all
// in the main file, and a mode=ro open would create the -wal and -shm next
// to it, writing into the input directory; immutable=1 reads it without
// creating anything. (A gateway that starts while it is read creates them
// itself and only writes the main file when it checkpoints, after ~4 MB of
// WAL.)
func walIdle(path string) bool {
	if fileExists(path+"-wal") || fileExists(path+"-shm") {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	// Header bytes 18 and 19 (file format write/read version) are 2 in WAL
	// mode.
	var hdr [20]byte
	if n, _ := f.ReadAt(hdr[:], 0); n < len(hdr) || string(hdr[:16]) != "SQLite format 3\x00" {
		return false
	}
	return hdr[18] == 2 && hdr[19] == 2
}

func hasTable(db *sql.DB, name string) bool {
	var n int
	err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?`, name).Scan(&n)
	return err == nil && n > 0
}

// listDBSessions returns the session ids that have transcript rows, sorted.
func listDBSessions(path string) ([]string, error) {
	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if !hasTable(db, "transcript_events") {
		return nil, nil // not an agent database of the SQLite era, or empty
	}
	rows, err := db.Query(`SELECT DISTINCT session_id FROM transcript_events ORDER BY session_id`)
	if err != nil {
		return nil, fmt.Errorf("listing sessions: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// readDBTranscript streams the transcript_events rows of one session in seq
// order. fn gets the event JSON (decompressed when stored as zstd) and the
// row's seq; the slice is only valid during the call. A row whose event
// cannot be decoded is passed with a nil line and bad set (seq may be any
// value, negative included, so it cannot carry that signal).
func readDBTranscript(db *sql.DB, sessionID string, fn func(line []byte, seq, createdAt int64, bad error) error) error {
	// Older and test schemas lack event_zstd or created_at.
	zcol, ccol := "NULL", "0"
	if hasColumn(db, "transcript_events", "event_zstd") {
		zcol = "event_zstd"
	}
	if hasColumn(db, "transcript_events", "created_at") {
		ccol = "created_at"
	}
	rows, err := db.Query(`SELECT seq, event_json, `+zcol+`, `+ccol+` FROM transcript_events WHERE session_id = ? ORDER BY seq`, sessionID)
	if err != nil {
		return fmt.Errorf("reading transcript_events: %w", err)
	}
	defer rows.Close()
	var buf []byte
	for rows.Next() {
		var seq, created int64
		var js sql.RawBytes
		var zs sql.RawBytes
		if err := rows.Scan(&seq, &js, &zs, &created); err != nil {
			return err
		}
		line, bad := rowEvent(&buf, js, zs)
		if err := fn(line, seq, created, bad); err != nil {
			return err
		}
	}
	return rows.Err()
}

// maxRowBytes bounds what one event_zstd value may decompress to. A row is
// held whole in memory, and a few hundred bytes of zstd can expand to
// gigabytes (a "zstd bomb"); real rows are far smaller (the largest hold
// images of a few MB). A larger row is reported as a bad row.
const maxRowBytes = 64 << 20

// rowEvent returns the event JSON of a transcript_events row: event_json,
// else event_zstd decompressed into *buf (reused from row to row). A NULL
// event_json without event_zstd gives an empty line (the parser reports it).
func rowEvent(buf *[]byte, js, zs []byte) ([]byte, error) {
	if js != nil || zs == nil {
		return js, nil
	}
	out, err := decodeZstd(*buf, zs)
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return nil, fmt.Errorf("event_zstd decompresses to more than %d MiB", maxRowBytes>>20)
		}
		return nil, fmt.Errorf("event_zstd does not decompress: %w", err)
	}
	*buf = out
	return out, nil
}

func hasColumn(db *sql.DB, table, col string) bool {
	var n int
	err := db.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, table, col).Scan(&n)
	return err == nil && n > 0
}

// createdAtTime converts a created_at value: epoch ms, or epoch seconds in
// databases that stored seconds.
func createdAtTime(v int64) time.Time {
	if v <= 0 {
		return time.Time{}
	}
	if v < 100_000_000_000 {
		v *= 1000
	}
	return time.UnixMilli(v).UTC()
}

// readDBIndex returns the session index rows of an agent database
// (session_nodes.entry_json plus the key columns).
func readDBIndex(path, name, agent string) ([]IndexRow, []error) {
	db, err := openDB(path)
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", name, err)}
	}
	defer db.Close()
	if !hasTable(db, "session_nodes") {
		return nil, nil
	}
	rows, err := db.Query(`SELECT session_key, current_session_id, entry_json FROM session_nodes ORDER BY session_key`)
	if err != nil {
		return nil, []error{fmt.Errorf("%s: reading session_nodes: %w", name, err)}
	}
	defer rows.Close()
	var out []IndexRow
	var errs []error
	i := 0
	for rows.Next() {
		i++
		var key, sid, js string
		if err := rows.Scan(&key, &sid, &js); err != nil {
			errs = append(errs, err)
			continue
		}
		src := Source{File: name + "#session_nodes", Line: i}
		row, err := parseIndexRow(key, []byte(js), src)
		if err != nil {
			errs = append(errs, &LineError{Src: src, Err: err})
		}
		if row.SessionID == "" {
			row.SessionID = sid
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		errs = append(errs, err)
	}
	return append(out, readDBWindows(db, name, out, &errs)...), errs
}

// readDBWindows returns a minimal index row (session key and id) for every
// earlier window of a session key in session_windows — the sessions a
// reset, compaction or rollover replaced — which session_nodes no longer
// names (it holds the current session of each key only).
func readDBWindows(db *sql.DB, name string, nodes []IndexRow, errs *[]error) []IndexRow {
	if !hasTable(db, "session_windows") {
		return nil
	}
	known := map[string]bool{}
	for _, r := range nodes {
		known[r.SessionID] = true
	}
	rows, err := db.Query(`SELECT session_id, session_key FROM session_windows ORDER BY session_id`)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: reading session_windows: %w", name, err))
		return nil
	}
	defer rows.Close()
	var out []IndexRow
	for rows.Next() {
		var sid, key string
		if err := rows.Scan(&sid, &key); err != nil {
			*errs = append(*errs, err)
			continue
		}
		if !known[sid] && sid != "" && key != "" {
			out = append(out, IndexRow{SessionKey: key, SessionID: sid})
		}
	}
	return out
}

// readDBTrajectory streams trajectory_runtime_events of one session.
func readDBTrajectory(db *sql.DB, sessionID string, fn func(line []byte, seq int64) error) error {
	if !hasTable(db, "trajectory_runtime_events") {
		return nil
	}
	rows, err := db.Query(`SELECT seq, event_json FROM trajectory_runtime_events WHERE session_id = ? ORDER BY seq`, sessionID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var js sql.RawBytes
		if err := rows.Scan(&seq, &js); err != nil {
			return err
		}
		if err := fn(js, seq); err != nil {
			return err
		}
	}
	return rows.Err()
}

func dbSessionName(name string) string {
	if i := strings.LastIndexByte(name, '#'); i >= 0 {
		return name[:i]
	}
	return name
}

// dbPool shares one read-only handle per database across workers.
type dbPool struct {
	mu  sync.Mutex
	dbs map[string]*sql.DB
	max int
}

func (p *dbPool) get(path string) (*sql.DB, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if db, ok := p.dbs[path]; ok {
		return db, nil
	}
	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(p.max)
	if p.dbs == nil {
		p.dbs = map[string]*sql.DB{}
	}
	p.dbs[path] = db
	return db, nil
}

func (p *dbPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, db := range p.dbs {
		db.Close()
		delete(p.dbs, k)
	}
	RemoveTempFiles()
}

// walSnapshots are the copies made by walSnapshot, by database path.
var walSnapshots = struct {
	sync.Mutex
	dirs map[string]string
}{dirs: map[string]string{}}

// walSnapshot returns a private copy of a WAL database that has a -wal
// file but no -shm (a copied backup, a crashed writer): SQLite would
// create the -shm next to the input to read the WAL, writing into the
// input directory. The copy (database and WAL) lives in a temporary
// directory until RemoveTempFiles. "" when no copy is needed.
func walSnapshot(path string) (string, error) {
	if !fileExists(path+"-wal") || fileExists(path+"-shm") {
		return "", nil
	}
	walSnapshots.Lock()
	defer walSnapshots.Unlock()
	if d, ok := walSnapshots.dirs[path]; ok {
		return filepath.Join(d, filepath.Base(path)), nil
	}
	dir, err := os.MkdirTemp("", "clawtrace-db-")
	if err != nil {
		return "", fmt.Errorf("copying %s to read its WAL without writing beside it: %w", path, err)
	}
	for _, suffix := range []string{"", "-wal"} {
		if err := copyFile(path+suffix, filepath.Join(dir, filepath.Base(path)+suffix)); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("copying %s to read its WAL without writing beside it: %w", path, err)
		}
	}
	walSnapshots.dirs[path] = dir
	return filepath.Join(dir, filepath.Base(path)), nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// removeWALSnapshots deletes the copies walSnapshot made.
func RemoveTempFiles() {
	walSnapshots.Lock()
	defer walSnapshots.Unlock()
	for k, d := range walSnapshots.dirs {
		os.RemoveAll(d)
		delete(walSnapshots.dirs, k)
	}
}

// dbCreated returns the creation time the header row (the first by seq) of
// a session in an agent database records, "" when unknown.
func dbCreated(path, sessionID string) string {
	db, err := openDB(path)
	if err != nil {
		return ""
	}
	defer db.Close()
	created := ""
	stop := errors.New("stop")
	_ = readDBTranscript(db, sessionID, func(line []byte, _, _ int64, _ error) error {
		if e, err := ParseEntry(line, Source{}, ParseOptions{}); err == nil && e.Kind == EntryHeader && !e.Time.IsZero() {
			created = e.Time.UTC().Format(time.RFC3339Nano)
		}
		return stop
	})
	return created
}
