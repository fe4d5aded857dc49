package iam

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RequestContext returns the global condition keys of an HTTP request
// received at now, for Request.Context: aws:CurrentTime, aws:EpochTime,
// aws:SecureTransport and aws:SourceIp. Callers add what they know of the
// caller and the resource (aws:PrincipalArn, aws:RequestedRegion, tags…).
func RequestContext(r *http.Request, now time.Time) map[string][]string {
	now = now.UTC()
	m := map[string][]string{
		"aws:CurrentTime":     {now.Format(time.RFC3339)},
		"aws:EpochTime":       {strconv.FormatInt(now.Unix(), 10)},
		"aws:SecureTransport": {strconv.FormatBool(r.TLS != nil)},
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && ip != "" {
		m["aws:SourceIp"] = []string{strings.Trim(ip, "[]")}
	}
	return m
}
