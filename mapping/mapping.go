// Package mapping applies object types (data mappings) to JSON objects: it
// reads the values an object type's Fields point at, sends the targeted ones
// to profile field paths, builds the object's keys from normalised values,
// and checks object type definitions. It is pure: no I/O, no clock, no state.
//
// # Sources
//
// A Source is either a dot path rooted at _source (`_source.address.city`),
// or a template: text holding one or more `{{_source.x.y}}` placeholders
// (`{{{_source.x}}}` is read the same way), such as
// `{{_source.first}} {{_source.last}}`.
//
//   - A path segment that is a decimal number indexes a JSON array
//     (`_source.emails.0`); on a JSON object it is an ordinary member name.
//   - A member whose name has dots is read by the same path: where the
//     members named one segment at a time lead to no value, consecutive
//     segments joined with dots name one member, shorter names first, so
//     `_source.contact.email` reads {"contact.email": …} (a CSV column of
//     an upload job) as well as {"contact": {"email": …}}, which wins when
//     an object has both.
//   - A JSON string is used exactly as written, except that an empty or
//     all-white-space string counts as absent. A number is used as its JSON
//     text (`42`, `1.50`, `1e3` stay as written); a boolean is `true` or
//     `false`. null, a missing member, an object and an array make the field
//     absent.
//   - In a template a missing placeholder reads as empty text; the result is
//     trimmed and every inner run of white space becomes one space. When no
//     placeholder has a value, or the result is empty, the field is absent.
//   - Only _source may be referenced. A Source that is neither a path nor a
//     template (plain text without placeholders), an empty path segment,
//     unbalanced `{{`/`}}` and stray single braces are rejected.
//
// # Targets
//
// A Target is empty (the field only feeds keys) or one of
// `_profile.<StandardField>`, `_profile.<AddressKind>.<AddressField>` or
// `_profile.Attributes.<name>`, where name is 1–255 characters without white
// space or control characters (dots are allowed and belong to the name).
// Result.Fields is keyed by the Target without `_profile.`. Values longer
// than the model's limits on profile members are rejected at Map time:
// 1000 characters for AdditionalInformation, 255 for every other field,
// address part and attribute value. When several fields target the same
// profile field, the first one with a value, in field-name order, wins.
//
// Gender, PartyType and ProfileType are enums in the API. A value targeted
// at one of them that is one of its values in any case, white space
// around it aside (`female`, ` Business `), is written as that value
// (`FEMALE`, `BUSINESS`). Any other text goes to the free-text field
// beside the enum, as if the field targeted it: GenderString for Gender,
// PartyTypeString for PartyType. ProfileType has none: another value is
// refused (EINVALID naming the field, the value and the allowed values).
//
// # Normalisation
//
// Key values and searches use the normalised form of a value, by content
// type (Normalize):
//
//   - PHONE_NUMBER: format-independent. An extension at the end (`x123`,
//     `ext 123`, `ext. 123`, `ext123`, `extension 123`, `#123`) is dropped,
//     then every character but the ASCII digits. A leading `00` is the
//     international call prefix and is dropped; so is the national trunk
//     digit written "(0)" after an international prefix
//     (`+44 (0)20 7946 0958`). A number of exactly 10
//     digits written without `+` or `00` whose first digit is 2-9 is a
//     North-American number and gets country code 1 (the exchange code is
//     not checked: the AWS documentation matches `(555)-123-4567` with
//     `+15551234567`). The result is `+` and the digits, so
//     `(555) 123-4567`, `555.123.4567`, `15551234567`, `+1 (555) 123-4567`
//     and `001 555 123 4567` all become `+15551234567`. Other national
//     numbers, `06 12 34 56 78` among them, keep their digits as given and
//     get no country code (there is no default region), and letters
//     (vanity numbers) are ignored. No digits at all gives "", and so does a
//     value with an `@` (an email address is not a phone number).
//   - EMAIL_ADDRESS: a `mailto:` prefix (any case) is removed, the value is
//     trimmed and lower-cased. A value that is not `local@domain` (no `@`,
//     nothing on one side, or white space) gives "": contact records hold
//     a phone or an email in one place, read by one field of each type.
//   - NAME: trimmed, inner runs of white space become one space, lower-cased.
//   - Every type but PHONE_NUMBER is first put in Unicode normal form C
//     (NFC): a letter and a combining accent become the precomposed letter,
//     so `José` gives one key however it was typed.
//   - NUMBER: a decimal number (optional sign, digits with an optional
//     point, optional exponent) is written canonically: no leading or
//     trailing zeros, no exponent, no `+`, `-0` is `0` (`042` → `42`,
//     `1.50` → `1.5`, `1e3` → `1000`, `.5` → `0.5`). Anything else (thousands
//     separators, hexadecimal, NaN, exponents beyond ±1000) is trimmed and
//     kept as it is.
//   - STRING (and an empty or unknown content type): trimmed.
//
// # Keys
//
// Each definition of a key yields one value: the normalised values of its
// FieldNames, in the order given, joined with "_". A definition one of whose
// fields is absent, or normalises to "", yields nothing. Result.Keys holds
// every value, sorted by key name then value (then definition order),
// without duplicates: two definitions of one key name that yield the same
// value with the same identifiers give one Key; with different identifiers
// they give one Key each, so that no definition's semantics are lost.
//
// # Source last-updated timestamp
//
// The field named `_sourceLastUpdatedTimestamp`, when the type has one and
// the object gives it a value, is parsed with SourceLastUpdatedTimestampFormat,
// a Java DateTimeFormatter / SimpleDateFormat pattern. The supported letters
// are y u (year), M L (month, as number or name), d, DDD, E (day name), a,
// H, h, m, s, S (fraction, after a literal '.' or ','), z (zone
// abbreviation), Z, X and x (offsets); text in single quotes is literal. A
// pattern must have a year; other letters, optional sections ([ ]) and
// literal text that a Go layout would misread (digits, month or day names)
// are rejected. A pattern without a zone reads times as UTC; zone
// abbreviations other than UTC/GMT and the common North-American, European,
// Japanese and Australian ones are read as UTC. With no format, RFC 3339
// text or an epoch number (all digits: seconds, or milliseconds from 1e12
// up) is accepted. The time is returned in UTC.
package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
)

