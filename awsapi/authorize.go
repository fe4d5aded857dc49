package awsapi

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
)

// readsProfileData names the operations that return profile data: their
// callers also need kms:Decrypt on the domain's key, as on AWS.
var readsProfileData = map[string]bool{
	"SearchProfiles": true, "BatchGetProfile": true, "ListProfileObjects": true,
	"GetProfileHistoryRecord": true, "ListProfileHistoryRecords": true, "ListProfileAttributeValues": true,
	"GetMatches": true, "GetSimilarProfiles": true, "ListRuleBasedMatches": true,
	"GetCalculatedAttributeForProfile": true, "ListCalculatedAttributesForProfile": true,
	"BatchGetCalculatedAttributeForProfile": true, "GetProfileRecommendations": true,
	"GetSegmentMembership": true, "CreateSegmentEstimate": true, "GetSegmentEstimate": true, "ListObjectTypeAttributeValues": true, "GetObjectTypeAttributeStatistics": true,
	// An event stream sends the domain's profiles and objects out.
	"CreateEventStream": true,
	// Counts of profiles alike.
	"GetAutoMergingPreview": true,
	// An export of a segment's profiles.
	"CreateSegmentSnapshot": true,
}

// authorize checks that the caller may call the operation: profile:<Op> on
// the resource it acts on, and kms:Decrypt on the domain's key for the
// operations that return profile data.
func (s *Server) authorize(ctx context.Context, c *call) error {
	if s.Authorizer == nil {
		return nil
	}
	domain := c.labels["DomainName"]
	resource := "*"
	switch {
	case c.labels["resourceArn"] != "":
		resource = c.labels["resourceArn"]
	case domain != "" && c.labels["ObjectTypeName"] != "":
		resource = s.Domains.DomainARN(domain) + "/object-types/" + c.labels["ObjectTypeName"]
	case domain != "":
		resource = s.Domains.DomainARN(domain)
	}
	cond := s.conditionKeys(c)
	err := s.Authorizer.Authorize(ctx, &profiles.AuthRequest{Principal: c.principal, Action: "profile:" + c.operation,
		Resource: resource, Context: cond, RequestID: c.requestID,
		Tags: func(ctx context.Context) map[string][]string { return s.tagKeys(ctx, c, domain) }})
	if err != nil {
		return err
	}
	for _, d := range destinations(c) {
		if err := s.Authorizer.Authorize(ctx, &profiles.AuthRequest{Principal: c.principal, Action: d[0], Resource: d[1],
			Context: cond, RequestID: c.requestID}); err != nil {
			return err
		}
	}
	if !readsProfileData[c.operation] || domain == "" {
		return nil
	}
	key, err := s.Domains.EncryptionKeyARN(ctx, domain)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND || err == nil && key == "" {
		return nil // the operation answers for the missing domain
	} else if err != nil {
		return err
	}
	return s.Authorizer.Authorize(ctx, &profiles.AuthRequest{Principal: c.principal, Action: "kms:Decrypt",
		Resource: key, Context: cond, RequestID: c.requestID})
}

