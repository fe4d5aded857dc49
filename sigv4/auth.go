package sigv4

import (
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// requestAuth is what the Authorization and date headers of a request say.
type requestAuth struct {
	accessKeyID   string
	scope         string // date/region/service/terminator, as sent
	scopeDate     string
	region        string
	service       string
	terminator    string
	signedHeaders []string
	signedList    string // SignedHeaders value, as sent
	signature     []byte // nil when not 64 hex digits: never matches
	amzDate       string // ISO-8601 basic date of the request
	date          time.Time
}

// parseRequestAuth reads the Authorization header and the request date. It
// returns MissingAuthenticationTokenException or IncompleteSignatureException.
func parseRequestAuth(r *http.Request) (*requestAuth, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		if r.URL != nil && r.URL.Query().Has("X-Amz-Algorithm") {
			return nil, errorf(IncompleteSignature, http.StatusForbidden,
				"Presigned requests (X-Amz-Algorithm in the query string) are not supported; sign the Authorization header.")
		}
		return nil, errorf(MissingAuthenticationToken, http.StatusForbidden, "Missing Authentication Token")
	} else if len(values) > 1 {
		return nil, errorf(IncompleteSignature, http.StatusForbidden,
			"Authorization header must be sent only once.")
	}

	header := strings.TrimSpace(values[0])
	alg, rest, _ := strings.Cut(header, " ")
	if alg != algorithm {
		return nil, errorf(IncompleteSignature, http.StatusForbidden,
			"Unsupported AWS 'algorithm': '%s'. The only supported algorithm is '%s'.", clip(alg), algorithm)
	}

	var credential, signedList, signature string
	var hasCredential, hasSignedHeaders, hasSignature bool
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		var seen *bool
		switch {
		case !ok:
			return nil, errorf(IncompleteSignature, http.StatusForbidden,
				"Authorization header parameters must be of the form name=value, separated by commas. Authorization=%s",
				redacted(alg, credential, signedList, hasSignature))
		case name == "Credential":
			credential, seen = value, &hasCredential
		case name == "SignedHeaders":
			signedList, seen = value, &hasSignedHeaders
		case name == "Signature":
			signature, seen = value, &hasSignature
		default:
			continue // unknown parameters are not part of the signature
		}
		if *seen {
			return nil, errorf(IncompleteSignature, http.StatusForbidden,
				"Authorization header has more than one '%s' parameter.", name)
		}
		*seen = true
	}

	amzDate := r.Header.Get("X-Amz-Date")
	httpDate := r.Header.Get("Date")

	var missing []string
	if !hasCredential {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !hasSignature {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !hasSignedHeaders {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if amzDate == "" && httpDate == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return nil, errorf(IncompleteSignature, http.StatusForbidden, "%s Authorization=%s",
			strings.Join(missing, " "), redacted(alg, credential, signedList, hasSignature))
	}

	a := &requestAuth{signedList: signedList}
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[0] == "" {
		return nil, errorf(IncompleteSignature, http.StatusForbidden,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'",
			clip(credential))
	}
	a.accessKeyID, a.scopeDate, a.region, a.service, a.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	a.scope = credential[len(parts[0])+1:]

	a.signedHeaders = strings.Split(signedList, ";")
	hasHost, hasToken := false, false
	for _, h := range a.signedHeaders {
		switch h {
		case "":
			return nil, errorf(IncompleteSignature, http.StatusForbidden,
				"Authorization header 'SignedHeaders' has an empty header name: '%s'", clip(signedList))
		case "host":
			hasHost = true
		case "x-amz-security-token":
			hasToken = true
		}
	}
	if !hasHost {
		return nil, errorf(IncompleteSignature, http.StatusForbidden,
			"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !hasToken && r.Header.Get("X-Amz-Security-Token") != "" {
		return nil, errorf(IncompleteSignature, http.StatusForbidden,
			"'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization when it is sent.")
	}

	if amzDate != "" {
		t, err := time.Parse(amzDateFormat, amzDate)
		if err != nil {
			return nil, errorf(IncompleteSignature, http.StatusForbidden,
				"Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", clip(amzDate))
		}
		a.amzDate, a.date = amzDate, t
	} else {
		t, err := http.ParseTime(httpDate)
		if err != nil {
			return nil, errorf(IncompleteSignature, http.StatusForbidden,
				"Date header must be an HTTP date (RFC 7231). Got '%s'.", clip(httpDate))
		}
		a.date = t.UTC()
		a.amzDate = a.date.Format(amzDateFormat)
	}

	if len(signature) == 64 {
		a.signature, _ = hex.DecodeString(signature)
	}
	return a, nil
}

// redacted rebuilds the Authorization header for an error message, without
// the signature.
func redacted(alg, credential, signedList string, hasSignature bool) string {
	var b strings.Builder
	b.WriteString(clip(alg))
	sep := " "
	if credential != "" {
		b.WriteString(sep + "Credential=" + clip(credential))
		sep = ", "
	}
	if signedList != "" {
		b.WriteString(sep + "SignedHeaders=" + clip(signedList))
		sep = ", "
	}
	if hasSignature {
		b.WriteString(sep + "Signature=<redacted>")
	}
	return b.String()
}

// clip shortens client-supplied text echoed in a message.
func clip(s string) string {
	const max = 256
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
