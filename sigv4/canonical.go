package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// canonicalizer builds the canonical request of one request; the parts that
// do not depend on the path are built once.
type canonicalizer struct {
	r             *http.Request
	body          []byte
	signedHeaders []string
	payloadHash   string

	built   bool
	query   string
	headers string
}

// matches reports whether the signature of a is the one computed with key
// over the canonical request using rawPath as the path sent on the wire.
func (c *canonicalizer) matches(key []byte, a *requestAuth, rawPath string) bool {
	if !c.built {
		c.query = canonicalQuery(c.r.URL.RawQuery)
		c.headers = canonicalHeaders(c.r, c.body, c.signedHeaders)
		c.built = true
	}

	h := sha256.New()
	io.WriteString(h, c.r.Method)
	io.WriteString(h, "\n")
	io.WriteString(h, canonicalPath(rawPath))
	io.WriteString(h, "\n")
	io.WriteString(h, c.query)
	io.WriteString(h, "\n")
	io.WriteString(h, c.headers)
	io.WriteString(h, "\n")
	io.WriteString(h, a.signedList)
	io.WriteString(h, "\n")
	io.WriteString(h, c.payloadHash)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])

	sts := make([]byte, 0, len(algorithm)+len(a.amzDate)+len(a.scope)+3+hex.EncodedLen(len(sum)))
	sts = append(sts, algorithm+"\n"...)
	sts = append(sts, a.amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, a.scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, sum[:])

	mac := hmac.New(sha256.New, key)
	mac.Write(sts)
	return a.signature != nil && hmac.Equal(mac.Sum(nil), a.signature)
}

// requestPath returns the path of r as it was sent on the wire, still
// percent-encoded.
func requestPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	if r.URL == nil {
		return ""
	}
	if r.URL.Opaque != "" { // client-side form "//host/path", as the AWS signer reads it
		p := strings.TrimPrefix(r.URL.Opaque, "//")
		if i := strings.IndexByte(p, '/'); i >= 0 {
			return p[i:]
		}
		return ""
	}
	return r.URL.EscapedPath()
}

// canonicalPath URI-encodes the wire path again, keeping '/'.
func canonicalPath(rawPath string) string {
	if rawPath == "" {
		return "/"
	}
	return escape(rawPath, false)
}

// normalizePath removes "." and ".." segments and empty segments the way
// botocore does before signing for services other than S3.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// canonicalQuery decodes the raw query and re-encodes every name and value,
// sorted by encoded name, then encoded value.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		pairs = append(pairs, pair{escape(unescapeQuery(k), true), escape(unescapeQuery(v), true)})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// unescapeQuery decodes a query component ('+' is a space); a component that
// is not valid percent-encoding is kept as sent.
func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// canonicalHeaders returns "name:value\n" for every signed header, in the
// order of the SignedHeaders list.
func canonicalHeaders(r *http.Request, body []byte, names []string) string {
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		switch values := r.Header.Values(name); {
		case name == "host":
			host := r.Host
			if host == "" && r.URL != nil {
				host = r.URL.Host
			}
			b.WriteString(trimAll(host))
		case name == "content-length" && len(values) == 0:
			// The header map lacks Content-Length when the request was not
			// parsed from the wire, or was chunked: then use r.ContentLength,
			// or the length of the body received.
			n := r.ContentLength
			if n < 0 {
				n = int64(len(body))
			}
			b.WriteString(strconv.FormatInt(n, 10))
		default:
			for i, v := range values {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(trimAll(v))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// trimAll trims spaces at both ends and collapses inner runs of spaces.
func trimAll(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// escape applies the AWS URI encoding: A-Z a-z 0-9 - _ . ~ are kept, '/'
// too unless encodeSlash, every other byte becomes %XX (upper-case hex).
func escape(s string, encodeSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && (encodeSlash || s[i] != '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (!encodeSlash && c == '/') {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
