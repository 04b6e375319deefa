package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jscan is a small validating JSON scanner over one line. It decodes only
// what the caller asks for and skips everything else without allocating,
// which is what makes the transcript parser fast: tool outputs and thinking
// text are most of the bytes and are never needed as strings.
//
// It validates the whole input as strictly as encoding/json does, but any
// case it does not handle exactly like encoding/json (escaped or
// case-folded keys, unusual types) is reported as errFallback, and the
// caller then decodes the line with encoding/json. parseEntryFast is
// therefore equivalent to parseEntrySlow by construction, and
// FuzzFastMatchesSlow checks it.
type jscan struct {
	b     []byte
	i     int
	opt   ParseOptions
	slen  int       // decoded length of the last string scanned
	cache *strCache // may be nil
	depth int       // objects and arrays open around s.i
}

// maxDepth is encoding/json's nesting limit. Deeper input falls back to
// encoding/json, which rejects it: without the limit a line of millions
// of '[' would recurse until the goroutine stack limit kills the process,
// and would be accepted here but rejected by encoding/json.
const maxDepth = 10000

// enter counts one more open object or array; leave undoes it.
func (s *jscan) enter() error {
	if s.depth++; s.depth > maxDepth {
		return errFallback
	}
	return nil
}

func (s *jscan) leave() { s.depth-- }

// strCache hands out one string for the short values that repeat from line
// to line (session, run and agent ids, session keys, provider, model and
// tool names), so that decoding them does not allocate each time. It is a
// small direct-mapped table: a collision only costs an allocation.
type strCache struct {
	slots [1024]string
}

// get returns string(b), from the cache when it holds it.
func (c *strCache) get(b []byte) string {
	if c == nil || len(b) > 64 || len(b) < 2 {
		return string(b)
	}
	var lo, hi uint64
	if len(b) >= 8 {
		lo = binary.LittleEndian.Uint64(b)
		hi = binary.LittleEndian.Uint64(b[len(b)-8:])
	} else {
		for _, x := range b {
			lo = lo<<8 | uint64(x)
		}
	}
	h := ((lo*0x9e3779b97f4a7c15 ^ hi*0xc2b2ae3d27d4eb4f) + uint64(len(b))) * 0x9e3779b97f4a7c15 >> 54
	if v := c.slots[h]; v == string(b) {
		return v
	}
	v := string(b)
	c.slots[h] = v
	return v
}

var (
	errFallback = errors.New("fallback to encoding/json")
	errSyntax   = errors.New("syntax")
)

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jscan) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// strEnd validates the string starting at s.i (a '"') and returns the
// index just past its closing quote and whether it contains escapes; the
// decoded length of the string is left in s.slen.
//
// Strings are most of the bytes (tool output, thinking), so the scan looks
// at 8 bytes at a time for the only bytes that matter — a quote, a
// backslash or a control character — and validates escapes one by one.
func (s *jscan) strEnd() (int, bool, error) {
	b := s.b
	i := s.i + 1
	esc := false
	shrink := 0 // raw bytes minus decoded bytes of the escapes seen
	for {
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			m := (x - swarLo*0x20) & ^x & swarHi // bytes < 0x20
			q := x ^ (swarLo * '"')
			m |= (q - swarLo) & ^q & swarHi // bytes == '"'
			e := x ^ (swarLo * '\\')
			m |= (e - swarLo) & ^e & swarHi // bytes == '\\'
			m |= x & swarHi                 // non-ASCII: UTF-8 to check
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return 0, false, errSyntax
		}
		switch c := b[i]; {
		case c == '"':
			s.slen = i - s.i - 1 - shrink
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, false, errSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
				shrink++
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return 0, false, errSyntax
				}
				r, n := decodeU(b[i:])
				shrink += n - utf8.RuneLen(r)
				i += n
			default:
				return 0, false, errSyntax
			}
		case c < 0x20:
			return 0, false, errSyntax
		case c >= 0x80:
			// A run of non-ASCII bytes must be valid UTF-8; if not, the
			// caller's encoding/json path replaces the bad bytes.
			j := i + 1
			for j < len(b) && b[j] >= 0x80 {
				j++
			}
			if !utf8.Valid(b[i:j]) {
				return 0, false, errFallback
			}
			i = j
		default:
			i++
		}
	}
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// rawStr consumes a string and returns its raw content (between the
// quotes) and whether it has escapes.
func (s *jscan) rawStr() ([]byte, bool, error) {
	if s.peek() != '"' {
		return nil, false, errFallback
	}
	end, esc, err := s.strEnd()
	if err != nil {
		return nil, false, err
	}
	raw := s.b[s.i+1 : end-1]
	s.i = end
	return raw, esc, nil
}

// str consumes a string value; null leaves *dst unchanged (as
// encoding/json does for a string field).
func (s *jscan) str(dst *string) error {
	if s.peek() == 'n' {
		return s.null()
	}
	raw, esc, err := s.rawStr()
	if err != nil {
		return err
	}
	if !esc {
		*dst = s.cache.get(raw)
		return nil
	}
	*dst = unescape(raw)
	return nil
}

