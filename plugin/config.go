package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// object is one JSON object with its members in file order. Values stay raw
// bytes, so members we do not touch are written back exactly as they were
// (apart from whitespace).
type object struct {
	members []member
}

type member struct {
	key   string
	value json.RawMessage
}

var (
	errNotObject = errors.New("not a JSON object")
	errDuplicate = errors.New("duplicate key")
)

// parseObject decodes data, which must hold exactly one JSON object.
// Duplicate keys are an error: JSON5 keeps the last one, and editing either
// copy would be a guess.
func parseObject(data []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	o := &object{}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected %v", tok)
		}
		if seen[key] {
			return nil, fmt.Errorf("%w %q", errDuplicate, key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		o.members = append(o.members, member{key, raw})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the top-level object")
		}
		return nil, err
	}
	return o, nil
}

func (o *object) index(key string) int {
	for i, m := range o.members {
		if m.key == key {
			return i
		}
	}
	return -1
}

func (o *object) get(key string) (json.RawMessage, bool) {
	if i := o.index(key); i >= 0 {
		return o.members[i].value, true
	}
	return nil, false
}

// set stores v under key, in place if the key exists, else at the end. It
// reports whether the stored value changed (compared as decoded JSON).
func (o *object) set(key string, v any) bool {
	raw := marshal(v)
	if i := o.index(key); i >= 0 {
		if jsonEqual(o.members[i].value, raw) {
			return false
		}
		o.members[i].value = raw
		return true
	}
	o.members = append(o.members, member{key, raw})
	return true
}

// setRaw is set for a value that is already encoded.
func (o *object) setRaw(key string, raw json.RawMessage) {
	if i := o.index(key); i >= 0 {
		o.members[i].value = raw
		return
	}
	o.members = append(o.members, member{key, raw})
}

func (o *object) delete(key string) bool {
	i := o.index(key)
	if i < 0 {
		return false
	}
	o.members = append(o.members[:i], o.members[i+1:]...)
	return true
}

// child returns the object stored under key, or an empty object when the key
// is absent. A present value that is not an object is errNotObject.
func (o *object) child(key string) (*object, bool, error) {
	raw, ok := o.get(key)
	if !ok {
		return &object{}, false, nil
	}
	c, err := parseObject(raw)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", key, err)
	}
	return c, true, nil
}

// encode writes o compactly; members keep their raw bytes.
func (o *object) encode(buf *bytes.Buffer) {
	buf.WriteByte('{')
	for i, m := range o.members {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(marshal(m.key))
		buf.WriteByte(':')
		buf.Write(m.value)
	}
	buf.WriteByte('}')
}

func (o *object) raw() json.RawMessage {
	var buf bytes.Buffer
	o.encode(&buf)
	return buf.Bytes()
}

// format returns o as indented JSON with a trailing newline.
func (o *object) format(indent string) ([]byte, error) {
	var out bytes.Buffer
	if err := json.Indent(&out, o.raw(), "", indent); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// marshal encodes v without HTML escaping. It panics on values that cannot be
// encoded, which only our own option types could produce.
func marshal(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("invariant violation: marshal: " + err.Error())
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// detectIndent returns the indentation unit of a formatted JSON file: the
// leading whitespace of its first indented line, or two spaces.
func detectIndent(data []byte) string {
	for _, line := range bytes.Split(data, []byte("\n"))[1:] {
		line = bytes.TrimRight(line, "\r")
		trimmed := bytes.TrimLeft(line, " \t")
		if len(trimmed) == 0 || len(trimmed) == len(line) {
			continue
		}
		ws := line[:len(line)-len(trimmed)]
		if bytes.Count(ws, []byte(" ")) == len(ws) || bytes.Count(ws, []byte("\t")) == len(ws) {
			return string(ws)
		}
		break
	}
	return "  "
}
