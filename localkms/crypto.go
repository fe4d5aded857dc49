package localkms

import (
	"context"
	"crypto/rand"

	"github.com/openprofiles/profiles"
)

// The cryptographic operations of the KMS API.

type generateDataKeyInput struct {
	KeyId             string
	EncryptionContext map[string]string
	NumberOfBytes     *int32
	KeySpec           string
	GrantTokens       []string
}

type generateDataKeyOutput struct {
	CiphertextBlob []byte
	Plaintext      []byte `json:",omitempty"`
	KeyId          string
}

// dataKeySize returns the size of a data key: KeySpec AES_256 (32 bytes)
// or AES_128 (16), or NumberOfBytes (1 to 1024), exactly one of them.
func dataKeySize(in *generateDataKeyInput) (int, error) {
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil:
		return 0, validationf("Specify either KeySpec or NumberOfBytes, not both.")
	case in.KeySpec == "AES_256":
		return 32, nil
	case in.KeySpec == "AES_128":
		return 16, nil
	case in.KeySpec != "":
		return 0, validationf("1 validation error detected: Value '%s' at 'keySpec' failed to satisfy constraint: "+
			"Member must satisfy enum value set: [AES_256, AES_128]", in.KeySpec)
	case in.NumberOfBytes == nil:
		return 0, validationf("Specify either KeySpec or NumberOfBytes.")
	case *in.NumberOfBytes < 1 || *in.NumberOfBytes > MaxDataKeyBytes:
		return 0, validationf("1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: "+
			"Member must have value between 1 and %d", *in.NumberOfBytes, MaxDataKeyBytes)
	}
	return int(*in.NumberOfBytes), nil
}

func (k *KMS) generateDataKey(ctx context.Context, c *caller, in *generateDataKeyInput) (any, error) {
	return k.dataKey(ctx, c, "kms:GenerateDataKey", in)
}

func (k *KMS) generateDataKeyWithoutPlaintext(ctx context.Context, c *caller, in *generateDataKeyInput) (any, error) {
	out, err := k.dataKey(ctx, c, "kms:GenerateDataKeyWithoutPlaintext", in)
	if err != nil {
		return nil, err
	}
	out.Plaintext = nil
	return out, nil
}

