package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
)

var _ profiles.IntegrationService = (*Service)(nil)

var (
	instanceARNRE = regexp.MustCompile(`^arn:aws:connect:([a-z0-9-]+):([0-9]{12}):instance/([A-Za-z0-9-]{1,100})$`)
	aliasRE       = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,61}$`)
	// sourceURIRE are the sources an integration may have (OPERATIONS.md:
	// an AppFlow flow, an Amazon Connect instance, EventBridge through
	// AppIntegrations; the model: "the URI of the S3 bucket or any other
	// type of data source"): the ARN of an AppFlow flow, of a Connect
	// instance, of an AppIntegrations event integration, of an EventBridge
	// event bus or rule, of an SQS queue; an S3 bucket as an ARN or an
	// s3:// URI.
	sourceURIRE = regexp.MustCompile(`^(arn:aws[a-z-]*:(appflow:[a-z0-9-]+:[0-9]{12}:flow/[A-Za-z0-9][\w!@#.-]*|` +
		`connect:[a-z0-9-]+:[0-9]{12}:instance/[A-Za-z0-9-]+|` +
		`app-integrations:[a-z0-9-]+:[0-9]{12}:event-integration/[A-Za-z0-9/._-]+|` +
		`events:[a-z0-9-]+:[0-9]{12}:(event-bus|rule)/[A-Za-z0-9/._-]+|` +
		`sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+(\.fifo)?|` +
		`s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?)|` +
		`s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?)$`)
)

// InstanceARN returns the ARN of a contact-center instance of the account.
func (s *Service) InstanceARN(id string) string {
	return fmt.Sprintf("arn:aws:connect:%s:%s:instance/%s", s.Region, s.AccountID, id)
}

// PutIntegration creates or replaces an integration.
func (s *Service) PutIntegration(ctx context.Context, in *profiles.Integration) (*profiles.Integration, error) {
	if in.Flow != nil {
		return s.putFlowIntegration(ctx, in)
	}
	c := *in
	c.Tags = maps.Clone(in.Tags)
	if c.URI == "" {
		return nil, profiles.Errorf(profiles.EINVALID, "Uri is required.")
	}
	if !sourceURIRE.MatchString(c.URI) {
		return nil, profiles.Errorf(profiles.EINVALID, "Uri %q is not the source of an integration: give the ARN of an Amazon AppFlow flow "+
			"(arn:aws:appflow:<region>:<account>:flow/<name>), of an Amazon Connect instance (arn:aws:connect:<region>:<account>:instance/<id>), "+
			"of an AppIntegrations event integration, of an EventBridge event bus or rule, or of an SQS queue, or an S3 bucket (s3://<bucket>).", c.URI)
	}
	if c.ObjectTypeName == "" && len(c.ObjectTypeNames) == 0 {
		return nil, profiles.Errorf(profiles.EINVALID, "ObjectTypeName or ObjectTypeNames is required.")
	}
	if err := validateTags(c.Tags); err != nil {
		return nil, err
	}
	if _, err := s.Store.FindDomain(ctx, c.DomainName); err != nil {
		return nil, domainErr(err, c.DomainName)
	}
	// An object type the domain lacks is refused naming the field that
	// names it (and the event type, in ObjectTypeNames).
	fields := map[string]string{}
	if c.ObjectTypeName != "" {
		fields["ObjectTypeName"] = c.ObjectTypeName
	}
	for event, t := range c.ObjectTypeNames {
		if t == "" {
			continue
		}
		fields[fmt.Sprintf("ObjectTypeNames[%s]", event)] = t
	}
	for _, field := range slices.Sorted(maps.Keys(fields)) {
		if _, err := s.GetObjectType(ctx, c.DomainName, fields[field]); profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, profiles.Errorf(profiles.ENOTFOUND, "%s: object type %s not found in domain %s.", field, fields[field], c.DomainName)
		} else if err != nil {
			return nil, err
		}
	}
	for _, name := range c.EventTriggerNames {
		if s.Configs == nil {
			return nil, profiles.Errorf(profiles.EINVALID, "EventTriggerNames: this server keeps no event triggers.")
		}
		if _, err := s.Configs.FindConfig(ctx, c.DomainName, profiles.ConfigEventTrigger, name); profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, profiles.Errorf(profiles.EINVALID, "EventTriggerNames: domain %s has no event trigger %s.", c.DomainName, name)
		} else if err != nil {
			return nil, err
		}
	}
	if name, ok := s.flowName(c.URI); ok {
		// The integration of a flow goes with its workflow: not in
		// another domain than the workflow's.
		if _, err := s.eachDomain(ctx, func(d *profiles.Domain) (int, error) {
			if d.Name == c.DomainName {
				return 0, nil
			}
			if _, err := s.Configs.FindConfig(ctx, d.Name, profiles.ConfigWorkflowFlow, name); err == nil {
				return 0, profiles.Errorf(profiles.ECONFLICT, "%s is the flow of a workflow of domain %s: its integration belongs there.", c.URI, d.Name)
			} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
				return 0, err
			}
			return 0, nil
		}); err != nil {
			return nil, err
		}
	}
	if m := instanceARNRE.FindStringSubmatch(c.URI); m != nil {
		if m[1] != s.Region || m[2] != s.AccountID {
			return nil, profiles.Errorf(profiles.EINVALID, "Instance %s is not in region %s of account %s.", c.URI, s.Region, s.AccountID)
		}
		if err := s.registerInstance(ctx, m[3], m[3]); err != nil {
			return nil, err
		}
	}
	now := s.now()
	c.CreatedAt, c.LastUpdatedAt = now, now
	if old, err := s.Integrations.FindIntegration(ctx, c.DomainName, c.URI); err == nil {
		c.CreatedAt = old.CreatedAt
	}
	if err := s.Integrations.PutIntegration(ctx, &c); err != nil {
		if profiles.ErrorCode(err) == profiles.ECONFLICT {
			return nil, profiles.Errorf(profiles.ECONFLICT, "%s is already associated with another domain: %s. Delete that integration first, or move it with `openprofiles instances switch`.", c.URI, profiles.ErrorMessage(err))
		}
		return nil, err
	}
	if err := s.withWorkflowID(ctx, &c); err != nil {
		return nil, err
	}
	if c.WorkflowID != "" && c.ObjectTypeName != "" {
		// The integration of a flow and its workflow ingest into one
		// object type, with one role. The caller chose where the files go:
		// they are read as the caller may read them (s3:GetObject), as
		// after replaceFlow (a run of the server itself has no principal).
		principal := profiles.PrincipalFromContext(ctx)
		err := s.changeWorkflow(ctx, c.DomainName, c.WorkflowID, func(d *workflowDoc) error {
			d.ObjectTypeName, d.RoleArn = c.ObjectTypeName, c.RoleARN
			if principal != "" {
				d.Principal = principal
			}
			return nil
		})
		if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return nil, err
		}
	}
	return &c, nil
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// registerInstance registers an instance id unless it is known.
func (s *Service) registerInstance(ctx context.Context, id, alias string) error {
	if _, err := s.Integrations.FindInstance(ctx, id); err == nil {
		return nil
	} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return err
	}
	err := s.Integrations.PutInstance(ctx, &profiles.Instance{ID: id, ARN: s.InstanceARN(id), Alias: alias, CreatedAt: s.now()})
	if profiles.ErrorCode(err) == profiles.ECONFLICT {
		return nil // registered meanwhile
	}
	return err
}