// TimestampField is the name of the field that holds the source system's
// last-updated time of an object.
const TimestampField = "_sourceLastUpdatedTimestamp"

// Result is what one object maps to.
type Result struct {
	// Fields maps profile field paths ("FirstName", "Address.City",
	// "Attributes.tier": the Target without "_profile.") to values.
	Fields map[string]string
	// FieldTypes gives the content type of each entry of Fields, always one
	// of the profiles.Content* constants (an undeclared type is STRING).
	FieldTypes map[string]string
	// Keys are the keys whose fields are all present, sorted by Name then Value.
	Keys []Key
	// FirstEmail is the raw value of the first EMAIL_ADDRESS field, in
	// field-name order, targeted or not, whose normalised form is not
	// empty; "" if none.
	FirstEmail string
	// FirstPhone is the same for PHONE_NUMBER (a value with no digit is
	// skipped).
	FirstPhone string
	// SourceLastUpdated is the object's _sourceLastUpdatedTimestamp in UTC,
	// zero when the type has no such field or the object no such value.
	SourceLastUpdated time.Time
}

// Key is one key value of an object.
type Key struct {
	Name string
	// Value is the normalised values of the definition's FieldNames joined
	// with "_".
	Value string
	// Identifiers are the StandardIdentifiers of the definition that
	// produced the value.
	Identifiers []string
}

// Map applies t to obj, the raw JSON text of one object. It returns
// EINVALID when obj is not a single JSON object, when a targeted value is
// longer than its profile field allows, when the _sourceLastUpdatedTimestamp
// value does not match the type's format, and when t itself cannot be
// applied (bad source, target or format, a key naming an unknown field).
// Compile once and call Mapper.Map to map many objects of one type.
func Map(t *profiles.ObjectType, obj []byte) (*Result, error) {
	m, err := Compile(t)
	if err != nil {
		return nil, err
	}
	return m.Map(obj)
}

// Mapper is an object type made ready to map objects: what Map does, with
// the type's sources, targets, keys and timestamp format parsed once. It
// keeps nothing of t but what it parsed, and is safe for concurrent use.
type Mapper struct {
	c      *compiled
	format string // the type's SourceLastUpdatedTimestampFormat, for errors
}

// Compile checks and prepares t for Map; its errors are Map's for t.
func Compile(t *profiles.ObjectType) (*Mapper, error) {
	c, err := compile(t)
	if err != nil {
		return nil, err
	}
	return &Mapper{c: c, format: t.SourceLastUpdatedTimestampFormat}, nil
}

