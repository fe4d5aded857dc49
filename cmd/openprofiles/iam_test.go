package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// iamCLI runs `openprofiles iam` against a server with the root
// credentials in the environment, as a user of the AWS CLI would.
type iamCLI struct {
	t *testing.T
	m *main.Main
}

func newIAMCLI(t *testing.T, m *main.Main) *iamCLI {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", testRegion)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	return &iamCLI{t: t, m: m}
}

// run runs `openprofiles iam args… --endpoint URL`.
func (c *iamCLI) run(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	var out, errb bytes.Buffer
	args = append(append([]string{"iam"}, args...), "--endpoint", c.m.URL())
	err = main.Run(c.t.Context(), args, nil, &out, &errb, os.Getenv)
	return out.String(), errb.String(), err
}

// must runs a verb that must succeed and returns its printed JSON (nil
// when it printed nothing).
func (c *iamCLI) must(args ...string) map[string]any {
	c.t.Helper()
	stdout, stderr, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("openprofiles iam %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	if stdout == "" {
		return nil
	}
	if !strings.HasPrefix(stdout, "{\n    \"") {
		c.t.Errorf("iam %s: output not indented by four spaces like the AWS CLI's:\n%s", args[0], stdout)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		c.t.Fatalf("iam %s printed %q: %v", args[0], stdout, err)
	}
	return v
}

// fail runs a verb that must fail with the exception, and returns the
// message printed on stderr.
func (c *iamCLI) fail(exception, operation string, args ...string) string {
	c.t.Helper()
	stdout, stderr, err := c.run(args...)
	if err == nil {
		c.t.Fatalf("openprofiles iam %s succeeded (%s), want %s", strings.Join(args, " "), stdout, exception)
	}
	prefix := "An error occurred (" + exception + ") when calling the " + operation + " operation: "
	if !strings.HasPrefix(stderr, prefix) {
		c.t.Fatalf("iam %s: stderr %q, want it to start with %q", args[0], stderr, prefix)
	}
	if stdout != "" {
		c.t.Errorf("iam %s: printed %q on stdout for an error", args[0], stdout)
	}
	return strings.TrimPrefix(strings.TrimSpace(stderr), prefix)
}

// mustKey creates an access key of a user and returns its id and secret.
func (c *iamCLI) mustKey(user string) (id, secret string) {
	c.t.Helper()
	k := obj(c.t, c.must("create-access-key", "--user-name", user), "AccessKey")
	if k["UserName"] != user || k["Status"] != "Active" {
		c.t.Fatalf("create-access-key = %v, want an Active key of %s", k, user)
	}
	id, _ = k["AccessKeyId"].(string)
	secret, _ = k["SecretAccessKey"].(string)
	if id == "" || secret == "" {
		c.t.Fatalf("create-access-key = %v, want AccessKeyId and SecretAccessKey", k)
	}
	return id, secret
}

func obj(tb testing.TB, v map[string]any, member string) map[string]any {
	tb.Helper()
	m, ok := v[member].(map[string]any)
	if !ok {
		tb.Fatalf("no object %s in %v", member, v)
	}
	return m
}

