package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// This file is a small JSON reader that keeps the position of every value,
// so that grammar errors can name a line and column, and that rejects
// duplicate keys (a policy whose meaning depends on which duplicate a parser
// keeps is a policy nobody can review).

// Kinds of JSON values.
const (
	kindObject = iota + 1
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

// maxDepth bounds nesting. The deepest valid policy value is
// document > Statement list > statement > Condition > operator > key list: 6.
const maxDepth = 8

// node is a JSON value and where it starts in the document.
type node struct {
	kind    int
	off     int      // byte offset of the first byte of the value
	text    string   // string value, number literal, "true"/"false"
	elems   []node   // array elements
	members []member // object members, in document order
}

type member struct {
	key    string
	keyOff int
	val    node
}

// get returns the member named key of an object node.
func (n *node) get(key string) (*member, bool) {
	for i := range n.members {
		if n.members[i].key == key {
			return &n.members[i], true
		}
	}
	return nil, false
}

// kindName names the kind of n for error messages.
func (n *node) kindName() string {
	switch n.kind {
	case kindObject:
		return "an object"
	case kindArray:
		return "a list"
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindBool:
		return "a boolean"
	}
	return "null"
}

// reader reads one JSON document.
type reader struct {
	data []byte
	pos  int
	err  *posError
}

// posError is an error at a byte offset; Parse turns it into a SyntaxError.
type posError struct {
	off int
	msg string
}

func (e *posError) Error() string { return e.msg }

func errAt(off int, format string, args ...any) *posError {
	return &posError{off: off, msg: fmt.Sprintf(format, args...)}
}

// readJSON parses data as exactly one JSON value.
func readJSON(data []byte) (node, *posError) {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, w := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && w == 1 {
				break
			}
			off += w
		}
		return node{}, errAt(off, "invalid UTF-8 in document")
	}
	r := &reader{data: data}
	r.space()
	if r.pos == len(data) {
		return node{}, errAt(r.pos, "empty document")
	}
	n, err := r.value(0)
	if err != nil {
		return node{}, err
	}
	r.space()
	if r.pos < len(data) {
		return node{}, errAt(r.pos, "unexpected %s after the end of the policy document", r.describe())
	}
	return n, nil
}

