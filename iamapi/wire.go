package iamapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// The wire shapes of the API: members are named as in the AWS IAM API and
// as the AWS CLI prints them; timestamps are ISO-8601 strings in UTC
// ("2026-06-01T12:00:00+00:00", as `aws iam` prints them).

// DateFormat is the layout of the timestamps on the wire.
const DateFormat = "2006-01-02T15:04:05-07:00"

// defaultPath is the path of every user and role: paths are not supported.
const defaultPath = "/"

func isoDate(t time.Time) string { return t.UTC().Format(DateFormat) }

type user struct {
	Path       string
	UserName   string
	UserId     string
	Arn        string
	CreateDate string
}

func userOf(p *profiles.Principal) user {
	return user{Path: defaultPath, UserName: p.Name, UserId: p.ID, Arn: p.ARN, CreateDate: isoDate(p.CreatedAt)}
}

type role struct {
	Path       string
	RoleName   string
	RoleId     string
	Arn        string
	CreateDate string
}

func roleOf(p *profiles.Principal) role {
	return role{Path: defaultPath, RoleName: p.Name, RoleId: p.ID, Arn: p.ARN, CreateDate: isoDate(p.CreatedAt)}
}

// accessKey is a new access key, with its secret: only CreateAccessKey
// answers with it.
type accessKey struct {
	UserName        string
	AccessKeyId     string
	Status          string
	SecretAccessKey string
	CreateDate      string
}

// accessKeyMetadata is an access key without its secret.
type accessKeyMetadata struct {
	UserName    string
	AccessKeyId string
	Status      string
	CreateDate  string
}

type accessKeyLastUsed struct {
	LastUsedDate string `json:",omitempty"`
	ServiceName  string
	Region       string
}

type getAccessKeyLastUsedOutput struct {
	UserName          string
	AccessKeyLastUsed accessKeyLastUsed
}

// Inputs.

type userNameInput struct{ UserName string }

type roleNameInput struct{ RoleName string }

type listInput struct {
	Marker   string
	MaxItems *int
}

type listForUserInput struct {
	UserName string
	Marker   string
	MaxItems *int
}

type accessKeyInput struct {
	UserName    string
	AccessKeyId string
	Status      string
}

// listPoliciesInput is the input of ListUserPolicies and ListRolePolicies.
type listPoliciesInput struct {
	UserName string
	RoleName string
	Marker   string
	MaxItems *int
}

type policyInput struct {
	UserName       string
	RoleName       string
	PolicyName     string
	PolicyDocument string
}

// Outputs.

type userOutput struct{ User user }

type roleOutput struct{ Role role }

type listUsersOutput struct {
	Users       []user
	IsTruncated bool
	Marker      string `json:",omitempty"`
}

type listRolesOutput struct {
	Roles       []role
	IsTruncated bool
	Marker      string `json:",omitempty"`
}

type createAccessKeyOutput struct{ AccessKey accessKey }

type listAccessKeysOutput struct {
	AccessKeyMetadata []accessKeyMetadata
	IsTruncated       bool
	Marker            string `json:",omitempty"`
}

type userPolicyOutput struct {
	UserName       string
	PolicyName     string
	PolicyDocument string
}

type rolePolicyOutput struct {
	RoleName       string
	PolicyName     string
	PolicyDocument string
}

type listPoliciesOutput struct {
	PolicyNames []string
	IsTruncated bool
	Marker      string `json:",omitempty"`
}

// empty is the answer of the operations that return nothing.
type empty struct{}

// decode reads a request body into in. An empty body is an empty object.
func decode(body []byte, in any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, in); err != nil {
		return serializationf("The request body is not valid JSON for this operation: %v", err)
	}
	return nil
}

// Limits and patterns of the members, as in the AWS IAM API.
const (
	maxPrincipalName   = 64
	maxPolicyName      = 128
	minAccessKeyID     = 16
	maxAccessKeyID     = 128
	maxPolicyDocument  = 131072
	maxMarker          = 320
	maxItemsLimit      = 1000
	defaultMaxItems    = 100
	namePatternText    = `[\w+=,.@-]+`
	keyIDPatternText   = `[\w]+`
	markerPatternText  = `[\u0020-\u00FF]+`
	validationMaxValue = 128 // characters of a bad value echoed in a message
)

var (
	namePattern   = regexp.MustCompile(`^` + namePatternText + `$`)
	keyIDPattern  = regexp.MustCompile(`^` + keyIDPatternText + `$`)
	markerPattern = regexp.MustCompile(`^[\x{0020}-\x{00FF}]+$`)
)

