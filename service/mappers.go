package service

import (
	"maps"
	"slices"
	"sync"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

// mappers keeps the compiled mappings of the object types that ingestion
// uses, so that an object costs its own decoding and not its type's
// parsing too. An entry is found by domain and type name, and used only
// while the type's Fields, Keys and timestamp format are equal to those it
// was compiled from: compared, not trusted to LastUpdatedAt, since two
// changes within one clock tick must not share an entry. The zero value is
// ready to use, and it is safe for concurrent use.
type mappers struct {
	mu      sync.Mutex
	entries map[string]*mapperEntry // domain "\x00" type name
}

// maxMappers bounds a mappers; past it, the cache starts again.
const maxMappers = 1024

type mapperEntry struct {
	fields map[string]profiles.ObjectTypeField
	keys   map[string][]profiles.ObjectTypeKey
	format string
	mapper *mapping.Mapper
}

// mapObject maps obj with t, as mapping.Map does.
func (c *mappers) mapObject(t *profiles.ObjectType, obj []byte) (*mapping.Result, error) {
	m, err := c.get(t)
	if err != nil {
		return nil, err
	}
	return m.Map(obj)
}

// peek returns the mapper last compiled for a domain's object type, or nil,
// without knowing whether the type is still so defined: a guess, which
// get, given the type as read, confirms (the same *Mapper) or not.
func (c *mappers) peek(domain, name string) *mapping.Mapper {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[domain+"\x00"+name]; e != nil {
		return e.mapper
	}
	return nil
}

// get returns the mapper of t, compiling it when t is new or has changed.
func (c *mappers) get(t *profiles.ObjectType) (*mapping.Mapper, error) {
	id := t.DomainName + "\x00" + t.Name
	c.mu.Lock()
	e := c.entries[id]
	c.mu.Unlock()
	if e != nil && e.compiledFrom(t) {
		return e.mapper, nil
	}
	m, err := mapping.Compile(t)
	if err != nil {
		return nil, err
	}
	e = &mapperEntry{fields: maps.Clone(t.Fields), keys: make(map[string][]profiles.ObjectTypeKey, len(t.Keys)),
		format: t.SourceLastUpdatedTimestampFormat, mapper: m}
	for name, defs := range t.Keys {
		e.keys[name] = slices.Clone(defs)
		for i := range defs {
			e.keys[name][i] = profiles.ObjectTypeKey{StandardIdentifiers: slices.Clone(defs[i].StandardIdentifiers), FieldNames: slices.Clone(defs[i].FieldNames)}
		}
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxMappers {
		c.entries = map[string]*mapperEntry{}
	}
	c.entries[id] = e
	c.mu.Unlock()
	return m, nil
}

// compiledFrom reports whether t maps as the type e was compiled from.
func (e *mapperEntry) compiledFrom(t *profiles.ObjectType) bool {
	return t.SourceLastUpdatedTimestampFormat == e.format && maps.Equal(t.Fields, e.fields) &&
		maps.EqualFunc(t.Keys, e.keys, func(a, b []profiles.ObjectTypeKey) bool {
			return slices.EqualFunc(a, b, func(x, y profiles.ObjectTypeKey) bool {
				return slices.Equal(x.StandardIdentifiers, y.StandardIdentifiers) && slices.Equal(x.FieldNames, y.FieldNames)
			})
		})
}
