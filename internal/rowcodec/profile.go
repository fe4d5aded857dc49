package rowcodec

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
)

// ProfileSize is what a profile counts in DomainStats.TotalSize: the bytes
// of its field names and values.
func ProfileSize(p *profiles.Profile) int64 {
	var n int64
	for k, v := range p.Fields {
		n += int64(len(k) + len(v))
	}
	return n
}

// The data column of profiles is opaque to SQL: EncodeProfile makes it and
// DecodeProfile reads it, so that they alone change when profile data gets
// encrypted. Today it is JSON, which starts with '{'; another format will
// start with another byte.

type profileJSON struct {
	Fields  map[string]string          `json:"fields,omitempty"`
	Sources map[string]fieldSourceJSON `json:"sources,omitempty"`
}

type fieldSourceJSON struct {
	ObjectType string `json:"objectType"`
	Priority   int    `json:"priority,omitempty"`
	UpdatedAt  int64  `json:"updatedAt"` // unix milliseconds
}

// EncodeProfile returns the data column of p. JSON would replace invalid
// UTF-8 silently, so it is refused.
func EncodeProfile(p *profiles.Profile) ([]byte, error) {
	j := profileJSON{Fields: p.Fields}
	for k, v := range p.Fields {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("profile %q: field %q is not valid UTF-8", p.ID, k)
		}
	}
	if len(p.Sources) > 0 {
		j.Sources = make(map[string]fieldSourceJSON, len(p.Sources))
		for k, s := range p.Sources {
			if !utf8.ValidString(k) || !utf8.ValidString(s.ObjectType) {
				return nil, fmt.Errorf("profile %q: source of field %q is not valid UTF-8", p.ID, k)
			}
			j.Sources[k] = fieldSourceJSON{ObjectType: s.ObjectType, Priority: s.Priority, UpdatedAt: s.UpdatedAt.UnixMilli()}
		}
	}
	buf, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("encode profile %q: %w", p.ID, err)
	}
	return buf, nil
}

// DecodeProfile sets the Fields and Sources of p from the data column.
func DecodeProfile(p *profiles.Profile, data []byte) error {
	var j profileJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode profile %q of domain %q: %w", p.ID, p.DomainName, err)
	}
	p.Fields = j.Fields
	if len(j.Sources) > 0 {
		p.Sources = make(map[string]profiles.FieldSource, len(j.Sources))
		for k, s := range j.Sources {
			p.Sources[k] = profiles.FieldSource{ObjectType: s.ObjectType, Priority: s.Priority, UpdatedAt: time.UnixMilli(s.UpdatedAt).UTC()}
		}
	}
	return nil
}
