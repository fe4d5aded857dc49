// Package awss3 is a profiles.ObjectDestinations and a
// profiles.ObjectSources over an external service that speaks the Amazon S3
// API: Amazon S3 itself, or an S3-compatible service or emulator such as
// fauxqs. It calls the service through aws-sdk-go-v2/service/s3 (the S3
// REST-XML protocol) with the credentials it is given.
//
// # Addressing
//
// Destinations are named by URI, s3://BUCKET or s3://BUCKET/PREFIX. Without
// an endpoint the client calls Amazon S3 of the region, virtual-hosted-style
// (BUCKET.s3.REGION.amazonaws.com). With an endpoint it calls it path-style
// (ENDPOINT/BUCKET/KEY), which S3-compatible services and emulators serve
// without DNS names for each bucket.
//
// # Checksums
//
// The client New builds sends a checksum only when the operation requires
// one (RequestChecksumCalculation WhenRequired; PutObject does not). The
// body is protected by the SigV4 signature of its SHA-256 over HTTP and by
// TLS over HTTPS. With the SDK's other setting, WhenSupported (the default
// of clients from config.LoadDefaultConfig), PutObject adds a CRC32 of the
// body: as an x-amz-checksum-crc32 header over HTTP, and over HTTPS in the
// trailer of an aws-chunked body, which some S3-compatible services refuse.
// fauxqs accepts both forms (it stores the checksum without checking it);
// to have CRC32s, set Buckets.Client to a client with WhenSupported.
//
// # Encryption
//
// PutObject with a KMS key ARN asks for SSE-KMS (x-amz-server-side-encryption:
// aws:kms with the key as x-amz-server-side-encryption-aws-kms-key-id): the
// service encrypts the object with a data key of that key, and needs the
// credentials to be allowed kms:GenerateDataKey on it. Emulators may store
// the object unencrypted: fauxqs accepts and ignores the headers.
//
// # Errors
//
// Errors of the service become root error codes (S3 error codes, or, for
// the responses to HEAD requests, which have no body, the HTTP status text
// the SDK reports):
//
//	NoSuchBucket, NoSuchKey, NotFound (404)                     ENOTFOUND
//	AccessDenied, Forbidden (403), AllAccessDisabled,
//	AccountProblem, KMS.* (the object's KMS key)                EFORBIDDEN
//	InvalidBucketName, InvalidArgument, InvalidRequest,
//	KeyTooLongError, EntityTooLarge, InvalidStorageClass,
//	PermanentRedirect, MovedPermanently (301: a bucket of
//	another region), AuthorizationHeaderMalformed               EINVALID
//	SlowDown, TooManyRequests, RequestLimitExceeded             ETHROTTLED
//
// Anything else (the service unreachable, 5xx, credentials it refuses) is
// returned wrapped, an internal error: the caller tries again later.
package awss3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

var (
	_ profiles.ObjectDestinations = (*Buckets)(nil)
	_ profiles.ObjectSources      = (*Buckets)(nil)
)

// Buckets is the buckets of an S3-compatible service.
type Buckets struct {
	Client *s3.Client
}

// New returns Buckets that call the S3 API at endpoint (e.g.
// http://127.0.0.1:4566, path-style; "" for Amazon S3 of the region,
// virtual-hosted-style) in region, signing with creds. For other settings
// (retries, checksums, HTTP client), build the client with s3.New or
// s3.NewFromConfig (with an sdkhttp.Client as its HTTP client) and set
// Buckets.Client.
func New(endpoint, region string, creds aws.CredentialsProvider) *Buckets {
	o := s3.Options{Region: region, Credentials: creds, HTTPClient: sdkhttp.New(nil),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired}
	if endpoint != "" {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	}
	return &Buckets{Client: s3.New(o)}
}

// bucketRE is a loose check of bucket names: S3 has more rules (a letter or
// digit first and last, no "..", not an IP address, …) that the service
// enforces.
var bucketRE = regexp.MustCompile(`^[a-z0-9.-]{3,63}$`)

// ParseURI returns the bucket and the prefix of an S3 URI, s3://BUCKET (the
// prefix is "") or s3://BUCKET/PREFIX (the prefix is everything after the
// slash that ends the bucket, as it is: "some/prefix" of
// s3://bucket/some/prefix, "some/prefix/" of s3://bucket/some/prefix/).
// Returns EINVALID naming the URI when it is not one, or its bucket name is
// not 3 to 63 lowercase letters, digits, dots and hyphens.
func ParseURI(uri string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", profiles.Errorf(profiles.EINVALID, "%q is not an S3 URI (s3://BUCKET or s3://BUCKET/PREFIX)", uri)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !bucketRE.MatchString(bucket) {
		return "", "", profiles.Errorf(profiles.EINVALID,
			"S3 URI %q: bucket %q: a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens", uri, bucket)
	}
	return bucket, prefix, nil
}

