package service

import (
	"testing"

	"github.com/openprofiles/profiles"
)

func TestTokens(t *testing.T) {
	tk := tokens{key: []byte("k1")}
	tok := tk.encode("ListDomains", "domain-042")
	if got, err := tk.decode("ListDomains", tok); err != nil || got != "domain-042" {
		t.Fatalf("decode=%q, %v; want domain-042", got, err)
	}
	bad := map[string]string{
		"OtherList": "",
		"OtherKey":  "",
		"Flipped":   tok[:len(tok)-2] + flip(tok[len(tok)-2:]),
		"Truncated": tok[:5],
		"NotBase64": "!!!",
		"Empty":     "",
		"Forged":    tk.encode("ListDomains", "x")[:22] + "ZG9tYWluLTk5OQ",
	}
	for name, token := range bad {
		t.Run(name, func(t *testing.T) {
			scope, k := "ListDomains", tk
			switch name {
			case "OtherList":
				token, scope = tok, "ListProfileObjectTypes"
			case "OtherKey":
				token, k = tok, tokens{key: []byte("k2")}
			}
			if _, err := k.decode(scope, token); profiles.ErrorCode(err) != profiles.EINVALID {
				t.Fatalf("decode(%q)=%v, want EINVALID", token, err)
			}
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}
