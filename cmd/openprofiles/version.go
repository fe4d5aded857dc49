package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/openprofiles/profiles"
)

func runVersion(stdout io.Writer) error {
	commit := profiles.Commit
	if commit == "" {
		commit = "unknown"
	}
	_, err := fmt.Fprintf(stdout, "openprofiles %s (commit %s, %s)\n", profiles.Version, commit, runtime.Version())
	return err
}