// CheckBucket returns nil when the bucket of the s3://BUCKET[/PREFIX] URI
// exists and the credentials may use it (HeadBucket). Returns EINVALID for
// a bad URI, ENOTFOUND for a missing bucket and EFORBIDDEN when access is
// denied.
func (b *Buckets) CheckBucket(ctx context.Context, uri string) error {
	bucket, _, err := ParseURI(uri)
	if err != nil {
		return err
	}
	if _, err := b.Client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return s3Error("HeadBucket", bucket, bucket, err)
	}
	return nil
}

// PutObject writes body as the object key of bucket with the content type
// (none: the service's default), replacing any object of that key, and
// encrypted with SSE-KMS under the KMS key kmsKeyARN when it is not "".
// Returns EINVALID for a bad bucket name or an empty key; otherwise the
// codes of the package documentation.
func (b *Buckets) PutObject(ctx context.Context, bucket, key string, body []byte, contentType, kmsKeyARN string) error {
	if !bucketRE.MatchString(bucket) {
		return profiles.Errorf(profiles.EINVALID, "S3 bucket %q: a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens", bucket)
	}
	if key == "" {
		return profiles.Errorf(profiles.EINVALID, "S3 PutObject %s: the object key is empty", bucket)
	}
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if kmsKeyARN != "" {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(kmsKeyARN)
	}
	if _, err := b.Client.PutObject(ctx, in); err != nil {
		return s3Error("PutObject", bucket, bucket+"/"+key, err)
	}
	return nil
}

// ListObjects returns the objects of bucket whose keys begin with prefix
// ("" for all), in key order (ascending UTF-8 bytes, as S3 lists them),
// reading every page of ListObjectsV2; LastModified is in UTC. No object is
// an empty slice. Returns EINVALID for a bad bucket name; otherwise the
// codes of the package documentation (ENOTFOUND for a missing bucket).
func (b *Buckets) ListObjects(ctx context.Context, bucket, prefix string) ([]profiles.SourceObject, error) {
	if !bucketRE.MatchString(bucket) {
		return nil, profiles.Errorf(profiles.EINVALID, "S3 bucket %q: a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens", bucket)
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	objs := []profiles.SourceObject{}
	for p := s3.NewListObjectsV2Paginator(b.Client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s3Error("ListObjectsV2", bucket, bucket+"/"+prefix, err)
		}
		for _, o := range page.Contents {
			objs = append(objs, profiles.SourceObject{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size),
				LastModified: aws.ToTime(o.LastModified).UTC()})
		}
	}
	// S3 lists in this order already; services that speak its API may not:
	// fauxqs sorts with a locale's collation (a, B, c), and over more than
	// one page skips the keys that order puts after a page's last key but
	// bytes put before it, which no sort here brings back.
	slices.SortFunc(objs, func(x, y profiles.SourceObject) int { return strings.Compare(x.Key, y.Key) })
	return objs, nil
}

// GetObject returns the bytes of an object, at most max of them: EINVALID
// for a larger one (said by its Content-Length, without reading it, or
// found reading it). Otherwise the codes of OpenObject.
func (b *Buckets) GetObject(ctx context.Context, bucket, key string, max int64) ([]byte, error) {
	body, err := b.OpenObject(ctx, bucket, key, max)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var buf bytes.Buffer
	if l, ok := body.(*limitedBody); ok && l.length > 0 {
		buf.Grow(int(l.length) + bytes.MinRead) // room to read EOF without growing
	}
	if _, err := buf.ReadFrom(body); err != nil {
		if pe := (*profiles.Error)(nil); errors.As(err, &pe) {
			return nil, err // too large
		}
		return nil, fmt.Errorf("awss3: GetObject %s/%s: read body: %w", bucket, key, err)
	}
	return buf.Bytes(), nil
}

