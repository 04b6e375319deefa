package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// HookKind is the kind of an evidence event from a hook dump or trajectory.
type HookKind uint8

const (
	HookOther HookKind = iota // any other hook name: counted, kept by name
	HookModelCallStarted
	HookModelCallEnded
	HookLLMInput
	HookLLMOutput
	HookAgentEnd
	HookBeforeToolCall
	HookAfterToolCall
	HookToolResultPersist
	HookSessionStart
	HookSessionEnd
	HookBeforeCompaction
	HookAfterCompaction
	HookSubagentSpawned
	HookSubagentEnded
	HookPluginRegister // the recorder's own "__plugin_register" marker
	// Trajectory events (origin OriginTrajectory).
	TrajToolCall
	TrajToolResult
	TrajModelCompleted
	TrajModelFallback
	numHookKinds
)

var hookKindNames = [numHookKinds]string{
	HookOther:             "other",
	HookModelCallStarted:  "model_call_started",
	HookModelCallEnded:    "model_call_ended",
	HookLLMInput:          "llm_input",
	HookLLMOutput:         "llm_output",
	HookAgentEnd:          "agent_end",
	HookBeforeToolCall:    "before_tool_call",
	HookAfterToolCall:     "after_tool_call",
	HookToolResultPersist: "tool_result_persist",
	HookSessionStart:      "session_start",
	HookSessionEnd:        "session_end",
	HookBeforeCompaction:  "before_compaction",
	HookAfterCompaction:   "after_compaction",
	HookSubagentSpawned:   "subagent_spawned",
	HookSubagentEnded:     "subagent_ended",
	HookPluginRegister:    "__plugin_register",
	TrajToolCall:          "tool.call",
	TrajToolResult:        "tool.result",
	TrajModelCompleted:    "model.completed",
	TrajModelFallback:     "model.fallback_step",
}

func (k HookKind) String() string {
	if k < numHookKinds {
		return hookKindNames[k]
	}
	return "other"
}

// Origin says which evidence log an event came from.
type Origin uint8

const (
	OriginHookDump Origin = iota
	OriginTrajectory
)

// HookEvent is a compact evidence event: the fields of a hook-dump line (or
// trajectory line) that reconstruction uses. Content is never kept.
type HookEvent struct {
	Kind   HookKind
	Name   string // hook or trajectory type as written
	Origin Origin
	// Time is when the hook fired (dump "ts", epoch ms) or the trajectory
	// "ts". Seq and PID order events that share a millisecond.
	Time     time.Time
	Seq, PID int64

	RunID, CallID     string
	SessionID         string
	SessionKey        string
	AgentID           string
	ToolCallID        string
	ToolName          string
	Provider, Model   string
	ChildSessionKey   string // subagent_* hooks
	RequesterKey      string // subagent_* ctx.requesterSessionKey
	NextSessionID     string // session_end
	PreviousSessionID string // after_compaction
	Outcome           string // model_call_ended outcome, subagent outcome
	ErrorCategory     string
	FailureKind       string
	ErrorCode         string // provider error code (trajectory model.completed), e.g. "429"
	Error             string // tool or run error message (truncated)
	HasError          bool
	DurationMs        int64 // -1 when absent
	TimeToFirstByteMs int64 // -1 when absent
	Usage             Usage // llm_output / model.completed attempt sum
	Success           *bool // agent_end
	Src               Source
}

type rawHookLine struct {
	V     int             `json:"v"`
	Seq   int64           `json:"seq"`
	TS    json.RawMessage `json:"ts"`
	PID   int64           `json:"pid"`
	Hook  string          `json:"hook"`
	Event *rawHookFields  `json:"event"`
	Ctx   *rawHookFields  `json:"ctx"`
}

