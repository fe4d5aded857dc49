package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// benchClient sends SigV4-signed requests (service "profile") over HTTP.
type benchClient struct {
	base, region string
	creds        aws.Credentials
	signer       *v4.Signer
	transport    *http.Transport
	http         *http.Client
}

func newBenchClient(base, region string, creds aws.Credentials, conc int) *benchClient {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = conc+8, conc+8
	return &benchClient{base: strings.TrimRight(base, "/"), region: region, creds: creds, signer: v4.NewSigner(),
		transport: t, http: &http.Client{Transport: t, Timeout: 5 * time.Minute}}
}

func staticCreds(keyID, secret string) aws.Credentials {
	return aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, Source: "bench"}
}

// do sends one signed request and returns the status and body.
func (c *benchClient) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "profile", c.region, time.Now()); err != nil {
		return 0, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func (c *benchClient) close() { c.transport.CloseIdleConnections() }

// benchServer is an `openprofiles serve` child process.
type benchServer struct {
	cmd     *exec.Cmd
	url     string
	dataDir string
	done    chan struct{}
	log     *tailBuffer
}

// startBenchServer starts bin serve on a free loopback port with the data
// dir and root credentials given, and waits until /healthz answers.
func startBenchServer(ctx context.Context, bin, dataDir, keyID, secret string, extra []string) (*benchServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"serve", "--addr", addr, "--data-dir", dataDir, "--log-level", "warn"}, extra...)
	s := &benchServer{cmd: exec.Command(bin, args...), url: "http://" + addr, dataDir: dataDir,
		done: make(chan struct{}), log: &tailBuffer{max: 64 << 10}}
	s.cmd.Env = append(os.Environ(), "OPENPROFILES_ACCESS_KEY_ID="+keyID, "OPENPROFILES_SECRET_ACCESS_KEY="+secret)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start server: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("bench: server exited: %s", s.log)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("bench: server not healthy within 60s: %s", s.log)
		}
	}
}

// stop sends SIGTERM and waits for the process (SIGKILL after a minute).
func (s *benchServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// procUsage is what Linux reports of a process: CPU seconds (user +
// system) and its peak resident set (VmHWM), in bytes.
type procUsage struct {
	cpu, peakRSS float64
}

// usage reads /proc/PID/stat and /proc/PID/status of the server; zero for
// no server, or where /proc is missing.
func (s *benchServer) usage() procUsage {
	if s == nil {
		return procUsage{}
	}
	var u procUsage
	pid := strconv.Itoa(s.cmd.Process.Pid)
	if b, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil {
		// Fields after the command name (which may hold spaces): state is
		// the first, utime and stime the 12th and 13th, in clock ticks
		// (USER_HZ, 100 on Linux).
		if i := bytes.LastIndexByte(b, ')'); i > 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 12 {
				ut, _ := strconv.ParseFloat(f[11], 64)
				st, _ := strconv.ParseFloat(f[12], 64)
				u.cpu = (ut + st) / 100
			}
		}
	}
	if b, err := os.ReadFile("/proc/" + pid + "/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				u.peakRSS = kb * 1024
			}
		}
	}
	return u
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	mu  sync.Mutex
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
