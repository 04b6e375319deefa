package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"
	_ "modernc.org/sqlite"

	"github.com/clawtrace/clawtrace/report"
)

// Markers planted in every place of a recording where message or tool
// content can hide. Each kind is told apart so a failure names the field.
const (
	mkText   = "ZQMKTEXT"   // user / assistant / tool result text, hook prompts and texts
	mkThink  = "ZQMKTHINK"  // thinking blocks
	mkArgs   = "ZQMKARGS"   // tool-call arguments and hook params
	mkProv   = "ZQMKPROV"   // provider error messages (errorMessage)
	mkToolEr = "ZQMKTOOLER" // hook / trajectory tool error text ("error")
)

var (
	markerRE = regexp.MustCompile(`ZQMK[A-Z]+`)
	// privacyScenarios have a tool error (05), a retried provider error
	// (06) and a fatal provider error (09).
	privacyScenarios = []string{"05-tool-error", "06-retry", "09-fatal-error"}
)

// markValue returns v with markers planted, key being the JSON key v was
// found under. Strings are prefixed (errors are truncated, so a suffix
// could be cut off); argument objects get an extra member; every assistant
// message gets a thinking block.
func markValue(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			x[k] = markValue(c, k)
		}
		if key == "arguments" || key == "params" || key == "input" {
			x["zqnote"] = mkArgs + " secret argument"
		}
		if x["role"] == "assistant" {
			if blocks, ok := x["content"].([]any); ok {
				x["content"] = append([]any{map[string]any{"type": "thinking", "thinking": mkThink + " secret thought"}}, blocks...)
			}
		}
		return x
	case []any:
		for i, c := range x {
			x[i] = markValue(c, key)
		}
		return x
	case string:
		switch key {
		case "text", "content", "prompt", "systemPrompt", "assistantTexts", "lastAssistantMessage":
			return mkText + " " + x
		case "thinking":
			return mkThink + " " + x
		case "partialArgs":
			return mkArgs + " " + x
		case "errorMessage":
			return mkProv + " " + x
		case "error":
			return mkToolEr + " " + x
		}
	}
	return v
}

// markLine plants markers in one JSON line; non-objects are kept.
func markLine(t *testing.T, line []byte) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return line
	}
	if _, ok := v.(map[string]any); !ok {
		return line
	}
	out, err := json.Marshal(markValue(v, ""))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// markJSONL rewrites a JSONL file with markers.
func markJSONL(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, l := range bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n")) {
		out.Write(markLine(t, l))
		out.WriteByte('\n')
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// markDatabase plants markers in the transcript and trajectory rows of an
// agent database.
func markDatabase(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range []string{"transcript_events", "trajectory_runtime_events"} {
		rows, err := db.Query(`SELECT rowid, event_json FROM ` + table + ` WHERE event_json IS NOT NULL`)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			id   int64
			json string
		}
		var all []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.json); err != nil {
				t.Fatal(err)
			}
			all = append(all, r)
		}
		rows.Close()
		for _, r := range all {
			if _, err := db.Exec(`UPDATE `+table+` SET event_json = ? WHERE rowid = ?`, string(markLine(t, []byte(r.json))), r.id); err != nil {
				t.Fatal(err)
			}
		}
	}
	var zrows int
	if err := db.QueryRow(`SELECT count(*) FROM transcript_events WHERE event_zstd IS NOT NULL`).Scan(&zrows); err != nil || zrows > 0 {
		t.Fatalf("compressed rows (%d, %v): markers would not reach them", zrows, err)
	}
}

// markedCorpus copies the privacy scenarios of one OpenClaw version into a
// folder of recordings and plants markers in every transcript, trajectory,
// hook dump and database. With sqliteOnly the JSONL exports of the
// databases are removed, so that the content comes from the database.
func markedCorpus(t *testing.T, version string, sqliteOnly bool) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "corpus")
	for _, sc := range privacyScenarios {
		checkCopyTree(t, filepath.Join("../../fixtures/corpus", version, sc), filepath.Join(root, sc))
	}
	// A copy of 05 whose transcript does not flag the tool result as an
	// error: the tool's error text then comes from the hook dump only.
	hookErr := filepath.Join(root, "05-hook-tool-error")
	checkCopyTree(t, filepath.Join("../../fixtures/corpus", version, "05-tool-error"), hookErr)
	dbs := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".sqlite"):
			markDatabase(t, p)
			dbs++
		case sqliteOnly && strings.HasSuffix(p, ".jsonl") && filepath.Base(filepath.Dir(p)) == "sessions":
			return os.Remove(p)
		case strings.HasSuffix(p, ".jsonl"):
			markJSONL(t, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sqliteOnly && dbs == 0 {
		t.Fatalf("no database in %s", version)
	}
	unflagToolErrors(t, hookErr)
	return root
}

