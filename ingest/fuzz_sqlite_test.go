package ingest

import (
	"bytes"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// zstdOf compresses b as OpenClaw stores an event_zstd value.
func zstdOf(b []byte) []byte {
	enc, _ := zstd.NewWriter(nil)
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// zstdStream compresses size zero bytes with the streaming encoder, whose
// frames do not declare their content size: the decoder only learns the
// size by decoding, which is what a zstd bomb relies on.
func zstdStream(size int) []byte {
	var buf bytes.Buffer
	enc, _ := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest))
	_, _ = io.CopyN(enc, zeroReader{}, int64(size))
	_ = enc.Close()
	return buf.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// fixtureRows returns up to n event payloads of the recorded agent
// databases, as stored: event_json text, or the raw event_zstd blob.
func fixtureRows(n int) (text, blobs [][]byte) {
	files, _ := filepath.Glob("../fixtures/corpus/openclaw-2026.9.6/*/state/agents/main/agent/openclaw-agent.sqlite")
	for _, p := range files {
		db, err := openDB(p)
		if err != nil {
			continue
		}
		rows, err := db.Query(`SELECT event_json, event_zstd FROM transcript_events ORDER BY seq LIMIT ?`, n)
		if err == nil {
			for rows.Next() {
				var js, zs []byte
				if rows.Scan(&js, &zs) == nil {
					if js != nil {
						text = append(text, js)
					}
					if zs != nil {
						blobs = append(blobs, zs)
					}
				}
			}
			rows.Close()
		}
		db.Close()
	}
	return text, blobs
}

// FuzzRowEvent fuzzes the decoding of a transcript_events row: arbitrary
// bytes as event_json, or as an event_zstd blob (valid frames of real
// entries, truncated frames, bombs), then the entry parser on the result.
// A row never decodes to more than maxRowBytes, and a decode error is
// reported, never a panic.
func FuzzRowEvent(f *testing.F) {
	text, blobs := fixtureRows(8)
	for _, t := range text {
		f.Add(t, false)
		f.Add(zstdOf(t), true)
	}
	for _, b := range blobs {
		f.Add(b, true)
		f.Add(b[:len(b)/2], true)
	}
	entry := []byte(`{"type":"message","id":"e2","timestamp":"2026-06-01T09:00:03.000Z","message":{"role":"assistant","content":[],"usage":{"input":10,"output":2}}}`)
	z := zstdOf(entry)
	f.Add(z, true)
	f.Add(z[:len(z)-3], true)                                           // truncated: no checksum
	f.Add(append(z[:len(z):len(z)], z...), true)                        // two frames
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd}, true)                         // magic only
	f.Add([]byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4}, true) // skippable frame
	f.Add(zstdStream(maxRowBytes+1), true)                              // bomb without a declared size
	f.Add(zstdOf(make([]byte, maxRowBytes+1)), true)                    // bomb with a declared size
	f.Fuzz(func(t *testing.T, data []byte, compressed bool) {
		var buf []byte
		js, zs := data, []byte(nil)
		if compressed {
			js, zs = nil, data
		}
		line, err := rowEvent(&buf, js, zs)
		if err != nil {
			if line != nil || !strings.HasPrefix(err.Error(), "event_zstd ") {
				t.Fatalf("bad row: line %d bytes, error %v", len(line), err)
			}
			return
		}
		if len(line) > maxRowBytes {
			t.Fatalf("row decompressed to %d bytes, limit %d", len(line), maxRowBytes)
		}
		if !compressed && !bytes.Equal(line, data) {
			t.Fatalf("event_json changed")
		}
		if e, err := ParseEntry(line, Source{File: "db#s", Line: 1}, ParseOptions{}); err == nil && e.Type == "" {
			t.Fatalf("accepted entry without type")
		}
	})
}

// TestRowEventBomb: an event_zstd value that expands past maxRowBytes is a
// bad row with a message saying so, whether or not its frame declares its
// size; it does not decompress to gigabytes.
func TestRowEventBomb(t *testing.T) {
	for name, blob := range map[string][]byte{
		"stream":   zstdStream(maxRowBytes + 1),
		"declared": zstdOf(make([]byte, maxRowBytes+1)),
	} {
		var buf []byte
		line, err := rowEvent(&buf, nil, blob)
		if err == nil || line != nil || !strings.Contains(err.Error(), "more than 64 MiB") {
			t.Errorf("%s bomb (%d bytes): line %d bytes, err %v", name, len(blob), len(line), err)
		}
	}
	var buf []byte
	if line, err := rowEvent(&buf, nil, zstdOf([]byte(`{"type":"x"}`))); err != nil || string(line) != `{"type":"x"}` {
		t.Errorf("valid row: %q, %v", line, err)
	}
}

// fuzzDB is one in-memory database shared by the executions of FuzzReadDB:
// creating a database per input would dominate the run time.
var fuzzDB struct {
	once sync.Once
	db   *sql.DB
	err  error
}

func openFuzzDB() (*sql.DB, error) {
	fuzzDB.once.Do(func() {
		db, err := sql.Open("sqlite", "file:fuzz?mode=memory")
		if err == nil {
			db.SetMaxOpenConns(1)
			_, err = db.Exec(`CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL, event_zstd BLOB, PRIMARY KEY (session_id, seq))`)
		}
		fuzzDB.db, fuzzDB.err = db, err
	})
	return fuzzDB.db, fuzzDB.err
}

