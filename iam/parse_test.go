package iam_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openprofiles/profiles/iam"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want *iam.Policy
	}{
		{"StatementObject", `{"Version":"2012-10-17","Id":"p1","Statement":{"Sid":"S","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}}`,
			&iam.Policy{Version: "2012-10-17", ID: "p1", Statements: []iam.Statement{{Sid: "S", Effect: "Allow", Actions: []string{"kms:Decrypt"}, Resources: []string{"*"}}}}},
		{"NoVersion", `{"Statement":[{"Effect":"Deny","NotAction":["kms:*","sqs:*"],"NotResource":"arn:aws:kms:*:*:key/*"}]}`,
			&iam.Policy{Statements: []iam.Statement{{Effect: "Deny", NotActions: []string{"kms:*", "sqs:*"}, NotResources: []string{"arn:aws:kms:*:*:key/*"}}}}},
		{"Principals", `{"Version":"2008-10-17","Statement":[
			{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
			{"Effect":"Allow","Principal":{"Service":["profile.amazonaws.com"],"AWS":["111122223333","arn:aws:iam::111122223333:user/alice"]},"Action":"*","Resource":"*"},
			{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"*","Resource":"*"}]}`,
			&iam.Policy{Version: "2008-10-17", Statements: []iam.Statement{
				{Effect: "Allow", Principal: &iam.Principals{All: true}, Actions: []string{"*"}, Resources: []string{"*"}},
				{Effect: "Allow", Principal: &iam.Principals{AWS: []string{"111122223333", alice}, Service: []string{"profile.amazonaws.com"}}, Actions: []string{"*"}, Resources: []string{"*"}},
				{Effect: "Deny", NotPrincipal: &iam.Principals{AWS: []string{"*"}}, Actions: []string{"*"}, Resources: []string{"*"}},
			}}},
		{"Conditions", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
			"NumericLessThan":{"profile:MaxResults":100,"profile:Other":[1.5,"2"]},
			"BoolIfExists":{"aws:SecureTransport":true},
			"ForAllValues:StringLike":{"aws:TagKeys":["a*"]},
			"ForAnyValue:IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"},
			"Null":{"aws:RequestTag/x":false}}}}`,
			&iam.Policy{Version: "2012-10-17", Statements: []iam.Statement{{Effect: "Allow", Actions: []string{"*"}, Resources: []string{"*"}, Conditions: []iam.Condition{
				{Operator: "NumericLessThan", Key: "profile:MaxResults", Values: []string{"100"}},
				{Operator: "NumericLessThan", Key: "profile:Other", Values: []string{"1.5", "2"}},
				{Operator: "Bool", IfExists: true, Key: "aws:SecureTransport", Values: []string{"true"}},
				{Operator: "StringLike", ForAllValues: true, Key: "aws:TagKeys", Values: []string{"a*"}},
				{Operator: "IpAddress", ForAnyValue: true, IfExists: true, Key: "aws:SourceIp", Values: []string{"10.0.0.0/8"}},
				{Operator: "Null", Key: "aws:RequestTag/x", Values: []string{"false"}},
			}}}}},
		{"EmptyCondition", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}}`,
			&iam.Policy{Statements: []iam.Statement{{Effect: "Allow", Actions: []string{"*"}, Resources: []string{"*"}}}}},
		{"Escapes", `{"Statement":{"Sid":"caf\u00e9 \"\/\\","Effect":"Allow","Action":"*","Resource":"*"}}`,
			&iam.Policy{Statements: []iam.Statement{{Sid: `café "/\`, Effect: "Allow", Actions: []string{"*"}, Resources: []string{"*"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := iam.Parse([]byte(tt.doc))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestParse_Errors(t *testing.T) {
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	tests := []struct {
		name     string
		doc      string
		line     int
		col      int
		wantMsg  string
		parseFor func([]byte) (*iam.Policy, error) // nil: iam.Parse
	}{
		{"BadJSON", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [}\n", 3, 17, `unexpected character '}', expecting a value`, nil},
		{"BadJSONColumn14", "{\n  \"Version\": \"2012-10-17\",\n  \"Id\": \"x\"  \"y\"\n}", 3, 14, `unexpected character '"', expecting ',' or '}'`, nil},
		{"ColumnCountsCharacters", "{\"Id\": \"éé\" x}", 1, 13, `unexpected character 'x'`, nil},
		{"Empty", "  ", 1, 3, "empty document", nil},
		{"NotObject", `["Statement"]`, 1, 1, "policy document must be a JSON object, not a list", nil},
		{"TrailingData", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} {}`, 1, 62, "unexpected character '{' after the end of the policy document", nil},
		{"UnterminatedString", `{"Id":"abc`, 1, 7, "unterminated string", nil},
		{"ControlCharacter", "{\"Id\":\"a\tb\"}", 1, 9, "control character U+0009 in string", nil},
		{"BadEscape", `{"Id":"a\qb"}`, 1, 9, `invalid escape "\\q" in string`, nil},
		{"LeadingZero", `{"Id":01}`, 1, 7, "invalid number: leading zero", nil},
		{"InvalidUTF8", "{\"Id\":\"a\xffb\"}", 1, 9, "invalid UTF-8", nil},
		{"TooDeep", `{"Id":[[[[[[[[[]]]]]]]]]}`, 1, 14, "nested too deeply", nil},
		{"DuplicateKey", "{\"Statement\":[],\n \"Statement\":[]}", 2, 2, `duplicate key "Statement"`, nil},
		{"UnknownTopLevel", "{\"Version\":\"2012-10-17\",\n \"Statements\":[]}", 2, 2, `unknown top-level element "Statements"`, nil},
		{"UnknownTopLevelCase", `{"statement":[]}`, 1, 2, `unknown top-level element "statement" (did you mean "Statement"?)`, nil},
		{"MissingStatement", `{"Version":"2012-10-17"}`, 1, 1, "missing Statement", nil},
		{"BadVersion", `{"Version":"2020-01-01","Statement":[]}`, 1, 12, `Version must be "2012-10-17" or "2008-10-17", not "2020-01-01"`, nil},
		{"VersionNumber", `{"Version":2012,"Statement":[]}`, 1, 12, "Version must be a string, not a number", nil},
		{"EmptyStatement", `{"Statement":[]}`, 1, 14, "Statement must not be empty", nil},
		{"StatementString", `{"Statement":"Allow"}`, 1, 14, "Statement must be an object or a list of objects, not a string", nil},
		{"StatementElementNotObject", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"},"x"`), 1, 85, "Statement[1] must be an object, not a string", nil},
		{"BadEffect", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"},
{"Effect":"allow","Action":"*","Resource":"*"}`), 2, 11, "Statement[1].Effect must be Allow or Deny", nil},
		{"MissingEffect", stmt(`{"Action":"*","Resource":"*"}`), 1, 38, "Statement[0] is missing Effect", nil},
		{"MissingAction", stmt(`{"Effect":"Allow","Resource":"*"}`), 1, 38, "Statement[0] is missing Action or NotAction", nil},
		{"BothActions", stmt(`{"Effect":"Allow","Action":"*","NotAction":"kms:*","Resource":"*"}`), 1, 69, "Statement[0] has both Action and NotAction", nil},
		{"MissingResource", stmt(`{"Effect":"Allow","Action":"*"}`), 1, 38, "Statement[0] is missing Resource or NotResource", nil},
		{"BothResources", stmt(`{"Effect":"Allow","Action":"*","NotResource":"*","Resource":"*"}`), 1, 87, "Statement[0] has both Resource and NotResource", nil},
		{"BothPrincipals", stmt(`{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*","Resource":"*"}`), 1, 72, "Statement[0] has both Principal and NotPrincipal", nil},
		{"UnknownStatementElement", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condtion":{}}`), 1, 84, `unknown element "Condtion" in Statement[0]`, nil},
		{"UnknownStatementElementCase", stmt(`{"effect":"Allow","Action":"*","Resource":"*"}`), 1, 39, `unknown element "effect" in Statement[0] (did you mean "Effect"?)`, nil},
		{"DuplicateSid", stmt(`{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}`), 1, 102, `Statement[1].Sid "A" is already the Sid of Statement[0]`, nil},
		{"EmptyActionList", stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), 1, 65, "Statement[0].Action must not be an empty list", nil},
		{"ActionNumber", stmt(`{"Effect":"Allow","Action":["kms:Decrypt",7],"Resource":"*"}`), 1, 80, "Statement[0].Action[1] must be a string, not a number", nil},
		{"ActionWithoutService", stmt(`{"Effect":"Allow","Action":"Decrypt","Resource":"*"}`), 1, 65, `Statement[0].Action: "Decrypt" is not an action`, nil},
		{"ResourceNotARN", stmt(`{"Effect":"Allow","Action":"*","Resource":"domains/retail"}`), 1, 80, `Statement[0].Resource: "domains/retail" is not a resource`, nil},
		{"PrincipalString", stmt(`{"Effect":"Allow","Principal":"alice","Action":"*","Resource":"*"}`), 1, 68, `Statement[0].Principal must be "*" or an object`, nil},
		{"PrincipalEmpty", stmt(`{"Effect":"Allow","Principal":{},"Action":"*","Resource":"*"}`), 1, 68, "Statement[0].Principal must name at least one principal", nil},
		{"PrincipalWildcardARN", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"*","Resource":"*"}`), 1, 75,
			`Statement[0].Principal.AWS: "arn:aws:iam::111122223333:user/*" must be "*", a 12-digit account id or an ARN without wildcards`, nil},
		{"PrincipalFederated", stmt(`{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"*","Resource":"*"}`), 1, 69,
			`unknown principal type "Federated" in Statement[0].Principal; expecting one of AWS, Service`, nil},
		{"ConditionNotObject", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":[]}`), 1, 96, "Statement[0].Condition must be an object, not a list", nil},
		{"UnknownOperator", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringMatches":{"aws:username":"a"}}}`), 1, 97,
			`Statement[0].Condition: unknown condition operator "StringMatches"`, nil},
		{"OperatorCase", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:stringEqualsIfExists":{"aws:username":"a"}}}`), 1, 97,
			`unknown condition operator "ForAnyValue:stringEqualsIfExists" (did you mean "ForAnyValue:StringEqualsIfExists"?)`, nil},
		{"BadPrefix", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValue:StringEquals":{"aws:username":"a"}}}`), 1, 97,
			"the only prefixes are ForAllValues: and ForAnyValue:", nil},
		{"NullIfExists", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}`), 1, 97,
			"Null takes neither IfExists nor a ForAllValues:/ForAnyValue: prefix", nil},
		{"OperatorNotObject", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"a"}}`), 1, 112,
			"Statement[0].Condition.StringEquals must be an object of condition keys", nil},
		{"OperatorEmpty", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{}}}`), 1, 112,
			"Statement[0].Condition.StringEquals must name at least one condition key", nil},
		{"ConditionKeyWithoutPrefix", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"SourceAccount":"1"}}}`), 1, 113,
			`condition key "SourceAccount" must be of the form prefix:name`, nil},
		{"ConditionValueObject", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}`), 1, 128,
			`Statement[0].Condition.StringEquals["aws:username"]: a condition value must be a string, number or boolean, not an object`, nil},
		{"ConditionValueNull", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":["a",null]}}}`), 1, 133,
			"not null", nil},
		{"ConditionValuesEmpty", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":[]}}}`), 1, 128,
			`Statement[0].Condition.StringEquals["aws:username"] must not be an empty list`, nil},
		{"NotANumber", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"profile:MaxResults":"ten"}}}`), 1, 137,
			`"ten" is not a number`, nil},
		{"NotADate", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"soon"}}}`), 1, 131,
			`"soon" is not a date`, nil},
		{"NotABool", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}`), 1, 127,
			`"yes" is not true or false`, nil},
		{"NotBase64", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"profile:Blob":"%%%"}}}`), 1, 128,
			`"%%%" is not base64`, nil},
		{"NotCIDR", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}`), 1, 125,
			`"10.0.0.0/33" is not an IP address or CIDR block`, nil},
		{"NotARN", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"domains/*"}}}`), 1, 124,
			`"domains/*" is not an ARN`, nil},
		{"NullVariable", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:username":"${aws:x}"}}}`), 1, 120,
			`"${aws:x}" is not true or false`, nil},
		{"IdentityWithPrincipal", stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`), 1, 56,
			"Statement[0].Principal is not allowed in an identity policy", iam.ParseIdentityPolicy},
		{"ResourceWithoutPrincipal", stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}`), 1, 101,
			"Statement[1] is missing Principal or NotPrincipal", iam.ParseResourcePolicy},
		{"TooManyStatements", stmt(strings.Repeat(`{"Effect":"Allow","Action":"*","Resource":"*"},`, 100) + `{"Effect":"Allow","Action":"*","Resource":"*"}`), 1, 4738,
			"too many statements: 101; the limit is 100", nil},
		{"TooLarge", stmt(strings.Repeat(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/`+strings.Repeat("x", 400)+`"},`, 22) + `{"Effect":"Allow","Action":"*","Resource":"*"}`), 1, 9898,
			"policy is 10931 bytes without whitespace; the limit is 10240", nil},
		{"TooLargeRaw", `{"Statement":` + strings.Repeat(" ", iam.MaxDocumentBytes) + `}`, 1, 65537, "document is larger than 65536 bytes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parse := tt.parseFor
			if parse == nil {
				parse = iam.Parse
			}
			p, err := parse([]byte(tt.doc))
			var se *iam.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse = %+v, %v; want a *SyntaxError", p, err)
			}
			if se.Line != tt.line || se.Column != tt.col || !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("error = %q at line %d column %d; want %q at line %d column %d", se.Msg, se.Line, se.Column, tt.wantMsg, tt.line, tt.col)
			}
			if got, want := err.Error(), fmt.Sprintf("line %d column %d: %s", se.Line, se.Column, se.Msg); got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

// TestParse_Usage checks that the testdata policies are accepted by the
// parser of their kind.
func TestParse_Usage(t *testing.T) {
	for _, tt := range []struct {
		file  string
		parse func([]byte) (*iam.Policy, error)
	}{
		{"kms-key-policy.json", iam.ParseResourcePolicy},
		{"sqs-queue-policy.json", iam.ParseResourcePolicy},
		{"agent-policy.json", iam.ParseIdentityPolicy},
	} {
		doc, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tt.parse(doc); err != nil {
			t.Errorf("%s: %v", tt.file, err)
		}
	}
}

func TestPolicy_MarshalJSON(t *testing.T) {
	p := MustParse(t, `{
		"Id": "q", "Version": "2012-10-17",
		"Statement": {"Condition": {"NumericLessThan": {"profile:MaxResults": 100}, "Bool": {"aws:SecureTransport": [true]}},
			"Resource": ["*"], "Action": ["kms:Decrypt", "kms:Encrypt"], "Effect": "Allow",
			"Principal": {"Service": "profile.amazonaws.com", "AWS": ["111122223333"]}, "Sid": "tab\there"}}`)
	got, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Id":"q","Statement":[{"Sid":"tab\there","Effect":"Allow",` +
		`"Principal":{"AWS":"111122223333","Service":"profile.amazonaws.com"},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*",` +
		`"Condition":{"NumericLessThan":{"profile:MaxResults":"100"},"Bool":{"aws:SecureTransport":"true"}}}]}`
	if string(got) != want {
		t.Errorf("MarshalJSON =\n%s\nwant\n%s", got, want)
	}

	for _, name := range []string{"kms-key-policy.json", "sqs-queue-policy.json", "agent-policy.json"} {
		p := MustReadPolicy(t, name)
		b, err := p.MarshalJSON()
		if err != nil {
			t.Fatalf("%s: MarshalJSON: %v", name, err)
		}
		if q := MustParse(t, string(b)); !reflect.DeepEqual(p, q) {
			t.Errorf("%s: round trip:\n%#v\nwant\n%#v", name, q, p)
		}
	}
}

func TestPolicy_MarshalJSON_Errors(t *testing.T) {
	stmt := iam.Statement{Effect: "Allow", Actions: []string{"*"}, Resources: []string{"*"}}
	tests := []struct {
		name string
		edit func(s *iam.Statement)
		want string
	}{
		{"AllAndList", func(s *iam.Statement) { s.Principal = &iam.Principals{All: true, AWS: []string{account}} }, `"*" cannot be combined`},
		{"NoPrincipal", func(s *iam.Statement) { s.NotPrincipal = &iam.Principals{} }, "names no principal"},
		{"NoValues", func(s *iam.Statement) { s.Conditions = []iam.Condition{{Operator: "Bool", Key: "aws:SecureTransport"}} }, "has no values"},
		{"BothSetOperators", func(s *iam.Statement) {
			s.Conditions = []iam.Condition{{Operator: "StringEquals", ForAllValues: true, ForAnyValue: true, Key: "aws:TagKeys", Values: []string{"a"}}}
		}, "both ForAllValues and ForAnyValue"},
		{"DuplicateKey", func(s *iam.Statement) {
			c := iam.Condition{Operator: "StringEquals", Key: "aws:username", Values: []string{"a"}}
			s.Conditions = []iam.Condition{c, {Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}}, c}
		}, "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stmt
			tt.edit(&s)
			p := &iam.Policy{Statements: []iam.Statement{s}}
			if _, err := p.MarshalJSON(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("MarshalJSON error = %v, want %q", err, tt.want)
			}
		})
	}
	var nilPolicy *iam.Policy
	if b, err := nilPolicy.MarshalJSON(); err != nil || string(b) != "null" {
		t.Errorf("nil MarshalJSON = %s, %v; want null, nil", b, err)
	}
}
