package service_test

import (
	"context"
	"testing"

	"github.com/openprofiles/profiles"
)

// describeCounter is a key manager that answers DescribeKey for one alias
// and counts the calls; its other methods are not used here.
type describeCounter struct {
	profiles.KeyManager
	calls int
}

func (d *describeCounter) DescribeKey(ctx context.Context, keyID string) (*profiles.KeyMetadata, error) {
	d.calls++
	if keyID == "alias/crm" {
		return &profiles.KeyMetadata{KeyID: "k1", ARN: "arn:aws:kms:us-east-1:000000000000:key/k1"}, nil
	}
	return nil, profiles.Errorf(profiles.ENOTFOUND, "Key '%s' does not exist", keyID)
}

// TestEncryptionKeyARN: a domain's key named by its ARN is that ARN
// without a call to the key manager (every read of profile data asks); an
// alias is resolved.
func TestEncryptionKeyARN(t *testing.T) {
	ctx := t.Context()
	s := MustOpenService(t)
	for _, d := range []*profiles.Domain{
		{Name: "by-arn", DefaultExpirationDays: 30, DefaultEncryptionKey: "arn:aws:kms:us-east-1:000000000000:key/k2"},
		{Name: "by-alias", DefaultExpirationDays: 30, DefaultEncryptionKey: "alias/crm"},
	} {
		if _, err := s.CreateDomain(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	keys := &describeCounter{}
	s.Keys = keys
	if arn, err := s.EncryptionKeyARN(ctx, "by-arn"); err != nil || arn != "arn:aws:kms:us-east-1:000000000000:key/k2" || keys.calls != 0 {
		t.Fatalf("EncryptionKeyARN(by-arn) = %q, %v after %d DescribeKey calls; want the key's ARN after none", arn, err, keys.calls)
	}
	if arn, err := s.EncryptionKeyARN(ctx, "by-alias"); err != nil || arn != "arn:aws:kms:us-east-1:000000000000:key/k1" || keys.calls != 1 {
		t.Fatalf("EncryptionKeyARN(by-alias) = %q, %v after %d DescribeKey calls; want the aliased key's ARN after one", arn, err, keys.calls)
	}
}
