package ingest

import (
	"bytes"
	"strconv"
	"strings"
)

// The fast decoders below fill the same raw structs as encoding/json would,
// and return errFallback (or a syntax error) whenever they meet something
// they do not decode exactly like it; the caller then uses encoding/json.
// Keys are matched exactly; a key that only case-folds to a known field
// falls back, because encoding/json matches field names case-insensitively.

var entryKeys = []string{"type", "version", "id", "parentId", "timestamp", "cwd", "parentSession", "appendMode",
	"message", "provider", "modelId", "thinkingLevel", "tokensBefore", "tokensAfter", "firstKeptEntryId",
	"fromId", "fromHook", "reason", "customType", "targetId", "label", "name", "__openclaw"}

var messageKeys = []string{"role", "content", "timestamp", "api", "provider", "model", "responseModel", "responseId",
	"turnId", "usage", "stopReason", "endTurn", "errorMessage", "errorCode", "toolCallId", "toolName", "isError",
	"details", "customType", "command", "output", "exitCode", "idempotencyKey", "summary", "__openclaw"}

var usageKeys = []string{"input", "output", "cacheRead", "cacheWrite", "cacheWrite1h", "totalTokens", "reasoningTokens", "cost"}

var blockKeys = []string{"type", "text", "thinking", "id", "name", "arguments", "input", "async", "data"}

// foldsToKnown reports whether key case-folds to one of known (and is not
// an exact match, which the caller handled).
func foldsToKnown(key []byte, known []string) bool {
	for _, k := range known {
		if len(k) == len(key) && strings.EqualFold(k, string(key)) {
			return true
		}
	}
	return false
}

func (s *jscan) runID(dst **struct {
	RunID string `json:"runId"`
}) error {
	if s.peek() == 'n' {
		*dst = nil
		return s.null()
	}
	if *dst == nil {
		*dst = &struct {
			RunID string `json:"runId"`
		}{}
	}
	x := *dst
	return s.object(func(key []byte) error {
		if string(key) == "runId" {
			return s.str(&x.RunID)
		}
		if foldsToKnown(key, []string{"runId"}) {
			return errFallback
		}
		return s.skip()
	})
}

func (s *jscan) entry(r *rawEntry) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "type":
			return s.str(&r.Type)
		case "version":
			return s.intPtr(&r.Version)
		case "id":
			v, err := s.raw()
			r.ID = v
			return err
		case "parentId":
			v, err := s.raw()
			r.ParentID = v
			return err
		case "timestamp":
			v, err := s.raw()
			r.Timestamp = v
			return err
		case "cwd":
			return s.str(&r.Cwd)
		case "parentSession":
			return s.str(&r.ParentSession)
		case "appendMode":
			return s.str(&r.AppendMode)
		case "message":
			if s.peek() != '{' {
				v, err := s.raw()
				r.Message, r.msg = v, nil
				return err
			}
			// Decode the message in the same pass: each byte is read once.
			r.msg = &rawMessage{}
			r.Message = nil
			return s.message(r.msg)
		case "provider":
			return s.str(&r.Provider)
		case "modelId":
			return s.str(&r.ModelID)
		case "thinkingLevel":
			return s.str(&r.ThinkingLevel)
		case "tokensBefore":
			return s.jsonNumber(&r.TokensBefore)
		case "tokensAfter":
			return s.jsonNumber(&r.TokensAfter)
		case "firstKeptEntryId":
			return s.str(&r.FirstKeptEntryID)
		case "fromId":
			return s.str(&r.FromID)
		case "fromHook":
			return s.boolean(&r.FromHook)
		case "reason":
			return s.str(&r.Reason)
		case "customType":
			return s.str(&r.CustomType)
		case "targetId":
			return s.str(&r.TargetID)
		case "label":
			if s.peek() == 'n' {
				r.Label = nil
				return s.null()
			}
			var v string
			if err := s.str(&v); err != nil {
				return err
			}
			r.Label = &v
			return nil
		case "name":
			return s.str(&r.Name)
		case "__openclaw":
			return s.runID(&r.OpenClaw)
		}
		if foldsToKnown(key, entryKeys) {
			return errFallback
		}
		return s.skip()
	})
}

