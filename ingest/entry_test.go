package ingest

import (
	"strings"
	"testing"
	"time"
)

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func TestParseEntryTypes(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		check func(t *testing.T, e Entry)
	}{
		{"header v4", `{"type":"session","version":4,"id":"s1","timestamp":"2026-06-01T09:00:00.000Z","cwd":"/w"}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryHeader && e.ID == "s1" && e.Version == 4 && e.Cwd == "/w", "header fields: %+v", e)
		}},
		{"header without version is v1", `{"type":"session","id":"s1","timestamp":"2026-06-01T09:00:00Z"}`, func(t *testing.T, e Entry) {
			want(t, e.Version == 1, "version %d", e.Version)
		}},
		{"fork header", `{"type":"session","version":3,"id":"s2","parentSession":"/old/s1.jsonl"}`, func(t *testing.T, e Entry) {
			want(t, e.ParentSession == "/old/s1.jsonl", "parentSession %q", e.ParentSession)
		}},
		{"user string content", `{"type":"message","id":"e1","parentId":null,"timestamp":"2026-06-01T09:00:01.020Z","message":{"role":"user","content":"Compare","timestamp":1780304401010,"idempotencyKey":"r1:user"}}`, func(t *testing.T, e Entry) {
			m := e.Msg
			want(t, m.Role == RoleUser && m.ContentSize == 7 && len(m.Blocks) == 1 && m.Blocks[0].Text == "", "user: %+v", m)
			want(t, m.Time.Equal(ms(1780304401010)) && e.Time.Equal(time.Date(2026, 6, 1, 9, 0, 1, 20e6, time.UTC)), "times %v %v", m.Time, e.Time)
			want(t, e.ParentID == "" && m.IdempotencyKey == "r1:user" && m.RunID == "", "ids %+v", e)
		}},
		{"assistant with tool calls and usage", `{"type":"message","id":"e2","parentId":"e1","timestamp":"2026-06-01T09:00:03.900Z","message":{"role":"assistant","content":[{"type":"thinking","thinking":"hmm"},{"type":"text","text":"ok"},{"type":"toolCall","id":"call_a","name":"read","arguments":{"path":"a.txt"}},{"type":"toolCall","id":"call_b","name":"read","arguments":{"path":"b.txt"},"async":true}],"api":"openai-completions","provider":"mock","model":"m1","responseId":"resp-1","usage":{"input":500,"output":40,"cacheRead":100,"cacheWrite":5,"totalTokens":645,"cost":{"input":0.1,"output":0.2,"cacheRead":0.01,"cacheWrite":0.02,"total":0.33}},"stopReason":"toolUse","timestamp":1780304401100,"__openclaw":{"runId":"r1"}}}`, func(t *testing.T, e Entry) {
			m := e.Msg
			want(t, m.Role == RoleAssistant && m.Provider == "mock" && m.Model == "m1" && m.API == "openai-completions" && m.ResponseID == "resp-1" && m.RunID == "r1", "assistant: %+v", m)
			tc := m.ToolCalls()
			want(t, len(tc) == 2 && tc[0].ToolCallID == "call_a" && tc[1].ToolName == "read" && tc[1].Async, "tool calls %+v", tc)
			want(t, m.Blocks[0].Kind == BlockThinking && m.Blocks[0].Size == 3, "thinking %+v", m.Blocks[0])
			u := m.Usage
			want(t, u.Known && u.Input == 500 && u.Output == 40 && u.CacheRead == 100 && u.CacheWrite == 5 && u.Total == 645, "usage %+v", u)
			want(t, u.Cost != nil && u.Cost.Total == 0.33, "cost %+v", u.Cost)
			want(t, m.StopReason == "toolUse", "stop %q", m.StopReason)
		}},
		{"all-zero usage is unknown", `{"type":"message","id":"e9","message":{"role":"assistant","content":[{"type":"text","text":""}],"usage":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"totalTokens":0,"cost":{"total":0}},"stopReason":"error","errorMessage":"400 bad"}}`, func(t *testing.T, e Entry) {
			want(t, !e.Msg.Usage.Known && e.Msg.Usage.Cost == nil && e.Msg.ErrorMessage == "400 bad", "usage %+v", e.Msg.Usage)
		}},
		{"zero cost with usage is unknown cost", `{"type":"message","id":"e9","message":{"role":"assistant","usage":{"input":10,"output":2,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}}}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.Usage.Known && e.Msg.Usage.Cost == nil, "usage %+v", e.Msg.Usage)
		}},
		{"bare-number cost", `{"type":"message","id":"x","message":{"role":"assistant","usage":{"input":100,"output":50,"cost":0.0042}}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.Usage.Cost != nil && e.Msg.Usage.Cost.Total == 0.0042, "cost %+v", e.Msg.Usage.Cost)
		}},
		{"cost without total sums parts", `{"type":"message","id":"x","message":{"role":"assistant","usage":{"input":1,"cost":{"input":0.5,"output":0.25}}}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.Usage.Cost.Total == 0.75, "cost %+v", e.Msg.Usage.Cost)
		}},
		{"provider-billed", `{"type":"message","id":"x","message":{"role":"assistant","usage":{"input":1,"cost":{"total":1.5,"totalOrigin":"provider-billed"}}}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.Usage.Cost.ProviderBilled, "billed %+v", e.Msg.Usage.Cost)
		}},
		{"total tokens only", `{"type":"message","id":"x","message":{"role":"assistant","usage":{"totalTokens":99}}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.Usage.Known && e.Msg.Usage.Total == 99, "usage %+v", e.Msg.Usage)
		}},
		{"toolResult with spawn details", `{"type":"message","id":"e3","parentId":"e2","timestamp":"2026-06-01T09:00:04.210Z","message":{"role":"toolResult","toolCallId":"call_a","toolName":"sessions_spawn","content":[{"type":"text","text":"alpha"}],"details":{"status":"accepted","childSessionKey":"agent:main:subagent:u1","runId":"cr1"},"isError":false,"timestamp":1780304404205}}`, func(t *testing.T, e Entry) {
			m := e.Msg
			want(t, m.Role == RoleToolResult && m.ToolCallID == "call_a" && m.ToolName == "sessions_spawn" && !m.IsError && m.ContentSize == 5, "result %+v", m)
			want(t, m.ChildSessionKey == "agent:main:subagent:u1" && m.ChildRunID == "cr1", "child %q %q", m.ChildSessionKey, m.ChildRunID)
		}},
		{"toolResult string content, error", `{"type":"message","id":"e3","message":{"role":"toolResult","toolCallId":"c","toolName":"ls","content":"Tool ls not found","isError":true}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.IsError && e.Msg.ContentSize == 17, "%+v", e.Msg)
		}},
		{"toolResult single object content", `{"type":"message","id":"e3","message":{"role":"toolResult","toolCallId":"c","content":{"type":"text","text":"abc"}}}`, func(t *testing.T, e Entry) {
			want(t, len(e.Msg.Blocks) == 1 && e.Msg.Blocks[0].Size == 3, "%+v", e.Msg.Blocks)
		}},
		{"tool_use block with input", `{"type":"message","id":"a","message":{"role":"assistant","content":[{"type":"tool_use","id":"tu1","name":"read","input":{"p":1}}]}}`, func(t *testing.T, e Entry) {
			tc := e.Msg.ToolCalls()
			want(t, len(tc) == 1 && tc[0].ToolCallID == "tu1" && tc[0].Size == 7, "%+v", tc)
		}},
		{"image block", `{"type":"message","id":"a","message":{"role":"user","content":[{"type":"image","data":"AAAA","mimeType":"image/png"}]}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.Blocks[0].Kind == BlockImage && e.Msg.Blocks[0].Size == 4, "%+v", e.Msg.Blocks)
		}},
		{"bashExecution", `{"type":"message","id":"b","message":{"role":"bashExecution","command":"ls","output":"a b","exitCode":0,"timestamp":1}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.Role == RoleBashExecution && e.Msg.Command == "ls" && e.Msg.ExitCode != nil && e.Msg.ContentSize == 3, "%+v", e.Msg)
		}},
		{"hookMessage is custom", `{"type":"message","id":"h","message":{"role":"hookMessage","content":"x"}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.Role == RoleCustom && e.Msg.CustomType == "hook", "%+v", e.Msg)
		}},
		{"compactionSummary role accepted", `{"type":"message","id":"h","message":{"role":"compactionSummary","summary":"s","timestamp":"2026-06-01T09:00:00Z"}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.Role == RoleCompactionSummary && e.Msg.Time.Equal(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)), "%+v", e.Msg)
		}},
		{"model_change", `{"type":"model_change","id":"m","parentId":"p","provider":"anthropic","modelId":"claude"}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryModelChange && e.Provider == "anthropic" && e.ModelID == "claude" && e.ParentID == "p", "%+v", e)
		}},
		{"thinking_level_change", `{"type":"thinking_level_change","id":"t","thinkingLevel":"high"}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryThinkingLevelChange && e.ThinkingLevel == "high", "%+v", e)
		}},
		{"compaction", `{"type":"compaction","id":"c","summary":"s","firstKeptEntryId":"e5","tokensBefore":26012,"tokensAfter":900,"fromHook":true,"__openclaw":{"runId":"r9"}}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryCompaction && e.TokensBefore == 26012 && e.TokensAfter == 900 && e.FirstKeptEntryID == "e5" && e.FromHook && e.RunID == "r9", "%+v", e)
		}},
		{"branch_summary", `{"type":"branch_summary","id":"b","fromId":"root","summary":"x"}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryBranchSummary && e.FromID == "root", "%+v", e)
		}},
		{"reset", `{"type":"reset","id":"r","reason":"new"}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryReset && e.Reason == "new", "%+v", e)
		}},
		{"custom", `{"type":"custom","id":"c","customType":"model-snapshot","data":{"x":1}}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryCustom && e.CustomType == "model-snapshot", "%+v", e)
		}},
		{"custom_message", `{"type":"custom_message","id":"c","customType":"openclaw:turn-aborted","content":"x","display":true}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryCustomMessage && e.CustomType == "openclaw:turn-aborted", "%+v", e)
		}},
		{"label set and removed", `{"type":"label","id":"l","targetId":"e2","label":"good"}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryLabel && e.TargetID == "e2" && e.Label == "good", "%+v", e)
		}},
		{"session_info", `{"type":"session_info","id":"i","name":"Title"}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntrySessionInfo && e.Name == "Title", "%+v", e)
		}},
		{"leaf", `{"type":"leaf","id":"f","targetId":"e4","appendMode":"side"}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryLeaf && e.TargetID == "e4" && e.Side, "%+v", e)
		}},
		{"unknown type kept", `{"type":"future_thing","id":"u","parentId":"e1","extra":[1,2]}`, func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryUnknown && e.Type == "future_thing" && e.ParentID == "e1", "%+v", e)
		}},
		{"numeric id", `{"type":"custom","id":12,"parentId":11}`, func(t *testing.T, e Entry) {
			want(t, e.ID == "12" && e.ParentID == "11", "%+v", e)
		}},
		{"BOM and CRLF", "\ufeff{\"type\":\"custom\",\"id\":\"c\"}\r", func(t *testing.T, e Entry) {
			want(t, e.Kind == EntryCustom, "%+v", e)
		}},
		{"unparseable timestamp keeps the entry", `{"type":"message","id":"a","timestamp":"not a date","message":{"role":"assistant","usage":{"input":100,"output":50},"timestamp":"also bad"}}`, func(t *testing.T, e Entry) {
			want(t, e.BadTime && e.Time.IsZero() && e.Msg.Usage.Input == 100, "%+v", e)
		}},
		{"invalid UTF-8 replaced", "{\"type\":\"message\",\"id\":\"a\",\"message\":{\"role\":\"user\",\"content\":\"a\xffb\"}}", func(t *testing.T, e Entry) {
			want(t, e.Msg.ContentSize == len("a\uFFFDb"), "%+v", e.Msg)
		}},
		{"lone surrogate escape", `{"type":"message","id":"a","message":{"role":"user","content":"x\ud83d"}}`, func(t *testing.T, e Entry) {
			want(t, e.Msg.Role == RoleUser, "%+v", e.Msg)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEntry([]byte(tt.line), Source{File: "f", Line: 3}, ParseOptions{})
			if err != nil {
				t.Fatalf("ParseEntry: %v", err)
			}
			if e.Src.String() != "f:3" {
				t.Errorf("src %q", e.Src)
			}
			tt.check(t, e)
		})
	}
}

func TestParseEntryContentOptIn(t *testing.T) {
	line := `{"type":"message","id":"a","message":{"role":"assistant","content":[{"type":"text","text":"secret"},{"type":"toolCall","id":"c","name":"n","arguments":{"k":"v"}}]}}`
	e, err := ParseEntry([]byte(line), Source{}, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range e.Msg.Blocks {
		if b.Text != "" {
			t.Errorf("content kept without opt-in: %+v", b)
		}
	}
	e, _ = ParseEntry([]byte(line), Source{}, ParseOptions{Content: true})
	if e.Msg.Blocks[0].Text != "secret" || e.Msg.Blocks[1].Text != `{"k":"v"}` {
		t.Errorf("content not kept with opt-in: %+v", e.Msg.Blocks)
	}
}

func TestParseEntryErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{``, "empty line"},
		{`[1,2]`, "not a JSON object"},
		{`hello`, "not a JSON object"},
		{`{"type":"message","id":"a","message":{"role":"user"`, "truncated line"},
		{`{"type":"message","id":"a",}`, "invalid JSON at byte"},
		{`{"id":"a"}`, `missing "type"`},
		{`{"type":7}`, `wrong type for "type"`},
		{`{"type":"message","id":"a"}`, `message entry without "message"`},
		{`{"type":"message","id":"a","message":{"content":"x"}}`, `missing "role"`},
		{`{"type":"message","id":"a","message":{"role":"user","content":7}}`, "content: unexpected"},
		{`{"type":"session","version":3}`, `session header without "id"`},
		{`{"type":"custom","id":{"x":1}}`, "id: want string"},
		{`{"type":"message","id":"a","message":{"role":"assistant","usage":{"input":"lots"}}}`, "message:"},
	}
	for _, tt := range tests {
		_, err := ParseEntry([]byte(tt.line), Source{File: "f", Line: 1}, ParseOptions{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseEntry(%q) = %v, want error containing %q", tt.line, err, tt.want)
		}
	}
}

// TestParseEntryHugeNumbers: numbers beyond int64 or float64 in usage and
// cost are unknown values, not garbage. They used to become -2^63 tokens
// and an infinite cost, which made baseline and report --format json fail
// ("json: unsupported value: +Inf").
func TestParseEntryHugeNumbers(t *testing.T) {
	const head = `{"type":"message","id":"a","message":{"role":"assistant","content":[],"usage":`
	tests := []struct {
		usage string
		input int64
		cost  float64 // -1: no cost
	}{
		{`{"input":1e400,"output":5}`, 0, -1},
		{`{"input":9223372036854775808,"output":5}`, 0, -1},
		{`{"input":-1e300,"output":5}`, 0, -1},
		{`{"input":1e18,"output":5}`, 1e18, -1},
		{`{"input":7,"output":5,"cost":1e400}`, 7, -1},
		{`{"input":7,"output":5,"cost":"Infinity"}`, 7, -1},
		{`{"input":7,"output":5,"cost":"NaN"}`, 7, -1},
		{`{"input":7,"output":5,"cost":{"total":1e400}}`, 7, -1},
		{`{"input":7,"output":5,"cost":{"input":1e308,"output":1e308}}`, 7, -1},
		{`{"input":7,"output":5,"cost":{"input":1e400,"output":0.5}}`, 7, 0.5},
		{`{"input":7,"output":5,"cost":0.25}`, 7, 0.25},
	}
	for _, tt := range tests {
		line := head + tt.usage + `}}`
		e, err := ParseEntry([]byte(line), Source{File: "f", Line: 1}, ParseOptions{})
		if err != nil {
			t.Errorf("%s: %v", tt.usage, err)
			continue
		}
		u := e.Msg.Usage
		cost := -1.0
		if u.Cost != nil {
			cost = u.Cost.Total
		}
		if u.Input != tt.input || cost != tt.cost {
			t.Errorf("%s: input %d cost %v, want %d %v", tt.usage, u.Input, cost, tt.input, tt.cost)
		}
	}
}

func want(t *testing.T, ok bool, format string, a ...any) {
	t.Helper()
	if !ok {
		t.Errorf(format, a...)
	}
}
