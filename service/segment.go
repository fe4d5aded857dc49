package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
)

var _ profiles.SegmentService = (*Service)(nil)

// Segments are evaluated when they are read (GetSegmentMembership) or
// estimated (CreateSegmentEstimate, which reads every profile of the
// domain), from the profiles and calculated attributes as they are then.

// segmentDoc is what a segment definition's config holds.
type segmentDoc struct {
	DisplayName string                          `json:"displayName,omitempty"`
	Description string                          `json:"description,omitempty"`
	Groups      profiles.SegmentGroups          `json:"groups"`
	Sort        []profiles.SegmentSortAttribute `json:"sort,omitempty"`
	Tags        map[string]string               `json:"tags,omitempty"`
}

// estimateDoc is what a segment estimate's config holds.
type estimateDoc struct {
	Status   string `json:"status"`
	Estimate int    `json:"estimate"`
	Message  string `json:"message,omitempty"`
}

// maxEstimatesKept is how many estimates a domain keeps: past it, the
// oldest go.
const maxEstimatesKept = 1000

// CreateSegmentDefinition validates a definition against the domain and
// stores it.
func (s *Service) CreateSegmentDefinition(ctx context.Context, d *profiles.SegmentDefinition) (*profiles.SegmentDefinition, error) {
	if _, err := s.Store.FindDomain(ctx, d.DomainName); err != nil {
		return nil, domainErr(err, d.DomainName)
	}
	if err := s.checkSegmentGroups(ctx, d.DomainName, d.Name, d.Groups); err != nil {
		return nil, err
	}
	data, err := json.Marshal(segmentDoc{DisplayName: d.DisplayName, Description: d.Description, Groups: d.Groups, Sort: d.Sort, Tags: d.Tags})
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: d.DomainName, Kind: profiles.ConfigSegment, Name: d.Name, Data: data}
	switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxSegmentDefinitionsPerDomain); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, d.DomainName)
	case profiles.ECONFLICT:
		return nil, profiles.Errorf(profiles.EINVALID, "Segment definition %s already exists in domain %s.", d.Name, d.DomainName)
	case profiles.EQUOTA:
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d segment definitions, the most it may have.", d.DomainName, profiles.MaxSegmentDefinitionsPerDomain)
	default:
		return nil, err
	}
	return segmentFromConfig(c)
}

// GetSegmentDefinition returns a definition.
func (s *Service) GetSegmentDefinition(ctx context.Context, domain, name string) (*profiles.SegmentDefinition, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigSegment, name)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Segment definition", name)
	}
	return segmentFromConfig(c)
}

// DeleteSegmentDefinition deletes a definition. Segments that read it as a
// source then hold nobody through it.
func (s *Service) DeleteSegmentDefinition(ctx context.Context, domain, name string) error {
	return s.configErr(ctx, s.Configs.DeleteConfig(ctx, domain, profiles.ConfigSegment, name), domain, "Segment definition", name)
}

// ListSegmentDefinitions returns one page of a domain's definitions, by
// name.
func (s *Service) ListSegmentDefinitions(ctx context.Context, domain string, page profiles.Page) ([]*profiles.SegmentDefinition, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigSegment, "ListSegmentDefinitions", page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*profiles.SegmentDefinition, len(list))
	for i, c := range list {
		if out[i], err = segmentFromConfig(c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// SegmentMembership evaluates a segment for each profile, in one snapshot.
func (s *Service) SegmentMembership(ctx context.Context, domain, name string, profileIDs []string) ([]profiles.SegmentMember, map[string]error, error) {
	d, err := s.GetSegmentDefinition(ctx, domain, name)
	if err != nil {
		return nil, nil, err
	}
	var members []profiles.SegmentMember
	var errs map[string]error
	err = s.Store.View(ctx, func(tx profiles.Tx) error {
		members, errs = members[:0], map[string]error{}
		ev := s.newSegmentEval(ctx, tx, domain)
		for _, id := range profileIDs {
			p, err := s.findProfile(ctx, tx, domain, id)
			if profiles.ErrorCode(err) == profiles.ENOTFOUND {
				errs[id] = err
				continue
			} else if err != nil {
				return err
			}
			in, err := ev.holds(p, name, d.Groups)
			if err != nil {
				return err
			}
			m := profiles.SegmentMember{ProfileID: id, Present: in}
			if in {
				m.Profile = p
			}
			members = append(members, m)
		}
		return nil
	})
	return members, errs, err
}

// CreateSegmentEstimate counts the domain's profiles that q holds, reading
// every one of them, and keeps the result.
func (s *Service) CreateSegmentEstimate(ctx context.Context, domain string, q profiles.SegmentGroups) (*profiles.SegmentEstimate, error) {
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return nil, domainErr(err, domain)
	}
	if err := s.checkSegmentGroups(ctx, domain, "", q); err != nil {
		return nil, err
	}
	n := 0
	err := s.Store.View(ctx, func(tx profiles.Tx) error {
		n = 0
		ev := s.newSegmentEval(ctx, tx, domain)
		after := ""
		for {
			ids, err := tx.ListProfileIDs(ctx, domain, after, 500)
			if err != nil || len(ids) == 0 {
				return err
			}
			for _, id := range ids {
				p, err := s.findProfile(ctx, tx, domain, id)
				if err != nil {
					return err
				}
				if in, err := ev.holds(p, "", q); err != nil {
					return err
				} else if in {
					n++
				}
			}
			after = ids[len(ids)-1]
		}
	})
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(estimateDoc{Status: "SUCCEEDED", Estimate: n})
	c := &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigSegmentEstimate, Name: s.newID(s.now()), Data: data}
	for try := 0; ; try++ {
		err := s.Configs.CreateConfig(ctx, c, maxEstimatesKept)
		if profiles.ErrorCode(err) != profiles.EQUOTA || try > 0 {
			if err != nil {
				return nil, domainErr(err, domain)
			}
			break
		}
		// Full: the oldest go (ids sort by time).
		old, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigSegmentEstimate, "", 100)
		if err != nil {
			return nil, domainErr(err, domain)
		}
		for _, o := range old {
			if err := s.Configs.DeleteConfig(ctx, domain, o.Kind, o.Name); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
				return nil, err
			}
		}
	}
	return estimateFromConfig(c)
}

