package awss3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/awss3"
	"github.com/openprofiles/profiles/internal/fauxqs"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

const testRegion = fauxqs.Region

func TestParseURI(t *testing.T) {
	for _, tt := range []struct {
		uri, bucket, prefix string
	}{
		{"s3://exports", "exports", ""},
		{"s3://exports/", "exports", ""},
		{"s3://exports/some/prefix", "exports", "some/prefix"},
		{"s3://exports/some/prefix/", "exports", "some/prefix/"},
		{"s3://my.bucket-01/x", "my.bucket-01", "x"},
		{"s3://abc", "abc", ""},
		{"s3://" + strings.Repeat("b", 63) + "/p", strings.Repeat("b", 63), "p"},
	} {
		bucket, prefix, err := awss3.ParseURI(tt.uri)
		if err != nil || bucket != tt.bucket || prefix != tt.prefix {
			t.Errorf("ParseURI(%q) = %q, %q, %v; want %q, %q, nil", tt.uri, bucket, prefix, err, tt.bucket, tt.prefix)
		}
	}
	for _, uri := range []string{
		"", "exports", "exports/prefix", "S3://exports", "s3:/exports", "https://exports.s3.amazonaws.com/x",
		"s3://", "s3:///prefix", "s3://ab", "s3://" + strings.Repeat("b", 64), "s3://Exports", "s3://ex_ports/x", "s3://ex ports",
	} {
		bucket, prefix, err := awss3.ParseURI(uri)
		if profiles.ErrorCode(err) != profiles.EINVALID || !strings.Contains(err.Error(), fmt.Sprintf("%q", uri)) {
			t.Errorf("ParseURI(%q) = %q, %q, %v; want EINVALID naming the URI", uri, bucket, prefix, err)
		}
	}
}

// recorder is an HTTP client that keeps the header of each request it sends.
type recorder struct {
	base    aws.HTTPClient
	mu      sync.Mutex
	headers []http.Header
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.headers = append(r.headers, req.Header.Clone())
	r.mu.Unlock()
	return r.base.Do(req)
}

func (r *recorder) last(tb testing.TB) http.Header {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.headers) == 0 {
		tb.Fatal("no request was sent")
	}
	return r.headers[len(r.headers)-1]
}

// startFauxqs starts fauxqs and returns its endpoint and Buckets from New
// that call it, whose requests rec records.
func startFauxqs(tb testing.TB) (string, *awss3.Buckets, *recorder) {
	tb.Helper()
	endpoint := fauxqs.Start(tb)
	b := awss3.New(endpoint, testRegion, credentials.NewStaticCredentialsProvider("AKTEST", "secret", ""))
	rec := &recorder{base: b.Client.Options().HTTPClient}
	b.Client = s3.New(b.Client.Options(), func(o *s3.Options) { o.HTTPClient = rec })
	return endpoint, b, rec
}

func TestCheckBucket(t *testing.T) {
	endpoint, b, _ := startFauxqs(t)
	ctx := t.Context()
	fauxqs.CreateBucket(t, endpoint, testRegion, "exports")
	for _, uri := range []string{"s3://exports", "s3://exports/", "s3://exports/segments/2026/"} {
		if err := b.CheckBucket(ctx, uri); err != nil {
			t.Errorf("CheckBucket(%q): %v, want nil", uri, err)
		}
	}
	err := b.CheckBucket(ctx, "s3://no-such-bucket/x")
	if profiles.ErrorCode(err) != profiles.ENOTFOUND || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("CheckBucket(missing bucket): %v, want ENOTFOUND naming no-such-bucket", err)
	}
	for _, uri := range []string{"exports", "s3://Exports", "s3://ex"} {
		if err := b.CheckBucket(ctx, uri); profiles.ErrorCode(err) != profiles.EINVALID || !strings.Contains(err.Error(), fmt.Sprintf("%q", uri)) {
			t.Errorf("CheckBucket(%q): %v, want EINVALID naming the URI", uri, err)
		}
	}
}

