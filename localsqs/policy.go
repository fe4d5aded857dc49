package localsqs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
)

// ServiceSid is the Sid of the statement of ServicePolicyStatement, as the
// product brief names it.
const ServiceSid = "Customer Profiles SQS policy"

// ServicePolicyStatement returns the policy statement that lets Customer
// Profiles (profile.amazonaws.com) send to the queue: the statement of the
// product brief, filled in, with the conditions that scope it to the
// domains of the account in the region (aws:SourceAccount, aws:SourceArn)
// against the confused-deputy problem:
//
//	{ "Sid": "Customer Profiles SQS policy", "Effect": "Allow", "Principal": { "Service": "profile.amazonaws.com" }, "Action": "SQS:SendMessage", "Resource": "arn:aws:sqs:REGION:ACCOUNT:NAME", "Condition": { "StringEquals": { "aws:SourceAccount": "ACCOUNT" }, "ArnLike": { "aws:SourceArn": "arn:aws:profile:REGION:ACCOUNT:domains/*" } } }
func ServicePolicyStatement(region, accountID, queueName string) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return `{ "Sid": "` + ServiceSid + `", "Effect": "Allow", "Principal": { "Service": "` + profiles.ServicePrincipal + `" }, ` +
		`"Action": "SQS:SendMessage", "Resource": ` + q("arn:aws:sqs:"+region+":"+accountID+":"+queueName) + `, ` +
		`"Condition": { "StringEquals": { "aws:SourceAccount": ` + q(accountID) + ` }, ` +
		`"ArnLike": { "aws:SourceArn": ` + q("arn:aws:profile:"+region+":"+accountID+":domains/*") + ` } } }`
}

// ServicePolicy returns a whole queue policy made of the statement of
// ServicePolicyStatement, for a queue that Customer Profiles only writes to.
func ServicePolicy(region, accountID, queueName string) string {
	return `{ "Version": "2012-10-17", "Statement": [ ` + ServicePolicyStatement(region, accountID, queueName) + ` ] }`
}

// checkService returns nil when the queue's policy lets the service
// principal sqs:SendMessage to the queue for sourceARN of sourceAccount,
// and AccessDenied (EFORBIDDEN) giving the statement to add otherwise.
func (s *SQS) checkService(q *profiles.Queue, sourceAccount, sourceARN string) error {
	add := "Add this statement to the queue's access policy: " + ServicePolicyStatement(s.Region, s.AccountID, q.Name)
	doc := q.Attributes[AttrPolicy]
	if doc == "" {
		return accessDeniedf("The queue %s has no access policy, so %s may not SQS:SendMessage to it for %s. %s",
			q.ARN, profiles.ServicePrincipal, sourceARN, add)
	}
	pol, err := iam.Parse([]byte(doc))
	if err != nil {
		return fmt.Errorf("localsqs: queue %s: stored policy: %w", q.ARN, err)
	}
	r := &iam.Request{Principal: profiles.ServicePrincipal, Action: "sqs:SendMessage", Resource: q.ARN,
		Context: map[string][]string{"aws:SourceAccount": {sourceAccount}, "aws:SourceArn": {sourceARN}}}
	if ok, _ := iam.Authorize(r, nil, []*iam.Policy{pol}); !ok {
		return accessDeniedf("The access policy of queue %s does not allow %s SQS:SendMessage for %s (account %s). %s",
			q.ARN, profiles.ServicePrincipal, sourceARN, sourceAccount, add)
	}
	return nil
}

// parsePolicy parses a queue policy given to CreateQueue or
// SetQueueAttributes. Returns InvalidAttributeValue (EINVALID).
func parsePolicy(doc string) (*iam.Policy, error) {
	pol, err := iam.ParseResourcePolicy([]byte(doc))
	if err != nil {
		return nil, sqsErrorf(ExInvalidAttributeValue, profiles.EINVALID, "Invalid value for the parameter Policy. Reason: %v", err)
	}
	return pol, nil
}

// caller is who calls the SQS API, and the identity check of the server.
type caller struct {
	principal string
	authorize Authorize
	base      string              // scheme://host the request came to
	context   map[string][]string // condition keys of the request
}

// Authorize decides whether principal may do action on resource by the
// identity policies, given the request's condition keys (aws:SourceIp,
// aws:CurrentTime, …); it returns an EFORBIDDEN error to refuse.
type Authorize func(ctx context.Context, principal, action, resource string, cond map[string][]string) error

// allow authorises the caller's action (sqs:<Op>) on a queue (nil: the
// resource "*"), as SQS does within an account: an explicit Deny of the
// queue's policy refuses; else the caller's identity policies (the
// authorize callback) allow; else an Allow of the queue's policy that
// names the caller (not only the caller's account, which delegates to the
// identity policies) allows. A nil authorize allows whatever the queue's
// policy does not deny. Returns authorize's error, or AccessDenied
// (EFORBIDDEN).
func (s *SQS) allow(ctx context.Context, c *caller, action string, q *profiles.Queue) error {
	resource := "*"
	if q != nil {
		resource = q.ARN
	}
	var denied error
	if c.authorize != nil {
		denied = c.authorize(ctx, c.principal, action, resource, c.context)
		if denied != nil && profiles.ErrorCode(denied) != profiles.EFORBIDDEN {
			return denied
		}
	}
	if q == nil || q.Attributes[AttrPolicy] == "" {
		return denied
	}
	pol, err := iam.Parse([]byte(q.Attributes[AttrPolicy]))
	if err != nil {
		return fmt.Errorf("localsqs: queue %s: stored policy: %w", q.ARN, err)
	}
	r := &iam.Request{Principal: c.principal, Action: action, Resource: q.ARN, Context: c.context}
	if pol.Evaluate(r) == iam.Deny {
		return accessDeniedf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in a resource-based policy",
			c.principal, action, q.ARN)
	}
	if denied == nil {
		return nil
	}
	if ok, _ := iam.Authorize(r, nil, []*iam.Policy{pol}); ok {
		return nil
	}
	return denied
}
