package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	_ "modernc.org/sqlite"
)

// The bad-input matrix (issue 11): every command, on a small valid
// recording plus one kind of bad input placed where discovery finds it,
// exits 0, names the bad line (file:line: reason) or file (file: reason) on
// stderr, counts it in its summary (skipped lines / skipped files), and
// reports the totals of the valid part alone; with --strict it exits 3.
//
// The slow cases run only with CLAWTRACE_BIG=1: the 100 MB line (run it
// alone: CLAWTRACE_BIG=1 go test ./cmd/clawtrace -run BadInputMatrix/big)
// and the exclusively locked database (TestBadInputExclusiveLock).

const (
	// jsonlRec is a 2026.7 recording: the transcript is a JSONL file.
	jsonlRec = "../../fixtures/corpus/openclaw-2026.7.35/02-one-tool"
	// dbRec is a 2026.9 recording: the transcript is in the agent
	// database, and exported beside it as JSONL.
	dbRec    = "../../fixtures/corpus/openclaw-2026.9.6/02-one-tool"
	sessRel  = "state/agents/main/sessions"
	dbRel    = "state/agents/main/agent/openclaw-agent.sqlite"
	resetTS  = ".reset.2026-11-25T22-00-00.000Z"
	headerID = `"parentId":"2dd7b435","timestamp":"2026-11-25T21:15:33.750Z"`
)

// badCase is one row of the matrix: the bad thing added to a copy of base,
// and what every command must say about it.
type badCase struct {
	name string
	base string
	// bad adds the bad input to the copy rec; valid, when set, turns a
	// copy into the valid part (what must remain of the bad one).
	bad, valid func(t *testing.T, rec string)
	// lines and files are the skipped counts every summary must show.
	lines, files int
	// diags must each appear on stderr ("sessions/s02.jsonl:10: …").
	diags []string
	// big marks the 100 MB case (CLAWTRACE_BIG=1).
	big bool
}

func TestBadInputMatrix(t *testing.T) {
	cases := badCases()
	cmds := badCommands()
	type key struct {
		base  string
		valid bool
		cmd   string
	}
	want := map[key]string{} // valid totals, per base and command
	// --strict is checked once per command and kind of loss (lines,
	// files, none): it is one rule, and the matrix stays fast.
	type strictKey struct {
		cmd          string
		lines, files bool
	}
	strictDone := map[strictKey]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.big && os.Getenv("CLAWTRACE_BIG") == "" {
				t.Skip("100 MB line: set CLAWTRACE_BIG=1")
			}
			valid := copyRec(t, c.base)
			if c.valid != nil {
				c.valid(t, valid)
			}
			bad := copyRec(t, c.base)
			c.bad(t, bad)
			// The baseline check compares with a baseline of the valid part.
			bl := filepath.Join(t.TempDir(), "baseline.json")
			if code, _, errs := run(t, "baseline", "-q", "-o", bl, valid); code != exitOK {
				t.Fatalf("baseline of the valid part: exit %d: %s", code, errs)
			}
			for _, cmd := range cmds {
				t.Run(cmd.name, func(t *testing.T) {
					// A command that hangs on bad input (a FIFO opened,
					// a lock waited on forever) fails here within a
					// minute, not at go test's 10-minute timeout.
					name := c.name + "/" + cmd.name
					hang := time.AfterFunc(time.Minute, func() { panic("bad input " + name + ": the command hangs") })
					defer hang.Stop()
					k := key{c.base, c.valid != nil, cmd.name}
					if _, ok := want[k]; !ok || c.valid != nil {
						r := cmd.run(t, valid, bl, false)
						if r.code != exitOK || r.lines != 0 || r.files != 0 {
							t.Fatalf("valid part: exit %d, skipped %d lines %d files:\n%s", r.code, r.lines, r.files, r.stderr)
						}
						want[k] = r.totals
					}
					r := cmd.run(t, bad, bl, false)
					if r.code != exitOK {
						t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
					}
					for _, d := range c.diags {
						if !strings.Contains(r.stderr, d) {
							t.Errorf("stderr does not name %q:\n%s", d, r.stderr)
						}
					}
					if r.lines != c.lines || r.files != c.files {
						t.Errorf("summary: %d skipped lines, %d skipped files; want %d, %d; stderr:\n%s", r.lines, r.files, c.lines, c.files, r.stderr)
					}
					if r.totals != want[k] {
						t.Errorf("totals of the bad input:\n%s\nwant those of the valid part:\n%s", r.totals, want[k])
					}
					sk := strictKey{cmd.name, c.lines > 0, c.files > 0}
					if strictDone[sk] {
						return
					}
					strictDone[sk] = true
					wantStrict := exitOK
					if c.lines+c.files > 0 {
						wantStrict = exitSkipped
					}
					if r := cmd.run(t, bad, bl, true); r.code != wantStrict {
						t.Errorf("--strict: exit %d, want %d; stderr:\n%s", r.code, wantStrict, r.stderr)
					}
				})
			}
		})
	}
}

