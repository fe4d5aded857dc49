package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openprofiles/profiles/iamapi"
)

// iamClient sends requests to the IAM API of a server.
type iamClient struct {
	endpoint  string
	region    string
	creds     aws.CredentialsProvider
	transport *http.Transport
	http      *http.Client
}

// iamAPIError is an error answer of the IAM API.
type iamAPIError struct {
	Op, Code, Message string
	Status            int
}

// Error is the line the AWS CLI prints for an error answer.
func (e *iamAPIError) Error() string {
	return fmt.Sprintf("An error occurred (%s) when calling the %s operation: %s", e.Code, e.Op, e.Message)
}

// iamPaging are the pagination flags of a list verb, as in the AWS CLI.
type iamPaging struct {
	maxItems      int
	pageSize      int
	startingToken string
}

func newIAMClient(ctx context.Context, cf *clientFlags, getenv func(string) string) (*iamClient, error) {
	cfg, err := cf.awsConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --profile")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	return &iamClient{
		endpoint:  strings.TrimRight(cf.endpoint, "/") + "/",
		region:    cfg.Region,
		creds:     cfg.Credentials,
		transport: transport,
		http:      &http.Client{Transport: transport, Timeout: time.Minute},
	}, nil
}

// close closes the client's idle connections.
func (c *iamClient) close() { c.transport.CloseIdleConnections() }

// call sends one signed request and returns the body of a 200 answer, or
// an *iamAPIError.
func (c *iamClient) call(ctx context.Context, op string, in any) ([]byte, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", iamapi.ContentType)
	req.Header.Set("X-Amz-Target", iamapi.TargetPrefix+op)
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), iamapi.SigningService, c.region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 == 2 {
		return b, nil
	}
	return nil, apiError(op, resp, b)
}

// apiError reads an error answer the way the AWS SDKs read the JSON
// protocol's: the exception from __type (after any "namespace#") or the
// X-Amzn-ErrorType header, the message from message or Message.
func apiError(op string, resp *http.Response, body []byte) *iamAPIError {
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	json.Unmarshal(body, &e)
	code := e.Type
	if code == "" {
		code, _, _ = strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	}
	if i := strings.LastIndex(code, "#"); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "")
	}
	msg := e.Message
	if msg == "" {
		msg = e.Message2
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	return &iamAPIError{Op: op, Code: code, Message: msg, Status: resp.StatusCode}
}

// run calls op and prints its answer as the AWS CLI does: indented by four
// spaces, nothing for an empty answer. A PolicyDocument is printed as the
// JSON it holds, as `aws iam get-user-policy` prints it.
func (c *iamClient) run(ctx context.Context, w io.Writer, op string, in map[string]any) error {
	b, err := c.call(ctx, op, in)
	if err != nil {
		return err
	}
	members, err := objectMembers(b)
	if err != nil {
		return fmt.Errorf("%s: the answer is not a JSON object: %w", op, err)
	}
	if len(members) == 0 {
		return nil
	}
	for i, m := range members {
		if m.name != "PolicyDocument" {
			continue
		}
		var doc string
		if json.Unmarshal(m.value, &doc) == nil && json.Valid([]byte(doc)) && strings.HasPrefix(strings.TrimSpace(doc), "{") {
			members[i].value = json.RawMessage(doc)
		}
	}
	return printMembers(w, members)
}

// list calls a list operation page after page and prints the items as the
// AWS CLI does: {"<list>": [...]}, with a NextToken when --max-items cut
// the list short.
func (c *iamClient) list(ctx context.Context, w io.Writer, op, listMember string, in map[string]any, p iamPaging) error {
	items := []json.RawMessage{}
	marker, next := p.startingToken, ""
	for {
		if marker != "" {
			in["Marker"] = marker
		}
		n := p.pageSize
		if p.maxItems > 0 && (n == 0 || p.maxItems-len(items) < n) {
			n = p.maxItems - len(items)
		}
		if n > 0 {
			in["MaxItems"] = n
		}
		b, err := c.call(ctx, op, in)
		if err != nil {
			return err
		}
		var page struct {
			IsTruncated bool
			Marker      string
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &page); err != nil {
			return fmt.Errorf("%s: bad answer: %w", op, err)
		}
		var got []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return fmt.Errorf("%s: bad answer: %w", op, err)
		}
		if v, ok := raw[listMember]; ok {
			if err := json.Unmarshal(v, &got); err != nil {
				return fmt.Errorf("%s: bad %s: %w", op, listMember, err)
			}
		}
		items = append(items, got...)
		if !page.IsTruncated || page.Marker == "" {
			break
		}
		if page.Marker == marker {
			return fmt.Errorf("%s: the server answered the same Marker twice", op)
		}
		marker = page.Marker
		if p.maxItems > 0 && len(items) >= p.maxItems {
			next = marker
			break
		}
	}
	list, err := json.Marshal(items)
	if err != nil {
		return err
	}
	members := []member{{listMember, list}}
	if next != "" {
		tok, _ := json.Marshal(next)
		members = append(members, member{"NextToken", tok})
	}
	return printMembers(w, members)
}

// member is a member of a JSON object, in the order of the answer.
type member struct {
	name  string
	value json.RawMessage
}

// objectMembers returns the members of a JSON object in their order.
func objectMembers(b []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil {
		return nil, err
	} else if t != json.Delim('{') {
		return nil, fmt.Errorf("want an object, got %v", t)
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{t.(string), v})
	}
	return out, nil
}

// printMembers prints a JSON object indented by four spaces.
func printMembers(w io.Writer, members []member) error {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(m.name)
		b.Write(name)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "    "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}
