package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.EventStreamService = (*Service)(nil)

// streamDoc is what an event stream's config holds: its destination, and
// the destination's health as the delivery loop last saw it.
type streamDoc struct {
	Uri  string            `json:"uri"`
	Tags map[string]string `json:"tags,omitempty"`
	// TypeKeys are the keys of the domain's data when the stream was
	// created (the domain's key and its object types' own EncryptionKeys),
	// which its creator was allowed kms:Decrypt on (awsapi): it sends the
	// objects of a type whose own key is one of them, or that has none. An
	// object type given another key later is not sent (the creator was not
	// checked for that key). KeysKept is false for a stream stored before
	// this, which sends every type's objects.
	TypeKeys       []string  `json:"typeKeys,omitempty"`
	KeysKept       bool      `json:"keysKept,omitempty"`
	Status         string    `json:"status"`
	UnhealthySince time.Time `json:"unhealthySince,omitzero"`
	Message        string    `json:"message,omitempty"`
}

// CreateEventStream checks the destination (a Kinesis data stream of this
// server's region that the destination service has) and stores the stream;
// every change of the domain from then on is delivered to it.
func (s *Service) CreateEventStream(ctx context.Context, es *profiles.EventStream) (*profiles.EventStream, error) {
	if _, err := s.Store.FindDomain(ctx, es.DomainName); err != nil {
		return nil, domainErr(err, es.DomainName)
	}
	if err := s.checkDestination(ctx, es.Uri); err != nil {
		return nil, err
	}
	keys, err := s.checkedKeys(ctx, es.DomainName)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(streamDoc{Uri: es.Uri, Tags: es.Tags, Status: profiles.DestinationHealthy, TypeKeys: keys, KeysKept: true})
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: es.DomainName, Kind: profiles.ConfigEventStream, Name: es.Name, Data: data}
	switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxEventStreamsPerDomain); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, es.DomainName)
	case profiles.ECONFLICT:
		return nil, profiles.Errorf(profiles.EINVALID, "Event stream %s already exists in domain %s.", es.Name, es.DomainName)
	case profiles.EQUOTA:
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d event streams, the most it may have.", es.DomainName, profiles.MaxEventStreamsPerDomain)
	default:
		return nil, err
	}
	s.domains.forgetStreams(es.DomainName)
	return s.streamFromConfig(ctx, c)
}

// checkedKeys returns the keys a new event stream's creator was checked
// for (kms:Decrypt): the domain's key and the EncryptionKeys of its object
// types. A type whose own key is the domain's is kept too: should the
// domain's key change, the type's objects are still under the key checked.
func (s *Service) checkedKeys(ctx context.Context, domain string) ([]string, error) {
	d, err := s.Store.FindDomain(ctx, domain)
	if err != nil {
		return nil, domainErr(err, domain)
	}
	var keys []string
	err = s.Store.View(ctx, func(tx profiles.Tx) error {
		types, err := tx.ListObjectTypes(ctx, domain, "", 0)
		if err != nil {
			return err
		}
		keys = keys[:0]
		if d.DefaultEncryptionKey != "" {
			keys = append(keys, d.DefaultEncryptionKey)
		}
		for _, t := range types {
			if k := t.EncryptionKey; k != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		return nil
	})
	return keys, domainErr(err, domain)
}

// checkDestination checks a destination ARN: a Kinesis data stream of this
// server's region, which the destination service has and lets this
// server write to.
func (s *Service) checkDestination(ctx context.Context, uri string) error {
	bad := func(format string, args ...any) error { return profiles.Errorf(profiles.EINVALID, format, args...) }
	parts := strings.SplitN(uri, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kinesis" || !strings.HasPrefix(parts[5], "stream/") || len(parts[5]) == len("stream/") {
		return bad("Uri %q must be the ARN of a Kinesis data stream: arn:aws:kinesis:%s:ACCOUNT:stream/NAME.", uri, s.Region)
	}
	if parts[3] != s.Region {
		return bad("Uri %q: the Kinesis data stream must be in the domain's region, %s.", uri, s.Region)
	}
	if s.Streams == nil {
		return bad("Event streams need a Kinesis-compatible service, and this server has none: start it with --kinesis-endpoint.")
	}
	switch err := s.Streams.CheckStream(ctx, uri); profiles.ErrorCode(err) {
	case "":
		return nil
	case profiles.ENOTFOUND:
		return bad("Uri: the Kinesis data stream %s does not exist.", uri)
	case profiles.EFORBIDDEN:
		s.Logger.Warn("event streams: Kinesis data stream refused", "uri", uri, "err", err)
		return bad("Uri: this server may not write to the Kinesis data stream %s (its credentials need kinesis:DescribeStreamSummary and kinesis:PutRecords on it).", uri)
	case profiles.EINVALID:
		// Kinesis's own messages can name the server's credentials.
		s.Logger.Warn("event streams: Kinesis data stream refused", "uri", uri, "err", err)
		return bad("Uri: the Kinesis data stream %s cannot take records (not ACTIVE, or of another account than the server's credentials; the server's log says why).", uri)
	case profiles.ETHROTTLED:
		s.Logger.Warn("event streams: Kinesis throttled the check of a data stream", "uri", uri, "err", err)
		return profiles.Errorf(profiles.ETHROTTLED, "Uri: the Kinesis-compatible service throttled the check of the data stream %s; try again.", uri)
	default:
		if ctx.Err() != nil {
			return fmt.Errorf("check Kinesis data stream %s: %w", uri, err)
		}
		// The service did not answer (unreachable, timed out, a 5xx): the
		// destination cannot be checked, so the stream is not created.
		s.Logger.Error("event streams: Kinesis data stream could not be checked", "uri", uri, "err", err)
		return bad("Uri: the Kinesis data stream %s could not be reached: the Kinesis-compatible service did not answer (the server's log says why).", uri)
	}
}

// GetEventStream returns an event stream with its destination's health.
func (s *Service) GetEventStream(ctx context.Context, domain, name string) (*profiles.EventStream, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigEventStream, name)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Event stream", name)
	}
	return s.streamFromConfig(ctx, c)
}

