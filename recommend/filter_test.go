package recommend

import (
	"slices"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		expr         string
		want         string // Filter.format
		placeholders []string
		columns      []string
	}{
		{
			expr:    `INCLUDE ItemID WHERE Items.GENRE IN ("Comedy")`,
			want:    `INCLUDE ItemID WHERE Items.GENRE IN ("Comedy")`,
			columns: []string{"GENRE"},
		},
		{ // keywords and dataset prefixes in any case; columns as written
			expr:    `include itemid where items.Genre not in ("a", "b") and ITEMS.price >= 10 Or iTeMs.genre = "x"`,
			want:    `INCLUDE ItemID WHERE ((Items.Genre NOT IN ("a", "b") AND Items.price >= 10) OR Items.genre = "x")`,
			columns: []string{"Genre", "genre", "price"},
		},
		{
			expr: `exclude ItemId WHERE interactions.event_type IN ("click", "purchase")`,
			want: `EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "purchase")`,
		},
		{
			expr: `EXCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ($TYPES)`,
			want: `EXCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ($TYPES)`, placeholders: []string{"TYPES"},
		},
		{ // escapes
			expr:    `INCLUDE ItemID WHERE Items.TITLE IN ("say \"hi\"", "back\\slash", "")`,
			want:    `INCLUDE ItemID WHERE Items.TITLE IN ("say \"hi\"", "back\\slash", "")`,
			columns: []string{"TITLE"},
		},
		{ // numbers
			expr:    `INCLUDE ItemID WHERE Items.P < -1.5 AND Items.P > +2 AND Items.P <= 0 AND Items.P >= 10.25 AND Items.P IN (1, -2, 3.0)`,
			want:    `INCLUDE ItemID WHERE (Items.P < -1.5 AND Items.P > +2 AND Items.P <= 0 AND Items.P >= 10.25 AND Items.P IN (1, -2, 3.0))`,
			columns: []string{"P"},
		},
		{ // placeholders: sorted, without duplicates
			expr:         `INCLUDE ItemID WHERE Items.A IN ($Z_1, "lit", $a) AND Items.B = $Z_1 AND Items.C < $max`,
			want:         `INCLUDE ItemID WHERE (Items.A IN ($Z_1, "lit", $a) AND Items.B = $Z_1 AND Items.C < $max)`,
			placeholders: []string{"Z_1", "a", "max"},
			columns:      []string{"A", "B", "C"},
		},
		{ // AND binds tighter than OR
			expr:    `INCLUDE ItemID WHERE Items.A = "1" OR Items.B = "2" AND Items.C = "3" OR Items.D = "4"`,
			want:    `INCLUDE ItemID WHERE (Items.A = "1" OR (Items.B = "2" AND Items.C = "3") OR Items.D = "4")`,
			columns: []string{"A", "B", "C", "D"},
		},
		{ // parentheses override precedence; redundant ones vanish
			expr:    `INCLUDE ItemID WHERE ((Items.A = "1" OR Items.B = "2")) AND (Items.C = "3")`,
			want:    `INCLUDE ItemID WHERE ((Items.A = "1" OR Items.B = "2") AND Items.C = "3")`,
			columns: []string{"A", "B", "C"},
		},
		{ // several statements; no spaces needed around punctuation
			expr:    "INCLUDE ItemID WHERE Items.A IN(\"x\",\"y\")|EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"view\")\n|\tINCLUDE ItemID WHERE Items.B>=1",
			want:    `INCLUDE ItemID WHERE Items.A IN ("x", "y") | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view") | INCLUDE ItemID WHERE Items.B >= 1`,
			columns: []string{"A", "B"},
		},
		{ // non-ASCII strings
			expr:    `INCLUDE ItemID WHERE Items.CITY = "Zürich"`,
			want:    `INCLUDE ItemID WHERE Items.CITY = "Zürich"`,
			columns: []string{"CITY"},
		},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.expr)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.expr, err)
			continue
		}
		if got := f.format(); got != tt.want {
			t.Errorf("ParseFilter(%q)\n got %s\nwant %s", tt.expr, got, tt.want)
		}
		if got := f.Placeholders(); !slices.Equal(got, tt.placeholders) {
			t.Errorf("ParseFilter(%q).Placeholders() = %q, want %q", tt.expr, got, tt.placeholders)
		}
		if got := f.ItemColumns(); !slices.Equal(got, tt.columns) {
			t.Errorf("ParseFilter(%q).ItemColumns() = %q, want %q", tt.expr, got, tt.columns)
		}
	}
}