// Map applies the mapper's object type to obj, as Map does.
func (m *Mapper) Map(obj []byte) (*Result, error) {
	c := m.c
	root, err := decodeObject(obj)
	if err != nil {
		return nil, profiles.Errorf(profiles.EINVALID, "The object must be a JSON object: %s", err)
	}

	values := make([]string, len(c.fields))
	present := make([]bool, len(c.fields))
	res := &Result{Fields: map[string]string{}, FieldTypes: map[string]string{}, Keys: []Key{}}
	for i, f := range c.fields {
		v, ok := f.src.eval(root)
		if !ok {
			continue
		}
		values[i], present[i] = v, true
		if f.target != "" {
			if n := utf8.RuneCountInString(v); n > f.limit {
				return nil, profiles.Errorf(profiles.EINVALID,
					"Field %q: the value for _profile.%s is %d characters long; the limit is %d", f.name, f.target, n, f.limit)
			}
			target, pv, err := f.profileValue(v)
			if err != nil {
				return nil, err
			}
			if _, taken := res.Fields[target]; !taken {
				res.Fields[target] = pv
				res.FieldTypes[target] = f.ctype
			}
		}
		switch {
		case f.ctype == profiles.ContentEmail && res.FirstEmail == "" && Normalize(f.ctype, v) != "":
			res.FirstEmail = v
		case f.ctype == profiles.ContentPhone && res.FirstPhone == "" && Normalize(f.ctype, v) != "":
			res.FirstPhone = v
		}
	}

	if c.tsField >= 0 && present[c.tsField] {
		ts, err := parseTimestamp(c.layout, values[c.tsField])
		if err != nil {
			return nil, timestampError(m.format, values[c.tsField])
		}
		res.SourceLastUpdated = ts
	}

	res.Keys = c.keyValues(values, present)
	return res, nil
}

// profileValue returns the profile field a field's value v goes to, and
// the value it takes there: v in f's target, except for a target that is
// an enum (Gender, PartyType, ProfileType). There a value that is one of
// the enum's values in any case is written as the enum value; other text
// goes to the free-text field beside the enum (GenderString,
// PartyTypeString), and where there is none it is EINVALID.
func (f *cfield) profileValue(v string) (target, value string, err error) {
	if f.enum == nil {
		return f.target, v, nil
	}
	t := strings.TrimSpace(v)
	for _, e := range f.enum {
		if strings.EqualFold(t, e) {
			return f.target, e, nil
		}
	}
	if f.text != "" {
		return f.text, v, nil
	}
	return "", "", profiles.Errorf(profiles.EINVALID, "Field %q: value %q for _profile.%s is not one of %s",
		f.name, v, f.target, strings.Join(f.enum, ", "))
}

// FieldValues returns the value of each of the type's fields that obj
// holds, by field name, as Map reads them (not normalised), for callers
// that compute with an object's fields rather than map it into a profile.
func (m *Mapper) FieldValues(obj []byte) (map[string]string, error) {
	root, err := decodeObject(obj)
	if err != nil {
		return nil, profiles.Errorf(profiles.EINVALID, "The object must be a JSON object: %s", err)
	}
	out := make(map[string]string, len(m.c.fields))
	for _, f := range m.c.fields {
		if v, ok := f.src.eval(root); ok {
			out[f.name] = v
		}
	}
	return out, nil
}

// ValueAt returns the scalar at a dotted path of obj ("generatedAt.timestamp";
// a number indexes an array), as a field with the source "_source.<path>"
// reads it; false when obj holds none there. It returns EINVALID when obj
// is not a JSON object or path is malformed.
func ValueAt(obj []byte, path string) (string, bool, error) {
	src, err := parseSource(sourceRoot + "." + path)
	if err != nil {
		return "", false, profiles.Errorf(profiles.EINVALID, "Path %q %s", path, err)
	}
	root, err := decodeObject(obj)
	if err != nil {
		return "", false, profiles.Errorf(profiles.EINVALID, "The object must be a JSON object: %s", err)
	}
	v, ok := src.eval(root)
	return v, ok, nil
}

// keyValues builds the keys of an object from its field values.
func (c *compiled) keyValues(values []string, present []bool) []Key {
	normal := make([]string, len(values))
	done := make([]bool, len(values))
	keys := []Key{}
	var b strings.Builder
next:
	for _, k := range c.keys {
		b.Reset()
		// A key that finds or ties a profile takes no placeholder phone.
		profileKey := slices.Contains(k.ids, profiles.IdentifierProfile) && !slices.Contains(k.ids, profiles.IdentifierUnique)
		for j, fi := range k.fields {
			if !present[fi] {
				continue next
			}
			if !done[fi] {
				normal[fi], done[fi] = Normalize(c.fields[fi].ctype, values[fi]), true
			}
			if normal[fi] == "" || profileKey && c.fields[fi].ctype == profiles.ContentPhone && PhonePlaceholder(normal[fi]) {
				continue next
			}
			if j > 0 {
				b.WriteByte('_')
			}
			b.WriteString(normal[fi])
		}
		v := b.String()
		if slices.ContainsFunc(keys, func(x Key) bool {
			return x.Name == k.name && x.Value == v && slices.Equal(x.Identifiers, k.ids)
		}) {
			continue
		}
		keys = append(keys, Key{Name: k.name, Value: v, Identifiers: slices.Clone(k.ids)})
	}
	slices.SortStableFunc(keys, func(a, b Key) int {
		if n := strings.Compare(a.Name, b.Name); n != 0 {
			return n
		}
		return strings.Compare(a.Value, b.Value)
	})
	return keys
}

