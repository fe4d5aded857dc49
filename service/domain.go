package service

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
)

// Rules of the model that every transport must honour, checked here too so
// that callers other than the AWS API (the web console, the CLI) get them.
var (
	domainNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	dayOfWeek    = []string{"SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"}
)

const (
	maxExpirationDays = 1098
	maxTags           = 50
	defaultPageSize   = 100
	maxPageSize       = 100
)

// CreateDomain creates a domain.
func (s *Service) CreateDomain(ctx context.Context, d *profiles.Domain) (*profiles.Domain, error) {
	if err := validateDomainName(d.Name); err != nil {
		return nil, err
	}
	d = cloneDomain(d)
	if err := validateSettings(d); err != nil {
		return nil, err
	}
	if err := validateRules(d.RuleBasedMatching, d.Name); err != nil {
		return nil, err
	}
	if err := validateMatching(d.Matching, d.Name); err != nil {
		return nil, err
	}
	if err := validateTags(d.Tags); err != nil {
		return nil, err
	}
	if err := s.checkKey(ctx, d.DefaultEncryptionKey, s.DomainARN(d.Name), "DefaultEncryptionKey"); err != nil {
		return nil, err
	}
	if err := s.checkQueue(ctx, d.DeadLetterQueueURL, d.Name); err != nil {
		return nil, err
	}
	now := s.now()
	d.CreatedAt, d.LastUpdatedAt = now, now
	setStatuses(d, nil)
	err := s.Store.CreateDomain(ctx, d, s.maxDomains())
	if profiles.ErrorCode(err) == profiles.ECONFLICT {
		// A domain of that name being deleted: its purge finishes
		// first, if it can within DomainPurgeWait; the new domain never
		// sees the old one's data.
		if gone, ferr := s.finishPurge(ctx, d.Name); ferr != nil {
			return nil, ferr
		} else if !gone {
			return nil, errStillDeleting(d.Name)
		}
		err = s.Store.CreateDomain(ctx, d, s.maxDomains())
	}
	if err != nil {
		switch profiles.ErrorCode(err) {
		case profiles.ECONFLICT:
			return nil, profiles.Errorf(profiles.ECONFLICT, "Domain %s already exists.", d.Name)
		case profiles.EQUOTA:
			return nil, profiles.Errorf(profiles.EQUOTA, "The account already has the maximum number of domains (%d).", s.maxDomains())
		}
		return nil, err
	}
	return d, nil
}

// GetDomain returns a domain and its statistics.
func (s *Service) GetDomain(ctx context.Context, name string) (*profiles.Domain, *profiles.DomainStats, error) {
	d, err := s.Store.FindDomain(ctx, name)
	if err != nil {
		return nil, nil, domainErr(err, name)
	}
	st, err := s.Store.DomainStats(ctx, name)
	if err != nil {
		return nil, nil, domainErr(err, name)
	}
	return d, st, nil
}

// UpdateDomain changes what upd sends and leaves the rest.
func (s *Service) UpdateDomain(ctx context.Context, name string, upd *profiles.DomainUpdate) (*profiles.Domain, error) {
	if err := validateTags(upd.Tags); err != nil {
		return nil, err
	}
	if upd.DefaultEncryptionKey != nil {
		if err := s.checkKey(ctx, *upd.DefaultEncryptionKey, s.DomainARN(name), "DefaultEncryptionKey"); err != nil {
			return nil, err
		}
	}
	if upd.DeadLetterQueueURL != nil {
		if err := s.checkQueue(ctx, *upd.DeadLetterQueueURL, name); err != nil {
			return nil, err
		}
	}
	defer s.crypt.forget(name)
	defer s.domains.forget(name)
	d, err := s.Store.UpdateDomain(ctx, name, func(d *profiles.Domain) error {
		var prev *profiles.RuleBasedMatchingSettings
		if d.RuleBasedMatching != nil {
			c := *d.RuleBasedMatching
			prev = &c
		}
		if upd.DefaultExpirationDays != nil {
			d.DefaultExpirationDays = *upd.DefaultExpirationDays
		}
		if upd.DefaultEncryptionKey != nil {
			d.DefaultEncryptionKey = *upd.DefaultEncryptionKey
		}
		if upd.DeadLetterQueueURL != nil {
			d.DeadLetterQueueURL = *upd.DeadLetterQueueURL
		}
		if upd.Matching != nil {
			if err := validateMatching(upd.Matching, name); err != nil {
				return err
			}
			d.Matching = upd.Matching
		}
		if upd.RuleBasedMatching != nil {
			if err := validateRules(upd.RuleBasedMatching, name); err != nil {
				return err
			}
			d.RuleBasedMatching = upd.RuleBasedMatching
		}
		if upd.DataStore != nil {
			d.DataStore = upd.DataStore
		}
		if len(upd.Tags) > 0 && d.Tags == nil {
			d.Tags = map[string]string{}
		}
		for k, v := range upd.Tags {
			d.Tags[k] = v
		}
		if len(d.Tags) > maxTags {
			return profiles.Errorf(profiles.EQUOTA, "A resource can have at most %d tags.", maxTags)
		}
		if err := validateSettings(d); err != nil {
			return err
		}
		setStatuses(d, prev)
		d.LastUpdatedAt = s.now()
		return nil
	})
	if err != nil {
		return nil, domainErr(err, name)
	}
	return d, nil
}

