package reconstruct

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/clawtrace/clawtrace/ingest"
)

// TraceID and SpanID have the shapes of OTLP ids.
type (
	TraceID [16]byte
	SpanID  [8]byte
)

func (t TraceID) String() string { return hex.EncodeToString(t[:]) }
func (s SpanID) String() string  { return hex.EncodeToString(s[:]) }

// IsZero reports whether the id is unset (a root span's parent).
func (s SpanID) IsZero() bool { return s == SpanID{} }

// NewTraceID hashes stable source ids into a trace id.
func NewTraceID(parts ...string) TraceID {
	var t TraceID
	sum := hashParts("trace", parts)
	copy(t[:], sum[:16])
	return t
}

// NewSpanID hashes a trace id and stable source ids into a span id.
func NewSpanID(trace TraceID, parts ...string) SpanID {
	var s SpanID
	sum := hashParts(string(trace[:]), parts)
	copy(s[:], sum[:8])
	return s
}

func hashParts(domain string, parts []string) [32]byte {
	h := sha256.New()
	h.Write([]byte(domain))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// SpanKind is what a span stands for.
type SpanKind uint8

const (
	KindRun        SpanKind = iota // invoke_agent: one agent run
	KindLLM                        // chat: one provider call
	KindCompaction                 // chat: a summarisation (compaction) provider call
	KindTool                       // execute_tool: one tool call
	numSpanKinds
)

var spanKindNames = [numSpanKinds]string{"run", "llm", "compaction", "tool"}

func (k SpanKind) String() string {
	if k < numSpanKinds {
		return spanKindNames[k]
	}
	return "unknown"
}

// Operation returns the GenAI operation name of the kind.
func (k SpanKind) Operation() string {
	switch k {
	case KindRun:
		return "invoke_agent"
	case KindTool:
		return "execute_tool"
	}
	return "chat"
}

// Status is a span's outcome.
type Status uint8

const (
	StatusUnset Status = iota
	StatusOK
	StatusError
)

var statusNames = [...]string{"unset", "ok", "error"}

func (s Status) String() string { return statusNames[s] }

// Method names how a field's value was obtained. They appear in output and
// in docs/reconstruction.md; tests assert them.
const (
	MethodHookExact         = "hook.exact"                 // a hook fired at this instant (model_call_*, *_tool_call)
	MethodHookDuration      = "hook.duration"              // a hook's durationMs measured back from its firing time
	MethodHookJoin          = "hook.join"                  // joined to a transcript call by run id and start time
	MethodHookSkewed        = "hook.skew_corrected"        // a hook time shifted by the session's estimated clock offset
	MethodTrajectory        = "trajectory.exact"           // trajectory tool.call / tool.result timestamp
	MethodTranscriptTime    = "transcript.timestamp"       // message.timestamp (start) or entry append time (end)
	MethodTranscriptGroup   = "transcript.group_end"       // toolResult time of a parallel group: the group's end
	MethodTranscriptUsage   = "transcript.usage"           // usage as OpenClaw recorded it
	MethodTranscriptRunID   = "transcript.run_id"          // __openclaw.runId / idempotencyKey
	MethodOrderSegment      = "order.segment"              // run = user message up to the next user message
	MethodIDExact           = "id.exact"                   // toolCall.id == toolResult.toolCallId
	MethodOrderNextCall     = "order.next_call"            // the first LLM call after the tool result on the branch
	MethodInferredCall      = "inferred.unpersisted_call"  // a call implied by an orphan tool result
	MethodIntervalNeighbour = "interval.neighbour"         // bounded by the neighbouring spans
	MethodHookAttemptSum    = "hook.attempt_sum"           // llm_output usage of a single-call attempt
	MethodCompactionEntry   = "transcript.compaction"      // kind: a compaction entry of the transcript
	MethodCompactionID      = "hook.compaction_id"         // kind: a …:compaction:… run id or an internal- session
	MethodCompactionWindow  = "interval.compaction_window" // kind: a hook-only call near a compaction hook or entry
	MethodRunBounds         = "children.bounds"            // run = hull of its children and run hooks
	MethodModelChange       = "transcript.model_change"    // model taken from the latest model_change entry
)

// Evidence explains one field of a span: how it was set, how sure we are,
// and which input lines say so.
type Evidence struct {
	Field      string // "start", "end", "parent", "usage", "emitted_by", "consumed_by", "kind"
	Method     string
	Confidence float64
	Sources    []ingest.Source
	Note       string // what was seen and what was done; see the Note* constants
}

// Notes recorded in evidence. Tests assert them.
const (
	NoteRunnerUp         = "ambiguous hook join: runner-up candidate within the window"
	NoteParallelGroupEnd = "parallel tool group: toolResult time is when the whole group finished"
	NoteNoResult         = "no tool result: end bounded by the next span of the run"
	NoteOrphanResult     = "tool result without its toolCall: emitted by a provider call whose message was not persisted"
	NoteInferredCall     = "provider call inferred from an orphan tool result: its assistant message was not persisted"
	NoteOrphanResultHook = "tool result without its toolCall: emitter is the last unpersisted provider call before it"
	NoteSynthetic        = "assistant message written without a provider call: no chat span"
	NoteHookOnly         = "provider call seen only in hooks: not persisted in the transcript"
	NoteFailedAttempt    = "failed provider attempt seen only in hooks"
	NoteCompactionNoHook = "compaction entry without hooks: start bounded by the previous entry"
	NoteNoEndHook        = "model_call_started without model_call_ended"
	NoteOffPath          = "abandoned branch: not on the active path of the session tree"
	NoteClockSkew        = "hook clock offset from transcript clock corrected"
	NoteLateJoin         = "joined outside the 250 ms window: the only unjoined hook call of the run within 2 s"
	NoteUsageZero        = "all usage counters are 0: treated as unknown"
	NoteForkCopy         = "usage not counted: the same call (id, time, tokens) is already in session"
)

// Link is a span link to another span.
type Link struct {
	Trace    TraceID
	Span     SpanID
	Relation string // "emitted_by", "consumed_by", "spawned", "spawned_by", "consumed_by_attempt"
}

// Span is one reconstructed span.
type Span struct {
	Trace  TraceID
	ID     SpanID
	Parent SpanID // zero for the run (root) span
	Kind   SpanKind
	Name   string
	Start  time.Time
	End    time.Time
	Status Status
	// StatusMessage is the provider error or tool error text (truncated).
	StatusMessage string
	// ErrorType is the provider's error code of a failed call when known
	// ("429", "500"): the OTLP error.type.
	ErrorType string

	AgentID, SessionID, SessionKey, RunID string

	// LLM and compaction spans.
	Provider, Model, ResponseModel, API string
	ResponseID, CallID                  string
	FinishReason                        string
	// Usage is set only on LLM and compaction spans; never summed onto
	// parents. Usage.Known is false when the transcript had no usage.
	Usage ingest.Usage

	// Tool spans.
	ToolName, ToolCallID string
	// ResultSize is the tool result's content size in bytes (0 if none).
	ResultSize int
	// ChildSessionKey/ChildSessionID name the subagent session a
	// sessions_spawn call started.
	ChildSessionKey, ChildSessionID string

	// OffPath marks spans on an abandoned branch of the session tree.
	OffPath bool

	Links []Link
	// Confidence is the minimum of the evidence confidences, in [0,1].
	Confidence float64
	Evidence   []Evidence
	// Inferred lists the fields whose value was inferred rather than read.
	Inferred []string

	// Content, only when requested (ingest.ParseOptions.Content).
	Input, Output string

	forkKey [16]byte // identity of the call for ForkDeduper; zero if none
}

// Duration returns End - Start.
func (s *Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// Link returns the first link with the relation, if any.
func (s *Span) Link(relation string) (Link, bool) {
	for _, l := range s.Links {
		if l.Relation == relation {
			return l, true
		}
	}
	return Link{}, false
}

// Trace is one agent run: a root run span and its LLM, compaction and tool
// spans, root first, then ordered by (start, kind, id).
type Trace struct {
	ID                                    TraceID
	AgentID, SessionID, SessionKey, RunID string
	// Ordinal is the run's position in its session (1-based; hook-only runs
	// after transcript runs).
	Ordinal int
	Spans   []Span
	// Deleted is true when the session is known only from archived copies.
	Deleted bool
	// Subagent is true when the session is a subagent session; then
	// ParentSessionKey names the session that spawned it.
	Subagent         bool
	ParentSessionKey string
}

// Root returns the run span.
func (t *Trace) Root() *Span { return &t.Spans[0] }

// Start and End of the run.
func (t *Trace) Start() time.Time { return t.Spans[0].Start }
func (t *Trace) End() time.Time   { return t.Spans[0].End }
