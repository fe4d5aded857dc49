package recommend

// Recommender filter expressions: the subset of the Amazon Personalize
// filter expression syntax that CreateRecommenderFilter stores and
// GetProfileRecommendations applies.
//
//	expression := statement ( "|" statement )*
//	statement  := ("INCLUDE" | "EXCLUDE") "ItemID" "WHERE" condition
//	condition  := term ( ("AND" | "OR") term )*   -- AND binds tighter than OR
//	term       := "(" condition ")" | comparison
//	comparison := Items.<column> ("IN" | "NOT IN") "(" values ")"
//	            | Items.<column> ("=" | "<" | ">" | "<=" | ">=") value
//	            | Interactions.EVENT_TYPE ("IN" | "NOT IN") "(" values ")"
//	values     := value ("," value)*
//	value      := "double-quoted string" | number | $PLACEHOLDER
//
// The expression is parsed once (ParseFilter), its placeholders are bound
// per request (Filter.Bind), and the bound filter is evaluated per item
// (Bound.Keep).

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on filter expressions, so that hostile input cannot exhaust the
// stack or make evaluation slow.
const (
	maxFilterChars    = 2500 // length of an expression, in characters
	maxFilterDepth    = 32   // nesting of parentheses
	maxFilterStmts    = 20   // statements separated by "|"
	maxFilterValues   = 500  // values in one IN list, also after binding
	maxPlaceholderLen = 50   // characters of a placeholder name after "$"
	filterSetMin      = 16   // IN lists at least this long are looked up in a map
)

// ---- lexer ----

type filterTokenKind uint8

const (
	tokEOF filterTokenKind = iota
	tokWord
	tokString
	tokNumber
	tokPlaceholder
	tokLParen
	tokRParen
	tokComma
	tokPipe
	tokEq
	tokLt
	tokGt
	tokLe
	tokGe
	tokNe // "!=" or "<>": recognised only to say that it is not supported
)

type filterToken struct {
	kind filterTokenKind
	off  int    // byte offset in the expression
	raw  string // the token as written
	text string // word, unescaped string, number, or placeholder name without "$"
}

// charPosition turns a byte offset in src into a 1-based character offset.
func charPosition(src string, off int) int {
	return utf8.RuneCountInString(src[:off]) + 1
}

func posErrorf(src string, off int, format string, args ...any) error {
	return fmt.Errorf("position %d: %s", charPosition(src, off), fmt.Sprintf(format, args...))
}

type filterLexer struct {
	src string
	off int
}

