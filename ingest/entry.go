package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ParseOptions control what the entry parser keeps.
type ParseOptions struct {
	// Content keeps message text, thinking and tool arguments in Block.Text.
	// Off by default: only sizes are kept (privacy, and speed).
	Content bool
}

// rawEntry mirrors every field of every entry type. Polymorphic fields stay
// raw and are decoded by hand.
type rawEntry struct {
	Type          string          `json:"type"`
	Version       *int            `json:"version"`
	ID            json.RawMessage `json:"id"`
	ParentID      json.RawMessage `json:"parentId"`
	Timestamp     json.RawMessage `json:"timestamp"`
	Cwd           string          `json:"cwd"`
	ParentSession string          `json:"parentSession"`
	AppendMode    string          `json:"appendMode"`

	Message json.RawMessage `json:"message"`

	Provider      string `json:"provider"`
	ModelID       string `json:"modelId"`
	ThinkingLevel string `json:"thinkingLevel"`

	TokensBefore     json.Number `json:"tokensBefore"`
	TokensAfter      json.Number `json:"tokensAfter"`
	FirstKeptEntryID string      `json:"firstKeptEntryId"`
	FromID           string      `json:"fromId"`
	FromHook         bool        `json:"fromHook"`
	Reason           string      `json:"reason"`
	CustomType       string      `json:"customType"`
	TargetID         string      `json:"targetId"`
	Label            *string     `json:"label"`
	Name             string      `json:"name"`
	OpenClaw         *struct {
		RunID string `json:"runId"`
	} `json:"__openclaw"`

	msg *rawMessage // the message, decoded inline by the fast path
}

type rawMessage struct {
	Role          string          `json:"role"`
	Content       json.RawMessage `json:"content"`
	Timestamp     json.RawMessage `json:"timestamp"`
	API           string          `json:"api"`
	Provider      string          `json:"provider"`
	Model         string          `json:"model"`
	ResponseModel string          `json:"responseModel"`
	ResponseID    string          `json:"responseId"`
	TurnID        string          `json:"turnId"`
	Usage         *rawUsage       `json:"usage"`
	StopReason    string          `json:"stopReason"`
	EndTurn       *bool           `json:"endTurn"`
	ErrorMessage  string          `json:"errorMessage"`
	ErrorCode     string          `json:"errorCode"`
	ToolCallID    string          `json:"toolCallId"`
	ToolName      string          `json:"toolName"`
	IsError       bool            `json:"isError"`
	Details       json.RawMessage `json:"details"`
	CustomType    string          `json:"customType"`
	Command       string          `json:"command"`
	Output        string          `json:"output"`
	ExitCode      *int            `json:"exitCode"`
	Idempotency   string          `json:"idempotencyKey"`
	Summary       string          `json:"summary"`
	outputSize    int             // len(Output), measured by the fast path

	// Content decoded inline by the fast path.
	contentDone bool
	blocks      []Block
	contentSize int
	OpenClaw    *struct {
		RunID string `json:"runId"`
	} `json:"__openclaw"`
}

type rawUsage struct {
	Input        json.Number     `json:"input"`
	Output       json.Number     `json:"output"`
	CacheRead    json.Number     `json:"cacheRead"`
	CacheWrite   json.Number     `json:"cacheWrite"`
	CacheWrite1h json.Number     `json:"cacheWrite1h"`
	TotalTokens  json.Number     `json:"totalTokens"`
	Reasoning    json.Number     `json:"reasoningTokens"`
	Cost         json.RawMessage `json:"cost"` // an object, or a bare number (OpenRouter)
}

type rawCost struct {
	Input       json.Number `json:"input"`
	Output      json.Number `json:"output"`
	CacheRead   json.Number `json:"cacheRead"`
	CacheWrite  json.Number `json:"cacheWrite"`
	Total       json.Number `json:"total"`
	TotalOrigin string      `json:"totalOrigin"`
}

type rawBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Input     json.RawMessage `json:"input"` // tool_use blocks

	// Set by the fast path, which measures text instead of building it.
	measured                         bool
	textSize, thinkingSize, dataSize int
	Async                            bool   `json:"async"`
	Data                             string `json:"data"`
}

var (
	errNotObject = errors.New("not a JSON object")
	errNoType    = errors.New(`missing "type"`)
)

// ParseEntry decodes one transcript line (or SQLite event_json) into an
// Entry. line is the 1-based line number, used for v1 synthetic ids. It never
// panics; a non-nil error means the line must be skipped.
func ParseEntry(data []byte, src Source, opt ParseOptions) (Entry, error) {
	return parseEntry(data, src, opt, true, nil)
}

