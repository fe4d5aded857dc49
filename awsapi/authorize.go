package awsapi

import (
	"context"
	"encoding/json"

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
	"GetSegmentMembership": true, "ListObjectTypeAttributeValues": true, "GetObjectTypeAttributeStatistics": true,
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
	cond := s.conditionKeys(ctx, c, domain)
	err := s.Authorizer.Authorize(ctx, &profiles.AuthRequest{Principal: c.principal, Action: "profile:" + c.operation,
		Resource: resource, Context: cond, RequestID: c.requestID})
	if err != nil || !readsProfileData[c.operation] || domain == "" {
		return err
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

// conditionKeys returns the condition keys of a request: the global ones,
// the tags it sends (aws:RequestTag/…) and the tags of the domain it acts on
// (aws:ResourceTag/…).
func (s *Server) conditionKeys(ctx context.Context, c *call, domain string) map[string][]string {
	cond := iam.RequestContext(c.r, s.Now())
	cond["aws:PrincipalArn"] = []string{c.principal}
	cond["aws:RequestedRegion"] = []string{s.Region}
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