// strSize consumes a string and returns its decoded length in bytes without
// building it.
func (s *jscan) strSize() (int, error) {
	if _, _, err := s.rawStr(); err != nil {
		return 0, err
	}
	return s.slen, nil
}

func (s *jscan) null() error {
	if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return s.delimAfterLiteral()
	}
	return errSyntax
}

func (s *jscan) delimAfterLiteral() error {
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r', ',', '}', ']':
		default:
			return errSyntax
		}
	}
	return nil
}

// boolean consumes true/false; null leaves *dst unchanged.
func (s *jscan) boolean(dst *bool) error {
	switch s.peek() {
	case 't':
		if bytes.HasPrefix(s.b[s.i:], []byte("true")) {
			s.i += 4
			*dst = true
			return s.delimAfterLiteral()
		}
	case 'f':
		if bytes.HasPrefix(s.b[s.i:], []byte("false")) {
			s.i += 5
			*dst = false
			return s.delimAfterLiteral()
		}
	case 'n':
		return s.null()
	}
	return errFallback
}

// number consumes a JSON number and returns its text.
func (s *jscan) number() ([]byte, error) {
	s.ws()
	b, i := s.b, s.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, errSyntax
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, errSyntax
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return b[start:i], s.delimAfterLiteral()
}

// jsonNumber decodes what encoding/json accepts for a json.Number field: a
// number, a string holding a valid number, or null (unchanged).
func (s *jscan) jsonNumber(dst *json.Number) error {
	switch c := s.peek(); {
	case c == 'n':
		return s.null()
	case c == '"':
		raw, esc, err := s.rawStr()
		if err != nil {
			return err
		}
		if esc || !isNumber(raw) {
			return errFallback
		}
		*dst = json.Number(raw)
		return nil
	case c == '-' || c >= '0' && c <= '9':
		n, err := s.number()
		*dst = json.Number(n)
		return err
	}
	return errFallback
}

func isNumber(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	s := jscan{b: b}
	_, err := s.number()
	return err == nil && s.i == len(b)
}

// intPtr decodes an *int field: an integer number, or null (unchanged).
func (s *jscan) intPtr(dst **int) error {
	if s.peek() == 'n' {
		return s.null()
	}
	n, err := s.number()
	if err != nil {
		return errFallback
	}
	v, err := strconv.ParseInt(string(n), 10, 0)
	if err != nil {
		return errFallback
	}
	x := int(v)
	*dst = &x
	return nil
}

// raw consumes any value and returns its bytes (json.RawMessage semantics).
func (s *jscan) raw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skip(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// skip consumes and validates any value.
func (s *jscan) skip() error {
	switch c := s.peek(); {
	case c == '"':
		end, _, err := s.strEnd()
		if err != nil {
			return err
		}
		s.i = end
		return nil
	case c == '{':
		return s.object(func(key []byte) error { return s.skip() })
	case c == '[':
		return s.array(func() error { return s.skip() })
	case c == 't', c == 'f':
		var b bool
		return s.boolean(&b)
	case c == 'n':
		return s.null()
	case c == '-' || c >= '0' && c <= '9':
		_, err := s.number()
		return err
	}
	return errSyntax
}

// object iterates the members of an object; fn must consume the value.
// Keys with escapes fall back (encoding/json unescapes them).
func (s *jscan) object(fn func(key []byte) error) error {
	if s.peek() != '{' {
		return errFallback
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return errSyntax
		}
		key, esc, err := s.rawStr()
		if err != nil {
			return err
		}
		if esc {
			return errFallback
		}
		if s.peek() != ':' {
			return errSyntax
		}
		s.i++
		if err := fn(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

func (s *jscan) array(fn func() error) error {
	if s.peek() != '[' {
		return errFallback
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.i++
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// end checks that only whitespace follows the top-level value.
func (s *jscan) end() error {
	s.ws()
	if s.i != len(s.b) {
		return errSyntax
	}
	return nil
}

// unescape decodes the content of a JSON string with escapes the way
// encoding/json does (invalid surrogates become U+FFFD).
func unescape(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			out = append(out, raw[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := decodeU(raw[i:])
			out = utf8.AppendRune(out, r)
			i += n
			continue
		}
		i += 2
	}
	return string(out)
}

// decodeU decodes \uXXXX (and a following low surrogate) at the start of
// b, returning the rune and the bytes consumed; like encoding/json, an
// unpaired surrogate is U+FFFD.
func decodeU(b []byte) (rune, int) {
	r := hex4(b[2:6])
	if utf16.IsSurrogate(r) {
		if len(b) >= 12 && b[6] == '\\' && b[7] == 'u' && isHex4(b[8:12]) {
			if dec := utf16.DecodeRune(r, hex4(b[8:12])); dec != utf8.RuneError {
				return dec, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r, 6
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