// fuzzRow is one transcript_events row built from fuzz input.
type fuzzRow struct {
	seq, created int64
	js, zs       []byte
}

// fuzzRows splits data at "\n\x00" into rows. The first byte of a row
// picks how its payload (the rest) is stored — event_json, event_zstd of
// the payload, the payload as a raw event_zstd blob, or both NULL — and
// its seq (negative, huge, or the row's index).
func fuzzRows(data []byte) []fuzzRow {
	var out []fuzzRow
	for i, chunk := range bytes.Split(data, []byte("\n\x00")) {
		if len(chunk) == 0 || i >= 64 {
			continue
		}
		sel, payload := chunk[0], chunk[1:]
		r := fuzzRow{seq: int64(i), created: int64(sel) * 1_000_000_000_000 / 255}
		switch sel >> 2 & 3 {
		case 1:
			r.seq = -int64(i) - 1
		case 2:
			r.seq = 1<<62 + int64(i)
		}
		switch sel & 3 {
		case 0:
			r.js = payload
		case 1:
			r.zs = zstdOf(payload)
		case 2:
			r.zs = payload
		}
		out = append(out, r)
	}
	return out
}

// FuzzReadDB stores fuzzed rows in a real SQLite table and runs the real
// row reader on it: rows come back in seq order, each either a line or a
// bad-row error, never both, and the callback sees every row once.
func FuzzReadDB(f *testing.F) {
	text, blobs := fixtureRows(4)
	var seed []byte
	for i, t := range text {
		seed = append(append(append(seed, byte(i%3)), t...), "\n\x00"...)
	}
	for _, b := range blobs {
		seed = append(append(append(seed, 2), b...), "\n\x00"...)
	}
	f.Add(seed)
	f.Add([]byte("\x00{\"type\":\"session\",\"id\":\"s\"}\n\x00\x05{\"type\":\"custom\"}\n\x00\x02\x28\xb5\x2f\xfd\n\x00\x0b\n\x00\x09x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := openFuzzDB()
		if err != nil {
			t.Skip(err)
		}
		if _, err := db.Exec(`DELETE FROM transcript_events`); err != nil {
			t.Fatal(err)
		}
		rows := fuzzRows(data)
		stored := map[int64]fuzzRow{}
		for _, r := range rows {
			stored[r.seq] = r
			var js any
			if r.js != nil {
				js = string(r.js)
			}
			var zs any
			if r.zs != nil {
				zs = r.zs
			}
			if _, err := db.Exec(`INSERT INTO transcript_events VALUES ('s', ?, ?, ?, ?)`, r.seq, js, r.created, zs); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		last := int64(-1 << 63)
		err = readDBTranscript(db, "s", func(line []byte, seq, created int64, bad error) error {
			n++
			if seq < last {
				t.Fatalf("seq %d after %d", seq, last)
			}
			last = seq
			if bad != nil && (line != nil || stored[seq].zs == nil) {
				t.Fatalf("row %d: bad row %v, line %q, stored %+v", seq, bad, line, stored[seq])
			}
			if bad == nil {
				_, _ = ParseEntry(line, Source{File: "db#s", Line: int(seq) + 1}, ParseOptions{})
			}
			_ = createdAtTime(created)
			return nil
		})
		if err != nil {
			t.Fatalf("reader failed: %v", err)
		}
		if n != len(rows) {
			t.Fatalf("read %d rows of %d", n, len(rows))
		}
		stop := errors.New("stop")
		if err := readDBTranscript(db, "s", func([]byte, int64, int64, error) error { return stop }); len(rows) > 0 && err != stop {
			t.Fatalf("callback error not returned: %v", err)
		}
	})
}

// TestNegativeSeqRow: a row with a negative seq is an ordinary row. The
// reader used to signal an undecodable event_zstd by passing -seq-1, so
// such a row was reported as "event_zstd does not decompress" and dropped.
func TestNegativeSeqRow(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "agents", "main", "agent", "openclaw-agent.sqlite")
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL, event_zstd BLOB, PRIMARY KEY (session_id, seq))`,
		`INSERT INTO transcript_events VALUES ('s1', -1, '{"type":"session","version":4,"id":"s1","timestamp":"2026-06-01T09:00:00.000Z"}', 1, NULL)`,
		`INSERT INTO transcript_events VALUES ('s1', 0, '{"type":"custom","id":"e1","timestamp":"2026-06-01T09:00:01.000Z"}', 1, NULL)`,
		`INSERT INTO transcript_events VALUES ('s1', 1, NULL, 1, x'28b52ffd00')`,
	} {
		if _, err := w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	ss, _ := readAll(t, []string{dir}, Options{})
	if len(ss) != 1 {
		t.Fatalf("%d sessions", len(ss))
	}
	s := ss[0]
	if len(s.Entries) != 2 || s.Header == nil || s.Header.SessionID != "s1" {
		t.Errorf("entries %d, header %+v", len(s.Entries), s.Header)
	}
	if len(s.LineErrors) != 1 || s.LineErrors[0].Src.Line != 2 || !strings.Contains(s.LineErrors[0].Error(), "event_zstd does not decompress") {
		t.Errorf("line errors: %v", s.LineErrors)
	}
}
