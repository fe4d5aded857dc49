package awsapi

import (
	"context"
	"encoding/json"
	"net/url"
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
// each resource it acts on, what it reads or sends elsewhere
// (destinations), and kms:Decrypt on the domain's key for the operations
// that return profile data (and on an object type's own key for its
// objects).
func (s *Server) authorize(ctx context.Context, c *call) error {
	if s.Authorizer == nil {
		return nil
	}
	domain := c.labels["DomainName"]
	cond := s.conditionKeys(c)
	allow := func(action, resource string) error {
		return s.Authorizer.Authorize(ctx, &profiles.AuthRequest{Principal: c.principal, Action: action, Resource: resource,
			Context: cond, RequestID: c.requestID})
	}
	resources, objectType, err := s.resources(c, domain)
	if err != nil {
		return err
	}
	for _, resource := range resources {
		if err := s.Authorizer.Authorize(ctx, &profiles.AuthRequest{Principal: c.principal, Action: "profile:" + c.operation,
			Resource: resource, Context: cond, RequestID: c.requestID,
			Tags: func(ctx context.Context) (map[string][]string, error) { return s.tagKeys(ctx, c, domain) }}); err != nil {
			return err
		}
	}
	dests, err := destinations(c)
	if err != nil {
		return err
	}
	domainDests, err := s.domainDestinations(ctx, c, domain)
	if err != nil {
		return err
	}
	for _, d := range append(dests, domainDests...) {
		if err := allow(d[0], d[1]); err != nil {
			return err
		}
	}
	if !readsProfileData[c.operation] || domain == "" {
		return nil
	}
	key, err := s.Domains.EncryptionKeyARN(ctx, domain)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil // the operation answers for the missing domain
	} else if err != nil {
		return err
	}
	if key != "" {
		if err := allow("kms:Decrypt", key); err != nil {
			return err
		}
	}
	// Objects of a type with an EncryptionKey of its own are sealed under
	// it: reading them needs kms:Decrypt on that key too. An event stream
	// sends every type's objects out.
	var types []string
	switch {
	case c.operation == "CreateEventStream":
		if types, err = s.objectTypeNames(ctx, domain); err != nil {
			return err
		}
	case objectType != "":
		types = []string{objectType}
	}
	return s.allowTypeKeys(ctx, domain, key, types, allow)
}

// allowTypeKeys checks allow("kms:Decrypt", …) on the own keys of the
// object types that have one other than the domain's key.
func (s *Server) allowTypeKeys(ctx context.Context, domain, domainKey string, types []string, allow func(action, resource string) error) error {
	keys, err := s.typeKeys(ctx, domain, domainKey, types)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := allow("kms:Decrypt", k); err != nil {
			return err
		}
	}
	return nil
}

// typeKeys returns the own keys of the object types that have one other
// than the domain's key.
func (s *Server) typeKeys(ctx context.Context, domain, domainKey string, types []string) ([]string, error) {
	var out []string
	for _, t := range types {
		typeKey, err := s.Domains.ObjectTypeKeyARN(ctx, domain, t)
		if err != nil {
			return nil, err
		}
		if typeKey != "" && typeKey != domainKey {
			out = append(out, typeKey)
		}
	}
	return out, nil
}

// objectTypeNames returns the names of a domain's object types (none for
// a missing domain: the operation answers for it).
func (s *Server) objectTypeNames(ctx context.Context, domain string) ([]string, error) {
	var names []string
	for page := (profiles.Page{MaxResults: 100}); ; {
		types, next, err := s.ObjectTypes.ListObjectTypes(ctx, domain, page)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		for _, t := range types {
			names = append(names, t.Name)
		}
		if next == "" {
			return names, nil
		}
		page.Token = next
	}
}

// bodyObjectType names the operations on objects whose object type is in
// the body, not the path.
var bodyObjectType = map[string]bool{
	"PutProfileObject": true, "BatchPutProfileObject": true, "DeleteProfileObject": true, "ListProfileObjects": true,
}

