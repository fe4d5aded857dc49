package iamapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openprofiles/profiles/iamapi"
)

// in is a request body.
type in = map[string]any

func TestUsers(t *testing.T) {
	s := MustServer(t)

	out := MustOK(t, "CreateUser", s.Call(t, "CreateUser", in{"UserName": "alice"})).Out(t)
	want := map[string]any{"User": map[string]any{
		"Path": "/", "UserName": "alice", "UserId": "AIDATEST000000000001",
		"Arn": aliceARN, "CreateDate": "2026-06-01T12:00:01+00:00",
	}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Fatalf("CreateUser (-want +got):\n%s", diff)
	}
	if _, err := time.Parse(time.RFC3339, out["User"].(map[string]any)["CreateDate"].(string)); err != nil {
		t.Errorf("CreateDate is not ISO-8601: %v", err)
	}
	checkError(t, "CreateUser again", s.Call(t, "CreateUser", in{"UserName": "alice"}), http.StatusConflict, iamapi.ExEntityAlreadyExists, "alice")

	if got := MustOK(t, "GetUser", s.Call(t, "GetUser", in{"UserName": "alice"})).Out(t); !cmp.Equal(got, want) {
		t.Errorf("GetUser = %v, want %v", got, want)
	}
	// Without a name, GetUser is about the calling user.
	if got := MustOK(t, "GetUser self", s.CallAs(t, "AKALICE", "GetUser", in{})).Out(t); !cmp.Equal(got, want) {
		t.Errorf("GetUser as alice = %v, want %v", got, want)
	}
	checkError(t, "GetUser as root", s.Call(t, "GetUser", in{}), http.StatusBadRequest, iamapi.ExValidation, "userName")

	for _, name := range []string{"bob", "carol"} {
		MustOK(t, "CreateUser", s.Call(t, "CreateUser", in{"UserName": name}))
	}
	MustOK(t, "CreateRole", s.Call(t, "CreateRole", in{"RoleName": "ops"}))

	// Pages of two: alice bob | carol (the role is not a user).
	page := MustOK(t, "ListUsers", s.Call(t, "ListUsers", in{"MaxItems": 2})).Out(t)
	if got, want := names(page["Users"], "UserName"), "alice bob"; got != want || page["IsTruncated"] != true || page["Marker"] == nil {
		t.Fatalf("ListUsers page 1 = %s (IsTruncated %v, Marker %v), want %s truncated", got, page["IsTruncated"], page["Marker"], want)
	}
	page = MustOK(t, "ListUsers", s.Call(t, "ListUsers", in{"MaxItems": 2, "Marker": page["Marker"]})).Out(t)
	if got, want := names(page["Users"], "UserName"), "carol"; got != want || page["IsTruncated"] != false {
		t.Fatalf("ListUsers page 2 = %s (IsTruncated %v), want %s, not truncated", got, page["IsTruncated"], want)
	}
	if _, ok := page["Marker"]; ok {
		t.Errorf("last page has a Marker: %v", page)
	}
	all := MustOK(t, "ListUsers", s.Call(t, "ListUsers", nil)).Out(t)
	if got, want := names(all["Users"], "UserName"), "alice bob carol"; got != want {
		t.Errorf("ListUsers = %s, want %s", got, want)
	}
	users := all["Users"].([]any)
	if diff := cmp.Diff(want["User"], users[0]); diff != "" {
		t.Errorf("ListUsers item (-want +got):\n%s", diff)
	}

	r := MustOK(t, "DeleteUser", s.Call(t, "DeleteUser", in{"UserName": "bob"}))
	if string(r.Body) != "{}" {
		t.Errorf("DeleteUser body %s, want {}", r.Body)
	}
	checkError(t, "GetUser deleted", s.Call(t, "GetUser", in{"UserName": "bob"}), http.StatusNotFound, iamapi.ExNoSuchEntity, "bob")
	checkError(t, "DeleteUser deleted", s.Call(t, "DeleteUser", in{"UserName": "bob"}), http.StatusNotFound, iamapi.ExNoSuchEntity)
	// A role is not reached as a user.
	checkError(t, "GetUser of a role", s.Call(t, "GetUser", in{"UserName": "ops"}), http.StatusNotFound, iamapi.ExNoSuchEntity)
}