// listed returns the member of each item of a printed list, space-separated.
func listed(v map[string]any, list, member string) string {
	var out []string
	items, _ := v[list].([]any)
	for _, it := range items {
		if member == "" {
			s, _ := it.(string)
			out = append(out, s)
			continue
		}
		m, _ := it.(map[string]any)
		s, _ := m[member].(string)
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func listDomainsAs(t *testing.T, m *main.Main, id, secret string) error {
	t.Helper()
	_, err := newClient(t, m, id, secret, testRegion).ListDomains(t.Context(), &customerprofiles.ListDomainsInput{})
	return err
}

const allowProfiles = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"profile:*","Resource":"*"}]}`

func TestIAM_UsersAndRoles(t *testing.T) {
	m := MustRunMain(t)
	cli := newIAMCLI(t, m)

	before := time.Now().Add(-2 * time.Second)
	u := obj(t, cli.must("create-user", "--user-name", "alice"), "User")
	if u["UserName"] != "alice" || u["Path"] != "/" || u["Arn"] != "arn:aws:iam::000000000000:user/alice" ||
		!strings.HasPrefix(u["UserId"].(string), "AIDA") {
		t.Fatalf("create-user = %v", u)
	}
	if at, err := time.Parse(time.RFC3339, u["CreateDate"].(string)); err != nil || at.Before(before) {
		t.Errorf("CreateDate %v: %v, want an ISO-8601 time of now", u["CreateDate"], err)
	}
	cli.fail("EntityAlreadyExists", "CreateUser", "create-user", "--user-name", "alice")
	cli.must("create-user", "--user-name", "bob")

	if got := obj(t, cli.must("get-user", "--user-name", "alice"), "User"); got["UserId"] != u["UserId"] || got["CreateDate"] != u["CreateDate"] {
		t.Errorf("get-user = %v, want %v", got, u)
	}
	if got, want := listed(cli.must("list-users"), "Users", "UserName"), "alice bob"; got != want {
		t.Errorf("list-users = %q, want %q", got, want)
	}
	// --max-items cuts the list and gives a NextToken to go on from.
	page := cli.must("list-users", "--max-items", "1")
	if got := listed(page, "Users", "UserName"); got != "alice" || page["NextToken"] == nil {
		t.Fatalf("list-users --max-items 1 = %v", page)
	}
	page = cli.must("list-users", "--starting-token", page["NextToken"].(string))
	if got := listed(page, "Users", "UserName"); got != "bob" || page["NextToken"] != nil {
		t.Fatalf("list-users --starting-token = %v", page)
	}

	if out := cli.must("delete-user", "--user-name", "bob"); out != nil {
		t.Errorf("delete-user printed %v, want nothing", out)
	}
	msg := cli.fail("NoSuchEntity", "GetUser", "get-user", "--user-name", "bob")
	if !strings.Contains(msg, "bob") {
		t.Errorf("NoSuchEntity message %q does not name the user", msg)
	}

	r := obj(t, cli.must("create-role", "--role-name", "ops"), "Role")
	if r["RoleName"] != "ops" || r["Arn"] != "arn:aws:iam::000000000000:role/ops" || !strings.HasPrefix(r["RoleId"].(string), "AROA") {
		t.Fatalf("create-role = %v", r)
	}
	cli.fail("EntityAlreadyExists", "CreateRole", "create-role", "--role-name", "alice")
	if got := obj(t, cli.must("get-role", "--role-name", "ops"), "Role"); got["RoleId"] != r["RoleId"] {
		t.Errorf("get-role = %v, want %v", got, r)
	}
	if got := listed(cli.must("list-roles"), "Roles", "RoleName"); got != "ops" {
		t.Errorf("list-roles = %q, want ops", got)
	}
	if got := listed(cli.must("list-users"), "Users", "UserName"); got != "alice" {
		t.Errorf("list-users = %q, want alice (roles are not users)", got)
	}
	cli.must("delete-role", "--role-name", "ops")
	cli.fail("NoSuchEntity", "GetRole", "get-role", "--role-name", "ops")

	// Bad input is refused with the field named.
	msg = cli.fail("ValidationError", "CreateUser", "create-user", "--user-name", "not a name")
	if !strings.Contains(msg, "userName") {
		t.Errorf("ValidationError %q does not name userName", msg)
	}
}

func TestIAM_AccessKeys(t *testing.T) {
	m := MustRunMain(t)
	cli := newIAMCLI(t, m)
	cli.must("create-user", "--user-name", "alice")
	cli.must("put-user-policy", "--user-name", "alice", "--policy-name", "profiles", "--policy-document", allowProfiles)

	id1, secret1 := cli.mustKey("alice")
	id2, secret2 := cli.mustKey("alice")
	msg := cli.fail("LimitExceeded", "CreateAccessKey", "create-access-key", "--user-name", "alice")
	t.Logf("third key: %s", msg)

	stdout, _, err := cli.run("list-access-keys", "--user-name", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout, "SecretAccessKey") || strings.Contains(stdout, secret1) || strings.Contains(stdout, secret2) {
		t.Fatalf("list-access-keys shows a secret:\n%s", stdout)
	}
	keys := cli.must("list-access-keys", "--user-name", "alice")
	if got, want := listed(keys, "AccessKeyMetadata", "AccessKeyId"), id1+" "+id2; got != want {
		t.Fatalf("list-access-keys = %q, want %q", got, want)
	}
	if got := listed(keys, "AccessKeyMetadata", "Status"); got != "Active Active" {
		t.Errorf("statuses %q, want Active Active", got)
	}

	for _, k := range []struct{ id, secret string }{{id1, secret1}, {id2, secret2}} {
		if err := listDomainsAs(t, m, k.id, k.secret); err != nil {
			t.Fatalf("ListDomains with %s: %v", k.id, err)
		}
	}

	// Rotation: the old key is made inactive and is refused at once; the
	// other one keeps working; a new key may be made and the old deleted.
	if out := cli.must("update-access-key", "--user-name", "alice", "--access-key-id", id1, "--status", "Inactive"); out != nil {
		t.Errorf("update-access-key printed %v, want nothing", out)
	}
	wantAPIError(t, listDomainsAs(t, m, id1, secret1), "UnrecognizedClientException")
	if err := listDomainsAs(t, m, id2, secret2); err != nil {
		t.Fatalf("ListDomains with the active key: %v", err)
	}
	if got := listed(cli.must("list-access-keys", "--user-name", "alice"), "AccessKeyMetadata", "Status"); got != "Inactive Active" {
		t.Errorf("statuses %q, want Inactive Active", got)
	}
	id3, secret3 := cli.mustKey("alice")
	cli.fail("LimitExceeded", "UpdateAccessKey", "update-access-key", "--user-name", "alice", "--access-key-id", id1, "--status", "Active")
	cli.fail("ValidationError", "UpdateAccessKey", "update-access-key", "--user-name", "alice", "--access-key-id", id1, "--status", "Paused")
	cli.must("delete-access-key", "--user-name", "alice", "--access-key-id", id1)
	wantAPIError(t, listDomainsAs(t, m, id1, secret1), "UnrecognizedClientException")
	if err := listDomainsAs(t, m, id3, secret3); err != nil {
		t.Fatalf("ListDomains with the new key: %v", err)
	}
	if got, want := listed(cli.must("list-access-keys", "--user-name", "alice"), "AccessKeyMetadata", "AccessKeyId"), id2+" "+id3; got != want {
		t.Errorf("list-access-keys = %q, want %q", got, want)
	}
	cli.fail("NoSuchEntity", "DeleteAccessKey", "delete-access-key", "--user-name", "alice", "--access-key-id", id1)
	cli.fail("NoSuchEntity", "CreateAccessKey", "create-access-key", "--user-name", "nobody")

	// Deleting the user deletes its keys.
	cli.must("delete-user", "--user-name", "alice")
	wantAPIError(t, listDomainsAs(t, m, id2, secret2), "UnrecognizedClientException")
}

func TestIAM_Policies(t *testing.T) {
	m := MustRunMain(t)
	cli := newIAMCLI(t, m)
	cli.must("create-user", "--user-name", "alice")
	id, secret := cli.mustKey("alice")

	// No policy: the Customer Profiles API refuses.
	wantAPIError(t, listDomainsAs(t, m, id, secret), "AccessDeniedException", "profile:ListDomains")

	// From a file, as the AWS CLI reads file://.
	path := filepath.Join(t.TempDir(), "profiles.json")
	doc := "{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": [\n        {\"Effect\": \"Allow\", \"Action\": \"profile:*\", \"Resource\": \"*\"}\n    ]\n}\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := cli.must("put-user-policy", "--user-name", "alice", "--policy-name", "profiles", "--policy-document", "file://"+path); out != nil {
		t.Errorf("put-user-policy printed %v, want nothing", out)
	}
	if err := listDomainsAs(t, m, id, secret); err != nil {
		t.Fatalf("ListDomains with profile:* allowed: %v", err)
	}

	// Inline.
	cli.must("put-user-policy", "--user-name", "alice", "--policy-name", "deny-delete", "--policy-document",
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"profile:DeleteDomain","Resource":"*"}}`)
	if got, want := listed(cli.must("list-user-policies", "--user-name", "alice"), "PolicyNames", ""), "deny-delete profiles"; got != want {
		t.Errorf("list-user-policies = %q, want %q", got, want)
	}
	got := cli.must("get-user-policy", "--user-name", "alice", "--policy-name", "profiles")
	if got["UserName"] != "alice" || got["PolicyName"] != "profiles" {
		t.Errorf("get-user-policy = %v", got)
	}
	// The document is printed as JSON, as `aws iam get-user-policy` does.
	pd, ok := got["PolicyDocument"].(map[string]any)
	if !ok || pd["Version"] != "2012-10-17" {
		t.Errorf("PolicyDocument = %#v, want the policy as a JSON object", got["PolicyDocument"])
	}

	// A malformed policy is refused naming where it goes wrong.
	bad := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"profile:*\", \"Resourse\": \"*\"}]\n}"
	msg := cli.fail("MalformedPolicyDocument", "PutUserPolicy", "put-user-policy", "--user-name", "alice", "--policy-name", "bad", "--policy-document", bad)
	if !strings.Contains(msg, "line 3") || !strings.Contains(msg, "column") {
		t.Errorf("MalformedPolicyDocument %q does not name line 3 and the column", msg)
	}
	msg = cli.fail("MalformedPolicyDocument", "PutUserPolicy", "put-user-policy", "--user-name", "alice", "--policy-name", "bad", "--policy-document", `{"Statement": [}`)
	if !strings.Contains(msg, "line 1") || !strings.Contains(msg, "column") {
		t.Errorf("MalformedPolicyDocument %q does not name the line and column", msg)
	}
	if got := listed(cli.must("list-user-policies", "--user-name", "alice"), "PolicyNames", ""); got != "deny-delete profiles" {
		t.Errorf("a malformed policy was stored: %q", got)
	}

	cli.must("delete-user-policy", "--user-name", "alice", "--policy-name", "profiles")
	cli.fail("NoSuchEntity", "GetUserPolicy", "get-user-policy", "--user-name", "alice", "--policy-name", "profiles")
	wantAPIError(t, listDomainsAs(t, m, id, secret), "AccessDeniedException", "profile:ListDomains")

	// Roles have inline policies too.
	cli.must("create-role", "--role-name", "ops")
	cli.must("put-role-policy", "--role-name", "ops", "--policy-name", "all", "--policy-document", allowProfiles)
	if got := cli.must("get-role-policy", "--role-name", "ops", "--policy-name", "all"); got["RoleName"] != "ops" || got["PolicyDocument"] == nil {
		t.Errorf("get-role-policy = %v", got)
	}
	if got := listed(cli.must("list-role-policies", "--role-name", "ops"), "PolicyNames", ""); got != "all" {
		t.Errorf("list-role-policies = %q, want all", got)
	}
	cli.fail("NoSuchEntity", "PutUserPolicy", "put-user-policy", "--user-name", "ops", "--policy-name", "x", "--policy-document", allowProfiles)
	cli.must("delete-role-policy", "--role-name", "ops", "--policy-name", "all")
	if got := listed(cli.must("list-role-policies", "--role-name", "ops"), "PolicyNames", ""); got != "" {
		t.Errorf("list-role-policies = %q, want none", got)
	}
}

