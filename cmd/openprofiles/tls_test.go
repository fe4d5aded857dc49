package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

// mustWriteCert writes a self-signed certificate for 127.0.0.1 named cn,
// and its key, to certFile and keyFile, and returns the certificate.
func mustWriteCert(t *testing.T, certFile, keyFile, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// TestTLS: with --tls-cert and --tls-key the server answers HTTPS only:
// the SDK works through it, aws:SecureTransport is true, the console's
// cookie is Secure, UNSIGNED-PAYLOAD is accepted, and a renewed
// certificate is served without a restart.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := mustWriteCert(t, certFile, keyFile, "first")
	m := MustRunMain(t, func(c *main.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	if !strings.HasPrefix(m.URL(), "https://") {
		t.Fatalf("URL %s, want https", m.URL())
	}
	pool := x509.NewCertPool()
	pool.AddCert(first)
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(transport.CloseIdleConnections)
	hc := &http.Client{Transport: transport}
	client := func(keyID, secret string) *customerprofiles.Client {
		return customerprofiles.New(customerprofiles.Options{BaseEndpoint: aws.String(m.URL()), Region: testRegion, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), HTTPClient: sdkhttp.New(hc)})
	}
	if _, err := client(testKeyID, testSecret).CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("tls"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatalf("CreateDomain over HTTPS: %v", err)
	}

	// A policy that allows only over TLS allows.
	id, secret := mustUserKey(t, m, "secure", map[string]string{"p": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"profile:*","Resource":"*",
		"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`})
	if _, err := client(id, secret).GetDomain(t.Context(), &customerprofiles.GetDomainInput{DomainName: aws.String("tls")}); err != nil {
		t.Errorf("GetDomain with aws:SecureTransport required, over HTTPS: %v", err)
	}

	// Plain HTTP on the same port is not served.
	if r, err := http.Get("http://" + m.Addr() + "/healthz"); err == nil {
		r.Body.Close()
		if r.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP answered 200 on the HTTPS port")
		}
	}

	// UNSIGNED-PAYLOAD over TLS.
	req, err := http.NewRequest("GET", m.URL()+"/domains/tls", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, req,
		"UNSIGNED-PAYLOAD", "profile", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	r, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Errorf("UNSIGNED-PAYLOAD over HTTPS: %d, want 200", r.StatusCode)
	}

	// The console's session cookie is Secure.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Transport: transport, Jar: jar}
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get(t, browser, m.URL()+"/console/signin"))[1]
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r, err = browser.PostForm(m.URL()+"/console/signin", url.Values{"csrf": {token}, "access_key_id": {testKeyID}, "secret_access_key": {testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if len(r.Cookies()) == 0 || !r.Cookies()[0].Secure {
		t.Errorf("console sign-in over HTTPS: cookies %v, want a Secure session cookie", r.Cookies())
	}
	// …and the browser is told to keep to HTTPS on this host.
	if got := r.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("console over HTTPS: Strict-Transport-Security %q, want max-age=31536000", got)
	}

	// A renewed certificate is served at the next handshake.
	second := mustWriteCert(t, certFile, keyFile, "second")
	conn, err := tls.Dial("tcp", m.Addr(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := conn.ConnectionState().PeerCertificates[0]; !got.Equal(second) {
		t.Errorf("after the files changed the server presents %q, want the new certificate %q", got.Subject.CommonName, second.Subject.CommonName)
	}
}