func TestRoles(t *testing.T) {
	s := MustServer(t)
	out := MustOK(t, "CreateRole", s.Call(t, "CreateRole", in{"RoleName": "ops"})).Out(t)
	want := map[string]any{"Role": map[string]any{
		"Path": "/", "RoleName": "ops", "RoleId": "AROATEST000000000001",
		"Arn": "arn:aws:iam::000000000000:role/ops", "CreateDate": "2026-06-01T12:00:01+00:00",
	}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Fatalf("CreateRole (-want +got):\n%s", diff)
	}
	checkError(t, "CreateRole again", s.Call(t, "CreateRole", in{"RoleName": "ops"}), http.StatusConflict, iamapi.ExEntityAlreadyExists)
	if got := MustOK(t, "GetRole", s.Call(t, "GetRole", in{"RoleName": "ops"})).Out(t); !cmp.Equal(got, want) {
		t.Errorf("GetRole = %v, want %v", got, want)
	}
	MustOK(t, "CreateRole", s.Call(t, "CreateRole", in{"RoleName": "auditor"}))
	MustOK(t, "CreateUser", s.Call(t, "CreateUser", in{"UserName": "alice"}))
	list := MustOK(t, "ListRoles", s.Call(t, "ListRoles", in{})).Out(t)
	if got, want := names(list["Roles"], "RoleName"), "auditor ops"; got != want || list["IsTruncated"] != false {
		t.Errorf("ListRoles = %s (IsTruncated %v), want %s", got, list["IsTruncated"], want)
	}
	MustOK(t, "DeleteRole", s.Call(t, "DeleteRole", in{"RoleName": "ops"}))
	checkError(t, "GetRole deleted", s.Call(t, "GetRole", in{"RoleName": "ops"}), http.StatusNotFound, iamapi.ExNoSuchEntity)
	checkError(t, "DeleteRole of a user", s.Call(t, "DeleteRole", in{"RoleName": "alice"}), http.StatusNotFound, iamapi.ExNoSuchEntity)
}

