package main

import (
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"

	"github.com/openprofiles/profiles"
)

func runVersion(stdout io.Writer) error {
	b := readBuild()
	commit := b.Commit
	if commit == "" {
		commit = "unknown"
	}
	if b.Time != "" {
		commit += ", " + b.Time
	}
	_, err := fmt.Fprintf(stdout, "openprofiles %s (commit %s, %s)\n", b.Version, commit, runtime.Version())
	return err
}

// build says which build of openprofiles this is.
type build struct {
	Version string // what `openprofiles version` prints first
	Commit  string // the VCS revision, "" when unknown
	Time    string // the revision's commit time (RFC 3339), "" when unknown
}

// readBuild returns this binary's build: the version and commit set with
// -ldflags (profiles.Version, profiles.Commit) when set, else what the Go
// toolchain recorded in the binary (buildFrom).
func readBuild() build {
	info, _ := debug.ReadBuildInfo()
	return buildFrom(profiles.Version, profiles.Commit, info)
}

// pseudoVersion matches a module pseudo-version (v0.0.0-20261128062601-394e956db4ec)
// and the toolchain's "+dirty" suffix: versions the toolchain makes up
// from a revision, which say less than the revision itself.
var pseudoVersion = regexp.MustCompile(`(^|[-.])\d{14}-[0-9a-f]{12}($|\+)|\+dirty$`)

// buildFrom works out the build from the -ldflags values (ldVersion is
// "dev" when not set) and the build info the toolchain recorded (nil when
// none):
//
//   - -ldflags -X .../profiles.Version=… wins;
//   - a build from a checkout (go build, go install ./cmd/openprofiles)
//     records the VCS revision: the version is its first 12 digits, with
//     "-dirty" when the tree had changes, or the release tag the toolchain
//     found at that revision (Go 1.24 and later);
//   - go install github.com/openprofiles/profiles/cmd/openprofiles@v1.2.3
//     records no revision but the module version: v1.2.3;
//   - else (-buildvcs=false, go run) "dev".
func buildFrom(ldVersion, ldCommit string, info *debug.BuildInfo) build {
	b := build{Version: ldVersion, Commit: ldCommit}
	if info == nil {
		return b
	}
	var rev, vcsTime string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			vcsTime = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if b.Commit == "" && rev != "" {
		b.Commit, b.Time = rev, vcsTime
	}
	if ldVersion != "dev" && ldVersion != "" {
		return b
	}
	mod := info.Main.Version
	released := mod != "" && mod != "(devel)" && !pseudoVersion.MatchString(mod)
	switch {
	case rev != "" && released && !modified:
		b.Version = mod
	case rev != "":
		b.Version = rev[:min(12, len(rev))]
		if modified {
			b.Version += "-dirty"
		}
	case mod != "" && mod != "(devel)":
		b.Version = mod
	default:
		b.Version = "dev"
	}
	return b
}