func (r *reader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// describe names the character at r.pos for error messages.
func (r *reader) describe() string {
	if r.pos >= len(r.data) {
		return "end of document"
	}
	c, _ := utf8.DecodeRune(r.data[r.pos:])
	return fmt.Sprintf("character %q", c)
}

func (r *reader) value(depth int) (node, *posError) {
	if depth >= maxDepth {
		return node{}, errAt(r.pos, "JSON nested too deeply (more than %d levels)", maxDepth)
	}
	if r.pos >= len(r.data) {
		return node{}, errAt(r.pos, "unexpected end of document, expecting a value")
	}
	start := r.pos
	switch c := r.data[r.pos]; {
	case c == '{':
		return r.object(depth)
	case c == '[':
		return r.array(depth)
	case c == '"':
		s, err := r.str()
		return node{kind: kindString, off: start, text: s}, err
	case c == '-' || ('0' <= c && c <= '9'):
		lit, err := r.number()
		return node{kind: kindNumber, off: start, text: lit}, err
	case bytes.HasPrefix(r.data[r.pos:], []byte("true")):
		r.pos += 4
		return node{kind: kindBool, off: start, text: "true"}, nil
	case bytes.HasPrefix(r.data[r.pos:], []byte("false")):
		r.pos += 5
		return node{kind: kindBool, off: start, text: "false"}, nil
	case bytes.HasPrefix(r.data[r.pos:], []byte("null")):
		r.pos += 4
		return node{kind: kindNull, off: start}, nil
	}
	return node{}, errAt(r.pos, "unexpected %s, expecting a value", r.describe())
}

func (r *reader) object(depth int) (node, *posError) {
	n := node{kind: kindObject, off: r.pos}
	r.pos++ // {
	r.space()
	if r.pos < len(r.data) && r.data[r.pos] == '}' {
		r.pos++
		return n, nil
	}
	for {
		r.space()
		if r.pos >= len(r.data) || r.data[r.pos] != '"' {
			return node{}, errAt(r.pos, "unexpected %s, expecting a quoted key", r.describe())
		}
		keyOff := r.pos
		key, err := r.str()
		if err != nil {
			return node{}, err
		}
		if _, dup := n.get(key); dup {
			return node{}, errAt(keyOff, "duplicate key %q", key)
		}
		r.space()
		if r.pos >= len(r.data) || r.data[r.pos] != ':' {
			return node{}, errAt(r.pos, "unexpected %s, expecting ':' after key %q", r.describe(), key)
		}
		r.pos++
		r.space()
		val, err := r.value(depth + 1)
		if err != nil {
			return node{}, err
		}
		n.members = append(n.members, member{key: key, keyOff: keyOff, val: val})
		r.space()
		if r.pos < len(r.data) && r.data[r.pos] == ',' {
			r.pos++
			continue
		}
		if r.pos < len(r.data) && r.data[r.pos] == '}' {
			r.pos++
			return n, nil
		}
		return node{}, errAt(r.pos, "unexpected %s, expecting ',' or '}'", r.describe())
	}
}

func (r *reader) array(depth int) (node, *posError) {
	n := node{kind: kindArray, off: r.pos}
	r.pos++ // [
	r.space()
	if r.pos < len(r.data) && r.data[r.pos] == ']' {
		r.pos++
		n.elems = []node{}
		return n, nil
	}
	for {
		r.space()
		val, err := r.value(depth + 1)
		if err != nil {
			return node{}, err
		}
		n.elems = append(n.elems, val)
		r.space()
		if r.pos < len(r.data) && r.data[r.pos] == ',' {
			r.pos++
			continue
		}
		if r.pos < len(r.data) && r.data[r.pos] == ']' {
			r.pos++
			return n, nil
		}
		return node{}, errAt(r.pos, "unexpected %s, expecting ',' or ']'", r.describe())
	}
}

// str reads a quoted string at r.pos. The token is checked here and decoded
// by encoding/json, which knows every escape and surrogate rule.
func (r *reader) str() (string, *posError) {
	start := r.pos
	r.pos++ // opening quote
	escaped := false
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			r.pos++
			tok := r.data[start:r.pos]
			if !escaped {
				return string(tok[1 : len(tok)-1]), nil
			}
			var s string
			if err := json.Unmarshal(tok, &s); err != nil {
				return "", errAt(start, "invalid string: %v", err)
			}
			return s, nil
		case c < 0x20:
			return "", errAt(r.pos, "control character U+%04X in string; write it as an escape", c)
		case c == '\\':
			escaped = true
			if r.pos+1 >= len(r.data) {
				r.pos++
				return "", errAt(r.pos, "unexpected end of document in string")
			}
			switch e := r.data[r.pos+1]; e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.pos += 2
			case 'u':
				if r.pos+6 > len(r.data) || !isHex4(r.data[r.pos+2:r.pos+6]) {
					return "", errAt(r.pos, `invalid \u escape in string; want four hex digits`)
				}
				r.pos += 6
			default:
				return "", errAt(r.pos, "invalid escape %q in string", "\\"+string(rune(e)))
			}
		default:
			r.pos++
		}
	}
	return "", errAt(start, "unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// number reads a JSON number at r.pos and returns its literal text.
func (r *reader) number() (string, *posError) {
	start := r.pos
	digits := func() int {
		n := 0
		for r.pos < len(r.data) && '0' <= r.data[r.pos] && r.data[r.pos] <= '9' {
			r.pos++
			n++
		}
		return n
	}
	if r.data[r.pos] == '-' {
		r.pos++
	}
	intStart := r.pos
	if digits() == 0 {
		return "", errAt(r.pos, "invalid number: expecting a digit")
	}
	if r.data[intStart] == '0' && r.pos-intStart > 1 {
		return "", errAt(intStart, "invalid number: leading zero")
	}
	if r.pos < len(r.data) && r.data[r.pos] == '.' {
		r.pos++
		if digits() == 0 {
			return "", errAt(r.pos, "invalid number: expecting a digit after '.'")
		}
	}
	if r.pos < len(r.data) && (r.data[r.pos] == 'e' || r.data[r.pos] == 'E') {
		r.pos++
		if r.pos < len(r.data) && (r.data[r.pos] == '+' || r.data[r.pos] == '-') {
			r.pos++
		}
		if digits() == 0 {
			return "", errAt(r.pos, "invalid number: expecting a digit in the exponent")
		}
	}
	return string(r.data[start:r.pos]), nil
}

// position converts a byte offset of data to a 1-based line and column; the
// column counts code points.
func position(data []byte, off int) (line, col int) {
	if off > len(data) {
		off = len(data)
	}
	line, col = 1, 1
	for i := 0; i < off; {
		if data[i] == '\n' {
			line, col = line+1, 1
			i++
			continue
		}
		_, w := utf8.DecodeRune(data[i:off])
		i += w
		col++
	}
	return line, col
}