// ListDomains returns one page of domains in name order.
func (s *Service) ListDomains(ctx context.Context, page profiles.Page) ([]*profiles.Domain, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if page.Token != "" {
		if after, err = s.tokens.decode("ListDomains", page.Token); err != nil {
			return nil, "", err
		}
	}
	ds, err := s.Store.ListDomains(ctx, after, size+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ds) > size {
		ds = ds[:size]
		next = s.tokens.encode("ListDomains", ds[size-1].Name)
	}
	return ds, next, nil
}

// ObjectTypeARN returns the ARN of an object type (as IAM policies, tags
// and key policies' aws:SourceArn name it).
func (s *Service) ObjectTypeARN(domain, objectType string) string {
	return s.DomainARN(domain) + "/object-types/" + objectType
}

// checkKey makes sure the service may use a KMS key for the resource arn:
// the key exists, is enabled and its policy lets the service principal use
// it. An empty key id is the service's default key. Returns EINVALID
// saying what is missing.
func (s *Service) checkKey(ctx context.Context, keyID, arn, field string) error {
	if keyID == "" || s.Keys == nil {
		return nil
	}
	md, err := s.Keys.DescribeKey(ctx, keyID)
	switch profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return profiles.Errorf(profiles.EINVALID, "%s %s: no such KMS key in region %s.", field, keyID, s.Region)
	case profiles.EFORBIDDEN:
		return profiles.Errorf(profiles.EINVALID, "%s %s cannot be used: %s", field, keyID, profiles.ErrorMessage(err))
	default:
		return err
	}
	if md.State != "Enabled" {
		return profiles.Errorf(profiles.EINVALID, "%s %s is %s; it must be Enabled.", field, md.ARN, md.State)
	}
	if err := s.Keys.CheckServiceAccess(ctx, keyID, s.AccountID, arn); err != nil {
		if profiles.ErrorCode(err) == profiles.EFORBIDDEN {
			return profiles.Errorf(profiles.EINVALID, "%s %s: %s", field, md.ARN, profiles.ErrorMessage(err))
		}
		return err
	}
	return nil
}

// DomainARN returns the ARN of the named domain.
func (s *Service) DomainARN(name string) string {
	return fmt.Sprintf("arn:aws:profile:%s:%s:domains/%s", s.Region, s.AccountID, name)
}

func pageSize(n int) (int, error) { return pageSizeUpTo(n, maxPageSize) }

// pageSizeUpTo is pageSize for a list whose pages may hold up to max items
// (the model's MaxSize500 lists: segment definitions, upload jobs).
func pageSizeUpTo(n, max int) (int, error) {
	switch {
	case n == 0:
		return defaultPageSize, nil
	case n < 0 || n > max:
		return 0, profiles.Errorf(profiles.EINVALID, "MaxResults must be between 1 and %d.", max)
	}
	return n, nil
}

// domainErr words a store's ENOTFOUND as AWS does; other errors pass.
func domainErr(err error, name string) error {
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return profiles.Errorf(profiles.ENOTFOUND, "Domain %s not found.", name)
	}
	return err
}

func validateDomainName(name string) error {
	if !domainNameRE.MatchString(name) {
		return profiles.Errorf(profiles.EINVALID, "DomainName %q must be 1 to 64 letters, digits, '_' or '-'.", name)
	}
	return nil
}

func validateSettings(d *profiles.Domain) error {
	if d.DefaultExpirationDays < 1 || d.DefaultExpirationDays > maxExpirationDays {
		return profiles.Errorf(profiles.EINVALID, "DefaultExpirationDays must be between 1 and %d.", maxExpirationDays)
	}
	if u := d.DeadLetterQueueURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return profiles.Errorf(profiles.EINVALID, "DeadLetterQueueUrl %q is not an SQS queue URL.", u)
	}
	if m := d.Matching; m != nil && m.JobSchedule != nil {
		if !slices.Contains(dayOfWeek, m.JobSchedule.DayOfTheWeek) {
			return profiles.Errorf(profiles.EINVALID, "Matching.JobSchedule.DayOfTheWeek must be one of %s.", strings.Join(dayOfWeek, ", "))
		}
	}
	if m := d.Matching; m != nil && m.AutoMerging != nil && m.AutoMerging.Enabled {
		if err := checkMergeSettings(m.AutoMerging); err != nil {
			return profiles.Errorf(profiles.EINVALID, "Matching.AutoMerging: %s", profiles.ErrorMessage(err))
		}
	}
	return nil
}

