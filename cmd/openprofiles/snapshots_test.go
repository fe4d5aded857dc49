package main_test

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/fauxqs"
)

// TestSegmentSnapshots exports a segment to a real S3 protocol server
// (fauxqs) through the SDK, as JSON lines and as CSV, and reads the objects
// back.
func TestSegmentSnapshots(t *testing.T) {
	endpoint := fauxqs.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	e := newIngestEnv(t, func(c *main.Config) { c.S3Endpoint = endpoint })
	ctx := t.Context()
	fauxqs.CreateBucket(t, endpoint, testRegion, "exports")
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com", "name": map[string]any{"first": "Ann", "last": "Lee"}, "address": map[string]any{"city": "Lyon"}})
	e.mustPut("contact", map[string]any{"id": "c2", "email": "bob@example.com", "name": map[string]any{"first": "Bob"}, "address": map[string]any{"city": "Lyon"}, "tier": "gold"})
	e.mustPut("contact", map[string]any{"id": "c3", "email": "cy@example.com", "address": map[string]any{"city": "Paris"}})
	if err := e.createSegment("lyon", &types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{
		&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{Address: &types.AddressDimension{City: &types.ProfileDimension{
			DimensionType: types.StringDimensionTypeInclusive, Values: []string{"Lyon"}}}}}}}}}); err != nil {
		t.Fatal(err)
	}
	dn, seg := aws.String(e.domain), aws.String("lyon")

	export := func(format types.DataFormat) (*customerprofiles.GetSegmentSnapshotOutput, []byte) {
		t.Helper()
		out, err := e.client.CreateSegmentSnapshot(ctx, &customerprofiles.CreateSegmentSnapshotInput{DomainName: dn, SegmentDefinitionName: seg,
			DataFormat: format, DestinationUri: aws.String("s3://exports/audiences/"), RoleArn: aws.String("arn:aws:iam::000000000000:role/exports")})
		if err != nil {
			t.Fatalf("CreateSegmentSnapshot %s: %v", format, err)
		}
		var got *customerprofiles.GetSegmentSnapshotOutput
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			got, err = e.client.GetSegmentSnapshot(ctx, &customerprofiles.GetSegmentSnapshotInput{DomainName: dn, SegmentDefinitionName: seg, SnapshotId: out.SnapshotId})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != types.SegmentSnapshotStatusInProgress || time.Now().After(deadline) {
				break
			}
		}
		key := "audiences/" + e.domain + "/lyon/" + aws.ToString(out.SnapshotId) + "." + strings.ToLower(string(format))
		if got.Status != types.SegmentSnapshotStatusCompleted || aws.ToString(got.StatusMessage) != "Exported 2 profiles to s3://exports/"+key+"." ||
			got.DataFormat != format || aws.ToString(got.DestinationUri) != "s3://exports/audiences/" || aws.ToString(got.RoleArn) != "arn:aws:iam::000000000000:role/exports" {
			t.Fatalf("GetSegmentSnapshot: %+v, message %q", got, aws.ToString(got.StatusMessage))
		}
		return got, fauxqs.GetObject(t, endpoint, testRegion, "exports", key)
	}

	_, body := export(types.DataFormatJsonl)
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	var cities, names []string
	for _, l := range lines {
		var p map[string]any
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		cities = append(cities, p["Address"].(map[string]any)["City"].(string))
		names = append(names, p["FirstName"].(string))
		if id, _ := p["ProfileId"].(string); len(id) != 32 {
			t.Errorf("line without a ProfileId: %q", l)
		}
	}
	slices.Sort(names)
	if len(lines) != 2 || !slices.Equal(cities, []string{"Lyon", "Lyon"}) || !slices.Equal(names, []string{"Ann", "Bob"}) {
		t.Fatalf("JSONL export: %q", body)
	}

	_, body = export(types.DataFormatCsv)
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("CSV export: %v\n%s", err, body)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"ProfileId", "FirstName", "EmailAddress", "Address.City", "Attributes.tier"} {
		if _, ok := col[h]; !ok {
			t.Errorf("CSV header %v lacks %s", rows[0], h)
		}
	}
	for _, r := range rows[1:] {
		if r[col["Address.City"]] != "Lyon" || r[col["FirstName"]] == "Bob" && r[col["Attributes.tier"]] != "gold" {
			t.Errorf("CSV row %v", r)
		}
	}

	for _, c := range []struct {
		in   customerprofiles.CreateSegmentSnapshotInput
		code string
		want string
	}{
		{customerprofiles.CreateSegmentSnapshotInput{DataFormat: types.DataFormatOrc, DestinationUri: aws.String("s3://exports")}, "BadRequestException", "ORC"},
		{customerprofiles.CreateSegmentSnapshotInput{DataFormat: types.DataFormatCsv, DestinationUri: aws.String("https://exports")}, "BadRequestException", "s3://bucket"},
		{customerprofiles.CreateSegmentSnapshotInput{DataFormat: types.DataFormatCsv}, "BadRequestException", "DestinationUri"},
		{customerprofiles.CreateSegmentSnapshotInput{DataFormat: types.DataFormatCsv, DestinationUri: aws.String("s3://missing-bucket/x")}, "BadRequestException", "does not exist"},
		{customerprofiles.CreateSegmentSnapshotInput{SegmentDefinitionName: aws.String("nope"), DataFormat: types.DataFormatCsv, DestinationUri: aws.String("s3://exports")}, "ResourceNotFoundException", "nope"},
	} {
		in := c.in
		in.DomainName = dn
		if in.SegmentDefinitionName == nil {
			in.SegmentDefinitionName = seg
		}
		_, err := e.client.CreateSegmentSnapshot(ctx, &in)
		wantAPIError(t, err, c.code, c.want)
	}
	_, err = e.client.GetSegmentSnapshot(ctx, &customerprofiles.GetSegmentSnapshotInput{DomainName: dn, SegmentDefinitionName: seg,
		SnapshotId: aws.String("0123456789abcdef0123456789abcdef")})
	wantAPIError(t, err, "ResourceNotFoundException", "0123456789abcdef0123456789abcdef")

	// The server writes with its own credentials: a caller must also be
	// allowed to write where the export goes.
	key, err := e.m.Service.EncryptionKeyARN(ctx, e.domain)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`, `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + key + `"}`}
	analyst := mustUser(t, e.m, "analyst", map[string]string{"p": policy(base...)})
	in := &customerprofiles.CreateSegmentSnapshotInput{DomainName: dn, SegmentDefinitionName: seg, DataFormat: types.DataFormatCsv,
		DestinationUri: aws.String("s3://exports/analyst")}
	_, err = analyst.CreateSegmentSnapshot(ctx, in)
	wantAPIError(t, err, "AccessDeniedException", "s3:PutObject", "arn:aws:s3:::exports/analyst")
	exporter := mustUser(t, e.m, "exporter", map[string]string{"p": policy(append(base,
		`{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::exports/*"}`)...)})
	if _, err := exporter.CreateSegmentSnapshot(ctx, in); err != nil {
		t.Fatalf("CreateSegmentSnapshot with s3:PutObject on the bucket: %v", err)
	}
	in.RoleArn = aws.String("arn:aws:iam::000000000000:role/exports")
	_, err = exporter.CreateSegmentSnapshot(ctx, in)
	wantAPIError(t, err, "AccessDeniedException", "iam:PassRole")
}

// TestSegmentSnapshots_NoS3: without --s3-endpoint, CreateSegmentSnapshot
// says what the server lacks.
func TestSegmentSnapshots_NoS3(t *testing.T) {
	e := newIngestEnv(t)
	if err := e.createSegment("all", &types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{
		&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{FirstName: &types.ProfileDimension{
			DimensionType: types.StringDimensionTypeExclusive, Values: []string{"nobody"}}}}}}}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.CreateSegmentSnapshot(t.Context(), &customerprofiles.CreateSegmentSnapshotInput{DomainName: aws.String(e.domain),
		SegmentDefinitionName: aws.String("all"), DataFormat: types.DataFormatJsonl, DestinationUri: aws.String("s3://exports")})
	wantAPIError(t, err, "BadRequestException", "--s3-endpoint")
}