// resources returns the ARNs an operation acts on, each of which its
// caller must be allowed profile:<Op> on, as AWS lists them: the domain's,
// and the resource of the domain its path or body names (its object type,
// segment definition, recommender, …); a tagging call's resource ARN; "*"
// for account-wide calls. objectType is the object type it names.
func (s *Server) resources(c *call, domain string) (arns []string, objectType string, err error) {
	switch {
	case c.labels["resourceArn"] != "":
		return []string{c.labels["resourceArn"]}, "", nil
	case domain == "":
		return []string{"*"}, "", nil
	}
	arn := s.Domains.DomainARN(domain)
	arns = []string{arn}
	if sub := subResource(c); sub != "" {
		arns = append(arns, arn+sub)
	}
	objectType = c.labels["ObjectTypeName"]
	switch {
	case bodyObjectType[c.operation] && objectType == "":
		var in struct{ ObjectTypeName *string }
		if err := c.decodeBody(&in); err != nil {
			return nil, "", err
		}
		if objectType = deref(in.ObjectTypeName); objectType != "" {
			arns = append(arns, arn+"/object-types/"+objectType)
		}
	case c.operation == "GetProfileRecommendations":
		var in GetProfileRecommendationsRequest
		if err := c.decodeBody(&in); err != nil {
			return nil, "", err
		}
		if name := deref(in.RecommenderName); name != "" {
			arns = append(arns, arn+"/recommenders/"+name)
		}
	}
	if strings.Contains(c.operation, "DomainObjectType") {
		objectType = "" // a domain object type holds no profile objects
	}
	return arns, objectType, nil
}

// subResources are the resources within a domain that an operation's path
// may name, by the path's label, and the part of the domain's ARN their
// ARNs add: an operation on one is authorised on its ARN
// (arn:aws:profile:REGION:ACCOUNT:domains/DOMAIN/segment-definitions/NAME),
// as on AWS.
var subResources = []struct{ label, kind string }{
	{"ObjectTypeName", "object-types"},
	{"SegmentDefinitionName", "segment-definitions"},
	{"CalculatedAttributeName", "calculated-attributes"},
	{"EventStreamName", "event-streams"},
	{"EventTriggerName", "event-triggers"},
	{"LayoutDefinitionName", "layouts"},
	{"RecommenderName", "recommenders"},
	{"RecommenderSchemaName", "recommender-schemas"},
	{"RecommenderFilterName", "recommender-filters"},
}

// subResource returns what the ARN of the resource an operation's path
// names adds to its domain's ARN ("" for the domain itself).
func subResource(c *call) string {
	for _, r := range subResources {
		name := c.labels[r.label]
		if name == "" {
			continue
		}
		kind := r.kind
		if r.label == "ObjectTypeName" && strings.Contains(c.operation, "DomainObjectType") {
			kind = "domain-object-types"
		}
		return "/" + kind + "/" + name
	}
	return ""
}

// destinations returns the actions and resources (action, ARN) of where
// an operation sends profile data, which the caller must also be allowed
// to use: the server writes there with its own credentials, so without
// this check a caller could send a domain's data wherever the server may
// write. CreateEventStream needs kinesis:PutRecords on its stream;
// CreateSegmentSnapshot s3:PutObject on the objects it writes
// (arn:aws:s3:::BUCKET/PREFIX/DOMAIN/SEGMENT/*), kms:GenerateDataKey on its EncryptionKey
// and iam:PassRole on its RoleArn, when given. CreateIntegrationWorkflow
// reads a bucket the same way: it needs s3:ListBucket on the bucket,
// s3:GetObject on its objects (arn:aws:s3:::BUCKET/PREFIX*) and
// iam:PassRole on its RoleArn; so does PutIntegration with a
// FlowDefinition. The body is read into the operation's own request shape,
// as the operation reads it (a body it would refuse is refused here);
// malformed values are left to the operation, which refuses them.
func destinations(c *call) ([][2]string, error) {
	var out [][2]string
	switch c.operation {
	case "CreateEventStream":
		var in CreateEventStreamRequest
		if err := c.decodeBody(&in); err != nil {
			return nil, err
		}
		if uri := deref(in.Uri); uri != "" {
			out = append(out, [2]string{"kinesis:PutRecords", uri})
		}
	case "CreateSegmentSnapshot":
		var in CreateSegmentSnapshotRequest
		if err := c.decodeBody(&in); err != nil {
			return nil, err
		}
		if rest, ok := strings.CutPrefix(deref(in.DestinationUri), "s3://"); ok && rest != "" {
			// The export's object: PREFIX/DOMAIN/SEGMENT/ID.ext.
			bucket, prefix, _ := strings.Cut(rest, "/")
			key := strings.TrimPrefix(strings.Trim(prefix, "/")+"/"+c.labels["DomainName"]+"/"+c.labels["SegmentDefinitionName"]+"/*", "/")
			out = append(out, [2]string{"s3:PutObject", "arn:aws:s3:::" + bucket + "/" + key})
		}
		if key := deref(in.EncryptionKey); key != "" {
			out = append(out, [2]string{"kms:GenerateDataKey", key})
		}
		if role := deref(in.RoleArn); role != "" {
			out = append(out, [2]string{"iam:PassRole", role})
		}
	case "CreateIntegrationWorkflow":
		var in CreateIntegrationWorkflowRequest
		if err := c.decodeBody(&in); err != nil {
			return nil, err
		}
		if in.IntegrationConfig != nil && in.IntegrationConfig.AppflowIntegration != nil {
			out = flowSources(in.IntegrationConfig.AppflowIntegration.FlowDefinition, deref(in.RoleArn))
		}
	case "PutIntegration":
		var in PutIntegrationRequest
		if err := c.decodeBody(&in); err != nil {
			return nil, err
		}
		if in.FlowDefinition != nil { // else an integration of a Uri
			out = flowSources(in.FlowDefinition, deref(in.RoleArn))
		}
	}
	return out, nil
}