func TestAccessKeys(t *testing.T) {
	s := MustServer(t)
	MustOK(t, "CreateUser", s.Call(t, "CreateUser", in{"UserName": "alice"}))
	MustOK(t, "CreateRole", s.Call(t, "CreateRole", in{"RoleName": "ops"}))

	out := MustOK(t, "CreateAccessKey", s.Call(t, "CreateAccessKey", in{"UserName": "alice"})).Out(t)
	key := out["AccessKey"].(map[string]any)
	want := map[string]any{"UserName": "alice", "AccessKeyId": "AKIATEST000000000003", "Status": "Active",
		"SecretAccessKey": "SECRET0000000000000000000000000000000003", "CreateDate": "2026-06-01T12:00:00+00:00"}
	if diff := cmp.Diff(want, key); diff != "" {
		t.Fatalf("CreateAccessKey (-want +got):\n%s", diff)
	}
	secret1 := key["SecretAccessKey"].(string)
	id1 := key["AccessKeyId"].(string)

	// alice creates her second key herself: no UserName means the caller.
	out = MustOK(t, "CreateAccessKey self", s.CallAs(t, "AKALICE", "CreateAccessKey", in{})).Out(t)
	key2 := out["AccessKey"].(map[string]any)
	id2, secret2 := key2["AccessKeyId"].(string), key2["SecretAccessKey"].(string)
	if key2["UserName"] != "alice" || secret2 == "" {
		t.Fatalf("CreateAccessKey as alice = %v", key2)
	}
	if got := s.Auth.last(t).Resource; got != aliceARN {
		t.Errorf("CreateAccessKey as alice authorised on %q, want %q", got, aliceARN)
	}
	checkError(t, "third key", s.Call(t, "CreateAccessKey", in{"UserName": "alice"}), http.StatusConflict, iamapi.ExLimitExceeded)
	checkError(t, "CreateAccessKey as root without a user", s.Call(t, "CreateAccessKey", in{}), http.StatusBadRequest, iamapi.ExValidation,
		"Must specify userName when calling with non-User credentials")
	checkError(t, "CreateAccessKey of a role", s.Call(t, "CreateAccessKey", in{"UserName": "ops"}), http.StatusNotFound, iamapi.ExNoSuchEntity)

	list := MustOK(t, "ListAccessKeys", s.Call(t, "ListAccessKeys", in{"UserName": "alice"}))
	wantList := map[string]any{"AccessKeyMetadata": []any{
		map[string]any{"UserName": "alice", "AccessKeyId": id1, "Status": "Active", "CreateDate": "2026-06-01T12:00:00+00:00"},
		map[string]any{"UserName": "alice", "AccessKeyId": id2, "Status": "Active", "CreateDate": "2026-06-01T12:00:00+00:00"},
	}, "IsTruncated": false}
	if diff := cmp.Diff(wantList, list.Out(t)); diff != "" {
		t.Errorf("ListAccessKeys (-want +got):\n%s", diff)
	}
	page := MustOK(t, "ListAccessKeys page", s.Call(t, "ListAccessKeys", in{"UserName": "alice", "MaxItems": 1})).Out(t)
	if got := names(page["AccessKeyMetadata"], "AccessKeyId"); got != id1 || page["IsTruncated"] != true {
		t.Fatalf("ListAccessKeys page 1 = %s %v", got, page)
	}
	page = MustOK(t, "ListAccessKeys page", s.Call(t, "ListAccessKeys", in{"UserName": "alice", "MaxItems": 1, "Marker": page["Marker"]})).Out(t)
	if got := names(page["AccessKeyMetadata"], "AccessKeyId"); got != id2 || page["IsTruncated"] != false {
		t.Fatalf("ListAccessKeys page 2 = %s %v", got, page)
	}

	MustOK(t, "UpdateAccessKey", s.Call(t, "UpdateAccessKey", in{"UserName": "alice", "AccessKeyId": id1, "Status": "Inactive"}))
	checkError(t, "UpdateAccessKey bad status", s.Call(t, "UpdateAccessKey", in{"UserName": "alice", "AccessKeyId": id1, "Status": "Paused"}),
		http.StatusBadRequest, iamapi.ExValidation, "'Paused'", "status", "[Active, Inactive]")
	checkError(t, "UpdateAccessKey unknown", s.Call(t, "UpdateAccessKey", in{"UserName": "alice", "AccessKeyId": "AKIANOTAKEY000000000", "Status": "Active"}),
		http.StatusNotFound, iamapi.ExNoSuchEntity)
	MustOK(t, "CreateAccessKey after deactivation", s.Call(t, "CreateAccessKey", in{"UserName": "alice"}))
	checkError(t, "reactivate a third key", s.Call(t, "UpdateAccessKey", in{"UserName": "alice", "AccessKeyId": id1, "Status": "Active"}),
		http.StatusConflict, iamapi.ExLimitExceeded)

	r := MustOK(t, "DeleteAccessKey", s.Call(t, "DeleteAccessKey", in{"UserName": "alice", "AccessKeyId": id1}))
	if string(r.Body) != "{}" {
		t.Errorf("DeleteAccessKey body %s, want {}", r.Body)
	}
	checkError(t, "DeleteAccessKey again", s.Call(t, "DeleteAccessKey", in{"UserName": "alice", "AccessKeyId": id1}), http.StatusNotFound, iamapi.ExNoSuchEntity)
	checkError(t, "DeleteAccessKey short id", s.Call(t, "DeleteAccessKey", in{"UserName": "alice", "AccessKeyId": "AK"}),
		http.StatusBadRequest, iamapi.ExValidation, "accessKeyId", "16")

	// The secrets appear in CreateAccessKey's answers only, never in the logs.
	s.mu.Lock()
	bodies := s.bodies
	s.mu.Unlock()
	for _, secret := range []string{secret1, secret2} {
		for _, b := range bodies {
			if strings.Contains(b, secret) && !strings.HasPrefix(b, "CreateAccessKey ") {
				t.Errorf("secret in an answer other than CreateAccessKey: %s", b)
			}
			if strings.HasPrefix(b, "ListAccessKeys ") && strings.Contains(b, "SecretAccessKey") {
				t.Errorf("ListAccessKeys answers with a SecretAccessKey member: %s", b)
			}
		}
		if strings.Contains(s.Logs.String(), secret) {
			t.Errorf("secret in the logs")
		}
	}
}

