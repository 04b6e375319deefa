package ingest

import (
	"fmt"
	"time"
)

// Source records where a fact came from. Line is 1-based; for SQLite rows it
// is the row's seq + 1 and File names the database and session
// ("agents/main/agent/openclaw-agent.sqlite#s04").
type Source struct {
	File string
	Line int
}

// String returns "file:line", or just the file when Line is 0.
func (s Source) String() string {
	if s.Line == 0 {
		return s.File
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// LineError is a bad input line: it was skipped and counted, and the rest of
// the input was still processed.
type LineError struct {
	Src Source
	Err error
}

func (e *LineError) Error() string { return e.Src.String() + ": " + e.Err.Error() }
func (e *LineError) Unwrap() error { return e.Err }

// EntryKind is the transcript entry type.
type EntryKind uint8

const (
	EntryUnknown EntryKind = iota // a type this version does not know; kept opaque
	EntryHeader                   // "session" (first line)
	EntryMessage
	EntryModelChange
	EntryThinkingLevelChange
	EntryCompaction
	EntryBranchSummary
	EntryReset
	EntryCustom
	EntryCustomMessage
	EntryLabel
	EntrySessionInfo
	EntryLeaf
	numEntryKinds
)

var entryKindNames = [numEntryKinds]string{
	EntryUnknown:             "unknown",
	EntryHeader:              "session",
	EntryMessage:             "message",
	EntryModelChange:         "model_change",
	EntryThinkingLevelChange: "thinking_level_change",
	EntryCompaction:          "compaction",
	EntryBranchSummary:       "branch_summary",
	EntryReset:               "reset",
	EntryCustom:              "custom",
	EntryCustomMessage:       "custom_message",
	EntryLabel:               "label",
	EntrySessionInfo:         "session_info",
	EntryLeaf:                "leaf",
}

func (k EntryKind) String() string {
	if k < numEntryKinds {
		return entryKindNames[k]
	}
	return "unknown"
}

func entryKindOf(typ string) EntryKind {
	for k := EntryHeader; k < numEntryKinds; k++ {
		if entryKindNames[k] == typ {
			return k
		}
	}
	return EntryUnknown
}

// Role is a message role.
type Role uint8

const (
	RoleUnknown Role = iota
	RoleUser
	RoleAssistant
	RoleToolResult
	RoleBashExecution
	RoleCustom // also the pre-v3 "hookMessage"
	RoleBranchSummary
	RoleCompactionSummary
	numRoles
)

var roleNames = [numRoles]string{
	RoleUnknown:           "unknown",
	RoleUser:              "user",
	RoleAssistant:         "assistant",
	RoleToolResult:        "toolResult",
	RoleBashExecution:     "bashExecution",
	RoleCustom:            "custom",
	RoleBranchSummary:     "branchSummary",
	RoleCompactionSummary: "compactionSummary",
}

func (r Role) String() string {
	if r < numRoles {
		return roleNames[r]
	}
	return "unknown"
}

func roleOf(s string) Role {
	if s == "hookMessage" {
		return RoleCustom
	}
	for r := RoleUser; r < numRoles; r++ {
		if roleNames[r] == s {
			return r
		}
	}
	return RoleUnknown
}

// BlockKind is a content block type.
type BlockKind uint8

const (
	BlockUnknown BlockKind = iota
	BlockText
	BlockThinking
	BlockToolCall
	BlockImage
)

var blockKindNames = [...]string{"unknown", "text", "thinking", "toolCall", "image"}

func (k BlockKind) String() string {
	if int(k) < len(blockKindNames) {
		return blockKindNames[k]
	}
	return "unknown"
}

// Block is one content block. Text holds text, thinking or the JSON
// arguments of a tool call only when content capture was requested
// (Options.Content); Size is always the length in bytes of that payload, so
// sizes are known without keeping content.
type Block struct {
	Kind BlockKind
	Text string
	Size int
	// Tool calls only.
	ToolCallID string
	ToolName   string
	Async      bool
}

// Cost is OpenClaw's recorded cost estimate in USD.
type Cost struct {
	Input, Output, CacheRead, CacheWrite, Total float64
	ProviderBilled                              bool // cost.totalOrigin == "provider-billed"
}

// Usage is token usage as OpenClaw stores it: Input counts only uncached
// prompt tokens; the prompt is Input + CacheRead + CacheWrite.
//
// Known is false when the message carried no usage object, or when every
// counter is 0 (OpenClaw writes zeros for synthetic, error and fragment
// messages: "no usage", not a real zero). Cost is nil when no cost was
// recorded.
type Usage struct {
	Known                                       bool
	Input, Output, CacheRead, CacheWrite, Total int64
	CacheWrite1h                                int64
	// Reasoning is reasoningTokens when the provider reported it; it is
	// part of Output, not in addition to it.
	Reasoning int64
	Cost      *Cost
}

// Message is the payload of a "message" entry.
type Message struct {
	Role Role
	// Time is message.timestamp (epoch ms). For an assistant message this is
	// the start of the provider call (a slight lower bound); for a toolResult
	// it is when the result was built. Zero if absent.
	Time time.Time

	Blocks []Block
	// ContentSize is the total payload size of the content in bytes, also
	// when the content was a plain string.
	ContentSize int

	// Assistant fields.
	API, Provider, Model, ResponseModel string
	ResponseID, TurnID                  string
	Usage                               Usage
	StopReason                          string
	EndTurn                             *bool
	ErrorMessage, ErrorCode             string

	// RunID is __openclaw.runId (2026.9.x assistant and toolResult
	// messages). User messages carry none: their idempotencyKey ends in
	// ":user", but its prefix is not always the run id.
	RunID          string
	IdempotencyKey string

	// toolResult fields.
	ToolCallID string
	ToolName   string
	IsError    bool
	// ChildSessionKey and ChildRunID come from a sessions_spawn result's
	// details, linking the tool call to the subagent session it started.
	ChildSessionKey, ChildRunID string

	// custom / bashExecution.
	CustomType string
	Command    string
	ExitCode   *int
}

// ToolCalls returns the tool-call blocks of the message, in order.
func (m *Message) ToolCalls() []Block {
	var out []Block
	for _, b := range m.Blocks {
		if b.Kind == BlockToolCall {
			out = append(out, b)
		}
	}
	return out
}

// Entry is one transcript line (or SQLite row): the envelope plus the fields
// of its type. Fields that do not apply to the Kind are zero.
type Entry struct {
	Kind     EntryKind
	Type     string // the raw "type" value, kept for EntryUnknown
	ID       string // opaque; "L<line>" for v1 entries without ids
	ParentID string // "" for the first entry of a branch
	// Time is the ISO entry timestamp: when the entry was appended. For an
	// assistant message this is right after the provider stream finished.
	Time time.Time
	Side bool // appendMode "side" (2026.9)
	// BadTime is set when the timestamp was present but unparseable; Time
	// is then zero and the entry is kept.
	BadTime bool
	Src     Source

	// Header.
	Version       int
	Cwd           string
	ParentSession string

	Msg *Message // EntryMessage only

	// model_change.
	Provider, ModelID string
	// thinking_level_change.
	ThinkingLevel string
	// compaction / branch_summary / reset.
	TokensBefore, TokensAfter int64
	FirstKeptEntryID          string
	FromID                    string
	FromHook                  bool
	RunID                     string // compaction __openclaw.runId
	Reason                    string // reset reason
	// custom / custom_message.
	CustomType string
	// label / leaf.
	TargetID string
	Label    string
	Name     string // session_info
}

// Header is the parsed first line of a transcript.
type Header struct {
	SessionID     string
	Version       int
	Time          time.Time
	Cwd           string
	ParentSession string
}

// CopyKind says which copy of a session transcript a file is.
type CopyKind uint8

const (
	CopyLive       CopyKind = iota // <sessionId>.jsonl, or SQLite transcript_events
	CopyReset                      // .jsonl.reset.<stamp>
	CopyDeleted                    // .jsonl.deleted.<stamp>
	CopyCold                       // cold/<sha256>.jsonl.zst
	CopyCheckpoint                 // <sessionId>.checkpoint.<uuid>.jsonl
	CopyCorrupt                    // <name>.corrupt-<stamp>-<8hex>.jsonl
	CopyBackup                     // other .bak copies
)

var copyKindNames = [...]string{"live", "reset", "deleted", "cold", "checkpoint", "corrupt", "backup"}

func (k CopyKind) String() string {
	if int(k) < len(copyKindNames) {
		return copyKindNames[k]
	}
	return "unknown"
}

// IndexRow is one row of the sessions index (sessions.json value or SQLite
// session_nodes.entry_json), restricted to the fields clawtrace uses.
type IndexRow struct {
	SessionKey       string
	SessionID        string
	UpdatedAt        time.Time
	ChatType         string
	Label            string
	DisplayName      string
	ModelProvider    string
	Model            string
	SpawnedBy        string
	ParentSessionKey string
	SpawnDepth       int
	ForkSourceKey    string
	ForkSourceID     string
	PreviousSession  string
	Status           string
	// SessionFile is the transcript file the row names, when it does
	// (2026.7: a Telegram topic's is <sessionId>-topic-<n>.jsonl).
	SessionFile string
	Src         Source
}

// AgentID returns the agent id encoded in an "agent:<id>:..." session key, or "".
func AgentIDFromKey(key string) string {
	const p = "agent:"
	if len(key) <= len(p) || key[:len(p)] != p {
		return ""
	}
	rest := key[len(p):]
	for i := 0; i < len(rest); i++ {
		if rest[i] == ':' {
			return rest[:i]
		}
	}
	return rest
}