// TestIAM_Authorization checks that IAM management itself is authorised:
// a user may manage IAM only as far as their policies allow.
func TestIAM_Authorization(t *testing.T) {
	m := MustRunMain(t)
	cli := newIAMCLI(t, m)
	cli.must("create-user", "--user-name", "alice")
	id, secret := cli.mustKey("alice")
	cli.must("put-user-policy", "--user-name", "alice", "--policy-name", "self", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListAccessKeys"],"Resource":"arn:aws:iam::000000000000:user/${aws:username}"}]}`)

	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	// Without --user-name, get-user is about the caller.
	if u := obj(t, cli.must("get-user"), "User"); u["UserName"] != "alice" {
		t.Errorf("get-user as alice = %v", u)
	}
	cli.must("list-access-keys")
	msg := cli.fail("AccessDenied", "CreateUser", "create-user", "--user-name", "mallory")
	if !strings.Contains(msg, "iam:CreateUser") {
		t.Errorf("AccessDenied %q does not name the action", msg)
	}
	cli.fail("AccessDenied", "GetUser", "get-user", "--user-name", "root-ish")
	cli.fail("AccessDenied", "ListUsers", "list-users")
}

func TestIAM_Help(t *testing.T) {
	var out, errb bytes.Buffer
	if err := main.Run(t.Context(), []string{"iam", "--help"}, nil, &out, &errb, os.Getenv); err != nil {
		t.Fatalf("iam --help: %v", err)
	}
	for _, verb := range []string{"create-user", "get-user", "list-users", "delete-user", "create-role", "get-role", "list-roles", "delete-role",
		"create-access-key", "list-access-keys", "update-access-key", "delete-access-key",
		"put-user-policy", "get-user-policy", "list-user-policies", "delete-user-policy",
		"put-role-policy", "get-role-policy", "list-role-policies", "delete-role-policy", "--endpoint", "--profile", "--region"} {
		if !strings.Contains(out.String(), verb) {
			t.Errorf("iam --help does not mention %s", verb)
		}
	}
	for verb, flags := range map[string][]string{
		"update-access-key": {"--user-name", "--access-key-id", "--status", "Active or Inactive", "--endpoint", "--profile", "--region"},
		"put-role-policy":   {"--role-name", "--policy-name", "--policy-document", "file://"},
		"list-users":        {"--max-items", "--page-size", "--starting-token"},
	} {
		out.Reset()
		if err := main.Run(t.Context(), []string{"iam", verb, "--help"}, nil, &out, &errb, os.Getenv); err != nil {
			t.Fatalf("iam %s --help: %v", verb, err)
		}
		for _, f := range flags {
			if !strings.Contains(out.String(), f) {
				t.Errorf("iam %s --help does not mention %s:\n%s", verb, f, out.String())
			}
		}
	}
	if err := main.Run(t.Context(), []string{"iam", "create-user"}, nil, &out, &errb, os.Getenv); err == nil || !strings.Contains(err.Error(), "--user-name") {
		t.Errorf("create-user without --user-name: err = %v, want it to name the flag", err)
	}
	if err := main.Run(t.Context(), []string{"iam", "make-coffee"}, nil, &out, &errb, os.Getenv); err == nil {
		t.Errorf("unknown verb accepted")
	}
}

// TestIAM_AccessKeyLastUsed: a key's last use is the minute a request it
// signed last verified (a bad signature is not a use); an unknown key is
// refused as AccessDenied, as on AWS.
func TestIAM_AccessKeyLastUsed(t *testing.T) {
	m := MustRunMain(t)
	cli := newIAMCLI(t, m)
	cli.must("create-user", "--user-name", "bob")
	cli.must("put-user-policy", "--user-name", "bob", "--policy-name", "profiles", "--policy-document", allowProfiles)
	id, secret := cli.mustKey("bob")
	out := cli.must("get-access-key-last-used", "--access-key-id", id)
	used, _ := out["AccessKeyLastUsed"].(map[string]any)
	if out["UserName"] != "bob" || used == nil || used["LastUsedDate"] != nil || used["ServiceName"] != "N/A" {
		t.Fatalf("a key never used: %v", out)
	}
	wantAPIError(t, listDomainsAs(t, m, id, "not-the-secret-at-all-000000000000000000"), "InvalidSignatureException")
	if out := cli.must("get-access-key-last-used", "--access-key-id", id); out["AccessKeyLastUsed"].(map[string]any)["LastUsedDate"] != nil {
		t.Fatalf("after a bad signature: %v; want no use", out)
	}
	before := time.Now().Add(-time.Second)
	if err := listDomainsAs(t, m, id, secret); err != nil {
		t.Fatal(err)
	}
	// The use is written beside the request: it shows within moments.
	var date string
	for deadline := time.Now().Add(30 * time.Second); date == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out = cli.must("get-access-key-last-used", "--access-key-id", id)
		date, _ = out["AccessKeyLastUsed"].(map[string]any)["LastUsedDate"].(string)
	}
	at, err := time.Parse("2006-01-02T15:04:05-07:00", date)
	if err != nil || at.Before(before.Truncate(time.Second)) || at.After(time.Now().Add(time.Second)) {
		t.Fatalf("after a use: %v (%v); want the time of the use", out, err)
	}
	unknown := cli.fail("AccessDenied", "GetAccessKeyLastUsed", "get-access-key-last-used", "--access-key-id", "AKIAUNKNOWN000000000")

	// A caller who may not see bob's key is told no more than of an
	// unknown key: not whose it is.
	cli.must("create-user", "--user-name", "eve")
	eveID, eveSecret := cli.mustKey("eve")
	t.Setenv("AWS_ACCESS_KEY_ID", eveID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", eveSecret)
	msg := cli.fail("AccessDenied", "GetAccessKeyLastUsed", "get-access-key-last-used", "--access-key-id", id)
	if strings.Contains(msg, "bob") {
		t.Errorf("refusal for another's key %q names its owner (unknown key: %q)", msg, unknown)
	}
}
