package main_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
)

// TestPutIntegration_Uri: an integration's Uri is the source it reads
// (OPERATIONS.md: an AppFlow flow, a Connect instance, EventBridge through
// AppIntegrations; the model adds S3 buckets): the ARN of one of those, an
// SQS queue's or an EventBridge bus's or rule's, or an s3:// URI. Anything
// else is refused naming Uri, and creates nothing.
func TestPutIntegration_Uri(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(contactType("contact"))
	ctx := t.Context()
	put := func(uri string) error {
		_, err := e.client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: aws.String(e.domain),
			Uri: aws.String(uri), ObjectTypeName: aws.String("contact")})
		return err
	}
	for _, uri := range []string{
		"arn:aws:appflow:us-east-1:000000000000:flow/crm-sync",
		"arn:aws:connect:us-east-1:000000000000:instance/11111111-2222-3333-4444-555555555555",
		"arn:aws:app-integrations:us-east-1:000000000000:event-integration/shopify-orders",
		"arn:aws:events:us-east-1:000000000000:event-bus/segment",
		"arn:aws:sqs:us-east-1:000000000000:crm-events",
		"arn:aws:s3:::exports/crm/",
		"s3://exports",
	} {
		if err := put(uri); err != nil {
			t.Errorf("PutIntegration %s: %v", uri, err)
		}
	}
	for _, uri := range []string{
		"anything",
		"https://example.com/hook",
		"arn:aws:kinesis:us-east-1:000000000000:stream/out", // an event stream's destination, not a source
		"arn:aws:appflow:us-east-1:000000000000:flow/",
		"arn:aws:connect:us-east-1:42:instance/x",
		"s3://Not_A_Bucket",
		"arn:aws:sqs:us-east-1:000000000000:q\nx",
	} {
		wantAPIError(t, put(uri), "BadRequestException", "Uri", "not the source of an integration")
	}
	out, err := e.client.ListIntegrations(ctx, &customerprofiles.ListIntegrationsInput{DomainName: aws.String(e.domain)})
	if err != nil || len(out.Items) != 7 {
		t.Fatalf("ListIntegrations: %d items, %v; want the 7 accepted", len(out.Items), err)
	}
}

// TestListAccountIntegrations_NextToken: a Uri has one integration at most,
// so ListAccountIntegrations answers in one page and issues no NextToken; a
// token sent anyway (made up, or one of another list) is refused naming
// NextToken, as every other list refuses a token it did not issue, rather
// than answered as if it were the first page.
func TestListAccountIntegrations_NextToken(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(contactType("contact"))
	ctx := t.Context()
	uris := []string{"arn:aws:appflow:us-east-1:000000000000:flow/crm-sync", "arn:aws:sqs:us-east-1:000000000000:crm-events"}
	for _, uri := range uris {
		if _, err := e.client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: aws.String(e.domain),
			Uri: aws.String(uri), ObjectTypeName: aws.String("contact")}); err != nil {
			t.Fatalf("PutIntegration %s: %v", uri, err)
		}
	}
	out, err := e.client.ListAccountIntegrations(ctx, &customerprofiles.ListAccountIntegrationsInput{Uri: aws.String(uris[0]), MaxResults: aws.Int32(1)})
	if err != nil || len(out.Items) != 1 || out.NextToken != nil {
		t.Fatalf("ListAccountIntegrations: %+v, %v; want the one integration and no NextToken", out, err)
	}
	other, err := e.client.ListIntegrations(ctx, &customerprofiles.ListIntegrationsInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(1)})
	if err != nil || other.NextToken == nil {
		t.Fatalf("ListIntegrations: %+v, %v; want a NextToken", other, err)
	}
	for _, tok := range []string{"forged-token", aws.ToString(other.NextToken)} {
		_, err := e.client.ListAccountIntegrations(ctx, &customerprofiles.ListAccountIntegrationsInput{Uri: aws.String(uris[0]), NextToken: aws.String(tok)})
		wantAPIError(t, err, "BadRequestException", "NextToken")
	}
}