// message fills r from a message object. Content, usage and details are
// kept raw, as in rawMessage; output is only measured.
func (s *jscan) message(r *rawMessage) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "role":
			return s.str(&r.Role)
		case "content":
			return s.content(r)
		case "timestamp":
			v, err := s.raw()
			r.Timestamp = v
			return err
		case "api":
			return s.str(&r.API)
		case "provider":
			return s.str(&r.Provider)
		case "model":
			return s.str(&r.Model)
		case "responseModel":
			return s.str(&r.ResponseModel)
		case "responseId":
			return s.str(&r.ResponseID)
		case "turnId":
			return s.str(&r.TurnID)
		case "usage":
			if s.peek() == 'n' {
				r.Usage = nil
				return s.null()
			}
			if r.Usage == nil {
				r.Usage = &rawUsage{}
			}
			return s.usage(r.Usage)
		case "stopReason":
			return s.str(&r.StopReason)
		case "endTurn":
			if s.peek() == 'n' {
				r.EndTurn = nil
				return s.null()
			}
			var b bool
			if err := s.boolean(&b); err != nil {
				return err
			}
			r.EndTurn = &b
			return nil
		case "errorMessage":
			return s.str(&r.ErrorMessage)
		case "errorCode":
			return s.str(&r.ErrorCode)
		case "toolCallId":
			return s.str(&r.ToolCallID)
		case "toolName":
			return s.str(&r.ToolName)
		case "isError":
			return s.boolean(&r.IsError)
		case "details":
			v, err := s.raw()
			r.Details = v
			return err
		case "customType":
			return s.str(&r.CustomType)
		case "command":
			return s.str(&r.Command)
		case "output":
			if s.peek() == 'n' {
				return s.null()
			}
			n, err := s.strSize()
			r.outputSize = n
			return err
		case "exitCode":
			if s.peek() == 'n' {
				r.ExitCode = nil
				return s.null()
			}
			return s.intPtr(&r.ExitCode)
		case "idempotencyKey":
			return s.str(&r.Idempotency)
		case "summary":
			return s.skipString()
		case "__openclaw":
			return s.runID(&r.OpenClaw)
		}
		if foldsToKnown(key, messageKeys) {
			return errFallback
		}
		return s.skip()
	})
}

// skipString consumes a string (or null) that is decoded but unused.
func (s *jscan) skipString() error {
	if s.peek() == 'n' {
		return s.null()
	}
	_, _, err := s.rawStr()
	return err
}

func (s *jscan) usage(u *rawUsage) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "input":
			return s.jsonNumber(&u.Input)
		case "output":
			return s.jsonNumber(&u.Output)
		case "cacheRead":
			return s.jsonNumber(&u.CacheRead)
		case "cacheWrite":
			return s.jsonNumber(&u.CacheWrite)
		case "cacheWrite1h":
			return s.jsonNumber(&u.CacheWrite1h)
		case "totalTokens":
			return s.jsonNumber(&u.TotalTokens)
		case "reasoningTokens":
			return s.jsonNumber(&u.Reasoning)
		case "cost":
			v, err := s.raw()
			u.Cost = v
			return err
		}
		if foldsToKnown(key, usageKeys) {
			return errFallback
		}
		return s.skip()
	})
}