// unflagToolErrors sets isError to false in every transcript entry under
// dir (JSONL files and databases, as markLine wrote them).
func unflagToolErrors(t *testing.T, dir string) {
	t.Helper()
	from, to := `"isError":true`, `"isError":false`
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(filepath.Dir(p)) != "sessions" && !strings.HasSuffix(p, ".sqlite") {
			return err
		}
		if strings.HasSuffix(p, ".sqlite") {
			db, err := sql.Open("sqlite", p)
			if err != nil {
				return err
			}
			defer db.Close()
			res, err := db.Exec(`UPDATE transcript_events SET event_json = replace(event_json, ?, ?) WHERE event_json LIKE ?`, from, to, "%"+from+"%")
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
			return nil
		}
		if !strings.HasSuffix(p, ".jsonl") || strings.Contains(p, "trajectory") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n += bytes.Count(b, []byte(from))
		return os.WriteFile(p, bytes.ReplaceAll(b, []byte(from), []byte(to)), 0o644)
	})
	if err != nil || n == 0 {
		t.Fatalf("unflagging tool errors in %s: %d changed, %v", dir, n, err)
	}
}

// markersIn returns the distinct markers found in b.
func markersIn(b []byte) []string {
	seen := map[string]bool{}
	for _, m := range markerRE.FindAll(b, -1) {
		seen[string(m)] = true
	}
	var out []string
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// privacyOutput is what one command printed or wrote, all in one.
type privacyOutput struct {
	name string
	data []byte
}

// runAll runs one command and returns everything it emitted: stdout,
// stderr and the files under outDir, Parquet decoded to JSON rows.
func runAll(t *testing.T, name, outDir string, args ...string) privacyOutput {
	t.Helper()
	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := run(t, args...)
	if code != exitOK {
		t.Fatalf("%s: exit %d: %s", name, code, stderr)
	}
	all := []byte(stdout + stderr)
	if outDir != "" {
		err := filepath.WalkDir(outDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if strings.HasSuffix(p, ".parquet") {
				all = append(all, parquetRowsJSON(t, p)...)
				return nil
			}
			b, err := os.ReadFile(p)
			all = append(all, b...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return privacyOutput{name, all}
}

// parquetRowsJSON decodes a spans file (zstd-compressed, so its bytes
// cannot be searched) into JSON rows.
func parquetRowsJSON(t *testing.T, path string) []byte {
	t.Helper()
	rows, err := parquet.ReadFile[report.SpanRow](path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", path)
	}
	return b
}

// collector is a loopback OTLP/HTTP receiver that keeps every request body
// (protobuf, decompressed).
type collector struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []byte
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := requestBody(t, r)
		c.mu.Lock()
		c.bodies = append(c.bodies, b...)
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

// contentOutputs runs every command that can emit content with the given
// content flags (nil, --content, --content --redact …).
func contentOutputs(t *testing.T, corpus string, flags []string) []privacyOutput {
	t.Helper()
	dir := t.TempDir()
	with := func(cmd ...string) []string { return append(append(append([]string{}, cmd...), flags...), corpus) }
	var outs []privacyOutput
	o := filepath.Join(dir, "otlp")
	outs = append(outs, runAll(t, "reconstruct -f otlp-json --semconv openinference", o,
		with("reconstruct", "-f", "otlp-json", "--semconv", "openinference", "-o", filepath.Join(o, "t.jsonl"))...))
	v := filepath.Join(dir, "view")
	outs = append(outs, runAll(t, "view", v, with("view", "-o", filepath.Join(v, "run.html"))...))
	for _, asJSON := range []bool{false, true} {
		c := newCollector(t)
		args := with("export", "--endpoint", c.URL)
		name := "export"
		if asJSON {
			args, name = append([]string{"export", "--json"}, args[1:]...), "export --json"
		}
		o := runAll(t, name, "", args...)
		c.mu.Lock()
		o.data = append(o.data, c.bodies...)
		c.mu.Unlock()
		if len(c.bodies) == 0 {
			t.Fatalf("%s: the collector got nothing", name)
		}
		outs = append(outs, o)
	}
	return outs
}

// plainOutputs runs every output that never takes --content.
func plainOutputs(t *testing.T, corpus string) []privacyOutput {
	t.Helper()
	dir := t.TempDir()
	outs := []privacyOutput{
		runAll(t, "scan", "", "scan", corpus),
		runAll(t, "scan --json", "", "scan", "--json", corpus),
		runAll(t, "show", "", "show", corpus),
		runAll(t, "show --evidence", "", "show", "--evidence", corpus),
		runAll(t, "reconstruct -f parquet", filepath.Join(dir, "pq"), "reconstruct", "-f", "parquet", "-o", filepath.Join(dir, "pq"), corpus),
		runAll(t, "eval --corpus", "", "eval", "--corpus", corpus),
	}
	for _, format := range report.Formats {
		outs = append(outs, runAll(t, "report --format "+format, "", "report", "--format", format, "--by", "session,run,tool,subagent", corpus))
	}
	bl := filepath.Join(dir, "bl", "baseline.json")
	outs = append(outs, runAll(t, "baseline", filepath.Dir(bl), "baseline", "-o", bl, corpus))
	for _, f := range [][]string{nil, {"--json"}} {
		outs = append(outs, runAll(t, "check "+strings.Join(f, " "), "", append(append([]string{"check", "--baseline", bl}, f...), corpus)...))
	}
	return outs
}

// TestNoContentUnlessOptedIn plants markers in every content field of
// JSONL and SQLite recordings and checks every output: without --content
// no content marker appears anywhere (provider error messages are written
// as span status, as documented in docs/otlp.md, and nothing else); with
// --content the documented fields appear; with --content --redact no
// marker is left.
func TestNoContentUnlessOptedIn(t *testing.T) {
	for _, c := range []struct {
		name, version string
		sqliteOnly    bool
	}{
		{"jsonl", "openclaw-2026.7.35", false},
		{"sqlite", "openclaw-2026.9.6", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			corpus := markedCorpus(t, c.version, c.sqliteOnly)
			allowedPlain := map[string]bool{mkProv: true}
			for _, o := range append(plainOutputs(t, corpus), contentOutputs(t, corpus, nil)...) {
				t.Logf("%s: %v", o.name, markersIn(o.data))
				for _, m := range markersIn(o.data) {
					if !allowedPlain[m] {
						t.Errorf("%s without --content: %s in the output", o.name, m)
					}
				}
			}
			for _, o := range contentOutputs(t, corpus, []string{"--content"}) {
				got := strings.Join(markersIn(o.data), " ")
				t.Logf("%s --content: %s", o.name, got)
				// Documented (docs/otlp.md): the user message, the tool
				// arguments, the response text and the tool results.
				// And the tool's error text (status message).
				for _, want := range []string{mkText, mkArgs, mkToolEr} {
					if !strings.Contains(got, want) {
						t.Errorf("%s --content: %s missing (markers: %s)", o.name, want, got)
					}
				}
				// Thinking is not exported, even with --content.
				if strings.Contains(got, mkThink) {
					t.Errorf("%s --content: thinking exported", o.name)
				}
			}
			// --redact without --content masks the one thing written
			// without it: the provider's error message, in every format
			// that shows it.
			dir := t.TempDir()
			redacted := append(contentOutputs(t, corpus, []string{"--redact", `ZQMK[A-Z]+`}),
				runAll(t, "show --redact", "", "show", "--evidence", "--redact", `ZQMK[A-Z]+`, corpus),
				runAll(t, "reconstruct -f parquet --redact", filepath.Join(dir, "pq"), "reconstruct", "-f", "parquet", "--redact", `ZQMK[A-Z]+`, "-o", filepath.Join(dir, "pq"), corpus))
			for _, o := range redacted {
				if m := markersIn(o.data); len(m) > 0 {
					t.Errorf("%s --redact: %v left", o.name, m)
				}
			}
			for _, o := range contentOutputs(t, corpus, []string{"--content", "--redact", `ZQMK[A-Z]+`}) {
				if m := markersIn(o.data); len(m) > 0 {
					t.Errorf("%s --content --redact: %v left", o.name, m)
				}
				if !bytes.Contains(o.data, []byte(report.Redacted)) {
					t.Errorf("%s --content --redact: no %s", o.name, report.Redacted)
				}
			}
		})
	}
}

// echoHeaders answers every request with code and a body that quotes the
// request's headers, as some proxies and debug receivers do.
func echoHeaders(code int, location string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(r.Header)) {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
		}
		if location != "" {
			w.Header().Set("Location", location)
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Retry-After", "0") // retry at once
		w.WriteHeader(code)
		io.WriteString(w, b.String())
	}
}

// TestExportCredentialsNeverPrinted: the values of --header, and the
// password of an endpoint URL, appear in no output or error whatever the
// receiver does (echoes them in an error body, is unreachable, redirects),
// and a redirect to another host gets none of them.
func TestExportCredentialsNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-T0KEN-zq"
	const userPass = "zq-url-password"
	in := fixtureArgs("02-one-tool")
	headers := []string{"--header", "Authorization=Bearer " + secret, "--header", "X-Api-Key=" + secret + "-key"}

	var mu sync.Mutex
	var leakedTo []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range r.Header {
			if strings.Contains(strings.Join(v, " "), secret) {
				mu.Lock()
				leakedTo = append(leakedTo, k)
				mu.Unlock()
			}
		}
		echoHeaders(http.StatusInternalServerError, "")(w, r)
	}))
	t.Cleanup(other.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	cases := []struct {
		name     string
		handler  http.HandlerFunc
		endpoint string // when no handler
		extra    []string
	}{
		{name: "401 echoing headers", handler: echoHeaders(http.StatusUnauthorized, "")},
		{name: "500 echoing headers", handler: echoHeaders(http.StatusInternalServerError, "")},
		{name: "503 retried, echoing headers", handler: echoHeaders(http.StatusServiceUnavailable, ""), extra: []string{"--retries", "1"}},
		{name: "redirect to another host", handler: echoHeaders(http.StatusTemporaryRedirect, other.URL+"/v1/traces")},
		{name: "unreachable", endpoint: closed, extra: []string{"--retries", "0"}},
		{name: "password in the endpoint, unreachable", endpoint: "http://user:" + userPass + "@" + strings.TrimPrefix(closed, "http://"), extra: []string{"--retries", "0"}},
		{name: "password in the endpoint, 401", handler: echoHeaders(http.StatusUnauthorized, "")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			endpoint := c.endpoint
			if c.handler != nil {
				srv := httptest.NewServer(c.handler)
				t.Cleanup(srv.Close)
				endpoint = srv.URL
				if strings.HasPrefix(c.name, "password") {
					endpoint = "http://user:" + userPass + "@" + strings.TrimPrefix(srv.URL, "http://")
				}
			}
			for _, verbose := range [][]string{nil, {"--json", "--no-gzip"}} {
				args := append(append(append(append([]string{"export", "--endpoint", endpoint, "--timeout", "5s"}, headers...), c.extra...), verbose...), in...)
				code, stdout, stderr := run(t, args...)
				if code != exitError {
					t.Errorf("%v: exit %d, want %d: %s", verbose, code, exitError, stderr)
				}
				if strings.Contains(stdout+stderr, secret) || strings.Contains(stdout+stderr, userPass) {
					t.Errorf("%v: a credential is printed:\n%s%s", verbose, stdout, stderr)
				}
			}
		})
	}
	if len(leakedTo) > 0 {
		t.Errorf("the redirect target got the credentials in %v", leakedTo)
	}

	// A --header without "=" (a colon, a pasted token) is a usage error
	// that does not repeat the value.
	for _, h := range []string{"Authorization: Bearer " + secret, secret} {
		code, stdout, stderr := run(t, append([]string{"export", "--endpoint", "http://127.0.0.1:1", "--header", h}, in...)...)
		if code != exitUsage || strings.Contains(stdout+stderr, secret) {
			t.Errorf("--header %q: exit %d, output %q", h, code, stdout+stderr)
		}
	}
	// The endpoint's password is not repeated in a usage error either.
	code, stdout, stderr := run(t, append([]string{"export", "--endpoint", "ftp://user:" + userPass + "@host"}, in...)...)
	if code != exitUsage || strings.Contains(stdout+stderr, userPass) {
		t.Errorf("bad endpoint: exit %d, output %q", code, stdout+stderr)
	}
}
