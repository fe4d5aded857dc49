package awsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/openprofiles/profiles"
)

// call is one API request on its way through the server.
type call struct {
	r         *http.Request
	body      []byte
	labels    map[string]string
	query     url.Values
	operation string
	requestID string
	principal string
	bindErrs  []string
	// check, when set, is run once the input is bound and valid (bound),
	// before the operation acts: that the domain the path names exists.
	check func() error
}

// bound ends the binding of an operation's input: the error of a bad
// input, else that of check. An input is checked before its domain, as
// AWS does; and no operation acts on a domain being deleted (whose rows
// are still there until its purge removes them) or reads its data.
func (c *call) bound(err error) error {
	if err != nil || c.check == nil {
		return err
	}
	return c.check()
}

// decodeBody reads the JSON body into in. An empty body is an empty object.
// Member names match exactly (exactKeys); members the model does not know,
// or names that differ from a member's only in case, are ignored, as AWS
// ignores them.
func (c *call) decodeBody(in wireObject) error {
	if len(c.body) == 0 {
		return nil
	}
	err := json.Unmarshal(exactKeys(c.body, in), in)
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntaxErr):
		return profiles.Errorf(profiles.EINVALID, "Malformed request body: invalid JSON at offset %d", syntaxErr.Offset)
	case errors.As(err, &typeErr) && typeErr.Type == timestampType:
		return profiles.Errorf(profiles.EINVALID, "Malformed request body: value at '%s' must be a time from year 1 to year 9999, in epoch seconds (or an RFC 3339 string), not %s", typeErr.Field, typeErr.Value)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return profiles.Errorf(profiles.EINVALID, "Malformed request body: value at '%s' must be of type %s, not %s", typeErr.Field, wireType(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &typeErr):
		return profiles.Errorf(profiles.EINVALID, "Malformed request body: the body must be a JSON object, not %s", typeErr.Value)
	}
	return profiles.Errorf(profiles.EINVALID, "Malformed request body: %s", err)
}

func wireType(kind string) string {
	switch kind {
	case "int", "int32", "int64":
		return "integer"
	case "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "list"
	case "map", "struct":
		return "object"
	}
	return kind
}

func (c *call) label(name string) *string {
	v, ok := c.labels[name]
	if !ok {
		return nil
	}
	return &v
}

func (c *call) queryString(name string) *string {
	if _, ok := c.query[name]; !ok {
		return nil
	}
	v := c.query.Get(name)
	return &v
}

func (c *call) queryInt(name string) *int {
	s := c.queryString(name)
	if s == nil {
		return nil
	}
	n, err := strconv.Atoi(*s)
	if err != nil {
		c.bindErrs = append(c.bindErrs, fmt.Sprintf("query parameter '%s' must be an integer", name))
		return nil
	}
	return &n
}

func (c *call) queryBool(name string) *bool {
	s := c.queryString(name)
	if s == nil {
		return nil
	}
	b, err := strconv.ParseBool(*s)
	if err != nil {
		c.bindErrs = append(c.bindErrs, fmt.Sprintf("query parameter '%s' must be true or false", name))
		return nil
	}
	return &b
}

func (c *call) queryList(name string) []string {
	return c.query[name]
}

func (c *call) bindErr() error {
	if len(c.bindErrs) == 0 {
		return nil
	}
	return profiles.Errorf(profiles.EINVALID, "Malformed request: %s", c.bindErrs[0])
}
