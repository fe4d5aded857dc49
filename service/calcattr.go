package service

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

var _ profiles.CalculatedAttributeService = (*Service)(nil)

// calcDoc is what a calculated attribute's config holds; its domain, name
// and times are the config's.
type calcDoc struct {
	DisplayName       string                   `json:"displayName,omitempty"`
	Description       string                   `json:"description,omitempty"`
	Attributes        []string                 `json:"attributes"`
	Expression        string                   `json:"expression"`
	Statistic         string                   `json:"statistic"`
	Conditions        *profiles.CalcConditions `json:"conditions,omitempty"`
	Filter            *profiles.CalcFilter     `json:"filter,omitempty"`
	UseHistoricalData bool                     `json:"useHistoricalData,omitempty"`
	Tags              map[string]string        `json:"tags,omitempty"`
}

// CreateCalculatedAttribute validates a definition against the domain's
// object type and stores it.
func (s *Service) CreateCalculatedAttribute(ctx context.Context, a *profiles.CalculatedAttribute) (*profiles.CalculatedAttribute, error) {
	if err := checkNewConditions(a.Conditions); err != nil {
		return nil, err
	}
	if _, err := s.calcPlan(ctx, a); err != nil {
		return nil, err
	}
	doc := calcDoc{DisplayName: a.DisplayName, Description: a.Description, Attributes: a.Attributes, Expression: a.Expression,
		Statistic: a.Statistic, Conditions: a.Conditions, Filter: a.Filter, UseHistoricalData: a.UseHistoricalData, Tags: a.Tags}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: a.DomainName, Kind: profiles.ConfigCalculatedAttribute, Name: a.Name, Data: data}
	switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxCalculatedAttributesPerDomain); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, a.DomainName)
	case profiles.ECONFLICT:
		return nil, profiles.Errorf(profiles.EINVALID, "Calculated attribute %s already exists in domain %s.", a.Name, a.DomainName)
	case profiles.EQUOTA:
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d calculated attributes, the most it may have.", a.DomainName, profiles.MaxCalculatedAttributesPerDomain)
	default:
		return nil, err
	}
	return calcFromConfig(c)
}

// GetCalculatedAttribute returns a definition.
func (s *Service) GetCalculatedAttribute(ctx context.Context, domain, name string) (*profiles.CalculatedAttribute, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigCalculatedAttribute, name)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Calculated attribute", name)
	}
	return calcFromConfig(c)
}

// UpdateCalculatedAttribute changes the display name, description or
// conditions of a definition (what the API lets change).
func (s *Service) UpdateCalculatedAttribute(ctx context.Context, domain, name string, u profiles.CalculatedAttributeUpdate) (*profiles.CalculatedAttribute, error) {
	if u.Conditions != nil {
		if err := checkNewConditions(u.Conditions); err != nil {
			return nil, err
		}
		// The new conditions are checked with the definition they join.
		a, err := s.GetCalculatedAttribute(ctx, domain, name)
		if err != nil {
			return nil, err
		}
		a.Conditions = u.Conditions
		if _, err := s.calcPlan(ctx, a); err != nil {
			return nil, err
		}
	}
	c, err := s.Configs.UpdateConfig(ctx, domain, profiles.ConfigCalculatedAttribute, name, func(c *profiles.DomainConfig) error {
		var doc calcDoc
		if err := json.Unmarshal(c.Data, &doc); err != nil {
			return fmt.Errorf("calculated attribute %s: %w", name, err)
		}
		set(&doc.DisplayName, u.DisplayName)
		set(&doc.Description, u.Description)
		if u.Conditions != nil {
			doc.Conditions = u.Conditions
		}
		data, err := json.Marshal(doc)
		c.Data = data
		return err
	})
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Calculated attribute", name)
	}
	return calcFromConfig(c)
}

// DeleteCalculatedAttribute deletes a definition.
func (s *Service) DeleteCalculatedAttribute(ctx context.Context, domain, name string) error {
	return s.configErr(ctx, s.Configs.DeleteConfig(ctx, domain, profiles.ConfigCalculatedAttribute, name), domain, "Calculated attribute", name)
}

