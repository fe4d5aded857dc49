package mapping_test

import (
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles/mapping"
)

func TestJavaLayout(t *testing.T) {
	for _, tt := range []struct {
		pattern, want string
	}{
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2006-01-02T15:04:05.000-0700"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2006-01-02T15:04:05.000Z07:00"},
		{"yyyy-MM-dd'T'HH:mm:ssX", "2006-01-02T15:04:05Z07"},
		{"yyyy-MM-dd'T'HH:mm:ssXX", "2006-01-02T15:04:05Z0700"},
		{"yyyy-MM-dd'T'HH:mm:ssxxx", "2006-01-02T15:04:05-07:00"},
		{"yyyy-MM-dd'T'HH:mm:ssZZZZZ", "2006-01-02T15:04:05Z07:00"},
		{"yyyy-MM-dd'T'HH:mm:ss'Z'", "2006-01-02T15:04:05Z"},
		{"yyyy-MM-dd HH:mm:ss", "2006-01-02 15:04:05"},
		{"yyyy-MM-dd HH:mm:ss,SSS", "2006-01-02 15:04:05,000"},
		{"yyyy-MM-dd HH:mm:ss.SSSSSSSSS", "2006-01-02 15:04:05.000000000"},
		{"EEE, dd MMM yyyy HH:mm:ss z", "Mon, 02 Jan 2006 15:04:05 MST"},
		{"EEEE, MMMM d, yyyy h:mm a", "Monday, January 2, 2006 3:04 PM"},
		{"dd/MM/yy hh:mm", "02/01/06 03:04"},
		{"M/d/yyyy H:m:s", "1/2/2006 15:4:5"},
		{"yyyyMMddHHmmss", "20060102150405"},
		{"yyyy.MM.dd", "2006.01.02"},
		{"uuuu-MM-dd", "2006-01-02"},
		{"yyyy-DDD", "2006-002"},
		{"LLL yyyy", "Jan 2006"},
		{"yyyy-MM-dd'T'HH:mm:ss''", "2006-01-02T15:04:05'"},
		{"yyyy 'at' HH 'o''clock'", "2006 at 15 o'clock"},
		{"yyyy-MM-dd HH:mm:ss zzz", "2006-01-02 15:04:05 MST"},
		{"y-M-d", "2006-1-2"},
	} {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := mapping.JavaLayout(tt.pattern)
			if err != nil {
				t.Fatalf("JavaLayout(%q) error: %v", tt.pattern, err)
			}
			if got != tt.want {
				t.Errorf("JavaLayout(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestJavaLayout_Unsupported(t *testing.T) {
	for _, tt := range []struct {
		pattern, want string // want: the error contains it
	}{
		{"", "empty"},
		{"yyyy-MM-dd G", "'G'"},
		{"yyyy-'W'ww", "'w'"},
		{"YYYY-MM-dd", "'Y'"},
		{"yyyy-MM-dd kk:mm", "'k'"},
		{"yyyy-MM-dd KK:mm", "'K'"},
		{"yyyy-MM-dd VV", "'V'"},
		{"yyyy-MM-dd O", "'O'"},
		{"yyyy-MM-dd zzzz", "'z' repeated 4 times"},
		{"yyyy-MM-dd ZZZZ", "'Z' repeated 4 times"},
		{"yyyyy-MM-dd", "'y' repeated 5 times"},
		{"yyyy-MMMMM-dd", "'M' repeated 5 times"},
		{"yyyy-MM-ddd", "'d' repeated 3 times"},
		{"yyyy-D", "'D' repeated 1 times"},
		{"yyyy-MM-dd HH:mm:ssSSS", "'S' must follow a literal '.' or ','"},
		{"yyyy-MM-dd HH:mm:ss.SSSSSSSSSS", "'S' repeated 10 times"},
		{"yyyy-MM-dd['T'HH:mm]", "'['"},
		{"yyyy-MM-dd #", "'#'"},
		{"yyyy-MM-dd'T", "not closed"},
		{"MM/dd HH:mm", "must contain a year"},
		{"yyyy-MM-dd '2'", `literal text " 2"`},
		{"yyyy 1 MM", `literal text " 1 "`},
		{"yyyy-MM-dd 'Jan'", `literal text " Jan"`},
		{"yyyy-MM-dd 'Monday'", `literal text " Monday"`},
		{"yyyy-MM-dd 'PM'", `literal text " PM"`},
		{"yyyy-MM-dd 'MST'", `literal text " MST"`},
		{"yyyy_d", "would be read as part of it"},
	} {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := mapping.JavaLayout(tt.pattern)
			if err == nil {
				t.Fatalf("JavaLayout(%q) = %q, want an error containing %q", tt.pattern, got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("JavaLayout(%q) error = %q, want it to contain %q", tt.pattern, err, tt.want)
			}
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	for _, tt := range []struct {
		name, pattern, value string
		want                 time.Time
	}{
		{"RFC3339Default", "", "2024-03-05T17:45:30+02:00", utc("2024-03-05T15:45:30Z")},
		{"RFC3339FractionDefault", "", "2024-03-05T17:45:30.5Z", utc("2024-03-05T17:45:30.5Z")},
		{"EpochSeconds", "", "1709660730", utc("2024-03-05T17:45:30Z")},
		{"EpochMilliseconds", "", "1709660730250", utc("2024-03-05T17:45:30.25Z")},
		{"EpochSmallSeconds", "", "0", utc("1970-01-01T00:00:00Z")},
		{"JavaOffset", "yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2024-03-05T17:45:30.250+0000", utc("2024-03-05T17:45:30.25Z")},
		{"JavaISOZ", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2024-03-05T17:45:30.250Z", utc("2024-03-05T17:45:30.25Z")},
		{"JavaNoZoneIsUTC", "yyyy-MM-dd HH:mm:ss", "2024-03-05 17:45:30", utc("2024-03-05T17:45:30Z")},
		{"JavaPST", "EEE, dd MMM yyyy HH:mm:ss z", "Tue, 05 Mar 2024 09:45:30 PST", utc("2024-03-05T17:45:30Z")},
		{"JavaCEST", "dd.MM.yyyy HH:mm z", "05.07.2024 19:45 CEST", utc("2024-07-05T17:45:00Z")},
		{"JavaGMT", "EEE, dd MMM yyyy HH:mm:ss z", "Tue, 05 Mar 2024 17:45:30 GMT", utc("2024-03-05T17:45:30Z")},
		{"JavaUnknownAbbreviationIsUTC", "yyyy-MM-dd HH:mm z", "2024-03-05 17:45 XYZ", utc("2024-03-05T17:45:00Z")},
		{"JavaTwelveHour", "MM/dd/yyyy hh:mm a", "03/05/2024 05:45 PM", utc("2024-03-05T17:45:00Z")},
		{"JavaMonthName", "d MMMM yyyy", "5 March 2024", utc("2024-03-05T00:00:00Z")},
		{"JavaTrimmed", "yyyy-MM-dd", "  2024-03-05 ", utc("2024-03-05T00:00:00Z")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			layout := ""
			if tt.pattern != "" {
				var err error
				if layout, err = mapping.JavaLayout(tt.pattern); err != nil {
					t.Fatal(err)
				}
			}
			got, err := mapping.ParseTimestamp(layout, tt.value)
			if err != nil {
				t.Fatalf("ParseTimestamp(%q, %q) error: %v", layout, tt.value, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ParseTimestamp(%q, %q) = %v, want %v (UTC)", layout, tt.value, got, tt.want)
			}
		})
	}
	for _, tt := range []struct{ name, pattern, value string }{
		{"DefaultNotRFC3339", "", "2024-03-05 17:45:30"},
		{"DefaultNegativeEpoch", "", "-5"},
		{"DefaultGarbage", "", "yesterday"},
		{"JavaMismatch", "yyyy-MM-dd HH:mm:ss", "05/03/2024"},
		{"JavaMissingFraction", "yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2024-03-05T17:45:30+0000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			layout := ""
			if tt.pattern != "" {
				layout, _ = mapping.JavaLayout(tt.pattern)
			}
			if got, err := mapping.ParseTimestamp(layout, tt.value); err == nil {
				t.Errorf("ParseTimestamp(%q, %q) = %v, want an error", layout, tt.value, got)
			}
		})
	}
}
