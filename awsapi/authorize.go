package awsapi

// Authorization of an API call. This file holds the entry point
// (authorize), the resources an operation acts on and its condition keys;
// destinations.go what it sends elsewhere (queues, streams, buckets, roles,
// keys), typekeys.go the object types' own encryption keys.

import (
	"context"
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
// objects, and for the values calculated from them).
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
			Tags: func(ctx context.Context) (map[string][]string, error) { return s.tagKeys(ctx, c, domain, resource) }}); err != nil {
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
	case c.operation == "GetProfileRecommendations":
		// Recommendations are made of the interaction events (their
		// items' names, prices, …) and read the profile's own.
		types = []string{profiles.RecommenderEventsType}
	case readsSegment[c.operation]:
		// What a segment holds tells what the calculated attributes its
		// dimensions compare are (BEGINS_WITH, one letter at a time).
		if types, err = s.segmentTypes(ctx, c, domain); err != nil {
			return err
		}
	case readsCalculatedValues[c.operation]:
		// A calculated value is computed from the objects of the type
		// its definition reads (FIRST_OCCURRENCE gives a field as it is).
		if types, err = s.calculatedTypes(ctx, domain, c.labels["CalculatedAttributeName"]); err != nil {
			return err
		}
	}
	return s.allowTypeKeys(ctx, domain, types, allow)
}

// readsCalculatedValues names the operations that return calculated
// attributes' values: one attribute's (the path's CalculatedAttributeName),
// or every attribute's of the domain.
var readsCalculatedValues = map[string]bool{"GetCalculatedAttributeForProfile": true,
	"BatchGetCalculatedAttributeForProfile": true, "ListCalculatedAttributesForProfile": true}

// readsSegment names the operations that tell which profiles a segment
// (of the path's SegmentDefinitionName, or the body's SegmentQuery) holds,
// or how many (an estimate made before, of the path's EstimateId).
var readsSegment = map[string]bool{"GetSegmentMembership": true, "CreateSegmentSnapshot": true, "CreateSegmentEstimate": true,
	"GetSegmentEstimate": true}

// bodyObjectType names the operations on objects whose object type is in
// the body, not the path.
var bodyObjectType = map[string]bool{
	"PutProfileObject": true, "BatchPutProfileObject": true, "DeleteProfileObject": true, "ListProfileObjects": true,
}

// integrationOps are the operations on one integration, named by the Uri
// of their body: they act on its ARN (…/integrations/URI) too.
var integrationOps = map[string]bool{"PutIntegration": true, "GetIntegration": true, "DeleteIntegration": true}

