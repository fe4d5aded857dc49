package main_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
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

// TestDomainObjectTypes_TimesAndPaging: what PutDomainObjectType answers
// is what GetDomainObjectType and ListDomainObjectTypes read (times to the
// millisecond); a replacement keeps CreatedAt and moves LastUpdatedAt;
// the list pages by name and refuses a token of another list; a domain
// object type and an object type of one name are two things; deleting
// the domain deletes its domain object types.
func TestDomainObjectTypes_TimesAndPaging(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), DataStore: &types.DataStoreRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	put := func(name, description string) *customerprofiles.PutDomainObjectTypeOutput {
		t.Helper()
		out, err := e.client.PutDomainObjectType(ctx, &customerprofiles.PutDomainObjectTypeInput{DomainName: aws.String(e.domain),
			ObjectTypeName: aws.String(name), Description: aws.String(description), Fields: map[string]types.DomainObjectTypeField{
				"sku": {Source: aws.String("_source.sku"), Target: aws.String("_domainObject.Sku")}}})
		if err != nil {
			t.Fatalf("PutDomainObjectType %s: %v", name, err)
		}
		return out
	}
	get := func(name string) *customerprofiles.GetDomainObjectTypeOutput {
		t.Helper()
		out, err := e.client.GetDomainObjectType(ctx, &customerprofiles.GetDomainObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String(name)})
		if err != nil {
			t.Fatalf("GetDomainObjectType %s: %v", name, err)
		}
		return out
	}
	first := put("Item", "v1")
	if first.CreatedAt == nil || first.LastUpdatedAt == nil || !first.CreatedAt.Equal(*first.LastUpdatedAt) {
		t.Fatalf("a new type answered CreatedAt %v, LastUpdatedAt %v; want both, equal", first.CreatedAt, first.LastUpdatedAt)
	}
	if g := get("Item"); !g.CreatedAt.Equal(*first.CreatedAt) || !g.LastUpdatedAt.Equal(*first.LastUpdatedAt) {
		t.Fatalf("GetDomainObjectType reads times %v/%v, PutDomainObjectType answered %v/%v", g.CreatedAt, g.LastUpdatedAt, first.CreatedAt, first.LastUpdatedAt)
	}
	second := put("Item", "v2")
	if !second.CreatedAt.Equal(*first.CreatedAt) || second.LastUpdatedAt.Before(*first.LastUpdatedAt) || aws.ToString(second.Description) != "v2" {
		t.Fatalf("replacement answered %+v", second)
	}
	if g := get("Item"); !g.LastUpdatedAt.Equal(*second.LastUpdatedAt) || aws.ToString(g.Description) != "v2" {
		t.Fatalf("GetDomainObjectType after the replacement: %+v", g)
	}

	// An object type of the same name is another resource.
	e.putType(contactType("Item"))
	if g := get("Item"); aws.ToString(g.Description) != "v2" || len(g.Fields) != 1 {
		t.Fatalf("the domain object type after an object type of its name: %+v", g)
	}
	ots, err := e.client.ListProfileObjectTypes(ctx, &customerprofiles.ListProfileObjectTypesInput{DomainName: aws.String(e.domain)})
	if err != nil || len(ots.Items) != 1 {
		t.Fatalf("ListProfileObjectTypes: %+v, %v", ots, err)
	}

	want := []string{"Item"}
	for _, n := range []string{"E", "A", "D", "C", "B"} {
		put(n, "d")
	}
	want = append([]string{"A", "B", "C", "D", "E"}, want...)
	var names []string
	p := customerprofiles.NewListDomainObjectTypesPaginator(e.client, &customerprofiles.ListDomainObjectTypesInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListDomainObjectTypes: %v", err)
		}
		if len(out.Items) > 2 {
			t.Fatalf("a page of %d items, want at most 2", len(out.Items))
		}
		for _, it := range out.Items {
			names = append(names, aws.ToString(it.ObjectTypeName))
			if aws.ToString(it.ObjectTypeName) == "Item" && (!it.CreatedAt.Equal(*first.CreatedAt) || !it.LastUpdatedAt.Equal(*second.LastUpdatedAt) || aws.ToString(it.Description) != "v2") {
				t.Errorf("listed %+v", it)
			}
		}
	}
	if !slices.Equal(names, want) {
		t.Fatalf("listed %v, want %v", names, want)
	}
	page, err := e.client.ListDomainObjectTypes(ctx, &customerprofiles.ListDomainObjectTypesInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(1)})
	if err != nil || page.NextToken == nil {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	_, err = e.client.ListProfileObjectTypes(ctx, &customerprofiles.ListProfileObjectTypesInput{DomainName: aws.String(e.domain), NextToken: page.NextToken})
	wantAPIError(t, err, "BadRequestException")
	_, err = e.client.ListDomainObjectTypes(ctx, &customerprofiles.ListDomainObjectTypesInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(101)})
	wantAPIError(t, err, "BadRequestException", "max-results")

	// Deleting a missing type, or one of a missing domain, is not found;
	// deleting the domain deletes its types.
	_, err = e.client.DeleteDomainObjectType(ctx, &customerprofiles.DeleteDomainObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("Nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "Nope")
	_, err = e.client.PutDomainObjectType(ctx, &customerprofiles.PutDomainObjectTypeInput{DomainName: aws.String("nodomain"), ObjectTypeName: aws.String("X"),
		Fields: map[string]types.DomainObjectTypeField{"sku": {Source: aws.String("_source.sku"), Target: aws.String("_domainObject.Sku")}}})
	wantAPIError(t, err, "ResourceNotFoundException", "nodomain")
	if _, err := e.client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String(e.domain)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	if out, err := e.client.ListDomainObjectTypes(ctx, &customerprofiles.ListDomainObjectTypesInput{DomainName: aws.String(e.domain)}); err != nil || len(out.Items) != 0 {
		t.Fatalf("a new domain of a deleted one's name lists %+v, %v", out, err)
	}
}

// TestDomainObjectTypes_EncryptionKey: a domain object type's own KMS key
// is checked as an object type's is: it must exist, be enabled, and its
// policy must let the service use it for the type
// (aws:SourceArn arn:aws:profile:REGION:ACCOUNT:domains/D/domain-object-types/T,
// the type's ARN). Get answers the key; a replacement without one drops it.
func TestDomainObjectTypes_EncryptionKey(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	k := MustKMSClient(t, e.m)
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), DataStore: &types.DataStoreRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:profile:us-east-1:000000000000:domains/ingest"
	good := mustCreateKey(t, k, keyPolicy(arn+"/*", serviceActions...))
	exact := mustCreateKey(t, k, keyPolicy(arn+"/domain-object-types/Item", serviceActions...))
	noGrant := mustCreateKey(t, k, keyPolicy(""))
	otherDomain := mustCreateKey(t, k, keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/other/*", serviceActions...))
	disabled := mustCreateKey(t, k, keyPolicy(arn+"/*", serviceActions...))
	if _, err := k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(disabled)}); err != nil {
		t.Fatal(err)
	}
	put := func(name string, key *string) (*customerprofiles.PutDomainObjectTypeOutput, error) {
		return e.client.PutDomainObjectType(ctx, &customerprofiles.PutDomainObjectTypeInput{DomainName: aws.String(e.domain),
			ObjectTypeName: aws.String(name), EncryptionKey: key, Fields: map[string]types.DomainObjectTypeField{
				"sku": {Source: aws.String("_source.sku"), Target: aws.String("_domainObject.Sku")}}})
	}
	for _, key := range []string{good, exact} {
		out, err := put("Item", aws.String(key))
		if err != nil || aws.ToString(out.EncryptionKey) != key {
			t.Fatalf("PutDomainObjectType with key %s: %+v, %v", key, out, err)
		}
		if g, err := e.client.GetDomainObjectType(ctx, &customerprofiles.GetDomainObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("Item")}); err != nil || aws.ToString(g.EncryptionKey) != key {
			t.Fatalf("GetDomainObjectType: %+v, %v", g, err)
		}
	}
	for _, tt := range []struct {
		name, typ, key string
		words          []string
	}{
		{"ScopedToAnotherType", "Other", exact, []string{"kms:GenerateDataKey"}},
		{"NoServiceGrant", "Item", noGrant, []string{"EncryptionKey", "profile.amazonaws.com"}},
		{"ConfusedDeputy", "Item", otherDomain, []string{"EncryptionKey", "kms:GenerateDataKey"}},
		{"Disabled", "Item", disabled, []string{"EncryptionKey", "Enabled"}},
		{"Missing", "Item", "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000", []string{"no such KMS key"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := put(tt.typ, aws.String(tt.key))
			wantAPIError(t, err, "BadRequestException", tt.words...)
		})
	}
	// The refused replacements left the type as it was.
	if g, err := e.client.GetDomainObjectType(ctx, &customerprofiles.GetDomainObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("Item")}); err != nil || aws.ToString(g.EncryptionKey) != exact {
		t.Fatalf("after refused replacements: %+v, %v", g, err)
	}
	out, err := put("Item", nil)
	if err != nil || out.EncryptionKey != nil {
		t.Fatalf("replacement without a key: %+v, %v", out, err)
	}
}

// TestDomainObjectTypes_Tags: tags reach a domain object type through its
// ARN (…:domains/D/domain-object-types/T), not an object type's.
func TestDomainObjectTypes_Tags(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), DataStore: &types.DataStoreRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutDomainObjectType(ctx, &customerprofiles.PutDomainObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("Item"),
		Tags: map[string]string{"a": "1"}, Fields: map[string]types.DomainObjectTypeField{"sku": {Source: aws.String("_source.sku"), Target: aws.String("_domainObject.Sku")}}}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:profile:us-east-1:000000000000:domains/" + e.domain + "/domain-object-types/Item"
	if _, err := e.client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"b": "2"}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := e.client.UntagResource(ctx, &customerprofiles.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	g, err := e.client.GetDomainObjectType(ctx, &customerprofiles.GetDomainObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("Item")})
	if err != nil || len(g.Tags) != 1 || g.Tags["b"] != "2" {
		t.Fatalf("tags after TagResource and UntagResource: %+v, %v", g, err)
	}
	lt, err := e.client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(lt.Tags) != 1 || lt.Tags["b"] != "2" {
		t.Fatalf("ListTagsForResource: %+v, %v", lt, err)
	}
	_, err = e.client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: aws.String("arn:aws:profile:us-east-1:000000000000:domains/" + e.domain + "/object-types/Item"), Tags: map[string]string{"b": "2"}})
	wantAPIError(t, err, "ResourceNotFoundException", "Item")
}