func (k *KMS) dataKey(ctx context.Context, c *caller, action string, in *generateDataKeyInput) (*generateDataKeyOutput, error) {
	n, err := dataKeySize(in)
	if err != nil {
		return nil, err
	}
	key, err := k.usableFor(ctx, c, action, in.KeyId, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	plaintext := make([]byte, n)
	rand.Read(plaintext)
	blob, err := k.seal(key, plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return &generateDataKeyOutput{CiphertextBlob: blob, Plaintext: plaintext, KeyId: key.ARN}, nil
}

// usableFor resolves a key, authorises the caller's action on it with the
// encryption context, and checks that it is enabled.
func (k *KMS) usableFor(ctx context.Context, c *caller, action, keyID string, ec map[string]string) (*profiles.KMSKey, error) {
	key, err := k.resolve(ctx, keyID)
	if err != nil {
		return nil, err
	}
	if err := k.allow(ctx, c, action, key, ec); err != nil {
		return nil, err
	}
	if err := usable(key); err != nil {
		return nil, err
	}
	return key, nil
}

func checkAlgorithm(alg string) error {
	if alg != "" && alg != EncryptionAlgorithm {
		return kmsErrorf(ExInvalidKeyUsage, profiles.EINVALID,
			"The encryption algorithm %s is not valid for a %s key; use %s.", alg, KeySpec, EncryptionAlgorithm)
	}
	return nil
}

type encryptInput struct {
	KeyId               string
	Plaintext           []byte
	EncryptionContext   map[string]string
	EncryptionAlgorithm string
	GrantTokens         []string
}

type encryptOutput struct {
	CiphertextBlob      []byte
	KeyId               string
	EncryptionAlgorithm string
}

func (k *KMS) encrypt(ctx context.Context, c *caller, in *encryptInput) (any, error) {
	if len(in.Plaintext) < 1 || len(in.Plaintext) > MaxPlaintextBytes {
		return nil, validationf("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "+
			"Member must have length between 1 and %d", MaxPlaintextBytes)
	}
	if err := checkAlgorithm(in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	key, err := k.usableFor(ctx, c, "kms:Encrypt", in.KeyId, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	blob, err := k.seal(key, in.Plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return encryptOutput{blob, key.ARN, EncryptionAlgorithm}, nil
}

type decryptInput struct {
	CiphertextBlob      []byte
	EncryptionContext   map[string]string
	KeyId               string
	EncryptionAlgorithm string
	GrantTokens         []string
}

type decryptOutput struct {
	KeyId               string
	Plaintext           []byte
	EncryptionAlgorithm string
}

func (k *KMS) decrypt(ctx context.Context, c *caller, in *decryptInput) (any, error) {
	if err := checkAlgorithm(in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	key, pt, err := k.openBlob(ctx, c, "kms:Decrypt", in.KeyId, in.CiphertextBlob, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return decryptOutput{key.ARN, pt, EncryptionAlgorithm}, nil
}

// openBlob decrypts a ciphertext blob for the caller's action: with the
// key keyID when it is set (IncorrectKeyException when the blob names
// another key), else with the key the blob names.
func (k *KMS) openBlob(ctx context.Context, c *caller, action, keyID string, blob []byte, ec map[string]string) (*profiles.KMSKey, []byte, error) {
	if len(blob) < 1 || len(blob) > MaxCiphertextBytes {
		return nil, nil, validationf("1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: "+
			"Member must have length between 1 and %d", MaxCiphertextBytes)
	}
	blobKey, err := blobKeyID(blob)
	if err != nil {
		return nil, nil, err
	}
	if keyID == "" {
		keyID = blobKey
	}
	key, err := k.usableFor(ctx, c, action, keyID, ec)
	if err != nil {
		return nil, nil, err
	}
	if key.KeyID != blobKey {
		return nil, nil, kmsErrorf(ExIncorrectKey, profiles.EINVALID,
			"The key ID in the request does not identify a KMS key that can perform this operation.")
	}
	pt, err := k.open(key, blob, ec)
	if err != nil {
		return nil, nil, err
	}
	return key, pt, nil
}

type reEncryptInput struct {
	CiphertextBlob                 []byte
	SourceEncryptionContext        map[string]string
	SourceKeyId                    string
	DestinationKeyId               string
	DestinationEncryptionContext   map[string]string
	SourceEncryptionAlgorithm      string
	DestinationEncryptionAlgorithm string
	GrantTokens                    []string
}

type reEncryptOutput struct {
	CiphertextBlob                 []byte
	SourceKeyId                    string
	KeyId                          string
	SourceEncryptionAlgorithm      string
	DestinationEncryptionAlgorithm string
}

func (k *KMS) reEncrypt(ctx context.Context, c *caller, in *reEncryptInput) (any, error) {
	if err := checkAlgorithm(in.SourceEncryptionAlgorithm); err != nil {
		return nil, err
	}
	if err := checkAlgorithm(in.DestinationEncryptionAlgorithm); err != nil {
		return nil, err
	}
	if in.DestinationKeyId == "" {
		return nil, validationf("1 validation error detected: Value null at 'destinationKeyId' failed to satisfy constraint: Member must not be null")
	}
	src, pt, err := k.openBlob(ctx, c, "kms:ReEncryptFrom", in.SourceKeyId, in.CiphertextBlob, in.SourceEncryptionContext)
	if err != nil {
		return nil, err
	}
	dst, err := k.usableFor(ctx, c, "kms:ReEncryptTo", in.DestinationKeyId, in.DestinationEncryptionContext)
	if err != nil {
		return nil, err
	}
	blob, err := k.seal(dst, pt, in.DestinationEncryptionContext)
	if err != nil {
		return nil, err
	}
	return reEncryptOutput{blob, src.ARN, dst.ARN, EncryptionAlgorithm, EncryptionAlgorithm}, nil
}
