//go:build !unix

package main

// databaseInUse cannot tell, off unix, whether a process has the SQLite
// database of dataDir open: it reports none.
func databaseInUse(dataDir string) (pid int, err error) { return 0, nil }

// isMountPoint cannot tell, off unix, whether dir is a mount point: it
// reports none.
func isMountPoint(dir string) (bool, error) { return false, nil }
