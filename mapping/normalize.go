package mapping

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/openprofiles/profiles"
)

// Normalize returns the searchable form of v for a content type ("" and
// unknown types are STRING). The rules are in the package documentation.
func Normalize(contentType, v string) string {
	if contentType == profiles.ContentPhone {
		return normalizePhone(v)
	}
	// One text, one key: "é" typed as e and a combining accent is the
	// precomposed "é" (Unicode NFC). Text already in NFC, as most is, is
	// returned as it is, without copying.
	v = norm.NFC.String(v)
	switch contentType {
	case profiles.ContentEmail:
		return normalizeEmail(v)
	case profiles.ContentName:
		return strings.ToLower(collapseSpace(v))
	case profiles.ContentNumber:
		s := strings.TrimSpace(v)
		if n, ok := canonicalNumber(s); ok {
			return n
		}
		return s
	}
	return strings.TrimSpace(v)
}

// normalizeEmail lower-cases an address and drops a mailto: prefix. A value
// that is not local@domain is no email: "" (so a phone number read by an
// email field, as in contact records, makes no key).
func normalizeEmail(v string) string {
	s := strings.TrimSpace(v)
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		s = strings.TrimSpace(s[7:])
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(s, " \t") {
		return ""
	}
	return strings.ToLower(s)
}

// normalizePhone writes a phone number as "+" and its digits. A value with
// an "@" is an email address, not a phone: "".
func normalizePhone(v string) string {
	if strings.Contains(v, "@") {
		return ""
	}
	v = stripExtension(v)
	if t := strings.TrimSpace(v); strings.HasPrefix(t, "+") || strings.HasPrefix(t, "00") {
		v = strings.Replace(v, "(0)", "", 1) // the national trunk 0 of "+44 (0)20 …"
	}
	var buf [32]byte
	digits := buf[:0]
	plus := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' && len(digits) == 0:
			plus = true
		}
	}
	international := plus
	if len(digits) >= 2 && digits[0] == '0' && digits[1] == '0' {
		digits, international = digits[2:], true
	}
	if len(digits) == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(len(digits) + 2)
	b.WriteByte('+')
	if !international && nanp(digits) {
		b.WriteByte('1')
	}
	b.Write(digits)
	return b.String()
}

// nanp reports whether digits, written without an international prefix,
// are a North-American number without its country code: ten digits whose
// area code starts with 2-9 (no area code starts with 0 or 1). The
// exchange code is not checked: the AWS documentation's own example,
// (555)-123-4567, has exchange 123.
func nanp(digits []byte) bool {
	return len(digits) == 10 && digits[0] >= '2' && digits[0] <= '9'
}

// PhonePlaceholder reports whether a normalised phone number (Normalize)
// is no one's number: a short code (911), or a withheld caller's
// placeholder (+0, +1 000 000 0000). Such a value makes no key that finds
// or ties a profile (PROFILE keys, the standard _phone key): every caller
// who shows it would land on one profile and see the others' contact
// history. It still is a value: a UNIQUE key, searchable as stored before.
func PhonePlaceholder(normalized string) bool {
	digits, nonZero := 0, 0
	for _, c := range normalized {
		if c >= '0' && c <= '9' {
			digits++
			if c != '0' {
				nonZero++
			}
		}
	}
	return digits < 7 || nonZero < 3
}

// stripExtension removes an extension (a mark and digits) from the end of a
// phone number, when digits remain before it.
func stripExtension(v string) string {
	s := strings.TrimRightFunc(v, unicode.IsSpace)
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) || i == 0 {
		return v
	}
	j := i
	for j > 0 && (s[j-1] == ' ' || s[j-1] == ':' || s[j-1] == '\t') {
		j--
	}
	// Marks that introduce an extension, longest first.
	for _, m := range [...]string{"extension", "ext.", "ext", "x", "#"} {
		if j < len(m) || !strings.EqualFold(s[j-len(m):j], m) {
			continue
		}
		rest := s[:j-len(m)]
		if rest != "" && isASCIILetter(rest[len(rest)-1]) {
			return v // part of a word, not an extension mark
		}
		if strings.ContainsAny(rest, "0123456789") {
			return rest
		}
		return v
	}
	return v
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// maxNumberExponent bounds the decimal exponent canonicalNumber expands.
const maxNumberExponent = 1000

// canonicalNumber writes a decimal number without leading or trailing
// zeros, exponent or "+". It reports false for anything that is not a
// plain decimal number.
func canonicalNumber(s string) (string, bool) {
	i, neg := 0, false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var buf [64]byte
	mant := buf[:0]
	point := -1
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			mant = append(mant, c)
		} else if c == '.' && point < 0 {
			point = len(mant)
		} else {
			break
		}
	}
	if len(mant) == 0 {
		return "", false
	}
	if point < 0 {
		point = len(mant)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		start, exp := i, 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if exp = exp*10 + int(s[i]-'0'); exp > maxNumberExponent {
				return "", false
			}
		}
		if i == start {
			return "", false
		}
		if expNeg {
			exp = -exp
		}
		point += exp
	}
	if i != len(s) {
		return "", false
	}
	lead := 0
	for lead < len(mant) && mant[lead] == '0' {
		lead++
	}
	if lead == len(mant) {
		return "0", true
	}
	mant, point = mant[lead:], point-lead
	for mant[len(mant)-1] == '0' {
		mant = mant[:len(mant)-1]
	}
	if point > maxNumberExponent || point < -maxNumberExponent {
		return "", false
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case point <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.Write(mant)
	case point >= len(mant):
		b.Write(mant)
		b.WriteString(strings.Repeat("0", point-len(mant)))
	default:
		b.Write(mant[:point])
		b.WriteByte('.')
		b.Write(mant[point:])
	}
	return b.String(), true
}