// ListCalculatedAttributes returns one page of a domain's definitions, by
// name.
func (s *Service) ListCalculatedAttributes(ctx context.Context, domain string, page profiles.Page) ([]*profiles.CalculatedAttribute, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigCalculatedAttribute, "ListCalculatedAttributeDefinitions", page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*profiles.CalculatedAttribute, len(list))
	for i, c := range list {
		if out[i], err = calcFromConfig(c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// CalculatedObjectTypes returns the object types the named calculated
// attribute is computed from, or with name "", those of every attribute
// of the domain, each once. A missing domain or attribute has none.
func (s *Service) CalculatedObjectTypes(ctx context.Context, domain, name string) ([]string, error) {
	if name != "" {
		a, err := s.GetCalculatedAttribute(ctx, domain, name)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		if t := a.ObjectTypeName(); t != "" {
			return []string{t}, nil
		}
		return nil, nil
	}
	return s.calculatedTypesOf(ctx, domain, func(*profiles.CalculatedAttribute) bool { return true })
}

// calculatedTypesOf returns the object types that the domain's calculated
// attributes of which keep is true are computed from, each once, in the
// order of the list; a missing domain has none.
func (s *Service) calculatedTypesOf(ctx context.Context, domain string, keep func(*profiles.CalculatedAttribute) bool) ([]string, error) {
	var types []string
	for page := (profiles.Page{MaxResults: 100}); ; {
		list, next, err := s.ListCalculatedAttributes(ctx, domain, page)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		for _, a := range list {
			if t := a.ObjectTypeName(); t != "" && keep(a) && !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
		if next == "" {
			return types, nil
		}
		page.Token = next
	}
}

// listConfigs returns one page of a domain's configs of one kind, by name;
// op scopes the paging tokens.
func (s *Service) listConfigs(ctx context.Context, domain, kind, op string, page profiles.Page) ([]*profiles.DomainConfig, string, error) {
	return s.listConfigsUpTo(ctx, domain, kind, op, page, maxPageSize)
}

// listConfigsUpTo is listConfigs with pages of up to max configs.
func (s *Service) listConfigsUpTo(ctx context.Context, domain, kind, op string, page profiles.Page, max int) ([]*profiles.DomainConfig, string, error) {
	size, err := pageSizeUpTo(page.MaxResults, max)
	if err != nil {
		return nil, "", err
	}
	scope := op + "/" + domain
	after := ""
	if page.Token != "" {
		if after, err = s.tokens.decode(scope, page.Token); err != nil {
			return nil, "", err
		}
	}
	list, err := s.Configs.ListConfigs(ctx, domain, kind, after, size+1)
	if err != nil {
		return nil, "", domainErr(err, domain)
	}
	next := ""
	if len(list) > size {
		list = list[:size]
		next = s.tokens.encode(scope, list[size-1].Name)
	}
	return list, next, nil
}

func calcFromConfig(c *profiles.DomainConfig) (*profiles.CalculatedAttribute, error) {
	var doc calcDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("calculated attribute %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	return &profiles.CalculatedAttribute{DomainName: c.DomainName, Name: c.Name, DisplayName: doc.DisplayName, Description: doc.Description,
		Attributes: doc.Attributes, Expression: doc.Expression, Statistic: doc.Statistic, Conditions: doc.Conditions, Filter: doc.Filter,
		UseHistoricalData: doc.UseHistoricalData, Tags: doc.Tags, CreatedAt: c.CreatedAt, LastUpdatedAt: c.LastUpdatedAt}, nil
}

// calcPlan is a definition checked against its object type, ready to
// compute with.
type calcPlan struct {
	a         *profiles.CalculatedAttribute
	t         *profiles.ObjectType
	fields    []string // the expression's fields: one, or two with op
	op        byte     // '+', '-', '*', '/'; 0 for one field
	tsPath    string   // the object path of Conditions.Range.TimestampSource; "" for none
	threshold float64  // Conditions.Threshold.Value as a number, when numeric
	numericTh bool
}

var (
	calcRefRE  = regexp.MustCompile(`^\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_.-]+)\}$`)
	calcExprRE = regexp.MustCompile(`^\s*(\{[^{}]+\})\s*(?:([-+*/])\s*(\{[^{}]+\})\s*)?$`)
)

// calcPlan checks a definition: its expression reads one or two fields
// (listed in Attributes) of one object type of the domain, and its
// conditions and filter are well formed. It reads the object type.
func (s *Service) calcPlan(ctx context.Context, a *profiles.CalculatedAttribute) (*calcPlan, error) {
	bad := func(format string, args ...any) error { return profiles.Errorf(profiles.EINVALID, format, args...) }
	m := calcExprRE.FindStringSubmatch(a.Expression)
	if m == nil {
		return nil, bad("Expression %q must be {ObjectTypeName.AttributeName}, or two of them joined by +, -, * or /.", a.Expression)
	}
	p := &calcPlan{a: a}
	typeName := ""
	for _, ref := range []string{m[1], m[3]} {
		if ref == "" {
			continue
		}
		r := calcRefRE.FindStringSubmatch(ref)
		if r == nil {
			return nil, bad("Expression: %s must be {ObjectTypeName.AttributeName}.", ref)
		}
		if typeName != "" && r[1] != typeName {
			return nil, bad("Expression reads object types %s and %s: a calculated attribute reads one object type.", typeName, r[1])
		}
		typeName = r[1]
		p.fields = append(p.fields, r[2])
	}
	if m[2] != "" {
		p.op = m[2][0]
	}
	if len(a.Attributes) == 0 || len(a.Attributes) > 2 {
		return nil, bad("AttributeDetails.Attributes must list the one or two attributes the expression reads; it lists %d.", len(a.Attributes))
	}
	listed := make([]string, len(a.Attributes))
	for i, name := range a.Attributes {
		listed[i] = strings.TrimPrefix(name, typeName+".")
	}
	for _, f := range p.fields {
		if !slices.Contains(listed, f) {
			return nil, bad("Expression reads %s.%s, which AttributeDetails.Attributes does not list.", typeName, f)
		}
	}
	for _, f := range listed {
		if !slices.Contains(p.fields, f) {
			return nil, bad("AttributeDetails.Attributes lists %s, which the expression does not read.", f)
		}
	}
	if !slices.Contains([]string{profiles.StatisticFirstOccurrence, profiles.StatisticLastOccurrence, profiles.StatisticCount, profiles.StatisticSum,
		profiles.StatisticMinimum, profiles.StatisticMaximum, profiles.StatisticAverage, profiles.StatisticMaxOccurrence}, a.Statistic) {
		return nil, bad("Statistic %q is not one of FIRST_OCCURRENCE, LAST_OCCURRENCE, COUNT, SUM, MINIMUM, MAXIMUM, AVERAGE, MAX_OCCURRENCE.", a.Statistic)
	}

	if _, err := s.Store.FindDomain(ctx, a.DomainName); err != nil {
		return nil, domainErr(err, a.DomainName)
	}
	err := s.Store.View(ctx, func(tx profiles.Tx) error {
		var err error
		p.t, err = s.findObjectType(ctx, tx, a.DomainName, typeName)
		return err
	})
	if isTypeNotFound(err) {
		return nil, bad("Expression reads object type %s, which domain %s does not have.", typeName, a.DomainName)
	} else if err != nil {
		return nil, err
	}
	for _, f := range listed {
		if _, ok := p.t.Fields[f]; !ok {
			return nil, bad("Object type %s has no attribute (field) %s.", typeName, f)
		}
	}
	if err := p.checkConditions(); err != nil {
		return nil, err
	}
	if err := p.checkFilter(); err != nil {
		return nil, err
	}
	return p, nil
}

// MaxCalcObjectCount is the largest Conditions.ObjectCount AWS accepts
// (its API reference; the model states only the minimum, 1).
const MaxCalcObjectCount = 100

// checkNewConditions holds conditions a request sets (a new definition, or
// UpdateCalculatedAttributeDefinition's) to MaxCalcObjectCount. It is not
// part of checkConditions, which every read runs: a definition stored
// before the maximum was enforced keeps its larger ObjectCount, and its
// values and the segments on it, until its conditions are changed.
func checkNewConditions(c *profiles.CalcConditions) error {
	if c != nil && c.ObjectCount > MaxCalcObjectCount {
		return objectCountErr(c.ObjectCount)
	}
	return nil
}

func objectCountErr(n int) error {
	return profiles.Errorf(profiles.EINVALID, "Conditions.ObjectCount %d is out of range: it must be 1 to %d.", n, MaxCalcObjectCount)
}

func (p *calcPlan) checkConditions() error {
	c := p.a.Conditions
	if c == nil {
		return nil
	}
	bad := func(format string, args ...any) error { return profiles.Errorf(profiles.EINVALID, format, args...) }
	if c.ObjectCount < 0 {
		return objectCountErr(c.ObjectCount)
	}
	if r := c.Range; r != nil {
		if r.Unit != "DAYS" {
			return bad("Conditions.Range.Unit %q is not supported: DAYS is.", r.Unit)
		}
		switch {
		case r.ValueRange != nil && r.ValueRange.Start < r.ValueRange.End:
			return bad("Conditions.Range.ValueRange: Start (%d days ago) must not be after End (%d days ago).", r.ValueRange.Start, r.ValueRange.End)
		case r.ValueRange == nil && r.Value <= 0:
			return bad("Conditions.Range needs a Value of at least 1 day, or a ValueRange.")
		}
		if r.TimestampSource != "" {
			m := calcRefRE.FindStringSubmatch(r.TimestampSource)
			if m == nil || m[1] != p.t.Name {
				return bad("Conditions.Range.TimestampSource %q must be {%s.path.in.the.object}.", r.TimestampSource, p.t.Name)
			}
			p.tsPath = m[2]
			if _, _, err := mapping.ValueAt([]byte("{}"), p.tsPath); err != nil {
				return bad("Conditions.Range.TimestampSource %q: %s", r.TimestampSource, profiles.ErrorMessage(err))
			}
		}
		switch r.TimestampFormat {
		case "", "EPOCHMILLI", "ISO_8601":
		default:
			return bad("Conditions.Range.TimestampFormat %q must be EPOCHMILLI or ISO_8601.", r.TimestampFormat)
		}
	}
	if th := c.Threshold; th != nil {
		v, err := strconv.ParseFloat(th.Value, 64)
		p.threshold, p.numericTh = v, err == nil
		switch th.Operator {
		case "EQUAL_TO", "NOT_EQUAL_TO":
		case "GREATER_THAN", "LESS_THAN":
			if !p.numericTh {
				return bad("Conditions.Threshold.Value %q must be a number for %s.", th.Value, th.Operator)
			}
		default:
			return bad("Conditions.Threshold.Operator %q is not one of EQUAL_TO, NOT_EQUAL_TO, GREATER_THAN, LESS_THAN.", th.Operator)
		}
	}
	return nil
}

func (p *calcPlan) checkFilter() error {
	f := p.a.Filter
	if f == nil {
		return nil
	}
	bad := func(format string, args ...any) error { return profiles.Errorf(profiles.EINVALID, format, args...) }
	if !slices.Contains([]string{"ALL", "ANY", "NONE"}, f.Include) {
		return bad("Filter.Include %q must be ALL, ANY or NONE.", f.Include)
	}
	if len(f.Groups) == 0 {
		return bad("Filter.Groups must hold at least one group.")
	}
	for i, g := range f.Groups {
		if !slices.Contains([]string{"ALL", "ANY", "NONE"}, g.Type) {
			return bad("Filter.Groups[%d].Type %q must be ALL, ANY or NONE.", i, g.Type)
		}
		if len(g.Dimensions) == 0 {
			return bad("Filter.Groups[%d].Dimensions must hold at least one dimension.", i)
		}
		for j, d := range g.Dimensions {
			for name, cond := range d {
				where := fmt.Sprintf("Filter.Groups[%d].Dimensions[%d].Attributes[%s]", i, j, name)
				if _, ok := p.t.Fields[strings.TrimPrefix(name, p.t.Name+".")]; !ok {
					return bad("%s: object type %s has no attribute (field) %s.", where, p.t.Name, name)
				}
				if err := checkFilterCondition(cond); err != nil {
					return bad("%s: %s", where, err)
				}
			}
		}
	}
	return nil
}

// checkFilterCondition checks that a condition's values suit its type.
func checkFilterCondition(c profiles.CalcFilterCondition) error {
	want := func(n int) error {
		if len(c.Values) != n {
			return fmt.Errorf("%s takes %d value(s), not %d.", c.DimensionType, n, len(c.Values))
		}
		return nil
	}
	switch c.DimensionType {
	case "INCLUSIVE", "EXCLUSIVE", "CONTAINS", "BEGINS_WITH", "ENDS_WITH":
		if len(c.Values) == 0 {
			return fmt.Errorf("%s takes at least one value.", c.DimensionType)
		}
	case "EQUAL", "GREATER_THAN", "LESS_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN_OR_EQUAL":
		if err := want(1); err != nil {
			return err
		}
		if _, err := strconv.ParseFloat(c.Values[0], 64); err != nil {
			return fmt.Errorf("%s compares numbers: %q is not one.", c.DimensionType, c.Values[0])
		}
	case "BEFORE", "AFTER", "ON", "BETWEEN", "NOT_BETWEEN":
		n := 1
		if c.DimensionType == "BETWEEN" || c.DimensionType == "NOT_BETWEEN" {
			n = 2
		}
		if err := want(n); err != nil {
			return err
		}
		for _, v := range c.Values {
			if _, ok := parseCalcTime(v, ""); !ok {
				return fmt.Errorf("%s compares dates: %q is not an ISO 8601 date or time, a date YYYYMMDD, nor an epoch time in seconds or milliseconds.", c.DimensionType, v)
			}
		}
	default:
		return fmt.Errorf("DimensionType %q is not supported.", c.DimensionType)
	}
	return nil
}