// badResult is what one command run said: exit code, stderr, the skipped
// counts of its summary and its totals, as a string to compare.
type badResult struct {
	code         int
	stderr       string
	lines, files int
	totals       string
}

type badCommand struct {
	name string
	run  func(t *testing.T, in, baseline string, strict bool) badResult
}

var (
	skippedLinesRE = regexp.MustCompile(`(?m)^skipped lines: ([\d,]+)`)
	skippedFilesRE = regexp.MustCompile(`(?m)^skipped files: ([\d,]+)`)
)

// summaryCounts reads "skipped lines: N" and "skipped files: M" from a
// summary (absent: 0).
func summaryCounts(s string) (lines, files int) {
	get := func(re *regexp.Regexp) int {
		m := re.FindStringSubmatch(s)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		return n
	}
	return get(skippedLinesRE), get(skippedFilesRE)
}

func withStrict(strict bool, args ...string) []string {
	if strict {
		return append([]string{args[0], "--strict"}, args[1:]...)
	}
	return args
}

func badCommands() []badCommand {
	return []badCommand{
		{"scan", func(t *testing.T, in, _ string, strict bool) badResult {
			code, out, errs := run(t, withStrict(strict, "scan", "--json", in)...)
			var r struct {
				Sessions, Runs, LLMCalls, ToolCalls int
				SkippedLines                        int `json:"skipped_lines"`
				SkippedFiles                        int `json:"skipped_files"`
			}
			decodeLoose(t, out, &r)
			return badResult{code, errs, r.SkippedLines, r.SkippedFiles,
				fmt.Sprintf("sessions %d runs %d llm calls %d tool calls %d", r.Sessions, r.Runs, r.LLMCalls, r.ToolCalls)}
		}},
		{"report", func(t *testing.T, in, _ string, strict bool) badResult {
			code, out, errs := run(t, withStrict(strict, "report", "--format", "json", in)...)
			var r struct {
				Totals   map[string]any
				Coverage map[string]any
			}
			decodeLoose(t, out, &r)
			cov := r.Coverage
			return badResult{code, errs, asInt(cov["skipped_lines"]), asInt(cov["skipped_files"]),
				fmt.Sprintf("totals %v; sessions %v runs %v", r.Totals, cov["sessions_read"], cov["runs"])}
		}},
		{"reconstruct-otlp-json", func(t *testing.T, in, _ string, strict bool) badResult {
			f := filepath.Join(t.TempDir(), "traces.jsonl")
			code, _, errs := run(t, withStrict(strict, "reconstruct", "-f", "otlp-json", "-o", f, in)...)
			data, _ := os.ReadFile(f)
			spans := 0
			if len(data) > 0 {
				_, spans = otlpLines(t, string(data))
			}
			l, fl := summaryCounts(errs)
			return badResult{code, errs, l, fl, fmt.Sprintf("%d spans", spans)}
		}},
		{"reconstruct-parquet", func(t *testing.T, in, _ string, strict bool) badResult {
			dir := filepath.Join(t.TempDir(), "spans")
			code, _, errs := run(t, withStrict(strict, "reconstruct", "-f", "parquet", "-o", dir, in)...)
			l, fl := summaryCounts(errs)
			return badResult{code, errs, l, fl, fmt.Sprintf("%d rows", parquetRows(t, dir))}
		}},
		{"export", func(t *testing.T, in, _ string, strict bool) badResult {
			srv := newOTLPServer(t, nil)
			code, _, errs := run(t, withStrict(strict, "export", "--endpoint", srv.URL, "--header", "X-Tenant=t1", in)...)
			l, fl := summaryCounts(errs)
			srv.mu.Lock()
			defer srv.mu.Unlock()
			return badResult{code, errs, l, fl, fmt.Sprintf("%d spans received", srv.spans)}
		}},
		{"baseline", func(t *testing.T, in, _ string, strict bool) badResult {
			f := filepath.Join(t.TempDir(), "baseline.json")
			code, _, errs := run(t, withStrict(strict, "baseline", "-o", f, in)...)
			data, _ := os.ReadFile(f)
			l, fl := summaryCounts(errs)
			return badResult{code, errs, l, fl, string(data)}
		}},
		{"check", func(t *testing.T, in, baseline string, strict bool) badResult {
			// Any increase fails; a decrease shows in the values printed.
			code, out, errs := run(t, withStrict(strict, "check", "--baseline", baseline, "--max-cost-increase", "0",
				"--max-tokens-increase", "0", "--max-calls-increase", "0", in)...)
			l, fl := summaryCounts(errs)
			return badResult{code, errs, l, fl, out}
		}},
		{"view", func(t *testing.T, in, _ string, strict bool) badResult {
			// Totals: the page's totals block and its list of runs (ids,
			// times, calls, tokens, costs); the page must also state what
			// was skipped.
			f := filepath.Join(t.TempDir(), "view.html")
			code, _, errs := run(t, withStrict(strict, "view", "-o", f, in)...)
			page, err := os.ReadFile(f)
			if code == exitOK && (err != nil || len(page) == 0) {
				t.Errorf("view wrote no page: %v", err)
			}
			l, fl := summaryCounts(errs)
			if l > 0 && !strings.Contains(string(page), fmt.Sprintf("%d input lines skipped", l)) {
				t.Errorf("the page does not say %d input lines were skipped", l)
			}
			if fl > 0 && !strings.Contains(string(page), fmt.Sprintf("%d input files skipped", fl)) {
				t.Errorf("the page does not say %d input files were skipped", fl)
			}
			tot, runs := viewTotalsRE.FindString(string(page)), viewRunsRE.FindString(string(page))
			if code == exitOK && (tot == "" || len(runs) < 60) {
				t.Errorf("the page lacks its totals or its runs")
			}
			totals := tot + "\n" + runs
			return badResult{code, errs, l, fl, totals}
		}},
	}
}