// block fills rb from a content block. Without content capture, text,
// thinking and image data are measured, not built.
func (s *jscan) block(rb *rawBlock, content bool) error {
	strOrSize := func(dst *string, size *int) error {
		if content {
			if err := s.str(dst); err != nil {
				return err
			}
			*size = len(*dst)
			return nil
		}
		if s.peek() == 'n' {
			return s.null()
		}
		n, err := s.strSize()
		*size = n
		return err
	}
	rb.measured = true
	return s.object(func(key []byte) error {
		switch string(key) {
		case "type":
			return s.str(&rb.Type)
		case "text":
			return strOrSize(&rb.Text, &rb.textSize)
		case "thinking":
			return strOrSize(&rb.Thinking, &rb.thinkingSize)
		case "id":
			return s.str(&rb.ID)
		case "name":
			return s.str(&rb.Name)
		case "arguments":
			v, err := s.raw()
			rb.Arguments = v
			return err
		case "input":
			v, err := s.raw()
			rb.Input = v
			return err
		case "async":
			return s.boolean(&rb.Async)
		case "data":
			var unused string
			return strOrSize(&unused, &rb.dataSize)
		}
		if foldsToKnown(key, blockKeys) {
			return errFallback
		}
		return s.skip()
	})
}

// content decodes a message's content in place, like parseContent.
func (s *jscan) content(r *rawMessage) error {
	var m Message
	switch s.peek() {
	case 'n':
		r.contentDone, r.blocks, r.contentSize = true, nil, 0
		return s.null()
	case '"':
		var b Block
		var err error
		if s.opt.Content {
			err = s.str(&b.Text)
			b.Size = len(b.Text)
		} else {
			b.Size, err = s.strSize()
		}
		if err != nil {
			return err
		}
		b.Kind = BlockText
		m.Blocks = append(m.Blocks, b)
		m.ContentSize += b.Size
	case '{':
		var rb rawBlock
		if err := s.block(&rb, s.opt.Content); err != nil {
			return err
		}
		m.addBlock(&rb, s.opt)
	case '[':
		m.Blocks = []Block{}
		err := s.array(func() error {
			if s.peek() != '{' {
				return errFallback
			}
			var rb rawBlock
			if err := s.block(&rb, s.opt.Content); err != nil {
				return err
			}
			m.addBlock(&rb, s.opt)
			return nil
		})
		if err != nil {
			return err
		}
	default:
		return errFallback
	}
	r.contentDone, r.blocks, r.contentSize = true, m.Blocks, m.ContentSize
	return nil
}

// contentFast decodes content like parseContent; errFallback asks for the
// encoding/json path.
func contentFast(m *Message, raw []byte, opt ParseOptions) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	s := jscan{b: raw}
	switch raw[0] {
	case '"':
		var b Block
		var err error
		if opt.Content {
			err = s.str(&b.Text)
			b.Size = len(b.Text)
		} else {
			b.Size, err = s.strSize()
		}
		if err != nil {
			return err
		}
		b.Kind = BlockText
		m.Blocks = append(m.Blocks, b)
		m.ContentSize += b.Size
		return s.end()
	case '{':
		var rb rawBlock
		if err := s.block(&rb, opt.Content); err != nil {
			return err
		}
		m.addBlock(&rb, opt)
		return s.end()
	case '[':
		if m.Blocks == nil {
			m.Blocks = []Block{}
		}
		err := s.array(func() error {
			if s.peek() != '{' {
				return errFallback
			}
			var rb rawBlock
			if err := s.block(&rb, opt.Content); err != nil {
				return err
			}
			m.addBlock(&rb, opt)
			return nil
		})
		if err != nil {
			return err
		}
		return s.end()
	}
	return errFallback
}

var costKeys = []string{"input", "output", "cacheRead", "cacheWrite", "total", "totalOrigin"}

func (s *jscan) cost(c *rawCost) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "input":
			return s.jsonNumber(&c.Input)
		case "output":
			return s.jsonNumber(&c.Output)
		case "cacheRead":
			return s.jsonNumber(&c.CacheRead)
		case "cacheWrite":
			return s.jsonNumber(&c.CacheWrite)
		case "total":
			return s.jsonNumber(&c.Total)
		case "totalOrigin":
			return s.str(&c.TotalOrigin)
		}
		if foldsToKnown(key, costKeys) {
			return errFallback
		}
		return s.skip()
	})
}

var hookLineKeys = []string{"v", "seq", "ts", "pid", "hook", "event", "ctx"}

