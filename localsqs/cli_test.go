package localsqs_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAWSCLI runs the AWS CLI against the SQS API: create-queue,
// send-message, receive-message, and an error. The CLI (botocore) speaks
// the SQS JSON protocol. The CLI is part of the test environment: the test
// fails, not skips, without it.
func TestAWSCLI(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI (aws) is needed on PATH: %v", err)
	}
	s := MustRealServer(t)
	home := t.TempDir()
	run := func(args ...string) ([]byte, error) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), aws, append(append([]string{"sqs"}, args...),
			"--endpoint-url", s.URL, "--output", "json")...)
		for _, kv := range os.Environ() { // no AWS settings of the machine
			if !strings.HasPrefix(kv, "AWS_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env,
			"AWS_ACCESS_KEY_ID=AKROOT",
			"AWS_SECRET_ACCESS_KEY="+secretOf("AKROOT"),
			"AWS_DEFAULT_REGION="+testRegion,
			"AWS_CONFIG_FILE="+home+"/config",
			"AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials",
		)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, &cliError{err: err, stderr: stderr.String()}
		}
		return out, nil
	}
	mustRun := func(v any, args ...string) {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("aws sqs %s: %v", args[0], err)
		}
		if v != nil {
			if err := json.Unmarshal(out, v); err != nil {
				t.Fatalf("aws sqs %s output: %v\n%s", args[0], err, out)
			}
		}
	}

	var created struct{ QueueUrl string }
	mustRun(&created, "create-queue", "--queue-name", "q")
	if want := s.URL + "/000000000000/q"; created.QueueUrl != want {
		t.Fatalf("create-queue: QueueUrl=%q, want %q", created.QueueUrl, want)
	}
	var sent struct{ MessageId, MD5OfMessageBody string }
	mustRun(&sent, "send-message", "--queue-url", created.QueueUrl, "--message-body", `{"error": "KEY_MISSING"}`)
	if sent.MessageId == "" || sent.MD5OfMessageBody == "" {
		t.Errorf("send-message: %+v", sent)
	}
	var got struct {
		Messages []struct {
			MessageId, ReceiptHandle, Body string
			Attributes                     map[string]string
		}
	}
	mustRun(&got, "receive-message", "--queue-url", created.QueueUrl, "--wait-time-seconds", "1",
		"--attribute-names", "ApproximateReceiveCount")
	if len(got.Messages) != 1 {
		t.Fatalf("receive-message: %+v", got)
	}
	m := got.Messages[0]
	if m.MessageId != sent.MessageId || m.Body != `{"error": "KEY_MISSING"}` || m.Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("receive-message: %+v", m)
	}
	mustRun(nil, "delete-message", "--queue-url", created.QueueUrl, "--receipt-handle", m.ReceiptHandle)

	// An error names the query-compatible code, as with SQS.
	_, err = run("get-queue-url", "--queue-name", "missing")
	if err == nil || !strings.Contains(err.Error(), "AWS.SimpleQueueService.NonExistentQueue") {
		t.Errorf("get-queue-url(missing): %v, want AWS.SimpleQueueService.NonExistentQueue", err)
	}
}

type cliError struct {
	err    error
	stderr string
}

func (e *cliError) Error() string { return e.err.Error() + ": " + e.stderr }