// GetIntegration returns a domain's integration.
func (s *Service) GetIntegration(ctx context.Context, domain, uri string) (*profiles.Integration, error) {
	in, err := s.Integrations.FindIntegration(ctx, domain, uri)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		if _, derr := s.Store.FindDomain(ctx, domain); derr != nil {
			return nil, domainErr(derr, domain)
		}
		return nil, profiles.Errorf(profiles.ENOTFOUND, "Integration %s not found in domain %s.", uri, domain)
	} else if err != nil {
		return nil, err
	}
	if err := s.withWorkflowID(ctx, in); err != nil {
		return nil, err
	}
	return in, nil
}

// ListIntegrations returns one page of a domain's integrations.
func (s *Service) ListIntegrations(ctx context.Context, domain string, page profiles.Page) ([]*profiles.Integration, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	scope := "ListIntegrations/" + domain
	after := ""
	if page.Token != "" {
		if after, err = s.tokens.decode(scope, page.Token); err != nil {
			return nil, "", err
		}
	}
	list, err := s.Integrations.ListIntegrations(ctx, domain, after, size+1)
	if err != nil {
		return nil, "", domainErr(err, domain)
	}
	next := ""
	if len(list) > size {
		list = list[:size]
		next = s.tokens.encode(scope, list[size-1].URI)
	}
	if err := s.withWorkflowID(ctx, list...); err != nil {
		return nil, "", err
	}
	return list, next, nil
}

