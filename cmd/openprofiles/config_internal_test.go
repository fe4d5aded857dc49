package main

import (
	"flag"
	"io"
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