// checker collects the validation errors of a request, worded as AWS
// words them.
type checker struct{ errs []string }

func (c *checker) fail(field, value, constraint string) {
	v := "null"
	if value != "" {
		if r := []rune(value); len(r) > validationMaxValue {
			value = string(r[:validationMaxValue]) + "..."
		}
		v = "'" + value + "'"
	}
	c.errs = append(c.errs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", v, field, constraint))
}

// required checks that a member is present.
func (c *checker) required(field, v string) bool {
	if v == "" {
		c.fail(field, v, "Member must not be null")
		return false
	}
	return true
}

// name checks a user, role or policy name of at most max characters.
func (c *checker) name(field, v string, max int) {
	if !c.required(field, v) {
		return
	}
	if n := len([]rune(v)); n > max {
		c.fail(field, v, fmt.Sprintf("Member must have length less than or equal to %d", max))
	} else if !namePattern.MatchString(v) {
		c.fail(field, v, "Member must satisfy regular expression pattern: "+namePatternText)
	}
}

// optionalName checks a name that may be absent.
func (c *checker) optionalName(field, v string, max int) {
	if v != "" {
		c.name(field, v, max)
	}
}

func (c *checker) accessKeyID(v string) {
	const field = "accessKeyId"
	if !c.required(field, v) {
		return
	}
	if n := len(v); n < minAccessKeyID {
		c.fail(field, v, fmt.Sprintf("Member must have length greater than or equal to %d", minAccessKeyID))
	} else if n > maxAccessKeyID {
		c.fail(field, v, fmt.Sprintf("Member must have length less than or equal to %d", maxAccessKeyID))
	} else if !keyIDPattern.MatchString(v) {
		c.fail(field, v, "Member must satisfy regular expression pattern: "+keyIDPatternText)
	}
}

func (c *checker) status(v string) {
	if !c.required("status", v) {
		return
	}
	if v != profiles.AccessKeyActive && v != profiles.AccessKeyInactive {
		c.fail("status", v, fmt.Sprintf("Member must satisfy enum value set: [%s, %s]", profiles.AccessKeyActive, profiles.AccessKeyInactive))
	}
}

func (c *checker) policyDocument(v string) {
	if !c.required("policyDocument", v) {
		return
	}
	if len([]rune(v)) > maxPolicyDocument {
		c.errs = append(c.errs, fmt.Sprintf("Value at 'policyDocument' failed to satisfy constraint: Member must have length less than or equal to %d", maxPolicyDocument))
	}
}

func (c *checker) page(marker string, maxItems *int) {
	if marker != "" {
		if len([]rune(marker)) > maxMarker {
			c.fail("marker", marker, fmt.Sprintf("Member must have length less than or equal to %d", maxMarker))
		} else if !markerPattern.MatchString(marker) {
			c.fail("marker", marker, "Member must satisfy regular expression pattern: "+markerPatternText)
		}
	}
	if maxItems != nil && (*maxItems < 1 || *maxItems > maxItemsLimit) {
		c.fail("maxItems", fmt.Sprint(*maxItems), fmt.Sprintf("Member must have value between 1 and %d", maxItemsLimit))
	}
}

// err returns the collected errors as one ValidationError, or nil.
func (c *checker) err() error {
	switch len(c.errs) {
	case 0:
		return nil
	case 1:
		return validationf("1 validation error detected: %s", c.errs[0])
	}
	return validationf("%d validation errors detected: %s", len(c.errs), strings.Join(c.errs, "; "))
}

// maxItemsOf returns MaxItems or its default.
func maxItemsOf(maxItems *int) int {
	if maxItems == nil {
		return defaultMaxItems
	}
	return *maxItems
}

// pageOf returns the page of items after marker (the encoded last item of
// the previous page), of at most max items, and the marker of the next
// page ("" for the last page). It pages lists that the service returns
// whole (access keys, policy names); a marker whose item is gone is
// refused.
func pageOf[T any](items []T, key func(T) string, marker string, max int) ([]T, string, error) {
	start := 0
	if marker != "" {
		b, err := base64.RawURLEncoding.DecodeString(marker)
		if err != nil || len(b) == 0 {
			return nil, "", validationf("Invalid Marker: %s", marker)
		}
		start = -1
		for i, it := range items {
			if key(it) == string(b) {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return nil, "", validationf("Invalid Marker: %s (the list changed since; start again without a marker)", marker)
		}
	}
	items = items[start:]
	if len(items) <= max {
		return items, "", nil
	}
	return items[:max], base64.RawURLEncoding.EncodeToString([]byte(key(items[max-1]))), nil
}
