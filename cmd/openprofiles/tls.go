package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certFiles serves the certificate of --tls-cert and --tls-key, read again
// at the first handshake after either file changes (a renewed certificate
// needs no restart). A pair that does not load then is logged and the
// previous one kept.
type certFiles struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu       sync.Mutex
	cert     *tls.Certificate
	modified [2]time.Time
}

// loadCertFiles loads the pair once, so that a bad one stops the server
// at its start.
func loadCertFiles(certFile, keyFile string, logger *slog.Logger) (*certFiles, error) {
	c := &certFiles{certFile: certFile, keyFile: keyFile, logger: logger}
	mod, err := c.modTimes()
	if err != nil {
		return nil, err
	}
	if err := c.load(mod); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certFiles) modTimes() ([2]time.Time, error) {
	var mod [2]time.Time
	for i, name := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return mod, fmt.Errorf("tls: %w", err)
		}
		mod[i] = fi.ModTime()
	}
	return mod, nil
}

func (c *certFiles) load(mod [2]time.Time) error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls: --tls-cert %s and --tls-key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.modified = &cert, mod
	return nil
}

// getCertificate is tls.Config.GetCertificate.
func (c *certFiles) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if mod, err := c.modTimes(); err == nil && mod != c.modified {
		if err := c.load(mod); err != nil {
			c.modified = mod // logged once per change, not at every handshake
			c.logger.Error("tls: the changed certificate does not load; serving the previous one", "err", err)
		} else {
			c.logger.Info("tls: certificate loaded again", "file", c.certFile)
		}
	}
	return c.cert, nil
}

// tlsConfig returns the server's TLS configuration for the pair.
func (c *certFiles) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.getCertificate}
}
