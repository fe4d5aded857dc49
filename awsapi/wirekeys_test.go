package awsapi

import "testing"

// TestExactKeys: names that differ from a member's only in case are
// blanked, at any depth of the request's shapes (structures, lists and maps
// of them); names of maps are data; a body without them is not copied.
func TestExactKeys(t *testing.T) {
	tests := []struct {
		name, body, want string
		in               wireObject
	}{
		{"Exact", `{"FirstName":"a","Address":{"City":"b"}}`, "", new(CreateProfileRequest)},
		{"Top", `{"firstname":"a"}`, `{"         ":"a"}`, new(CreateProfileRequest)},
		{"Nested", `{"Address" : {"city":"b"}}`, `{"Address" : {"    ":"b"}}`, new(CreateProfileRequest)},
		{"MapNamesAreData", `{"Attributes":{"firstname":"a"}}`, "", new(CreateProfileRequest)},
		{"Unknown", `{"NoSuch":{"firstname":[1,{"x":"}"}]},"FirstName":"a"}`, "", new(CreateProfileRequest)},
		{"Escaped", `{"First\u004eame":"a","first\u004eame":"b"}`, `{"First\u004eame":"a","              ":"b"}`, new(CreateProfileRequest)},
		{"Folding", `{"Bu\u017FinessName":"a","BuſinessName":"b"}`, `{"                 ":"a","             ":"b"}`, new(CreateProfileRequest)},
		{"ListOfStructures", `{"Items":[{"id":"1","Object":"{}"},{"Id":"2","OBJECT":"{}"}],"objectTypeName":"t"}`,
			`{"Items":[{"  ":"1","Object":"{}"},{"Id":"2","      ":"{}"}],"              ":"t"}`, new(BatchPutProfileObjectRequest)},
		{"MapOfStructures", `{"CalculatedAttributes":{"values":{"DimensionType":"x","values":["1"]}}}`,
			`{"CalculatedAttributes":{"values":{"DimensionType":"x","      ":["1"]}}}`, new(Dimension)},
		{"WrongTypesLeftToTheDecoder", `{"Address":"x","Items":{"id":1}}`, "", new(CreateProfileRequest)},
		{"Malformed", `{"firstname":"a",`, "", new(CreateProfileRequest)},
		{"MalformedInside", `{"firstname":"a","Address":{"city" "b"}}`, "", new(CreateProfileRequest)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			got := exactKeys(body, tt.in)
			want := tt.want
			if want == "" {
				want = tt.body
				if &got[0] != &body[0] {
					t.Errorf("the body was copied")
				}
			}
			if string(got) != want {
				t.Fatalf("exactKeys(%s)\n got %s\nwant %s", tt.body, got, want)
			}
		})
	}
}