func TestPutObject(t *testing.T) {
	endpoint, b, rec := startFauxqs(t)
	ctx := t.Context()
	fauxqs.CreateBucket(t, endpoint, testRegion, "exports")
	head := func(key string) *s3.HeadObjectOutput {
		t.Helper()
		out, err := fauxqs.S3Client(endpoint, testRegion).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("exports"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("HeadObject %s: %v", key, err)
		}
		return out
	}

	csv := []byte("ProfileId,FirstName\n1,Ann\n2,Bob\n")
	if err := b.PutObject(ctx, "exports", "snap/1/part-0.csv", csv, "text/csv", ""); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if got := fauxqs.GetObject(t, endpoint, testRegion, "exports", "snap/1/part-0.csv"); !bytes.Equal(got, csv) {
		t.Errorf("object body = %q, want %q", got, csv)
	}
	if h := head("snap/1/part-0.csv"); aws.ToString(h.ContentType) != "text/csv" || aws.ToInt64(h.ContentLength) != int64(len(csv)) {
		t.Errorf("HeadObject: Content-Type %q, length %d; want text/csv, %d", aws.ToString(h.ContentType), aws.ToInt64(h.ContentLength), len(csv))
	}
	// No checksum but the signed SHA-256 of the body, and no encryption
	// without a KMS key.
	h := rec.last(t)
	if got := h.Get("X-Amz-Content-Sha256"); got != fmt.Sprintf("%x", sha256.Sum256(csv)) {
		t.Errorf("PutObject request: X-Amz-Content-Sha256 %q, want the SHA-256 of the body", got)
	}
	for _, name := range []string{"X-Amz-Checksum-Crc32", "X-Amz-Trailer", "X-Amz-Server-Side-Encryption"} {
		if got := h.Get(name); got != "" {
			t.Errorf("PutObject request: %s %q, want none", name, got)
		}
	}

	// Overwrite: a new body and content type replace the old ones.
	jsonl := []byte(`{"ProfileId":"1"}` + "\n")
	if err := b.PutObject(ctx, "exports", "snap/1/part-0.csv", jsonl, "application/x-ndjson", ""); err != nil {
		t.Fatalf("PutObject (overwrite): %v", err)
	}
	if got := fauxqs.GetObject(t, endpoint, testRegion, "exports", "snap/1/part-0.csv"); !bytes.Equal(got, jsonl) {
		t.Errorf("object body after overwrite = %q, want %q", got, jsonl)
	}
	if got := aws.ToString(head("snap/1/part-0.csv").ContentType); got != "application/x-ndjson" {
		t.Errorf("Content-Type after overwrite = %q, want application/x-ndjson", got)
	}

	// A large binary body (beyond the transport's write buffer) and an
	// empty one come back byte for byte.
	big := make([]byte, 3<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	if err := b.PutObject(ctx, "exports", "snap/1/part-1.bin", big, "application/octet-stream", ""); err != nil {
		t.Fatalf("PutObject (3 MiB): %v", err)
	}
	if got := fauxqs.GetObject(t, endpoint, testRegion, "exports", "snap/1/part-1.bin"); !bytes.Equal(got, big) {
		t.Errorf("3 MiB object: got %d bytes, not those written", len(got))
	}
	if err := b.PutObject(ctx, "exports", "snap/1/_SUCCESS", nil, "", ""); err != nil {
		t.Fatalf("PutObject (empty): %v", err)
	}
	if got := fauxqs.GetObject(t, endpoint, testRegion, "exports", "snap/1/_SUCCESS"); len(got) != 0 {
		t.Errorf("empty object: got %q", got)
	}
	want := []string{"snap/1/_SUCCESS", "snap/1/part-0.csv", "snap/1/part-1.bin"}
	if diff := cmp.Diff(want, fauxqs.ListKeys(t, endpoint, testRegion, "exports", "snap/")); diff != "" {
		t.Errorf("keys under snap/ (-want +got):\n%s", diff)
	}

	err := b.PutObject(ctx, "no-such-bucket", "k", csv, "text/csv", "")
	if profiles.ErrorCode(err) != profiles.ENOTFOUND || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("PutObject(missing bucket): %v, want ENOTFOUND naming no-such-bucket", err)
	}
	for _, tt := range []struct{ bucket, key string }{{"Exports", "k"}, {"ex", "k"}, {"exports", ""}} {
		if err := b.PutObject(ctx, tt.bucket, tt.key, csv, "text/csv", ""); profiles.ErrorCode(err) != profiles.EINVALID {
			t.Errorf("PutObject(%q, %q): %v, want EINVALID", tt.bucket, tt.key, err)
		}
	}
}