func TestPolicies(t *testing.T) {
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"profile:*","Resource":"*"}]}`
	for _, tt := range []struct{ typ, member, other string }{
		{"User", "UserName", "RoleName"},
		{"Role", "RoleName", "UserName"},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			s := MustServer(t)
			MustOK(t, "CreateUser", s.Call(t, "CreateUser", in{"UserName": "alice"}))
			MustOK(t, "CreateRole", s.Call(t, "CreateRole", in{"RoleName": "ops"}))
			name, otherName := "alice", "ops"
			if tt.typ == "Role" {
				name, otherName = "ops", "alice"
			}
			put, get, list, del := "Put"+tt.typ+"Policy", "Get"+tt.typ+"Policy", "List"+tt.typ+"Policies", "Delete"+tt.typ+"Policy"

			r := MustOK(t, put, s.Call(t, put, in{tt.member: name, "PolicyName": "profiles", "PolicyDocument": doc}))
			if string(r.Body) != "{}" {
				t.Errorf("%s body %s, want {}", put, r.Body)
			}
			MustOK(t, put, s.Call(t, put, in{tt.member: name, "PolicyName": "another", "PolicyDocument": doc}))
			want := map[string]any{tt.member: name, "PolicyName": "profiles", "PolicyDocument": doc}
			if diff := cmp.Diff(want, MustOK(t, get, s.Call(t, get, in{tt.member: name, "PolicyName": "profiles"})).Out(t)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", get, diff)
			}
			wantList := map[string]any{"PolicyNames": []any{"another", "profiles"}, "IsTruncated": false}
			if diff := cmp.Diff(wantList, MustOK(t, list, s.Call(t, list, in{tt.member: name})).Out(t)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", list, diff)
			}
			page := MustOK(t, list, s.Call(t, list, in{tt.member: name, "MaxItems": 1})).Out(t)
			if !cmp.Equal(page["PolicyNames"], []any{"another"}) || page["IsTruncated"] != true {
				t.Errorf("%s page 1 = %v", list, page)
			}

			checkError(t, put+" malformed", s.Call(t, put, in{tt.member: name, "PolicyName": "bad", "PolicyDocument": "{"}),
				http.StatusBadRequest, iamapi.ExMalformedPolicyDocument, "line 1 column 2")
			checkError(t, put+" without a name", s.Call(t, put, in{tt.member: name, "PolicyDocument": doc}),
				http.StatusBadRequest, iamapi.ExValidation, "policyName", "null")
			checkError(t, put+" bad name", s.Call(t, put, in{tt.member: name, "PolicyName": "no spaces", "PolicyDocument": doc}),
				http.StatusBadRequest, iamapi.ExValidation, "policyName", `[\w+=,.@-]+`)
			checkError(t, put+" on the other type", s.Call(t, put, in{tt.member: otherName, "PolicyName": "p", "PolicyDocument": doc}),
				http.StatusNotFound, iamapi.ExNoSuchEntity)
			checkError(t, put+" with the other member", s.Call(t, put, in{tt.other: name, "PolicyName": "p", "PolicyDocument": doc}),
				http.StatusBadRequest, iamapi.ExValidation, "Value null")

			MustOK(t, del, s.Call(t, del, in{tt.member: name, "PolicyName": "profiles"}))
			checkError(t, get+" deleted", s.Call(t, get, in{tt.member: name, "PolicyName": "profiles"}), http.StatusNotFound, iamapi.ExNoSuchEntity)
			checkError(t, del+" deleted", s.Call(t, del, in{tt.member: name, "PolicyName": "profiles"}), http.StatusNotFound, iamapi.ExNoSuchEntity)
		})
	}
}

// TestAuthorization checks the action and resource of every operation, the
// condition keys, and that a refusal stops the operation.
func TestAuthorization(t *testing.T) {
	s := MustServer(t)
	MustOK(t, "CreateUser", s.Call(t, "CreateUser", in{"UserName": "alice"}))
	MustOK(t, "CreateRole", s.Call(t, "CreateRole", in{"RoleName": "ops"}))
	out := MustOK(t, "CreateAccessKey", s.Call(t, "CreateAccessKey", in{"UserName": "alice"})).Out(t)
	keyID := out["AccessKey"].(map[string]any)["AccessKeyId"]
	const doc = `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	const (
		user = "arn:aws:iam::000000000000:user/"
		role = "arn:aws:iam::000000000000:role/"
	)
	for _, tt := range []struct {
		op       string
		in       in
		resource string
	}{
		{"CreateUser", in{"UserName": "bob"}, user + "bob"},
		{"GetUser", in{"UserName": "alice"}, user + "alice"},
		{"ListUsers", in{}, "*"},
		{"CreateRole", in{"RoleName": "auditor"}, role + "auditor"},
		{"GetRole", in{"RoleName": "ops"}, role + "ops"},
		{"ListRoles", in{}, "*"},
		{"CreateAccessKey", in{"UserName": "bob"}, user + "bob"},
		{"ListAccessKeys", in{"UserName": "alice"}, user + "alice"},
		{"UpdateAccessKey", in{"UserName": "alice", "AccessKeyId": keyID, "Status": "Inactive"}, user + "alice"},
		{"PutUserPolicy", in{"UserName": "alice", "PolicyName": "p", "PolicyDocument": doc}, user + "alice"},
		{"GetUserPolicy", in{"UserName": "alice", "PolicyName": "p"}, user + "alice"},
		{"ListUserPolicies", in{"UserName": "alice"}, user + "alice"},
		{"DeleteUserPolicy", in{"UserName": "alice", "PolicyName": "p"}, user + "alice"},
		{"PutRolePolicy", in{"RoleName": "ops", "PolicyName": "p", "PolicyDocument": doc}, role + "ops"},
		{"GetRolePolicy", in{"RoleName": "ops", "PolicyName": "p"}, role + "ops"},
		{"ListRolePolicies", in{"RoleName": "ops"}, role + "ops"},
		{"DeleteRolePolicy", in{"RoleName": "ops", "PolicyName": "p"}, role + "ops"},
		{"GetAccessKeyLastUsed", in{"AccessKeyId": keyID}, user + "alice"},
		{"DeleteAccessKey", in{"UserName": "alice", "AccessKeyId": keyID}, user + "alice"},
		{"DeleteRole", in{"RoleName": "auditor"}, role + "auditor"},
		{"DeleteUser", in{"UserName": "bob"}, user + "bob"},
	} {
		t.Run(tt.op, func(t *testing.T) {
			MustOK(t, tt.op, s.CallAs(t, "AKALICE", tt.op, tt.in))
			got := s.Auth.last(t)
			if got.Principal != aliceARN || got.Action != "iam:"+tt.op || got.Resource != tt.resource {
				t.Errorf("authorised %s %s %s, want %s iam:%s %s", got.Principal, got.Action, got.Resource, aliceARN, tt.op, tt.resource)
			}
			wantKeys := map[string]string{"aws:SourceIp": "127.0.0.1", "aws:SecureTransport": "false",
				"aws:PrincipalArn": aliceARN, "aws:username": "alice"}
			for k, v := range wantKeys {
				if vs := got.Context[k]; len(vs) != 1 || vs[0] != v {
					t.Errorf("Context[%s] = %q, want [%q]", k, vs, v)
				}
			}
			ts := got.Context["aws:CurrentTime"]
			if len(ts) != 1 {
				t.Fatalf("Context[aws:CurrentTime] = %q", ts)
			}
			if now, err := time.Parse(time.RFC3339, ts[0]); err != nil || time.Since(now) > time.Minute {
				t.Errorf("aws:CurrentTime = %q (%v), want now", ts[0], err)
			}
		})
	}

	// A root caller has no aws:username.
	MustOK(t, "ListUsers", s.Call(t, "ListUsers", in{}))
	if got := s.Auth.last(t).Context; got["aws:username"] != nil || got["aws:PrincipalArn"][0] != rootARN {
		t.Errorf("root's context = %v", got)
	}

	// A refusal is AccessDenied, and the service is not called.
	s.Auth.denied[aliceARN+" iam:CreateUser"] = true
	s.Auth.denied[aliceARN+" iam:ListUsers"] = true
	checkError(t, "CreateUser denied", s.CallAs(t, "AKALICE", "CreateUser", in{"UserName": "mallory"}),
		http.StatusForbidden, iamapi.ExAccessDenied, "iam:CreateUser", user+"mallory")
	checkError(t, "GetUser", s.Call(t, "GetUser", in{"UserName": "mallory"}), http.StatusNotFound, iamapi.ExNoSuchEntity)
	checkError(t, "ListUsers denied", s.CallAs(t, "AKALICE", "ListUsers", in{}), http.StatusForbidden, iamapi.ExAccessDenied, "iam:ListUsers")

	// Bad shapes are refused before authorisation.
	n := s.Auth.count()
	checkError(t, "CreateUser bad name", s.CallAs(t, "AKALICE", "CreateUser", in{"UserName": "a/b"}), http.StatusBadRequest, iamapi.ExValidation, "'a/b'", "userName")
	if s.Auth.count() != n {
		t.Errorf("a request with a bad shape was authorised")
	}
}

