//go:build unix

package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// sqliteShmDMS is the byte of a SQLite database's -shm file on which every
// process that has the database open (in WAL mode) holds a shared lock
// while it does (SQLite's unix VFS: the "dead man switch").
const sqliteShmDMS = 128

// databaseInUse reports the id of a process that has the SQLite database
// of dataDir open, such as a server running there, or 0.
func databaseInUse(dataDir string) (pid int, err error) {
	f, err := os.OpenFile(filepath.Join(dataDir, databaseFile+"-shm"), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // no process has it open in WAL mode
	} else if err != nil {
		return 0, err
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: sqliteShmDMS, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return 0, err
	}
	if lk.Type == syscall.F_UNLCK {
		return 0, nil
	}
	return int(lk.Pid), nil
}

// isMountPoint reports whether dir (a directory that exists) is on
// another filesystem than its parent: a mount point. A dir that does not
// exist is not one.
func isMountPoint(dir string) (bool, error) {
	var st, pst syscall.Stat_t
	if err := syscall.Stat(dir, &st); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if err := syscall.Stat(filepath.Dir(dir), &pst); err != nil {
		return false, err
	}
	return st.Dev != pst.Dev, nil
}
