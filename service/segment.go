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
	Status      string   `json:"status"`
	Estimate    int      `json:"estimate"`
	Message     string   `json:"message,omitempty"`
	ObjectTypes []string `json:"objectTypes,omitempty"` // SegmentEstimate.ObjectTypes
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
	list, next, err := s.listConfigsUpTo(ctx, domain, profiles.ConfigSegment, "ListSegmentDefinitions", page, 500)
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
	ev, err := s.newSegmentEval(ctx, domain, name, d.Groups)
	if err != nil {
		return nil, nil, err
	}
	var members []profiles.SegmentMember
	var errs map[string]error
	err = s.Store.View(ctx, func(tx profiles.Tx) error {
		members, errs = members[:0], map[string]error{}
		for _, id := range profileIDs {
			p, err := s.findProfile(ctx, tx, domain, id)
			if profiles.ErrorCode(err) == profiles.ENOTFOUND {
				errs[id] = err
				continue
			} else if err != nil {
				return err
			}
			in, err := ev.holds(ctx, tx, p)
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
	ev, err := s.newSegmentEval(ctx, domain, "", q)
	if err != nil {
		return nil, err
	}
	n := 0
	err = s.eachProfile(ctx, domain, func(tx profiles.Tx, p *profiles.Profile) error {
		in, err := ev.holds(ctx, tx, p)
		if in {
			n++
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// Who may read the estimate later is who may make it now.
	types, err := s.SegmentObjectTypes(ctx, domain, "", q)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(estimateDoc{Status: "SUCCEEDED", Estimate: n, ObjectTypes: types})
	c := &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigSegmentEstimate, Name: s.newID(s.now()), Data: data}
	if err := s.createEvictingOldest(ctx, c, maxEstimatesKept, "segment estimates"); err != nil {
		return nil, err
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

// SegmentObjectTypes returns the object types the calculated attributes
// of the segment of that name (with name "", of q), and of its source
// segments, are computed from, by name. A missing segment has none.
//
// It is asked to authorise every call that reads a segment: it reads the
// definitions only (the segments, then the domain's calculated attributes
// in one list), not what the segment's evaluation checks of them
// (calcPlan's reads of the domain and object type for each attribute).
func (s *Service) SegmentObjectTypes(ctx context.Context, domain, name string, q profiles.SegmentGroups) ([]string, error) {
	if name != "" {
		d, err := s.GetSegmentDefinition(ctx, domain, name)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		q = d.Groups
	}
	// The calculated attributes named, through the source segments as
	// newSegmentEval reads them.
	attrs := map[string]bool{}
	seen := map[string]bool{}
	if name != "" {
		seen[name] = true
	}
	queue := []profiles.SegmentGroups{q}
	for depth := 0; len(queue) > 0 && depth <= maxSegmentDepth; depth++ {
		var next []profiles.SegmentGroups
		for _, groups := range queue {
			for _, g := range groups.Groups {
				for _, src := range g.SourceSegments {
					if seen[src] {
						continue
					}
					seen[src] = true
					d, err := s.GetSegmentDefinition(ctx, domain, src)
					if profiles.ErrorCode(err) == profiles.ENOTFOUND {
						continue
					} else if err != nil {
						return nil, err
					}
					next = append(next, d.Groups)
				}
				for _, dim := range g.Dimensions {
					for attr := range dim.Calculated {
						attrs[attr] = true
					}
				}
			}
		}
		queue = next
	}
	var types []string
	switch len(attrs) {
	case 0:
		return nil, nil
	case 1:
		for attr := range attrs {
			var err error
			if types, err = s.CalculatedObjectTypes(ctx, domain, attr); err != nil {
				return nil, err
			}
		}
	default:
		var err error
		if types, err = s.calculatedTypesOf(ctx, domain, func(a *profiles.CalculatedAttribute) bool { return attrs[a.Name] }); err != nil {
			return nil, err
		}
	}
	slices.Sort(types)
	return types, nil
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
		Message: doc.Message, CreatedAt: c.CreatedAt, ObjectTypes: doc.ObjectTypes}, nil
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
	// A segment deleted and defined again may be named as a source by the
	// segments it names: refuse the loop.
	if self != "" {
		e, err := s.newSegmentEval(ctx, domain, "", q)
		if err != nil {
			return err
		}
		for _, d := range e.defs {
			if d == nil {
				continue
			}
			for _, g := range d.Groups.Groups {
				if slices.Contains(g.SourceSegments, self) {
					return bad("SegmentGroups: segment %s would be a source of itself, through %s.", self, d.Name)
				}
			}
		}
	}
	return nil
}

// segmentEval evaluates one segment's criteria. Everything it reads
// besides profiles and their objects (the source segments, the calculated
// attributes) it reads when made, before any transaction: evaluation then
// runs inside one (a transaction must not wait for another's connection).
type segmentEval struct {
	s     *Service
	name  string // the segment evaluated; "" for a query
	q     profiles.SegmentGroups
	defs  map[string]*profiles.SegmentDefinition // source segments; nil: deleted
	plans map[string]*calcPlan                   // calculated attributes; nil: deleted or no longer valid
}

// maxSegmentDepth bounds the chain of source segments.
const maxSegmentDepth = 10

// newSegmentEval reads the source segments of q (transitively, up to
// maxSegmentDepth) and the calculated attributes they all name.
func (s *Service) newSegmentEval(ctx context.Context, domain, name string, q profiles.SegmentGroups) (*segmentEval, error) {
	e := &segmentEval{s: s, name: name, q: q, defs: map[string]*profiles.SegmentDefinition{}, plans: map[string]*calcPlan{}}
	queue := []profiles.SegmentGroups{q}
	for depth := 0; len(queue) > 0 && depth <= maxSegmentDepth; depth++ {
		var next []profiles.SegmentGroups
		for _, groups := range queue {
			for _, g := range groups.Groups {
				for _, src := range g.SourceSegments {
					if _, seen := e.defs[src]; seen || src == name {
						continue
					}
					d, err := s.GetSegmentDefinition(ctx, domain, src)
					if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
						return nil, err
					}
					e.defs[src] = d
					if d != nil {
						next = append(next, d.Groups)
					}
				}
				for _, dim := range g.Dimensions {
					for attr := range dim.Calculated {
						if _, seen := e.plans[attr]; seen {
							continue
						}
						p, err := s.plannedCalc(ctx, domain, attr)
						if err != nil {
							return nil, err
						}
						e.plans[attr] = p
					}
				}
			}
		}
		queue = next
	}
	return e, nil
}

// plannedCalc returns the checked calculated attribute of that name, or
// nil when it was deleted or no longer checks (its type or field deleted).
func (s *Service) plannedCalc(ctx context.Context, domain, name string) (*calcPlan, error) {
	a, err := s.GetCalculatedAttribute(ctx, domain, name)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	p, err := s.calcPlan(ctx, a)
	if profiles.ErrorCode(err) == profiles.EINVALID {
		return nil, nil
	}
	return p, err
}

// holds reports whether the segment holds profile p, in tx.
func (e *segmentEval) holds(ctx context.Context, tx profiles.Tx, p *profiles.Profile) (bool, error) {
	return e.holdsAt(ctx, tx, p, e.q, []string{e.name})
}

func (e *segmentEval) holdsAt(ctx context.Context, tx profiles.Tx, p *profiles.Profile, q profiles.SegmentGroups, path []string) (bool, error) {
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	in := quantify(orAll(q.Include), len(q.Groups), func(i int) bool {
		g := q.Groups[i]
		// A group holds p by Type of its dimensions and, when it names
		// source segments, by SourceType of its membership in them.
		ok := len(g.Dimensions) == 0 || quantify(orAll(g.Type), len(g.Dimensions), func(j int) bool {
			in, err := e.dimension(ctx, tx, p, g.Dimensions[j])
			keep(err)
			return in
		})
		if ok && len(g.SourceSegments) > 0 {
			ok = quantify(orAll(g.SourceType), len(g.SourceSegments), func(j int) bool {
				in, err := e.source(ctx, tx, p, g.SourceSegments[j], path)
				keep(err)
				return in
			})
		}
		return ok
	})
	return in, firstErr
}

func (e *segmentEval) dimension(ctx context.Context, tx profiles.Tx, p *profiles.Profile, d profiles.SegmentDimension) (bool, error) {
	for path, c := range d.Profile {
		v, ok := segmentField(p, path)
		if !holds(c, v, ok) {
			return false, nil
		}
	}
	for name, c := range d.Calculated {
		plan := e.plans[name]
		if plan == nil {
			return false, nil // deleted, or no longer valid, since the segment was defined
		}
		v, err := e.s.calcValue(ctx, tx, plan, p.ID, c.Range)
		if err != nil {
			return false, err
		}
		if !holds(c.CalcFilterCondition, v.Value, v.Value != "") {
			return false, nil
		}
	}
	return true, nil
}

// segmentField is the value of a profile field a segment reads. The
// segments' GenderString and PartyTypeString (the model has no dimension
// on Gender or PartyType) read the enum field when the free-text one is
// not set, as matching does: a profile created with Gender FEMALE is
// FEMALE to a segment on GenderString.
func segmentField(p *profiles.Profile, path string) (string, bool) {
	v, ok := p.Fields[path]
	if !ok || v == "" {
		switch path {
		case "GenderString":
			v, ok = p.Fields["Gender"]
		case "PartyTypeString":
			v, ok = p.Fields["PartyType"]
		}
	}
	return v, ok && v != ""
}

// source reports whether the segment name holds p; a segment deleted since
// holds nobody.
func (e *segmentEval) source(ctx context.Context, tx profiles.Tx, p *profiles.Profile, name string, path []string) (bool, error) {
	if slices.Contains(path, name) || len(path) > maxSegmentDepth {
		return false, profiles.Errorf(profiles.EINVALID, "Segment sources loop or nest too deep: %s.", strings.Join(append(path, name), " → "))
	}
	d := e.defs[name]
	if d == nil {
		return false, nil
	}
	return e.holdsAt(ctx, tx, p, d.Groups, append(path, name))
}

// eachProfile calls fn with every profile of the domain (eachProfileID).
// A profile deleted meanwhile is skipped.
func (s *Service) eachProfile(ctx context.Context, domain string, fn func(profiles.Tx, *profiles.Profile) error) error {
	return s.eachProfileID(ctx, domain, func(tx profiles.Tx, id string) error {
		p, err := tx.FindProfile(ctx, domain, id)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		return fn(tx, p)
	})
}

// eachProfileID calls fn with the id of every profile of the domain, in
// pages of 500, each page in a transaction of its own: a scan of a large
// domain holds no snapshot (on SQLite, no checkpoint) for its whole length.
func (s *Service) eachProfileID(ctx context.Context, domain string, fn func(profiles.Tx, string) error) error {
	after := ""
	for {
		var ids []string
		err := s.Store.View(ctx, func(tx profiles.Tx) error {
			var err error
			if ids, err = tx.ListProfileIDs(ctx, domain, after, 500); err != nil {
				return domainErr(err, domain)
			}
			for _, id := range ids {
				if err := fn(tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		after = ids[len(ids)-1]
	}
}

func orAll(q string) string {
	if q == "" {
		return "ALL"
	}
	return q
}
