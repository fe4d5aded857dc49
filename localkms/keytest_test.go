package localkms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openprofiles/profiles/keytest"
)

// TestKeyManager runs the conformance suite on KMS as a
// profiles.KeyManager; its keys are made through its KMS API.
func TestKeyManager(t *testing.T) {
	keytest.Run(t, func(tb testing.TB) *keytest.Harness { return harness(MustServer(tb)) })
}

// TestKeyManager_PostgreSQL runs it with the keys in PostgreSQL.
func TestKeyManager_PostgreSQL(t *testing.T) {
	keytest.Run(t, func(tb testing.TB) *keytest.Harness { return harness(MustPostgresServer(tb)) })
}

func harness(s *server) *keytest.Harness {
	return &keytest.Harness{
		Manager:      s.KMS,
		AccountID:    testAccount,
		Region:       testRegion,
		NewKey:       s.MustCreateKey,
		NewAlias:     s.MustCreateAlias,
		Disable:      s.MustDisable,
		ChecksPolicy: true,
	}
}

// MustCreateAlias makes the alias name the key.
func (s *server) MustCreateAlias(tb testing.TB, name, keyID string) {
	tb.Helper()
	if _, err := s.Client("AKROOT").CreateAlias(tb.Context(), &kms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(keyID)}); err != nil {
		tb.Fatalf("CreateAlias: %v", err)
	}
}

// MustDisable disables the key.
func (s *server) MustDisable(tb testing.TB, keyID string) {
	tb.Helper()
	if _, err := s.Client("AKROOT").DisableKey(tb.Context(), &kms.DisableKeyInput{KeyId: aws.String(keyID)}); err != nil {
		tb.Fatalf("DisableKey: %v", err)
	}
}
