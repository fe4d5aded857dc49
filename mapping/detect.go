package mapping

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
)

// Limits on what Detect looks at in the samples.
const (
	detectMaxDepth = 6   // nesting levels followed
	detectMaxPaths = 200 // distinct scalar paths kept
)

// Detect proposes a mapping for sample objects: Fields, Keys and
// SourceLastUpdatedTimestampFormat of an object type that passes Validate.
// It returns EINVALID when there is no sample, when a sample is not a JSON
// object and when no field can identify the objects.
//
// It reads every scalar path of the samples (object members, and the first
// element of arrays), in order of depth then name, and proposes for each:
//
//   - the identifier (last segment id, uuid, guid, *Id, *ID, *_id, present
//     in every sample with distinct values; `id` and top-level paths first):
//     a key-only field, the UNIQUE key named after the field (also PROFILE
//     when it is the only key);
//   - a path named like updated/modified/modstamp whose values are dates:
//     the _sourceLastUpdatedTimestamp field and the first of a list of common
//     Java patterns that reads them all (no pattern when only the default
//     reading, RFC 3339 or epoch numbers, fits);
//   - e-mail addresses (an "@" and a dot after it): EmailAddress, or
//     Business/PersonalEmailAddress by name; the one targeting EmailAddress
//     (else the first) is the `_email` PROFILE key;
//   - phone numbers (7–15 digits with phone punctuation, or any such digits
//     in a path named like phone/mobile/tel/fax): PhoneNumber, or
//     Mobile/Home/BusinessPhoneNumber by name; the one targeting PhoneNumber
//     (else the first, never a fax) is the `_phone` PROFILE key;
//   - first/given, middle, last/family/surname names (NAME), birth date,
//     gender, company/business name, and address parts inside an
//     address-like object (or prefixed mailing/billing/shipping, or at the
//     top level) to the matching profile fields;
//   - any other scalar: _profile.Attributes.<last segment>, or the field
//     name when that attribute is taken or the segment is generic (id,
//     name, type …) in a nested path. Scalars inside arrays of scalars
//     (tags …) are left out.
//
// A profile field goes to the first path that claims it; later ones become
// attributes. Field names are the path joined with "_", restricted to
// letters, digits, "_", "-" (64 characters at most, numbered when taken).
// Without an identifier, the e-mail, then the phone, then the first field
// present in every sample with distinct values becomes the UNIQUE key.
func Detect(objects [][]byte) (*profiles.ObjectType, error) {
	if len(objects) == 0 {
		return nil, profiles.Errorf(profiles.EINVALID, "At least one sample object is required")
	}
	c := &collector{paths: map[string]*samplePath{}}
	for i, obj := range objects {
		root, err := decodeObject(obj)
		if err != nil {
			return nil, profiles.Errorf(profiles.EINVALID, "Object %d must be a JSON object: %s", i+1, err)
		}
		c.sample = i
		c.walk(root, nil)
	}
	paths := make([]*samplePath, 0, len(c.paths))
	for _, p := range c.paths {
		paths = append(paths, p)
	}
	slices.SortFunc(paths, func(a, b *samplePath) int {
		if n := len(a.segs) - len(b.segs); n != 0 {
			return n
		}
		return slices.Compare(a.segs, b.segs)
	})

	d := &detector{
		samples: len(objects),
		fields:  map[string]profiles.ObjectTypeField{},
		names:   map[string]bool{},
		claimed: map[string]bool{},
	}
	id := d.pickID(paths)
	ts, format := d.pickTimestamp(paths)
	if ts != nil {
		d.names[TimestampField] = true
	}
	for _, p := range paths {
		switch p {
		case id:
			d.idField = d.add(p, "", profiles.ContentString)
		case ts:
			d.fields[TimestampField] = profiles.ObjectTypeField{Source: p.source(), ContentType: profiles.ContentString}
		default:
			d.classify(p)
		}
	}
	keys, err := d.keys(paths)
	if err != nil {
		return nil, err
	}
	t := &profiles.ObjectType{Fields: d.fields, Keys: keys, SourceLastUpdatedTimestampFormat: format}
	if err := Validate(t); err != nil {
		return nil, fmt.Errorf("mapping: detect: proposed an invalid object type: %v", err)
	}
	return t, nil
}