// GetSegmentEstimate returns an estimate computed before.
func (s *Service) GetSegmentEstimate(ctx context.Context, domain, id string) (*profiles.SegmentEstimate, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigSegmentEstimate, id)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Segment estimate", id)
	}
	return estimateFromConfig(c)
}

// configErr words a store's ENOTFOUND as the API does: the domain's when
// it is missing, else the item's. Other errors pass.
func (s *Service) configErr(ctx context.Context, err error, domain, what, name string) error {
	if profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return err
	}
	if _, derr := s.Store.FindDomain(ctx, domain); derr != nil {
		return domainErr(derr, domain)
	}
	return profiles.Errorf(profiles.ENOTFOUND, "%s %s not found in domain %s.", what, name, domain)
}

func segmentFromConfig(c *profiles.DomainConfig) (*profiles.SegmentDefinition, error) {
	var doc segmentDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("segment definition %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	return &profiles.SegmentDefinition{DomainName: c.DomainName, Name: c.Name, DisplayName: doc.DisplayName, Description: doc.Description,
		Groups: doc.Groups, Sort: doc.Sort, Tags: doc.Tags, CreatedAt: c.CreatedAt}, nil
}

func estimateFromConfig(c *profiles.DomainConfig) (*profiles.SegmentEstimate, error) {
	var doc estimateDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("segment estimate %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	return &profiles.SegmentEstimate{DomainName: c.DomainName, ID: c.Name, Status: doc.Status, Estimate: doc.Estimate,
		Message: doc.Message, CreatedAt: c.CreatedAt}, nil
}

// checkSegmentGroups checks a segment's criteria against the domain: known
// quantifiers, profile fields, calculated attributes and source segments
// that exist (self is the segment being defined, which may not be its own
// source), and values that suit each condition.
func (s *Service) checkSegmentGroups(ctx context.Context, domain, self string, q profiles.SegmentGroups) error {
	bad := func(format string, args ...any) error { return profiles.Errorf(profiles.EINVALID, format, args...) }
	quantifier := func(where, q string) error {
		if q != "" && !slices.Contains([]string{"ALL", "ANY", "NONE"}, q) {
			return bad("%s %q must be ALL, ANY or NONE.", where, q)
		}
		return nil
	}
	if err := quantifier("SegmentGroups.Include", q.Include); err != nil {
		return err
	}
	if len(q.Groups) == 0 {
		return bad("SegmentGroups.Groups must hold at least one group.")
	}
	for i, g := range q.Groups {
		where := fmt.Sprintf("SegmentGroups.Groups[%d]", i)
		if err := quantifier(where+".Type", g.Type); err != nil {
			return err
		}
		if err := quantifier(where+".SourceType", g.SourceType); err != nil {
			return err
		}
		if len(g.Dimensions) == 0 && len(g.SourceSegments) == 0 {
			return bad("%s needs Dimensions or SourceSegments.", where)
		}
		for _, src := range g.SourceSegments {
			if src == self {
				return bad("%s.SourceSegments: segment %s cannot be its own source.", where, src)
			}
			if _, err := s.GetSegmentDefinition(ctx, domain, src); profiles.ErrorCode(err) == profiles.ENOTFOUND {
				return bad("%s.SourceSegments: domain %s has no segment definition %s.", where, domain, src)
			} else if err != nil {
				return err
			}
		}
		for j, dim := range g.Dimensions {
			dwhere := fmt.Sprintf("%s.Dimensions[%d]", where, j)
			if len(dim.Profile) == 0 && len(dim.Calculated) == 0 {
				return bad("%s needs ProfileAttributes or CalculatedAttributes.", dwhere)
			}
			for path, c := range dim.Profile {
				if err := validateField(path, ""); err != nil || path == engagementField {
					return bad("%s.ProfileAttributes: %s is not a field of the standard profile.", dwhere, path)
				}
				if err := checkFilterCondition(c); err != nil {
					return bad("%s.ProfileAttributes.%s: %s", dwhere, path, err)
				}
			}
			for name, c := range dim.Calculated {
				if _, err := s.GetCalculatedAttribute(ctx, domain, name); profiles.ErrorCode(err) == profiles.ENOTFOUND {
					return bad("%s.CalculatedAttributes: domain %s has no calculated attribute %s.", dwhere, domain, name)
				} else if err != nil {
					return err
				}
				if err := checkFilterCondition(c.CalcFilterCondition); err != nil {
					return bad("%s.CalculatedAttributes.%s: %s", dwhere, name, err)
				}
				if r := c.Range; r != nil && r.Start < r.End {
					return bad("%s.CalculatedAttributes.%s.ConditionOverrides.Range: Start (%d days ago) must not be after End (%d days ago).", dwhere, name, r.Start, r.End)
				}
			}
		}
	}
	return nil
}

