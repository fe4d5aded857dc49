package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// javaLayout converts a Java DateTimeFormatter / SimpleDateFormat pattern to
// a Go time layout. Supported pattern letters (n = how many times the letter
// is repeated):
//
//	y, u   year: yy two digits, y/yyy/yyyy four digits
//	M, L   month: M 1, MM 01, MMM Jan, MMMM January
//	d      day of month: d 2, dd 02
//	D      day of year: DDD only (002)
//	E      day of week: E/EE/EEE Mon, EEEE Monday
//	a      AM/PM
//	H      hour 0–23: H, HH
//	h      hour 1–12: h 3, hh 03
//	m, s   minute, second: one or two letters
//	S      fraction of second, 1–9 digits; must follow a literal '.' or ','
//	z      zone abbreviation (z, zz, zzz): MST
//	Z      offset: Z/ZZ/ZZZ -0700, ZZZZZ -07:00 or Z
//	X      offset or Z: X -07, XX -0700, XXX -07:00, XXXX -070000, XXXXX -07:00:00
//	x      offset: x -07, xx -0700, xxx -07:00, xxxx -070000, xxxxx -07:00:00
//
// Text in single quotes is literal (two quotes in a row stand for one quote);
// characters other than ASCII letters are literal too, except the reserved
// [ ] { } #. The pattern must contain a year. Go layouts have no escapes, so literal text that Go
// would read as a layout element (digits, "Jan", "Mon", "PM", "MST", "_2" …)
// is refused.
func javaLayout(pattern string) (string, error) {
	if pattern == "" {
		return "", errors.New("the pattern is empty")
	}
	var segs []layoutSeg
	hasYear := false
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			lit, n, err := quoted(pattern[i:])
			if err != nil {
				return "", err
			}
			segs = appendLiteral(segs, lit)
			i += n
		case isASCIILetter(c):
			n := 1
			for i+n < len(pattern) && pattern[i+n] == c {
				n++
			}
			layout, err := letterLayout(c, n)
			if err != nil {
				return "", err
			}
			seg := layoutSeg{layout: layout}
			if c == 'S' {
				if len(segs) == 0 || !segs[len(segs)-1].literal || !strings.HasSuffix(segs[len(segs)-1].text, ".") && !strings.HasSuffix(segs[len(segs)-1].text, ",") {
					return "", errors.New("the fraction of second 'S' must follow a literal '.' or ','")
				}
				seg.fraction = true
			}
			hasYear = hasYear || c == 'y' || c == 'u'
			segs = append(segs, seg)
			i += n
		case strings.IndexByte("[]{}#", c) >= 0:
			return "", fmt.Errorf("the character %q is not supported (optional sections and reserved characters are not)", c)
		default:
			segs = appendLiteral(segs, string(c))
			i++
		}
	}
	if !hasYear {
		return "", errors.New("the pattern must contain a year (y or u)")
	}
	return joinLayout(segs)
}

// layoutSeg is one element of a converted pattern.
type layoutSeg struct {
	literal  bool
	text     string // literal text
	layout   string // Go layout element
	fraction bool   // a fraction-of-second element, written after its '.' or ','
}

func appendLiteral(segs []layoutSeg, text string) []layoutSeg {
	if n := len(segs); n > 0 && segs[n-1].literal {
		segs[n-1].text += text
		return segs
	}
	return append(segs, layoutSeg{literal: true, text: text})
}

// quoted reads a quoted literal at the start of s; it returns the text and
// how many bytes of s it took.
func quoted(s string) (string, int, error) {
	if len(s) > 1 && s[1] == '\'' {
		return "'", 2, nil
	}
	var b strings.Builder
	for j := 1; j < len(s); j++ {
		if s[j] != '\'' {
			b.WriteByte(s[j])
			continue
		}
		if j+1 < len(s) && s[j+1] == '\'' {
			b.WriteByte('\'')
			j++
			continue
		}
		return b.String(), j + 1, nil
	}
	return "", 0, errors.New("a quoted literal is not closed")
}