// samplePath is one scalar path of the samples and its values.
type samplePath struct {
	segs    []string
	values  []string // one per sample that holds it, in sample order
	numbers int      // how many of the values are JSON numbers
	strings int      // how many are JSON strings
	inArray bool     // the value is an element of an array of scalars
	last    int      // the last sample that gave a value
}

func (p *samplePath) source() string { return sourceRoot + "." + strings.Join(p.segs, ".") }

// distinct reports whether no two values are equal.
func (p *samplePath) distinct() bool {
	seen := make(map[string]bool, len(p.values))
	for _, v := range p.values {
		if seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}

// all reports whether every value satisfies ok.
func (p *samplePath) all(ok func(string) bool) bool {
	return len(p.values) > 0 && !slices.ContainsFunc(p.values, func(v string) bool { return !ok(v) })
}

// collector gathers the scalar paths of the samples.
type collector struct {
	paths  map[string]*samplePath
	sample int
}

func (c *collector) walk(m map[string]any, prefix []string) {
	for _, k := range sortedKeys(m) {
		if k == "" || strings.ContainsAny(k, ".{}") {
			continue // a source path cannot name it
		}
		c.value(m[k], append(slices.Clip(prefix), k), false)
	}
}

func (c *collector) value(v any, path []string, inArray bool) {
	switch x := v.(type) {
	case map[string]any:
		if len(path) < detectMaxDepth {
			c.walk(x, path)
		}
	case []any:
		if len(x) > 0 && len(path) < detectMaxDepth {
			_, isObject := x[0].(map[string]any)
			c.value(x[0], append(slices.Clip(path), "0"), !isObject)
		}
	default:
		s, ok := scalar(v)
		if !ok {
			return
		}
		key := strings.Join(path, ".")
		p := c.paths[key]
		if p == nil {
			if len(c.paths) >= detectMaxPaths {
				return
			}
			p = &samplePath{segs: path, last: -1, inArray: inArray}
			c.paths[key] = p
		}
		if p.last == c.sample {
			return
		}
		p.last = c.sample
		p.values = append(p.values, s)
		switch v.(type) {
		case json.Number:
			p.numbers++
		case string:
			p.strings++
		}
	}
}

// detector builds the proposal.
type detector struct {
	samples int
	fields  map[string]profiles.ObjectTypeField
	names   map[string]bool // field names in use
	claimed map[string]bool // profile paths in use

	idField              string
	emails, phones       []string // e-mail and phone fields, in path order
	emailMain, phoneMain string   // the fields targeting EmailAddress and PhoneNumber
}

// add adds a field for p and returns its name.
func (d *detector) add(p *samplePath, target, ctype string) string {
	name := d.fieldName(p.segs)
	f := profiles.ObjectTypeField{Source: p.source(), ContentType: ctype}
	if target != "" {
		f.Target = "_profile." + target
	}
	d.fields[name] = f
	return name
}

// claim reserves a profile path; false if it is taken.
func (d *detector) claim(target string) bool {
	if d.claimed[target] {
		return false
	}
	d.claimed[target] = true
	return true
}

// fieldName derives a free field name from a path.
func (d *detector) fieldName(segs []string) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('_')
		}
		for j := 0; j < len(s); j++ {
			if c := s[j]; isASCIILetter(c) || c >= '0' && c <= '9' || c == '_' || c == '-' {
				b.WriteByte(c)
			} else if c < 0x80 || c >= 0xC0 { // one '_' per character, not per byte
				b.WriteByte('_')
			}
		}
	}
	base := b.String()
	if base == "" {
		base = "field"
	}
	base = base[:min(len(base), maxNameLen)]
	name := base
	for n := 2; d.names[name]; n++ {
		suffix := fmt.Sprintf("_%d", n)
		name = base[:min(len(base), maxNameLen-len(suffix))] + suffix
	}
	d.names[name] = true
	return name
}

