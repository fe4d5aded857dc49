package main_test

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// fullCreateInput sets every member of CreateDomain, with a key of the
// server's built-in KMS that the service may use.
func fullCreateInput(tb testing.TB, m *main.Main, name string) *customerprofiles.CreateDomainInput {
	tb.Helper()
	return &customerprofiles.CreateDomainInput{
		DomainName:            aws.String(name),
		DefaultExpirationDays: aws.Int32(366),
		DefaultEncryptionKey:  aws.String(mustServiceKey(tb, m)),
		DeadLetterQueueUrl:    aws.String(mustServiceQueue(tb, m, "profiles-dlq-"+strings.ToLower(name))),
		Matching: &types.MatchingRequest{
			Enabled:     aws.Bool(true),
			JobSchedule: &types.JobSchedule{DayOfTheWeek: types.JobScheduleDayOfTheWeekMonday, Time: aws.String("03:30")},
			AutoMerging: &types.AutoMerging{
				Enabled:                             aws.Bool(true),
				Consolidation:                       &types.Consolidation{MatchingAttributesList: [][]string{{"EmailAddress"}, {"FirstName", "LastName", "PhoneNumber"}}},
				ConflictResolution:                  &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelRecency},
				MinAllowedConfidenceScoreForMerging: aws.Float64(0.75),
			},
			ExportingConfig: &types.ExportingConfig{S3Exporting: &types.S3ExportingConfig{S3BucketName: aws.String("exports"), S3KeyName: aws.String("matches/")}},
		},
		RuleBasedMatching: &types.RuleBasedMatchingRequest{
			Enabled:                        aws.Bool(true),
			MatchingRules:                  []types.MatchingRule{{Rule: []string{"EmailAddress"}}, {Rule: []string{"FirstName", "LastName", "Address.City"}}},
			MaxAllowedRuleLevelForMatching: aws.Int32(5),
			MaxAllowedRuleLevelForMerging:  aws.Int32(3),
			AttributeTypesSelector: &types.AttributeTypesSelector{
				AttributeMatchingModel: types.AttributeMatchingModelOneToOne,
				Address:                []string{"Address", "ShippingAddress"},
				PhoneNumber:            []string{"PhoneNumber"},
				EmailAddress:           []string{"EmailAddress", "BusinessEmailAddress"},
			},
			ConflictResolution: &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelSource, SourceName: aws.String("crm")},
		},
		DataStore: &types.DataStoreRequest{Enabled: aws.Bool(true)},
		Tags:      map[string]string{"team": "support", "env": "test"},
	}
}

// ignoreSDK skips the SDK's bookkeeping fields in comparisons.
var ignoreSDK = cmpopts.IgnoreUnexported(
	customerprofiles.GetDomainOutput{}, types.MatchingResponse{}, types.JobSchedule{}, types.AutoMerging{},
	types.Consolidation{}, types.ConflictResolution{}, types.ExportingConfig{}, types.S3ExportingConfig{},
	types.RuleBasedMatchingResponse{}, types.MatchingRule{}, types.AttributeTypesSelector{}, types.DataStoreResponse{},
	types.DomainStats{}, types.Readiness{},
)