// DeleteEventStream deletes an event stream and the events it has not
// delivered.
func (s *Service) DeleteEventStream(ctx context.Context, domain, name string) error {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigEventStream, name)
	if err == nil {
		err = s.Configs.DeleteConfig(ctx, domain, profiles.ConfigEventStream, name)
	}
	if err != nil {
		return s.configErr(ctx, err, domain, "Event stream", name)
	}
	s.domains.forgetStreams(domain)
	if s.Outbox != nil {
		// Events a node put after this (it knew the stream for up to
		// domainTTL) are dropped by the delivery loop, which finds no
		// stream of their generation.
		return s.Outbox.PurgeStreamEvents(ctx, domain, outboxName(c))
	}
	return nil
}

// outboxName is the StreamName of an event stream's events in the outbox:
// its name and generation (its creation time), so that the events of a
// stream deleted and created again under the same name never go to the
// new one's destination.
func outboxName(c *profiles.DomainConfig) string {
	return c.Name + "#" + strconv.FormatInt(c.CreatedAt.UnixMilli(), 10)
}

// ListEventStreams returns one page of a domain's event streams, by name.
func (s *Service) ListEventStreams(ctx context.Context, domain string, page profiles.Page) ([]*profiles.EventStream, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigEventStream, "ListEventStreams", page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*profiles.EventStream, len(list))
	for i, c := range list {
		if out[i], err = s.streamFromConfig(ctx, c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

func (s *Service) streamFromConfig(ctx context.Context, c *profiles.DomainConfig) (*profiles.EventStream, error) {
	doc, err := decodeStreamDoc(c)
	if err != nil {
		return nil, err
	}
	es := &profiles.EventStream{DomainName: c.DomainName, Name: c.Name, Arn: s.eventStreamARN(c.DomainName, c.Name), Uri: doc.Uri,
		State: profiles.EventStreamRunning, Status: doc.Status, UnhealthySince: doc.UnhealthySince, Message: doc.Message,
		Tags: doc.Tags, CreatedAt: c.CreatedAt}
	return es, nil
}

func decodeStreamDoc(c *profiles.DomainConfig) (*streamDoc, error) {
	var doc streamDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("event stream %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	return &doc, nil
}

func (s *Service) eventStreamARN(domain, name string) string {
	return s.DomainARN(domain) + "/event-streams/" + name
}

// streamRef is what a change needs of an event stream: its outbox name
// (outboxName) and which objects it takes (streamDoc.TypeKeys).
type streamRef struct {
	outbox   string
	typeKeys []string
	keysKept bool
}

// takes reports whether the stream sends the objects of a type whose own
// key is typeKey ("" for a type sealed under the domain's key).
func (r streamRef) takes(typeKey string) bool {
	return typeKey == "" || !r.keysKept || slices.Contains(r.typeKeys, typeKey)
}

// recentStreams returns a domain's event streams as read at
// most domainTTL ago: a stream created through another node gets the
// changes made here from at most that long after its creation (README).
// Call it before the change's transaction.
func (s *Service) recentStreams(ctx context.Context, domain string) ([]streamRef, error) {
	if s.Outbox == nil || s.Configs == nil {
		return nil, nil
	}
	c := &s.domains
	return recent(c, &c.streams, domain, s.Now(), func() ([]streamRef, error) {
		list, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigEventStream, "", 0)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, nil // the change's transaction tells
		} else if err != nil {
			return nil, err
		}
		refs := make([]streamRef, len(list))
		for i, c := range list {
			doc, err := decodeStreamDoc(c)
			if err != nil {
				return nil, err
			}
			refs[i] = streamRef{outbox: outboxName(c), typeKeys: doc.TypeKeys, keysKept: doc.KeysKept}
		}
		return refs, nil
	})
}

// profileEventType is the ObjectTypeName of a profile's events.
const profileEventType = "_profile"

// putEvents writes one event (payload) for each of streams that takes it
// (typeKey: the own key of the object type of an object's event, else "")
// in tx, sealed under the domain's key, and asks the delivery loop to run
// once tx has committed (wakeDelivery).
func (s *Service) putEvents(ctx context.Context, tx profiles.Tx, streams []streamRef, p profiles.StreamEventPayload, partitionKey, typeKey string) error {
	var names []string
	for _, r := range streams {
		if r.takes(typeKey) {
			names = append(names, r.outbox)
		}
	}
	if len(names) == 0 {
		return nil
	}
	p.EventID = s.newID(s.now())
	p.SchemaVersion, p.IsMessageRealTime = 0, true
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	events := make([]*profiles.StreamEvent, len(names))
	for i, name := range names {
		sealed, err := s.crypt.Seal(ctx, eventRecord(p.DomainName, name, p.EventID), data)
		if err != nil {
			return err
		}
		events[i] = &profiles.StreamEvent{DomainName: p.DomainName, StreamName: name, ID: p.EventID, PartitionKey: partitionKey, Data: sealed}
	}
	return tx.PutStreamEvents(ctx, events)
}

func eventRecord(domain, stream, id string) profiles.RecordRef {
	return profiles.RecordRef{Domain: domain, Kind: profiles.RecordEvent, ObjectType: stream, ID: id}
}

// profileEvent returns the payload of a profile's event.
func (s *Service) profileEvent(p *profiles.Profile, eventType string, at time.Time) (profiles.StreamEventPayload, error) {
	doc, err := profileDocument(p)
	return profiles.StreamEventPayload{EventTimestamp: eventTime(at), EventType: eventType, DomainName: p.DomainName,
		ObjectTypeName: profileEventType, AssociatedProfileID: p.ID, Object: doc}, err
}

// putProfileEvent writes a profile's event (eventType CREATED or UPDATED)
// for each of streams in tx.
func (s *Service) putProfileEvent(ctx context.Context, tx profiles.Tx, streams []streamRef, p *profiles.Profile, eventType string) error {
	if len(streams) == 0 {
		return nil
	}
	ev, err := s.profileEvent(p, eventType, p.LastUpdatedAt)
	if err != nil {
		return err
	}
	return s.putEvents(ctx, tx, streams, ev, p.ID, "")
}

// objectEvent returns the payload of an ingested object's event.
func objectEvent(o *profiles.ProfileObject, eventType string, at time.Time) profiles.StreamEventPayload {
	obj := json.RawMessage(o.Data)
	if !json.Valid(obj) {
		obj, _ = json.Marshal(string(o.Data))
	}
	return profiles.StreamEventPayload{EventTimestamp: eventTime(at), EventType: eventType, DomainName: o.DomainName,
		ObjectTypeName: o.ObjectTypeName, AssociatedProfileID: o.ProfileID, ProfileObjectUniqueKey: o.UniqueKey, Object: obj}
}

func eventTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// profileDocument returns a profile as the API shows it: ProfileId, the
// scalar fields, addresses and Attributes as objects, EngagementPreferences
// as its JSON.
func profileDocument(p *profiles.Profile) (json.RawMessage, error) {
	doc := map[string]any{"ProfileId": p.ID}
	for k, v := range p.Fields {
		if k == engagementField && json.Valid([]byte(v)) {
			doc[k] = json.RawMessage(v)
			continue
		}
		group, name, nested := strings.Cut(k, ".")
		if !nested {
			doc[k] = v
			continue
		}
		m, ok := doc[group].(map[string]string)
		if !ok {
			m = map[string]string{}
			doc[group] = m
		}
		m[name] = v
	}
	return json.Marshal(doc)
}
