package main_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// TestDomainDelete_DeletingIsGone: a domain marked deleted whose purge
// cannot go on (another node holds its lease) is gone for every operation
// on it, through the SDK: each answers ResourceNotFoundException, none
// returns its data or writes to it, though its rows are all still there.
func TestDomainDelete_DeletingIsGone(t *testing.T) {
	clock := &testClock{now: time.Now()}
	m := &main.Main{Config: withTestStore(t, purgeConfig(t, time.Hour)), Now: clock.Now, DomainPurgeWait: 100 * time.Millisecond}
	if err := m.Open(); err != nil {
		t.Fatalf("open main: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	e := &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: "doomed"}
	client, ctx, dn := e.client, t.Context(), aws.String("doomed")
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: dn, DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	e.putType(contactType("contact"))
	e.putType(ordersType())
	put, err := client.PutProfileObject(ctx, &customerprofiles.PutProfileObjectInput{DomainName: dn, ObjectTypeName: aws.String("contact"),
		Object: aws.String(`{"id":"c1","email":"ann@example.com","name":{"first":"Ann"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	found, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_email"), Values: []string{"ann@example.com"}})
	if err != nil || len(found.Items) != 1 {
		t.Fatalf("SearchProfiles: %+v, %v", found, err)
	}
	pid := found.Items[0].ProfileId
	if _, err := client.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: dn, ProfileId: pid, LastName: aws.String("Lee")}); err != nil {
		t.Fatal(err)
	}
	other, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: dn, FirstName: aws.String("Bob")})
	if err != nil {
		t.Fatal(err)
	}
	history, err := client.ListProfileHistoryRecords(ctx, &customerprofiles.ListProfileHistoryRecordsInput{DomainName: dn, ProfileId: pid})
	if err != nil || len(history.ProfileHistoryRecords) == 0 {
		t.Fatalf("ListProfileHistoryRecords: %+v, %v", history, err)
	}
	hid := history.ProfileHistoryRecords[0].Id
	layout := `{"sections":[{"title":"Contact","fields":["EmailAddress"]}]}`
	if _, err := client.CreateDomainLayout(ctx, &customerprofiles.CreateDomainLayoutInput{DomainName: dn, LayoutDefinitionName: aws.String("view"),
		Description: aws.String("v"), DisplayName: aws.String("View"), LayoutType: types.LayoutTypeProfileExplorer, Layout: aws.String(layout)}); err != nil {
		t.Fatal(err)
	}
	everyone := &types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{
		&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{FirstName: &types.ProfileDimension{
			DimensionType: types.StringDimensionTypeInclusive, Values: []string{"Ann"}}}}}}}}
	if err := e.createSegment("anns", everyone); err != nil {
		t.Fatal(err)
	}
	if _, err := e.createCalc(calcDef{name: "spent", expr: "{Orders.total}", stat: "SUM", attrs: []string{"Orders.total"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateEventTrigger(ctx, &customerprofiles.CreateEventTriggerInput{DomainName: dn, EventTriggerName: aws.String("big"),
		ObjectTypeName: aws.String("Orders"), EventTriggerConditions: bigOrder()}); err != nil {
		t.Fatal(err)
	}
	job := e.createUploadJob("import")
	if _, err := client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, DataStore: &types.DataStoreRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutDomainObjectType(ctx, &customerprofiles.PutDomainObjectTypeInput{DomainName: dn, ObjectTypeName: aws.String("Item"),
		Fields: map[string]types.DomainObjectTypeField{"sku": {Source: aws.String("_source.sku"), Target: aws.String("_domainObject.Sku")}}}); err != nil {
		t.Fatal(err)
	}
	uri := aws.String("arn:aws:app-integrations:us-east-1:000000000000:event-integration/crm")
	if _, err := client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: dn, Uri: uri, ObjectTypeName: aws.String("contact")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: dn, RecommenderName: aws.String("rec"),
		RecommenderRecipeName: types.RecommenderRecipeNamePopularItems}); err != nil {
		t.Fatal(err)
	}
	est, err := client.CreateSegmentEstimate(ctx, &customerprofiles.CreateSegmentEstimateInput{DomainName: dn, SegmentQuery: &types.SegmentGroupStructure{Groups: everyone.Groups}})
	if err != nil {
		t.Fatal(err)
	}
	domainARN := aws.String("arn:aws:profile:" + testRegion + ":" + m.Service.AccountID + ":domains/doomed")

	// Another node deleted it and holds its purge's lease: its rows stay.
	if err := m.DB.MarkDomainDeleting(ctx, "doomed", clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// What this node kept of the domain in memory (for a second at most,
	// by its clock) is older than the mark, as after another node's
	// deletion.
	clock.add(2 * time.Second)

	calls := map[string]func(context.Context) error{
		"GetDomain": func(ctx context.Context) error {
			_, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: dn})
			return err
		},
		"UpdateDomain": func(ctx context.Context) error {
			_, err := client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, DefaultExpirationDays: aws.Int32(40)})
			return err
		},
		"DeleteDomain": func(ctx context.Context) error {
			_, err := client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: dn})
			return err
		},
		"SearchProfiles": func(ctx context.Context) error {
			_, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_email"), Values: []string{"ann@example.com"}})
			return err
		},
		"SearchProfilesByID": func(ctx context.Context) error {
			_, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_profileId"), Values: []string{aws.ToString(pid)}})
			return err
		},
		"BatchGetProfile": func(ctx context.Context) error {
			out, err := client.BatchGetProfile(ctx, &customerprofiles.BatchGetProfileInput{DomainName: dn, ProfileIds: []string{aws.ToString(pid)}})
			if err == nil && len(out.Profiles) > 0 {
				return errors.New("returned the profile")
			}
			return err
		},
		"CreateProfile": func(ctx context.Context) error {
			_, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: dn, FirstName: aws.String("Late")})
			return err
		},
		"UpdateProfile": func(ctx context.Context) error {
			_, err := client.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: dn, ProfileId: pid, FirstName: aws.String("Late")})
			return err
		},
		"DeleteProfile": func(ctx context.Context) error {
			_, err := client.DeleteProfile(ctx, &customerprofiles.DeleteProfileInput{DomainName: dn, ProfileId: other.ProfileId})
			return err
		},
		"MergeProfiles": func(ctx context.Context) error {
			_, err := client.MergeProfiles(ctx, &customerprofiles.MergeProfilesInput{DomainName: dn, MainProfileId: pid, ProfileIdsToBeMerged: []string{aws.ToString(other.ProfileId)}})
			return err
		},
		"AddProfileKey": func(ctx context.Context) error {
			_, err := client.AddProfileKey(ctx, &customerprofiles.AddProfileKeyInput{DomainName: dn, ProfileId: pid, KeyName: aws.String("_email"), Values: []string{"x@example.com"}})
			return err
		},
		"DeleteProfileKey": func(ctx context.Context) error {
			_, err := client.DeleteProfileKey(ctx, &customerprofiles.DeleteProfileKeyInput{DomainName: dn, ProfileId: pid, KeyName: aws.String("_email"), Values: []string{"ann@example.com"}})
			return err
		},
		"PutProfileObject": func(ctx context.Context) error {
			_, err := client.PutProfileObject(ctx, &customerprofiles.PutProfileObjectInput{DomainName: dn, ObjectTypeName: aws.String("contact"), Object: aws.String(`{"id":"c9","email":"z@example.com"}`)})
			return err
		},
		"BatchPutProfileObject": func(ctx context.Context) error {
			out, err := client.BatchPutProfileObject(ctx, &customerprofiles.BatchPutProfileObjectInput{DomainName: dn, ObjectTypeName: aws.String("contact"),
				Items: []types.BatchPutProfileObjectRequestItem{batchItem("1", `{"id":"c8","email":"y@example.com"}`)}})
			if err == nil && len(out.Failed) == 0 {
				return errors.New("put the object")
			}
			return err
		},
		"ListProfileObjects": func(ctx context.Context) error {
			_, err := client.ListProfileObjects(ctx, &customerprofiles.ListProfileObjectsInput{DomainName: dn, ObjectTypeName: aws.String("contact"), ProfileId: pid})
			return err
		},
		"DeleteProfileObject": func(ctx context.Context) error {
			_, err := client.DeleteProfileObject(ctx, &customerprofiles.DeleteProfileObjectInput{DomainName: dn, ObjectTypeName: aws.String("contact"), ProfileId: pid, ProfileObjectUniqueKey: put.ProfileObjectUniqueKey})
			return err
		},
		"ListProfileHistoryRecords": func(ctx context.Context) error {
			_, err := client.ListProfileHistoryRecords(ctx, &customerprofiles.ListProfileHistoryRecordsInput{DomainName: dn, ProfileId: pid})
			return err
		},
		"GetProfileHistoryRecord": func(ctx context.Context) error {
			_, err := client.GetProfileHistoryRecord(ctx, &customerprofiles.GetProfileHistoryRecordInput{DomainName: dn, ProfileId: pid, Id: hid})
			return err
		},
		"ListProfileAttributeValues": func(ctx context.Context) error {
			_, err := client.ListProfileAttributeValues(ctx, &customerprofiles.ListProfileAttributeValuesInput{DomainName: dn, AttributeName: aws.String("FirstName")})
			return err
		},
		"GetProfileObjectType": func(ctx context.Context) error {
			_, err := client.GetProfileObjectType(ctx, &customerprofiles.GetProfileObjectTypeInput{DomainName: dn, ObjectTypeName: aws.String("contact")})
			return err
		},
		"ListProfileObjectTypes": func(ctx context.Context) error {
			_, err := client.ListProfileObjectTypes(ctx, &customerprofiles.ListProfileObjectTypesInput{DomainName: dn})
			return err
		},
		"PutProfileObjectType": func(ctx context.Context) error {
			in := contactType("late")
			in.DomainName = dn
			_, err := client.PutProfileObjectType(ctx, in)
			return err
		},
		"DeleteProfileObjectType": func(ctx context.Context) error {
			_, err := client.DeleteProfileObjectType(ctx, &customerprofiles.DeleteProfileObjectTypeInput{DomainName: dn, ObjectTypeName: aws.String("contact")})
			return err
		},
		"ListObjectTypeAttributes": func(ctx context.Context) error {
			_, err := client.ListObjectTypeAttributes(ctx, &customerprofiles.ListObjectTypeAttributesInput{DomainName: dn, ObjectTypeName: aws.String("contact")})
			return err
		},
		"ListObjectTypeAttributeValues": func(ctx context.Context) error {
			_, err := client.ListObjectTypeAttributeValues(ctx, &customerprofiles.ListObjectTypeAttributeValuesInput{DomainName: dn, ObjectTypeName: aws.String("contact"), AttributeName: aws.String("email")})
			return err
		},
		"GetObjectTypeAttributeStatistics": func(ctx context.Context) error {
			_, err := client.GetObjectTypeAttributeStatistics(ctx, &customerprofiles.GetObjectTypeAttributeStatisticsInput{DomainName: dn, ObjectTypeName: aws.String("Orders"), AttributeName: aws.String("total")})
			return err
		},
		"DetectProfileObjectType": func(ctx context.Context) error {
			_, err := client.DetectProfileObjectType(ctx, &customerprofiles.DetectProfileObjectTypeInput{DomainName: dn, Objects: []string{`{"email":"a@example.com"}`}})
			return err
		},
		"GetDomainObjectType": func(ctx context.Context) error {
			_, err := client.GetDomainObjectType(ctx, &customerprofiles.GetDomainObjectTypeInput{DomainName: dn, ObjectTypeName: aws.String("Item")})
			return err
		},
		"ListDomainObjectTypes": func(ctx context.Context) error {
			_, err := client.ListDomainObjectTypes(ctx, &customerprofiles.ListDomainObjectTypesInput{DomainName: dn})
			return err
		},
		"PutDomainObjectType": func(ctx context.Context) error {
			_, err := client.PutDomainObjectType(ctx, &customerprofiles.PutDomainObjectTypeInput{DomainName: dn, ObjectTypeName: aws.String("Late"),
				Fields: map[string]types.DomainObjectTypeField{"sku": {Source: aws.String("_source.sku"), Target: aws.String("_domainObject.Sku")}}})
			return err
		},
		"DeleteDomainObjectType": func(ctx context.Context) error {
			_, err := client.DeleteDomainObjectType(ctx, &customerprofiles.DeleteDomainObjectTypeInput{DomainName: dn, ObjectTypeName: aws.String("Item")})
			return err
		},
		"GetDomainLayout": func(ctx context.Context) error {
			_, err := client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: dn, LayoutDefinitionName: aws.String("view")})
			return err
		},
		"ListDomainLayouts": func(ctx context.Context) error {
			_, err := client.ListDomainLayouts(ctx, &customerprofiles.ListDomainLayoutsInput{DomainName: dn})
			return err
		},
		"CreateDomainLayout": func(ctx context.Context) error {
			_, err := client.CreateDomainLayout(ctx, &customerprofiles.CreateDomainLayoutInput{DomainName: dn, LayoutDefinitionName: aws.String("late"),
				Description: aws.String("v"), DisplayName: aws.String("Late"), LayoutType: types.LayoutTypeProfileExplorer, Layout: aws.String(layout)})
			return err
		},
		"UpdateDomainLayout": func(ctx context.Context) error {
			_, err := client.UpdateDomainLayout(ctx, &customerprofiles.UpdateDomainLayoutInput{DomainName: dn, LayoutDefinitionName: aws.String("view"), DisplayName: aws.String("Late")})
			return err
		},
		"DeleteDomainLayout": func(ctx context.Context) error {
			_, err := client.DeleteDomainLayout(ctx, &customerprofiles.DeleteDomainLayoutInput{DomainName: dn, LayoutDefinitionName: aws.String("view")})
			return err
		},
		"GetSegmentDefinition": func(ctx context.Context) error {
			_, err := client.GetSegmentDefinition(ctx, &customerprofiles.GetSegmentDefinitionInput{DomainName: dn, SegmentDefinitionName: aws.String("anns")})
			return err
		},
		"ListSegmentDefinitions": func(ctx context.Context) error {
			_, err := client.ListSegmentDefinitions(ctx, &customerprofiles.ListSegmentDefinitionsInput{DomainName: dn})
			return err
		},
		"CreateSegmentDefinition": func(ctx context.Context) error {
			return e.createSegment("late", everyone)
		},
		"DeleteSegmentDefinition": func(ctx context.Context) error {
			_, err := client.DeleteSegmentDefinition(ctx, &customerprofiles.DeleteSegmentDefinitionInput{DomainName: dn, SegmentDefinitionName: aws.String("anns")})
			return err
		},
		"GetSegmentMembership": func(ctx context.Context) error {
			_, err := client.GetSegmentMembership(ctx, &customerprofiles.GetSegmentMembershipInput{DomainName: dn, SegmentDefinitionName: aws.String("anns"), ProfileIds: []string{aws.ToString(pid)}})
			return err
		},
		"CreateSegmentEstimate": func(ctx context.Context) error {
			_, err := client.CreateSegmentEstimate(ctx, &customerprofiles.CreateSegmentEstimateInput{DomainName: dn, SegmentQuery: &types.SegmentGroupStructure{Groups: everyone.Groups}})
			return err
		},
		"GetSegmentEstimate": func(ctx context.Context) error {
			_, err := client.GetSegmentEstimate(ctx, &customerprofiles.GetSegmentEstimateInput{DomainName: dn, EstimateId: est.EstimateId})
			return err
		},
		"CreateSegmentSnapshot": func(ctx context.Context) error {
			_, err := client.CreateSegmentSnapshot(ctx, &customerprofiles.CreateSegmentSnapshotInput{DomainName: dn, SegmentDefinitionName: aws.String("anns"), DataFormat: types.DataFormatJsonl,
				DestinationUri: aws.String("s3://exports/late/"), RoleArn: aws.String("arn:aws:iam::000000000000:role/exports")})
			return err
		},
		"GetSegmentSnapshot": func(ctx context.Context) error {
			_, err := client.GetSegmentSnapshot(ctx, &customerprofiles.GetSegmentSnapshotInput{DomainName: dn, SegmentDefinitionName: aws.String("anns"), SnapshotId: aws.String("0123456789abcdef0123456789abcdef")})
			return err
		},
		"GetCalculatedAttributeDefinition": func(ctx context.Context) error {
			_, err := client.GetCalculatedAttributeDefinition(ctx, &customerprofiles.GetCalculatedAttributeDefinitionInput{DomainName: dn, CalculatedAttributeName: aws.String("spent")})
			return err
		},
		"ListCalculatedAttributeDefinitions": func(ctx context.Context) error {
			_, err := client.ListCalculatedAttributeDefinitions(ctx, &customerprofiles.ListCalculatedAttributeDefinitionsInput{DomainName: dn})
			return err
		},
		"CreateCalculatedAttributeDefinition": func(ctx context.Context) error {
			_, err := e.createCalc(calcDef{name: "late", expr: "{Orders.total}", stat: "SUM", attrs: []string{"Orders.total"}})
			return err
		},
		"UpdateCalculatedAttributeDefinition": func(ctx context.Context) error {
			_, err := client.UpdateCalculatedAttributeDefinition(ctx, &customerprofiles.UpdateCalculatedAttributeDefinitionInput{DomainName: dn, CalculatedAttributeName: aws.String("spent"), DisplayName: aws.String("Late")})
			return err
		},
		"DeleteCalculatedAttributeDefinition": func(ctx context.Context) error {
			_, err := client.DeleteCalculatedAttributeDefinition(ctx, &customerprofiles.DeleteCalculatedAttributeDefinitionInput{DomainName: dn, CalculatedAttributeName: aws.String("spent")})
			return err
		},
		"GetCalculatedAttributeForProfile": func(ctx context.Context) error {
			_, err := client.GetCalculatedAttributeForProfile(ctx, &customerprofiles.GetCalculatedAttributeForProfileInput{DomainName: dn, CalculatedAttributeName: aws.String("spent"), ProfileId: pid})
			return err
		},
		"ListCalculatedAttributesForProfile": func(ctx context.Context) error {
			_, err := client.ListCalculatedAttributesForProfile(ctx, &customerprofiles.ListCalculatedAttributesForProfileInput{DomainName: dn, ProfileId: pid})
			return err
		},
		"BatchGetCalculatedAttributeForProfile": func(ctx context.Context) error {
			out, err := client.BatchGetCalculatedAttributeForProfile(ctx, &customerprofiles.BatchGetCalculatedAttributeForProfileInput{DomainName: dn, CalculatedAttributeName: aws.String("spent"), ProfileIds: []string{aws.ToString(pid)}})
			if err == nil && len(out.CalculatedAttributeValues) > 0 {
				return errors.New("returned the value")
			}
			return err
		},
		"GetEventTrigger": func(ctx context.Context) error {
			_, err := client.GetEventTrigger(ctx, &customerprofiles.GetEventTriggerInput{DomainName: dn, EventTriggerName: aws.String("big")})
			return err
		},
		"ListEventTriggers": func(ctx context.Context) error {
			_, err := client.ListEventTriggers(ctx, &customerprofiles.ListEventTriggersInput{DomainName: dn})
			return err
		},
		"CreateEventTrigger": func(ctx context.Context) error {
			_, err := client.CreateEventTrigger(ctx, &customerprofiles.CreateEventTriggerInput{DomainName: dn, EventTriggerName: aws.String("late"),
				ObjectTypeName: aws.String("Orders"), EventTriggerConditions: bigOrder()})
			return err
		},
		"UpdateEventTrigger": func(ctx context.Context) error {
			_, err := client.UpdateEventTrigger(ctx, &customerprofiles.UpdateEventTriggerInput{DomainName: dn, EventTriggerName: aws.String("big"), Description: aws.String("late")})
			return err
		},
		"DeleteEventTrigger": func(ctx context.Context) error {
			_, err := client.DeleteEventTrigger(ctx, &customerprofiles.DeleteEventTriggerInput{DomainName: dn, EventTriggerName: aws.String("big")})
			return err
		},
		"GetUploadJob": func(ctx context.Context) error {
			_, err := client.GetUploadJob(ctx, &customerprofiles.GetUploadJobInput{DomainName: dn, JobId: aws.String(job)})
			return err
		},
		"GetUploadJobPath": func(ctx context.Context) error {
			_, err := client.GetUploadJobPath(ctx, &customerprofiles.GetUploadJobPathInput{DomainName: dn, JobId: aws.String(job)})
			return err
		},
		"ListUploadJobs": func(ctx context.Context) error {
			_, err := client.ListUploadJobs(ctx, &customerprofiles.ListUploadJobsInput{DomainName: dn})
			return err
		},
		"CreateUploadJob": func(ctx context.Context) error {
			_, err := client.CreateUploadJob(ctx, &customerprofiles.CreateUploadJobInput{DomainName: dn, DisplayName: aws.String("late"), UniqueKey: aws.String("email"),
				Fields: map[string]types.ObjectTypeField{"email": field("_source.email", "_profile.EmailAddress", "EMAIL_ADDRESS")}})
			return err
		},
		"StartUploadJob": func(ctx context.Context) error {
			_, err := client.StartUploadJob(ctx, &customerprofiles.StartUploadJobInput{DomainName: dn, JobId: aws.String(job)})
			return err
		},
		"StopUploadJob": func(ctx context.Context) error {
			_, err := client.StopUploadJob(ctx, &customerprofiles.StopUploadJobInput{DomainName: dn, JobId: aws.String(job)})
			return err
		},
		"GetIntegration": func(ctx context.Context) error {
			_, err := client.GetIntegration(ctx, &customerprofiles.GetIntegrationInput{DomainName: dn, Uri: uri})
			return err
		},
		"ListIntegrations": func(ctx context.Context) error {
			_, err := client.ListIntegrations(ctx, &customerprofiles.ListIntegrationsInput{DomainName: dn})
			return err
		},
		"PutIntegration": func(ctx context.Context) error {
			_, err := client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: dn, Uri: aws.String("arn:aws:app-integrations:us-east-1:000000000000:event-integration/late"), ObjectTypeName: aws.String("contact")})
			return err
		},
		"DeleteIntegration": func(ctx context.Context) error {
			_, err := client.DeleteIntegration(ctx, &customerprofiles.DeleteIntegrationInput{DomainName: dn, Uri: uri})
			return err
		},
		"GetRecommender": func(ctx context.Context) error {
			_, err := client.GetRecommender(ctx, &customerprofiles.GetRecommenderInput{DomainName: dn, RecommenderName: aws.String("rec")})
			return err
		},
		"ListRecommenders": func(ctx context.Context) error {
			_, err := client.ListRecommenders(ctx, &customerprofiles.ListRecommendersInput{DomainName: dn})
			return err
		},
		"CreateRecommender": func(ctx context.Context) error {
			_, err := client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: dn, RecommenderName: aws.String("late"), RecommenderRecipeName: types.RecommenderRecipeNamePopularItems})
			return err
		},
		"UpdateRecommender": func(ctx context.Context) error {
			_, err := client.UpdateRecommender(ctx, &customerprofiles.UpdateRecommenderInput{DomainName: dn, RecommenderName: aws.String("rec"), Description: aws.String("late")})
			return err
		},
		"StartRecommender": func(ctx context.Context) error {
			_, err := client.StartRecommender(ctx, &customerprofiles.StartRecommenderInput{DomainName: dn, RecommenderName: aws.String("rec")})
			return err
		},
		"StopRecommender": func(ctx context.Context) error {
			_, err := client.StopRecommender(ctx, &customerprofiles.StopRecommenderInput{DomainName: dn, RecommenderName: aws.String("rec")})
			return err
		},
		"DeleteRecommender": func(ctx context.Context) error {
			_, err := client.DeleteRecommender(ctx, &customerprofiles.DeleteRecommenderInput{DomainName: dn, RecommenderName: aws.String("rec")})
			return err
		},
		"GetProfileRecommendations": func(ctx context.Context) error {
			_, err := client.GetProfileRecommendations(ctx, &customerprofiles.GetProfileRecommendationsInput{DomainName: dn, RecommenderName: aws.String("rec"), ProfileId: pid})
			return err
		},
		"ListRecommenderSchemas": func(ctx context.Context) error {
			_, err := client.ListRecommenderSchemas(ctx, &customerprofiles.ListRecommenderSchemasInput{DomainName: dn})
			return err
		},
		"ListRecommenderFilters": func(ctx context.Context) error {
			_, err := client.ListRecommenderFilters(ctx, &customerprofiles.ListRecommenderFiltersInput{DomainName: dn})
			return err
		},
		"ListEventStreams": func(ctx context.Context) error {
			_, err := client.ListEventStreams(ctx, &customerprofiles.ListEventStreamsInput{DomainName: dn})
			return err
		},
		"ListWorkflows": func(ctx context.Context) error {
			_, err := client.ListWorkflows(ctx, &customerprofiles.ListWorkflowsInput{DomainName: dn})
			return err
		},
		"ListIdentityResolutionJobs": func(ctx context.Context) error {
			_, err := client.ListIdentityResolutionJobs(ctx, &customerprofiles.ListIdentityResolutionJobsInput{DomainName: dn})
			return err
		},
		"GetMatches": func(ctx context.Context) error {
			_, err := client.GetMatches(ctx, &customerprofiles.GetMatchesInput{DomainName: dn})
			return err
		},
		"ListRuleBasedMatches": func(ctx context.Context) error {
			_, err := client.ListRuleBasedMatches(ctx, &customerprofiles.ListRuleBasedMatchesInput{DomainName: dn})
			return err
		},
		"GetAutoMergingPreview": func(ctx context.Context) error {
			_, err := client.GetAutoMergingPreview(ctx, &customerprofiles.GetAutoMergingPreviewInput{DomainName: dn,
				Consolidation:      &types.Consolidation{MatchingAttributesList: [][]string{{"EmailAddress"}}},
				ConflictResolution: &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelRecency}})
			return err
		},
		"ListTagsForResource": func(ctx context.Context) error {
			_, err := client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: domainARN})
			return err
		},
		"TagResource": func(ctx context.Context) error {
			_, err := client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: domainARN, Tags: map[string]string{"late": "yes"}})
			return err
		},
	}
	for name, call := range calls {
		err := call(ctx)
		if !errors.As(err, new(*types.ResourceNotFoundException)) {
			t.Errorf("%s on a domain being deleted: %v, want ResourceNotFoundException", name, err)
		}
	}
	// Nothing was written meanwhile: the domain holds what it held.
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: dn, DefaultExpirationDays: aws.Int32(30)}); err == nil {
		t.Fatal("CreateDomain of the name of a domain being deleted by another node succeeded")
	}
}