// parseEntry is ParseEntry; fast=false decodes with encoding/json only, the
// reference the fast path is tested against.
func parseEntry(data []byte, src Source, opt ParseOptions, fast bool, cache *strCache) (Entry, error) {
	var e Entry
	e.Src = src
	data = trimLine(data)
	if len(data) == 0 || data[0] != '{' {
		if len(data) == 0 {
			return e, errors.New("empty line")
		}
		return e, errNotObject
	}
	var r rawEntry
	if js := (jscan{b: data, opt: opt, cache: cache}); !fast || js.entry(&r) != nil || js.end() != nil {
		// Not decoded exactly by the fast path (or invalid): encoding/json
		// decides, and words the error. The fast path checks UTF-8 inside
		// strings itself; raw invalid bytes (a damaged file) are replaced
		// with U+FFFD here, as encoding/json would.
		if !utf8.Valid(data) {
			data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
		}
		r = rawEntry{}
		if err := json.Unmarshal(data, &r); err != nil {
			return e, describeJSONError(data, err)
		}
	}
	if r.Type == "" {
		return e, errNoType
	}
	e.Type = r.Type
	e.Kind = entryKindOf(r.Type)
	var err error
	if e.ID, err = idString(r.ID); err != nil {
		return e, fmt.Errorf("id: %w", err)
	}
	if e.ParentID, err = idString(r.ParentID); err != nil {
		return e, fmt.Errorf("parentId: %w", err)
	}
	if len(r.Timestamp) > 0 {
		// An unparseable time does not lose the entry (its usage still
		// counts); the matcher falls back to neighbouring times.
		if e.Time, err = parseTime(r.Timestamp); err != nil {
			e.BadTime = true
		}
	}
	e.Side = r.AppendMode == "side"
	switch e.Kind {
	case EntryHeader:
		e.Version = 1
		if r.Version != nil {
			e.Version = *r.Version
		}
		e.Cwd = r.Cwd
		e.ParentSession = r.ParentSession
		if e.ID == "" {
			return e, errors.New(`session header without "id"`)
		}
	case EntryMessage:
		if r.msg != nil { // decoded inline by the fast path
			m, err := buildMessage(r.msg, opt, fast)
			if err != nil {
				return e, fmt.Errorf("message: %w", err)
			}
			e.Msg = m
			break
		}
		if len(r.Message) == 0 || bytes.Equal(r.Message, []byte("null")) {
			return e, errors.New(`message entry without "message"`)
		}
		m, err := parseMessage(r.Message, opt, fast)
		if err != nil {
			return e, fmt.Errorf("message: %w", err)
		}
		e.Msg = m
	case EntryModelChange:
		e.Provider, e.ModelID = r.Provider, r.ModelID
	case EntryThinkingLevelChange:
		e.ThinkingLevel = r.ThinkingLevel
	case EntryCompaction, EntryBranchSummary, EntryReset:
		e.TokensBefore = numInt(r.TokensBefore)
		e.TokensAfter = numInt(r.TokensAfter)
		e.FirstKeptEntryID = r.FirstKeptEntryID
		e.FromID = r.FromID
		e.FromHook = r.FromHook
		e.Reason = r.Reason
		if r.OpenClaw != nil {
			e.RunID = r.OpenClaw.RunID
		}
	case EntryCustom, EntryCustomMessage:
		e.CustomType = r.CustomType
	case EntryLabel, EntryLeaf:
		e.TargetID = r.TargetID
		if r.Label != nil {
			e.Label = *r.Label
		}
	case EntrySessionInfo:
		e.Name = r.Name
	}
	return e, nil
}

func parseMessage(data []byte, opt ParseOptions, fast bool) (*Message, error) {
	var r rawMessage
	if js := (jscan{b: data, opt: opt}); !fast || js.message(&r) != nil || js.end() != nil {
		r = rawMessage{}
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, err
		}
		r.outputSize = len(r.Output)
	}
	return buildMessage(&r, opt, fast)
}