func isFilterSpace(c byte) bool     { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isFilterDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isFilterWordStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isFilterWordChar(c byte) bool  { return isFilterWordStart(c) || isFilterDigit(c) }

// next returns the next token, or an error for text that is no token.
func (l *filterLexer) next() (filterToken, error) {
	src := l.src
	for l.off < len(src) && isFilterSpace(src[l.off]) {
		l.off++
	}
	start := l.off
	if start == len(src) {
		return filterToken{kind: tokEOF, off: start}, nil
	}
	tok := func(kind filterTokenKind, end int, text string) (filterToken, error) {
		l.off = end
		return filterToken{kind: kind, off: start, raw: src[start:end], text: text}, nil
	}
	c := src[start]
	switch {
	case isFilterWordStart(c):
		// Words include dots, so that Items.GENRE is one token.
		end := start + 1
		for end < len(src) && (isFilterWordChar(src[end]) || src[end] == '.') {
			end++
		}
		return tok(tokWord, end, src[start:end])
	case isFilterDigit(c) || (c == '-' || c == '+') && start+1 < len(src) && isFilterDigit(src[start+1]):
		end := start + 1
		for end < len(src) && isFilterDigit(src[end]) {
			end++
		}
		if end+1 < len(src) && src[end] == '.' && isFilterDigit(src[end+1]) {
			end += 2
			for end < len(src) && isFilterDigit(src[end]) {
				end++
			}
		}
		return tok(tokNumber, end, src[start:end])
	case c == '"':
		return l.lexString()
	case c == '$':
		end := start + 1
		for end < len(src) && isFilterWordChar(src[end]) {
			end++
		}
		name := src[start+1 : end]
		if name == "" {
			return filterToken{}, posErrorf(src, start, `expected a placeholder name (letters, digits or "_") after "$"`)
		}
		if len(name) > maxPlaceholderLen {
			return filterToken{}, posErrorf(src, start, "placeholder name $%s is %d characters long; at most %d are allowed", name, len(name), maxPlaceholderLen)
		}
		return tok(tokPlaceholder, end, name)
	case c == '(':
		return tok(tokLParen, start+1, "")
	case c == ')':
		return tok(tokRParen, start+1, "")
	case c == ',':
		return tok(tokComma, start+1, "")
	case c == '|':
		return tok(tokPipe, start+1, "")
	case c == '=':
		return tok(tokEq, start+1, "")
	case c == '<':
		if start+1 < len(src) && src[start+1] == '=' {
			return tok(tokLe, start+2, "")
		}
		if start+1 < len(src) && src[start+1] == '>' {
			return tok(tokNe, start+2, "")
		}
		return tok(tokLt, start+1, "")
	case c == '>':
		if start+1 < len(src) && src[start+1] == '=' {
			return tok(tokGe, start+2, "")
		}
		return tok(tokGt, start+1, "")
	case c == '!' && start+1 < len(src) && src[start+1] == '=':
		return tok(tokNe, start+2, "")
	}
	r, _ := utf8.DecodeRuneInString(src[start:])
	return filterToken{}, posErrorf(src, start, "unexpected character %q", r)
}

// lexString reads a double-quoted string at l.off; its escapes are \" and \\.
func (l *filterLexer) lexString() (filterToken, error) {
	src, start := l.src, l.off
	var b strings.Builder
	for i := start + 1; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			l.off = i + 1
			return filterToken{kind: tokString, off: start, raw: src[start : i+1], text: b.String()}, nil
		case '\\':
			if i+1 == len(src) {
				break
			}
			if e := src[i+1]; e == '"' || e == '\\' {
				b.WriteByte(e)
				i++
				continue
			}
			r, _ := utf8.DecodeRuneInString(src[i+1:])
			return filterToken{}, posErrorf(src, i, `unsupported escape "\%c" in string; only \" and \\ are allowed`, r)
		default:
			b.WriteByte(c)
		}
	}
	return filterToken{}, posErrorf(src, start, `string is not terminated (missing closing ")`)
}

// describeToken names a token for "found ..." in error messages.
func describeToken(t filterToken) string {
	raw := t.raw
	if utf8.RuneCountInString(raw) > 30 {
		n := 0
		for i := range raw {
			if n == 30 {
				raw = raw[:i] + "..."
				break
			}
			n++
		}
	}
	switch t.kind {
	case tokEOF:
		return "the end of the expression"
	case tokString:
		return "string " + raw
	}
	return strconv.Quote(raw)
}

// ---- syntax tree ----

type condKind uint8

const (
	condAnd    condKind = iota // all args hold
	condOr                     // some arg holds
	condItems                  // Items.<column> op values
	condEvents                 // Interactions.EVENT_TYPE op values
)

type cmpOp uint8

const (
	opIn cmpOp = iota
	opNotIn
	opEq
	opLt
	opGt
	opLe
	opGe
)

var opNames = [...]string{opIn: "IN", opNotIn: "NOT IN", opEq: "=", opLt: "<", opGt: ">", opLe: "<=", opGe: ">="}

// filterValue is a literal or a placeholder in a comparison.
type filterValue struct {
	off  int
	kind filterTokenKind // tokString, tokNumber or tokPlaceholder
	raw  string          // as written
	text string          // unescaped string, number as written, or placeholder name
	num  float64         // of a tokNumber
}

type filterCond struct {
	kind   condKind
	args   []*filterCond // condAnd, condOr
	off    int           // where a comparison starts
	column string        // Items column as written
	op     cmpOp
	values []filterValue
}

type filterStatement struct {
	include bool
	cond    *filterCond
}

// A Filter is a parsed filter expression.
type Filter struct {
	src          string // the expression, for positions in Bind errors
	statements   []filterStatement
	placeholders []string // sorted, unique
	columns      []string // sorted, unique
}

// ---- parser ----

type filterParser struct {
	src          string
	lex          filterLexer
	tok          filterToken
	placeholders map[string]bool
	columns      map[string]bool
}

func (p *filterParser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *filterParser) errorf(off int, format string, args ...any) error {
	return posErrorf(p.src, off, format, args...)
}

// expected reports that the current token is not what was expected.
func (p *filterParser) expected(what string) error {
	return p.errorf(p.tok.off, "expected %s, found %s", what, describeToken(p.tok))
}