// pickID returns the path that identifies the objects, or nil.
func (d *detector) pickID(paths []*samplePath) *samplePath {
	var best *samplePath
	bestRank := 0
	for _, p := range paths {
		last := lastName(p.segs)
		if p.inArray || !idLike(last) || len(p.values) != d.samples || p.numbers+p.strings != len(p.values) || !p.distinct() {
			continue
		}
		rank := len(p.segs) * 10
		switch strings.ToLower(last) {
		case "id":
		case "uuid", "guid":
			rank++
		default:
			rank += 2
		}
		if best == nil || rank < bestRank {
			best, bestRank = p, rank
		}
	}
	return best
}

// pickTimestamp returns the path of the source-last-updated time and the
// Java pattern of its values, or nil.
func (d *detector) pickTimestamp(paths []*samplePath) (*samplePath, string) {
	for _, p := range paths {
		if p.inArray || !updatedName(lowerAlnum(lastName(p.segs))) {
			continue
		}
		if format, ok := detectDateFormat(p.values, true); ok {
			return p, format
		}
	}
	return nil, ""
}

// keys proposes the keys: `_email`, `_phone` and the UNIQUE one.
func (d *detector) keys(paths []*samplePath) (map[string][]profiles.ObjectTypeKey, error) {
	keys := map[string][]profiles.ObjectTypeKey{}
	email := orElse(d.emailMain, first(d.emails))
	phone := orElse(d.phoneMain, first(d.phones))
	if email != "" {
		keys["_email"] = []profiles.ObjectTypeKey{{StandardIdentifiers: []string{profiles.IdentifierProfile}, FieldNames: []string{email}}}
	}
	if phone != "" {
		keys["_phone"] = []profiles.ObjectTypeKey{{StandardIdentifiers: []string{profiles.IdentifierProfile}, FieldNames: []string{phone}}}
	}
	if d.idField != "" {
		ids := []string{profiles.IdentifierUnique}
		if len(keys) == 0 {
			ids = append(ids, profiles.IdentifierProfile)
		}
		name := d.idField
		if _, taken := keys[name]; taken {
			name += "_id"
		}
		keys[name] = []profiles.ObjectTypeKey{{StandardIdentifiers: ids, FieldNames: []string{d.idField}}}
		return keys, nil
	}
	// No identifier: the first field that tells every sample apart.
	bySource := map[string]string{}
	for name, f := range d.fields {
		bySource[f.Source] = name
	}
	for _, key := range []string{"_email", "_phone"} {
		if defs, ok := keys[key]; ok && d.everywhere(paths, d.fields[defs[0].FieldNames[0]].Source) {
			keys[key][0].StandardIdentifiers = append(keys[key][0].StandardIdentifiers, profiles.IdentifierUnique)
			return keys, nil
		}
	}
	for _, p := range paths {
		name := bySource[p.source()]
		if name == "" || name == TimestampField || len(p.values) != d.samples || !p.distinct() {
			continue
		}
		ids := []string{profiles.IdentifierUnique}
		if len(keys) == 0 {
			ids = append(ids, profiles.IdentifierProfile)
		}
		keys[name] = []profiles.ObjectTypeKey{{StandardIdentifiers: ids, FieldNames: []string{name}}}
		return keys, nil
	}
	return nil, profiles.Errorf(profiles.EINVALID,
		"No field identifies every sample object: add an id field present in each object with distinct values")
}

// everywhere reports whether the path of source has distinct values in
// every sample.
func (d *detector) everywhere(paths []*samplePath, source string) bool {
	for _, p := range paths {
		if p.source() == source {
			return len(p.values) == d.samples && p.distinct()
		}
	}
	return false
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