func buildMessage(r *rawMessage, opt ParseOptions, fast bool) (*Message, error) {
	m := &Message{
		Role:           roleOf(r.Role),
		API:            r.API,
		Provider:       r.Provider,
		Model:          r.Model,
		ResponseModel:  r.ResponseModel,
		ResponseID:     r.ResponseID,
		TurnID:         r.TurnID,
		StopReason:     r.StopReason,
		EndTurn:        r.EndTurn,
		ErrorMessage:   r.ErrorMessage,
		ErrorCode:      r.ErrorCode,
		ToolCallID:     r.ToolCallID,
		ToolName:       r.ToolName,
		IsError:        r.IsError,
		CustomType:     r.CustomType,
		Command:        r.Command,
		ExitCode:       r.ExitCode,
		IdempotencyKey: r.Idempotency,
	}
	if r.Role == "" {
		return nil, errors.New(`missing "role"`)
	}
	if r.Role == "hookMessage" && m.CustomType == "" {
		m.CustomType = "hook"
	}
	if len(r.Timestamp) > 0 {
		if t, err := parseTime(r.Timestamp); err == nil {
			m.Time = t
		}
	}
	if r.OpenClaw != nil {
		m.RunID = r.OpenClaw.RunID
	}
	if r.Usage != nil {
		m.Usage = convertUsage(r.Usage)
	}
	if r.contentDone {
		m.Blocks, m.ContentSize = r.blocks, r.contentSize
	} else if !fast || contentFast(m, r.Content, opt) != nil {
		m.Blocks, m.ContentSize = nil, 0
		if err := parseContent(m, r.Content, opt); err != nil {
			return nil, fmt.Errorf("content: %w", err)
		}
	}
	if m.Role == RoleBashExecution {
		m.ContentSize += r.outputSize
	}
	if m.Role == RoleToolResult && len(r.Details) > 0 && r.Details[0] == '{' {
		// sessions_spawn details: {"status":"accepted","childSessionKey":...,"runId":...}
		if bytes.Contains(r.Details, []byte(`"childSessionKey"`)) {
			var d struct {
				ChildSessionKey string `json:"childSessionKey"`
				RunID           string `json:"runId"`
			}
			if json.Unmarshal(r.Details, &d) == nil {
				m.ChildSessionKey, m.ChildRunID = d.ChildSessionKey, d.RunID
			}
		}
	}
	return m, nil
}

// parseContent normalises content (a string, an array of blocks, or in old
// files a single block object) into Blocks.
func parseContent(m *Message, raw json.RawMessage, opt ParseOptions) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		b := Block{Kind: BlockText, Size: len(s)}
		if opt.Content {
			b.Text = s
		}
		m.Blocks = append(m.Blocks, b)
		m.ContentSize += len(s)
		return nil
	case '{':
		var rb rawBlock
		if err := json.Unmarshal(raw, &rb); err != nil {
			return err
		}
		m.addBlock(&rb, opt)
		return nil
	case '[':
		var rbs []rawBlock
		if err := json.Unmarshal(raw, &rbs); err != nil {
			return err
		}
		m.Blocks = make([]Block, 0, len(rbs))
		for i := range rbs {
			m.addBlock(&rbs[i], opt)
		}
		return nil
	}
	return fmt.Errorf("unexpected %.20s", raw)
}

func (m *Message) addBlock(rb *rawBlock, opt ParseOptions) {
	var b Block
	textSize, thinkingSize, dataSize := len(rb.Text), len(rb.Thinking), len(rb.Data)
	if rb.measured {
		textSize, thinkingSize, dataSize = rb.textSize, rb.thinkingSize, rb.dataSize
	}
	switch rb.Type {
	case "text":
		b = Block{Kind: BlockText, Size: textSize, Text: rb.Text}
	case "thinking", "redacted_thinking":
		b = Block{Kind: BlockThinking, Size: thinkingSize, Text: rb.Thinking}
	case "toolCall", "tool_use", "toolUse":
		args := rb.Arguments
		if len(args) == 0 {
			args = rb.Input
		}
		b = Block{Kind: BlockToolCall, ToolCallID: rb.ID, ToolName: rb.Name, Async: rb.Async,
			Size: len(args), Text: string(args)}
	case "image":
		b = Block{Kind: BlockImage, Size: dataSize}
	default:
		b = Block{Kind: BlockUnknown, Size: textSize}
	}
	if !opt.Content {
		b.Text = ""
	}
	m.ContentSize += b.Size
	m.Blocks = append(m.Blocks, b)
}

