// Package awskms is a profiles.KeyManager over an external service that
// speaks the AWS KMS API: AWS KMS itself, the built-in localkms of another
// OpenProfiles server, or a KMS emulator such as local-kms. It calls the
// service through aws-sdk-go-v2/service/kms with the credentials it is
// given.
//
// Errors of the service become root error codes:
//
//	NotFoundException                                      ENOTFOUND
//	DisabledException, KMSInvalidStateException,
//	AccessDeniedException, NotAuthorizedException          EFORBIDDEN
//	InvalidCiphertextException, IncorrectKeyException,
//	InvalidKeyUsageException, ValidationException, …       EINVALID
//	ThrottlingException, LimitExceededException            ETHROTTLED
//
// Anything else (the service unreachable, 5xx) is returned wrapped, an
// internal error.
//
// CheckServiceAccess cannot ask the service to evaluate the key policy for
// profile.amazonaws.com: the KMS API evaluates policies for the caller only.
// It checks instead that the key is enabled and that this manager's own
// credentials may kms:GenerateDataKey and kms:Decrypt under it, with an
// encryption context that names the source ARN and account, which is what
// OpenProfiles does with the key. It does not check kms:CreateGrant.
package awskms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

var _ profiles.KeyManager = (*Manager)(nil)

// Encryption context keys CheckServiceAccess sends with its trial data key.
const (
	ContextSourceARN     = "openprofiles:source-arn"
	ContextSourceAccount = "openprofiles:source-account"
)

// Manager is a key manager over an AWS-KMS-compatible service.
type Manager struct {
	Client *kms.Client
	// Logger gets the service's messages of access denials, which name
	// the principal of the credentials (User: arn:aws:iam::…): the errors
	// Manager returns, which reach callers, leave them out. Nil: not
	// logged.
	Logger *slog.Logger
}

// New returns a Manager that calls the KMS API at endpoint (e.g.
// http://127.0.0.1:4599; "" for AWS KMS of the region) in region, signing
// with creds. For other settings (retries, HTTP client), build the client
// with kms.New or kms.NewFromConfig (with an sdkhttp.Client as its HTTP
// client) and set Manager.Client.
func New(endpoint, region string, creds aws.CredentialsProvider) *Manager {
	o := kms.Options{Region: region, Credentials: creds, HTTPClient: sdkhttp.New(nil)}
	if endpoint != "" {
		o.BaseEndpoint = aws.String(endpoint)
	}
	return &Manager{Client: kms.New(o)}
}

// DescribeKey returns a key's metadata. Returns ENOTFOUND.
func (m *Manager) DescribeKey(ctx context.Context, keyID string) (*profiles.KeyMetadata, error) {
	out, err := m.Client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, m.kmsError(ctx, "DescribeKey", keyID, err)
	}
	md := out.KeyMetadata
	if md == nil {
		return nil, fmt.Errorf("awskms: DescribeKey %s: no KeyMetadata in the response", keyID)
	}
	return &profiles.KeyMetadata{
		KeyID:       aws.ToString(md.KeyId),
		ARN:         aws.ToString(md.Arn),
		State:       string(md.KeyState),
		Description: aws.ToString(md.Description),
		CreatedAt:   aws.ToTime(md.CreationDate).UTC(),
	}, nil
}