type rawHookFields struct {
	RunID             string          `json:"runId"`
	CallID            string          `json:"callId"`
	SessionID         string          `json:"sessionId"`
	SessionKey        string          `json:"sessionKey"`
	AgentID           string          `json:"agentId"`
	ToolCallID        string          `json:"toolCallId"`
	ToolName          string          `json:"toolName"`
	Provider          string          `json:"provider"`
	Model             string          `json:"model"`
	ModelProviderID   string          `json:"modelProviderId"`
	ModelID           string          `json:"modelId"`
	ChildSessionKey   string          `json:"childSessionKey"`
	TargetSessionKey  string          `json:"targetSessionKey"`
	RequesterKey      string          `json:"requesterSessionKey"`
	NextSessionID     string          `json:"nextSessionId"`
	PreviousSessionID string          `json:"previousSessionId"`
	Outcome           string          `json:"outcome"`
	ErrorCategory     string          `json:"errorCategory"`
	FailureKind       string          `json:"failureKind"`
	Error             json.RawMessage `json:"error"`
	DurationMs        *float64        `json:"durationMs"`
	TTFB              *float64        `json:"timeToFirstByteMs"`
	Usage             *rawUsage       `json:"usage"`
	Success           *bool           `json:"success"`
}

var hookKindByName = func() map[string]HookKind {
	m := make(map[string]HookKind, numHookKinds)
	for k := HookKind(1); k < numHookKinds; k++ {
		m[hookKindNames[k]] = k
	}
	return m
}()

// ParseHookLine decodes one hook-dump line. Lines without v, seq or pid are
// accepted; a line without "hook" or "ts" is an error.
func ParseHookLine(data []byte, src Source) (HookEvent, error) {
	return parseHookLine(data, src, true, nil)
}

// parseHookLine is ParseHookLine; fast=false decodes with encoding/json only.
func parseHookLine(data []byte, src Source, fast bool, cache *strCache) (HookEvent, error) {
	ev := HookEvent{Src: src, DurationMs: -1, TimeToFirstByteMs: -1}
	data = trimLine(data)
	if len(data) == 0 {
		return ev, errors.New("empty line")
	}
	if data[0] != '{' {
		return ev, errNotObject
	}
	var r rawHookLine
	if js := (jscan{b: data, cache: cache}); !fast || js.hookLine(&r) != nil || js.end() != nil {
		if !utf8.Valid(data) {
			data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
		}
		r = rawHookLine{}
		if err := json.Unmarshal(data, &r); err != nil {
			return ev, describeJSONError(data, err)
		}
	}
	if r.Hook == "" {
		return ev, errors.New(`missing "hook"`)
	}
	if len(r.TS) == 0 {
		return ev, errors.New(`missing "ts"`)
	}
	t, err := parseTime(r.TS)
	if err != nil {
		return ev, fmt.Errorf("ts: %w", err)
	}
	ev.Name, ev.Kind, ev.Time, ev.Seq, ev.PID = r.Hook, hookKindByName[r.Hook], t, r.Seq, r.PID
	if ev.Kind >= TrajToolCall {
		ev.Kind = HookOther // trajectory names are not hook names
	}
	mergeHookFields(&ev, r.Event)
	mergeHookFields(&ev, r.Ctx)
	return ev, nil
}

// mergeHookFields fills empty fields of ev from f (event first, then ctx).
func mergeHookFields(ev *HookEvent, f *rawHookFields) {
	if f == nil {
		return
	}
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set(&ev.RunID, f.RunID)
	set(&ev.CallID, f.CallID)
	set(&ev.SessionID, f.SessionID)
	set(&ev.SessionKey, f.SessionKey)
	set(&ev.AgentID, f.AgentID)
	set(&ev.ToolCallID, f.ToolCallID)
	set(&ev.ToolName, f.ToolName)
	set(&ev.Provider, f.Provider)
	set(&ev.Provider, f.ModelProviderID)
	set(&ev.Model, f.Model)
	set(&ev.Model, f.ModelID)
	set(&ev.ChildSessionKey, f.ChildSessionKey)
	set(&ev.ChildSessionKey, f.TargetSessionKey)
	set(&ev.RequesterKey, f.RequesterKey)
	set(&ev.NextSessionID, f.NextSessionID)
	set(&ev.PreviousSessionID, f.PreviousSessionID)
	set(&ev.Outcome, f.Outcome)
	set(&ev.ErrorCategory, f.ErrorCategory)
	set(&ev.FailureKind, f.FailureKind)
	if !ev.HasError && len(f.Error) > 0 && !bytes.Equal(f.Error, []byte("null")) && !bytes.Equal(f.Error, []byte(`""`)) {
		ev.HasError = true
		ev.Error = errorText(f.Error)
	}
	if ev.DurationMs < 0 && f.DurationMs != nil {
		ev.DurationMs = int64(*f.DurationMs)
	}
	if ev.TimeToFirstByteMs < 0 && f.TTFB != nil {
		ev.TimeToFirstByteMs = int64(*f.TTFB)
	}
	if !ev.Usage.Known && f.Usage != nil {
		ev.Usage = convertUsage(f.Usage)
		if f.Usage.TotalTokens == "" {
			ev.Usage.Total = ev.Usage.Input + ev.Usage.Output + ev.Usage.CacheRead + ev.Usage.CacheWrite
		}
	}
	if ev.Success == nil && f.Success != nil {
		ev.Success = f.Success
	}
}

