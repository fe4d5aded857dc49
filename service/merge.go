package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// MaxMergedProfiles is how many profiles one MergeProfiles call may merge.
const MaxMergedProfiles = 20

// MergeProfiles merges profiles into the main one in one transaction.
func (s *Service) MergeProfiles(ctx context.Context, domain, mainID string, merged []string, fieldSources map[string]string) error {
	return s.mergeProfiles(ctx, domain, mainID, merged, fieldSources, nil)
}

// errChangedSinceRead fails a merge whose profiles changed since the
// caller read them (mergeProfiles' decide).
var errChangedSinceRead = profiles.Errorf(profiles.ECONFLICT, "A profile changed since it was read for this merge.")

// mergeDecision decides, in the merge's transaction, on the profiles as
// it reads them (by id, the main one too), whether the merge goes on (an
// error stops it) and with which field sources (nil: those given).
type mergeDecision func(byID map[string]*profiles.Profile) (map[string]string, error)

// expectUpdated is a mergeDecision that merges only if every profile
// expect names still has that LastUpdatedAt (else errChangedSinceRead):
// the caller decided the merge on what it read.
func expectUpdated(expect map[string]time.Time) mergeDecision {
	return func(byID map[string]*profiles.Profile) (map[string]string, error) {
		for id, at := range expect {
			if p := byID[id]; p == nil || !p.LastUpdatedAt.Equal(at) {
				return nil, errChangedSinceRead
			}
		}
		return nil, nil
	}
}

// mergeProfiles is MergeProfiles that, when decide is set, lets it stop
// the merge or choose the field sources in the merge's transaction.
func (s *Service) mergeProfiles(ctx context.Context, domain, mainID string, merged []string, fieldSources map[string]string, decide mergeDecision) error {
	if len(merged) == 0 || len(merged) > MaxMergedProfiles {
		return profiles.Errorf(profiles.EINVALID, "ProfileIdsToBeMerged must hold 1 to %d profile ids.", MaxMergedProfiles)
	}
	seen := map[string]bool{}
	for _, id := range merged {
		switch {
		case id == mainID:
			return profiles.Errorf(profiles.EINVALID, "Profile %s cannot be merged into itself.", id)
		case seen[id]:
			return profiles.Errorf(profiles.EINVALID, "Profile %s is listed twice in ProfileIdsToBeMerged.", id)
		}
		seen[id] = true
	}
	for field, src := range fieldSources {
		if src != mainID && !seen[src] {
			return profiles.Errorf(profiles.EINVALID, "FieldSourceProfileIds.%s names profile %s, which is neither the main profile nor one being merged.", field, src)
		}
		if !isMergeField(field) {
			return profiles.Errorf(profiles.EINVALID, "FieldSourceProfileIds: %q is not a profile field.", field)
		}
	}
	streams, err := s.recentStreams(ctx, domain)
	if err != nil {
		return err
	}
	err = s.update(ctx, domain, func(tx profiles.Tx) error {
		main, err := s.findProfile(ctx, tx, domain, mainID)
		if err != nil {
			return err
		}
		byID := map[string]*profiles.Profile{mainID: main}
		others := make([]*profiles.Profile, 0, len(merged))
		for _, id := range merged {
			p, err := s.findProfile(ctx, tx, domain, id)
			if err != nil {
				return err
			}
			byID[id] = p
			others = append(others, p)
		}

		sources := fieldSources
		if decide != nil {
			fs, err := decide(byID)
			if err != nil {
				return err
			}
			if fs != nil {
				sources = fs
			}
		}
		result := mergeFields(main, others, byID, sources)
		// The main profile's standard keys, as stored: one removed with
		// DeleteProfileKey is not there.
		stored, err := tx.ListKeys(ctx, domain, mainID)
		if err != nil {
			return err
		}
		// Only the standard keys made of a field the merge changes on the
		// main profile are made again (from the merged fields); the others
		// stay as they are, so that a key removed with DeleteProfileKey
		// stays removed, as through UpdateProfile and ingestion. The
		// values a changed key had stay with the main profile, as keys
		// AddProfileKey could have added (an email that lost to another
		// profile's still finds it); so do the standard keys of every
		// merged profile's fields.
		changed := changedStandardKeys(main.Fields, result.Fields)
		var own, kept []profiles.Key
		for _, k := range stored {
			switch {
			case k.Origin != profiles.KeyOriginProfile:
			case changed[k.Name]:
				kept = append(kept, keysOf([]profiles.Key{k}, mainID)...)
			default:
				own = append(own, k)
			}
		}
		for _, p := range others {
			pk, err := s.mergedKeys(ctx, tx, p, mainID)
			if err != nil {
				return err
			}
			kept = append(kept, pk...)
			if err := tx.MoveProfileData(ctx, domain, p.ID, mainID); err != nil {
				return err
			}
			if err := tx.DeleteProfile(ctx, domain, p.ID); err != nil {
				return err
			}
			if err := s.recordProfile(ctx, tx, p, profiles.ActionDeletedByMerge); err != nil {
				return err
			}
		}
		if err := checkMergedUsage(ctx, tx, domain, mainID); err != nil {
			return err
		}
		main.Fields, main.Sources = result.Fields, result.Sources
		if err := checkProfileSize(main); err != nil {
			return err
		}
		main.LastUpdatedAt = s.now()
		if err := tx.PutProfile(ctx, main); err != nil {
			return err
		}
		if len(changed) > 0 {
			for _, k := range s.standardKeys(main) {
				if changed[k.Name] {
					own = append(own, k)
				}
			}
			if err := tx.DeleteKeys(ctx, domain, mainID, profiles.KeyOriginProfile, ""); err != nil {
				return err
			}
			if err := tx.PutKeys(ctx, own); err != nil {
				return err
			}
		}
		if err := tx.PutKeys(ctx, notStandardOf(own, kept)); err != nil {
			return err
		}
		if err := s.recordProfile(ctx, tx, main, profiles.ActionMerged); err != nil {
			return err
		}
		return s.putProfileEvent(ctx, tx, streams, main, "UPDATED")
	})
	if err == nil && len(streams) > 0 {
		s.wakeDelivery()
	}
	return err
}

