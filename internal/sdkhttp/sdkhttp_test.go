package sdkhttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openprofiles/profiles/internal/sdkhttp"
)

// slowConn pauses after each large write, as a busy machine may: the server
// has the whole request and answers while the transport's write loop has
// not yet finished with the request body, and the client reads the response
// body meanwhile.
type slowConn struct{ net.Conn }

func (c slowConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if len(p) > 1024 {
		time.Sleep(30 * time.Millisecond)
	}
	return n, err
}

// TestClient_LargeBodiesOnABusyTransport sends KMS calls whose request and
// response bodies are larger than the transport's write buffer through a
// transport that stalls after writing: every call must read its whole
// response (without Client, the SDK's closing of its request body makes the
// transport close the connection under the response).
func TestClient_LargeBodiesOnABusyTransport(t *testing.T) {
	plaintext := bytes.Repeat([]byte("p"), 4096)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ CiphertextBlob []byte }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.CiphertextBlob) != 5000 {
			http.Error(w, "bad request body", http.StatusBadRequest)
			return
		}
		out, _ := json.Marshal(map[string]string{"KeyId": "k", "Plaintext": base64.StdEncoding.EncodeToString(plaintext)})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		// Half the response now, the rest once the client's transport has
		// finished writing the request.
		w.Write(out[:len(out)/2])
		w.(http.Flusher).Flush()
		time.Sleep(100 * time.Millisecond)
		w.Write(out[len(out)/2:])
	}))
	t.Cleanup(srv.Close)

	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return slowConn{c}, nil
	}}
	t.Cleanup(transport.CloseIdleConnections)
	c := kms.New(kms.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.New(&http.Client{Transport: transport}),
	})
	for i := range 5 {
		out, err := c.Decrypt(t.Context(), &kms.DecryptInput{CiphertextBlob: bytes.Repeat([]byte{byte(i)}, 5000)})
		if err != nil {
			t.Fatalf("Decrypt %d: %v", i, err)
		}
		if !bytes.Equal(out.Plaintext, plaintext) {
			t.Fatalf("Decrypt %d: %d bytes of plaintext, want %d", i, len(out.Plaintext), len(plaintext))
		}
	}
}

// TestClient_Bodies checks that Do sends the body, its length and a GetBody
// that replays it, and leaves requests without a body alone.
func TestClient_Bodies(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+string(b))
		mu.Unlock()
		if r.ContentLength != int64(len(b)) {
			t.Errorf("%s: Content-Length %d for %d bytes", r.Method, r.ContentLength, len(b))
		}
	}))
	t.Cleanup(srv.Close)
	c := sdkhttp.New(srv.Client())

	req, _ := http.NewRequest("POST", srv.URL, io.NopCloser(bytes.NewReader([]byte("hello"))))
	req.ContentLength = 5
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest("GET", srv.URL, nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != "POST hello" || got[1] != "GET " {
		t.Errorf("server saw %q", got)
	}
}
