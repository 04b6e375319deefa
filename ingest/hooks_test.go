package ingest

import (
	"strings"
	"testing"
)

func TestParseHookLine(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		check func(t *testing.T, ev HookEvent)
	}{
		{"model_call_started", `{"v":1,"seq":17,"ts":1780304401098,"pid":4242,"hook":"model_call_started","event":{"runId":"r-9","callId":"r-9:model:1","sessionId":"s1","provider":"mock","model":"m1","api":"openai-completions"},"ctx":{"runId":"r-9","sessionId":"s1","modelProviderId":"mock","modelId":"m1"}}`, func(t *testing.T, ev HookEvent) {
			want(t, ev.Kind == HookModelCallStarted && ev.RunID == "r-9" && ev.CallID == "r-9:model:1" && ev.SessionID == "s1" && ev.Provider == "mock" && ev.Model == "m1", "%+v", ev)
			want(t, ev.Seq == 17 && ev.PID == 4242 && ev.Time.Equal(ms(1780304401098)) && ev.DurationMs == -1, "%+v", ev)
		}},
		{"model_call_ended error", `{"ts":1,"hook":"model_call_ended","event":{"runId":"r","callId":"r:model:2","durationMs":2790,"outcome":"error","errorCategory":"rate_limit","failureKind":"timeout","timeToFirstByteMs":310}}`, func(t *testing.T, ev HookEvent) {
			want(t, ev.Kind == HookModelCallEnded && ev.DurationMs == 2790 && ev.Outcome == "error" && ev.ErrorCategory == "rate_limit" && ev.FailureKind == "timeout" && ev.TimeToFirstByteMs == 310, "%+v", ev)
		}},
		{"tool hooks", `{"ts":2,"hook":"after_tool_call","event":{"toolName":"read","runId":"r","toolCallId":"call_a","error":"ENOENT: no such file","durationMs":31},"ctx":{"agentId":"main","sessionKey":"agent:main:main","sessionId":"s1"}}`, func(t *testing.T, ev HookEvent) {
			want(t, ev.Kind == HookAfterToolCall && ev.ToolCallID == "call_a" && ev.ToolName == "read" && ev.HasError && ev.Error == "ENOENT: no such file" && ev.AgentID == "main" && ev.SessionKey == "agent:main:main", "%+v", ev)
		}},
		{"error null is no error", `{"ts":2,"hook":"after_tool_call","event":{"toolCallId":"c","error":null}}`, func(t *testing.T, ev HookEvent) {
			want(t, !ev.HasError, "%+v", ev)
		}},
		{"llm_output usage", `{"ts":3,"hook":"llm_output","event":{"runId":"r","usage":{"input":10,"output":5,"cacheRead":100,"cacheWrite":0}}}`, func(t *testing.T, ev HookEvent) {
			want(t, ev.Kind == HookLLMOutput && ev.Usage.Known && ev.Usage.Total == 115, "%+v", ev.Usage)
		}},
		{"subagent_spawned", `{"ts":4,"hook":"subagent_spawned","event":{"runId":"cr","childSessionKey":"agent:main:subagent:u","agentId":"main","mode":"run"},"ctx":{"runId":"cr","childSessionKey":"agent:main:subagent:u","requesterSessionKey":"agent:main:main"}}`, func(t *testing.T, ev HookEvent) {
			want(t, ev.Kind == HookSubagentSpawned && ev.ChildSessionKey == "agent:main:subagent:u" && ev.RequesterKey == "agent:main:main", "%+v", ev)
		}},
		{"subagent_ended target key", `{"ts":4,"hook":"subagent_ended","event":{"targetSessionKey":"agent:main:subagent:u","outcome":"ok"}}`, func(t *testing.T, ev HookEvent) {
			want(t, ev.ChildSessionKey == "agent:main:subagent:u" && ev.Outcome == "ok", "%+v", ev)
		}},
		{"agent_end", `{"ts":5,"hook":"agent_end","event":{"runId":"r","success":false,"error":{"message":"boom"},"durationMs":9}}`, func(t *testing.T, ev HookEvent) {
			want(t, ev.Kind == HookAgentEnd && ev.Success != nil && !*ev.Success && ev.Error == "boom" && ev.DurationMs == 9, "%+v", ev)
		}},
		{"unknown hook and extra fields", `{"ts":"1780304401098","hook":"gateway_start","inst":3,"event":{"weird":[1]},"ctx":null}`, func(t *testing.T, ev HookEvent) {
			want(t, ev.Kind == HookOther && ev.Name == "gateway_start" && ev.Time.Equal(ms(1780304401098)), "%+v", ev)
		}},
		{"plugin marker", `{"ts":1,"hook":"__plugin_register","event":{"hooks":["a"]}}`, func(t *testing.T, ev HookEvent) {
			want(t, ev.Kind == HookPluginRegister, "%+v", ev)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseHookLine([]byte(tt.line), Source{File: "hooks.jsonl", Line: 2})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, ev)
		})
	}
	for _, bad := range []struct{ line, want string }{
		{`{"ts":1}`, `missing "hook"`},
		{`{"hook":"x"}`, `missing "ts"`},
		{`{"hook":"x","ts":"yesterday"}`, "ts:"},
		{`{"hook":"x","ts":1,`, "truncated"},
		{`nope`, "not a JSON object"},
	} {
		if _, err := ParseHookLine([]byte(bad.line), Source{}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseHookLine(%q) = %v, want %q", bad.line, err, bad.want)
		}
	}
}