func TestParseFilterErrors(t *testing.T) {
	const w = `INCLUDE ItemID WHERE ` // 21 characters
	tests := []struct {
		expr string
		want string // the whole error text
	}{
		{``, `filter expression is empty`},
		{`   `, `position 4: expected "INCLUDE" or "EXCLUDE", found the end of the expression`},
		{`INCLUDE ItemID WHEN Items.A = "x"`, `position 16: expected "WHERE", found "WHEN"`},
		{`KEEP ItemID WHERE Items.A = "x"`, `position 1: expected "INCLUDE" or "EXCLUDE", found "KEEP"`},
		{`INCLUDE Items WHERE Items.A = "x"`, `position 9: expected "ItemID", found "Items"`},
		{w, `position 22: expected Items.<column> or Interactions.EVENT_TYPE, found the end of the expression`},
		{w + `GENRE IN ("x")`, `position 22: expected Items.<column> or Interactions.EVENT_TYPE, found "GENRE"`},
		{w + `Items.A IN ("x") Items.B IN ("y")`, `position 39: expected "AND", "OR", "|" or the end of the expression, found "Items.B"`},
		{w + `Items.A IN ("x") Items.ABCDEFGHIJKLMNOPQRSTUVWXYZ = "y"`, `position 39: expected "AND", "OR", "|" or the end of the expression, found "Items.ABCDEFGHIJKLMNOPQRSTUVWX..."`}, // long tokens are shortened
		{w + `Items.A IN ("x")|`, `position 39: expected "INCLUDE" or "EXCLUDE", found the end of the expression`},
		{w + `Items.A IN "x"`, `position 33: expected "(" to start the list of values, found string "x"`},
		{w + `Items.A IN ()`, `position 34: expected a value (a "quoted string", a number or a $placeholder), found ")"`},
		{w + `Items.A IN ("x" "y")`, `position 38: expected "," or ")", found string "y"`},
		{w + `Items.A IN ("x",)`, `position 38: expected a value (a "quoted string", a number or a $placeholder), found ")"`},
		{w + `Items.A IN ("x"`, `position 37: expected "," or ")", found the end of the expression`},
		{w + `Items.A NOT ("x")`, `position 34: expected "IN" after "NOT", found "("`},
		{w + `Items.A LIKE "x"`, `position 30: expected "IN", "NOT IN", "=", "<", ">", "<=" or ">=", found "LIKE"`},
		{w + `Items.A != "x"`, `position 30: "!=" is not supported; use NOT IN ("value")`},
		{w + `Items.A <> "x"`, `position 30: "<>" is not supported; use NOT IN ("value")`},
		{w + `Items.A < "ten"`, `position 32: "<" compares numbers, but string "ten" is not a number`},
		{w + `Items.A >= "1"`, `position 33: ">=" compares numbers, but string "1" is not a number`},
		{w + `Items.A = x`, `position 32: expected a value (a "quoted string", a number or a $placeholder), found "x"`},
		{w + `(Items.A = "x"`, `position 36: expected ")", "AND" or "OR", found the end of the expression`},
		{w + `Items.A = "x")`, `position 35: expected "AND", "OR", "|" or the end of the expression, found ")"`},
		{w + `Items.A = "x" AND`, `position 39: expected Items.<column> or Interactions.EVENT_TYPE, found the end of the expression`},
		{w + `Items. = "x"`, `position 28: expected a column name after "Items."`},
		{w + `Items.a..b = "x"`, `position 28: invalid column name "a..b"`},
		// lexical errors
		{w + `Items.A = "x`, `position 32: string is not terminated (missing closing ")`},
		{w + `Items.A = "x\`, `position 32: string is not terminated (missing closing ")`},
		{w + `Items.A = "a\nb"`, `position 34: unsupported escape "\n" in string; only \" and \\ are allowed`},
		{w + `Items.A = 'x'`, `position 32: unexpected character '\''`},
		{w + `Items.A = 1.`, `position 33: unexpected character '.'`},
		{w + `Items.A = .5`, `position 32: unexpected character '.'`},
		{w + `Items.A = - 1`, `position 32: unexpected character '-'`},
		{w + `Items.A = $`, `position 32: expected a placeholder name (letters, digits or "_") after "$"`},
		{w + `Items.A = $` + strings.Repeat("x", 51), `position 32: placeholder name $` + strings.Repeat("x", 51) + ` is 51 characters long; at most 50 are allowed`},
		{w + `Items.A = 1` + strings.Repeat("0", 400), `position 32: number 1` + strings.Repeat("0", 400) + ` is out of range`},
		{`INCLUDE ItemID WHERE Items.NAME = "é" AND Items.B ~ 1`, `position 51: unexpected character '~'`}, // positions count characters, not bytes
		{"INCLUDE ItemID WHERE Items.A = \"x\" AND \u00e9", `position 40: unexpected character 'é'`},
		// unsupported constructs
		{w + `Users.AGE > 20`, `position 22: Users.AGE is not supported: Users columns cannot be used in filters; compare Items.<column> or Interactions.EVENT_TYPE`},
		{w + `CurrentUser.AGE > 20`, `position 22: CurrentUser.AGE is not supported: CurrentUser columns cannot be used in filters; compare Items.<column> or Interactions.EVENT_TYPE`},
		{w + `CurrentItem.GENRE IN ("x")`, `position 22: CurrentItem.GENRE is not supported: CurrentItem columns cannot be used in filters; compare Items.<column> or Interactions.EVENT_TYPE`},
		{w + `Products.X IN ("x")`, `position 22: unknown dataset "Products" in Products.X; compare Items.<column> or Interactions.EVENT_TYPE`},
		{w + `ItemID IN ("i1")`, `position 22: comparisons of ItemID are not supported; compare Items.<column> or Interactions.EVENT_TYPE`},
		{w + `Interactions.EVENT_VALUE > 1`, `position 22: Interactions.EVENT_VALUE is not supported; the only Interactions column a filter can use is EVENT_TYPE`},
		{w + `Interactions.EVENT_TYPE = "click"`, `position 46: Interactions.EVENT_TYPE can only be compared with IN or NOT IN, not "="`},
		{w + `Interactions.EVENT_TYPE HAS ("click")`, `position 46: expected "IN" or "NOT IN", found "HAS"`},
		{w + `Items.A IN ($V) IF CurrentUser.AGE > 20`, `position 38: IF clauses are not supported`},
		// limits
		{strings.Repeat("x", 2501), `filter expression is 2501 characters long; at most 2500 are allowed`},
		{strings.Repeat(w+`Items.A = "x" | `, 20) + w + `Items.A = "x"`, `position 741: too many statements; at most 20 are allowed`},
		{w + `Items.A IN (` + strings.Repeat(`1,`, 500) + `1)`, `position 1034: too many values in the list; at most 500 are allowed`},
		{w + strings.Repeat("(", 33) + `Items.A = "x"` + strings.Repeat(")", 33), `position 54: parentheses are nested too deeply; at most 32 levels are allowed`},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.expr)
		if err == nil {
			t.Errorf("ParseFilter(%q) = %s, want error %q", tt.expr, f.format(), tt.want)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("ParseFilter(%q) error\n got %s\nwant %s", tt.expr, got, tt.want)
		}
	}
}

func TestParseFilterLimitsAccepted(t *testing.T) {
	const w = `INCLUDE ItemID WHERE `
	for _, expr := range []string{
		strings.Repeat(w+`Items.A = "x" | `, 19) + w + `Items.A = "x"`,
		w + `Items.A IN (` + strings.Repeat(`1,`, 499) + `1)`,
		w + strings.Repeat("(", 32) + `Items.A = "x"` + strings.Repeat(")", 32),
		w + `Items.A = $` + strings.Repeat("x", 50),
	} {
		if _, err := ParseFilter(expr); err != nil {
			t.Errorf("ParseFilter(%.60q...): %v", expr, err)
		}
	}
}

// TestParseFilterHostile checks that deep nesting and long inputs give
// errors, not crashes.
func TestParseFilterHostile(t *testing.T) {
	const w = `INCLUDE ItemID WHERE `
	for _, expr := range []string{
		w + strings.Repeat("(", 2400),
		w + strings.Repeat("(", 1000) + `Items.A = "x"` + strings.Repeat(")", 1000),
		strings.Repeat("(", 2500),
		strings.Repeat(`"`, 2500),
		w + strings.Repeat(`Items.A = "x" AND `, 200),
	} {
		if _, err := ParseFilter(expr); err == nil {
			t.Errorf("ParseFilter(%.60q...) succeeded, want an error", expr)
		} else if !strings.HasPrefix(err.Error(), "position ") && !strings.HasPrefix(err.Error(), "filter expression is") {
			t.Errorf("ParseFilter(%.60q...) error %q does not name a position", expr, err)
		}
	}
}

func TestBindErrors(t *testing.T) {
	tests := []struct {
		expr   string
		values map[string]string
		want   string
	}{
		{`INCLUDE ItemID WHERE Items.A IN ($X)`, nil, `missing value for placeholder $X`},
		{`INCLUDE ItemID WHERE Items.A IN ($X, $Y) AND Items.B = $Z`, map[string]string{"Y": "1"}, `missing values for placeholders $X, $Z`},
		{`INCLUDE ItemID WHERE Items.A IN ($X)`, map[string]string{"x": "1"}, // keys match exactly
			`missing value for placeholder $X; value given for unknown placeholder $x (the filter's placeholders are $X)`},
		{`INCLUDE ItemID WHERE Items.A IN ($X)`, map[string]string{"X": "1", "B": "2", "A": "3"},
			`value given for unknown placeholders $A, $B (the filter's placeholders are $X)`},
		{`INCLUDE ItemID WHERE Items.A IN ("x")`, map[string]string{"X": "1"},
			`value given for unknown placeholder $X (the filter has no placeholders)`},
		{`INCLUDE ItemID WHERE Items.PRICE < $MAX`, map[string]string{"MAX": "cheap"},
			`placeholder $MAX at position 36 is compared with "<", so its value must be a number, not "cheap"`},
		{`INCLUDE ItemID WHERE Items.PRICE >= $MIN`, map[string]string{"MIN": ""},
			`placeholder $MIN at position 37 is compared with ">=", so its value must be a number, not ""`},
		{`INCLUDE ItemID WHERE Items.PRICE > $MIN`, map[string]string{"MIN": "NaN"},
			`placeholder $MIN at position 36 is compared with ">", so its value must be a number, not "NaN"`},
		{`INCLUDE ItemID WHERE Items.PRICE <= $MIN`, map[string]string{"MIN": "1,2"},
			`placeholder $MIN at position 37 is compared with "<=", so its value must be a number, not "1,2"`},
		{`INCLUDE ItemID WHERE Items.A = "é" OR Items.A IN ("x", $L)`, map[string]string{"L": strings.Repeat("v,", 499) + "v"},
			`the comparison at position 39 has 501 values once its placeholders are split on commas; at most 500 are allowed`},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.expr)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.expr, err)
			continue
		}
		_, err = f.Bind(tt.values)
		if err == nil {
			t.Errorf("ParseFilter(%q).Bind(%q) succeeded, want error %q", tt.expr, tt.values, tt.want)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("ParseFilter(%q).Bind(%q) error\n got %s\nwant %s", tt.expr, tt.values, got, tt.want)
		}
	}
}

