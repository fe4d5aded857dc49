package localkms_test

import (
	"strings"
	"testing"

	"github.com/openprofiles/profiles"
)

func TestCreateServiceKey(t *testing.T) {
	s := MustServer(t)
	ctx := t.Context()
	md, err := s.KMS.CreateServiceKey(ctx, "Key of CustomerProfiles-ExampleCorp", "alias/example-corp")
	if err != nil {
		t.Fatalf("CreateServiceKey: %v", err)
	}
	if md.State != profiles.KeyStateEnabled || len(md.Aliases) != 1 || md.Aliases[0] != "alias/example-corp" {
		t.Errorf("metadata %+v, want an enabled key with alias/example-corp", md)
	}
	// The key is usable by the service for the account's domains at once.
	domainARN := "arn:aws:profile:" + testRegion + ":" + testAccount + ":domains/ExampleCorp"
	if err := s.KMS.CheckServiceAccess(ctx, "alias/example-corp", testAccount, domainARN); err != nil {
		t.Errorf("CheckServiceAccess of the new key: %v", err)
	}
	if !strings.Contains(s.KMS.ServiceKeyStatement(), profiles.ServicePrincipal) {
		t.Errorf("ServiceKeyStatement names no service principal: %s", s.KMS.ServiceKeyStatement())
	}

	keys, err := s.KMS.ListKeys(ctx)
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	found := false
	for _, k := range keys {
		if k.KeyID == md.KeyID {
			found = k.Description == "Key of CustomerProfiles-ExampleCorp" && len(k.Aliases) == 1
		}
	}
	if !found {
		t.Errorf("ListKeys %+v lacks the new key with its description and alias", keys)
	}

	// A taken alias or a bad one makes no key.
	_, err = s.KMS.CreateServiceKey(ctx, "again", "alias/example-corp")
	if profiles.ErrorCode(err) != profiles.ECONFLICT {
		t.Errorf("CreateServiceKey(taken alias): %v, want ECONFLICT", err)
	}
	_, err = s.KMS.CreateServiceKey(ctx, "bad", "example-corp")
	if profiles.ErrorCode(err) != profiles.EINVALID || !strings.Contains(err.Error(), "alias/") {
		t.Errorf("CreateServiceKey(no alias/ prefix): %v, want EINVALID naming alias/", err)
	}
	if after, _ := s.KMS.ListKeys(ctx); len(after) != len(keys) {
		t.Errorf("%d keys after the refused creations, want %d", len(after), len(keys))
	}
}