// timestampError is the EINVALID error for a timestamp that does not parse.
func timestampError(format, v string) error {
	if r := []rune(v); len(r) > 64 {
		v = string(r[:64]) + "…"
	}
	if format == "" {
		return profiles.Errorf(profiles.EINVALID,
			"Field %q: value %q is neither an RFC 3339 time nor epoch seconds or milliseconds (the object type has no SourceLastUpdatedTimestampFormat)",
			TimestampField, v)
	}
	return profiles.Errorf(profiles.EINVALID,
		"Field %q: value %q does not match SourceLastUpdatedTimestampFormat %q", TimestampField, v, format)
}

// compiled is an object type made ready to apply.
type compiled struct {
	fields  []cfield // in name order
	keys    []ckey   // in name order, definitions in their order
	layout  string   // Go layout of the timestamp format; "" for the default
	tsField int      // index of the _sourceLastUpdatedTimestamp field, -1 if none
}

type cfield struct {
	name   string
	src    source
	target string   // profile path without "_profile."; "" for none
	limit  int      // longest value the target takes, in characters
	ctype  string   // one of the Content* constants
	enum   []string // the values of a target that is an enum, else nil
	text   string   // the free-text field beside that enum, if any
}

type ckey struct {
	name   string
	fields []int // indexes into compiled.fields
	ids    []string
}

// compile checks what Map needs of t (sources, targets, content types, the
// fields keys name, the timestamp format) and prepares it. Its errors are
// EINVALID and name the culprit.
func compile(t *profiles.ObjectType) (*compiled, error) {
	c := &compiled{tsField: -1}
	names := sortedKeys(t.Fields)
	index := make(map[string]int, len(names))
	for _, name := range names {
		f := t.Fields[name]
		src, err := parseSource(f.Source)
		if err != nil {
			return nil, profiles.Errorf(profiles.EINVALID, "Field %q: source %q %s", name, f.Source, err)
		}
		target, limit, err := parseTarget(f.Target)
		if err != nil {
			return nil, profiles.Errorf(profiles.EINVALID, "Field %q: %s", name, err)
		}
		ctype, ok := contentType(f.ContentType)
		if !ok {
			return nil, profiles.Errorf(profiles.EINVALID, "Field %q: content type %q is not one of %s, %s, %s, %s, %s",
				name, f.ContentType, profiles.ContentString, profiles.ContentNumber, profiles.ContentPhone, profiles.ContentEmail, profiles.ContentName)
		}
		if name == TimestampField {
			c.tsField = len(c.fields)
		}
		index[name] = len(c.fields)
		enum, text, _ := profiles.EnumField(target)
		c.fields = append(c.fields, cfield{name: name, src: src, target: target, limit: limit, ctype: ctype, enum: enum, text: text})
	}
	if t.SourceLastUpdatedTimestampFormat != "" {
		layout, err := javaLayout(t.SourceLastUpdatedTimestampFormat)
		if err != nil {
			return nil, profiles.Errorf(profiles.EINVALID, "SourceLastUpdatedTimestampFormat %q: %s", t.SourceLastUpdatedTimestampFormat, err)
		}
		c.layout = layout
	}
	for _, name := range sortedKeys(t.Keys) {
		for _, def := range t.Keys[name] {
			k := ckey{name: name, ids: slices.Clone(def.StandardIdentifiers)}
			for _, fn := range def.FieldNames {
				i, ok := index[fn]
				if !ok {
					return nil, profiles.Errorf(profiles.EINVALID, "Key %q: field %q is not in Fields", name, fn)
				}
				k.fields = append(k.fields, i)
			}
			if len(k.fields) > 0 {
				c.keys = append(c.keys, k)
			}
		}
	}
	return c, nil
}

// contentType returns the canonical form of a field's ContentType and
// whether it is one the service knows.
func contentType(ct string) (string, bool) {
	switch ct {
	case "", profiles.ContentString:
		return profiles.ContentString, true
	case profiles.ContentNumber, profiles.ContentPhone, profiles.ContentEmail, profiles.ContentName:
		return ct, true
	}
	return ct, false
}

// decodeObject parses obj as exactly one JSON object, keeping numbers as
// written. Its errors say what is wrong, for a message to the caller.
func decodeObject(obj []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the input is empty")
		}
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("got %s", jsonKind(v))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the object")
	}
	return m, nil
}

// jsonKind names the kind of a decoded JSON value.
func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an object"
}

// sortedKeys returns the keys of m in byte order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
