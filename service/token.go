package service

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/openprofiles/profiles"
)

// tokens makes and checks opaque, tamper-evident paging tokens. A token
// carries the cursor of the next page and an HMAC over the list it belongs
// to and that cursor, so a token altered or taken to another list is refused.
type tokens struct {
	key []byte
}

const macSize = 16

func (t tokens) mac(scope, cursor string) []byte {
	h := hmac.New(sha256.New, t.key)
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(cursor))
	return h.Sum(nil)[:macSize]
}

// encode returns the token for cursor in the list named scope.
func (t tokens) encode(scope, cursor string) string {
	b := append(t.mac(scope, cursor), cursor...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decode returns the cursor of a token made by encode for the same scope.
// Returns EINVALID for any other token.
func (t tokens) decode(scope, token string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(token, "="))
	if err != nil || len(b) < macSize || !hmac.Equal(b[:macSize], t.mac(scope, string(b[macSize:]))) {
		return "", errBadToken()
	}
	return string(b[macSize:]), nil
}

// errBadToken is the error of a NextToken that no list of this request
// issued.
func errBadToken() error {
	return profiles.Errorf(profiles.EINVALID, "The NextToken is invalid or belongs to another request.")
}
