package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveDebug serves Go's profiler on a listener of its own at addr, so that
// an operator can see where a running server spends its time
// (`go tool pprof http://ADDR/debug/pprof/profile?seconds=10`). It needs no
// signature: bind it to loopback. The API's listener never serves it.
func (m *Main) serveDebug(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("debug listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.debugAddr = ln.Addr().String()
	m.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	m.Logger.Info("profiler listening", "addr", ln.Addr().String())
	go m.debug.Serve(ln)
	return nil
}

// DebugAddr returns the address of the profiler's listener, or "" when
// Config.DebugAddr is empty.
func (m *Main) DebugAddr() string { return m.debugAddr }