// TestPutObject_Checksums checks that fauxqs takes the CRC32s of clients
// with RequestChecksumCalculation WhenSupported: in a header over HTTP, and
// in the trailer of an aws-chunked body over HTTPS (through a TLS proxy in
// front of fauxqs). It stores the body as sent and the checksum.
func TestPutObject_Checksums(t *testing.T) {
	endpoint, b, rec := startFauxqs(t)
	fauxqs.CreateBucket(t, endpoint, testRegion, "exports")
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	tls := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	t.Cleanup(tls.Close)

	body := bytes.Repeat([]byte("ProfileId,FirstName\n1,Ann\n"), 1000)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(body))
	wantSum := base64.StdEncoding.EncodeToString(sum[:])
	for _, tt := range []struct {
		name, endpoint string
		httpClient     aws.HTTPClient
		chunked        bool
	}{
		{"http", endpoint, rec.base, false},
		{"https", tls.URL, sdkhttp.New(tls.Client()), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{base: tt.httpClient}
			c := &awss3.Buckets{Client: s3.New(b.Client.Options(), func(o *s3.Options) {
				o.BaseEndpoint = aws.String(tt.endpoint)
				o.HTTPClient = rec
				o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
			})}
			key := "crc/" + tt.name + ".csv"
			if err := c.PutObject(t.Context(), "exports", key, body, "text/csv", ""); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			h := rec.last(t)
			if chunked := strings.Contains(h.Get("Content-Encoding"), "aws-chunked"); chunked != tt.chunked ||
				(tt.chunked && h.Get("X-Amz-Trailer") != "x-amz-checksum-crc32") || (!tt.chunked && h.Get("X-Amz-Checksum-Crc32") != wantSum) {
				t.Errorf("PutObject request: Content-Encoding %q, X-Amz-Trailer %q, X-Amz-Checksum-Crc32 %q; want aws-chunked %v, the CRC32 %s",
					h.Get("Content-Encoding"), h.Get("X-Amz-Trailer"), h.Get("X-Amz-Checksum-Crc32"), tt.chunked, wantSum)
			}
			if got := fauxqs.GetObject(t, endpoint, testRegion, "exports", key); !bytes.Equal(got, body) {
				t.Errorf("object: got %d bytes, not the %d written", len(got), len(body))
			}
			out, err := fauxqs.S3Client(endpoint, testRegion).HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("exports"),
				Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if got := aws.ToString(out.ChecksumCRC32); got != wantSum {
				t.Errorf("stored CRC32 = %q, want %q", got, wantSum)
			}
		})
	}
}