// filterTestItem is an item for Keep: attrs keyed by lower-cased name, and the
// event types of the profile's interactions with it.
type filterTestItem struct {
	attrs  map[string]string
	events []string
}

func (it filterTestItem) keep(b *Bound) bool {
	return b.Keep(
		func(column string) (string, bool) {
			v, ok := it.attrs[strings.ToLower(column)]
			return v, ok
		},
		func(eventType string) bool { return slices.Contains(it.events, eventType) },
	)
}

func TestKeep(t *testing.T) {
	comedy := filterTestItem{attrs: map[string]string{"genre": "Comedy", "price": "9.5", "year": "2001"}, events: []string{"click"}}
	drama := filterTestItem{attrs: map[string]string{"genre": "Drama", "price": "20", "year": "n/a"}}
	bare := filterTestItem{} // no attributes, no interactions
	tests := []struct {
		expr   string
		values map[string]string
		item   filterTestItem
		want   bool
	}{
		// IN / NOT IN, exact case, columns case-insensitive
		{`INCLUDE ItemID WHERE Items.GENRE IN ("Comedy", "Horror")`, nil, comedy, true},
		{`INCLUDE ItemID WHERE Items.genre IN ("Comedy")`, nil, drama, false},
		{`INCLUDE ItemID WHERE Items.GENRE IN ("comedy")`, nil, comedy, false},
		{`INCLUDE ItemID WHERE Items.GENRE IN ("Comedy")`, nil, bare, false},
		{`INCLUDE ItemID WHERE Items.GENRE NOT IN ("Comedy")`, nil, comedy, false},
		{`INCLUDE ItemID WHERE Items.GENRE NOT IN ("Comedy")`, nil, drama, true},
		{`INCLUDE ItemID WHERE Items.GENRE NOT IN ("Comedy")`, nil, bare, true},
		{`EXCLUDE ItemID WHERE Items.GENRE IN ("Comedy")`, nil, bare, true},
		{`EXCLUDE ItemID WHERE Items.GENRE IN ("Comedy")`, nil, comedy, false},
		{`INCLUDE ItemID WHERE Items.YEAR IN (2001)`, nil, comedy, true},   // numbers in lists compare as written
		{`INCLUDE ItemID WHERE Items.PRICE IN (9.50)`, nil, comedy, false}, // ... so 9.50 is not "9.5"
		{`INCLUDE ItemID WHERE Items.PRICE IN (-1, 9.5)`, nil, comedy, true},
		// = is string equality, or numeric equality of two numbers
		{`INCLUDE ItemID WHERE Items.GENRE = "Comedy"`, nil, comedy, true},
		{`INCLUDE ItemID WHERE Items.GENRE = "Comedy"`, nil, drama, false},
		{`INCLUDE ItemID WHERE Items.GENRE = "Comedy"`, nil, bare, false},
		{`INCLUDE ItemID WHERE Items.PRICE = 20`, nil, drama, true},
		{`INCLUDE ItemID WHERE Items.PRICE = 20.0`, nil, drama, true}, // equal numbers
		{`INCLUDE ItemID WHERE Items.PRICE = "20.5"`, nil, drama, false},
		{`INCLUDE ItemID WHERE Items.GENRE = 20`, nil, drama, false},
		{`INCLUDE ItemID WHERE Items.GENRE = $G`, map[string]string{"G": "Comedy"}, comedy, true},
		{`INCLUDE ItemID WHERE Items.GENRE = $G`, map[string]string{"G": "Comedy,Drama"}, comedy, false}, // one value with =
		// numeric comparisons
		{`INCLUDE ItemID WHERE Items.PRICE < 10`, nil, comedy, true},
		{`INCLUDE ItemID WHERE Items.PRICE < 10`, nil, drama, false},
		{`INCLUDE ItemID WHERE Items.PRICE > 9.5`, nil, comedy, false},
		{`INCLUDE ItemID WHERE Items.PRICE >= 9.5`, nil, comedy, true},
		{`INCLUDE ItemID WHERE Items.PRICE <= 9.5`, nil, comedy, true},
		{`INCLUDE ItemID WHERE Items.PRICE <= 9.49`, nil, comedy, false},
		{`INCLUDE ItemID WHERE Items.PRICE > -1`, nil, comedy, true},
		{`INCLUDE ItemID WHERE Items.PRICE >= 20.0`, nil, drama, true},
		{`INCLUDE ItemID WHERE Items.PRICE < $MAX`, map[string]string{"MAX": "15"}, comedy, true},
		{`INCLUDE ItemID WHERE Items.PRICE < $MAX`, map[string]string{"MAX": "1e1"}, drama, false},
		{`INCLUDE ItemID WHERE Items.YEAR > 1990`, nil, drama, false}, // "n/a" is not a number
		{`INCLUDE ItemID WHERE Items.YEAR < 1990`, nil, drama, false},
		{`INCLUDE ItemID WHERE Items.PRICE < 100`, nil, bare, false},   // missing attribute
		{`EXCLUDE ItemID WHERE Items.PRICE > 100`, nil, bare, true},    // ... so an EXCLUDE does not remove it
		{`INCLUDE ItemID WHERE Items.GENRE < 100`, nil, comedy, false}, // "Comedy" is not a number
		{`INCLUDE ItemID WHERE Items.GENRE > $N`, map[string]string{"N": "1"}, comedy, false},
		// Interactions.EVENT_TYPE
		{`INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")`, nil, comedy, true},
		{`INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Click")`, nil, comedy, false},
		{`INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view", "click")`, nil, comedy, true},
		{`INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")`, nil, drama, false},
		{`EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")`, nil, comedy, false},
		{`EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")`, nil, drama, true},
		{`INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("click")`, nil, comedy, false},
		{`INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("purchase")`, nil, comedy, true},
		{`INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("click")`, nil, bare, true},
		{`EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($SEEN)`, map[string]string{"SEEN": "view,click"}, comedy, false},
		// AND / OR / parentheses
		{`INCLUDE ItemID WHERE Items.GENRE = "Drama" OR Items.PRICE < 10`, nil, comedy, true},
		{`INCLUDE ItemID WHERE Items.GENRE = "Drama" AND Items.PRICE < 10`, nil, comedy, false},
		{`INCLUDE ItemID WHERE Items.GENRE = "Drama" OR Items.GENRE = "Comedy" AND Items.PRICE > 10`, nil, drama, true},
		{`INCLUDE ItemID WHERE Items.GENRE = "Drama" OR Items.GENRE = "Comedy" AND Items.PRICE > 10`, nil, comedy, false},
		{`INCLUDE ItemID WHERE (Items.GENRE = "Drama" OR Items.GENRE = "Comedy") AND Items.PRICE > 10`, nil, drama, true},
		{`INCLUDE ItemID WHERE (Items.GENRE = "Drama" OR Items.GENRE = "Comedy") AND Items.PRICE < 10`, nil, comedy, true},
		{`INCLUDE ItemID WHERE (Items.GENRE = "Drama" OR Items.GENRE = "Comedy") AND Items.PRICE < 10`, nil, drama, false},
		// statements combine: every INCLUDE holds, no EXCLUDE holds
		{`INCLUDE ItemID WHERE Items.PRICE < 100 | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")`, nil, comedy, false},
		{`INCLUDE ItemID WHERE Items.PRICE < 100 | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")`, nil, drama, true},
		{`INCLUDE ItemID WHERE Items.PRICE < 100 | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")`, nil, bare, false},
		{`EXCLUDE ItemID WHERE Items.GENRE IN ("Horror") | INCLUDE ItemID WHERE Items.GENRE IN ("Comedy", "Drama")`, nil, drama, true},
		{`INCLUDE ItemID WHERE Items.GENRE IN ("Comedy", "Drama") | INCLUDE ItemID WHERE Items.PRICE > 10`, nil, comedy, false},
		{`INCLUDE ItemID WHERE Items.GENRE IN ("Comedy", "Drama") | INCLUDE ItemID WHERE Items.PRICE > 10`, nil, drama, true},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.expr)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.expr, err)
			continue
		}
		b, err := f.Bind(tt.values)
		if err != nil {
			t.Errorf("ParseFilter(%q).Bind(%q): %v", tt.expr, tt.values, err)
			continue
		}
		if got := tt.item.keep(b); got != tt.want {
			t.Errorf("%s with %q: Keep(%v) = %v, want %v", tt.expr, tt.values, tt.item, got, tt.want)
		}
	}
}

