// Package rowcodec is the encoding both stores (sqlite and postgres) give the
// JSON and opaque columns of their rows: domain settings and tags, object
// types, profile data. One encoding means rows can be copied from one store
// to the other, and a renamed root field fails to compile here instead of
// changing what is stored.
package rowcodec
