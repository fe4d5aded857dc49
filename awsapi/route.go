package awsapi

import (
	"net/url"
	"strings"
)

// route binds an operation to its HTTP method and URI template.
type route struct {
	Operation string
	Method    string
	Template  string // e.g. /domains/{DomainName}/profiles
}

// segment is one path segment of a template: a literal or a {label}.
type segment struct {
	literal string
	label   string
}

type compiledRoute struct {
	route
	segments []segment
	literals int
}

// router finds the operation of a request from the generated route table.
type router struct {
	routes []compiledRoute
}

func newRouter(rs []route) *router {
	rt := &router{}
	for _, r := range rs {
		cr := compiledRoute{route: r}
		for _, s := range splitPath(r.Template) {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				cr.segments = append(cr.segments, segment{label: strings.TrimSuffix(s[1:], "}")})
			} else {
				cr.segments = append(cr.segments, segment{literal: s})
				cr.literals++
			}
		}
		rt.routes = append(rt.routes, cr)
	}
	return rt
}

func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match returns the route for method and the escaped request path, with the
// decoded values of its labels. Each label is one percent-encoded segment
// (an ARN label arrives with its slashes as %2F). Where several templates
// match, the one with more literal segments wins. methodOK reports whether
// the path matched some route under another method.
func (rt *router) match(method, escapedPath string) (r *compiledRoute, labels map[string]string, pathKnown bool) {
	raw := splitPath(escapedPath)
	segs := make([]string, len(raw))
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, nil, false
		}
		segs[i] = d
	}
	for i := range rt.routes {
		cr := &rt.routes[i]
		if len(cr.segments) != len(segs) || !cr.matches(segs) {
			continue
		}
		pathKnown = true
		if cr.Method != method {
			continue
		}
		if r == nil || cr.literals > r.literals {
			r = cr
		}
	}
	if r == nil {
		return nil, nil, pathKnown
	}
	labels = make(map[string]string, len(r.segments)-r.literals)
	for i, s := range r.segments {
		if s.label != "" {
			labels[s.label] = segs[i]
		}
	}
	return r, labels, true
}

func (cr *compiledRoute) matches(segs []string) bool {
	for i, s := range cr.segments {
		if s.label == "" && s.literal != segs[i] || s.label != "" && segs[i] == "" {
			return false
		}
	}
	return true
}
