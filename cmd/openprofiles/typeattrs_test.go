package main_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// TestObjectTypeAttributes drives ListObjectTypeAttributes,
// ListObjectTypeAttributeValues and GetObjectTypeAttributeStatistics
// through the SDK, over the orders of two profiles.
func TestObjectTypeAttributes(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(ordersType())
	for _, o := range []map[string]any{
		{"id": "o1", "email": "ann@example.com", "total": 10, "channel": "web"},
		{"id": "o2", "email": "bob@example.com", "total": 20, "channel": "phone"},
		{"id": "o3", "email": "ann@example.com", "total": 30, "channel": "web"},
		{"id": "o4", "email": "bob@example.com", "total": 40, "channel": "store"},
		{"id": "o5", "email": "ann@example.com", "total": "n/a"},
	} {
		e.mustPut("Orders", o)
		time.Sleep(3 * time.Millisecond) // distinct update times
	}
	ctx := t.Context()

	attrs, err := e.client.ListObjectTypeAttributes(ctx, &customerprofiles.ListObjectTypeAttributesInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("Orders")})
	if err != nil {
		t.Fatalf("ListObjectTypeAttributes: %v", err)
	}
	var names []string
	for _, a := range attrs.Items {
		names = append(names, aws.ToString(a.AttributeName))
		if a.LastUpdatedAt == nil {
			t.Errorf("attribute %s without LastUpdatedAt", aws.ToString(a.AttributeName))
		}
	}
	if want := []string{"_sourceLastUpdatedTimestamp", "channel", "email", "id", "price", "qty", "total"}; !slices.Equal(names, want) {
		t.Errorf("attributes %v, want %v", names, want)
	}

	// Distinct channels, the most recently updated first, two a page.
	var values []string
	var token *string
	for {
		out, err := e.client.ListObjectTypeAttributeValues(ctx, &customerprofiles.ListObjectTypeAttributeValuesInput{DomainName: aws.String(e.domain),
			ObjectTypeName: aws.String("Orders"), AttributeName: aws.String("channel"), MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatalf("ListObjectTypeAttributeValues: %v", err)
		}
		for _, v := range out.Items {
			values = append(values, aws.ToString(v.Value))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if want := []string{"store", "web", "phone"}; !slices.Equal(values, want) {
		t.Errorf("channel values %v, want %v", values, want)
	}

	stats := func() (*customerprofiles.GetObjectTypeAttributeStatisticsOutput, error) {
		return e.client.GetObjectTypeAttributeStatistics(ctx, &customerprofiles.GetObjectTypeAttributeStatisticsInput{DomainName: aws.String(e.domain),
			ObjectTypeName: aws.String("Orders"), AttributeName: aws.String("total")})
	}
	_, err = stats()
	wantAPIError(t, err, "BadRequestException", "data store")
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), DataStore: &types.DataStoreRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	out, err := stats()
	if err != nil {
		t.Fatalf("GetObjectTypeAttributeStatistics: %v", err)
	}
	st, p := out.Statistics, out.Statistics.Percentiles
	near := func(got *float64, want float64) bool { return got != nil && math.Abs(*got-want) < 1e-9 }
	if !near(st.Minimum, 10) || !near(st.Maximum, 40) || !near(st.Average, 25) || !near(st.StandardDeviation, math.Sqrt(125)) ||
		!near(p.P5, 11.5) || !near(p.P50, 25) || !near(p.P95, 38.5) || out.CalculatedAt == nil {
		t.Errorf("statistics %+v, percentiles %+v", *st, *p)
	}

	_, err = e.client.ListObjectTypeAttributeValues(ctx, &customerprofiles.ListObjectTypeAttributeValuesInput{DomainName: aws.String(e.domain),
		ObjectTypeName: aws.String("Orders"), AttributeName: aws.String("colour")})
	wantAPIError(t, err, "BadRequestException", "colour", "channel")
	_, err = e.client.ListObjectTypeAttributes(ctx, &customerprofiles.ListObjectTypeAttributesInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("Nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "Nope")
	// A field with no number has no statistics (not an error); huge
	// numbers do not overflow them.
	none, err := e.client.GetObjectTypeAttributeStatistics(ctx, &customerprofiles.GetObjectTypeAttributeStatisticsInput{DomainName: aws.String(e.domain),
		ObjectTypeName: aws.String("Orders"), AttributeName: aws.String("channel")})
	if err != nil || none.Statistics == nil || none.Statistics.Average != nil || none.CalculatedAt == nil {
		t.Errorf("statistics of text: %+v, %v; want none", none, err)
	}
	e.mustPut("Orders", map[string]any{"id": "h1", "email": "ann@example.com", "price": 1.7e308})
	e.mustPut("Orders", map[string]any{"id": "h2", "email": "bob@example.com", "price": -1.7e308})
	huge, err := e.client.GetObjectTypeAttributeStatistics(ctx, &customerprofiles.GetObjectTypeAttributeStatisticsInput{DomainName: aws.String(e.domain),
		ObjectTypeName: aws.String("Orders"), AttributeName: aws.String("price")})
	if err != nil || !near(huge.Statistics.Average, 0) || !near(huge.Statistics.StandardDeviation, 1.7e308) {
		t.Errorf("statistics of huge numbers: %+v, %v", huge, err)
	}
}

// TestObjectTypeAttributes_EdgeCases: ListObjectTypeAttributes pages by
// name and refuses another list's token; an attribute no object holds, or
// holds empty, has no values (the model's values are 1 to 1000
// characters); a missing domain or object type is not found for each of
// the three operations, an attribute the type lacks a bad request.
func TestObjectTypeAttributes_EdgeCases(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(ordersType())
	ctx := t.Context()
	e.mustPut("Orders", map[string]any{"id": "o1", "email": "ann@example.com", "channel": "", "total": 5})

	var names []string
	var token *string
	for {
		out, err := e.client.ListObjectTypeAttributes(ctx, &customerprofiles.ListObjectTypeAttributesInput{DomainName: aws.String(e.domain),
			ObjectTypeName: aws.String("Orders"), MaxResults: aws.Int32(3), NextToken: token})
		if err != nil {
			t.Fatalf("ListObjectTypeAttributes: %v", err)
		}
		if len(out.Items) > 3 {
			t.Fatalf("a page of %d", len(out.Items))
		}
		for _, a := range out.Items {
			names = append(names, aws.ToString(a.AttributeName))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if want := []string{"_sourceLastUpdatedTimestamp", "channel", "email", "id", "price", "qty", "total"}; !slices.Equal(names, want) {
		t.Errorf("attributes %v, want %v", names, want)
	}
	first, err := e.client.ListObjectTypeAttributes(ctx, &customerprofiles.ListObjectTypeAttributesInput{DomainName: aws.String(e.domain),
		ObjectTypeName: aws.String("Orders"), MaxResults: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	_, err = e.client.ListDomainLayouts(ctx, &customerprofiles.ListDomainLayoutsInput{DomainName: aws.String(e.domain), NextToken: first.NextToken})
	wantAPIError(t, err, "BadRequestException")

	for _, attr := range []string{"price", "channel"} {
		out, err := e.client.ListObjectTypeAttributeValues(ctx, &customerprofiles.ListObjectTypeAttributeValuesInput{DomainName: aws.String(e.domain),
			ObjectTypeName: aws.String("Orders"), AttributeName: aws.String(attr)})
		if err != nil || len(out.Items) != 0 || out.NextToken != nil {
			t.Errorf("values of %s: %+v, %v; want none", attr, out, err)
		}
	}

	for _, tt := range []struct {
		domain, typ, attr, code, word string
	}{
		{"nodomain", "Orders", "total", "ResourceNotFoundException", "nodomain"},
		{e.domain, "Nope", "total", "ResourceNotFoundException", "Nope"},
		{e.domain, "Orders", "colour", "BadRequestException", "colour"},
	} {
		_, err := e.client.ListObjectTypeAttributeValues(ctx, &customerprofiles.ListObjectTypeAttributeValuesInput{DomainName: aws.String(tt.domain),
			ObjectTypeName: aws.String(tt.typ), AttributeName: aws.String(tt.attr)})
		wantAPIError(t, err, tt.code, tt.word)
		_, err = e.client.GetObjectTypeAttributeStatistics(ctx, &customerprofiles.GetObjectTypeAttributeStatisticsInput{DomainName: aws.String(tt.domain),
			ObjectTypeName: aws.String(tt.typ), AttributeName: aws.String(tt.attr)})
		if tt.domain == e.domain {
			wantAPIError(t, err, "BadRequestException", "data store") // before the type is looked at
		} else {
			wantAPIError(t, err, tt.code, tt.word)
		}
		if tt.attr == "total" {
			_, err = e.client.ListObjectTypeAttributes(ctx, &customerprofiles.ListObjectTypeAttributesInput{DomainName: aws.String(tt.domain), ObjectTypeName: aws.String(tt.typ)})
			wantAPIError(t, err, tt.code, tt.word)
		}
	}
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), DataStore: &types.DataStoreRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetObjectTypeAttributeStatistics(ctx, &customerprofiles.GetObjectTypeAttributeStatisticsInput{DomainName: aws.String(e.domain),
		ObjectTypeName: aws.String("Nope"), AttributeName: aws.String("total")})
	wantAPIError(t, err, "ResourceNotFoundException", "Nope")
	_, err = e.client.GetObjectTypeAttributeStatistics(ctx, &customerprofiles.GetObjectTypeAttributeStatisticsInput{DomainName: aws.String(e.domain),
		ObjectTypeName: aws.String("Orders"), AttributeName: aws.String("colour")})
	wantAPIError(t, err, "BadRequestException", "colour")
}
