package mapping

import (
	"strings"
	"unicode"

	"github.com/openprofiles/profiles"
)

// classify proposes the field of one path (not the identifier, not the
// timestamp).
func (d *detector) classify(p *samplePath) {
	last := lastName(p.segs)
	key := lowerAlnum(last)
	strs := p.strings == len(p.values)
	switch {
	case strs && p.all(isEmail):
		d.addEmail(p, key)
		return
	case phoneHint(key) && p.all(func(v string) bool { return isPhone(v, true) }):
		d.addPhone(p, key)
		return
	case p.inArray:
		return // the first element of a list of scalars says little
	}
	if target, ctype := semanticTarget(p, key); target != "" {
		if d.claim(target) {
			d.add(p, target, ctype)
		} else {
			d.addAttribute(p, ctype, strings.Contains(target, "Address."))
		}
		return
	}
	if strs && !idLike(last) && p.all(func(v string) bool { return isPhone(v, false) }) {
		if _, isDate := detectDateFormat(p.values, false); !isDate {
			d.addPhone(p, key)
			return
		}
	}
	switch {
	case strs && len(p.segs) == 1 && (key == "name" || key == "fullname" || key == "displayname"):
		d.addAttribute(p, profiles.ContentName, false)
	case p.numbers == len(p.values):
		d.addAttribute(p, profiles.ContentNumber, false)
	default:
		d.addAttribute(p, profiles.ContentString, false)
	}
}

// semanticTarget returns the profile field a path's name points at, with
// its content type, or "".
func semanticTarget(p *samplePath, key string) (string, string) {
	parent := lowerAlnum(parentName(p.segs))
	if p.strings == len(p.values) {
		if t := nameTarget(key, parent); t != "" {
			return t, profiles.ContentName
		}
		switch key {
		case "birthdate", "dateofbirth", "dob", "birthday":
			return "BirthDate", profiles.ContentString
		case "gender", "sex":
			return "GenderString", profiles.ContentString
		}
		if businessName(key, parent) {
			return "BusinessName", profiles.ContentString
		}
	}
	if t := addressTarget(p.segs); t != "" {
		return t, profiles.ContentString
	}
	return "", ""
}

// addEmail adds an e-mail field, to the profile e-mail its name suggests.
func (d *detector) addEmail(p *samplePath, key string) {
	target := "EmailAddress"
	switch {
	case containsAny(key, "business", "work", "office", "company"):
		target = "BusinessEmailAddress"
	case containsAny(key, "personal", "home", "private"):
		target = "PersonalEmailAddress"
	}
	var name string
	if d.claim(target) {
		name = d.add(p, target, profiles.ContentEmail)
	} else {
		name = d.addAttribute(p, profiles.ContentEmail, false)
		target = ""
	}
	d.emails = append(d.emails, name)
	if target == "EmailAddress" {
		d.emailMain = name
	}
}

// addPhone adds a phone field, to the profile number its name suggests;
// fax numbers become attributes and never keys.
func (d *detector) addPhone(p *samplePath, key string) {
	if strings.Contains(key, "fax") {
		d.addAttribute(p, profiles.ContentPhone, false)
		return
	}
	target := "PhoneNumber"
	switch {
	case containsAny(key, "mobile", "cell"):
		target = "MobilePhoneNumber"
	case strings.Contains(key, "home"):
		target = "HomePhoneNumber"
	case containsAny(key, "business", "work", "office"):
		target = "BusinessPhoneNumber"
	}
	var name string
	if d.claim(target) {
		name = d.add(p, target, profiles.ContentPhone)
	} else {
		name = d.addAttribute(p, profiles.ContentPhone, false)
		target = ""
	}
	d.phones = append(d.phones, name)
	if target == "PhoneNumber" {
		d.phoneMain = name
	}
}

// addAttribute adds a field targeting an attribute named after the last
// segment, or after the field name when byField is set, the segment is
// generic in a nested path, or the attribute is taken. It returns the
// field name.
func (d *detector) addAttribute(p *samplePath, ctype string, byField bool) string {
	attr := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return '_'
		}
		return r
	}, lastName(p.segs))
	if len(p.segs) > 1 && genericName(lowerAlnum(attr)) {
		byField = true
	}
	if !byField && d.claim("Attributes."+attr) {
		return d.add(p, "Attributes."+attr, ctype)
	}
	name := d.fieldName(p.segs)
	d.claimed["Attributes."+name] = true
	d.fields[name] = profiles.ObjectTypeField{Source: p.source(), Target: "_profile.Attributes." + name, ContentType: ctype}
	return name
}