// checkMergedUsage refuses a merge that would leave the main profile with
// more objects, or more bytes of them, than a profile may hold (ingestion
// refuses the object that would; the merge is refused whole).
func checkMergedUsage(ctx context.Context, tx profiles.Tx, domain, mainID string) error {
	u, err := tx.ProfileUsage(ctx, domain, mainID, "")
	if err != nil {
		return err
	}
	if u.Objects > profiles.MaxObjectsPerProfile {
		return profiles.Errorf(profiles.EQUOTA, "The merged profile would hold %d objects, more than the maximum of %d a profile may hold.", u.Objects, profiles.MaxObjectsPerProfile)
	}
	if u.Bytes > profiles.MaxObjectBytesPerProfile {
		return profiles.Errorf(profiles.EQUOTA, "The objects of the merged profile would take %d bytes, more than the %d a profile may hold.", u.Bytes, profiles.MaxObjectBytesPerProfile)
	}
	return nil
}

// mergedKeys returns the standard keys of a profile merged into the one
// of id mainID, as stored (one removed with DeleteProfileKey is not
// there), and a _profileId key of its own id, as keys of the main profile
// that AddProfileKey could have added (KeyOriginAPI): "all the profile
// keys of the merged profiles move to the main profile", the model says.
// Standard keys of the main profile are derived from its fields, which
// keep only one profile's value of each; without this, an email of a
// merged profile that lost to the main one's would find no profile, and
// the next object carrying it would make a new one. (The merged profile's
// other keys move with MoveProfileData.)
func (s *Service) mergedKeys(ctx context.Context, tx profiles.Tx, p *profiles.Profile, mainID string) ([]profiles.Key, error) {
	stored, err := tx.ListKeys(ctx, p.DomainName, p.ID)
	if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return nil, err
	}
	var keys []profiles.Key
	for _, k := range stored {
		if k.Origin == profiles.KeyOriginProfile && k.Name != KeyProfileID {
			keys = append(keys, k)
		}
	}
	keys = append(keys, profiles.Key{DomainName: p.DomainName, Name: KeyProfileID, Value: s.indexValue(p.DomainName, KeyProfileID, p.ID)})
	return keysOf(keys, mainID), nil
}

// keysOf makes keys keys of the profile of id mainID that AddProfileKey
// could have added (KeyOriginAPI), which no change of its fields removes.
func keysOf(keys []profiles.Key, mainID string) []profiles.Key {
	for i := range keys {
		keys[i].ProfileID, keys[i].Origin = mainID, profiles.KeyOriginAPI
	}
	return keys
}

// notStandardOf returns the keys of kept whose name and value are not
// among standard (a key of the profile's own fields says it already).
func notStandardOf(standard, kept []profiles.Key) []profiles.Key {
	has := make(map[[2]string]bool, len(standard))
	for _, k := range standard {
		has[[2]string{k.Name, k.Value}] = true
	}
	var out []profiles.Key
	for _, k := range kept {
		if !has[[2]string{k.Name, k.Value}] {
			has[[2]string{k.Name, k.Value}] = true
			out = append(out, k)
		}
	}
	return out
}

// isMergeField reports whether a FieldSourceProfileIds entry names a field
// or group of fields.
func isMergeField(field string) bool {
	return slices.Contains(profiles.StandardFields, field) || slices.Contains(profiles.AddressKinds, field) ||
		field == engagementField || strings.HasPrefix(field, "Attributes.") && len(field) > len("Attributes.")
}

// group is the FieldSourceProfileIds entry that decides a field: an address
// part goes with its address, GenderString with Gender and PartyTypeString
// with PartyType (the model names no entry for either: the two forms of one
// fact come from one profile, or a merge could say MALE and "female").
func group(field string) string {
	if kind, _, ok := strings.Cut(field, "."); ok && slices.Contains(profiles.AddressKinds, kind) {
		return kind
	}
	switch field {
	case "GenderString":
		return "Gender"
	case "PartyTypeString":
		return "PartyType"
	}
	return field
}

// mergeFields chooses every field of the merged profile: from the profile
// fieldSources names for its group, else the main profile's, else the
// first merged profile's that has a value for the group.
func mergeFields(main *profiles.Profile, others []*profiles.Profile, byID map[string]*profiles.Profile, fieldSources map[string]string) *profiles.Profile {
	out := &profiles.Profile{Fields: map[string]string{}, Sources: map[string]profiles.FieldSource{}}
	chosen := map[string]*profiles.Profile{} // group -> profile
	all := append([]*profiles.Profile{main}, others...)
	for _, p := range all {
		for field := range p.Fields {
			g := group(field)
			if _, ok := chosen[g]; ok {
				continue
			}
			if id, ok := fieldSources[g]; ok {
				chosen[g] = byID[id]
			} else {
				chosen[g] = p
			}
		}
	}
	for _, p := range all {
		for field, v := range p.Fields {
			if chosen[group(field)] != p {
				continue
			}
			out.Fields[field] = v
			if src, ok := p.Sources[field]; ok {
				out.Sources[field] = src
			}
		}
	}
	return out
}
