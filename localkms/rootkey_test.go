package localkms_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openprofiles/profiles/localkms"
)

func TestLoadOrCreateRootKey(t *testing.T) {
	t.Run("CreatedOnceThenRead", func(t *testing.T) {
		dir := t.TempDir()
		key, err := localkms.LoadOrCreateRootKey(dir, "")
		if err != nil {
			t.Fatalf("LoadOrCreateRootKey: %v", err)
		}
		if len(key) != 32 {
			t.Fatalf("root key of %d bytes, want 32", len(key))
		}
		info, err := os.Stat(filepath.Join(dir, localkms.RootKeyFile))
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s mode %04o, want 0600", localkms.RootKeyFile, perm)
		}
		again, err := localkms.LoadOrCreateRootKey(dir, "")
		if err != nil {
			t.Fatalf("LoadOrCreateRootKey again: %v", err)
		}
		if !bytes.Equal(again, key) {
			t.Errorf("the second call returned another key")
		}
	})

	t.Run("FromEnv", func(t *testing.T) {
		dir := t.TempDir()
		want := bytes.Repeat([]byte{7}, 32)
		got, err := localkms.LoadOrCreateRootKey(dir, base64.StdEncoding.EncodeToString(want)+"\n")
		if err != nil {
			t.Fatalf("LoadOrCreateRootKey: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("key %x, want %x", got, want)
		}
		if _, err := os.Stat(filepath.Join(dir, localkms.RootKeyFile)); !os.IsNotExist(err) {
			t.Errorf("a key from the environment wrote %s (stat: %v)", localkms.RootKeyFile, err)
		}
	})

	for _, tt := range []struct {
		name, env, file string
		mode            os.FileMode
		want            string
	}{
		{"EnvNotBase64", "not base64!", "", 0, localkms.RootKeyEnv},
		{"EnvShort", base64.StdEncoding.EncodeToString([]byte("short")), "", 0, localkms.RootKeyEnv},
		{"FileCorrupt", "", "garbage", 0o600, "not a base64 key"},
		{"FileReadableByOthers", "", base64.StdEncoding.EncodeToString(make([]byte, 32)), 0o644, "chmod 600"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.file != "" {
				path := filepath.Join(dir, localkms.RootKeyFile)
				if err := os.WriteFile(path, []byte(tt.file), tt.mode); err != nil {
					t.Fatal(err)
				}
				os.Chmod(path, tt.mode)
			}
			_, err := localkms.LoadOrCreateRootKey(dir, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadOrCreateRootKey: err=%v, want one that says %q", err, tt.want)
			}
		})
	}
}