// TestKeepPlaceholderLists checks that a placeholder's value in an IN list is
// split on commas outside double quotes, each value without the spaces and
// the quotes around it, alongside literals.
func TestKeepPlaceholderLists(t *testing.T) {
	f, err := ParseFilter(`INCLUDE ItemID WHERE Items.GENRE IN ("Horror", $GENRES)`)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x,", 100) + "Comedy" // long enough for a map lookup
	tests := []struct {
		genres string
		genre  string
		want   bool
	}{
		{"Comedy,Drama", "Comedy", true},
		{"Comedy,Drama", "Drama", true},
		{"Comedy,Drama", "Comedy,Drama", false},
		{"Comedy,Drama", "Horror", true},
		{"Comedy, Drama", "Drama", true}, // spaces around a value go
		{"Comedy, Drama", " Drama", false},
		{`"Comedy","Drama"`, "Drama", true},                 // as do quotes around it
		{`"Sci-Fi, Drama","Comedy"`, "Sci-Fi, Drama", true}, // a comma inside quotes is the value's
		{`"Sci-Fi, Drama","Comedy"`, "Drama", false},
		{`"Sci-Fi, Drama", Comedy`, "Comedy", true},
		{`"Sci-Fi, Drama`, "Sci-Fi, Drama", false}, // an unclosed quote runs to the end, quote and all
		{`"Sci-Fi, Drama`, `"Sci-Fi, Drama`, true},
		{"Comedy", "Comedy", true},
		{"", "", true},
		{"", "Comedy", false},
		{"Comedy,", "", true},
		{long, "Comedy", true},
		{long, "x", true},
		{long, "Drama", false},
	}
	for _, tt := range tests {
		b, err := f.Bind(map[string]string{"GENRES": tt.genres})
		if err != nil {
			t.Errorf("Bind(GENRES=%q): %v", tt.genres, err)
			continue
		}
		it := filterTestItem{attrs: map[string]string{"genre": tt.genre}}
		if got := it.keep(b); got != tt.want {
			t.Errorf("GENRES=%q, genre %q: Keep = %v, want %v", tt.genres, tt.genre, got, tt.want)
		}
	}
}

