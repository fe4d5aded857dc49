package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/localkms"
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

// checkKeyMaterial refuses to make a new KMS root key or server secret for
// a store that holds data already: a data dir restored without its
// kms-root.key or server.secret (a backup of a server that took them from
// the environment, whose values were not given again), or a node started
// on a shared database without the other nodes' values. A start would
// otherwise make new ones and serve with every key of the store
// unreadable (and every record sealed under those keys) and every search
// empty (the blind index is keyed by the old secret), and then write data
// that the right values cannot read. The store holds data once a server
// started on it: every start makes the service-owned KMS key.
func (m *Main) checkKeyMaterial(ctx context.Context) error {
	c := &m.Config
	var missing []string
	for _, k := range []struct{ file, value, env string }{
		{localkms.RootKeyFile, c.KMSRootKey, localkms.RootKeyEnv},
		{secretFile, c.ServerSecret, "OPENPROFILES_SERVER_SECRET"},
	} {
		if k.value != "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c.DataDir, k.file)); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, k.file+" (nor "+k.env+")")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err := m.DB.FindKMSAlias(ctx, localkms.DefaultKeyAlias)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil // a new store: this first start makes them
	} else if err != nil {
		return fmt.Errorf("read the store's keys: %w", err)
	}
	return fmt.Errorf("the data dir %s has no %s, but the store (%s) holds data made with them: "+
		"a new one would leave its encrypted data unreadable and its searches empty, so none is made. "+
		"Restore the file from the data dir's backup, or set the variable to the value the server ran with "+
		"(with several nodes: the other nodes' value)", c.DataDir, strings.Join(missing, " and "), storeName(c))
}

// secretCheckLabel is what the check value of the server secret is an
// HMAC of (secretCheck).
const secretCheckLabel = "openprofiles server secret check v1"

// secretCheck returns the check value of a server secret: an HMAC-SHA256
// of a fixed label under it, which tells secrets apart without revealing
// them.
func secretCheck(secret []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(secretCheckLabel))
	return h.Sum(nil)
}

// checkServerSecret refuses a server secret other than the one the store's
// data was made with: a node given its own server.secret, or another
// OPENPROFILES_SERVER_SECRET than the other nodes', would serve every
// search empty (the blind index of keys is an HMAC under the secret) and
// write keys the other nodes cannot find. The first start on a store
// records the secret's check value (secretCheck); every start compares
// its own with it. Of two first starts at once, the one that writes
// second reads the first one's value and compares with it. A store of an
// older version, which has none, gets its value at its next start, from
// the secret that start runs with.
func (m *Main) checkServerSecret(ctx context.Context, secret []byte) error {
	c := &m.Config
	want := secretCheck(secret)
	got, err := m.DB.InitServerSetting(ctx, profiles.ServerSecretCheck, want)
	if err != nil {
		return fmt.Errorf("record the server secret's check value: %w", err)
	}
	if hmac.Equal(got, want) {
		return nil
	}
	from := filepath.Join(c.DataDir, secretFile)
	if c.ServerSecret != "" {
		from = "OPENPROFILES_SERVER_SECRET"
	}
	return fmt.Errorf("the server secret (%s) is not the one the store (%s) was made with: "+
		"this node would find none of the store's search keys and write keys the other nodes cannot find, so it does not start. "+
		"Give it the secret the server ran with (the data dir's own %s, from its backup, or its OPENPROFILES_SERVER_SECRET; "+
		"with several nodes: the other nodes' value)", from, storeName(c), secretFile)
}

// storeName names the store of c in messages: the SQLite file, or the
// PostgreSQL database without its password.
func storeName(c *Config) string {
	if strings.HasPrefix(c.Store, "postgres://") || strings.HasPrefix(c.Store, "postgresql://") {
		return withoutPassword(c.Store)
	}
	return filepath.Join(c.DataDir, databaseFile)
}
