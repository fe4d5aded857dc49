package main_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// TestTags_Integrations: an integration is tagged through its ARN as IAM
// names it (…:domains/NAME/integrations/URI, the Uri's own '/' and ':'
// included), as the domain and its other resources are; the operations on
// an integration are authorised on that ARN too, with its own tags as
// aws:ResourceTag/….
func TestTags_Integrations(t *testing.T) {
	e := newDomainEnv(t, "acme")
	e.putType(contactType("contact"))
	ctx := t.Context()
	const instance = "arn:aws:connect:us-east-1:000000000000:instance/11111111-2222-3333-4444-555555555555"
	const queue = "arn:aws:sqs:us-east-1:000000000000:orders"
	for _, uri := range []string{instance, queue} {
		if _, err := e.client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(uri),
			ObjectTypeName: aws.String("contact"), Tags: map[string]string{"team": "support"}}); err != nil {
			t.Fatalf("PutIntegration %s: %v", uri, err)
		}
	}
	arnOf := func(uri string) *string {
		return aws.String("arn:aws:profile:us-east-1:000000000000:domains/acme/integrations/" + uri)
	}
	arn := arnOf(instance)
	if _, err := e.client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"env": "prod", "tmp": "x"}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := e.client.UntagResource(ctx, &customerprofiles.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"tmp", "team", "absent"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	want := map[string]string{"env": "prod"}
	out, err := e.client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil || !maps.Equal(out.Tags, want) {
		t.Fatalf("ListTagsForResource: %v, %v; want %v", out, err, want)
	}
	got, err := e.client.GetIntegration(ctx, &customerprofiles.GetIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(instance)})
	if err != nil || !maps.Equal(got.Tags, want) || aws.ToString(got.ObjectTypeName) != "contact" {
		t.Fatalf("GetIntegration after tagging: %+v, %v; want tags %v and its object type kept", got, err, want)
	}
	other, err := e.client.GetIntegration(ctx, &customerprofiles.GetIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(queue)})
	if err != nil || !maps.Equal(other.Tags, map[string]string{"team": "support"}) {
		t.Fatalf("the other integration: %+v, %v; want its tags unchanged", other, err)
	}

	t.Run("Refused", func(t *testing.T) {
		tags := map[string]string{}
		for i := range 50 {
			tags[fmt.Sprintf("k%02d", i)] = "v"
		}
		_, err := e.client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: arn, Tags: tags}) // 50 new + env = 51
		wantAPIError(t, err, "BadRequestException", "50 tags")
		out, err := e.client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: arn})
		if err != nil || !maps.Equal(out.Tags, want) {
			t.Errorf("tags after a refused TagResource: %v, %v; want %v", out, err, want)
		}
		_, err = e.client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: arnOf("arn:aws:sqs:us-east-1:000000000000:nope"), Tags: want})
		wantAPIError(t, err, "ResourceNotFoundException", "arn:aws:sqs:us-east-1:000000000000:nope")
		_, err = e.client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:profile:us-east-1:000000000000:domains/gone/integrations/" + queue)})
		wantAPIError(t, err, "ResourceNotFoundException", "gone")
		_, err = e.client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: arnOf("")})
		wantAPIError(t, err, "BadRequestException", "not an ARN")
	})

	t.Run("Authorization", func(t *testing.T) {
		if _, err := e.client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"classification": "secret"}}); err != nil {
			t.Fatal(err)
		}
		reader := mustUser(t, e.m, "reader", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
			`{"Effect":"Deny","Action":"profile:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/classification":"secret"}}}`)})
		for op, call := range map[string]func() error{
			"GetIntegration": func() error {
				_, err := reader.GetIntegration(ctx, &customerprofiles.GetIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(instance)})
				return err
			},
			"PutIntegration": func() error {
				_, err := reader.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(instance), ObjectTypeName: aws.String("contact")})
				return err
			},
			"DeleteIntegration": func() error {
				_, err := reader.DeleteIntegration(ctx, &customerprofiles.DeleteIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(instance)})
				return err
			},
			"UntagResource": func() error {
				_, err := reader.UntagResource(ctx, &customerprofiles.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"classification"}})
				return err
			},
		} {
			wantAPIError(t, call(), "AccessDeniedException", op, "integrations/"+instance)
		}
		got, err := e.client.GetIntegration(ctx, &customerprofiles.GetIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(instance)})
		if err != nil || got.Tags["classification"] != "secret" || aws.ToString(got.ObjectTypeName) != "contact" {
			t.Fatalf("the secret integration after the refusals: %+v, %v; want it kept", got, err)
		}
		if _, err := reader.GetIntegration(ctx, &customerprofiles.GetIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(queue)}); err != nil {
			t.Errorf("GetIntegration of an unclassified integration: %v", err)
		}

		// A statement on the integrations' ARNs reaches them (and only
		// them): the domain's other calls go on.
		keeper := mustUser(t, e.m, "keeper", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
			`{"Effect":"Deny","Action":"profile:DeleteIntegration","Resource":"arn:aws:profile:us-east-1:000000000000:domains/acme/integrations/*"}`)})
		_, err = keeper.DeleteIntegration(ctx, &customerprofiles.DeleteIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(queue)})
		wantAPIError(t, err, "AccessDeniedException", "DeleteIntegration", "integrations/"+queue)
		if _, err := keeper.GetIntegration(ctx, &customerprofiles.GetIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(queue)}); err != nil {
			t.Errorf("GetIntegration by the keeper: %v", err)
		}
		if _, err := e.client.DeleteIntegration(ctx, &customerprofiles.DeleteIntegrationInput{DomainName: aws.String("acme"), Uri: aws.String(queue)}); err != nil {
			t.Errorf("DeleteIntegration by root: %v", err)
		}
	})

	t.Run("FlowWithoutUri", func(t *testing.T) {
		// PutIntegration of a flow without a Uri makes the integration of
		// the flow's ARN: it is authorised on that integration's ARN too.
		const flows = "arn:aws:profile:us-east-1:000000000000:domains/acme/integrations/arn:aws:appflow:us-east-1:000000000000:flow/"
		user := mustUser(t, e.m, "flows", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
			`{"Effect":"Deny","Action":"profile:PutIntegration","Resource":"`+flows+`crm-*"}`)})
		put := func(name string) error {
			_, err := user.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: aws.String("acme"), ObjectTypeName: aws.String("contact"),
				FlowDefinition: crmFlow(name, &types.TriggerConfig{TriggerType: types.TriggerTypeOndemand})})
			return err
		}
		wantAPIError(t, put("crm-denied"), "AccessDeniedException", "PutIntegration", flows+"crm-denied")
		// Another flow's is not denied: the call goes on (to be refused
		// the flow's bucket, s3:ListBucket, which the user may not list).
		if err := put("other"); err == nil || strings.Contains(err.Error(), "profile:PutIntegration") {
			t.Errorf("PutIntegration of a flow the Deny does not name: %v, want it past authorization", err)
		}
	})
}
