package main

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// certFiles serves the certificate of --tls-cert and --tls-key, read again
// at the first handshake after either file's content changes (a renewed
// certificate needs no restart; the files are a few kilobytes, read at
// each handshake, not once per request). A pair that does not load then is
// logged and the previous one kept.
type certFiles struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu   sync.Mutex
	cert *tls.Certificate
	seen [sha256.Size]byte // of the files' contents last tried
}

// loadCertFiles loads the pair once, so that a bad one stops the server
// at its start.
func loadCertFiles(certFile, keyFile string, logger *slog.Logger) (*certFiles, error) {
	c := &certFiles{certFile: certFile, keyFile: keyFile, logger: logger}
	certPEM, keyPEM, sum, err := c.read()
	if err != nil {
		return nil, err
	}
	if err := c.load(certPEM, keyPEM, sum); err != nil {
		return nil, err
	}
	return c, nil
}

// read returns the files' contents and their hash.
func (c *certFiles) read() (certPEM, keyPEM []byte, sum [sha256.Size]byte, err error) {
	if certPEM, err = os.ReadFile(c.certFile); err != nil {
		return nil, nil, sum, fmt.Errorf("tls: %w", err)
	}
	if keyPEM, err = os.ReadFile(c.keyFile); err != nil {
		return nil, nil, sum, fmt.Errorf("tls: %w", err)
	}
	h := sha256.New()
	h.Write(certPEM)
	h.Write([]byte{0})
	h.Write(keyPEM)
	h.Sum(sum[:0])
	return certPEM, keyPEM, sum, nil
}

func (c *certFiles) load(certPEM, keyPEM []byte, sum [sha256.Size]byte) error {
	c.seen = sum // tried once per content, not at every handshake
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("tls: --tls-cert %s and --tls-key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert = &cert
	return nil
}

// getCertificate is tls.Config.GetCertificate.
func (c *certFiles) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if certPEM, keyPEM, sum, err := c.read(); err == nil && sum != c.seen {
		// A pair caught half-written fails to load here and loads at the
		// next handshake, once its content has changed again.
		if err := c.load(certPEM, keyPEM, sum); err != nil {
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
