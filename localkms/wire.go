package localkms

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/openprofiles/profiles"
)

// The wire shapes of the AWS KMS JSON 1.1 API: members are named as in the
// API model, blobs are base64 (encoding/json does this for []byte) and
// timestamps are seconds since the epoch, as JSON numbers.

// epoch is a timestamp on the wire.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

type keyMetadata struct {
	AWSAccountId          string
	KeyId                 string
	Arn                   string
	CreationDate          epoch
	Enabled               bool
	Description           string
	KeyUsage              string
	KeyState              string
	DeletionDate          *epoch `json:",omitempty"`
	Origin                string
	KeyManager            string
	CustomerMasterKeySpec string
	KeySpec               string
	EncryptionAlgorithms  []string
	MultiRegion           bool
}

func (k *KMS) metadata(key *profiles.KMSKey) *keyMetadata {
	return &keyMetadata{
		AWSAccountId:          k.AccountID,
		KeyId:                 key.KeyID,
		Arn:                   key.ARN,
		CreationDate:          epoch(key.CreatedAt),
		Enabled:               key.State == profiles.KeyStateEnabled,
		Description:           key.Description,
		KeyUsage:              key.KeyUsage,
		KeyState:              key.State,
		DeletionDate:          epochPtr(key.DeletionDate),
		Origin:                "AWS_KMS",
		KeyManager:            "CUSTOMER",
		CustomerMasterKeySpec: key.KeySpec,
		KeySpec:               key.KeySpec,
		EncryptionAlgorithms:  []string{EncryptionAlgorithm},
	}
}

type keyOutput struct {
	KeyMetadata *keyMetadata
}

type keyIDInput struct {
	KeyId string
}

type tag struct {
	TagKey   string
	TagValue string
}

type aliasEntry struct {
	AliasName       string
	AliasArn        string
	TargetKeyId     string
	CreationDate    epoch
	LastUpdatedDate epoch
}

type grantConstraints struct {
	EncryptionContextSubset map[string]string `json:",omitempty"`
	EncryptionContextEquals map[string]string `json:",omitempty"`
}

type grantEntry struct {
	KeyId             string
	GrantId           string
	Name              string `json:",omitempty"`
	CreationDate      epoch
	GranteePrincipal  string
	RetiringPrincipal string `json:",omitempty"`
	IssuingAccount    string
	Operations        []string
	Constraints       *grantConstraints `json:",omitempty"`
}

func (k *KMS) grantEntry(key *profiles.KMSKey, g *profiles.KMSGrant) grantEntry {
	e := grantEntry{KeyId: key.ARN, GrantId: g.GrantID, Name: g.Name, CreationDate: epoch(g.CreatedAt),
		GranteePrincipal: g.GranteePrincipal, RetiringPrincipal: g.RetiringPrincipal,
		IssuingAccount: g.IssuingAccount, Operations: g.Operations}
	if len(g.EncryptionContextEquals) > 0 || len(g.EncryptionContextSubset) > 0 {
		e.Constraints = &grantConstraints{EncryptionContextSubset: g.EncryptionContextSubset,
			EncryptionContextEquals: g.EncryptionContextEquals}
	}
	return e
}

// decode reads a request body into in. An empty body is an empty object.
// Returns SerializationException (EINVALID).
func decode(body []byte, in any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, in); err != nil {
		return kmsErrorf(ExSerialization, profiles.EINVALID, "The request body is not valid JSON for this operation: %v", err)
	}
	return nil
}

// Paging: a marker is the last id or name of the previous page, opaque to
// clients.

func encodeMarker(last string) string { return base64.RawURLEncoding.EncodeToString([]byte(last)) }

func decodeMarker(m *string) (string, error) {
	if m == nil {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*m)
	if err != nil || len(b) == 0 {
		return "", kmsErrorf(ExInvalidMarker, profiles.EINVALID, "Invalid marker: %s", *m)
	}
	return string(b), nil
}

// pageLimit validates a Limit: nil is def, else 1 to max.
func pageLimit(limit *int32, max int, def int) (int, error) {
	if limit == nil {
		return def, nil
	}
	if *limit < 1 || int(*limit) > max {
		return 0, validationf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: "+
			"Member must have value between 1 and %d", *limit, max)
	}
	return int(*limit), nil
}
