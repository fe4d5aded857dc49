package awsapi

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Timestamp is a time on the wire: epoch seconds as a JSON number, with
// millisecond precision (the model sets no other timestampFormat).
type Timestamp time.Time

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

// UnmarshalJSON reads epoch seconds (a number) or, as clients sometimes send,
// an RFC 3339 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("timestamp %q: want epoch seconds or RFC 3339", s)
		}
		*t = Timestamp(v.UTC())
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("timestamp %s: want epoch seconds", b)
	}
	*t = Timestamp(time.UnixMilli(int64(math.Round(f * 1000))).UTC())
	return nil
}