// domainDestinations returns what CreateDomain's and UpdateDomain's
// caller must also be allowed: sqs:SendMessage on a dead-letter queue it
// sets (the server sends failed objects there, in the clear, with its own
// credentials); for UpdateDomain, kms:Decrypt on the domain's current key
// when it sets a queue or another key (records sealed under the old key
// stay readable by the new key's decrypters: only one who may read them
// now may do that), and kms:GenerateDataKey on a new key.
func (s *Server) domainDestinations(ctx context.Context, c *call, domain string) ([][2]string, error) {
	var queue, key *string
	switch c.operation {
	case "PutProfileObjectType":
		return s.objectTypeKeyChange(ctx, c, domain)
	case "CreateDomain":
		var in CreateDomainRequest
		if err := c.decodeBody(&in); err != nil {
			return nil, err
		}
		queue, key = in.DeadLetterQueueUrl, in.DefaultEncryptionKey
	case "UpdateDomain":
		var in UpdateDomainRequest
		if err := c.decodeBody(&in); err != nil {
			return nil, err
		}
		queue, key = in.DeadLetterQueueUrl, in.DefaultEncryptionKey
	default:
		return nil, nil
	}
	var out [][2]string
	if deref(queue) != "" {
		out = append(out, [2]string{"sqs:SendMessage", queueARN(s.Region, *queue)})
	}
	if c.operation == "CreateDomain" {
		// The domain's data will be sealed under the key it names.
		if k := deref(key); k != "" {
			arn, err := s.Domains.KeyARN(ctx, k)
			if err != nil {
				return nil, err
			}
			out = append(out, [2]string{"kms:GenerateDataKey", arn})
		}
		return out, nil
	}
	if deref(queue) == "" && key == nil {
		return out, nil
	}
	current, err := s.Domains.EncryptionKeyARN(ctx, domain)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return out, nil // the operation answers for the missing domain
	} else if err != nil {
		return nil, err
	}
	next := current
	if key != nil {
		// "" is the server's default key; ids and aliases are the ARNs
		// they name.
		if next, err = s.Domains.KeyARN(ctx, *key); err != nil {
			return nil, err
		}
	}
	changesKey := next != current
	if current != "" && (deref(queue) != "" || changesKey) {
		out = append(out, [2]string{"kms:Decrypt", current})
	}
	if changesKey && next != "" {
		out = append(out, [2]string{"kms:GenerateDataKey", next})
	}
	if deref(queue) != "" {
		// Failed objects go to the queue in the clear, those of the types
		// with keys of their own too.
		types, err := s.objectTypeNames(ctx, domain)
		if err != nil {
			return nil, err
		}
		keys, err := s.typeKeys(ctx, domain, current, types)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			out = append(out, [2]string{"kms:Decrypt", k})
		}
	}
	return out, nil
}

