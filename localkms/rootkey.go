package localkms

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RootKeyFile is the file of the data dir that holds the root key when
// OPENPROFILES_KMS_ROOT_KEY is not set: the key in standard base64 and a
// newline, mode 0600.
const RootKeyFile = "kms-root.key"

// RootKeyEnv is the environment variable that, when set, holds the root key
// in standard base64 (32 bytes: `openssl rand -base64 32`). Every node of
// one store must have the same root key.
const RootKeyEnv = "OPENPROFILES_KMS_ROOT_KEY"

// LoadOrCreateRootKey returns the root key: decoded from fromEnv (the value
// of OPENPROFILES_KMS_ROOT_KEY) when it is not empty, else read from
// dataDir/kms-root.key, else newly generated into that file (mode 0600,
// never overwritten). The root key wraps the material of every key:
// losing it loses every key and the data encrypted under them, and whoever
// reads it together with the database reads every key.
func LoadOrCreateRootKey(dataDir string, fromEnv string) ([]byte, error) {
	if fromEnv != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(fromEnv))
		if err != nil || len(key) != rootKeySize {
			return nil, fmt.Errorf("%s must be %d bytes in standard base64", RootKeyEnv, rootKeySize)
		}
		return key, nil
	}
	path := filepath.Join(dataDir, RootKeyFile)
	if key, err := readRootKey(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}

	key := make([]byte, rootKeySize)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it first
		return readRootKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("write KMS root key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("write KMS root key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("write KMS root key: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write KMS root key: %w", err)
	}
	return key, nil
}

// readRootKey reads a root key file. It refuses a file that others than
// its owner may read.
func readRootKey(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s: mode %04o lets others read the KMS root key; chmod 600 it", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != rootKeySize {
		return nil, fmt.Errorf("%s: not a base64 key of %d bytes", path, rootKeySize)
	}
	return key, nil
}