// lastIndex returns the index of the last segment that is not an array index.
func lastIndex(segs []string) int {
	for i := len(segs) - 1; i >= 0; i-- {
		if _, ok := arrayIndex(segs[i]); !ok {
			return i
		}
	}
	return len(segs) - 1
}

// lastName returns the last segment of a path that is not an array index.
func lastName(segs []string) string { return segs[lastIndex(segs)] }

// parentName returns the segment before lastName that is not an array
// index, or "".
func parentName(segs []string) string {
	for i := lastIndex(segs) - 1; i >= 0; i-- {
		if _, ok := arrayIndex(segs[i]); !ok {
			return segs[i]
		}
	}
	return ""
}

// lowerAlnum lower-cases s and keeps only its letters and digits, so that
// first_name, firstName and First-Name compare equal.
func lowerAlnum(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// idLike reports whether a member name looks like an identifier: id, uuid,
// guid, or ending in Id, ID, _id or -id after a lower-case letter or digit.
func idLike(seg string) bool {
	switch strings.ToLower(seg) {
	case "id", "uuid", "guid":
		return true
	}
	lower := strings.ToLower(seg)
	if strings.HasSuffix(lower, "_id") || strings.HasSuffix(lower, "-id") {
		return true
	}
	if n := len(seg); n > 2 && (seg[n-2:] == "Id" || seg[n-2:] == "ID") {
		c := seg[n-3]
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	return false
}

// genericName reports whether a member name says little outside its object.
func genericName(key string) bool {
	switch key {
	case "id", "uuid", "name", "type", "value", "code", "default", "status", "key", "label", "text":
		return true
	}
	return false
}

// updatedName reports whether a member name looks like a last-updated time.
func updatedName(key string) bool {
	if strings.HasSuffix(key, "by") || strings.HasSuffix(key, "byid") || strings.HasSuffix(key, "user") {
		return false
	}
	return containsAny(key, "updated", "modified", "modstamp")
}

// phoneHint reports whether a member name says phone number.
func phoneHint(key string) bool {
	return containsAny(key, "phone", "mobile", "fax") || strings.HasPrefix(key, "cell") || key == "tel" || key == "msisdn"
}

// isEmail reports whether v looks like an e-mail address: one "@" with
// text before it and a dot inside the text after it, no white space.
func isEmail(v string) bool {
	at := strings.IndexByte(v, '@')
	if at <= 0 || strings.Count(v, "@") != 1 || strings.ContainsAny(v, " \t\r\n,;<>") {
		return false
	}
	dot := strings.LastIndexByte(v[at+1:], '.')
	return dot > 0 && dot < len(v[at+1:])-1
}

// isPhone reports whether v looks like a phone number: 7–15 digits, only
// phone punctuation (space - . ( ) and a leading +), an optional extension.
// Without a hint from the name it must also have a leading +, parentheses or
// 10 digits or more, and not look like an IPv4 address.
func isPhone(v string, hinted bool) bool {
	v = strings.TrimSpace(stripExtension(strings.TrimSpace(v)))
	digits, punct, strong := 0, false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '+' && i == 0:
			punct, strong = true, true
		case c == '(' || c == ')':
			punct, strong = true, true
		case c == ' ' || c == '-' || c == '.':
			punct = true
		default:
			return false
		}
	}
	if digits < 7 || digits > 15 {
		return false
	}
	if hinted {
		return true
	}
	if strings.Count(v, ".") == 3 && strings.Trim(v, "0123456789.") == "" {
		return false
	}
	return punct && (strong || digits >= 10)
}

// nameTarget returns the profile name field a member name points at.
func nameTarget(key, parent string) string {
	switch key {
	case "firstname", "givenname", "fname", "forename":
		return "FirstName"
	case "middlename", "mname":
		return "MiddleName"
	case "lastname", "surname", "familyname", "lname":
		return "LastName"
	}
	if parent == "name" || parent == "fullname" {
		switch key {
		case "first", "given":
			return "FirstName"
		case "middle":
			return "MiddleName"
		case "last", "family":
			return "LastName"
		}
	}
	return ""
}