func TestDomain_CRUD(t *testing.T) {
	m := MustRunMain(t)
	client := MustClient(t, m)
	ctx := t.Context()
	in := fullCreateInput(t, m, "CustomerProfiles-ExampleCorp")

	before := time.Now().Add(-time.Second)
	created, err := client.CreateDomain(ctx, in)
	if err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	if got, want := aws.ToString(created.DomainName), "CustomerProfiles-ExampleCorp"; got != want {
		t.Fatalf("DomainName=%q, want %q", got, want)
	}
	if created.CreatedAt == nil || created.CreatedAt.Before(before) || !created.CreatedAt.Equal(*created.LastUpdatedAt) {
		t.Fatalf("CreatedAt=%v LastUpdatedAt=%v, want now and equal", created.CreatedAt, created.LastUpdatedAt)
	}

	got, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: in.DomainName})
	if err != nil {
		t.Fatalf("GetDomain: %v", err)
	}
	want := &customerprofiles.GetDomainOutput{
		DomainName:            in.DomainName,
		DefaultExpirationDays: in.DefaultExpirationDays,
		DefaultEncryptionKey:  in.DefaultEncryptionKey,
		DeadLetterQueueUrl:    in.DeadLetterQueueUrl,
		CreatedAt:             created.CreatedAt,
		LastUpdatedAt:         created.LastUpdatedAt,
		Tags:                  in.Tags,
		Stats:                 &types.DomainStats{ProfileCount: 0, MeteringProfileCount: 0, ObjectCount: 0, TotalSize: 0},
		Matching: &types.MatchingResponse{
			Enabled:         in.Matching.Enabled,
			JobSchedule:     in.Matching.JobSchedule,
			AutoMerging:     in.Matching.AutoMerging,
			ExportingConfig: in.Matching.ExportingConfig,
		},
		RuleBasedMatching: &types.RuleBasedMatchingResponse{
			Enabled:                        in.RuleBasedMatching.Enabled,
			MatchingRules:                  in.RuleBasedMatching.MatchingRules,
			MaxAllowedRuleLevelForMatching: in.RuleBasedMatching.MaxAllowedRuleLevelForMatching,
			MaxAllowedRuleLevelForMerging:  in.RuleBasedMatching.MaxAllowedRuleLevelForMerging,
			AttributeTypesSelector:         in.RuleBasedMatching.AttributeTypesSelector,
			ConflictResolution:             in.RuleBasedMatching.ConflictResolution,
			// Merging is set: PENDING until the sweep's first merge pass
			// (a minute away).
			Status: types.RuleBasedMatchingStatusPending,
		},
		DataStore: &types.DataStoreResponse{Enabled: aws.Bool(true)},
	}
	if diff := cmp.Diff(want, got, ignoreSDK, cmpopts.IgnoreFields(customerprofiles.GetDomainOutput{}, "ResultMetadata")); diff != "" {
		t.Fatalf("GetDomain mismatch (-want +got):\n%s", diff)
	}

	t.Run("UpdateChangesOnlyWhatIsSent", func(t *testing.T) {
		time.Sleep(5 * time.Millisecond) // LastUpdatedAt has millisecond precision
		up, err := client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{
			DomainName:            in.DomainName,
			DefaultExpirationDays: aws.Int32(30),
		})
		if err != nil {
			t.Fatalf("UpdateDomain: %v", err)
		}
		if got, want := aws.ToInt32(up.DefaultExpirationDays), int32(30); got != want {
			t.Errorf("DefaultExpirationDays=%d, want %d", got, want)
		}
		if got, want := aws.ToString(up.DeadLetterQueueUrl), aws.ToString(in.DeadLetterQueueUrl); got != want {
			t.Errorf("DeadLetterQueueUrl=%q, want unchanged %q", got, want)
		}
		if up.Matching == nil || !aws.ToBool(up.Matching.Enabled) || up.RuleBasedMatching == nil {
			t.Errorf("matching settings lost by an update that did not send them: %+v", up.Matching)
		}
		if !up.LastUpdatedAt.After(*up.CreatedAt) {
			t.Errorf("LastUpdatedAt=%v not after CreatedAt=%v", up.LastUpdatedAt, up.CreatedAt)
		}
		if !up.CreatedAt.Equal(*created.CreatedAt) {
			t.Errorf("CreatedAt changed: %v, was %v", up.CreatedAt, created.CreatedAt)
		}
	})

	t.Run("EmptyDeadLetterQueueUrlClearsIt", func(t *testing.T) {
		up, err := client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: in.DomainName, DeadLetterQueueUrl: aws.String("")})
		if err != nil {
			t.Fatalf("UpdateDomain: %v", err)
		}
		if up.DeadLetterQueueUrl != nil {
			t.Errorf("DeadLetterQueueUrl=%q, want cleared", *up.DeadLetterQueueUrl)
		}
		if got, want := aws.ToString(up.DefaultEncryptionKey), aws.ToString(in.DefaultEncryptionKey); got != want {
			t.Errorf("DefaultEncryptionKey=%q, want unchanged %q", got, want)
		}
	})

	t.Run("List", func(t *testing.T) {
		out, err := client.ListDomains(ctx, &customerprofiles.ListDomainsInput{})
		if err != nil {
			t.Fatalf("ListDomains: %v", err)
		}
		if len(out.Items) != 1 || aws.ToString(out.Items[0].DomainName) != "CustomerProfiles-ExampleCorp" || out.NextToken != nil {
			t.Fatalf("ListDomains=%+v, want the one domain and no NextToken", out.Items)
		}
		if diff := cmp.Diff(in.Tags, out.Items[0].Tags); diff != "" {
			t.Errorf("Tags (-want +got):\n%s", diff)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		del, err := client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: in.DomainName})
		if err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		if aws.ToString(del.Message) == "" {
			t.Errorf("DeleteDomain Message is empty")
		}
		_, err = client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: in.DomainName})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("GetDomain after delete: err=%v, want ResourceNotFoundException", err)
		}
		_, err = client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: in.DomainName})
		if !errors.As(err, &nf) {
			t.Fatalf("DeleteDomain twice: err=%v, want ResourceNotFoundException", err)
		}
		// The name is free again.
		if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: in.DomainName, DefaultExpirationDays: aws.Int32(1)}); err != nil {
			t.Fatalf("CreateDomain after delete: %v", err)
		}
	})
}

