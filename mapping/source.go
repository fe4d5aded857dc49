package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
)

// source is a compiled Source: a path into the object, or a template.
type source struct {
	path  []string // a plain `_source.a.b` source; nil for a template
	parts []part   // a template's literal text and placeholders
}

// part is a piece of a template: literal text, or a placeholder's path.
type part struct {
	text string
	path []string // nil for literal text
}

const sourceRoot = "_source"

// parseSource compiles a Source. Its errors complete the sentence
// `source "…" …`.
func parseSource(s string) (source, error) {
	if s == "" {
		return source{}, errors.New("is empty")
	}
	if !strings.Contains(s, "{{") && !strings.Contains(s, "}}") {
		if strings.ContainsAny(s, "{}") {
			return source{}, errors.New("has unbalanced braces")
		}
		p, err := parsePath(s)
		if err != nil {
			return source{}, err
		}
		return source{path: p}, nil
	}
	return parseTemplate(s)
}

// parsePath splits `_source.a.b` into its segments after _source.
func parsePath(s string) ([]string, error) {
	rest, ok := strings.CutPrefix(s, sourceRoot+".")
	if !ok {
		if s == sourceRoot {
			return nil, errors.New("must name a value inside _source, such as _source.email")
		}
		return nil, errors.New("must be a path such as _source.email or a template such as {{_source.first}} {{_source.last}}; only _source may be referenced")
	}
	segs := strings.Split(rest, ".")
	if slices.Contains(segs, "") {
		return nil, errors.New("has an empty path segment")
	}
	return segs, nil
}

// parseTemplate compiles a template: literal text with `{{_source.x}}` (or
// `{{{_source.x}}}`) placeholders.
func parseTemplate(s string) (source, error) {
	var src source
	for i := 0; i < len(s); {
		open := strings.Index(s[i:], "{{")
		if cl := strings.Index(s[i:], "}}"); cl >= 0 && (open < 0 || cl < open) {
			return source{}, fmt.Errorf("has unbalanced braces: %q at offset %d closes nothing", "}}", i+cl)
		}
		if open < 0 {
			if err := addLiteral(&src, s[i:]); err != nil {
				return source{}, err
			}
			break
		}
		if err := addLiteral(&src, s[i:i+open]); err != nil {
			return source{}, err
		}
		start := i + open + 2
		closer := "}}"
		if start < len(s) && s[start] == '{' {
			start, closer = start+1, "}}}"
		}
		end := strings.Index(s[start:], closer)
		if end < 0 {
			return source{}, fmt.Errorf("has unbalanced braces: %q at offset %d is never closed", s[i+open:start], i+open)
		}
		inner := strings.TrimSpace(s[start : start+end])
		if strings.ContainsAny(inner, "{}") {
			return source{}, fmt.Errorf("has unbalanced braces in placeholder %q", s[i+open:start+end+len(closer)])
		}
		if inner != sourceRoot && !strings.HasPrefix(inner, sourceRoot+".") {
			return source{}, fmt.Errorf("has placeholder %q: only _source may be referenced", s[i+open:start+end+len(closer)])
		}
		p, err := parsePath(inner)
		if err != nil {
			return source{}, fmt.Errorf("has placeholder %q that %s", s[i+open:start+end+len(closer)], err)
		}
		src.parts = append(src.parts, part{path: p})
		i = start + end + len(closer)
	}
	return src, nil
}

// addLiteral adds literal template text; single braces are taken for typos.
func addLiteral(src *source, text string) error {
	if text == "" {
		return nil
	}
	if strings.ContainsAny(text, "{}") {
		return fmt.Errorf("has unbalanced braces in %q", text)
	}
	src.parts = append(src.parts, part{text: text})
	return nil
}

// eval reads the source's value in the object root; false means absent.
func (s source) eval(root map[string]any) (string, bool) {
	if s.path != nil {
		return scalar(lookup(root, s.path))
	}
	var b strings.Builder
	found := false
	for _, p := range s.parts {
		if p.path == nil {
			b.WriteString(p.text)
		} else if v, ok := scalar(lookup(root, p.path)); ok {
			b.WriteString(v)
			found = true
		}
	}
	if !found {
		return "", false
	}
	v := collapseSpace(b.String())
	return v, v != ""
}

