package localkms_test

import (
	"strings"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
	"github.com/openprofiles/profiles/localkms"
)

func TestServicePolicy(t *testing.T) {
	for _, arn := range []string{"", "arn:aws:kms:us-east-1:000000000000:key/k"} {
		doc := localkms.ServicePolicy(testAccount, testRegion, arn)
		pol, err := iam.ParseResourcePolicy([]byte(doc))
		if err != nil {
			t.Fatalf("ServicePolicy(%q) does not parse: %v\n%s", arn, err, doc)
		}
		if len(pol.Statements) != 2 {
			t.Errorf("ServicePolicy: %d statements, want 2", len(pol.Statements))
		}
	}
	if _, err := iam.ParseResourcePolicy([]byte(localkms.DefaultPolicy(testAccount))); err != nil {
		t.Fatalf("DefaultPolicy does not parse: %v", err)
	}
}

func TestCheckServiceAccess(t *testing.T) {
	const d1 = "arn:aws:profile:us-east-1:000000000000:domains/d1"
	onlyTwo := `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Allow","Principal":{"Service":"profile.amazonaws.com"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*"}]}`
	otherDomain := strings.Replace(localkms.ServicePolicy(testAccount, testRegion, ""), "domains/*", "domains/d2", 1)
	denyD1 := `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"Service":"profile.amazonaws.com"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Deny","Principal":{"Service":"profile.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*",
  "Condition":{"ArnEquals":{"aws:SourceArn":"` + d1 + `"}}}]}`
	for _, tt := range []struct {
		name, policy, account, source string
		denied                        string // "" when allowed, else the actions named
	}{
		{"ServicePolicy", localkms.ServicePolicy(testAccount, testRegion, ""), testAccount, d1, ""},
		{"ServicePolicyWithKeyARN", "keyARN", testAccount, d1, ""},
		{"DefaultPolicy", "", testAccount, d1, "kms:GenerateDataKey, kms:Decrypt, kms:CreateGrant"},
		{"NoCreateGrant", onlyTwo, testAccount, d1, "kms:CreateGrant"},
		{"OtherDomain", otherDomain, testAccount, d1, "kms:GenerateDataKey, kms:Decrypt, kms:CreateGrant"},
		{"OtherAccountPolicy", localkms.ServicePolicy("111111111111", testRegion, ""), testAccount, d1, "kms:GenerateDataKey, kms:Decrypt, kms:CreateGrant"},
		{"OtherSourceAccount", localkms.ServicePolicy(testAccount, testRegion, ""), "111111111111", d1, "kms:GenerateDataKey, kms:Decrypt, kms:CreateGrant"},
		{"OtherRegion", localkms.ServicePolicy(testAccount, "eu-west-1", ""), testAccount, d1, "kms:GenerateDataKey, kms:Decrypt, kms:CreateGrant"},
		{"ExplicitDeny", denyD1, testAccount, d1, "kms:Decrypt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := MustServer(t)
			var id string
			if tt.policy == "keyARN" {
				id = s.MustCreateKey(t, "")
				s.KMS.Store.UpdateKMSKey(t.Context(), id, func(k *profiles.KMSKey) error {
					k.Policy = localkms.ServicePolicy(testAccount, testRegion, k.ARN)
					return nil
				})
			} else {
				id = s.MustCreateKey(t, tt.policy)
			}
			err := s.KMS.CheckServiceAccess(t.Context(), id, tt.account, tt.source)
			if tt.denied == "" {
				if err != nil {
					t.Fatalf("CheckServiceAccess: %v", err)
				}
				return
			}
			if profiles.ErrorCode(err) != profiles.EFORBIDDEN {
				t.Fatalf("CheckServiceAccess: err=%v, want EFORBIDDEN", err)
			}
			want := "The key policy of arn:aws:kms:us-east-1:000000000000:key/" + id + " does not allow profile.amazonaws.com " +
				tt.denied + " for " + tt.source + "."
			if got := profiles.ErrorMessage(err); got != want {
				t.Errorf("CheckServiceAccess: message\n%q, want\n%q", got, want)
			}
		})
	}
}