var (
	viewTotalsRE = regexp.MustCompile(`<dl class="totals">.*?</dl>`)
	viewRunsRE   = regexp.MustCompile(`<script type="application/json" id="runs">[^<]*</script>`)
)

func decodeLoose(t *testing.T, s string, v any) {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%v in:\n%s", err, s)
	}
}

func asInt(v any) int {
	n, _ := strconv.Atoi(fmt.Sprint(v))
	return n
}

// parquetRows counts the rows of every Parquet file under dir.
func parquetRows(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		n += f.NumRows()
		return nil
	})
	return n
}

// copyRec copies a fixture recording into a fresh temp dir.
func copyRec(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "rec")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
}

// insertLines puts lines into rec's s02.jsonl after its first five
// lines (header, model change, …): they become lines 6, 7, ….
func insertLines(t *testing.T, rec string, lines ...string) {
	t.Helper()
	p := filepath.Join(rec, sessRel, "s02.jsonl")
	old := bytes.SplitAfter(mustRead(t, p), []byte("\n"))
	var out []byte
	for i, l := range old {
		if i == 5 {
			for _, b := range lines {
				out = append(out, b+"\n"...)
			}
		}
		out = append(out, l...)
	}
	mustWrite(t, p, out)
}

// junk is n lines of deterministic binary garbage, 512 bytes each.
func junk(n int) []byte {
	r := rand.New(rand.NewSource(11))
	var b []byte
	for range n {
		line := make([]byte, 512)
		r.Read(line)
		for i, c := range line {
			if c == '\n' || c == '\r' {
				line[i] = 0
			}
		}
		line[0] = 0xff // never a JSON value, never blank
		b = append(append(b, line...), '\n')
	}
	return b
}

