package awsapi

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
)

// validator collects the constraint violations of one request, worded as
// AWS words them: "Value at 'X' failed to satisfy constraint: …".
type validator struct {
	errs []string
}

func (v *validator) fail(path, constraint string) {
	v.errs = append(v.errs, fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", path, constraint))
}

func (v *validator) required(path string, present bool) {
	if !present {
		v.errs = append(v.errs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", path))
	}
}

func (v *validator) length(path, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	if min >= 0 && n < min {
		v.fail(path, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if max >= 0 && n > max {
		v.fail(path, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

func (v *validator) pattern(path, s string, re *regexp.Regexp, forbiddenPrefix, src string) {
	if !re.MatchString(s) || forbiddenPrefix != "" && strings.HasPrefix(s, forbiddenPrefix) {
		v.fail(path, "Member must satisfy regular expression pattern: "+src)
	}
}

func (v *validator) enum(path, s string, values []string) {
	for _, e := range values {
		if s == e {
			return
		}
	}
	v.fail(path, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// union checks that exactly one member of a union is set.
func (v *validator) union(path string, members []string, set ...bool) {
	n := 0
	for _, ok := range set {
		if ok {
			n++
		}
	}
	if n != 1 {
		v.fail(path, "Member must have exactly one of its members set: one of ["+strings.Join(members, ", ")+"]")
	}
}

func bound(f float64) *float64 { return &f }

func (v *validator) number(path string, n float64, min, max *float64) {
	if min != nil && n < *min {
		v.fail(path, "Member must have value greater than or equal to "+strconv.FormatFloat(*min, 'f', -1, 64))
	}
	if max != nil && n > *max {
		v.fail(path, "Member must have value less than or equal to "+strconv.FormatFloat(*max, 'f', -1, 64))
	}
}

func (v *validator) count(path string, n, min, max int) {
	if min >= 0 && n < min {
		v.fail(path, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if max >= 0 && n > max {
		v.fail(path, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

// err returns the violations as one EINVALID error, nil if there are none.
func (v *validator) err() error {
	sort.Strings(v.errs) // map members are visited in random order
	switch len(v.errs) {
	case 0:
		return nil
	case 1:
		return profiles.Errorf(profiles.EINVALID, "1 validation error detected: %s", v.errs[0])
	}
	return profiles.Errorf(profiles.EINVALID, "%d validation errors detected: %s", len(v.errs), strings.Join(v.errs, "; "))
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func index(path string, i int) string { return path + "." + strconv.Itoa(i+1) + ".member" }