func convertUsage(r *rawUsage) Usage {
	u := Usage{
		Input:        numInt(r.Input),
		Output:       numInt(r.Output),
		CacheRead:    numInt(r.CacheRead),
		CacheWrite:   numInt(r.CacheWrite),
		CacheWrite1h: numInt(r.CacheWrite1h),
		Total:        numInt(r.TotalTokens),
	}
	u.Reasoning = numInt(r.Reasoning)
	u.Known = u.Input != 0 || u.Output != 0 || u.CacheRead != 0 || u.CacheWrite != 0 || u.Total != 0
	if u.Total == 0 {
		u.Total = u.Input + u.Output + u.CacheRead + u.CacheWrite
	}
	if rc := bytes.TrimSpace(r.Cost); len(rc) > 0 && !bytes.Equal(rc, []byte("null")) {
		var c *Cost
		switch rc[0] {
		case '{':
			if x, ok := decodeCost(rc); ok {
				c = &Cost{
					Input:          numFloat(x.Input),
					Output:         numFloat(x.Output),
					CacheRead:      numFloat(x.CacheRead),
					CacheWrite:     numFloat(x.CacheWrite),
					Total:          numFloat(x.Total),
					ProviderBilled: x.TotalOrigin == "provider-billed",
				}
			}
		default:
			if f, err := strconv.ParseFloat(string(bytes.Trim(rc, `"`)), 64); err == nil && isFinite(f) {
				c = &Cost{Total: f}
			}
		}
		if c == nil {
			return u
		}
		if c.Total == 0 {
			c.Total = c.Input + c.Output + c.CacheRead + c.CacheWrite
		}
		if !isFinite(c.Total) { // the parts overflowed: no usable cost
			return u
		}
		// An all-zero cost next to real usage means "no price known" in
		// OpenClaw (custom providers without a price table), not "free".
		if c.Total != 0 || !u.Known {
			u.Cost = c
		}
	}
	if !u.Known {
		u.Cost = nil
	}
	return u
}

// trimLine strips surrounding whitespace and a UTF-8 byte-order mark.
func trimLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return bytes.TrimSpace(b)
}

// decodeCost decodes a cost object, fast path first.
func decodeCost(rc []byte) (rawCost, bool) {
	var x rawCost
	if js := (jscan{b: rc}); js.cost(&x) == nil && js.end() == nil {
		return x, true
	}
	x = rawCost{}
	return x, json.Unmarshal(rc, &x) == nil
}

// numInt converts a token count. A number outside the int64 range (1e400,
// 2^63) is no count OpenClaw writes and reads as 0: converted, it became
// -2^63 tokens in every sum.
func numInt(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || !(f >= -(1<<63) && f < 1<<63) {
		return 0
	}
	return int64(f)
}

// numFloat converts a cost. A number beyond float64 (1e400) reads as 0:
// an infinite cost cannot be written to JSON and failed whole reports.
func numFloat(n json.Number) float64 {
	if n == "" {
		return 0
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || !isFinite(f) {
		return 0
	}
	return f
}

func isFinite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }

// idString accepts a string, a number or null as an id.
func idString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	if raw[0] == '"' {
		if inner := raw[1 : len(raw)-1]; len(raw) >= 2 && bytes.IndexByte(inner, '\\') < 0 {
			return string(inner), nil // already validated by the decoder
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	if (raw[0] >= '0' && raw[0] <= '9') || raw[0] == '-' {
		return string(raw), nil
	}
	return "", fmt.Errorf("want string, got %.20s", raw)
}

// parseTime accepts epoch milliseconds (number or numeric string) or an
// ISO-8601 string, and returns UTC.
func parseTime(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return time.Time{}, nil
	}
	if raw[0] == '"' {
		if inner := raw[1 : len(raw)-1]; len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(inner, '\\') < 0 {
			return ParseTimeString(string(inner))
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		return ParseTimeString(s)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("want epoch ms or ISO string, got %.30s", raw)
	}
	return msTime(f), nil
}

// ParseTimeString parses an ISO-8601 timestamp or a numeric epoch-ms string.
func ParseTimeString(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "-:T") {
		f, err := strconv.ParseFloat(s, 64)
		if err == nil {
			return msTime(f), nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	return t.UTC(), nil
}

func msTime(f float64) time.Time {
	ms := int64(f)
	ns := int64((f - float64(ms)) * 1e6)
	return time.UnixMilli(ms).Add(time.Duration(ns)).UTC()
}

// describeJSONError turns encoding/json errors into a short reason with the
// byte offset, which is what a user needs to find the damage.
func describeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		if strings.Contains(se.Error(), "unexpected end") {
			return fmt.Errorf("invalid JSON: truncated line (unexpected end after %d bytes)", len(data))
		}
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("wrong type for %q: got JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}
