package awsapi

import (
	"context"
	"net/url"
	"strings"

	"github.com/openprofiles/profiles"
)

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
// credentials); s3:PutObject on the objects identity resolution writes
// when it sets Matching's or RuleBasedMatching's ExportingConfig
// (arn:aws:s3:::BUCKET/PREFIX/DOMAIN/*, written with the server's
// credentials too); for UpdateDomain, kms:Decrypt on the domain's current key
// when it sets a queue or another key (records sealed under the old key
// stay readable by the new key's decrypters: only one who may read them
// now may do that) or an ExportingConfig (the match groups GetMatches and
// ListRuleBasedMatches answer only with it go to the bucket in the
// clear), and kms:GenerateDataKey on a new key.
func (s *Server) domainDestinations(ctx context.Context, c *call, domain string) ([][2]string, error) {
	var queue, key *string
	var exports []*ExportingConfig // where identity resolution writes its results
	switch c.operation {
	case "PutProfileObjectType":
		return s.objectTypeKeyChange(ctx, c, domain)
	case "CreateDomain":
		var in CreateDomainRequest
		if err := c.decodeBody(&in); err != nil {
			return nil, err
		}
		queue, key = in.DeadLetterQueueUrl, in.DefaultEncryptionKey
		exports = domainExports(in.Matching, in.RuleBasedMatching)
	case "UpdateDomain":
		var in UpdateDomainRequest
		if err := c.decodeBody(&in); err != nil {
			return nil, err
		}
		queue, key = in.DeadLetterQueueUrl, in.DefaultEncryptionKey
		exports = domainExports(in.Matching, in.RuleBasedMatching)
	default:
		return nil, nil
	}
	var out [][2]string
	if deref(queue) != "" {
		out = append(out, [2]string{"sqs:SendMessage", queueARN(s.Region, *queue)})
	}
	exporting := false // the domain's match groups go to S3 in the clear
	for _, e := range exports {
		// Identity resolution writes its results to
		// BUCKET/PREFIX/DOMAIN/JOB_ID/matches.jsonl (Matching's jobs) and
		// BUCKET/PREFIX/DOMAIN/rule-based/matches.jsonl.
		if e != nil && e.S3Exporting != nil && deref(e.S3Exporting.S3BucketName) != "" {
			objects := strings.TrimPrefix(strings.Trim(deref(e.S3Exporting.S3KeyName), "/")+"/"+domain+"/*", "/")
			out = append(out, [2]string{"s3:PutObject", "arn:aws:s3:::" + *e.S3Exporting.S3BucketName + "/" + objects})
			exporting = true
		}
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
	if deref(queue) == "" && key == nil && !exporting {
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
	if current != "" && (deref(queue) != "" || changesKey || exporting) {
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
		keys, err := s.Domains.ObjectTypeKeyARNs(ctx, domain, types)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			out = append(out, [2]string{"kms:Decrypt", k})
		}
	}
	return out, nil
}

// domainExports returns the ExportingConfigs of a domain's settings.
func domainExports(m *MatchingRequest, r *RuleBasedMatchingRequest) []*ExportingConfig {
	var out []*ExportingConfig
	if m != nil {
		out = append(out, m.ExportingConfig)
	}
	if r != nil {
		out = append(out, r.ExportingConfig)
	}
	return out
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
