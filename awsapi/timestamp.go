package awsapi

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Timestamp is a time on the wire: epoch seconds as a JSON number, with
// millisecond precision (the model sets no other timestampFormat).
type Timestamp time.Time

// The times a Timestamp holds: years 1 to 9999, the years of RFC 3339 (and
// of the stores' text form). Epoch seconds outside would overflow the
// milliseconds of a time or format as no RFC 3339 time.
var (
	minTimestamp = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTimestamp = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
)

// NewTimestamp returns t as a *Timestamp, nil for the zero time.
func NewTimestamp(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	ts := Timestamp(t)
	return &ts
}

// Time returns the time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

// MarshalJSON writes epoch seconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds (a number, fractions to the
// millisecond) or, as clients sometimes send, an RFC 3339 string, of a time
// from year 1 to year 9999. Anything else is an *json.UnmarshalTypeError,
// which the decoder completes with the member's name (decodeBody words it).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var v time.Time
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return timestampError(b)
		}
		p, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return timestampError(b)
		}
		v = p.UTC()
	} else {
		f, err := strconv.ParseFloat(string(b), 64)
		// Compared as seconds before any conversion: 1e20 seconds are
		// no int64 of milliseconds.
		if err != nil || math.IsNaN(f) || f < float64(minTimestamp.Unix()) || f >= float64(maxTimestamp.Unix()+1) {
			return timestampError(b)
		}
		v = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
	}
	if v.Before(minTimestamp) || v.After(maxTimestamp) {
		return timestampError(b)
	}
	*t = Timestamp(v)
	return nil
}

// timestampType is the type decodeBody recognises in a decoding error.
var timestampType = reflect.TypeFor[Timestamp]()

func timestampError(b []byte) error {
	v := string(b)
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return &json.UnmarshalTypeError{Value: v, Type: timestampType}
}