// letterLayout returns the Go layout element of a run of n pattern letters c.
func letterLayout(c byte, n int) (string, error) {
	pick := func(layouts ...string) (string, error) {
		if n <= len(layouts) && layouts[n-1] != "" {
			return layouts[n-1], nil
		}
		return "", fmt.Errorf("the pattern letter '%c' repeated %d times is not supported", c, n)
	}
	switch c {
	case 'y', 'u':
		return pick("2006", "06", "2006", "2006")
	case 'M', 'L':
		return pick("1", "01", "Jan", "January")
	case 'd':
		return pick("2", "02")
	case 'D':
		return pick("", "", "002")
	case 'E':
		return pick("Mon", "Mon", "Mon", "Monday")
	case 'a':
		return pick("PM")
	case 'H':
		return pick("15", "15")
	case 'h':
		return pick("3", "03")
	case 'm':
		return pick("4", "04")
	case 's':
		return pick("5", "05")
	case 'S':
		if n > 9 {
			return pick()
		}
		return strings.Repeat("0", n), nil
	case 'z':
		return pick("MST", "MST", "MST")
	case 'Z':
		return pick("-0700", "-0700", "-0700", "", "Z07:00")
	case 'X':
		return pick("Z07", "Z0700", "Z07:00", "Z070000", "Z07:00:00")
	case 'x':
		return pick("-07", "-0700", "-07:00", "-070000", "-07:00:00")
	}
	return "", fmt.Errorf("the pattern letter '%c' is not supported", c)
}

// joinLayout concatenates the elements into a layout and checks, by
// formatting two reference times, that Go reads every literal as literal
// text and every element as itself.
func joinLayout(segs []layoutSeg) (string, error) {
	var b strings.Builder
	for _, s := range segs {
		if s.literal {
			b.WriteString(s.text)
		} else {
			b.WriteString(s.layout)
		}
	}
	layout := b.String()
	refs := [...]time.Time{
		time.Date(2019, 11, 28, 21, 37, 49, 123456789, time.FixedZone("XST", 5*3600+30*60)),
		time.Date(2031, 10, 19, 8, 13, 58, 987654321, time.FixedZone("YST", -(9*3600+45*60))),
	}
	for _, ref := range refs {
		var want strings.Builder
		for _, s := range segs {
			switch {
			case s.literal:
				if got := ref.Format(s.text); got != s.text {
					return "", fmt.Errorf("the literal text %q cannot be used: Go layouts would read it as a date element; quote a different text or drop it", s.text)
				}
				want.WriteString(s.text)
			case s.fraction:
				want.WriteString(ref.Format("." + s.layout)[1:])
			default:
				want.WriteString(ref.Format(s.layout))
			}
		}
		if ref.Format(layout) != want.String() {
			return "", errors.New("literal text next to a date element would be read as part of it")
		}
	}
	return layout, nil
}

// parseTimestamp reads a source-last-updated value with a Go layout, or,
// for layout "", as RFC 3339 or epoch seconds/milliseconds. The result is in
// UTC.
func parseTimestamp(layout, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if layout == "" {
		if isDigits(v) && len(v) <= 18 {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return time.Time{}, err
			}
			if n >= 1e12 {
				return time.UnixMilli(n).UTC(), nil
			}
			return time.Unix(n, 0).UTC(), nil
		}
		t, err := time.Parse(time.RFC3339, v)
		return t.UTC(), err
	}
	t, err := time.ParseInLocation(layout, v, time.UTC)
	if err != nil {
		return time.Time{}, err
	}
	if name, off := t.Zone(); off == 0 {
		if known, ok := zoneOffset(name); ok && known != 0 {
			y, mo, d := t.Date()
			h, mi, s := t.Clock()
			t = time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.FixedZone(name, known))
		}
	}
	return t.UTC(), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// zoneOffset returns the UTC offset in seconds of common zone
// abbreviations, which Go reads as offset 0 outside their own location.
func zoneOffset(abbrev string) (int, bool) {
	const h = 3600
	switch abbrev {
	case "UTC", "GMT", "UT", "Z", "WET":
		return 0, true
	case "EST":
		return -5 * h, true
	case "EDT", "AST":
		return -4 * h, true
	case "CST":
		return -6 * h, true
	case "CDT":
		return -5 * h, true
	case "MST":
		return -7 * h, true
	case "MDT":
		return -6 * h, true
	case "PST":
		return -8 * h, true
	case "PDT":
		return -7 * h, true
	case "AKST":
		return -9 * h, true
	case "AKDT":
		return -8 * h, true
	case "HST":
		return -10 * h, true
	case "CET", "WEST", "BST":
		return 1 * h, true
	case "CEST", "EET":
		return 2 * h, true
	case "EEST":
		return 3 * h, true
	case "JST":
		return 9 * h, true
	case "AEST":
		return 10 * h, true
	case "AEDT":
		return 11 * h, true
	}
	return 0, false
}