// isKeyword reports whether t is the word kw, ignoring case.
func isKeyword(t filterToken, kw string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, kw)
}

// ParseFilter parses expr. Its error is a sentence a user can act on,
// naming the position (1-based character offset) and what was expected or is not supported,
// e.g. `position 27: expected "WHERE", found "WHEN"`.
func ParseFilter(expr string) (*Filter, error) {
	if expr == "" {
		return nil, errors.New("filter expression is empty")
	}
	if n := utf8.RuneCountInString(expr); n > maxFilterChars {
		return nil, fmt.Errorf("filter expression is %d characters long; at most %d are allowed", n, maxFilterChars)
	}
	p := &filterParser{src: expr, lex: filterLexer{src: expr}, placeholders: map[string]bool{}, columns: map[string]bool{}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	f := &Filter{src: expr}
	for {
		if len(f.statements) == maxFilterStmts {
			return nil, p.errorf(p.tok.off, "too many statements; at most %d are allowed", maxFilterStmts)
		}
		s, err := p.parseStatement()
		if err != nil {
			return nil, err
		}
		f.statements = append(f.statements, s)
		switch {
		case p.tok.kind == tokEOF:
			f.placeholders = sortedNames(p.placeholders)
			f.columns = sortedNames(p.columns)
			return f, nil
		case p.tok.kind == tokPipe:
			if err := p.advance(); err != nil {
				return nil, err
			}
		case isKeyword(p.tok, "IF"):
			return nil, p.errorf(p.tok.off, "IF clauses are not supported")
		default:
			return nil, p.expected(`"AND", "OR", "|" or the end of the expression`)
		}
	}
}

func sortedNames(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// parseStatement parses ("INCLUDE" | "EXCLUDE") "ItemID" "WHERE" condition.
func (p *filterParser) parseStatement() (filterStatement, error) {
	var s filterStatement
	switch {
	case isKeyword(p.tok, "INCLUDE"):
		s.include = true
	case isKeyword(p.tok, "EXCLUDE"):
	default:
		return s, p.expected(`"INCLUDE" or "EXCLUDE"`)
	}
	if err := p.advance(); err != nil {
		return s, err
	}
	if !isKeyword(p.tok, "ItemID") {
		return s, p.expected(`"ItemID"`)
	}
	if err := p.advance(); err != nil {
		return s, err
	}
	if !isKeyword(p.tok, "WHERE") {
		return s, p.expected(`"WHERE"`)
	}
	if err := p.advance(); err != nil {
		return s, err
	}
	c, err := p.parseCondition(0)
	s.cond = c
	return s, err
}

// parseCondition parses terms joined by OR and AND, AND binding tighter;
// depth is the number of enclosing parentheses.
func (p *filterParser) parseCondition(depth int) (*filterCond, error) {
	var ors []*filterCond
	for {
		var ands []*filterCond
		for {
			t, err := p.parseTerm(depth)
			if err != nil {
				return nil, err
			}
			ands = append(ands, t)
			if !isKeyword(p.tok, "AND") {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if len(ands) == 1 {
			ors = append(ors, ands[0])
		} else {
			ors = append(ors, &filterCond{kind: condAnd, args: ands})
		}
		if !isKeyword(p.tok, "OR") {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if len(ors) == 1 {
		return ors[0], nil
	}
	return &filterCond{kind: condOr, args: ors}, nil
}

// parseTerm parses a parenthesized condition or a comparison.
func (p *filterParser) parseTerm(depth int) (*filterCond, error) {
	if p.tok.kind != tokLParen {
		return p.parseComparison()
	}
	if depth == maxFilterDepth {
		return nil, p.errorf(p.tok.off, "parentheses are nested too deeply; at most %d levels are allowed", maxFilterDepth)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	c, err := p.parseCondition(depth + 1)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokRParen {
		return nil, p.expected(`")", "AND" or "OR"`)
	}
	return c, p.advance()
}

// parseComparison parses Items.<column> op value(s) or
// Interactions.EVENT_TYPE [NOT] IN (values).
func (p *filterParser) parseComparison() (*filterCond, error) {
	t := p.tok
	const want = "Items.<column> or Interactions.EVENT_TYPE"
	if t.kind != tokWord {
		return nil, p.expected(want)
	}
	dataset, column, dotted := strings.Cut(t.text, ".")
	if !dotted {
		if strings.EqualFold(t.text, "ItemID") {
			return nil, p.errorf(t.off, "comparisons of ItemID are not supported; compare %s", want)
		}
		return nil, p.expected(want)
	}
	colOff := t.off + len(dataset) + 1
	c := &filterCond{off: t.off, column: column}
	switch strings.ToLower(dataset) {
	case "items":
		if column == "" {
			return nil, p.errorf(colOff, "expected a column name after %q", dataset+".")
		}
		for _, part := range strings.Split(column, ".") {
			if part == "" {
				return nil, p.errorf(colOff, "invalid column name %q", column)
			}
		}
		c.kind = condItems
		p.columns[column] = true
	case "interactions":
		if !strings.EqualFold(column, "EVENT_TYPE") {
			return nil, p.errorf(t.off, "%s is not supported; the only Interactions column a filter can use is EVENT_TYPE", t.text)
		}
		c.kind = condEvents
		c.column = ""
	case "users", "currentuser", "currentitem":
		return nil, p.errorf(t.off, "%s is not supported: %s columns cannot be used in filters; compare %s", t.text, dataset, want)
	default:
		return nil, p.errorf(t.off, "unknown dataset %q in %s; compare %s", dataset, t.text, want)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}

	// Operator.
	switch op := p.tok; {
	case isKeyword(op, "IN"):
		c.op = opIn
	case isKeyword(op, "NOT"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		if !isKeyword(p.tok, "IN") {
			return nil, p.expected(`"IN" after "NOT"`)
		}
		c.op = opNotIn
	case op.kind == tokNe:
		return nil, p.errorf(op.off, `%q is not supported; use NOT IN ("value")`, op.raw)
	case op.kind >= tokEq && op.kind <= tokGe:
		if c.kind == condEvents {
			return nil, p.errorf(op.off, "Interactions.EVENT_TYPE can only be compared with IN or NOT IN, not %q", op.raw)
		}
		c.op = [...]cmpOp{tokEq: opEq, tokLt: opLt, tokGt: opGt, tokLe: opLe, tokGe: opGe}[op.kind]
	case c.kind == condEvents:
		return nil, p.expected(`"IN" or "NOT IN"`)
	default:
		return nil, p.expected(`"IN", "NOT IN", "=", "<", ">", "<=" or ">="`)
	}
	opTok := p.tok
	if err := p.advance(); err != nil {
		return nil, err
	}

	// Values.
	if c.op != opIn && c.op != opNotIn {
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		if c.op != opEq && v.kind == tokString {
			return nil, p.errorf(v.off, "%q compares numbers, but %s is not a number", opTok.raw, describeToken(filterToken{kind: tokString, raw: v.raw}))
		}
		c.values = []filterValue{v}
		return c, nil
	}
	if p.tok.kind != tokLParen {
		return nil, p.expected(`"(" to start the list of values`)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	for {
		if len(c.values) == maxFilterValues {
			return nil, p.errorf(p.tok.off, "too many values in the list; at most %d are allowed", maxFilterValues)
		}
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		c.values = append(c.values, v)
		switch p.tok.kind {
		case tokComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		case tokRParen:
			return c, p.advance()
		}
		return nil, p.expected(`"," or ")"`)
	}
}

// parseValue parses a string, a number or a placeholder.
func (p *filterParser) parseValue() (filterValue, error) {
	t := p.tok
	v := filterValue{off: t.off, kind: t.kind, raw: t.raw, text: t.text}
	switch t.kind {
	case tokString:
	case tokNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return v, p.errorf(t.off, "number %s is out of range", t.text)
		}
		v.num = n
	case tokPlaceholder:
		p.placeholders[t.text] = true
	default:
		return v, p.expected(`a value (a "quoted string", a number or a $placeholder)`)
	}
	return v, p.advance()
}

// Placeholders returns the names (without "$") of the filter's placeholders, sorted, without duplicates.
func (f *Filter) Placeholders() []string {
	return slices.Clone(f.placeholders)
}

// ItemColumns returns the Items columns the filter names, as written, sorted, without duplicates.
func (f *Filter) ItemColumns() []string {
	return slices.Clone(f.columns)
}

// format writes the filter back as an expression with every AND and OR
// group in parentheses; tests use it to check what was parsed.
func (f *Filter) format() string {
	var b strings.Builder
	for i, s := range f.statements {
		if i > 0 {
			b.WriteString(" | ")
		}
		if s.include {
			b.WriteString("INCLUDE ItemID WHERE ")
		} else {
			b.WriteString("EXCLUDE ItemID WHERE ")
		}
		s.cond.format(&b)
	}
	return b.String()
}

func (c *filterCond) format(b *strings.Builder) {
	switch c.kind {
	case condAnd, condOr:
		sep := " AND "
		if c.kind == condOr {
			sep = " OR "
		}
		b.WriteByte('(')
		for i, a := range c.args {
			if i > 0 {
				b.WriteString(sep)
			}
			a.format(b)
		}
		b.WriteByte(')')
		return
	case condItems:
		b.WriteString("Items." + c.column)
	case condEvents:
		b.WriteString("Interactions.EVENT_TYPE")
	}
	b.WriteString(" " + opNames[c.op] + " ")
	if c.op == opIn || c.op == opNotIn {
		b.WriteByte('(')
	}
	for i, v := range c.values {
		if i > 0 {
			b.WriteString(", ")
		}
		switch v.kind {
		case tokString:
			b.WriteByte('"')
			for j := 0; j < len(v.text); j++ {
				if v.text[j] == '"' || v.text[j] == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(v.text[j])
			}
			b.WriteByte('"')
		case tokPlaceholder:
			b.WriteString("$" + v.text)
		default:
			b.WriteString(v.text)
		}
	}
	if c.op == opIn || c.op == opNotIn {
		b.WriteByte(')')
	}
}

// ---- binding and evaluation ----

// boundCond is a filterCond with its placeholders replaced by their values.
type boundCond struct {
	kind   condKind
	op     cmpOp
	args   []boundCond         // condAnd, condOr
	column string              // Items column, lower-cased
	strs   []string            // IN list, or the one operand of "="
	set    map[string]struct{} // the IN list, when it is long
	num    float64             // operand of <, >, <=, >=; of "=" when numeric
	// numeric: the operand of "=" is a number, so "=" also holds for an
	// equal number written otherwise (10 and "10.00").
	numeric bool
}

type boundStatement struct {
	include bool
	cond    boundCond
}

// A Bound is a filter with its placeholders resolved: safe for concurrent use.
type Bound struct {
	statements []boundStatement
}

// Bind resolves the placeholders with values (name without "$" -> value, as in the
// API's RecommenderFilterValues map; keys match exactly). A placeholder with no value is an
// error naming it; values for names the filter does not have are an error naming them too.
// A bound placeholder used with <,>,<=,>= must be a number (error naming it otherwise).
//
// In an IN or NOT IN list a placeholder's value is split on commas (outside
// double quotes) into several values; with the other operators it is one
// value.
func (f *Filter) Bind(values map[string]string) (*Bound, error) {
	var missing, extra []string
	for _, name := range f.placeholders {
		if _, ok := values[name]; !ok {
			missing = append(missing, "$"+name)
		}
	}
	for name := range values {
		if _, found := slices.BinarySearch(f.placeholders, name); !found {
			extra = append(extra, "$"+name)
		}
	}
	slices.Sort(extra)
	var errs []string
	if len(missing) == 1 {
		errs = append(errs, "missing value for placeholder "+missing[0])
	} else if len(missing) > 1 {
		errs = append(errs, "missing values for placeholders "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		has := "the filter has no placeholders"
		if len(f.placeholders) > 0 {
			has = "the filter's placeholders are $" + strings.Join(f.placeholders, ", $")
		}
		s := "placeholder "
		if len(extra) > 1 {
			s = "placeholders "
		}
		errs = append(errs, "value given for unknown "+s+strings.Join(extra, ", ")+" ("+has+")")
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	b := &Bound{statements: make([]boundStatement, len(f.statements))}
	for i, s := range f.statements {
		c, err := f.bind(s.cond, values)
		if err != nil {
			return nil, err
		}
		b.statements[i] = boundStatement{include: s.include, cond: c}
	}
	return b, nil
}

func (f *Filter) bind(c *filterCond, values map[string]string) (boundCond, error) {
	bc := boundCond{kind: c.kind, op: c.op, column: strings.ToLower(c.column)}
	switch {
	case c.kind == condAnd || c.kind == condOr:
		bc.args = make([]boundCond, len(c.args))
		for i, a := range c.args {
			var err error
			if bc.args[i], err = f.bind(a, values); err != nil {
				return bc, err
			}
		}
	case c.op == opIn || c.op == opNotIn:
		for _, v := range c.values {
			if v.kind == tokPlaceholder {
				for _, one := range splitValues(values[v.text]) {
					bc.strs = append(bc.strs, unquoteValue(one))
				}
			} else {
				bc.strs = append(bc.strs, v.text)
			}
		}
		if len(bc.strs) > maxFilterValues {
			return bc, fmt.Errorf("the comparison at position %d has %d values once its placeholders are split on commas; at most %d are allowed",
				charPosition(f.src, c.off), len(bc.strs), maxFilterValues)
		}
		if len(bc.strs) >= filterSetMin {
			bc.set = make(map[string]struct{}, len(bc.strs))
			for _, s := range bc.strs {
				bc.set[s] = struct{}{}
			}
		}
	case c.op == opEq:
		v := c.values[0]
		if v.kind == tokPlaceholder {
			bc.strs = []string{unquoteValue(values[v.text])}
		} else {
			bc.strs = []string{v.text}
		}
		bc.num, bc.numeric = parseFiniteNumber(bc.strs[0])
	default: // <, >, <=, >=
		v := c.values[0]
		bc.num = v.num
		if v.kind == tokPlaceholder {
			n, ok := parseFiniteNumber(values[v.text])
			if !ok {
				return bc, fmt.Errorf("placeholder $%s at position %d is compared with %q, so its value must be a number, not %q",
					v.text, charPosition(f.src, v.off), opNames[c.op], values[v.text])
			}
			bc.num = n
		}
	}
	return bc, nil
}

// splitValues splits a placeholder's value for an IN list on its commas,
// but not on those inside double quotes: "\"Sci-Fi, Drama\",\"Comedy\""
// is two values. A value that opens a quote without closing it runs to the
// end.
func splitValues(v string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

// unquoteValue returns one value of a placeholder as a comparison uses it:
// without the spaces around it and, when it has them, the double quotes
// Personalize's examples put around each value ("\"Comedy\",\"Drama\"").
func unquoteValue(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v
}

// parseFiniteNumber parses an item's value or a placeholder's value as a finite
// number. Values that cannot start a number are rejected before
// strconv.ParseFloat, whose error would allocate.
func parseFiniteNumber(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	if c := s[0]; !isFilterDigit(c) && c != '-' && c != '+' && c != '.' {
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}

// Keep reports whether an item passes the filter. attr returns the value of the item's
// attribute whose name equals column case-insensitively (ok false when it has none);
// interacted reports whether the profile asking interacted with the item with that event type.
//
// Keep passes columns to attr lower-cased. An item is kept when the
// condition of every INCLUDE statement holds and that of no EXCLUDE
// statement holds.
func (b *Bound) Keep(attr func(column string) (string, bool), interacted func(eventType string) bool) bool {
	for i := range b.statements {
		s := &b.statements[i]
		if s.cond.holds(attr, interacted) != s.include {
			return false
		}
	}
	return true
}

func (c *boundCond) holds(attr func(string) (string, bool), interacted func(string) bool) bool {
	switch c.kind {
	case condAnd:
		for i := range c.args {
			if !c.args[i].holds(attr, interacted) {
				return false
			}
		}
		return true
	case condOr:
		for i := range c.args {
			if c.args[i].holds(attr, interacted) {
				return true
			}
		}
		return false
	case condEvents:
		in := false
		for _, t := range c.strs {
			if interacted(t) {
				in = true
				break
			}
		}
		return in == (c.op == opIn)
	}
	v, ok := attr(c.column)
	switch c.op {
	case opIn:
		return ok && c.has(v)
	case opNotIn:
		return !ok || !c.has(v)
	case opEq:
		if !ok {
			return false
		}
		if v == c.strs[0] {
			return true
		}
		if c.numeric { // 10 = "10.00"
			n, isNum := parseFiniteNumber(v)
			return isNum && n == c.num
		}
		return false
	}
	if !ok {
		return false
	}
	n, ok := parseFiniteNumber(v)
	if !ok {
		return false
	}
	switch c.op {
	case opLt:
		return n < c.num
	case opGt:
		return n > c.num
	case opLe:
		return n <= c.num
	default:
		return n >= c.num
	}
}

// has reports whether v is in the IN list.
func (c *boundCond) has(v string) bool {
	if c.set != nil {
		_, ok := c.set[v]
		return ok
	}
	return slices.Contains(c.strs, v)
}
