package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reportFixture returns the inputs of a recorded 2026.9.6 scenario.
func reportFixture(scenario string) []string {
	d := filepath.Join("..", "..", "fixtures", "corpus", "openclaw-2026.9.6", scenario)
	return []string{filepath.Join(d, "state"), filepath.Join(d, "hooks.jsonl")}
}

// runReport runs "clawtrace report args..." and returns the exit code,
// stdout and stderr.
func runReport(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"report"}, args...), IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

type reportJSON struct {
	SchemaVersion int      `json:"schema_version"`
	GroupBy       []string `json:"group_by"`
	CostMode      string   `json:"cost_mode"`
	Rows          []struct {
		Key  map[string]string `json:"key"`
		Cost *float64          `json:"cost"`
	} `json:"rows"`
	Other  *json.RawMessage `json:"other"`
	Totals struct {
		LLMCalls    int64    `json:"llm_calls"`
		ToolCalls   int64    `json:"tool_calls"`
		InputTokens int64    `json:"input_tokens"`
		Output      int64    `json:"output_tokens"`
		CacheRead   int64    `json:"cache_read_tokens"`
		CacheWrite  int64    `json:"cache_write_tokens"`
		Cost        *float64 `json:"cost"`
		CostSource  string   `json:"cost_source"`
		Unpriced    int64    `json:"unpriced_calls"`
	} `json:"totals"`
	Coverage              map[string]int64 `json:"coverage"`
	ToolAttributionMethod string           `json:"tool_attribution_method"`
}

func decodeReport(t *testing.T, s string) reportJSON {
	t.Helper()
	var r reportJSON
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("%v:\n%s", err, s)
	}
	return r
}