// objectTypeKeyChange returns what PutProfileObjectType's caller must also
// be allowed when it changes the type's own EncryptionKey: kms:Decrypt on
// the key it had (the objects sealed under it stay readable to the new
// key's decrypters) and kms:GenerateDataKey on the new one.
func (s *Server) objectTypeKeyChange(ctx context.Context, c *call, domain string) ([][2]string, error) {
	var in PutProfileObjectTypeRequest
	if err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	current, err := s.Domains.ObjectTypeKeyARN(ctx, domain, c.labels["ObjectTypeName"])
	if err != nil {
		return nil, err
	}
	next := ""
	if k := deref(in.EncryptionKey); k != "" {
		if next, err = s.Domains.KeyARN(ctx, k); err != nil { // ids and aliases are the ARNs they name
			return nil, err
		}
	}
	if next == current {
		return nil, nil
	}
	var out [][2]string
	if current != "" {
		out = append(out, [2]string{"kms:Decrypt", current})
	}
	if next != "" {
		out = append(out, [2]string{"kms:GenerateDataKey", next})
	}
	return out, nil
}

// queueARN returns the ARN of an SQS queue URL (scheme://host/ACCOUNT/NAME)
// in region; "*" for a URL of another shape (the operation refuses it).
func queueARN(region, queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return "*"
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "*"
	}
	return "arn:aws:sqs:" + region + ":" + parts[0] + ":" + parts[1]
}

// flowSources returns what the caller of CreateIntegrationWorkflow, or of
// PutIntegration with a FlowDefinition, must be allowed: to read the
// flow's S3 source and to pass its role.
func flowSources(f *FlowDefinition, role string) [][2]string {
	var out [][2]string
	if f != nil && f.SourceFlowConfig != nil && f.SourceFlowConfig.SourceConnectorProperties != nil && f.SourceFlowConfig.SourceConnectorProperties.S3 != nil {
		s3 := f.SourceFlowConfig.SourceConnectorProperties.S3
		if bucket := deref(s3.BucketName); bucket != "" {
			out = append(out, [2]string{"s3:ListBucket", "arn:aws:s3:::" + bucket},
				[2]string{"s3:GetObject", "arn:aws:s3:::" + bucket + "/" + deref(s3.BucketPrefix) + "*"})
		}
	}
	if role != "" {
		out = append(out, [2]string{"iam:PassRole", role})
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
func (s *Server) tagKeys(ctx context.Context, c *call, domain string) (map[string][]string, error) {
	cond := map[string][]string{}
	// One field for "Tags" (most operations) and "tags" (TagResource): the
	// JSON decoder matches member names without regard to case and merges
	// both spellings into it, as it does into the operation's own request.
	var body struct{ Tags map[string]string }
	if len(c.body) > 0 && json.Unmarshal(c.body, &body) == nil {
		var keys []string
		for k, v := range body.Tags {
			cond["aws:RequestTag/"+k] = []string{v}
			keys = append(keys, k)
		}
		if len(keys) > 0 {
			cond["aws:TagKeys"] = keys
		}
	}
	if keys := c.query["tagKeys"]; len(keys) > 0 && c.operation == "UntagResource" {
		cond["aws:TagKeys"] = keys
	}
	if domain == "" {
		domain = s.arnDomain(c.labels["resourceArn"]) // TagResource, UntagResource, ListTagsForResource
	}
	if domain != "" && s.Tags != nil {
		tags, err := s.Tags.ListTagsForResource(ctx, s.Domains.DomainARN(domain))
		switch profiles.ErrorCode(err) {
		case "":
			for k, v := range tags {
				cond["aws:ResourceTag/"+k] = []string{v}
			}
		case profiles.ENOTFOUND: // the operation answers for the missing domain
		default:
			return nil, err // not evaluated without the resource's tags
		}
	}
	return cond, nil
}

// arnDomain returns the name of the domain of this server's region and
// account that a resource ARN names (arn:aws:profile:REGION:ACCOUNT:domains/NAME[/…]),
// or "".
func (s *Server) arnDomain(arn string) string {
	rest, ok := strings.CutPrefix(arn, strings.TrimSuffix(s.Domains.DomainARN("x"), "x"))
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}
