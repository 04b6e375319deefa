package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestScanCorpus checks scan --json on every recorded scenario, both
// release lines, against the acceptance: llm_calls = the calls
// persisted in the transcript, tool_calls = truth's tool calls, every hook
// line counted, the SQLite store and its exported JSONL not double counted.
// The full JSON is compared with testdata/golden/scan (-update rewrites).
func TestScanCorpus(t *testing.T) {
	dirs, _ := filepath.Glob("../../fixtures/corpus/*/*")
	if len(dirs) < 30 {
		t.Fatalf("fixtures: %d scenarios", len(dirs))
	}
	for _, d := range dirs {
		name := filepath.Base(filepath.Dir(d)) + "/" + filepath.Base(d)
		t.Run(name, func(t *testing.T) {
			code, out, errs := run(t, "scan", "--json", d)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var got struct {
				Agents, Sessions, LLMCalls, ToolCalls, HookEvents, SkippedLines, DuplicateEntries int
			}
			var raw map[string]any
			if err := json.Unmarshal([]byte(out), &raw); err != nil {
				t.Fatal(err)
			}
			for k, dst := range map[string]*int{"agents": &got.Agents, "sessions": &got.Sessions, "llm_calls": &got.LLMCalls,
				"tool_calls": &got.ToolCalls, "hook_events": &got.HookEvents, "skipped_lines": &got.SkippedLines, "duplicate_entries": &got.DuplicateEntries} {
				v, ok := raw[k].(float64)
				if !ok {
					t.Fatalf("key %q missing or not a number in %s", k, out)
				}
				*dst = int(v)
			}
			truth := readTruthCounts(t, filepath.Join(d, "truth.json"))
			hookLines := countLines(t, filepath.Join(d, "hooks.jsonl"))
			assistant := countAssistantCalls(t, d)
			if got.LLMCalls != assistant || got.ToolCalls != truth.tools || got.HookEvents != hookLines || got.SkippedLines != 0 {
				t.Errorf("llm_calls %d (transcript %d), tool_calls %d (truth %d), hook_events %d (lines %d), skipped %d",
					got.LLMCalls, assistant, got.ToolCalls, truth.tools, got.HookEvents, hookLines, got.SkippedLines)
			}
			if got.LLMCalls > truth.calls {
				t.Errorf("more LLM calls (%d) than provider requests (%d)", got.LLMCalls, truth.calls)
			}
			golden(t, filepath.Join("testdata", "golden", "scan", strings.ReplaceAll(name, "/", "_")+".json"), []byte(out))
		})
	}
}

type truthCounts struct{ calls, tools int }

func readTruthCounts(t *testing.T, path string) truthCounts {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Runs []struct {
			Calls []json.RawMessage `json:"llm_calls"`
			Tools []json.RawMessage `json:"tool_calls"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	var c truthCounts
	for _, r := range tr.Runs {
		c.calls += len(r.Calls)
		c.tools += len(r.Tools)
	}
	return c
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(bytes.TrimSpace(b), []byte("\n")) + 1
}

// countAssistantCalls counts assistant messages in the scenario's JSONL
// transcripts with a plain decoder, fragments of one response once.
func countAssistantCalls(t *testing.T, dir string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "state", "agents", "*", "sessions", "*.jsonl"))
	n := 0
	for _, f := range files {
		if strings.Contains(f, ".trajectory.") {
			continue
		}
		b, _ := os.ReadFile(f)
		seen := map[string]bool{}
		for _, line := range bytes.Split(b, []byte("\n")) {
			var e struct {
				Message struct {
					Role       string `json:"role"`
					ResponseID string `json:"responseId"`
					TurnID     string `json:"turnId"`
				} `json:"message"`
			}
			if json.Unmarshal(line, &e) != nil || e.Message.Role != "assistant" {
				continue
			}
			k := e.Message.ResponseID + e.Message.TurnID
			if k != "" && seen[k] {
				continue
			}
			seen[k] = true
			n++
		}
	}
	return n
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	tracetest.Golden(t, path, got, *update, "go test ./cmd/clawtrace -run "+strings.SplitN(t.Name(), "/", 2)[0]+" -update")
}

func TestScanBrokenInput(t *testing.T) {
	dir := t.TempDir()
	sd := filepath.Join(dir, "agents", "main", "sessions")
	os.MkdirAll(sd, 0o755)
	os.WriteFile(filepath.Join(sd, "s1.jsonl"), []byte(`{"type":"session","version":3,"id":"s1","timestamp":"2026-06-01T09:00:00.000Z"}
{"type":"message","id":"e1","parentId":null,"timestamp":"2026-06-01T09:00:01.000Z","message":{"role":"user","content":"hi","timestamp":1780304400900}}
not json
{"type":"message","id":"e2","parentId":"e1","timestamp":"2026-06-01T09:00:03.000Z","message":{"role":"assistant","content":[],"provider":"p","model":"m","usage":{"input":10,"output":2},"stopReason":"stop","timestamp":1780304401100}}
{"type":"message","id":"e3","message":{"role":"assis`), 0o644)
	os.WriteFile(filepath.Join(sd, "empty.jsonl"), nil, 0o644)

	code, out, errs := run(t, "scan", "--json", dir)
	if code != 0 {
		t.Fatalf("exit %d, want 0: %s", code, errs)
	}
	for _, want := range []string{"s1.jsonl:3: not a JSON object", "s1.jsonl:5: truncated last line"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q lacks %q", errs, want)
		}
	}
	var res map[string]any
	json.Unmarshal([]byte(out), &res)
	if res["skipped_lines"].(float64) != 2 || res["llm_calls"].(float64) != 1 {
		t.Errorf("skipped %v llm_calls %v", res["skipped_lines"], res["llm_calls"])
	}
	if code, _, _ := run(t, "scan", "--strict", "-q", dir); code != exitSkipped {
		t.Errorf("--strict: exit %d, want %d", code, exitSkipped)
	}
	if code, out, _ := run(t, "scan", dir); code != 0 || !strings.Contains(out, "skipped lines: 2") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	if code, _, errs := run(t, "scan", filepath.Join(dir, "nope")); code != exitError || !strings.Contains(errs, "no such file or directory") {
		t.Errorf("missing path: exit %d: %s", code, errs)
	}
}

func TestCLIUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--version"}, 0, "clawtrace version"},
		{[]string{"scan", "--bogus"}, exitUsage, "unknown flag"},
		{[]string{"bogus"}, exitUsage, "unknown command"},
		{[]string{"scan", "--since", "last tuesday", "x"}, exitUsage, "--since"},
		{[]string{"scan", "--shard", "3/2", "x"}, exitUsage, "--shard"},
		{[]string{"eval"}, exitUsage, "--truth"},
		{[]string{"completion", "bash"}, 0, "bash completion"},
	}
	for _, tt := range tests {
		code, out, errs := run(t, tt.args...)
		if code != tt.code || !strings.Contains(out+errs, tt.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s%s", tt.args, code, tt.code, tt.want, out, errs)
		}
	}
}

func TestScanStdin(t *testing.T) {
	f, err := os.ReadFile("../../fixtures/corpus/openclaw-2026.7.35/04-parallel/state/agents/main/sessions/s04.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"scan", "--json", "-"}, IO{In: bytes.NewReader(f), Out: &out, Err: &errb})
	if code != 0 || !strings.Contains(out.String(), `"llm_calls": 2`) || !strings.Contains(out.String(), `"tool_calls": 3`) {
		t.Errorf("exit %d: %s %s", code, out.String(), errb.String())
	}
}
