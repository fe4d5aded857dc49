package mapping

// Internal functions under test, for the external test package.
var (
	JavaLayout     = javaLayout
	ParseTimestamp = parseTimestamp
)
