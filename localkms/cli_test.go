package localkms_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAWSCLI_CreateKey runs the AWS CLI against the KMS API. The CLI is
// part of the test environment: the test fails, not skips, without it.
func TestAWSCLI_CreateKey(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI (aws) is needed on PATH: %v", err)
	}
	s := MustServer(t)
	cmd := exec.CommandContext(t.Context(), aws, "kms", "create-key", "--endpoint-url", s.URL,
		"--description", "from the CLI", "--output", "json")
	home := t.TempDir()
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
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("aws kms create-key: %v\n%s", err, stderr)
	}
	var got struct {
		KeyMetadata struct {
			KeyId, Arn, KeyState, Description string
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("aws kms create-key output: %v\n%s", err, out)
	}
	md := got.KeyMetadata
	if want := "arn:aws:kms:us-east-1:000000000000:key/" + md.KeyId; md.KeyId == "" || md.Arn != want {
		t.Errorf("Arn=%q, want %q", md.Arn, want)
	}
	if md.KeyState != "Enabled" || md.Description != "from the CLI" {
		t.Errorf("KeyState=%q Description=%q", md.KeyState, md.Description)
	}
	if _, err := s.KMS.DescribeKey(t.Context(), md.KeyId); err != nil {
		t.Errorf("DescribeKey(%s): %v", md.KeyId, err)
	}
	if strings.TrimSpace(string(out)) == "" {
		t.Errorf("no output")
	}
}