// businessName reports whether a member names a company.
func businessName(key, parent string) bool {
	switch key {
	case "company", "companyname", "businessname", "organization", "organisation",
		"organizationname", "organisationname", "employer":
		return true
	case "name":
		switch parent {
		case "company", "organization", "organisation", "business", "employer":
			return true
		}
	}
	return false
}

// addressTarget returns the profile address part a path points at: a part
// name inside an address-like object (its name says which address), a part
// name prefixed mailing/billing/shipping, or a part name at the top level.
func addressTarget(segs []string) string {
	li := lastIndex(segs)
	key := lowerAlnum(segs[li])
	kind := ""
	for _, s := range segs[:li] {
		if _, ok := arrayIndex(s); ok {
			continue
		}
		if k := lowerAlnum(s); strings.Contains(k, "address") || k == "location" {
			kind = addressKind(k)
		}
	}
	if kind != "" {
		if part := addressPart(key, true); part != "" {
			return kind + "." + part
		}
		return ""
	}
	for _, pre := range [...]string{"mailing", "billing", "shipping"} {
		if rest, ok := strings.CutPrefix(key, pre); ok && rest != "" {
			if part := addressPart(rest, true); part != "" {
				return addressKind(pre) + "." + part
			}
		}
	}
	if li > 0 {
		return "" // a part name inside some other object
	}
	if part := addressPart(key, false); part != "" {
		return "Address." + part
	}
	return ""
}

// addressKind picks the profile address an object name stands for.
func addressKind(k string) string {
	switch {
	case strings.Contains(k, "shipping"):
		return "ShippingAddress"
	case strings.Contains(k, "billing"):
		return "BillingAddress"
	case strings.Contains(k, "mailing"):
		return "MailingAddress"
	}
	return "Address"
}

// addressPart returns the address field a member name stands for; state
// and region only count inside an address.
func addressPart(key string, inAddress bool) string {
	switch key {
	case "address1", "line1", "addressline1", "street", "street1", "streetaddress", "streetline1", "address":
		return "Address1"
	case "address2", "line2", "addressline2", "street2", "streetline2":
		return "Address2"
	case "address3", "line3", "addressline3", "street3", "streetline3":
		return "Address3"
	case "address4", "line4", "addressline4":
		return "Address4"
	case "city", "town", "locality":
		return "City"
	case "county":
		return "County"
	case "province":
		return "Province"
	case "country", "countrycode", "countryname":
		return "Country"
	case "zip", "zipcode", "postalcode", "postcode":
		return "PostalCode"
	case "state", "statecode", "region", "stateorprovince":
		if inAddress {
			return "State"
		}
	}
	return ""
}

// detectDateFormat finds the Java pattern that reads every value. It
// returns "" and true for values that are RFC 3339 in mixed shapes, or, when
// epoch is set, epoch seconds or milliseconds.
func detectDateFormat(values []string, epoch bool) (string, bool) {
	if len(values) == 0 {
		return "", false
	}
	for _, pattern := range [...]string{
		"yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
		"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
		"yyyy-MM-dd'T'HH:mm:ssXXX",
		"yyyy-MM-dd'T'HH:mm:ss.SSSZ",
		"yyyy-MM-dd'T'HH:mm:ssZ",
		"yyyy-MM-dd'T'HH:mm:ss.SSS",
		"yyyy-MM-dd'T'HH:mm:ss",
		"yyyy-MM-dd HH:mm:ssXXX",
		"yyyy-MM-dd HH:mm:ss Z",
		"yyyy-MM-dd HH:mm:ss",
		"EEE, dd MMM yyyy HH:mm:ss z",
		"EEE, dd MMM yyyy HH:mm:ss Z",
		"MM/dd/yyyy HH:mm:ss",
		"MM/dd/yyyy",
		"yyyy-MM-dd",
	} {
		layout, err := javaLayout(pattern)
		if err != nil {
			continue
		}
		ok := true
		for _, v := range values {
			if _, err := parseTimestamp(layout, v); err != nil {
				ok = false
				break
			}
		}
		if ok {
			return pattern, true
		}
	}
	rfc, num := true, epoch
	for _, v := range values {
		_, err := parseTimestamp("", v)
		rfc = rfc && err == nil && !isDigits(v)
		num = num && isDigits(v) && (len(v) == 10 || len(v) == 13)
	}
	return "", rfc || num
}