func TestDomain_Errors(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.MaxDomains = 2 })
	client := MustClient(t, m)
	ctx := t.Context()
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("one"), DefaultExpirationDays: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		in    *customerprofiles.CreateDomainInput
		words []string
	}{
		{"Duplicate", &customerprofiles.CreateDomainInput{DomainName: aws.String("one"), DefaultExpirationDays: aws.Int32(10)}, []string{"one", "already exists"}},
		{"BadName", &customerprofiles.CreateDomainInput{DomainName: aws.String("bad.name"), DefaultExpirationDays: aws.Int32(10)}, []string{"DomainName", "regular expression"}},
		{"LongName", &customerprofiles.CreateDomainInput{DomainName: aws.String(string(make([]byte, 65))), DefaultExpirationDays: aws.Int32(10)}, []string{"DomainName"}},
		{"ExpirationTooLong", &customerprofiles.CreateDomainInput{DomainName: aws.String("two"), DefaultExpirationDays: aws.Int32(1099)}, []string{"DefaultExpirationDays", "less than or equal to 1098"}},
		{"ExpirationZero", &customerprofiles.CreateDomainInput{DomainName: aws.String("two"), DefaultExpirationDays: aws.Int32(0)}, []string{"DefaultExpirationDays", "greater than or equal to 1"}},
		{"ReservedTag", &customerprofiles.CreateDomainInput{DomainName: aws.String("two"), DefaultExpirationDays: aws.Int32(1), Tags: map[string]string{"aws:x": "y"}}, []string{"Tags.aws:x"}},
		{"BadEnum", &customerprofiles.CreateDomainInput{DomainName: aws.String("two"), DefaultExpirationDays: aws.Int32(1),
			Matching: &types.MatchingRequest{Enabled: aws.Bool(true), JobSchedule: &types.JobSchedule{DayOfTheWeek: "FUNDAY", Time: aws.String("3:00")}}}, []string{"Matching.JobSchedule.DayOfTheWeek", "enum"}},
		{"BadRuleAttribute", &customerprofiles.CreateDomainInput{DomainName: aws.String("two"), DefaultExpirationDays: aws.Int32(1),
			RuleBasedMatching: &types.RuleBasedMatchingRequest{Enabled: aws.Bool(true), MatchingRules: []types.MatchingRule{{Rule: []string{"EmailAddress"}}, {Rule: []string{"FirstName", "Bogus"}}}}},
			[]string{"RuleBasedMatching.MatchingRules[1].Rule[1]", "Bogus"}},
		{"BadSelectorField", &customerprofiles.CreateDomainInput{DomainName: aws.String("two"), DefaultExpirationDays: aws.Int32(1),
			RuleBasedMatching: &types.RuleBasedMatchingRequest{Enabled: aws.Bool(true), MatchingRules: []types.MatchingRule{{Rule: []string{"EmailAddress"}}},
				AttributeTypesSelector: &types.AttributeTypesSelector{AttributeMatchingModel: types.AttributeMatchingModelOneToOne, EmailAddress: []string{"Nope"}}}},
			[]string{"RuleBasedMatching.AttributeTypesSelector.EmailAddress[0]", "Nope"}},
		{"RulesMissing", &customerprofiles.CreateDomainInput{DomainName: aws.String("two"), DefaultExpirationDays: aws.Int32(1),
			RuleBasedMatching: &types.RuleBasedMatchingRequest{Enabled: aws.Bool(true)}},
			[]string{"RuleBasedMatching.MatchingRules", "Enabled"}},
		{"BadConfidence", &customerprofiles.CreateDomainInput{DomainName: aws.String("two"), DefaultExpirationDays: aws.Int32(1),
			Matching: &types.MatchingRequest{Enabled: aws.Bool(true), AutoMerging: &types.AutoMerging{Enabled: aws.Bool(true), MinAllowedConfidenceScoreForMerging: aws.Float64(1.5)}}}, []string{"Matching.AutoMerging.MinAllowedConfidenceScoreForMerging"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.CreateDomain(ctx, tt.in)
			var br *types.BadRequestException
			if !errors.As(err, &br) {
				t.Fatalf("err=%v, want BadRequestException", err)
			}
			for _, w := range tt.words {
				if !contains(br.ErrorMessage(), w) {
					t.Errorf("message %q does not name %q", br.ErrorMessage(), w)
				}
			}
		})
	}

	t.Run("Quota", func(t *testing.T) {
		if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("two"), DefaultExpirationDays: aws.Int32(10)}); err != nil {
			t.Fatal(err)
		}
		_, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("three"), DefaultExpirationDays: aws.Int32(10)})
		var br *types.BadRequestException
		if !errors.As(err, &br) || !contains(br.ErrorMessage(), "maximum number of domains (2)") {
			t.Fatalf("err=%v, want BadRequestException about the quota of 2", err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		var nf *types.ResourceNotFoundException
		_, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("missing")})
		if !errors.As(err, &nf) || !contains(nf.ErrorMessage(), "missing") {
			t.Fatalf("GetDomain: err=%v, want ResourceNotFoundException naming the domain", err)
		}
		_, err = client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("missing"), DefaultExpirationDays: aws.Int32(3)})
		if !errors.As(err, &nf) {
			t.Fatalf("UpdateDomain: err=%v, want ResourceNotFoundException", err)
		}
	})

	t.Run("RequiredMemberMissing", func(t *testing.T) {
		// The SDK checks required members itself, so send the request raw.
		r := mustDo(t, mustSignedRequest(t, m, "POST", "/domains/four", []byte(`{}`), signOpts{}))
		checkError(t, r, 400, "BadRequestException", "DefaultExpirationDays", "must not be null")
	})
}