// DeleteIntegration deletes an integration, and the workflow of its flow
// if it has one.
func (s *Service) DeleteIntegration(ctx context.Context, domain, uri string) error {
	in, err := s.GetIntegration(ctx, domain, uri)
	if err != nil {
		return err
	}
	if in.WorkflowID != "" {
		name, _ := s.flowName(uri)
		if err := s.deleteWorkflow(ctx, domain, in.WorkflowID, name); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
	}
	return s.Integrations.DeleteIntegration(ctx, domain, uri)
}

// ListAccountIntegrations returns the integrations of a Uri. A Uri has one
// integration at most, so its list is a single page for which no NextToken
// is ever issued: a token given is refused, as a forged one is by the other
// lists.
func (s *Service) ListAccountIntegrations(ctx context.Context, uri string, page profiles.Page) ([]*profiles.Integration, string, error) {
	if _, err := pageSize(page.MaxResults); err != nil {
		return nil, "", err
	}
	if page.Token != "" {
		return nil, "", errBadToken()
	}
	in, err := s.Integrations.FindIntegrationByURI(ctx, uri)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return []*profiles.Integration{}, "", nil
	} else if err != nil {
		return nil, "", err
	}
	if err := s.withWorkflowID(ctx, in); err != nil {
		return nil, "", err
	}
	return []*profiles.Integration{in}, "", nil
}

// CreateInstance registers a contact-center instance.
func (s *Service) CreateInstance(ctx context.Context, alias string) (*profiles.Instance, error) {
	if !aliasRE.MatchString(alias) {
		return nil, profiles.Errorf(profiles.EINVALID, "Instance alias %q must be 1 to 62 letters, digits, '_' or '-', starting with a letter or digit.", alias)
	}
	id := newUUID()
	in := &profiles.Instance{ID: id, ARN: s.InstanceARN(id), Alias: alias, CreatedAt: s.now()}
	if err := s.Integrations.PutInstance(ctx, in); err != nil {
		return nil, err
	}
	return in, nil
}

// ListInstances returns every instance with its domain.
func (s *Service) ListInstances(ctx context.Context) ([]*profiles.InstanceView, error) {
	list, err := s.Integrations.ListInstances(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*profiles.InstanceView, 0, len(list))
	for _, in := range list {
		v := &profiles.InstanceView{Instance: *in}
		if integ, err := s.Integrations.FindIntegrationByURI(ctx, in.ARN); err == nil {
			v.DomainName = integ.DomainName
		}
		out = append(out, v)
	}
	return out, nil
}

// SwitchInstance moves an instance's association to another domain.
func (s *Service) SwitchInstance(ctx context.Context, instanceARN, domain string) (*profiles.Integration, error) {
	m := instanceARNRE.FindStringSubmatch(instanceARN)
	if m == nil {
		return nil, profiles.Errorf(profiles.EINVALID, "%q is not a contact-center instance ARN (arn:aws:connect:REGION:ACCOUNT:instance/ID).", instanceARN)
	}
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return nil, domainErr(err, domain)
	}
	in, err := s.Integrations.FindIntegrationByURI(ctx, instanceARN)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		// Not associated yet: associate it with the CTR template.
		return s.PutIntegration(ctx, &profiles.Integration{DomainName: domain, URI: instanceARN, ObjectTypeName: "CTR"})
	} else if err != nil {
		return nil, err
	}
	if in.DomainName == domain {
		return in, nil
	}
	// The integration moves with its object types: the new domain must
	// have them (or they must be templates), else every record would fail.
	for _, t := range append([]string{in.ObjectTypeName}, mapValues(in.ObjectTypeNames)...) {
		if t == "" {
			continue
		}
		if _, err := s.GetObjectType(ctx, domain, t); profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, profiles.Errorf(profiles.EINVALID, "Instance %s sends its contact records as object type %s, which domain %s does not have: create it there (PutProfileObjectType, e.g. with --template-id CTR), or associate the instance anew with PutIntegration.", instanceARN, t, domain)
		} else if err != nil {
			return nil, err
		}
	}
	return s.Integrations.MoveIntegration(ctx, instanceARN, domain)
}

// InstanceIntegration returns the integration of an instance's domain.
func (s *Service) InstanceIntegration(ctx context.Context, instanceID string) (*profiles.Integration, error) {
	in, err := s.Integrations.FindIntegrationByURI(ctx, s.InstanceARN(instanceID))
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "Instance %s is associated with no Customer Profiles domain: associate it with PutIntegration (Uri = its ARN, ObjectTypeName CTR).", s.InstanceARN(instanceID))
	}
	return in, err
}

// newUUID returns a random UUID (version 4).
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToLower(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
}
