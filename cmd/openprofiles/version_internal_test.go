package main

import (
	"runtime/debug"
	"testing"
)

func TestBuildFrom(t *testing.T) {
	const rev = "96b2fb1a2c3d4e5f60718293a4b5c6d7e8f90a1b"
	checkout := func(version string, modified bool) *debug.BuildInfo {
		m := "false"
		if modified {
			m = "true"
		}
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/openprofiles/profiles", Version: version}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-11-28T06:00:00Z"}, {Key: "vcs.modified", Value: m},
		}}
	}
	installed := func(version string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/openprofiles/profiles", Version: version}}
	}
	for _, tt := range []struct {
		name                string
		ldVersion, ldCommit string
		info                *debug.BuildInfo
		want                build
	}{
		{"no build info", "dev", "", nil, build{Version: "dev"}},
		{"-buildvcs=false", "dev", "", installed("(devel)"), build{Version: "dev"}},
		{"go build in a checkout, before Go 1.24", "dev", "", checkout("(devel)", false), build{"96b2fb1a2c3d", rev, "2026-11-28T06:00:00Z"}},
		{"go build in a changed checkout", "dev", "", checkout("v0.0.0-20261128060000-96b2fb1a2c3d+dirty", true), build{"96b2fb1a2c3d-dirty", rev, "2026-11-28T06:00:00Z"}},
		{"go build in a checkout past a tag", "dev", "", checkout("v1.2.4-0.20261128060000-96b2fb1a2c3d", false), build{"96b2fb1a2c3d", rev, "2026-11-28T06:00:00Z"}},
		{"go build in a checkout at a tag", "dev", "", checkout("v1.2.3", false), build{"v1.2.3", rev, "2026-11-28T06:00:00Z"}},
		{"go install module@version", "dev", "", installed("v1.2.3"), build{Version: "v1.2.3"}},
		{"go install module@commit", "dev", "", installed("v0.0.0-20261128060000-96b2fb1a2c3d"), build{Version: "v0.0.0-20261128060000-96b2fb1a2c3d"}},
		{"-ldflags win", "v2.0.0", "abc", checkout("(devel)", true), build{Version: "v2.0.0", Commit: "abc"}},
		{"-ldflags version, revision from the toolchain", "v2.0.0", "", checkout("(devel)", false), build{"v2.0.0", rev, "2026-11-28T06:00:00Z"}},
		{"-ldflags over an installed module", "v2.0.0", "", installed("v1.2.3"), build{Version: "v2.0.0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildFrom(tt.ldVersion, tt.ldCommit, tt.info); got != tt.want {
				t.Errorf("buildFrom(%q, %q, …) = %+v, want %+v", tt.ldVersion, tt.ldCommit, got, tt.want)
			}
		})
	}
}