// OpenObject returns the body of an object to read, at most max bytes of
// it: an object whose Content-Length says more is EINVALID at once, and a
// body that turns out longer makes Read return EINVALID. Returns EINVALID
// for a bad bucket name, an empty key or a negative max; otherwise the
// codes of the package documentation. The caller closes the body.
func (b *Buckets) OpenObject(ctx context.Context, bucket, key string, max int64) (io.ReadCloser, error) {
	if !bucketRE.MatchString(bucket) {
		return nil, profiles.Errorf(profiles.EINVALID, "S3 bucket %q: a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens", bucket)
	}
	if key == "" {
		return nil, profiles.Errorf(profiles.EINVALID, "S3 GetObject %s: the object key is empty", bucket)
	}
	if max < 0 {
		return nil, profiles.Errorf(profiles.EINVALID, "S3 GetObject %s/%s: the size limit %d is negative", bucket, key, max)
	}
	out, err := b.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, s3Error("GetObject", bucket, bucket+"/"+key, err)
	}
	n := aws.ToInt64(out.ContentLength) // 0 when not given
	if n > max {
		out.Body.Close()
		return nil, profiles.Errorf(profiles.EINVALID, "S3 object %s/%s is %d bytes, more than the limit of %d bytes", bucket, key, n, max)
	}
	return &limitedBody{body: out.Body, max: max, length: n, name: bucket + "/" + key}, nil
}

// limitedBody reads an object's body, failing (EINVALID) past max bytes.
type limitedBody struct {
	body   io.ReadCloser
	max    int64
	read   int64
	length int64 // Content-Length, 0 when not given
	name   string
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.read > l.max {
		return 0, profiles.Errorf(profiles.EINVALID, "S3 object %s is more than the limit of %d bytes", l.name, l.max)
	}
	if l.max < math.MaxInt64 {
		if room := l.max - l.read + 1; room < int64(len(p)) {
			p = p[:room] // one byte more than max tells a body of more
		}
	}
	n, err := l.body.Read(p)
	l.read += int64(n)
	if l.read > l.max {
		return n - int(l.read-l.max), profiles.Errorf(profiles.EINVALID, "S3 object %s is more than the limit of %d bytes", l.name, l.max)
	}
	return n, err
}

func (l *limitedBody) Close() error { return l.body.Close() }

// codes maps S3 error codes to root error codes.
var codes = map[string]string{
	"NoSuchBucket": profiles.ENOTFOUND,
	"NoSuchKey":    profiles.ENOTFOUND,
	"NotFound":     profiles.ENOTFOUND,

	"AccessDenied":      profiles.EFORBIDDEN,
	"Forbidden":         profiles.EFORBIDDEN,
	"AllAccessDisabled": profiles.EFORBIDDEN,
	"AccountProblem":    profiles.EFORBIDDEN,

	"InvalidBucketName":            profiles.EINVALID,
	"InvalidArgument":              profiles.EINVALID,
	"InvalidRequest":               profiles.EINVALID,
	"KeyTooLongError":              profiles.EINVALID,
	"EntityTooLarge":               profiles.EINVALID,
	"InvalidStorageClass":          profiles.EINVALID,
	"PermanentRedirect":            profiles.EINVALID,
	"MovedPermanently":             profiles.EINVALID,
	"AuthorizationHeaderMalformed": profiles.EINVALID,

	"SlowDown":             profiles.ETHROTTLED,
	"TooManyRequests":      profiles.ETHROTTLED,
	"RequestLimitExceeded": profiles.ETHROTTLED,
}

// s3Error maps an error of the S3 client for the bucket, calling op on
// target (the bucket or bucket/key), to a root error code (see the package
// documentation), or wraps it.
func s3Error(op, bucket, target string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		detail := code
		if m := ae.ErrorMessage(); m != "" {
			detail += ": " + m
		}
		c, ok := codes[code]
		if !ok && strings.HasPrefix(code, "KMS.") {
			c, ok = profiles.EFORBIDDEN, true
		}
		switch {
		case !ok:
		case code == "NoSuchKey":
			return profiles.Errorf(c, "S3 object %s not found (%s: %s)", target, op, detail)
		case c == profiles.ENOTFOUND:
			return profiles.Errorf(c, "S3 bucket %s not found (%s %s: %s)", bucket, op, target, detail)
		case c == profiles.EFORBIDDEN:
			return profiles.Errorf(c, "S3 %s %s: access denied (%s)", op, target, detail)
		case code == "PermanentRedirect" || code == "MovedPermanently":
			return profiles.Errorf(c, "S3 %s %s: %s: the bucket is in another region than the S3 client's", op, target, detail)
		default:
			return profiles.Errorf(c, "S3 %s %s: %s", op, target, detail)
		}
	}
	var ipe smithy.InvalidParamsError
	if errors.As(err, &ipe) {
		return profiles.Errorf(profiles.EINVALID, "S3 %s %s: %v", op, target, err)
	}
	return fmt.Errorf("awss3: %s %s: %w", op, target, err)
}
