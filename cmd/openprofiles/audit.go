package main

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// rotatingFile is the audit log: JSON lines appended to a file that is
// renamed to path.1 (path.1 to path.2, …, up to keep files) when it passes
// maxBytes. It is safe for concurrent use.
type rotatingFile struct {
	path     string
	maxBytes int64
	keep     int

	// logger gets a line when writes begin to fail (the disk full) and
	// one when they succeed again; nil: none.
	logger *slog.Logger

	mu      sync.Mutex
	f       *os.File
	size    int64
	failing bool // the last write failed
}

func openRotatingFile(path string, maxBytes int64, keep int) (*rotatingFile, error) {
	r := &rotatingFile{path: path, maxBytes: maxBytes, keep: keep}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	r.f, r.size = f, fi.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past maxBytes.
func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size > 0 && r.size+int64(len(p)) > r.maxBytes {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	if err != nil {
		// A line cut short (the disk full) is taken back, so that the
		// next line does not glue to it into one that does not parse.
		if n > 0 && r.f.Truncate(r.size) == nil {
			n = 0
		}
		r.size += int64(n)
		if !r.failing && r.logger != nil {
			r.logger.Error("audit log: write failed; audit lines are lost until writes succeed again (free space on its disk)",
				"path", r.path, "err", err)
		}
		r.failing = true
		return n, err
	}
	r.size += int64(n)
	if r.failing && r.logger != nil {
		r.logger.Info("audit log: writes succeed again", "path", r.path)
	}
	r.failing = false
	return n, nil
}

func (r *rotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	os.Remove(fmt.Sprintf("%s.%d", r.path, r.keep))
	for i := r.keep - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", r.path, i), fmt.Sprintf("%s.%d", r.path, i+1))
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return r.open()
}

// Close closes the file.
func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}