func TestParseTrajectoryLine(t *testing.T) {
	ev, err := ParseTrajectoryLine([]byte(`{"traceSchema":"openclaw-trajectory","schemaVersion":1,"type":"tool.result","ts":"2026-11-25T21:07:34.899Z","seq":8,"sessionId":"s04","runId":"r","data":{"toolCallId":"call_s04_ls","name":"ls","success":false}}`), Source{})
	if err != nil {
		t.Fatal(err)
	}
	want(t, ev.Kind == TrajToolResult && ev.Origin == OriginTrajectory && ev.ToolCallID == "call_s04_ls" && ev.HasError && ev.Seq == 8, "%+v", ev)
}

func TestParseIndex(t *testing.T) {
	doc := `{
  "agent:main:main": {"sessionId":"a1","updatedAt":1780304405900,"chatType":"direct","modelProvider":"mock","model":"m1"},
  "agent:main:subagent:7f": {"sessionId":"b2","updatedAt":1780304409000,"spawnedBy":"agent:main:main","parentSessionKey":"agent:main:main","spawnDepth":1,"label":"research","forkSource":{"sessionKey":"k","sessionId":"x"}},
  "broken": 7,
  "agent:main:bad": {"sessionId": 5}
}`
	var rows []IndexRow
	errs := ParseIndex(strings.NewReader(doc), "sessions.json", func(r IndexRow) { rows = append(rows, r) })
	if len(rows) != 2 {
		t.Fatalf("rows = %+v", rows)
	}
	want(t, rows[0].SessionKey == "agent:main:main" && rows[0].SessionID == "a1" && rows[0].UpdatedAt.Equal(ms(1780304405900)), "%+v", rows[0])
	want(t, rows[1].SpawnedBy == "agent:main:main" && rows[1].SpawnDepth == 1 && rows[1].Label == "research" && rows[1].ForkSourceID == "x", "%+v", rows[1])
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "sessions.json:3: row \"broken\" is not an object") || !strings.Contains(errs[1].Error(), "sessions.json:4") {
		t.Errorf("errs = %v", errs)
	}
	if errs := ParseIndex(strings.NewReader(`[1]`), "x.json", func(IndexRow) {}); len(errs) != 1 || !strings.Contains(errs[0].Error(), "not a JSON object") {
		t.Errorf("array index: %v", errs)
	}
	if errs := ParseIndex(strings.NewReader(`{"a":{"sessionId":"x"},`), "x.json", func(IndexRow) {}); len(errs) != 1 {
		t.Errorf("truncated index: %v", errs)
	}
	if AgentIDFromKey("agent:ops:subagent:1") != "ops" || AgentIDFromKey("cron:1") != "" {
		t.Error("AgentIDFromKey")
	}
}

func TestParseTimelineLine(t *testing.T) {
	ev, err := ParseTimelineLine([]byte(`{"schemaVersion":"openclaw.diagnostics.v1","type":"provider.request","timestamp":"2026-06-01T09:00:00.000Z","name":"provider.request","pid":7,"runId":"r","spanId":"r:model:1","durationMs":120.5,"provider":"p","ok":false,"errorMessage":"429","attributes":{"model":"m","terminalAtMs":1780304400130,"terminalReason":"error"}}`), Source{})
	if err != nil {
		t.Fatal(err)
	}
	want(t, ev.Kind == HookModelCallEnded && ev.Origin == OriginTimeline && ev.RunID == "r" && ev.CallID == "r:model:1" && ev.Model == "m" &&
		ev.Outcome == "error" && ev.Time.Equal(ms(1780304400130)) && ev.DurationMs == 120 && ev.PID == 7, "%+v", ev)
	ev, err = ParseTimelineLine([]byte(`{"schemaVersion":"openclaw.diagnostics.v1","type":"mark","timestamp":"2026-06-01T09:00:00.000Z","name":"provider.request.started","runId":"r","spanId":"r:model:1"}`), Source{})
	want(t, err == nil && ev.Kind == HookModelCallStarted && ev.Time.Equal(ms(1780304400000)), "%+v %v", ev, err)
	ev, err = ParseTimelineLine([]byte(`{"schemaVersion":1,"type":"span","timestamp":"2026-06-01T09:00:00.000Z","name":"tool.exec"}`), Source{})
	want(t, err == nil && ev.Kind == HookOther, "%+v %v", ev, err)
	if _, err := ParseTimelineLine([]byte(`{"schemaVersion":1}`), Source{}); err == nil {
		t.Error("record without name accepted")
	}
}

func TestTrajectoryAttemptError(t *testing.T) {
	ev, err := ParseTrajectoryLine([]byte(`{"traceSchema":"openclaw-trajectory","schemaVersion":1,"type":"model.completed","ts":"2026-11-25T21:07:48.891Z","seq":5,"sessionId":"s06","runId":"r","data":{"stopReason":"error","messagesSnapshot":[{"role":"user","content":"hi"},{"role":"assistant","stopReason":"error","errorMessage":"429 rate limited","errorCode":429}]}}`), Source{})
	if err != nil || ev.Kind != TrajModelCompleted || !ev.HasError || ev.Error != "429 rate limited" || ev.ErrorCode != "429" {
		t.Fatalf("%+v %v", ev, err)
	}
	ev, err = ParseTrajectoryLine([]byte(`{"type":"model.completed","ts":"2026-11-25T21:07:48.891Z","runId":"r","data":{"stopReason":"stop","messagesSnapshot":[1,"odd",{"role":"assistant"}]}}`), Source{})
	if err != nil || ev.HasError || ev.Error != "" {
		t.Fatalf("success: %+v %v", ev, err)
	}
}
