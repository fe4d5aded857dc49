package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBind_BodyTimeout: --body-timeout, else OPENPROFILES_BODY_TIMEOUT,
// else 5 minutes, sets how long a request's body may take; 0 is no limit
// (withBodyDeadline sets none), and a malformed value is refused.
func TestBind_BodyTimeout(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want time.Duration
	}{
		{nil, "", 5 * time.Minute},
		{nil, "20m", 20 * time.Minute},
		{[]string{"--body-timeout", "1h"}, "20m", time.Hour},
		{[]string{"--body-timeout=0"}, "", 0},
	} {
		var c Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		getenv := func(k string) string {
			if k == "OPENPROFILES_BODY_TIMEOUT" {
				return tc.env
			}
			return ""
		}
		if err := c.bind(fs, getenv); err != nil {
			t.Fatalf("%v %q: bind: %v", tc.args, tc.env, err)
		}
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if c.BodyTimeout != tc.want {
			t.Errorf("args %v, env %q: BodyTimeout %v, want %v", tc.args, tc.env, c.BodyTimeout, tc.want)
		}
	}
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := c.bind(fs, func(k string) string {
		if k == "OPENPROFILES_BODY_TIMEOUT" {
			return "soon"
		}
		return ""
	}); err == nil {
		t.Error("OPENPROFILES_BODY_TIMEOUT=soon: no error")
	}
}

// TestBind_ConnectionLimits: --write-timeout (OPENPROFILES_WRITE_TIMEOUT,
// default 2m), --max-connections (OPENPROFILES_MAX_CONNECTIONS, default
// 4096) and --public-host (repeated or a comma list; replaces
// OPENPROFILES_PUBLIC_HOSTS, a comma list; default none); Validate refuses
// a public host with a scheme or a path, and negative values.
func TestBind_ConnectionLimits(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		env       map[string]string
		write     time.Duration
		maxConns  int
		hosts     []string
		wantValid bool
	}{
		{nil, nil, 2 * time.Minute, 4096, nil, true},
		{nil, map[string]string{"OPENPROFILES_WRITE_TIMEOUT": "30s", "OPENPROFILES_MAX_CONNECTIONS": "10", "OPENPROFILES_PUBLIC_HOSTS": "a.example.com, b.example.com:8720,"},
			30 * time.Second, 10, []string{"a.example.com", "b.example.com:8720"}, true},
		{[]string{"--write-timeout=0", "--max-connections=0", "--public-host", "c.example.com", "--public-host=d.example.com,e.example.com"},
			map[string]string{"OPENPROFILES_PUBLIC_HOSTS": "a.example.com"},
			0, 0, []string{"c.example.com", "d.example.com", "e.example.com"}, true},
		{[]string{"--public-host", "https://a.example.com"}, nil, 2 * time.Minute, 4096, []string{"https://a.example.com"}, false},
		{[]string{"--public-host", "a.example.com/profiles"}, nil, 2 * time.Minute, 4096, []string{"a.example.com/profiles"}, false},
		{[]string{"--max-connections=-1"}, nil, 2 * time.Minute, -1, nil, false},
		{[]string{"--write-timeout=-1s"}, nil, -time.Second, 4096, nil, false},
	} {
		c := DefaultConfig()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		if err := c.bind(fs, func(k string) string { return tc.env[k] }); err != nil {
			t.Fatalf("%v %v: bind: %v", tc.args, tc.env, err)
		}
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if c.WriteTimeout != tc.write || c.MaxConnections != tc.maxConns || !slices.Equal(c.PublicHosts, tc.hosts) {
			t.Errorf("args %v, env %v: WriteTimeout %v, MaxConnections %d, PublicHosts %q; want %v, %d, %q",
				tc.args, tc.env, c.WriteTimeout, c.MaxConnections, c.PublicHosts, tc.write, tc.maxConns, tc.hosts)
		}
		c.DataDir = t.TempDir()
		if err := c.Validate(); (err == nil) != tc.wantValid {
			t.Errorf("args %v: Validate: %v, want valid %v", tc.args, err, tc.wantValid)
		}
	}
	// PostgreSQL's statement_timeout is in milliseconds: a shorter one,
	// or a negative one, would be no bound at all.
	for _, tc := range []struct {
		timeout time.Duration
		valid   bool
	}{{0, true}, {time.Millisecond, true}, {30 * time.Second, true}, {500 * time.Microsecond, false}, {-time.Second, false}} {
		c := DefaultConfig()
		c.DataDir, c.PGStatementTimeout = t.TempDir(), tc.timeout
		if err := c.Validate(); (err == nil) != tc.valid {
			t.Errorf("--pg-statement-timeout %v: Validate: %v, want valid %v", tc.timeout, err, tc.valid)
		}
	}
	for _, name := range []string{"OPENPROFILES_WRITE_TIMEOUT", "OPENPROFILES_MAX_CONNECTIONS"} {
		var c Config
		if err := c.bind(flag.NewFlagSet("serve", flag.ContinueOnError), func(k string) string {
			if k == name {
				return "lots"
			}
			return ""
		}); err == nil {
			t.Errorf("%s=lots: no error", name)
		}
	}
}

// TestBind_SecureCookies: --secure-cookies, else
// OPENPROFILES_SECURE_COOKIES, else off; a variable that is not a boolean
// is refused, naming it.
func TestBind_SecureCookies(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want bool
	}{
		{nil, "", false},
		{[]string{"--secure-cookies"}, "", true},
		{nil, "true", true},
		{[]string{"--secure-cookies=false"}, "true", false},
	} {
		var c Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		if err := c.bind(fs, func(k string) string {
			if k == "OPENPROFILES_SECURE_COOKIES" {
				return tc.env
			}
			return ""
		}); err != nil {
			t.Fatalf("%v %q: bind: %v", tc.args, tc.env, err)
		}
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if c.SecureCookies != tc.want {
			t.Errorf("args %v, env %q: SecureCookies %v, want %v", tc.args, tc.env, c.SecureCookies, tc.want)
		}
	}
	var c Config
	err := c.bind(flag.NewFlagSet("serve", flag.ContinueOnError), func(k string) string {
		if k == "OPENPROFILES_SECURE_COOKIES" {
			return "yes please"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "OPENPROFILES_SECURE_COOKIES") {
		t.Errorf("OPENPROFILES_SECURE_COOKIES=yes please: %v, want an error naming it", err)
	}
}