// GenerateDataKey returns a new 256-bit data key (KeySpec AES_256).
func (m *Manager) GenerateDataKey(ctx context.Context, keyID string, encryptionContext map[string]string) (plaintext, ciphertext []byte, err error) {
	out, err := m.Client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: encryptionContext,
	})
	if err != nil {
		return nil, nil, m.kmsError(ctx, "GenerateDataKey", keyID, err)
	}
	if len(out.Plaintext) != 32 || len(out.CiphertextBlob) == 0 {
		return nil, nil, fmt.Errorf("awskms: GenerateDataKey %s: %d bytes of plaintext, %d of ciphertext; want 32 and some",
			keyID, len(out.Plaintext), len(out.CiphertextBlob))
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// Decrypt decrypts a ciphertext under the key (the KeyId of the request,
// so that a ciphertext of another key fails).
func (m *Manager) Decrypt(ctx context.Context, keyID string, ciphertext []byte, encryptionContext map[string]string) ([]byte, error) {
	if len(ciphertext) == 0 {
		return nil, profiles.Errorf(profiles.EINVALID, "KMS Decrypt %s: the ciphertext is empty", keyID)
	}
	out, err := m.Client.Decrypt(ctx, &kms.DecryptInput{
		KeyId:             aws.String(keyID),
		CiphertextBlob:    ciphertext,
		EncryptionContext: encryptionContext,
	})
	if err != nil {
		return nil, m.kmsError(ctx, "Decrypt", keyID, err)
	}
	return out.Plaintext, nil
}

// CheckServiceAccess returns nil when the key is enabled and this manager's
// credentials may generate and decrypt a data key under it with an
// encryption context naming sourceARN and sourceAccount. Returns ENOTFOUND,
// and EFORBIDDEN saying what failed; see the package documentation for
// what an external KMS can check.
func (m *Manager) CheckServiceAccess(ctx context.Context, keyID, sourceAccount, sourceARN string) error {
	md, err := m.DescribeKey(ctx, keyID)
	if err != nil {
		return err
	}
	if md.State != string(types.KeyStateEnabled) {
		return profiles.Errorf(profiles.EFORBIDDEN, "KMS key %s is %s.", md.ARN, md.State)
	}
	ec := map[string]string{ContextSourceARN: sourceARN, ContextSourceAccount: sourceAccount}
	pt, ct, err := m.GenerateDataKey(ctx, keyID, ec)
	if err != nil {
		return accessError(err, md.ARN, "kms:GenerateDataKey", sourceARN)
	}
	got, err := m.Decrypt(ctx, keyID, ct, ec)
	if err != nil {
		return accessError(err, md.ARN, "kms:Decrypt", sourceARN)
	}
	if !bytes.Equal(got, pt) {
		return fmt.Errorf("awskms: KMS key %s: a data key did not decrypt to itself", md.ARN)
	}
	return nil
}

// accessError says which operation CheckServiceAccess could not do. An
// access denial names the key policy (the service tells policy failures
// apart from state failures by that word).
func accessError(err error, keyARN, action, sourceARN string) error {
	msg := profiles.ErrorMessage(err)
	if profiles.ErrorCode(err) == profiles.EFORBIDDEN &&
		(strings.Contains(msg, "AccessDeniedException") || strings.Contains(msg, "NotAuthorizedException")) {
		return profiles.Errorf(profiles.EFORBIDDEN,
			"The key policy of %s (or the IAM policy of OpenProfiles' KMS credentials) does not allow %s for %s: %s",
			keyARN, action, sourceARN, msg)
	}
	return err
}

// kmsError maps an error of the KMS client to a root error code (see the
// package documentation), or wraps it. The message of an access denial,
// which names the principal of the credentials, is logged, not returned.
func (m *Manager) kmsError(ctx context.Context, op, keyID string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		msg := fmt.Sprintf("KMS %s %s: %s: %s", op, keyID, code, ae.ErrorMessage())
		switch code {
		case "NotFoundException":
			return profiles.Errorf(profiles.ENOTFOUND, "%s", msg)
		case "AccessDeniedException", "NotAuthorizedException":
			if m.Logger != nil {
				m.Logger.WarnContext(ctx, "awskms: access denied", "op", op, "key", keyID, "err", msg)
			}
			return profiles.Errorf(profiles.EFORBIDDEN, "KMS %s %s: %s: the key policy, or the IAM policy of the credentials, does not allow it (the server's log has the service's message)", op, keyID, code)
		case "DisabledException", "KMSInvalidStateException":
			return profiles.Errorf(profiles.EFORBIDDEN, "%s", msg)
		case "InvalidCiphertextException", "IncorrectKeyException", "InvalidKeyUsageException", "InvalidArnException",
			"ValidationException", "SerializationException", "InvalidGrantTokenException":
			return profiles.Errorf(profiles.EINVALID, "%s", msg)
		case "ThrottlingException", "LimitExceededException":
			return profiles.Errorf(profiles.ETHROTTLED, "%s", msg)
		}
	}
	var ipe smithy.InvalidParamsError
	if errors.As(err, &ipe) {
		return profiles.Errorf(profiles.EINVALID, "KMS %s %s: %v", op, keyID, err)
	}
	return fmt.Errorf("awskms: %s %s: %w", op, keyID, err)
}