func TestNewCmdReport(t *testing.T) {
	in := reportFixture("02-one-tool")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--by", "colour"}, `--by: unknown grouping "colour"`},
		{[]string{"--by", "day,day"}, `given twice`},
		{[]string{"--sort", "price"}, `--sort: unknown sort "price"`},
		{[]string{"--format", "xml"}, `--format "xml"`},
		{[]string{"--top", "-1"}, `--top -1`},
		{[]string{"--pricing", filepath.Join(t.TempDir(), "missing.json")}, `--pricing: open`},
		{[]string{"--since", "yesterday"}, `--since: bad time`},
		{[]string{"--bogus"}, `unknown flag`},
	} {
		code, out, errs := runReport(t, append(c.args, in...)...)
		if code != exitUsage || !strings.Contains(errs, c.msg) || out != "" {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, exitUsage, c.msg)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"schema_version":1,"models":[{"id":"x","input":1}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runReport(t, append([]string{"--pricing", bad}, in...)...); code != exitUsage || !strings.Contains(errs, "missing output") {
		t.Errorf("bad pricing file: exit %d, %q", code, errs)
	}
}

func TestReportRunJSON(t *testing.T) {
	code, out, errs := runReport(t, append([]string{"--format", "json", "--by", "day,model"}, reportFixture("02-one-tool")...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r := decodeReport(t, out)
	if r.SchemaVersion != 1 || strings.Join(r.GroupBy, ",") != "day,model" || r.CostMode != "recorded" || r.ToolAttributionMethod == "" {
		t.Errorf("header %+v", r)
	}
	// The transcript's two calls: 1500+200 input, 20+15 output, 1400 cache
	// read, recorded cost 0.00154 + 0.00037.
	tot := r.Totals
	if tot.LLMCalls != 2 || tot.ToolCalls != 1 || tot.InputTokens != 1700 || tot.Output != 35 || tot.CacheRead != 1400 || tot.CacheWrite != 0 {
		t.Errorf("totals %+v", tot)
	}
	if tot.Cost == nil || math.Abs(*tot.Cost-0.00191) > 1e-12 || tot.CostSource != "recorded" || tot.Unpriced != 0 {
		t.Errorf("cost %v %s", tot.Cost, tot.CostSource)
	}
	if len(r.Rows) != 1 || r.Rows[0].Key["day"] != "2026-11-25" || r.Rows[0].Key["model"] != "mock-a" {
		t.Errorf("rows %+v", r.Rows)
	}
	if r.Coverage["sessions_read"] != 1 {
		t.Errorf("coverage %v", r.Coverage)
	}
	// Not a terminal: no progress line on stderr.
	if errs != "" {
		t.Errorf("stderr %q", errs)
	}
}

func TestReportRunTable(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	code, out, _ := runReport(t, append([]string{"--by", "tool"}, reportFixture("04-parallel")...)...)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour escapes in a table written to a non-terminal")
	}
	for _, want := range []string{"│ read ", "(no tool)", "(total)", "1,750", "$0.0020", "coverage: sessions read 1", "~ allocated estimates"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestReportRunOutputFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cost.csv")
	code, out, errs := runReport(t, append([]string{"-o", path, "--by", "model"}, reportFixture("02-one-tool")...)...)
	if code != exitOK || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "model,llm_calls,tool_calls,") || !strings.Contains(string(b), "\n(total),2,1,0,1700,35,1400,0,0.00191,recorded,0,0\n") {
		t.Errorf("csv (format from the extension):\n%s", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left %d files in the output dir", len(ents))
	}
}

func TestReportRunRepricePricingFile(t *testing.T) {
	prices := filepath.Join(t.TempDir(), "prices.json")
	// Twice OpenClaw's mock prices (1/2/0.1 per million).
	if err := os.WriteFile(prices, []byte(`{"schema_version":1,"as_of":"2026-11-25","models":[
		{"id":"mock-a","input":2,"output":4,"cache_read":0.2,"cache_write":2.5}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runReport(t, append([]string{"--format", "json", "--reprice", "--pricing", prices}, reportFixture("02-one-tool")...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r := decodeReport(t, out)
	if r.CostMode != "repriced" || r.Totals.CostSource != "repriced" || r.Totals.Cost == nil || math.Abs(*r.Totals.Cost-2*0.00191) > 1e-12 {
		t.Errorf("repriced totals %+v cost %v", r.Totals, r.Totals.Cost)
	}
	if !strings.Contains(out, `"prices.json (as of 2026-11-25)"`) {
		t.Error("pricing file not named in the report")
	}
}

func TestReportRunFilters(t *testing.T) {
	in := reportFixture("07-multi-run")
	for _, c := range []struct {
		args  []string
		calls int64
	}{
		{[]string{"--since", "2030-01-01"}, 0},
		{[]string{"--until", "2020-01-01"}, 0},
		{[]string{"--agent", "nobody"}, 0},
		{[]string{"--session", "nosuchsession"}, 0},
		{[]string{"--agent", "main"}, -1},
	} {
		code, out, errs := runReport(t, append(append([]string{"--format", "json"}, c.args...), in...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d %s", c.args, code, errs)
		}
		r := decodeReport(t, out)
		if c.calls >= 0 && r.Totals.LLMCalls != c.calls {
			t.Errorf("%v: %d calls", c.args, r.Totals.LLMCalls)
		}
		if c.calls < 0 && r.Totals.LLMCalls == 0 {
			t.Errorf("%v: no calls", c.args)
		}
		if c.calls == 0 && (r.Totals.Cost != nil || r.Totals.CostSource != "unknown") {
			t.Errorf("%v: empty report cost %v %s", c.args, r.Totals.Cost, r.Totals.CostSource)
		}
	}
}

func TestReportRunTopMarkdown(t *testing.T) {
	code, out, errs := runReport(t, append([]string{"--format", "markdown", "--by", "tool", "--top", "1", "--sort", "calls"}, reportFixture("04-parallel")...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "| tool ") || !strings.HasPrefix(lines[1], "|:--") {
		t.Errorf("not a markdown table:\n%s", out)
	}
	if !strings.Contains(out, "| (other) 2 more rows") || !strings.Contains(out, "| (total) ") || !strings.Contains(out, "\n- coverage: ") {
		t.Errorf("markdown lacks the other row, the totals or the footer:\n%s", out)
	}
}

func TestReportProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressLine(&buf, 3, true)
	p.start = p.start.Add(-time.Second) // a long run
	for range 3 {
		p.step()
	}
	p.done()
	if got := buf.String(); !strings.Contains(got, "\rclawtrace: sessions 1/3") || !strings.Contains(got, "sessions 3/3") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("progress %q", got)
	}
	buf.Reset()
	p = newProgressLine(&buf, 3, false) // stderr is not a terminal
	p.start = p.start.Add(-time.Second)
	for range 3 {
		p.step()
	}
	p.done()
	if buf.Len() != 0 {
		t.Errorf("progress written when off: %q", buf.String())
	}
}

func TestReportRunSkippedLines(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "agents", "main", "sessions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := `{"type":"session","version":3,"id":"s1","timestamp":"2026-06-01T09:00:00.000Z","cwd":"/w"}
not json
{"type":"message","id":"e1","parentId":null,"timestamp":"2026-06-01T09:00:01.000Z","message":{"role":"user","content":"hi","timestamp":1780304401000}}
{"type":"message","id":"e2","parentId":"e1","timestamp":"2026-06-01T09:00:03.000Z","message":{"role":"assistant","content":[{"type":"text","text":"yo"}],"provider":"p","model":"m","usage":{"input":10,"output":2,"cacheRead":0,"cacheWrite":0,"totalTokens":12},"stopReason":"stop","timestamp":1780304401500}}
`
	if err := os.WriteFile(filepath.Join(dir, "s1.jsonl"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Dir(filepath.Dir(filepath.Dir(dir)))
	code, out, errs := runReport(t, "-q", "--format", "json", state)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r := decodeReport(t, out)
	// One call with usage but no cost and model m unknown to the table.
	if r.Coverage["skipped_lines"] != 1 || r.Totals.LLMCalls != 1 || r.Totals.Cost != nil || r.Totals.Unpriced != 1 {
		t.Errorf("coverage %v totals %+v", r.Coverage, r.Totals)
	}
	if code, _, _ := runReport(t, "-q", "--strict", state); code != exitSkipped {
		t.Errorf("--strict: exit %d, want %d", code, exitSkipped)
	}
}
