package iam

import (
	"strings"
	"unicode/utf8"
)

// globMatch reports whether s matches pattern p, in which '*' matches any
// run of characters (across ':' and '/') and '?' exactly one character.
// With esc, '\' makes the next byte of p literal; expand uses it for text
// that comes from policy variables. With fold, ASCII letters match
// regardless of case.
func globMatch(p, s string, esc, fold bool) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0 // the last '*' and where its match ends
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; {
			case c == '*':
				starPx, starSx = px, sx
				px++
				continue
			case c == '?':
				if sx < len(s) {
					_, w := utf8.DecodeRuneInString(s[sx:])
					px, sx = px+1, sx+w
					continue
				}
			default:
				width := 1
				if esc && c == '\\' && px+1 < len(p) {
					c, width = p[px+1], 2
				}
				if sx < len(s) && (s[sx] == c || fold && lowerASCII(s[sx]) == lowerASCII(c)) {
					px, sx = px+width, sx+1
					continue
				}
			}
		}
		// Mismatch: let the last '*' take one more character, if any.
		if starPx >= 0 && starSx < len(s) {
			_, w := utf8.DecodeRuneInString(s[starSx:])
			starSx += w
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// matchAction matches an action pattern case-insensitively.
func matchAction(pattern, action string) bool {
	if isASCII(pattern) && isASCII(action) {
		return globMatch(pattern, action, false, true)
	}
	return globMatch(strings.ToLower(pattern), strings.ToLower(action), false, false)
}

// matchARN matches an ARN against an ARN pattern part by part: each of the
// six colon-separated parts is a glob of its own, so '*' does not cross a
// ':' except in the last part (the resource, which may itself hold colons).
func matchARN(pattern, arn string, esc bool) bool {
	for range 5 {
		pp, prest, ok1 := strings.Cut(pattern, ":")
		ap, arest, ok2 := strings.Cut(arn, ":")
		if !ok1 || !ok2 || !globMatch(pp, ap, esc, false) {
			return false
		}
		pattern, arn = prest, arest
	}
	return globMatch(pattern, arn, esc, false)
}

// arnParts returns the partition, service, account and resource of an ARN.
func arnParts(arn string) (partition, service, account, resource string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return "", "", "", "", false
	}
	var ok1, ok2, ok3, ok4 bool
	partition, rest, ok1 = strings.Cut(rest, ":")
	service, rest, ok2 = strings.Cut(rest, ":")
	_, rest, ok3 = strings.Cut(rest, ":") // region
	account, resource, ok4 = strings.Cut(rest, ":")
	return partition, service, account, resource, ok1 && ok2 && ok3 && ok4
}

// expand resolves the policy variables in a policy value. Variables are
// expanded only in Version 2012-10-17 policies. With glob the result is a
// pattern for globMatch: the text of variables and the ${*} and ${?} escapes
// match literally, and esc reports whether the pattern uses '\' escapes. ok
// is false when a variable is unknown (absent, empty or multi-valued, with
// no default): the value then matches nothing.
//
// Forms: ${key}, ${key, 'default'}, and the escapes ${*}, ${?}, ${$}.
func (e *evaluator) expand(v string, glob bool) (out string, esc, ok bool) {
	if !e.vars || !strings.Contains(v, "${") {
		return v, false, true
	}
	var b strings.Builder
	b.Grow(len(v) + 16)
	literal := func(s string, raw bool) {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if glob && (c == '\\' || !raw && (c == '*' || c == '?')) {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	for {
		i := strings.Index(v, "${")
		if i < 0 {
			literal(v, true)
			break
		}
		end := strings.IndexByte(v[i+2:], '}')
		if end < 0 {
			literal(v, true)
			break
		}
		literal(v[:i], true)
		name := v[i+2 : i+2+end]
		v = v[i+2+end+1:]
		switch name {
		case "*", "?", "$":
			literal(name, false)
			continue
		}
		value, found := e.variable(name)
		if !found {
			return "", false, false
		}
		literal(value, false)
	}
	return b.String(), glob, true
}

// variable returns the value of the variable ${name}, where name may carry
// a default: "aws:PrincipalTag/team, 'none'".
func (e *evaluator) variable(name string) (string, bool) {
	key, def, hasDefault := strings.Cut(name, ",")
	key = strings.TrimSpace(key)
	if hasDefault {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return "", false
		}
		def = def[1 : len(def)-1]
	}
	if values, present := e.lookup(key); present {
		if len(values) == 1 {
			return values[0], true
		}
		return "", false // a multi-valued key cannot be a variable
	}
	return def, hasDefault
}