// TestPutIntegration_FieldErrors: PutIntegration refuses what it cannot
// keep naming the field at fault (an object type the domain lacks, in
// ObjectTypeName or ObjectTypeNames; an event trigger it lacks; no object
// type at all), and keeps nothing; ListIntegrations pages through every
// integration once; DeleteIntegration answers a Uri it does not hold
// with ResourceNotFoundException naming it, and one deleted is gone from
// GetIntegration and from the Uri's account list.
func TestPutIntegration_FieldErrors(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(contactType("contact"))
	ctx := t.Context()
	uri := "arn:aws:sqs:us-east-1:000000000000:crm-events"
	for _, tc := range []struct {
		in    customerprofiles.PutIntegrationInput
		words []string
	}{
		{customerprofiles.PutIntegrationInput{ObjectTypeName: aws.String("nope")}, []string{"ObjectTypeName", "nope"}},
		{customerprofiles.PutIntegrationInput{ObjectTypeNames: map[string]string{"Order": "nope2"}}, []string{"ObjectTypeNames[Order]", "nope2"}},
		{customerprofiles.PutIntegrationInput{}, []string{"ObjectTypeName"}},
		{customerprofiles.PutIntegrationInput{ObjectTypeName: aws.String("contact"), EventTriggerNames: []string{"missing-trigger"}}, []string{"EventTriggerNames", "missing-trigger"}},
	} {
		in := tc.in
		in.DomainName, in.Uri = aws.String(e.domain), aws.String(uri)
		_, err := e.client.PutIntegration(ctx, &in)
		var ae interface{ ErrorCode() string }
		if err == nil || !errors.As(err, &ae) || (ae.ErrorCode() != "BadRequestException" && ae.ErrorCode() != "ResourceNotFoundException") {
			t.Errorf("PutIntegration %+v: %v, want a refusal", tc.in, err)
			continue
		}
		for _, w := range tc.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("PutIntegration %+v: %v, want it to name %q", tc.in, err, w)
			}
		}
	}
	if _, err := e.client.GetIntegration(ctx, &customerprofiles.GetIntegrationInput{DomainName: aws.String(e.domain), Uri: aws.String(uri)}); err == nil {
		t.Fatal("a refused PutIntegration kept an integration")
	}

	var want []string
	for i := range 5 {
		u := fmt.Sprintf("arn:aws:sqs:us-east-1:000000000000:q%d", i)
		want = append(want, u)
		if _, err := e.client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: aws.String(e.domain), Uri: aws.String(u), ObjectTypeName: aws.String("contact")}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var token *string
	for {
		out, err := e.client.ListIntegrations(ctx, &customerprofiles.ListIntegrationsInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			got = append(got, aws.ToString(it.Uri))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ListIntegrations pages: %v, want %v", got, want)
	}

	del, err := e.client.DeleteIntegration(ctx, &customerprofiles.DeleteIntegrationInput{DomainName: aws.String(e.domain), Uri: aws.String(want[0])})
	if err != nil || !strings.Contains(aws.ToString(del.Message), want[0]) {
		t.Fatalf("DeleteIntegration: %+v %v", del, err)
	}
	_, err = e.client.GetIntegration(ctx, &customerprofiles.GetIntegrationInput{DomainName: aws.String(e.domain), Uri: aws.String(want[0])})
	wantAPIError(t, err, "ResourceNotFoundException", want[0])
	_, err = e.client.DeleteIntegration(ctx, &customerprofiles.DeleteIntegrationInput{DomainName: aws.String(e.domain), Uri: aws.String(want[0])})
	wantAPIError(t, err, "ResourceNotFoundException", want[0])
	acc, err := e.client.ListAccountIntegrations(ctx, &customerprofiles.ListAccountIntegrationsInput{Uri: aws.String(want[0])})
	if err != nil || len(acc.Items) != 0 {
		t.Errorf("ListAccountIntegrations of a deleted integration: %+v %v", acc, err)
	}
}
