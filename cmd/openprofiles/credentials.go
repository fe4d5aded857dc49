package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// credentialsFile is the file in the data dir that holds generated root
// credentials, in the AWS shared-credentials format, so that the AWS CLI,
// the SDKs and `openprofiles` read it through AWS_SHARED_CREDENTIALS_FILE.
const (
	credentialsFile    = "credentials"
	credentialsProfile = "openprofiles"
)

// rootCredentials returns the root access key: from the configuration when
// set, else from the data dir, else newly generated into the data dir
// (created reports that).
func rootCredentials(c *Config) (id, secret string, created bool, err error) {
	if c.AccessKeyID != "" {
		return c.AccessKeyID, c.SecretAccessKey, false, nil
	}
	path := filepath.Join(c.DataDir, credentialsFile)
	id, secret, err = readCredentials(path)
	if err == nil {
		return id, secret, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", false, err
	}
	id = "AKOP" + randomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
	secret = randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
	content := fmt.Sprintf("# Root credentials of this OpenProfiles server, generated at first start.\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = %s\n",
		credentialsProfile, id, secret, c.Region)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", "", false, fmt.Errorf("write credentials: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return "", "", false, fmt.Errorf("write credentials: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", "", false, fmt.Errorf("write credentials: %w", err)
	}
	return id, secret, true, nil
}

func readCredentials(path string) (id, secret string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("read %s: %w", path, err)
	}
	if id == "" || secret == "" {
		return "", "", fmt.Errorf("%s: no aws_access_key_id and aws_secret_access_key", path)
	}
	return id, secret, nil
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// secretFile holds the server secret: it keys paging tokens and the blind
// index of search keys, so it must not change while the store holds data,
// and every node of one store must share it (OPENPROFILES_SERVER_SECRET).
const secretFile = "server.secret"

// serverSecret returns the server secret: from the environment value when
// set (base64), else from the data dir, else newly generated there.
func serverSecret(dataDir, fromEnv string) ([]byte, error) {
	if fromEnv != "" {
		b, err := base64.StdEncoding.DecodeString(fromEnv)
		if err != nil || len(b) < 32 {
			return nil, fmt.Errorf("OPENPROFILES_SERVER_SECRET must be at least 32 bytes in base64")
		}
		return b, nil
	}
	path := filepath.Join(dataDir, secretFile)
	if b, err := os.ReadFile(path); err == nil {
		s, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(s) < 32 {
			return nil, fmt.Errorf("%s: not a base64 secret of at least 32 bytes", path)
		}
		return s, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	s := make([]byte, 32)
	rand.Read(s)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write server secret: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(s) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write server secret: %w", err)
	}
	return s, f.Close()
}
