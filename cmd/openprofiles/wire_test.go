package main_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

const modelPath = "../../../shared/reference/customer-profiles/service-2.json"

// TestAllOperationsRouted sends a signed request for every operation of the
// model to the real server and checks that each is routed to its operation:
// implemented ones answer from their handler, the others with a
// NotImplementedException naming them; none is an unknown route.
func TestAllOperationsRouted(t *testing.T) {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		t.Fatalf("read model: %v", err)
	}
	var model struct {
		Operations map[string]struct {
			HTTP struct{ Method, RequestURI string } `json:"http"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(data, &model); err != nil {
		t.Fatal(err)
	}
	if got, want := len(model.Operations), 107; got != want {
		t.Fatalf("model has %d operations, want %d", got, want)
	}

	// The SDK client has one method per operation: same set as the model.
	var sdkOps []string
	ct := reflect.TypeOf(&customerprofiles.Client{})
	for i := range ct.NumMethod() {
		mt := ct.Method(i)
		if mt.Type.NumIn() > 2 && strings.HasSuffix(mt.Type.In(2).String(), "Input") {
			sdkOps = append(sdkOps, mt.Name)
		}
	}
	var modelOps []string
	for name := range model.Operations {
		modelOps = append(modelOps, name)
	}
	sort.Strings(sdkOps)
	sort.Strings(modelOps)
	if diff := cmp.Diff(modelOps, sdkOps); diff != "" {
		t.Fatalf("model and SDK operations differ (-model +sdk):\n%s", diff)
	}

	m := MustRunMain(t)
	routes := m.API.Routes()
	if got, want := len(routes), 107; got != want {
		t.Fatalf("server routes %d operations, want %d", got, want)
	}
	label := regexp.MustCompile(`\{[^}]+\}`)
	for _, r := range routes {
		t.Run(r.Operation, func(t *testing.T) {
			op := model.Operations[r.Operation]
			if r.Method != op.HTTP.Method || r.Template != op.HTTP.RequestURI {
				t.Fatalf("route %s %s, model says %s %s", r.Method, r.Template, op.HTTP.Method, op.HTTP.RequestURI)
			}
			path := label.ReplaceAllStringFunc(r.Template, func(l string) string {
				if l == "{resourceArn}" {
					return url.PathEscape("arn:aws:profile:us-east-1:000000000000:domains/none")
				}
				return "x0123456789abcdef0123456789abcdef"[1:]
			})
			var body []byte
			if r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH" {
				body = []byte(`{}`)
			}
			resp := mustDo(t, mustSignedRequest(t, m, r.Method, path, body, signOpts{}))
			if resp.RequestID == "" {
				t.Errorf("no x-amzn-RequestId")
			}
			switch {
			case resp.ErrorType == "UnknownOperationException" || resp.ErrorType == "MethodNotAllowedException":
				t.Fatalf("%s %s not routed: %s", r.Method, path, resp.Body)
			case !r.Implemented:
				checkError(t, resp, 501, "NotImplementedException", r.Operation)
			case resp.ErrorType == "NotImplementedException":
				t.Fatalf("implemented operation answered NotImplemented: %s", resp.Body)
			}
		})
	}
}

func TestWire(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.MaxBodyBytes = 4096 })
	client := MustClient(t, m)
	ctx := t.Context()
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("wire"), DefaultExpirationDays: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}

	t.Run("MalformedJSON", func(t *testing.T) {
		r := mustDo(t, mustSignedRequest(t, m, "PUT", "/domains/wire", []byte(`{"DefaultExpirationDays": 5,`), signOpts{}))
		checkError(t, r, 400, "BadRequestException", "Malformed request body")
	})
	t.Run("NotAnObject", func(t *testing.T) {
		r := mustDo(t, mustSignedRequest(t, m, "PUT", "/domains/wire", []byte(`[1,2]`), signOpts{}))
		checkError(t, r, 400, "BadRequestException", "JSON object")
	})
	t.Run("WrongType", func(t *testing.T) {
		r := mustDo(t, mustSignedRequest(t, m, "PUT", "/domains/wire", []byte(`{"DefaultExpirationDays":"ten"}`), signOpts{}))
		checkError(t, r, 400, "BadRequestException", "DefaultExpirationDays", "integer")
	})
	t.Run("UnknownFieldsIgnored", func(t *testing.T) {
		r := mustDo(t, mustSignedRequest(t, m, "PUT", "/domains/wire", []byte(`{"DefaultExpirationDays":12,"NoSuchMember":{"a":1}}`), signOpts{}))
		if r.Status != 200 {
			t.Fatalf("status %d (%s), want 200: AWS ignores members it does not know", r.Status, r.Body)
		}
		var out struct{ DefaultExpirationDays int }
		json.Unmarshal(r.Body, &out)
		if out.DefaultExpirationDays != 12 {
			t.Fatalf("DefaultExpirationDays=%d, want 12", out.DefaultExpirationDays)
		}
	})
	t.Run("BodyOverLimit", func(t *testing.T) {
		big := `{"DefaultExpirationDays":12,"Pad":"` + strings.Repeat("x", 5000) + `"}`
		r := mustDo(t, mustSignedRequest(t, m, "PUT", "/domains/wire", []byte(big), signOpts{}))
		checkError(t, r, 413, "RequestEntityTooLargeException", "4096")
		d, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("wire")})
		if err != nil || aws.ToInt32(d.DefaultExpirationDays) != 12 {
			t.Fatalf("domain after refused update: %v %v, want unchanged", d, err)
		}
	})
	t.Run("MemberNamesExact", func(t *testing.T) {
		// Names match exactly, as AWS's JSON protocols match them: one that
		// differs from a member's only in case is an unknown member,
		// ignored (encoding/json took "firstname" for FirstName), at any
		// depth; the names of a map are data, kept as they are.
		body := `{"\u0046irst\u004eame":"Kay","firstname":"Ann","LastName":"Lee","address":{"City":"Lyon"},"Address":{"city":"Oslo","Country":"FR"},` +
			`"FIRSTNAME":"Bob","Attributes":{"firstname":"kept"},"Bu\u017FinessName":"Acme"}`
		r := mustDo(t, mustSignedRequest(t, m, "POST", "/domains/wire/profiles", []byte(body), signOpts{}))
		var created struct{ ProfileId string }
		if err := json.Unmarshal(r.Body, &created); r.Status != 200 || err != nil {
			t.Fatalf("CreateProfile: %d %s", r.Status, r.Body)
		}
		out, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("wire"), KeyName: aws.String("_profileId"), Values: []string{created.ProfileId}})
		if err != nil || len(out.Items) != 1 {
			t.Fatalf("SearchProfiles: %v %v", out, err)
		}
		p := out.Items[0]
		if got := aws.ToString(p.FirstName); got != "Kay" { // an escaped name is its unescaped self
			t.Errorf("FirstName=%q, want Kay (from \\u0046irst\\u004eame, not firstname or FIRSTNAME)", got)
		}
		if aws.ToString(p.LastName) != "Lee" || p.Address == nil || p.Address.City != nil || aws.ToString(p.Address.Country) != "FR" {
			t.Errorf("LastName=%q Address=%+v; want Lee and an address of country FR without city", aws.ToString(p.LastName), p.Address)
		}
		if got := aws.ToString(p.BusinessName); got != "" { // ſ folds to s in encoding/json's matching
			t.Errorf("BusinessName=%q, want none", got)
		}
		if p.Attributes["firstname"] != "kept" || len(p.Attributes) != 1 {
			t.Errorf("Attributes=%v, want {firstname: kept}", p.Attributes)
		}
		// TagResource's member is "tags": "Tags" is not it, for the
		// operation as for the policy conditions on the request's tags.
		arn := url.PathEscape("arn:aws:profile:us-east-1:000000000000:domains/wire")
		r = mustDo(t, mustSignedRequest(t, m, "POST", "/tags/"+arn, []byte(`{"Tags":{"team":"x"}}`), signOpts{}))
		checkError(t, r, 400, "BadRequestException", "'tags'", "must not be null")
		// A malformed body is refused at the offset of its fault, names
		// differing in case or not.
		r = mustDo(t, mustSignedRequest(t, m, "PUT", "/domains/wire", []byte(`{"defaultexpirationdays":5,}`), signOpts{}))
		checkError(t, r, 400, "BadRequestException", "offset 28")
	})
	t.Run("UnknownRoute", func(t *testing.T) {
		r := mustDo(t, mustSignedRequest(t, m, "GET", "/no/such/thing", nil, signOpts{}))
		checkError(t, r, 404, "UnknownOperationException")
	})
	t.Run("EpochSecondTimestamps", func(t *testing.T) {
		r := mustDo(t, mustSignedRequest(t, m, "GET", "/domains/wire", nil, signOpts{}))
		var raw map[string]any
		if err := json.Unmarshal(r.Body, &raw); err != nil {
			t.Fatal(err)
		}
		created, ok := raw["CreatedAt"].(float64)
		if !ok || time.Since(time.Unix(int64(created), 0)) > time.Minute {
			t.Fatalf("CreatedAt=%v (%T), want epoch seconds as a JSON number", raw["CreatedAt"], raw["CreatedAt"])
		}
	})
	t.Run("TimestampsOutOfRange", func(t *testing.T) {
		// A time out of years 1 to 9999 is refused naming its member: 1e20
		// epoch seconds overflowed into a time of the year 1677.
		for _, c := range []struct{ path, body, member string }{
			{"/domains/wire/workflows", `{"QueryStartDate":1e20}`, "'QueryStartDate'"},
			{"/domains/wire/workflows", `{"QueryEndDate":-1e20}`, "'QueryEndDate'"},
			{"/domains/wire/workflows", `{"QueryStartDate":"99999-01-01T00:00:00Z"}`, "'QueryStartDate'"},
			{"/domains/wire/workflows", `{"QueryStartDate":"0000-06-01T00:00:00Z"}`, "'QueryStartDate'"},
		} {
			r := mustDo(t, mustSignedRequest(t, m, "POST", c.path, []byte(c.body), signOpts{}))
			checkError(t, r, 400, "BadRequestException", c.member, "year 1 to year 9999")
		}
		flow := `{"FlowDefinition":{"FlowName":"f","KMSArn":"arn:aws:kms:us-east-1:000000000000:key/k","SourceFlowConfig":{"ConnectorType":"S3",` +
			`"SourceConnectorProperties":{"S3":{"BucketName":"b"}}},"Tasks":[],"TriggerConfig":{"TriggerType":"Scheduled",` +
			`"TriggerProperties":{"Scheduled":{"ScheduleExpression":"rate(1hours)","ScheduleStartTime":1e20}}}},"ObjectTypeName":"crm"}`
		r := mustDo(t, mustSignedRequest(t, m, "PUT", "/domains/wire/integrations", []byte(flow), signOpts{}))
		checkError(t, r, 400, "BadRequestException", "'FlowDefinition.TriggerConfig.TriggerProperties.Scheduled.ScheduleStartTime'", "1e20")
	})
	t.Run("FractionalTimestamps", func(t *testing.T) {
		// What the SDK sends: epoch seconds with milliseconds.
		from := time.Now().Add(-time.Hour).Truncate(time.Second).Add(123 * time.Millisecond)
		if _, err := client.ListWorkflows(ctx, &customerprofiles.ListWorkflowsInput{DomainName: aws.String("wire"),
			QueryStartDate: aws.Time(from), QueryEndDate: aws.Time(from.Add(2 * time.Hour))}); err != nil {
			t.Fatalf("ListWorkflows with fractional seconds: %v", err)
		}
		r := mustDo(t, mustSignedRequest(t, m, "POST", "/domains/wire/workflows", []byte(`{"QueryStartDate":1719000000.123,"QueryEndDate":"2024-06-21T20:00:00.5Z"}`), signOpts{}))
		if r.Status != 200 {
			t.Fatalf("ListWorkflows with 1719000000.123: %d %s", r.Status, r.Body)
		}
	})
	t.Run("EmptyListsSent", func(t *testing.T) {
		// An empty list or map goes out as [] or {}, not left out (a
		// JavaScript client reads .Items.length); absent members stay out.
		for _, c := range []struct{ method, path, want string }{
			{"POST", "/domains/wire/workflows", `{"Items":[]}`},
			{"GET", "/domains/wire/integrations", `{"Items":[]}`},
			{"GET", "/tags/" + url.PathEscape("arn:aws:profile:us-east-1:000000000000:domains/wire"), `{"tags":{}}`},
		} {
			var body []byte
			if c.method == "POST" {
				body = []byte(`{}`)
			}
			r := mustDo(t, mustSignedRequest(t, m, c.method, c.path, body, signOpts{}))
			if r.Status != 200 || string(r.Body) != c.want {
				t.Errorf("%s %s: %d %s; want %s", c.method, c.path, r.Status, r.Body, c.want)
			}
		}
	})
	t.Run("Healthz", func(t *testing.T) {
		resp, err := http.Get(m.URL() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), "ok") {
			t.Fatalf("healthz: %d %s", resp.StatusCode, b)
		}
	})
}

func TestSigV4(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()

	apiErr := func(t *testing.T, err error, code string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Fatalf("err=%v, want %s", err, code)
		}
	}
	t.Run("NoAuthorization", func(t *testing.T) {
		req, _ := http.NewRequest("GET", m.URL()+"/domains", nil)
		checkError(t, mustDo(t, req), 403, "MissingAuthenticationTokenException")
	})
	t.Run("UnknownKey", func(t *testing.T) {
		_, err := newClient(t, m, "AKOPUNKNOWN000000000", testSecret, testRegion).ListDomains(ctx, &customerprofiles.ListDomainsInput{})
		apiErr(t, err, "UnrecognizedClientException")
	})
	t.Run("WrongSecret", func(t *testing.T) {
		_, err := newClient(t, m, testKeyID, "not-the-secret", testRegion).ListDomains(ctx, &customerprofiles.ListDomainsInput{})
		apiErr(t, err, "InvalidSignatureException")
	})
	t.Run("WrongRegion", func(t *testing.T) {
		_, err := newClient(t, m, testKeyID, testSecret, "eu-west-1").ListDomains(ctx, &customerprofiles.ListDomainsInput{})
		apiErr(t, err, "InvalidSignatureException")
	})
	t.Run("WrongService", func(t *testing.T) {
		r := mustDo(t, mustSignedRequest(t, m, "GET", "/domains", nil, signOpts{service: "kms"}))
		checkError(t, r, 403, "InvalidSignatureException", "profile")
	})
	t.Run("StaleDate", func(t *testing.T) {
		r := mustDo(t, mustSignedRequest(t, m, "GET", "/domains", nil, signOpts{at: time.Now().Add(-20 * time.Minute)}))
		checkError(t, r, 403, "InvalidSignatureException", "expired")
	})
	t.Run("TamperedBody", func(t *testing.T) {
		req := mustSignedRequest(t, m, "POST", "/domains/tamper", []byte(`{"DefaultExpirationDays":10}`), signOpts{})
		body := `{"DefaultExpirationDays":99}`
		req.Body = io.NopCloser(strings.NewReader(body))
		r := mustDo(t, req)
		if r.Status != 403 && r.Status != 400 || r.ErrorType != "InvalidSignatureException" {
			t.Fatalf("got %d %s, want InvalidSignatureException", r.Status, r.Body)
		}
		if _, err := MustClient(t, m).GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("tamper")}); err == nil {
			t.Fatal("a request with a tampered body created the domain")
		}
	})
	t.Run("NoSignatureLeak", func(t *testing.T) {
		req := mustSignedRequest(t, m, "GET", "/domains", nil, signOpts{secret: "wrong"})
		good := mustSignedRequest(t, m, "GET", "/domains", nil, signOpts{at: mustDate(t, req)})
		sig := good.Header.Get("Authorization")[strings.Index(good.Header.Get("Authorization"), "Signature=")+len("Signature="):]
		r := mustDo(t, req)
		if strings.Contains(string(r.Body), sig) {
			t.Fatalf("the error reveals the expected signature: %s", r.Body)
		}
		checkError(t, r, 403, "InvalidSignatureException")
	})
}

func mustDate(t *testing.T, req *http.Request) time.Time {
	t.Helper()
	at, err := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	return at
}
