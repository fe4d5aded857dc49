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
	"time"

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

// sent returns the number of requests sent.
func (r *recorder) sent() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.headers)
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

// MustPutObjects writes the objects (key to body) to bucket, a few at a
// time. tb fails on error.
func MustPutObjects(tb testing.TB, b *awss3.Buckets, bucket string, objects map[string][]byte) {
	tb.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	errs := make(chan error, len(objects))
	for key, body := range objects {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := b.PutObject(tb.Context(), bucket, key, body, "", ""); err != nil {
				errs <- fmt.Errorf("PutObject %s/%s: %w", bucket, key, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

// listed is a profiles.SourceObject without its time, which tests check
// apart.
type listed struct {
	Key  string
	Size int64
}

// TestListObjects lists more objects than fit in one page of ListObjectsV2
// (1,000 keys), beside objects the prefix leaves out.
func TestListObjects(t *testing.T) {
	endpoint, b, rec := startFauxqs(t)
	ctx := t.Context()
	fauxqs.CreateBucket(t, endpoint, testRegion, "imports")
	fauxqs.CreateBucket(t, endpoint, testRegion, "empty")

	objects := map[string][]byte{}
	var in []listed // the objects under in/, in key order
	in = append(in, listed{"in/_SUCCESS", 0})
	objects["in/_SUCCESS"] = nil
	for i := range 1100 {
		key := fmt.Sprintf("in/part-%04d.csv", i)
		objects[key] = bytes.Repeat([]byte("x"), i%13)
		in = append(in, listed{key, int64(i % 13)})
	}
	out := []listed{{"a.csv", 3}, {"in", 2}, {"inbox/part-0000.csv", 5}, {"other/in/part-0000.csv", 4}, {"z", 1}}
	for _, o := range out {
		objects[o.Key] = bytes.Repeat([]byte("y"), int(o.Size))
	}
	all := append([]listed{out[0], out[1]}, in...)
	all = append(all, out[2:]...)
	MustPutObjects(t, b, "imports", objects)
	// Keys that differ in case, in S3's order (ascending UTF-8 bytes:
	// upper case first), in a bucket of their own. fauxqs lists them in
	// another order.
	fauxqs.CreateBucket(t, endpoint, testRegion, "cases")
	cases := []listed{{"B.csv", 1}, {"D.csv", 1}, {"_x.csv", 1}, {"a.csv", 1}, {"c.csv", 1}, {"\u00e9.csv", 1}}
	caseObjects := map[string][]byte{}
	for _, o := range cases {
		caseObjects[o.Key] = []byte("c")
	}
	MustPutObjects(t, b, "cases", caseObjects)

	for _, tt := range []struct {
		name, bucket, prefix string
		want                 []listed
		pages                int // requests ListObjects sends
	}{
		{"prefix", "imports", "in/", in, 2},
		{"all", "imports", "", all, 2},
		{"part of a page", "imports", "in/part-10", in[1001:], 1},
		{"prefix without slash", "imports", "in", append(append([]listed{out[1]}, in...), out[2]), 2},
		{"no object under the prefix", "imports", "nothing/", []listed{}, 1},
		{"empty bucket", "empty", "", []listed{}, 1},
		{"key order", "cases", "", cases, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sent := rec.sent()
			objs, err := b.ListObjects(ctx, tt.bucket, tt.prefix)
			if err != nil {
				t.Fatalf("ListObjects(%q, %q): %v", tt.bucket, tt.prefix, err)
			}
			if objs == nil {
				t.Errorf("ListObjects(%q, %q) = nil, want a slice", tt.bucket, tt.prefix)
			}
			got := []listed{}
			for _, o := range objs {
				got = append(got, listed{o.Key, o.Size})
				if o.LastModified.IsZero() || o.LastModified.Location() != time.UTC {
					t.Errorf("object %s: LastModified %v, want a time in UTC", o.Key, o.LastModified)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ListObjects(%q, %q) (-want +got):\n%s", tt.bucket, tt.prefix, diff)
			}
			if got := rec.sent() - sent; got != tt.pages {
				t.Errorf("ListObjects(%q, %q) sent %d requests, want %d", tt.bucket, tt.prefix, got, tt.pages)
			}
		})
	}

	_, err := b.ListObjects(ctx, "no-such-bucket", "in/")
	if profiles.ErrorCode(err) != profiles.ENOTFOUND || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("ListObjects(missing bucket): %v, want ENOTFOUND naming no-such-bucket", err)
	}
	for _, bucket := range []string{"Imports", "im", ""} {
		if _, err := b.ListObjects(ctx, bucket, ""); profiles.ErrorCode(err) != profiles.EINVALID || !strings.Contains(err.Error(), fmt.Sprintf("%q", bucket)) {
			t.Errorf("ListObjects(%q): %v, want EINVALID naming the bucket", bucket, err)
		}
	}
}

func TestGetObject(t *testing.T) {
	endpoint, b, _ := startFauxqs(t)
	ctx := t.Context()
	fauxqs.CreateBucket(t, endpoint, testRegion, "imports")
	csv := []byte("ProfileId,FirstName\n1,Ann\n2,Bob\n")
	big := make([]byte, 3<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	MustPutObjects(t, b, "imports", map[string][]byte{"in/a.csv": csv, "in/big.bin": big, "in/_SUCCESS": nil})

	n := int64(len(csv))
	for _, tt := range []struct {
		bucket, key string
		max         int64
		want        []byte // when code is ""
		code        string
		in          []string // text the error carries
	}{
		{"imports", "in/a.csv", 1 << 20, csv, "", nil},
		{"imports", "in/a.csv", n, csv, "", nil},
		{"imports", "in/a.csv", n - 1, nil, profiles.EINVALID, []string{"imports/in/a.csv", fmt.Sprintf("limit of %d bytes", n-1)}},
		{"imports", "in/a.csv", 0, nil, profiles.EINVALID, []string{"imports/in/a.csv", "limit of 0 bytes"}},
		{"imports", "in/big.bin", 3 << 20, big, "", nil},
		{"imports", "in/big.bin", 1 << 20, nil, profiles.EINVALID, []string{"imports/in/big.bin", "limit of 1048576 bytes"}},
		{"imports", "in/_SUCCESS", 0, []byte{}, "", nil},
		{"imports", "in/no-such-key.csv", 1 << 20, nil, profiles.ENOTFOUND, []string{"imports/in/no-such-key.csv"}},
		{"no-such-bucket", "in/a.csv", 1 << 20, nil, profiles.ENOTFOUND, []string{"no-such-bucket"}},
		{"Imports", "in/a.csv", 1 << 20, nil, profiles.EINVALID, []string{`"Imports"`}},
		{"imports", "", 1 << 20, nil, profiles.EINVALID, []string{"key is empty"}},
		{"imports", "in/a.csv", -1, nil, profiles.EINVALID, []string{"imports/in/a.csv", "-1"}},
	} {
		got, err := b.GetObject(ctx, tt.bucket, tt.key, tt.max)
		if tt.code == "" {
			if err != nil || got == nil || !bytes.Equal(got, tt.want) {
				t.Errorf("GetObject(%q, %q, %d) = %d bytes, %v; want the %d bytes written", tt.bucket, tt.key, tt.max, len(got), err, len(tt.want))
			}
			continue
		}
		if profiles.ErrorCode(err) != tt.code || got != nil {
			t.Errorf("GetObject(%q, %q, %d) = %d bytes, %v; want %s", tt.bucket, tt.key, tt.max, len(got), err, tt.code)
			continue
		}
		for _, s := range tt.in {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("GetObject(%q, %q, %d): %v, want an error carrying %q", tt.bucket, tt.key, tt.max, err, s)
			}
		}
	}
}

// TestGetObject_Limit checks GetObject against a server that sends the
// body of the object without a Content-Length (chunked), or gives a
// Content-Length it does not send the body of.
func TestGetObject_Limit(t *testing.T) {
	for _, tt := range []struct {
		name          string
		contentLength int64 // -1: none, a chunked body
		body          int64 // bytes sent; -1: until the client goes
		max           int64
		code          string // "" for the body
		in            string // text the error carries
	}{
		{"chunked, max bytes", -1, 4096, 4096, "", ""},
		{"chunked, under max", -1, 10, 4096, "", ""},
		{"chunked, one more than max", -1, 4097, 4096, profiles.EINVALID, "imports/in/a.csv is more than the limit of 4096 bytes"},
		{"chunked, endless", -1, -1, 1 << 20, profiles.EINVALID, "imports/in/a.csv is more than the limit of 1048576 bytes"},
		{"content length over max", 10 << 20, 100, 1 << 20, profiles.EINVALID, "imports/in/a.csv is 10485760 bytes, more than the limit of 1048576 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			chunk := bytes.Repeat([]byte("0123456789abcdef"), 2048) // 32 KiB
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentLength >= 0 {
					w.Header().Set("Content-Length", fmt.Sprint(tt.contentLength))
				}
				w.Header().Set("Content-Type", "text/csv")
				w.WriteHeader(http.StatusOK)
				for left := tt.body; left != 0 && r.Context().Err() == nil; {
					p := chunk
					if left > 0 {
						p = p[:min(left, int64(len(p)))]
						left -= int64(len(p))
					}
					if _, err := w.Write(p); err != nil {
						return
					}
					w.(http.Flusher).Flush()
				}
			}))
			t.Cleanup(srv.Close)
			b := awss3.New(srv.URL, testRegion, credentials.NewStaticCredentialsProvider("AKTEST", "secret", ""))
			b.Client = s3.New(b.Client.Options(), func(o *s3.Options) { o.RetryMaxAttempts = 1 })
			got, err := b.GetObject(t.Context(), "imports", "in/a.csv", tt.max)
			if tt.code == "" {
				if err != nil || int64(len(got)) != tt.body {
					t.Errorf("GetObject = %d bytes, %v; want %d bytes", len(got), err, tt.body)
				}
				return
			}
			if profiles.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.in) || got != nil {
				t.Errorf("GetObject = %d bytes, %v; want %s carrying %q", len(got), err, tt.code, tt.in)
			}
		})
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
		{"no such key", 404, "NoSuchKey", profiles.ENOTFOUND, profiles.ENOTFOUND, "exports", "exports/p/"},
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
			// ListObjects and GetObject map errors as PutObject does.
			_, err = b.ListObjects(t.Context(), "exports", "p/")
			if profiles.ErrorCode(err) != tt.put || !strings.Contains(err.Error(), tt.putIn) {
				t.Errorf("ListObjects: %v, want %s carrying %q", err, tt.put, tt.putIn)
			}
			_, err = b.GetObject(t.Context(), "exports", "p/k", 1<<20)
			if profiles.ErrorCode(err) != tt.put || !strings.Contains(err.Error(), tt.putIn) {
				t.Errorf("GetObject: %v, want %s carrying %q", err, tt.put, tt.putIn)
			}
		})
	}
	unreachable := awss3.New("http://127.0.0.1:1", testRegion, credentials.NewStaticCredentialsProvider("AKTEST", "secret", ""))
	unreachable.Client = s3.New(unreachable.Client.Options(), func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if err := unreachable.CheckBucket(t.Context(), "s3://exports"); profiles.ErrorCode(err) != profiles.EINTERNAL {
		t.Errorf("CheckBucket(unreachable): %v, want an internal error", err)
	}
}