func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func nested(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

func badCases() []badCase {
	sess := func(rec, name string) string { return filepath.Join(rec, sessRel, name) }
	removeDB := func(t *testing.T, rec string) {
		if err := os.Remove(filepath.Join(rec, dbRel)); err != nil {
			t.Fatal(err)
		}
	}
	return []badCase{
		{name: "truncated-last-line", base: jsonlRec, lines: 1,
			diags: []string{"sessions/s02.jsonl:10: truncated last line"},
			bad: func(t *testing.T, rec string) {
				f, err := os.OpenFile(sess(rec, "s02.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprint(f, `{"type":"message","id":"half","parentId":"x","timestamp":"2026-11-25T21:15:40.000Z","message":{"role":"assis`)
				f.Close()
			}},
		{name: "half-written-line", base: jsonlRec, lines: 1,
			diags: []string{"sessions/s02.jsonl:6: invalid JSON"},
			bad: func(t *testing.T, rec string) {
				insertLines(t, rec, `{"type":"message","id":"half","parentId":"x","timestamp":"2026-11-25T21:15:40.000Z","message":{"role":"assistant","usage":{"inp`)
			}},
		{name: "invalid-utf8", base: jsonlRec, lines: 1,
			diags: []string{"sessions/s02.jsonl:6: not a JSON object"},
			bad: func(t *testing.T, rec string) {
				insertLines(t, rec, "\xc3\x28 \xff\xfe",
					// Invalid UTF-8 inside strings of an entry that carries no
					// usage: read (encoding/json's U+FFFD rule), not counted.
					`{"type":"custom","customType":"note`+"\xff"+`","data":{"t":"`+"\xfe\xff"+`"},"id":"badutf",`+headerID+`}`)
			}},
		{name: "wrong-types", base: jsonlRec, lines: 7,
			diags: []string{`sessions/s02.jsonl:6: wrong type for "type"`, "sessions/s02.jsonl:7: not a JSON object",
				"sessions/s02.jsonl:10: message:", "sessions/s02.jsonl:12: message:"},
			bad: func(t *testing.T, rec string) {
				insertLines(t, rec, `{"type":123}`, `[]`, `"str"`, `null`,
					`{"type":"message","id":"w1",`+headerID+`,"message":{"role":"assistant","content":5,"usage":"lots"}}`,
					`{"type":"message","id":"w2",`+headerID+`,"message":{"role":"assistant","content":[],"usage":"lots"}}`,
					`{"type":"message","id":"w3",`+headerID+`,"message":{"role":"assistant","content":[],"usage":{"input":"x"}}}`)
			}},
		{name: "deep-nesting", base: jsonlRec, lines: 2,
			diags: []string{"sessions/s02.jsonl:6: invalid JSON", "sessions/s02.jsonl:7: "},
			bad: func(t *testing.T, rec string) {
				insertLines(t, rec, `{"type":"custom","data":`+nested(100000)+`}`, nested(100000))
			}},
		{name: "binary-garbage", base: jsonlRec, lines: 4,
			diags: []string{"sessions/junk.jsonl:1: ", "sessions/junk.jsonl:4: "},
			bad: func(t *testing.T, rec string) {
				mustWrite(t, sess(rec, "junk.jsonl"), junk(4))
			}},
		{name: "bad-hook-lines", base: jsonlRec, lines: 2,
			diags: []string{"hooks.jsonl:24: ", "hooks.jsonl:25: "},
			bad: func(t *testing.T, rec string) {
				p := filepath.Join(rec, "hooks.jsonl")
				mustWrite(t, p, append(mustRead(t, p), `{"ts":"noon","hook":7}`+"\n"+`{"ts":1795641333274,"hook":"llm_output","event":{"usa`...))
			}},
		{name: "empty-files", base: jsonlRec,
			bad: func(t *testing.T, rec string) {
				mustWrite(t, sess(rec, "empty.jsonl"), nil)
				mustWrite(t, sess(rec, "blank.jsonl"), []byte("\n  \n\t\n"))
				mustWrite(t, filepath.Join(rec, "empty-hooks.jsonl"), nil)
			}},
		{name: "corrupt-gzip-zstd", base: jsonlRec, files: 3,
			diags: []string{"sessions/s02.jsonl" + resetTS + ".gz:", "sessions/other.jsonl.gz: ", "sessions/third.jsonl.zst:1: reading stopped here"},
			bad: func(t *testing.T, rec string) {
				// An archived copy cut short: the lines before the cut are
				// read (copies of the live file's), the rest is lost.
				z := gz(t, mustRead(t, sess(rec, "s02.jsonl")))
				mustWrite(t, sess(rec, "s02.jsonl"+resetTS+".gz"), z[:len(z)*2/3])
				mustWrite(t, sess(rec, "other.jsonl.gz"), []byte("not gzip at all"))
				mustWrite(t, sess(rec, "third.jsonl.zst"), append([]byte{0x28, 0xb5, 0x2f, 0xfd}, junk(1)...))
			}},
		{name: "corrupt-database", base: dbRec, files: 1,
			diags: []string{"agent/openclaw-agent.sqlite: "},
			valid: removeDB,
			bad: func(t *testing.T, rec string) {
				p := filepath.Join(rec, dbRel)
				mustWrite(t, p, mustRead(t, p)[:8192])
			}},
		{name: "locked-database", base: dbRec,
			bad: func(t *testing.T, rec string) { lockDatabase(t, filepath.Join(rec, dbRel), "IMMEDIATE") }},
		{name: "symlink-loop", base: jsonlRec, files: 1,
			diags: []string{"sessions/loop.jsonl: too many levels of symbolic links"},
			bad: func(t *testing.T, rec string) {
				mustSymlink(t, "loop.jsonl", sess(rec, "loop.jsonl"))
			}},
		{name: "dangling-link", base: jsonlRec, files: 1,
			diags: []string{"sessions/gone.jsonl: no such file or directory"},
			bad: func(t *testing.T, rec string) {
				mustSymlink(t, "nowhere.jsonl", sess(rec, "gone.jsonl"))
			}},
		{name: "unreadable-file", base: jsonlRec, files: 1,
			// chmod 000 does not stop root: a link to a directory is a
			// file that opens but cannot be read, for any user.
			diags: []string{"sessions/dir.jsonl:1: reading stopped here: is a directory"},
			bad: func(t *testing.T, rec string) {
				mustSymlink(t, ".", sess(rec, "dir.jsonl"))
			}},
		{name: "permission-denied", base: jsonlRec, files: 1,
			diags: []string{"sessions/locked.jsonl: permission denied"},
			bad: func(t *testing.T, rec string) {
				if os.Geteuid() == 0 {
					t.Skip("running as root: permissions do not stop reads (unreadable-file covers an unreadable file)")
				}
				p := sess(rec, "locked.jsonl")
				mustWrite(t, p, mustRead(t, sess(rec, "s02.jsonl")))
				if err := os.Chmod(p, 0); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Chmod(p, 0o644) })
			}},
		{name: "named-pipe", base: jsonlRec, files: 2,
			// Opening a pipe blocks until a writer comes: discovery must
			// not open one (this test hangs if it does).
			diags: []string{"sessions/pipe.jsonl: not a regular file (a named pipe)", "pipe-hooks.jsonl: not a regular file"},
			bad: func(t *testing.T, rec string) {
				for _, p := range []string{sess(rec, "pipe.jsonl"), filepath.Join(rec, "pipe-hooks.jsonl")} {
					if err := syscall.Mkfifo(p, 0o644); err != nil {
						t.Skipf("mkfifo: %v", err)
					}
				}
			}},
		{name: "duplicate-copies", base: jsonlRec,
			diags: []string{"skipped session s02 (copy): a copy of session s02"},
			bad: func(t *testing.T, rec string) {
				b := mustRead(t, sess(rec, "s02.jsonl"))
				mustWrite(t, sess(rec, "s02.jsonl.bak"), b)
				mustWrite(t, sess(rec, "s02.jsonl"+resetTS), b)
				mustWrite(t, sess(rec, "s02 (copy).jsonl"), b)
			}},
		{name: "big-line", base: jsonlRec, big: true, lines: 1,
			diags: []string{"sessions/s02.jsonl:7: not a JSON object"},
			bad: func(t *testing.T, rec string) {
				// A 100 MB entry (read, no usage) and a 100 MB junk line.
				blob := strings.Repeat("a", 100<<20)
				insertLines(t, rec, `{"type":"custom","customType":"blob","data":{"b":"`+blob+`"},"id":"big",`+headerID+`}`, "x"+blob)
			}},
	}
}

// lockDatabase holds a write transaction (BEGIN mode, a table created)
// on the database until the test ends, as a running OpenClaw may:
// IMMEDIATE takes the reserved lock a writer holds while it works,
// EXCLUSIVE the lock it takes to commit, which shuts readers out.
func lockDatabase(t *testing.T, path, mode string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN "+mode); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE clawtrace_lock_test(x)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		db.Close()
	})
}

// TestBadInputExclusiveLock: a database a writer holds with an exclusive
// lock is read (immutable=1 once busy_timeout runs out) with the totals of
// the valid recording, and the wait is paid once per run, not at every
// open (discovery, each session: 15 s here before the fix). It waits out
// the 5 s busy timeout, so it runs only with CLAWTRACE_BIG=1.
func TestBadInputExclusiveLock(t *testing.T) {
	if os.Getenv("CLAWTRACE_BIG") == "" {
		t.Skip("waits 5 s for the busy timeout: set CLAWTRACE_BIG=1")
	}
	_, want, _ := run(t, "scan", "--json", copyRec(t, dbRec))
	rec := copyRec(t, dbRec)
	lockDatabase(t, filepath.Join(rec, dbRel), "EXCLUSIVE")
	start := time.Now()
	code, out, errs := run(t, "scan", "--json", rec)
	took := time.Since(start)
	if code != exitOK || out != want {
		t.Errorf("exit %d, stderr %q; scan:\n%s\nwant:\n%s", code, errs, out, want)
	}
	if took > 9*time.Second {
		t.Errorf("took %v: the busy timeout (5 s) was waited out more than once", took)
	}
	t.Logf("scan of a database locked exclusively: %v", took)
}

// TestRenamedCopyKeepsTheOriginal: a transcript copied under a name that
// sorts before the original's still leaves the original in place — with
// its hook events, trajectory and index row — and the copy out.
func TestRenamedCopyKeepsTheOriginal(t *testing.T) {
	valid := copyRec(t, jsonlRec)
	rec := copyRec(t, jsonlRec)
	sessions := filepath.Join(rec, sessRel)
	mustWrite(t, filepath.Join(sessions, "a-copy.jsonl"), mustRead(t, filepath.Join(sessions, "s02.jsonl")))
	_, want, _ := run(t, "show", "-q", "--evidence", valid)
	code, got, errs := run(t, "show", "--evidence", rec)
	if code != exitOK || !strings.Contains(errs, "skipped session a-copy: a copy of session s02") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if got != want {
		t.Errorf("with a renamed copy, show differs from the original alone:\n%s\nwant:\n%s", got, want)
	}
}

// TestNamedPipeArgumentDoesNotHang: a FIFO named on the command line (or
// a <(…) process substitution) is reported, with the way to read a stream
// (stdin, -), instead of being opened twice and waiting forever.
func TestNamedPipeArgumentDoesNotHang(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p.jsonl")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	hang := time.AfterFunc(time.Minute, func() { panic("scan of a named pipe hangs") })
	defer hang.Stop()
	code, _, errs := run(t, "scan", p)
	if code != exitOK || !strings.Contains(errs, "not a regular file (a named pipe); to read a stream, pass it on stdin as -") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}