// segmentEval evaluates segments in one transaction, reading each
// definition and calculated attribute once.
type segmentEval struct {
	s      *Service
	ctx    context.Context
	tx     profiles.Tx
	domain string
	plans  map[string]*calcPlan
	defs   map[string]*profiles.SegmentDefinition
}

func (s *Service) newSegmentEval(ctx context.Context, tx profiles.Tx, domain string) *segmentEval {
	return &segmentEval{s: s, ctx: ctx, tx: tx, domain: domain, plans: map[string]*calcPlan{}, defs: map[string]*profiles.SegmentDefinition{}}
}

// maxSegmentDepth bounds the chain of source segments.
const maxSegmentDepth = 10

// holds reports whether q (the criteria of the segment name, "" for a
// query) holds profile p.
func (e *segmentEval) holds(p *profiles.Profile, name string, q profiles.SegmentGroups) (bool, error) {
	return e.holdsAt(p, q, []string{name})
}

func (e *segmentEval) holdsAt(p *profiles.Profile, q profiles.SegmentGroups, path []string) (bool, error) {
	var firstErr error
	in := quantify(orAll(q.Include), len(q.Groups), func(i int) bool {
		ok, err := e.group(p, q.Groups[i], path)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return ok
	})
	return in, firstErr
}

// group reports whether one group holds p: its dimensions by Type, and its
// source segments by SourceType, when it has them.
func (e *segmentEval) group(p *profiles.Profile, g profiles.SegmentGroup, path []string) (bool, error) {
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	ok := len(g.Dimensions) == 0 || quantify(orAll(g.Type), len(g.Dimensions), func(i int) bool {
		in, err := e.dimension(p, g.Dimensions[i])
		keep(err)
		return in
	})
	if ok && len(g.SourceSegments) > 0 {
		ok = quantify(orAll(g.SourceType), len(g.SourceSegments), func(i int) bool {
			in, err := e.source(p, g.SourceSegments[i], path)
			keep(err)
			return in
		})
	}
	return ok, firstErr
}

func (e *segmentEval) dimension(p *profiles.Profile, d profiles.SegmentDimension) (bool, error) {
	for path, c := range d.Profile {
		v, ok := p.Fields[path]
		if !holds(c, v, ok) {
			return false, nil
		}
	}
	for name, c := range d.Calculated {
		plan, err := e.plan(name)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return false, nil // deleted since the segment was defined
		} else if err != nil {
			return false, err
		}
		v, err := e.s.calcValue(e.ctx, e.tx, plan, p.ID, c.Range)
		if err != nil {
			return false, err
		}
		if !holds(c.CalcFilterCondition, v.Value, v.Value != "") {
			return false, nil
		}
	}
	return true, nil
}

// source reports whether the segment name holds p; a segment deleted since
// holds nobody.
func (e *segmentEval) source(p *profiles.Profile, name string, path []string) (bool, error) {
	if slices.Contains(path, name) || len(path) > maxSegmentDepth {
		return false, profiles.Errorf(profiles.EINVALID, "Segment sources loop or nest too deep: %s.", strings.Join(append(path, name), " → "))
	}
	d, ok := e.defs[name]
	if !ok {
		var err error
		d, err = e.s.GetSegmentDefinition(e.ctx, e.domain, name)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			d = nil
		} else if err != nil {
			return false, err
		}
		e.defs[name] = d
	}
	if d == nil {
		return false, nil
	}
	return e.holdsAt(p, d.Groups, append(path, name))
}

// plan returns the checked calculated attribute of that name.
func (e *segmentEval) plan(name string) (*calcPlan, error) {
	if p, ok := e.plans[name]; ok {
		return p, nil
	}
	a, err := e.s.GetCalculatedAttribute(e.ctx, e.domain, name)
	if err != nil {
		return nil, err
	}
	p, err := e.s.calcPlan(e.ctx, a)
	if err != nil {
		return nil, err
	}
	e.plans[name] = p
	return p, nil
}

func orAll(q string) string {
	if q == "" {
		return "ALL"
	}
	return q
}