// validateMatching checks Matching as a request gives it, beyond
// validateSettings: its ExportingConfig, the attributes of an enabled AutoMerging's
// Consolidation (a domain stored before this check keeps its settings
// until they are set again).
func validateMatching(m *profiles.MatchingSettings, domain string) error {
	if m == nil {
		return nil
	}
	if err := checkExporting(m.ExportingConfig, domain); err != nil {
		return profiles.Errorf(profiles.EINVALID, "Matching.%s", profiles.ErrorMessage(err))
	}
	if m.AutoMerging == nil || !m.AutoMerging.Enabled {
		return nil
	}
	if err := checkAutoMerging(m.AutoMerging); err != nil {
		return profiles.Errorf(profiles.EINVALID, "Matching.AutoMerging: %s", profiles.ErrorMessage(err))
	}
	return nil
}

// validateRules checks RuleBasedMatching as a request gives it (a domain
// stored before these checks keeps its rules until they are set again).
func validateRules(r *profiles.RuleBasedMatchingSettings, domain string) error {
	if r == nil {
		return nil
	}
	if err := checkRuleBasedMatching(r); err != nil {
		return profiles.Errorf(profiles.EINVALID, "RuleBasedMatching.%s", profiles.ErrorMessage(err))
	}
	if err := checkExporting(r.ExportingConfig, domain); err != nil {
		return profiles.Errorf(profiles.EINVALID, "RuleBasedMatching.%s", profiles.ErrorMessage(err))
	}
	return nil
}

// ruleAttributes are the attributes a matching rule may compare, besides
// Attributes.<name> (the model's MatchingRule).
var ruleAttributes = []string{"AccountNumber", "Address.Address", "Address.City", "Address.Country", "Address.County",
	"Address.PostalCode", "Address.State", "Address.Province", "BirthDate", "BusinessName", "EmailAddress", "FirstName",
	"Gender", "LastName", "MiddleName", "PhoneNumber"}

// checkRuleBasedMatching checks the rules' attributes, ConflictResolution
// (SOURCE needs a SourceName) and the fields AttributeTypesSelector names;
// the error names the member at fault.
func checkRuleBasedMatching(r *profiles.RuleBasedMatchingSettings) error {
	if r.Enabled && len(r.MatchingRules) == 0 {
		return profiles.Errorf(profiles.EINVALID, "MatchingRules must hold at least one rule when Enabled is true.")
	}
	for i, rule := range r.MatchingRules {
		for j, attr := range rule {
			if !slices.Contains(ruleAttributes, attr) && (!strings.HasPrefix(attr, "Attributes.") || attr == "Attributes.") {
				return profiles.Errorf(profiles.EINVALID, "MatchingRules[%d].Rule[%d]: %q is not an attribute a rule may compare: one of %s, or Attributes.<name>.",
					i, j, attr, strings.Join(ruleAttributes, ", "))
			}
		}
	}
	if err := checkConflictResolution(r.ConflictResolution); err != nil {
		return err
	}
	sel := r.AttributeTypesSelector
	if sel == nil {
		return nil
	}
	for _, list := range []struct {
		member  string
		names   []string
		allowed []string
	}{
		{"Address", sel.Address, append(slices.Clone(profiles.AddressKinds), "MaillingAddress", "BusinessAddress")}, // the two as the documentation names them (addressKind)
		{"PhoneNumber", sel.PhoneNumber, phoneFields},
		{"EmailAddress", sel.EmailAddress, emailFields},
	} {
		for i, name := range list.names {
			if !slices.Contains(list.allowed, name) {
				return profiles.Errorf(profiles.EINVALID, "AttributeTypesSelector.%s[%d]: %q is not one of %s.", list.member, i, name, strings.Join(list.allowed, ", "))
			}
		}
	}
	return nil
}

func validateTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return profiles.Errorf(profiles.EQUOTA, "A resource can have at most %d tags.", maxTags)
	}
	for k, v := range tags {
		switch {
		case k == "" || len(k) > 128:
			return profiles.Errorf(profiles.EINVALID, "Tag key %q must be 1 to 128 characters.", k)
		case strings.HasPrefix(k, "aws:"):
			return profiles.Errorf(profiles.EINVALID, "Tag key %q: the prefix 'aws:' is reserved.", k)
		case len(v) > 256:
			return profiles.Errorf(profiles.EINVALID, "The value of tag %q is longer than 256 characters.", k)
		}
	}
	return nil
}

// setStatuses fills the fields the service owns, from the domain's
// previous rule-based settings (nil for a new domain): a rule-based
// matching that is on is ACTIVE (match groups are computed when asked),
// but one that merges (rulemerge.go) is PENDING from a change of its
// settings until the sweep's first merge pass under them (which makes it
// IN_PROGRESS, then ACTIVE); settings sent again unchanged keep the
// status.
func setStatuses(d *profiles.Domain, prev *profiles.RuleBasedMatchingSettings) {
	r := d.RuleBasedMatching
	switch {
	case r == nil:
	case !r.Enabled:
		r.Status = ""
	case ruleMergeLevel(r) == 0:
		r.Status = "ACTIVE"
	case prev != nil && prev.Status != "" && ruleSettingsKey(d.CreatedAt, prev) == ruleSettingsKey(d.CreatedAt, r):
		r.Status = prev.Status
	default:
		r.Status = "PENDING"
	}
}

func cloneDomain(d *profiles.Domain) *profiles.Domain {
	c := *d
	c.Tags = maps.Clone(d.Tags)
	return &c
}