// lookup follows path from v; it returns nil when the path leads nowhere.
// A member whose name has dots is read by the same path: when a member
// named by one segment leads nowhere, the segments joined with dots name
// one member, the shortest such name first (`a.b.c` reads {"a":{"b.c":…}}
// and {"a.b.c":…}), as CSV columns such as `contact.email` need.
func lookup(v any, path []string) any {
	for i, seg := range path {
		switch x := v.(type) {
		case map[string]any:
			if r := lookup(x[seg], path[i+1:]); r != nil || i == len(path)-1 {
				return r
			}
			name := seg
			for j := i + 1; j < len(path); j++ {
				name += "." + path[j]
				if m, ok := x[name]; ok {
					if r := lookup(m, path[j+1:]); r != nil {
						return r
					}
				}
			}
			return nil
		case []any:
			n, ok := arrayIndex(seg)
			if !ok || n >= len(x) {
				return nil
			}
			v = x[n]
		default:
			return nil
		}
	}
	return v
}

// arrayIndex reads a path segment made of decimal digits.
func arrayIndex(seg string) (int, bool) {
	if seg == "" || len(seg) > 9 {
		return 0, false
	}
	for i := 0; i < len(seg); i++ {
		if seg[i] < '0' || seg[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(seg)
	return n, err == nil
}

// scalar renders a JSON scalar as text; objects, arrays, null and blank
// strings are absent.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			return "", false
		}
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// collapseSpace trims s and turns every inner run of white space into one
// space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

const (
	maxFieldChars      = 255
	maxAdditionalChars = 1000
	maxAttributeName   = 255
)

// parseTarget checks a Target and returns the profile path it names
// (without "_profile.", "" for no target) and the longest value it takes.
// Its errors name the target.
func parseTarget(t string) (string, int, error) {
	if t == "" {
		return "", 0, nil
	}
	rest, ok := strings.CutPrefix(t, "_profile.")
	if !ok {
		return "", 0, fmt.Errorf("target %q is not a profile field: targets look like _profile.FirstName, _profile.Address.City or _profile.Attributes.name", t)
	}
	if name, ok := strings.CutPrefix(rest, "Attributes."); ok {
		if err := checkAttributeName(name); err != nil {
			return "", 0, fmt.Errorf("target %q: %s", t, err)
		}
		return rest, maxFieldChars, nil
	}
	if slices.Contains(profiles.StandardFields, rest) {
		if rest == "AdditionalInformation" {
			return rest, maxAdditionalChars, nil
		}
		return rest, maxFieldChars, nil
	}
	if kind, f, ok := strings.Cut(rest, "."); ok && slices.Contains(profiles.AddressKinds, kind) && slices.Contains(profiles.AddressFields, f) {
		return rest, maxFieldChars, nil
	}
	if rest == "Attributes" {
		return "", 0, fmt.Errorf("target %q needs an attribute name, as in _profile.Attributes.name", t)
	}
	if s := suggestTarget(rest); s != "" {
		return "", 0, fmt.Errorf("target %q is not a profile field (did you mean %q?)", t, "_profile."+s)
	}
	return "", 0, fmt.Errorf("target %q is not a profile field", t)
}

// checkAttributeName enforces the rule on attribute names: 1–255
// characters, no white space, no control characters.
func checkAttributeName(name string) error {
	if name == "" {
		return errors.New("the attribute name is empty")
	}
	if n := utf8.RuneCountInString(name); n > maxAttributeName {
		return fmt.Errorf("the attribute name is %d characters long; the limit is %d", n, maxAttributeName)
	}
	if !utf8.ValidString(name) {
		return errors.New("the attribute name is not valid UTF-8")
	}
	if strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return errors.New("the attribute name must not contain white space or control characters")
	}
	return nil
}

// suggestTarget returns the profile path that differs from p only by case.
func suggestTarget(p string) string {
	for _, f := range profiles.StandardFields {
		if strings.EqualFold(f, p) {
			return f
		}
	}
	for _, k := range profiles.AddressKinds {
		for _, f := range profiles.AddressFields {
			if strings.EqualFold(k+"."+f, p) {
				return k + "." + f
			}
		}
	}
	if len(p) > len("Attributes.") && strings.EqualFold(p[:len("Attributes.")], "Attributes.") {
		return "Attributes." + p[len("Attributes."):]
	}
	return ""
}