func TestDomain_Paging(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.MaxDomains = 300 })
	client := MustClient(t, m)
	ctx := t.Context()
	var want []string
	for i := range 250 {
		name := fmt.Sprintf("domain-%03d", i)
		want = append(want, name)
		if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(name), DefaultExpirationDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var token *string
	pages := 0
	for {
		out, err := client.ListDomains(ctx, &customerprofiles.ListDomainsInput{MaxResults: aws.Int32(40), NextToken: token})
		if err != nil {
			t.Fatalf("ListDomains page %d: %v", pages, err)
		}
		pages++
		for _, d := range out.Items {
			got = append(got, aws.ToString(d.DomainName))
		}
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 7 {
		t.Errorf("pages=%d, want 7 (250 domains, 40 a page)", pages)
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("domains over all pages (-want +got):\n%s", diff)
	}

	t.Run("DefaultPageSize", func(t *testing.T) {
		out, err := client.ListDomains(ctx, &customerprofiles.ListDomainsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(out.Items), 100; got != want || out.NextToken == nil {
			t.Fatalf("len(Items)=%d NextToken=%v, want %d and a token", got, out.NextToken, want)
		}
	})

	t.Run("TamperedToken", func(t *testing.T) {
		out, err := client.ListDomains(ctx, &customerprofiles.ListDomainsInput{MaxResults: aws.Int32(10)})
		if err != nil {
			t.Fatal(err)
		}
		tok := []byte(*out.NextToken)
		tok[len(tok)-1] ^= 1
		if tok[len(tok)-1] == '-' || tok[len(tok)-1] == '_' {
			tok[len(tok)-1] = 'A'
		}
		_, err = client.ListDomains(ctx, &customerprofiles.ListDomainsInput{NextToken: aws.String(string(tok))})
		var br *types.BadRequestException
		if !errors.As(err, &br) || !contains(br.ErrorMessage(), "NextToken") {
			t.Fatalf("err=%v, want BadRequestException naming NextToken", err)
		}
	})

	t.Run("MaxResultsOutOfRange", func(t *testing.T) {
		r := mustDo(t, mustSignedRequest(t, m, "GET", "/domains?max-results=101", nil, signOpts{}))
		checkError(t, r, 400, "BadRequestException", "max-results", "less than or equal to 100")
		r = mustDo(t, mustSignedRequest(t, m, "GET", "/domains?max-results=ten", nil, signOpts{}))
		checkError(t, r, 400, "BadRequestException", "max-results", "integer")
	})
}

func TestTags(t *testing.T) {
	m := MustRunMain(t)
	client := MustClient(t, m)
	ctx := t.Context()
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("tagged"), DefaultExpirationDays: aws.Int32(10), Tags: map[string]string{"a": "1"}}); err != nil {
		t.Fatal(err)
	}
	arn := aws.String("arn:aws:profile:us-east-1:000000000000:domains/tagged")
	if _, err := client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"b": "2", "a": "one"}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := client.UntagResource(ctx, &customerprofiles.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"b", "absent"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	out, err := client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil {
		t.Fatalf("ListTagsForResource: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"a": "one"}, out.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	d, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("tagged")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a": "one"}, d.Tags); diff != "" {
		t.Errorf("GetDomain tags (-want +got):\n%s", diff)
	}

	t.Run("MissingDomain", func(t *testing.T) {
		_, err := client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:profile:us-east-1:000000000000:domains/nope")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("err=%v, want ResourceNotFoundException", err)
		}
	})
	t.Run("ForeignARN", func(t *testing.T) {
		_, err := client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: aws.String("arn:aws:profile:eu-west-1:111111111111:domains/tagged"), Tags: map[string]string{"x": "y"}})
		var br *types.BadRequestException
		if !errors.As(err, &br) {
			t.Fatalf("err=%v, want BadRequestException", err)
		}
	})
	t.Run("TooManyTags", func(t *testing.T) {
		tags := map[string]string{}
		for i := range 50 {
			tags[fmt.Sprintf("k%02d", i)] = "v"
		}
		_, err := client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: arn, Tags: tags}) // 50 new + "a" = 51
		var br *types.BadRequestException
		if !errors.As(err, &br) || !contains(br.ErrorMessage(), "50 tags") {
			t.Fatalf("err=%v, want BadRequestException about 50 tags", err)
		}
		out, err := client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: arn})
		if err != nil || len(out.Tags) != 1 {
			t.Fatalf("tags after refused TagResource: %v %v, want the one tag unchanged", out.Tags, err)
		}
	})
	// The resources of a domain are tagged through the ARNs the service
	// gives them, as the domain is: an object type, a segment definition.
	t.Run("Resources", func(t *testing.T) {
		e := &ingestEnv{t: t, m: m, client: client, domain: "tagged"}
		typ := contactType("contact")
		typ.Tags = map[string]string{"owner": "crm"}
		e.putType(typ)
		if err := e.createSegment("everyone", &types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{
			&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{FirstName: &types.ProfileDimension{
				DimensionType: types.StringDimensionTypeExclusive, Values: []string{"nobody"}}}}}}}}); err != nil {
			t.Fatal(err)
		}
		seg, err := client.GetSegmentDefinition(ctx, &customerprofiles.GetSegmentDefinitionInput{DomainName: aws.String("tagged"), SegmentDefinitionName: aws.String("everyone")})
		if err != nil {
			t.Fatal(err)
		}
		for _, arn := range []string{"arn:aws:profile:us-east-1:000000000000:domains/tagged/object-types/contact", aws.ToString(seg.SegmentDefinitionArn)} {
			if _, err := client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "prod", "tmp": "x"}}); err != nil {
				t.Fatalf("TagResource %s: %v", arn, err)
			}
			if _, err := client.UntagResource(ctx, &customerprofiles.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"tmp"}}); err != nil {
				t.Fatalf("UntagResource %s: %v", arn, err)
			}
			out, err := client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			if err != nil || out.Tags["env"] != "prod" || out.Tags["tmp"] != "" {
				t.Errorf("ListTagsForResource %s: %v, %v", arn, out, err)
			}
		}
		got, err := client.GetProfileObjectType(ctx, &customerprofiles.GetProfileObjectTypeInput{DomainName: aws.String("tagged"), ObjectTypeName: aws.String("contact")})
		if err != nil || !maps.Equal(got.Tags, map[string]string{"owner": "crm", "env": "prod"}) || len(got.Keys) == 0 {
			t.Errorf("the object type after tagging: tags %v, %v; want its own and env, and its keys kept", got.Tags, err)
		}
		seg, err = client.GetSegmentDefinition(ctx, &customerprofiles.GetSegmentDefinitionInput{DomainName: aws.String("tagged"), SegmentDefinitionName: aws.String("everyone")})
		if err != nil || seg.Tags["env"] != "prod" || seg.SegmentGroups == nil {
			t.Errorf("the segment after tagging: %+v, %v", seg, err)
		}
		_, err = client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:profile:us-east-1:000000000000:domains/tagged/segment-definitions/nope")})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")

		// A condition on aws:ResourceTag guards a resource by its own tags:
		// a protected object type cannot be untagged, whatever the domain's.
		typeARN := aws.String("arn:aws:profile:us-east-1:000000000000:domains/tagged/object-types/contact")
		if _, err := client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: typeARN, Tags: map[string]string{"protected": "yes"}}); err != nil {
			t.Fatal(err)
		}
		u := mustUser(t, m, "tagger", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
			`{"Effect":"Deny","Action":["profile:TagResource","profile:UntagResource"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/protected":"yes"}}}`)})
		_, err = u.UntagResource(ctx, &customerprofiles.UntagResourceInput{ResourceArn: typeARN, TagKeys: []string{"protected"}})
		wantAPIError(t, err, "AccessDeniedException", "UntagResource")
		if _, err := u.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: seg.SegmentDefinitionArn, Tags: map[string]string{"k": "v"}}); err != nil {
			t.Errorf("TagResource on an unprotected segment of the domain: %v", err)
		}

		// Every operation on the resource reads its own tags (not only the
		// tagging calls): a secret object type is hidden and kept, the
		// domain and its other resources are not.
		if _, err := client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: typeARN, Tags: map[string]string{"classification": "secret"}}); err != nil {
			t.Fatal(err)
		}
		reader := mustUser(t, m, "reader", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
			`{"Effect":"Deny","Action":"profile:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/classification":"secret"}}}`)})
		_, err = reader.GetProfileObjectType(ctx, &customerprofiles.GetProfileObjectTypeInput{DomainName: aws.String("tagged"), ObjectTypeName: aws.String("contact")})
		wantAPIError(t, err, "AccessDeniedException", "object-types/contact")
		_, err = reader.DeleteProfileObjectType(ctx, &customerprofiles.DeleteProfileObjectTypeInput{DomainName: aws.String("tagged"), ObjectTypeName: aws.String("contact")})
		wantAPIError(t, err, "AccessDeniedException", "object-types/contact")
		if _, err := reader.GetSegmentDefinition(ctx, &customerprofiles.GetSegmentDefinitionInput{DomainName: aws.String("tagged"), SegmentDefinitionName: aws.String("everyone")}); err != nil {
			t.Errorf("GetSegmentDefinition of an unclassified segment: %v", err)
		}
		_, err = client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:profile:us-east-1:000000000000:domains/tagged/profiles/x")})
		wantAPIError(t, err, "BadRequestException", "not an ARN")
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