// destinations returns the actions and resources (action, ARN) of where
// an operation sends profile data, which the caller must also be allowed
// to use: the server writes there with its own credentials, so without
// this check a caller could send a domain's data wherever the server may
// write. CreateEventStream needs kinesis:PutRecords on its stream;
// CreateSegmentSnapshot s3:PutObject on its destination
// (arn:aws:s3:::BUCKET/PREFIX), kms:GenerateDataKey on its EncryptionKey
// and iam:PassRole on its RoleArn, when given. CreateIntegrationWorkflow
// reads a bucket the same way: it needs s3:ListBucket on the bucket,
// s3:GetObject on its objects (arn:aws:s3:::BUCKET/PREFIX*) and
// iam:PassRole on its RoleArn; so does PutIntegration with a
// FlowDefinition. Malformed values are left to the
// operation, which refuses them.
func destinations(c *call) [][2]string {
	var body struct{ Uri, DestinationUri, EncryptionKey, RoleArn string }
	switch c.operation {
	case "CreateEventStream", "CreateSegmentSnapshot":
		if json.Unmarshal(c.body, &body) != nil {
			return nil
		}
	case "CreateIntegrationWorkflow", "PutIntegration":
		return workflowSources(c)
	default:
		return nil
	}
	var out [][2]string
	if c.operation == "CreateEventStream" && body.Uri != "" {
		out = append(out, [2]string{"kinesis:PutRecords", body.Uri})
	}
	if c.operation == "CreateSegmentSnapshot" {
		if rest, ok := strings.CutPrefix(body.DestinationUri, "s3://"); ok && rest != "" {
			bucket, prefix, _ := strings.Cut(rest, "/")
			out = append(out, [2]string{"s3:PutObject", "arn:aws:s3:::" + bucket + "/" + strings.Trim(prefix, "/")})
		}
		if body.EncryptionKey != "" {
			out = append(out, [2]string{"kms:GenerateDataKey", body.EncryptionKey})
		}
		if body.RoleArn != "" {
			out = append(out, [2]string{"iam:PassRole", body.RoleArn})
		}
	}
	return out
}

// conditionKeys returns the global condition keys of a request.
func (s *Server) conditionKeys(c *call) map[string][]string {
	cond := iam.RequestContext(c.r, s.Now())
	cond["aws:PrincipalArn"] = []string{c.principal}
	cond["aws:RequestedRegion"] = []string{s.Region}
	return cond
}

// tagKeys returns the condition keys of the tags a request sends
// (aws:RequestTag/…, aws:TagKeys) and of the domain it acts on
// (aws:ResourceTag/…): the authorizer asks for them only when a policy is
// evaluated, since they cost a decode of the body and a read of the store.
func (s *Server) tagKeys(ctx context.Context, c *call, domain string) map[string][]string {
	cond := map[string][]string{}
	var body struct {
		Tags     map[string]string
		LowerTag map[string]string `json:"tags"`
	}
	if len(c.body) > 0 && json.Unmarshal(c.body, &body) == nil {
		var keys []string
		for _, tags := range []map[string]string{body.Tags, body.LowerTag} {
			for k, v := range tags {
				cond["aws:RequestTag/"+k] = []string{v}
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			cond["aws:TagKeys"] = keys
		}
	}
	if keys := c.query["tagKeys"]; len(keys) > 0 {
		cond["aws:TagKeys"] = keys
	}
	if domain != "" && s.Tags != nil {
		if tags, err := s.Tags.ListTagsForResource(ctx, s.Domains.DomainARN(domain)); err == nil {
			for k, v := range tags {
				cond["aws:ResourceTag/"+k] = []string{v}
			}
		}
	}
	return cond
}

// workflowSources returns what the caller of CreateIntegrationWorkflow, or
// of PutIntegration with a FlowDefinition, must be allowed: to read the
// flow's S3 source and to pass its role.
func workflowSources(c *call) [][2]string {
	type flow struct {
		SourceFlowConfig struct {
			SourceConnectorProperties struct {
				S3 struct{ BucketName, BucketPrefix string }
			}
		}
	}
	var body struct {
		RoleArn           string
		FlowDefinition    *flow // PutIntegration's
		IntegrationConfig struct {
			AppflowIntegration struct{ FlowDefinition flow }
		}
	}
	if json.Unmarshal(c.body, &body) != nil {
		return nil
	}
	f := body.IntegrationConfig.AppflowIntegration.FlowDefinition
	if c.operation == "PutIntegration" {
		if body.FlowDefinition == nil {
			return nil // an integration of a Uri
		}
		f = *body.FlowDefinition
	}
	var out [][2]string
	if s3 := f.SourceFlowConfig.SourceConnectorProperties.S3; s3.BucketName != "" {
		out = append(out, [2]string{"s3:ListBucket", "arn:aws:s3:::" + s3.BucketName},
			[2]string{"s3:GetObject", "arn:aws:s3:::" + s3.BucketName + "/" + s3.BucketPrefix + "*"})
	}
	if body.RoleArn != "" {
		out = append(out, [2]string{"iam:PassRole", body.RoleArn})
	}
	return out
}
