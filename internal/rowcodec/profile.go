package rowcodec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
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
// DecodeProfile reads it. It was JSON (starting with '{'); it is now a
// compact binary form that starts with profileFormat, which needs no
// reflection to read or write: a profile is decoded in every ingestion that
// reaches it (inside the one writer's transaction) and in every search that
// finds it. DecodeProfile reads both, so rows written before keep working.
//
// The binary form, after its first byte: the number of fields, then each
// field's name and value; the number of sources, then each source's field
// name, object type, priority and update time (unix milliseconds). Counts
// and lengths are unsigned varints, priority and time signed ones, strings
// their bytes.
const profileFormat = 0x01

// profileJSON is the earlier form of the data column, still read.
type profileJSON struct {
	Fields  map[string]string          `json:"fields,omitempty"`
	Sources map[string]fieldSourceJSON `json:"sources,omitempty"`
}

type fieldSourceJSON struct {
	ObjectType string `json:"objectType"`
	Priority   int    `json:"priority,omitempty"`
	UpdatedAt  int64  `json:"updatedAt"` // unix milliseconds
}

// EncodeProfile returns the data column of p. Field names, values and
// source types must be valid UTF-8 (what the API accepts), as when the
// column was JSON, which would have replaced invalid bytes silently.
func EncodeProfile(p *profiles.Profile) ([]byte, error) {
	n := 1 + 2*binary.MaxVarintLen64
	for k, v := range p.Fields {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("profile %q: field %q is not valid UTF-8", p.ID, k)
		}
		n += len(k) + len(v) + 2*binary.MaxVarintLen64
	}
	for k, s := range p.Sources {
		if !utf8.ValidString(k) || !utf8.ValidString(s.ObjectType) {
			return nil, fmt.Errorf("profile %q: source of field %q is not valid UTF-8", p.ID, k)
		}
		n += len(k) + len(s.ObjectType) + 4*binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	b = append(b, profileFormat)
	b = binary.AppendUvarint(b, uint64(len(p.Fields)))
	for k, v := range p.Fields {
		b = appendString(b, k)
		b = appendString(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(p.Sources)))
	for k, s := range p.Sources {
		b = appendString(b, k)
		b = appendString(b, s.ObjectType)
		b = binary.AppendVarint(b, int64(s.Priority))
		b = binary.AppendVarint(b, s.UpdatedAt.UnixMilli())
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// DecodeProfile sets the Fields and Sources of p from the data column, in
// either form. A profile without fields (or sources) gets a nil map.
func DecodeProfile(p *profiles.Profile, data []byte) error {
	if len(data) > 0 && data[0] == '{' {
		return decodeProfileJSON(p, data)
	}
	if len(data) == 0 || data[0] != profileFormat {
		return fmt.Errorf("decode profile %q of domain %q: unknown format", p.ID, p.DomainName)
	}
	r := profileReader{data: string(data[1:])}
	var fields map[string]string
	if n := r.count(2); n > 0 {
		fields = make(map[string]string, n)
		for range n {
			k := r.string()
			fields[k] = r.string()
		}
	}
	var sources map[string]profiles.FieldSource
	if n := r.count(4); n > 0 {
		sources = make(map[string]profiles.FieldSource, n)
		for range n {
			k := r.string()
			typ := r.string()
			priority := r.varint()
			at := r.varint()
			sources[k] = profiles.FieldSource{ObjectType: typ, Priority: int(priority), UpdatedAt: time.UnixMilli(at).UTC()}
		}
	}
	if r.err != nil || len(r.data) != 0 {
		return fmt.Errorf("decode profile %q of domain %q: truncated or corrupt data", p.ID, p.DomainName)
	}
	p.Fields, p.Sources = fields, sources
	return nil
}

// profileReader reads the binary form. It reads a string copy of the data
// made once, of which every name and value is a substring: one allocation
// for all of them. After an error every read returns a zero value and err
// stays set.
type profileReader struct {
	data string
	err  error
}

var errCorrupt = errors.New("corrupt")

// count reads a count of items of at least minBytes bytes each, refusing one
// the data left cannot hold (so that no map is sized by a corrupt count).
func (r *profileReader) count(minBytes int) int {
	n := r.uvarint()
	if n > uint64(len(r.data)/minBytes) {
		r.err = errCorrupt
		return 0
	}
	return int(n)
}

// uvarint reads an unsigned varint (encoding/binary's form).
func (r *profileReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for i := 0; i < len(r.data) && i < binary.MaxVarintLen64; i++ {
		c := r.data[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break // overflows 64 bits
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			r.data = r.data[i+1:]
			return v
		}
	}
	r.err = errCorrupt
	return 0
}

// varint reads a signed, zig-zag varint (encoding/binary's form).
func (r *profileReader) varint() int64 {
	u := r.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (r *profileReader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.data)) {
		r.err = errCorrupt
		return ""
	}
	s := r.data[:n]
	r.data = r.data[n:]
	return s
}

// decodeProfileJSON reads the earlier, JSON form of the data column.
func decodeProfileJSON(p *profiles.Profile, data []byte) error {
	var j profileJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode profile %q of domain %q: %w", p.ID, p.DomainName, err)
	}
	p.Fields = j.Fields
	p.Sources = nil
	if len(j.Sources) > 0 {
		p.Sources = make(map[string]profiles.FieldSource, len(j.Sources))
		for k, s := range j.Sources {
			p.Sources[k] = profiles.FieldSource{ObjectType: s.ObjectType, Priority: s.Priority, UpdatedAt: time.UnixMilli(s.UpdatedAt).UTC()}
		}
	}
	return nil
}