// TestPutObject_KMS checks that a KMS key asks for SSE-KMS with that key.
// fauxqs accepts and ignores the encryption headers: it stores the object
// as it was sent and does not report an encryption on HeadObject.
func TestPutObject_KMS(t *testing.T) {
	endpoint, b, rec := startFauxqs(t)
	ctx := t.Context()
	fauxqs.CreateBucket(t, endpoint, testRegion, "exports")
	const key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	body := []byte("ProfileId\n1\n")
	if err := b.PutObject(ctx, "exports", "enc/part-0.csv", body, "text/csv", key); err != nil {
		t.Fatalf("PutObject(kms key): %v", err)
	}
	h := rec.last(t)
	if got, gotKey := h.Get("X-Amz-Server-Side-Encryption"), h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); got != "aws:kms" || gotKey != key {
		t.Errorf("PutObject request: X-Amz-Server-Side-Encryption %q, -Aws-Kms-Key-Id %q; want aws:kms, %s", got, gotKey, key)
	}
	if got := fauxqs.GetObject(t, endpoint, testRegion, "exports", "enc/part-0.csv"); !bytes.Equal(got, body) {
		t.Errorf("object body = %q, want %q", got, body)
	}
	out, err := fauxqs.S3Client(endpoint, testRegion).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("exports"), Key: aws.String("enc/part-0.csv")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if out.ServerSideEncryption != "" || out.SSEKMSKeyId != nil {
		t.Errorf("HeadObject: encryption %q, key %q; fauxqs %s ignored SSE-KMS: update the documentation and this test",
			out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId), fauxqs.Version)
	}
}

// TestErrors checks the mapping of errors fauxqs does not give: a server
// answers each request with the status and S3 error document of the case.
func TestErrors(t *testing.T) {
	for _, tt := range []struct {
		name          string
		status        int
		code          string // of the error document; HEAD responses have none
		head, put     string // the root codes of CheckBucket and PutObject
		headIn, putIn string // text the errors carry
	}{
		{"access denied", 403, "AccessDenied", profiles.EFORBIDDEN, profiles.EFORBIDDEN, "Forbidden", "AccessDenied"},
		{"kms key", 400, "KMS.NotFoundException", profiles.EINTERNAL, profiles.EFORBIDDEN, "BadRequest", "KMS.NotFoundException"},
		{"no such bucket", 404, "NoSuchBucket", profiles.ENOTFOUND, profiles.ENOTFOUND, "exports", "exports"},
		{"another region", 301, "PermanentRedirect", profiles.EINVALID, profiles.EINVALID, "another region", "another region"},
		{"throttled", 503, "SlowDown", profiles.EINTERNAL, profiles.ETHROTTLED, "ServiceUnavailable", "SlowDown"},
		{"server error", 500, "InternalError", profiles.EINTERNAL, profiles.EINTERNAL, "InternalServerError", "InternalError"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(tt.status)
				if r.Method != http.MethodHead {
					fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>made up</Message><RequestId>1</RequestId></Error>`, tt.code)
				}
			}))
			t.Cleanup(srv.Close)
			b := awss3.New(srv.URL, testRegion, credentials.NewStaticCredentialsProvider("AKTEST", "secret", ""))
			b.Client = s3.New(b.Client.Options(), func(o *s3.Options) { o.RetryMaxAttempts = 1 })
			err := b.CheckBucket(t.Context(), "s3://exports/p")
			if profiles.ErrorCode(err) != tt.head || !strings.Contains(err.Error(), tt.headIn) {
				t.Errorf("CheckBucket: %v, want %s carrying %q", err, tt.head, tt.headIn)
			}
			err = b.PutObject(t.Context(), "exports", "p/k", []byte("x"), "text/plain", "arn:aws:kms:us-east-1:000000000000:key/k")
			if profiles.ErrorCode(err) != tt.put || !strings.Contains(err.Error(), tt.putIn) {
				t.Errorf("PutObject: %v, want %s carrying %q", err, tt.put, tt.putIn)
			}
		})
	}
	unreachable := awss3.New("http://127.0.0.1:1", testRegion, credentials.NewStaticCredentialsProvider("AKTEST", "secret", ""))
	unreachable.Client = s3.New(unreachable.Client.Options(), func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if err := unreachable.CheckBucket(t.Context(), "s3://exports"); profiles.ErrorCode(err) != profiles.EINTERNAL {
		t.Errorf("CheckBucket(unreachable): %v, want an internal error", err)
	}
}