// resources returns the ARNs an operation acts on, each of which its
// caller must be allowed profile:<Op> on, as AWS lists them: the domain's,
// and the resource of the domain its path or body names (its object type,
// integration, segment definition, recommender, …); a tagging call's resource ARN; "*"
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
		var in objectTypeBody
		if err := c.decodeBody(&in); err != nil {
			return nil, "", err
		}
		if objectType = deref(in.ObjectTypeName); objectType != "" {
			arns = append(arns, arn+"/object-types/"+objectType)
		}
	case integrationOps[c.operation]:
		var in integrationBody
		if err := c.decodeBody(&in); err != nil {
			return nil, "", err
		}
		uri := deref(in.Uri)
		if uri == "" && c.operation == "PutIntegration" {
			// An integration of a flow put without a Uri gets the flow's
			// ARN as its Uri (IntegrationService.PutIntegration).
			if uri, err = s.flowURI(c); err != nil {
				return nil, "", err
			}
		}
		if uri != "" {
			arns = append(arns, arn+"/integrations/"+uri)
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

// conditionKeys returns the global condition keys of a request.
func (s *Server) conditionKeys(c *call) map[string][]string {
	cond := iam.RequestContext(c.r, s.Now())
	cond["aws:PrincipalArn"] = []string{c.principal}
	cond["aws:RequestedRegion"] = []string{s.Region}
	return cond
}

// tagKeys returns the condition keys of the tags a request sends
// (aws:RequestTag/…, aws:TagKeys) and of the resource a policy is
// evaluated on (aws:ResourceTag/…): the authorizer asks for them only when
// a policy is evaluated, since they cost a decode of the body and a read
// of the store.
func (s *Server) tagKeys(ctx context.Context, c *call, domain, resource string) (map[string][]string, error) {
	cond := map[string][]string{}
	// The tags the operation reads: "tags" of TagResource, "Tags" of the
	// others (names match exactly, as in the operation's own request).
	var tags map[string]string
	if c.operation == "TagResource" {
		var body TagResourceRequest
		if c.decodeBody(&body) == nil {
			tags = body.Tags
		}
	} else {
		var body tagsBody
		if c.decodeBody(&body) == nil {
			tags = body.Tags
		}
	}
	var keys []string
	for k, v := range tags {
		cond["aws:RequestTag/"+k] = []string{v}
		keys = append(keys, k)
	}
	if len(keys) > 0 {
		cond["aws:TagKeys"] = keys
	}
	if keys := c.query["tagKeys"]; len(keys) > 0 && c.operation == "UntagResource" {
		cond["aws:TagKeys"] = keys
	}
	// The tags of the resource the policy is evaluated on, as AWS reads
	// them: a domain's for its ARN, a resource's own for the ARN of a
	// domain's object type, segment, … (those the tagging calls reach; the
	// others have none).
	tagged := ""
	if s.arnDomain(resource) != "" {
		tagged = resource
	} else if domain != "" {
		tagged = s.Domains.DomainARN(domain)
	}
	if tagged != "" && s.Tags != nil {
		tags, err := s.Tags.ListTagsForResource(ctx, tagged)
		switch profiles.ErrorCode(err) {
		case "":
			for k, v := range tags {
				cond["aws:ResourceTag/"+k] = []string{v}
			}
		case profiles.ENOTFOUND, profiles.EINVALID: // the operation answers for the missing domain or resource, or the bad ARN
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

// objectTypeBody is the ObjectTypeName of a body (bodyObjectType).
type objectTypeBody struct {
	ObjectTypeName *string `json:"ObjectTypeName"`
}

func (*objectTypeBody) wireMember(name []byte) (wireValue, bool) {
	return wireValue{}, string(name) == "ObjectTypeName"
}

func (*objectTypeBody) wireFolds(name []byte) bool { return foldsAny(name, "ObjectTypeName") }

// flowURI returns the Uri PutIntegration gives an integration of a flow
// put without one: the flow's ARN (arn:aws:appflow:REGION:ACCOUNT:flow/NAME,
// of the domains' region and account); "" without a FlowName.
func (s *Server) flowURI(c *call) (string, error) {
	var in PutIntegrationRequest
	if err := c.decodeBody(&in); err != nil {
		return "", err
	}
	if in.FlowDefinition == nil || deref(in.FlowDefinition.FlowName) == "" {
		return "", nil
	}
	// arn:aws:profile:REGION:ACCOUNT:domains/x
	parts := strings.SplitN(s.Domains.DomainARN("x"), ":", 6)
	if len(parts) != 6 {
		return "", nil
	}
	return "arn:aws:appflow:" + parts[3] + ":" + parts[4] + ":flow/" + deref(in.FlowDefinition.FlowName), nil
}

// integrationBody is the Uri of a body (integrationOps).
type integrationBody struct {
	Uri *string `json:"Uri"`
}

func (*integrationBody) wireMember(name []byte) (wireValue, bool) {
	return wireValue{}, string(name) == "Uri"
}

func (*integrationBody) wireFolds(name []byte) bool { return foldsAny(name, "Uri") }

// tagsBody is the Tags of a body, but TagResource's (tagKeys).
type tagsBody struct {
	Tags map[string]string `json:"Tags"`
}

func (*tagsBody) wireMember(name []byte) (wireValue, bool) {
	return wireValue{}, string(name) == "Tags"
}

func (*tagsBody) wireFolds(name []byte) bool { return foldsAny(name, "Tags") }