// TestKeepColumnLowerCased checks that Keep asks attr for lower-cased columns.
func TestKeepColumnLowerCased(t *testing.T) {
	f, err := ParseFilter(`INCLUDE ItemID WHERE Items.Genre IN ("a") OR Items.PRICE > 1 OR Items.Year = "x"`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Bind(nil)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	b.Keep(func(c string) (string, bool) { asked = append(asked, c); return "", false }, nil)
	if want := []string{"genre", "price", "year"}; !slices.Equal(asked, want) {
		t.Errorf("attr asked for %q, want %q", asked, want)
	}
}

// TestBindReusable checks that one Filter binds to several independent values.
func TestBindReusable(t *testing.T) {
	f, err := ParseFilter(`INCLUDE ItemID WHERE Items.GENRE IN ($G)`)
	if err != nil {
		t.Fatal(err)
	}
	comedy, err := f.Bind(map[string]string{"G": "Comedy"})
	if err != nil {
		t.Fatal(err)
	}
	drama, err := f.Bind(map[string]string{"G": "Drama"})
	if err != nil {
		t.Fatal(err)
	}
	it := filterTestItem{attrs: map[string]string{"genre": "Comedy"}}
	if got, want := it.keep(comedy), true; got != want {
		t.Errorf("G=Comedy: Keep = %v, want %v", got, want)
	}
	if got, want := it.keep(drama), false; got != want {
		t.Errorf("G=Drama: Keep = %v, want %v", got, want)
	}
}

func TestKeepAllocs(t *testing.T) {
	b, it := benchKeepFilter(t)
	attr, interacted := it.funcs()
	if n := testing.AllocsPerRun(100, func() { b.Keep(attr, interacted) }); n != 0 {
		t.Errorf("Keep allocates %v times per call, want 0", n)
	}
}

func (it filterTestItem) funcs() (func(string) (string, bool), func(string) bool) {
	return func(column string) (string, bool) {
			v, ok := it.attrs[strings.ToLower(column)]
			return v, ok
		}, func(eventType string) bool {
			return slices.Contains(it.events, eventType)
		}
}

func benchKeepFilter(tb testing.TB) (*Bound, filterTestItem) {
	f, err := ParseFilter(`INCLUDE ItemID WHERE Items.GENRE IN ($GENRES) AND Items.PRICE <= $MAX OR Items.FEATURED = "yes" | ` +
		`EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase", "dislike") OR Items.STATUS NOT IN ("active")`)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := f.Bind(map[string]string{"GENRES": "Drama,Comedy,Documentary", "MAX": "25"})
	if err != nil {
		tb.Fatal(err)
	}
	it := filterTestItem{
		attrs:  map[string]string{"genre": "Comedy", "price": "12.99", "status": "active", "title": "A Film"},
		events: []string{"view", "click"},
	}
	if !it.keep(b) {
		tb.Fatal("the benchmark item is not kept")
	}
	return b, it
}

func BenchmarkKeep(b *testing.B) {
	bound, it := benchKeepFilter(b)
	attr, interacted := it.funcs()
	b.ReportAllocs()
	for b.Loop() {
		if !bound.Keep(attr, interacted) {
			b.Fatal("not kept")
		}
	}
}