func errorText(raw json.RawMessage) string {
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return truncate(s, 200)
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Message != "" {
		return truncate(o.Message, 200)
	}
	return truncate(string(raw), 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

type rawTrajLine struct {
	TraceSchema string          `json:"traceSchema"`
	Type        string          `json:"type"`
	TS          json.RawMessage `json:"ts"`
	Seq         int64           `json:"seq"`
	SessionID   string          `json:"sessionId"`
	SessionKey  string          `json:"sessionKey"`
	RunID       string          `json:"runId"`
	Provider    string          `json:"provider"`
	ModelID     string          `json:"modelId"`
	Data        *struct {
		ToolCallID string          `json:"toolCallId"`
		Name       string          `json:"name"`
		Success    *bool           `json:"success"`
		Error      json.RawMessage `json:"error"`
		Usage      *rawUsage       `json:"usage"`
		StopReason string          `json:"stopReason"`
		// MessagesSnapshot (model.completed): the run's messages after the
		// attempt; the last assistant one of a failed attempt carries the
		// provider's error. Elements are kept raw: only that one is decoded.
		MessagesSnapshot []json.RawMessage `json:"messagesSnapshot"`
	} `json:"data"`
}

// ParseTrajectoryLine decodes one line of a trajectory sidecar (or a row of
// trajectory_runtime_events). Only tool.call, tool.result, model.completed
// and model.fallback_step are returned as typed kinds; others are HookOther.
func ParseTrajectoryLine(data []byte, src Source) (HookEvent, error) {
	ev := HookEvent{Src: src, Origin: OriginTrajectory, DurationMs: -1, TimeToFirstByteMs: -1}
	data = trimLine(data)
	if len(data) == 0 || data[0] != '{' {
		return ev, errNotObject
	}
	var r rawTrajLine
	if err := json.Unmarshal(data, &r); err != nil {
		return ev, describeJSONError(data, err)
	}
	if r.Type == "" {
		return ev, errNoType
	}
	t, err := parseTime(r.TS)
	if err != nil {
		return ev, fmt.Errorf("ts: %w", err)
	}
	ev.Name, ev.Time, ev.Seq = r.Type, t, r.Seq
	ev.SessionID, ev.SessionKey, ev.RunID, ev.Provider, ev.Model = r.SessionID, r.SessionKey, r.RunID, r.Provider, r.ModelID
	switch r.Type {
	case "tool.call":
		ev.Kind = TrajToolCall
	case "tool.result":
		ev.Kind = TrajToolResult
	case "model.completed":
		ev.Kind = TrajModelCompleted
	case "model.fallback_step":
		ev.Kind = TrajModelFallback
	}
	if r.Data != nil {
		ev.ToolCallID, ev.ToolName = r.Data.ToolCallID, r.Data.Name
		if r.Data.Success != nil && !*r.Data.Success {
			ev.HasError = true
		}
		if r.Data.Usage != nil {
			ev.Usage = convertUsage(r.Data.Usage)
		}
		if r.Type == "model.completed" && r.Data.StopReason == "error" {
			ev.HasError = true
			ev.Error, ev.ErrorCode = snapshotError(r.Data.MessagesSnapshot)
		}
	}
	return ev, nil
}

// OriginTimeline marks events from the diagnostics timeline
// ($OPENCLAW_DIAGNOSTICS_TIMELINE_PATH).
const OriginTimeline Origin = 2

type rawTimelineLine struct {
	// SchemaVersion is "openclaw.diagnostics.v1" as OpenClaw writes it
	// (a string); any value is accepted.
	SchemaVersion json.RawMessage `json:"schemaVersion"`
	Type          string          `json:"type"`
	Name          string          `json:"name"`
	Timestamp     json.RawMessage `json:"timestamp"`
	RunID         string          `json:"runId"`
	SpanID        string          `json:"spanId"`
	PID           int64           `json:"pid"`
	DurationMs    *float64        `json:"durationMs"`
	Provider      string          `json:"provider"`
	OK            *bool           `json:"ok"`
	Status        *float64        `json:"status"`
	ErrorMessage  string          `json:"errorMessage"`
	Attributes    *struct {
		Model          string   `json:"model"`
		TerminalAtMs   *float64 `json:"terminalAtMs"`
		TerminalReason string   `json:"terminalReason"`
	} `json:"attributes"`
}

// ParseTimelineLine decodes one line of OpenClaw's diagnostics timeline.
// The provider.request.started mark becomes a model-call start and the
// terminal provider.request record a model-call end (at attributes
// .terminalAtMs, else timestamp + durationMs), both keyed by run id and
// call id (spanId) like the model_call_* hooks. Other records are
// HookOther. The timeline carries no session id: events are filed through
// their run id.
func ParseTimelineLine(data []byte, src Source) (HookEvent, error) {
	ev := HookEvent{Src: src, Origin: OriginTimeline, DurationMs: -1, TimeToFirstByteMs: -1}
	data = trimLine(data)
	if len(data) == 0 || data[0] != '{' {
		return ev, errNotObject
	}
	var r rawTimelineLine
	if err := json.Unmarshal(data, &r); err != nil {
		return ev, describeJSONError(data, err)
	}
	if r.Name == "" && r.Type == "" {
		return ev, errors.New(`missing "name"`)
	}
	t, err := parseTime(r.Timestamp)
	if err != nil {
		return ev, fmt.Errorf("timestamp: %w", err)
	}
	ev.Name, ev.Time, ev.PID, ev.RunID, ev.CallID, ev.Provider = r.Name, t, r.PID, r.RunID, r.SpanID, r.Provider
	if r.Attributes != nil {
		ev.Model = r.Attributes.Model
	}
	if r.DurationMs != nil {
		ev.DurationMs = int64(*r.DurationMs)
	}
	switch r.Name {
	case "provider.request.started":
		ev.Kind = HookModelCallStarted
	case "provider.request":
		ev.Kind = HookModelCallEnded
		switch {
		case r.Attributes != nil && r.Attributes.TerminalAtMs != nil && *r.Attributes.TerminalAtMs > 0:
			ev.Time = msTime(*r.Attributes.TerminalAtMs)
		case r.DurationMs != nil:
			ev.Time = t.Add(time.Duration(*r.DurationMs * float64(time.Millisecond)))
		}
		ev.Outcome = "completed"
		if r.OK != nil && !*r.OK {
			ev.Outcome = "error"
			ev.HasError = true
			ev.Error = truncate(r.ErrorMessage, 200)
			if r.Attributes != nil && ev.Error == "" {
				ev.ErrorCategory = r.Attributes.TerminalReason
			}
		}
	}
	return ev, nil
}

// snapshotError returns the error message (truncated) and code of the last
// assistant message of a model.completed snapshot; "" when it has none.
func snapshotError(msgs []json.RawMessage) (msg, code string) {
	for i := len(msgs) - 1; i >= 0; i-- {
		var m struct {
			Role         string          `json:"role"`
			ErrorMessage json.RawMessage `json:"errorMessage"`
			ErrorCode    json.RawMessage `json:"errorCode"`
		}
		if json.Unmarshal(msgs[i], &m) != nil || m.Role != "assistant" {
			continue
		}
		var s string
		if json.Unmarshal(m.ErrorMessage, &s) == nil {
			msg = truncate(s, 200)
		}
		if json.Unmarshal(m.ErrorCode, &s) == nil {
			code = s
		} else if len(m.ErrorCode) > 0 && m.ErrorCode[0] >= '0' && m.ErrorCode[0] <= '9' {
			code = string(m.ErrorCode) // a number
		}
		return msg, code
	}
	return "", ""
}
