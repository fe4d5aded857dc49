package main_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// TestDomainObjectTypes drives the four domain object type operations
// through the SDK: a new type needs the data store; put replaces; get,
// list, delete; the checks of its fields.
func TestDomainObjectTypes(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	put := func(name, source string) (*customerprofiles.PutDomainObjectTypeOutput, error) {
		return e.client.PutDomainObjectType(ctx, &customerprofiles.PutDomainObjectTypeInput{DomainName: aws.String(e.domain),
			ObjectTypeName: aws.String(name), Description: aws.String("catalog items"), Tags: map[string]string{"team": "web"},
			Fields: map[string]types.DomainObjectTypeField{
				"sku":  {Source: aws.String(source), Target: aws.String("_domainObject.Sku"), ContentType: types.ContentTypeString, FeatureType: types.FeatureTypeCategorical},
				"name": {Source: aws.String("_source.name"), Target: aws.String("_domainObject.Name"), FeatureType: types.FeatureTypeTextual},
			}})
	}
	_, err := put("Item", "_source.sku")
	wantAPIError(t, err, "BadRequestException", "data store")
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), DataStore: &types.DataStoreRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	first, err := put("Item", "_source.sku")
	if err != nil {
		t.Fatalf("PutDomainObjectType: %v", err)
	}
	if first.CreatedAt == nil || aws.ToString(first.Fields["sku"].Target) != "_domainObject.Sku" || first.Fields["sku"].FeatureType != types.FeatureTypeCategorical || first.Tags["team"] != "web" {
		t.Fatalf("PutDomainObjectType answered %+v", first)
	}
	again, err := put("Item", "_source.item.sku")
	if err != nil || aws.ToString(again.Fields["sku"].Source) != "_source.item.sku" || !again.CreatedAt.Equal(*first.CreatedAt) {
		t.Fatalf("PutDomainObjectType again (replace): %+v, %v", again, err)
	}
	got, err := e.client.GetDomainObjectType(ctx, &customerprofiles.GetDomainObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("Item")})
	if err != nil || aws.ToString(got.Fields["sku"].Source) != "_source.item.sku" || aws.ToString(got.Description) != "catalog items" {
		t.Fatalf("GetDomainObjectType: %+v, %v", got, err)
	}
	if _, err := put("Offer", "_source.sku"); err != nil {
		t.Fatal(err)
	}
	list, err := e.client.ListDomainObjectTypes(ctx, &customerprofiles.ListDomainObjectTypesInput{DomainName: aws.String(e.domain)})
	if err != nil || len(list.Items) != 2 || aws.ToString(list.Items[0].ObjectTypeName) != "Item" || aws.ToString(list.Items[1].ObjectTypeName) != "Offer" {
		t.Fatalf("ListDomainObjectTypes: %+v, %v", list, err)
	}
	_, err = put("Bad", "sku")
	wantAPIError(t, err, "BadRequestException", "Source", "_source")
	_, err = put("Bad", "_source.a..b")
	wantAPIError(t, err, "BadRequestException", "Source")
	_, err = put("_reserved", "_source.sku")
	wantAPIError(t, err, "BadRequestException", "ObjectTypeName", "_reserved")
	_, err = e.client.PutDomainObjectType(ctx, &customerprofiles.PutDomainObjectTypeInput{DomainName: aws.String(e.domain),
		ObjectTypeName: aws.String("Keyed"), EncryptionKey: aws.String("bogus"), Fields: map[string]types.DomainObjectTypeField{
			"sku": {Source: aws.String("_source.sku"), Target: aws.String("_domainObject.Sku")}}})
	wantAPIError(t, err, "BadRequestException", "EncryptionKey", "bogus")
	if _, err := e.client.DeleteDomainObjectType(ctx, &customerprofiles.DeleteDomainObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("Item")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetDomainObjectType(ctx, &customerprofiles.GetDomainObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("Item")})
	wantAPIError(t, err, "ResourceNotFoundException", "Item")
	_, err = e.client.ListDomainObjectTypes(ctx, &customerprofiles.ListDomainObjectTypesInput{DomainName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "nope")
}