func TestErrors(t *testing.T) {
	s := MustServer(t)
	for _, tt := range []struct {
		name      string
		op        string
		in        any
		o         reqOpts
		status    int
		exception string
		words     []string
	}{
		{"unknown operation", "CreateGroup", in{}, reqOpts{}, http.StatusBadRequest, iamapi.ExUnknownOperation, []string{"CreateGroup"}},
		{"other API's target", "", in{}, reqOpts{target: "TrentService.ListKeys"}, http.StatusBadRequest, iamapi.ExUnknownOperation, nil},
		{"GET", "ListUsers", nil, reqOpts{method: http.MethodGet}, http.StatusBadRequest, iamapi.ExUnknownOperation, []string{"POST"}},
		{"unsigned", "ListUsers", in{}, reqOpts{unsigned: true}, http.StatusForbidden, "MissingAuthenticationTokenException", nil},
		{"unknown key", "ListUsers", in{}, reqOpts{keyID: "AKNOBODY"}, http.StatusForbidden, "UnrecognizedClientException", nil},
		{"other service", "ListUsers", in{}, reqOpts{service: "kms"}, http.StatusForbidden, "InvalidSignatureException", []string{"'iam'"}},
		{"bad JSON", "CreateUser", nil, reqOpts{raw: []byte(`{"UserName":`)}, http.StatusBadRequest, iamapi.ExSerialization, nil},
		{"wrong type", "CreateUser", nil, reqOpts{raw: []byte(`{"UserName":7}`)}, http.StatusBadRequest, iamapi.ExSerialization, []string{"UserName"}},
		{"missing name", "CreateUser", in{}, reqOpts{}, http.StatusBadRequest, iamapi.ExValidation, []string{"1 validation error detected", "Value null at 'userName'"}},
		{"long name", "CreateUser", in{"UserName": strings.Repeat("a", 65)}, reqOpts{}, http.StatusBadRequest, iamapi.ExValidation, []string{"64"}},
		{"two errors", "UpdateAccessKey", in{"UserName": "alice", "AccessKeyId": "x", "Status": "On"}, reqOpts{}, http.StatusBadRequest, iamapi.ExValidation,
			[]string{"2 validation errors detected", "accessKeyId", "status"}},
		{"MaxItems", "ListUsers", in{"MaxItems": 0}, reqOpts{}, http.StatusBadRequest, iamapi.ExValidation, []string{"maxItems", "1000"}},
		{"internal", "CreateUser", in{"UserName": "boom"}, reqOpts{}, http.StatusInternalServerError, iamapi.ExServiceFailure, nil},
		{"lookup fails", "ListUsers", in{}, reqOpts{keyID: "AKBROKEN"}, http.StatusInternalServerError, iamapi.ExServiceFailure, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(t, tt.op, tt.in, tt.o)
			checkError(t, tt.name, r, tt.status, tt.exception, tt.words...)
			if tt.status == http.StatusInternalServerError && (strings.Contains(r.Message, "fire") || strings.Contains(r.Message, "down")) {
				t.Errorf("internal details sent: %q", r.Message)
			}
		})
	}
	if !strings.Contains(s.Logs.String(), "disk on fire") {
		t.Errorf("the internal error is not logged")
	}
}

// TestLogs checks the one JSON line per request.
func TestLogs(t *testing.T) {
	s := MustServer(t)
	r := MustOK(t, "CreateUser", s.CallAs(t, "AKALICE", "CreateUser", in{"UserName": "bob"}))
	checkError(t, "GetUser", s.CallAs(t, "AKALICE", "GetUser", in{"UserName": "nobody"}), http.StatusNotFound, iamapi.ExNoSuchEntity)

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.Logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), s.Logs.String())
	}
	for i, want := range []map[string]any{
		{"request_id": r.Header.Get("X-Amzn-Requestid"), "operation": "CreateUser", "principal": aliceARN, "status": 200.0, "error": ""},
		{"operation": "GetUser", "principal": aliceARN, "status": 404.0, "error": iamapi.ExNoSuchEntity},
	} {
		for k, v := range want {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, lines[i][k], v)
			}
		}
		if lines[i]["request_id"] == "" || lines[i]["request_id"] == nil {
			t.Errorf("line %d has no request_id", i)
		}
	}
}

// names returns the member of each item of a JSON list, space-separated.
func names(list any, member string) string {
	var out []string
	items, _ := list.([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		s, _ := m[member].(string)
		out = append(out, s)
	}
	return strings.Join(out, " ")
}
