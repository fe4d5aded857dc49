// Package sdkhttp is the HTTP client OpenProfiles gives the aws-sdk-go-v2
// clients it builds (KMS, SQS, Customer Profiles).
//
// The SDK wraps each request body in a closer of its own and closes it as
// soon as the response headers arrive. net/http may still be writing that
// request then: after sending Content-Length bytes it reads the body once
// more to check that nothing is left, and a closed SDK body answers that read
// with io.EOF as an error. The transport takes it for a failed write and
// closes the connection while the caller reads the response body, which fails
// with "use of closed network connection". It needs a request body larger than
// the transport's 4 KiB write buffer (so the server has it all before the
// transport's last check) and a busy machine; Do makes it impossible by
// handing the transport a copy of the body that only the transport owns.
package sdkhttp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Client sends each request through Base with a request body of its own.
type Client struct {
	Base aws.HTTPClient
}

var _ aws.HTTPClient = (*Client)(nil)

// New returns a Client over base, or over the SDK's default client when base
// is nil.
func New(base aws.HTTPClient) *Client {
	if base == nil {
		base = awshttp.NewBuildableClient()
	}
	return &Client{Base: base}
}

// Do reads the request body into memory, closes it, and sends a shallow copy
// of req carrying that copy.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return c.Base.Do(req)
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	r := *req
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	r.ContentLength = int64(len(b))
	return c.Base.Do(&r)
}