var hookFieldKeys = []string{"runId", "callId", "sessionId", "sessionKey", "agentId", "toolCallId", "toolName", "provider",
	"model", "modelProviderId", "modelId", "childSessionKey", "targetSessionKey", "requesterSessionKey", "nextSessionId",
	"previousSessionId", "outcome", "errorCategory", "failureKind", "error", "durationMs", "timeToFirstByteMs", "usage", "success"}

// int64Field decodes an integer field like encoding/json does for int and
// int64: an integral number, or null (unchanged).
func (s *jscan) int64Field(dst *int64) error {
	if s.peek() == 'n' {
		return s.null()
	}
	n, err := s.number()
	if err != nil {
		return errFallback
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return errFallback
	}
	*dst = v
	return nil
}

func (s *jscan) float64Ptr(dst **float64) error {
	if s.peek() == 'n' {
		*dst = nil
		return s.null()
	}
	n, err := s.number()
	if err != nil {
		return errFallback
	}
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return errFallback
	}
	*dst = &v
	return nil
}

func (s *jscan) hookLine(r *rawHookLine) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "v":
			var v int64
			if err := s.int64Field(&v); err != nil {
				return err
			}
			r.V = int(v)
			return nil
		case "seq":
			return s.int64Field(&r.Seq)
		case "ts":
			v, err := s.raw()
			r.TS = v
			return err
		case "pid":
			return s.int64Field(&r.PID)
		case "hook":
			return s.str(&r.Hook)
		case "event":
			return s.hookFields(&r.Event)
		case "ctx":
			return s.hookFields(&r.Ctx)
		}
		if foldsToKnown(key, hookLineKeys) {
			return errFallback
		}
		return s.skip()
	})
}

func (s *jscan) hookFields(dst **rawHookFields) error {
	if s.peek() == 'n' {
		*dst = nil
		return s.null()
	}
	if *dst == nil {
		*dst = &rawHookFields{}
	}
	f := *dst
	return s.object(func(key []byte) error {
		switch string(key) {
		case "runId":
			return s.str(&f.RunID)
		case "callId":
			return s.str(&f.CallID)
		case "sessionId":
			return s.str(&f.SessionID)
		case "sessionKey":
			return s.str(&f.SessionKey)
		case "agentId":
			return s.str(&f.AgentID)
		case "toolCallId":
			return s.str(&f.ToolCallID)
		case "toolName":
			return s.str(&f.ToolName)
		case "provider":
			return s.str(&f.Provider)
		case "model":
			return s.str(&f.Model)
		case "modelProviderId":
			return s.str(&f.ModelProviderID)
		case "modelId":
			return s.str(&f.ModelID)
		case "childSessionKey":
			return s.str(&f.ChildSessionKey)
		case "targetSessionKey":
			return s.str(&f.TargetSessionKey)
		case "requesterSessionKey":
			return s.str(&f.RequesterKey)
		case "nextSessionId":
			return s.str(&f.NextSessionID)
		case "previousSessionId":
			return s.str(&f.PreviousSessionID)
		case "outcome":
			return s.str(&f.Outcome)
		case "errorCategory":
			return s.str(&f.ErrorCategory)
		case "failureKind":
			return s.str(&f.FailureKind)
		case "error":
			v, err := s.raw()
			f.Error = v
			return err
		case "durationMs":
			return s.float64Ptr(&f.DurationMs)
		case "timeToFirstByteMs":
			return s.float64Ptr(&f.TTFB)
		case "usage":
			if s.peek() == 'n' {
				f.Usage = nil
				return s.null()
			}
			if f.Usage == nil {
				f.Usage = &rawUsage{}
			}
			return s.usage(f.Usage)
		case "success":
			if s.peek() == 'n' {
				f.Success = nil
				return s.null()
			}
			var b bool
			if err := s.boolean(&b); err != nil {
				return err
			}
			f.Success = &b
			return nil
		}
		if foldsToKnown(key, hookFieldKeys) {
			return errFallback
		}
		return s.skip()
	})
}
