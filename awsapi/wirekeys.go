package awsapi

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Member names match exactly, as in AWS's JSON protocols: encoding/json
// would also take "firstname" or "FIRSTNAME" for FirstName when the body
// has no "FirstName". Before the body is decoded, exactKeys walks it along
// the request's shapes and blanks the names that differ from a member's
// only in case, so that the decoder ignores them as it ignores any member
// the model does not know. A body without such names is not copied.

// wireObject is a structure of the model as the body names its members;
// the generator writes these methods for every structure.
type wireObject interface {
	// wireMember returns how the value of member name is read, false if
	// the structure has no member of exactly that name.
	wireMember(name []byte) (wireValue, bool)
	// wireFolds reports whether name equals a member's name but for case
	// (Unicode simple folding, as encoding/json matches).
	wireFolds(name []byte) bool
}

// wireValue is how a member's value is read: containers, outermost first
// ('l' a list, 'm' a map), around a structure elem; a zero wireValue is a
// value not looked into (a scalar, or a list or map of scalars).
type wireValue struct {
	containers string
	elem       wireObject
}

func foldsAny(name []byte, members ...string) bool {
	for _, m := range members {
		if strings.EqualFold(string(name), m) {
			return true
		}
	}
	return false
}

// maxKeyScanDepth bounds the nesting exactKeys follows, as encoding/json
// bounds its own (10000): deeper, the decoder refuses the body anyway.
const maxKeyScanDepth = 10000

// exactKeys returns body with the names of members that differ from a
// member of in's shape only in case blanked (spaces in their quotes, so
// that offsets in the decoder's errors stay those of the body), or body
// itself if there are none. A body that is not JSON is returned as it is:
// the decoder says what is wrong with it.
func exactKeys(body []byte, in wireObject) []byte {
	k := keyScan{b: body}
	if k.value(0, wireValue{elem: in}, 0) < 0 || k.out == nil {
		return body
	}
	return k.out
}

// keyScan walks a JSON text; out is the text with blanked names, nil
// until there is one.
type keyScan struct {
	b   []byte
	out []byte
}

func (k *keyScan) blank(from, to int) {
	if k.out == nil {
		k.out = bytes.Clone(k.b)
	}
	for i := from; i < to; i++ {
		k.out[i] = ' '
	}
}

func (k *keyScan) space(i int) int {
	for i < len(k.b) {
		switch k.b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// str returns the index after the string that starts at i, -1 if it does
// not end, and whether it has escapes.
func (k *keyScan) str(i int) (int, bool) {
	esc := false
	for j := i + 1; j < len(k.b); j++ {
		switch k.b[j] {
		case '\\':
			esc = true
			j++
		case '"':
			return j + 1, esc
		}
	}
	return -1, esc
}

// skip returns the index after the value at i, -1 if it does not end.
func (k *keyScan) skip(i int) int {
	if i >= len(k.b) {
		return -1
	}
	switch k.b[i] {
	case '"':
		end, _ := k.str(i)
		return end
	case '{', '[':
	default: // a number or a literal
		for i < len(k.b) {
			switch k.b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
	depth := 0
	for i < len(k.b) {
		switch k.b[i] {
		case '"':
			end, _ := k.str(i)
			if end < 0 {
				return -1
			}
			i = end
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return -1
}

// value walks the value at i, read as w; it returns the index after it,
// -1 if the text is not JSON (or nests too deep).
func (k *keyScan) value(i int, w wireValue, depth int) int {
	i = k.space(i)
	if i >= len(k.b) || depth > maxKeyScanDepth {
		return -1
	}
	if w.elem == nil {
		return k.skip(i)
	}
	if w.containers != "" && w.containers[0] == 'l' {
		if k.b[i] != '[' {
			return k.skip(i) // of the wrong type: the decoder says so
		}
		inner := wireValue{w.containers[1:], w.elem}
		if j := k.space(i + 1); j < len(k.b) && k.b[j] == ']' {
			return j + 1
		}
		i++
		for {
			if i = k.value(i, inner, depth+1); i < 0 {
				return -1
			}
			if i = k.space(i); i >= len(k.b) {
				return -1
			}
			switch k.b[i] {
			case ',':
				i++
			case ']':
				return i + 1
			default:
				return -1
			}
		}
	}
	if k.b[i] != '{' {
		return k.skip(i)
	}
	// A map (its names are data) or a structure (its names are members).
	isMap := w.containers != ""
	var inner wireValue
	if isMap {
		inner = wireValue{w.containers[1:], w.elem}
	}
	if j := k.space(i + 1); j < len(k.b) && k.b[j] == '}' {
		return j + 1
	}
	i++
	for {
		if i = k.space(i); i >= len(k.b) || k.b[i] != '"' {
			return -1
		}
		end, esc := k.str(i)
		if end < 0 {
			return -1
		}
		colon := k.space(end)
		if colon >= len(k.b) || k.b[colon] != ':' {
			return -1
		}
		mw := inner
		if !isMap {
			name := k.b[i+1 : end-1]
			if esc {
				var s string
				if json.Unmarshal(k.b[i:end], &s) != nil {
					return -1
				}
				name = []byte(s)
			}
			var ok bool
			if mw, ok = w.elem.wireMember(name); !ok && w.elem.wireFolds(name) {
				k.blank(i+1, end-1)
			}
		}
		if i = k.value(colon+1, mw, depth+1); i < 0 {
			return -1
		}
		if i = k.space(i); i >= len(k.b) {
			return -1
		}
		switch k.b[i] {
		case ',':
			i++
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}
