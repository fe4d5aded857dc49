// Package connect is the contact-center intake: contact trace records (the
// CTR JSON of Amazon Connect) come in for an instance, go to the domain the
// instance is associated with as CTR profile objects, and each one finds or
// creates its profile (voice by phone number, chat by email) through the
// asynchronous ingestion path, whose failures go to the domain's
// dead-letter queue.
//
// Two HTTP APIs share the server's address, both SigV4-signed for the
// service "profile":
//
//   - Handler: POST Path+"{InstanceId}/contact-records" with one record, a
//     JSON array of records or JSON Lines; the answer is a Result.
//   - AdminHandler: POST / with X-Amz-Target TargetPrefix+"<Operation>"
//     (CreateInstance, ListInstances, SwitchInstance) in the AWS JSON 1.1
//     protocol, for `openprofiles instances`.
//
// The rules live behind profiles.IntegrationService and
// profiles.IngestService; this package splits, authenticates, authorises
// and encodes.
package connect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sigv4"
)

// Source is the source the intake gives IngestAsync: it travels with a
// failed record to the dead-letter queue.
const Source = "contact"

// DefaultObjectType is the object type records go to when the instance's
// integration names none: the built-in CTR template.
const DefaultObjectType = "CTR"

// Intake takes contact records in for the instances of the account. Set
// the fields before serving; Authorizer, Verifier and Region/AccountID are
// needed by the handlers only.
type Intake struct {
	Integrations profiles.IntegrationService
	Ingest       profiles.IngestService
	Authorizer   profiles.Authorizer
	// Tags reads a domain's tags, the aws:ResourceTag/… condition keys of
	// the authorisation (nil: none).
	Tags      profiles.TagService
	Verifier  *sigv4.Verifier
	Region    string
	AccountID string
	Logger    *slog.Logger     // nil: discard
	Now       func() time.Time // the clock of condition keys; nil: time.Now
}

// Result is the answer of the intake: how many records went in, how many
// failed, and what became of each one, in the order received.
type Result struct {
	Accepted int            `json:"Accepted"`
	Failed   int            `json:"Failed"`
	Records  []RecordResult `json:"Records"`
}

// RecordResult is what became of one record: the unique key of its profile
// object, or the error code (an ingestion Reason such as INVALID_OBJECT or
// KEY_MISSING, else the error code) and message of its failure. A failed
// record is in the domain's dead-letter queue when the domain has one.
type RecordResult struct {
	Index                  int    `json:"Index"`
	ContactId              string `json:"ContactId,omitempty"`
	ProfileObjectUniqueKey string `json:"ProfileObjectUniqueKey,omitempty"`
	ErrorCode              string `json:"ErrorCode,omitempty"`
	Message                string `json:"Message,omitempty"`
}

func (in *Intake) logger() *slog.Logger {
	if in.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return in.Logger
}

func (in *Intake) now() time.Time {
	if in.Now == nil {
		return time.Now()
	}
	return in.Now()
}

// Integration returns the integration that associates an instance with its
// domain. An instance associated with no domain (or unknown) is EINVALID:
// its records cannot be kept anywhere, and the message says how to
// associate it.
func (in *Intake) Integration(ctx context.Context, instanceID string) (*profiles.Integration, error) {
	integ, err := in.Integrations.InstanceIntegration(ctx, instanceID)
	switch profiles.ErrorCode(err) {
	case "":
		return integ, nil
	case profiles.ENOTFOUND:
		return nil, profiles.Errorf(profiles.EINVALID, "%s Its contact records cannot be kept: nothing was ingested.", profiles.ErrorMessage(err))
	}
	return nil, err
}

// ObjectType returns the object type an integration sends contact records
// to: its ObjectTypeName, else its ObjectTypeNames["CTR"] (or the first
// one, by event type), else DefaultObjectType.
func ObjectType(integ *profiles.Integration) string {
	if integ.ObjectTypeName != "" {
		return integ.ObjectTypeName
	}
	if t := integ.ObjectTypeNames["CTR"]; t != "" {
		return t
	}
	events := make([]string, 0, len(integ.ObjectTypeNames))
	for e := range integ.ObjectTypeNames {
		events = append(events, e)
	}
	slices.Sort(events)
	for _, e := range events {
		if t := integ.ObjectTypeNames[e]; t != "" {
			return t
		}
	}
	return DefaultObjectType
}

// Accept ingests the contact records of body (one JSON record, a JSON
// array of records, or JSON Lines) into the domain the instance is
// associated with. Each record goes through IngestAsync on its own: one
// that fails (also one that is not a JSON object, sent as it is) is
// counted with its error and is in the domain's dead-letter queue; the
// others go in. Sending a record with the same ContactId again updates it
// (the same record as it was changes nothing: no history, no event).
// Up to intakeWorkers records of a body are ingested at once, so records
// of one body are not applied in their order: two versions of one contact
// in one body are ordered by their LastUpdateTimestamp.
//
// Returns EINVALID when the instance is associated with no domain or the
// body holds no record or an unreadable array (then nothing is ingested),
// and, with the results of the records before it, the error that makes
// every further record fail: the domain or object type gone (ENOTFOUND) or
// ctx done. Records after it are not ingested, but for those already in
// flight when it came.
func (in *Intake) Accept(ctx context.Context, instanceID string, body []byte) (*Result, error) {
	integ, err := in.Integration(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	return in.accept(ctx, integ, body)
}

func (in *Intake) accept(ctx context.Context, integ *profiles.Integration, body []byte) (*Result, error) {
	records, err := Split(body)
	if err != nil {
		return nil, err
	}
	objectType := ObjectType(integ)
	keys, errs, ran := make([]string, len(records)), make([]error, len(records)), make([]bool, len(records))
	var next atomic.Int64
	var stop atomic.Bool // a record failed in a way every further one would
	owner := in.instanceOwner(integ)
	var wg sync.WaitGroup
	for range min(intakeWorkers, len(records)) {
		wg.Go(func() {
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(records) {
					return
				}
				if errs[i] = owner(ctx, records[i]); errs[i] == nil {
					keys[i], errs[i] = in.Ingest.IngestAsync(ctx, integ.DomainName, objectType, records[i], Source)
				}
				ran[i] = true
				if errs[i] != nil && (ctx.Err() != nil || failsEveryRecord(errs[i])) {
					stop.Store(true)
				}
			}
		})
	}
	wg.Wait()
	res := &Result{Records: make([]RecordResult, 0, len(records))}
	for i, rec := range records {
		r := RecordResult{Index: i, ContactId: contactID(rec)}
		if !ran[i] { // an earlier record stopped the others (it returns below first)
			break
		}
		key, err := keys[i], errs[i]
		if err == nil {
			r.ProfileObjectUniqueKey = key
			res.Accepted++
			res.Records = append(res.Records, r)
			continue
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if failsEveryRecord(err) {
			return res, err
		}
		if profiles.ErrorCode(err) == profiles.EINTERNAL {
			in.logger().Error("contact record not ingested", "domain", integ.DomainName, "contact_id", r.ContactId, "err", err)
		}
		r.ErrorCode, r.Message = errorCode(err), profiles.ErrorMessage(err)
		res.Failed++
		res.Records = append(res.Records, r)
	}
	return res, nil
}

// intakeWorkers is how many records of one body are ingested at once:
// concurrent ingestions share the store's group commits (on SQLite, one
// transaction and one sync of its write-ahead log), where records taken
// one after another each wait for a commit and a sync of their own.
const intakeWorkers = 64

// failsEveryRecord tells an error after which every further record of the
// body would fail: the domain or the object type gone.
func failsEveryRecord(err error) bool {
	return profiles.ErrorCode(err) == profiles.ENOTFOUND && profiles.ErrorReason(err) == ""
}

// errorCode is the stable code of a record's failure: its ingestion reason,
// else its error code in upper case (INVALID, NOT_FOUND, …).
func errorCode(err error) string {
	if r := profiles.ErrorReason(err); r != "" {
		return r
	}
	return strings.ToUpper(profiles.ErrorCode(err))
}

// instanceOwner returns the check of each record of a body posted for
// integ's instance: it refuses (EINVALID) a record whose InstanceARN names
// another instance that is associated with another domain (a stream of
// several instances' records sent to one instance's address): its contact
// belongs to that domain, and kept here it would give this domain
// another's customer. The record is not ingested nor kept in this domain's
// dead-letter queue, which is not its domain's; the answer tells it,
// without naming the other domain. A record naming an instance associated
// with no domain (an instance re-created with a new id, its old records
// sent for the new one) or with this one goes in, as does one without
// InstanceARN, or whose InstanceARN names no instance, or not a JSON
// object (which fails on its own). Only the instance ids are compared: an
// export's ARN may name another region or account than the server's. The
// instances looked up are remembered for the body.
func (in *Intake) instanceOwner(integ *profiles.Integration) func(context.Context, string) error {
	own, _ := InstanceID(integ.URI)
	var mu sync.Mutex
	seen := map[string]error{}
	return func(ctx context.Context, rec string) error {
		var v struct{ InstanceARN any }
		if json.Unmarshal([]byte(rec), &v) != nil {
			return nil
		}
		arn, _ := v.InstanceARN.(string)
		id, ok := InstanceID(arn)
		if !ok || id == own {
			return nil
		}
		mu.Lock()
		err, done := seen[id]
		mu.Unlock()
		if done {
			return err
		}
		other, err := in.Integrations.InstanceIntegration(ctx, id)
		switch {
		case profiles.ErrorCode(err) == profiles.ENOTFOUND:
			err = nil
		case err != nil:
			return err // not remembered: ctx may be done, or the store busy
		case other.DomainName != integ.DomainName:
			err = profiles.Errorf(profiles.EINVALID, "The record's InstanceARN %q names instance %s, which is associated with another domain than instance %s, which it was sent for: post it for its own instance (%sINSTANCE_ID/contact-records). It was not ingested.", clip(arn), id, own, Path)
		}
		mu.Lock()
		seen[id] = err
		mu.Unlock()
		return err
	}
}

// contactID returns the ContactId of a record, "" when it has none or is
// not a JSON object.
func contactID(rec string) string {
	var v struct{ ContactId any }
	if json.Unmarshal([]byte(rec), &v) != nil {
		return ""
	}
	s, _ := v.ContactId.(string)
	return s
}

// Split returns the records of a body as texts: the items of a JSON array,
// or the JSON values one after the other (one record, pretty-printed or
// not, or JSON Lines), each compacted. When the body is not such a stream,
// it is JSON Lines if its first non-blank line, or at least half of them,
// hold JSON of their own, and every line is a record as it is (a malformed
// one then fails on its own); else the whole body is one malformed record
// (a pretty-printed one with a comma missing, say, which begins with a
// bare "{" and whose lines are mostly not JSON: it is kept whole in the
// dead-letter queue, not cut into a letter per line). Returns
// EINVALID for an empty body or a JSON array that cannot be read.
func Split(body []byte) ([]string, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, profiles.Errorf(profiles.EINVALID, "The body holds no contact record: send one JSON record, a JSON array of records or JSON Lines.")
	}
	if trimmed[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, profiles.Errorf(profiles.EINVALID, "The body is not a JSON array of contact records: %v", err)
		}
		if len(items) == 0 {
			return nil, profiles.Errorf(profiles.EINVALID, "The JSON array holds no contact record.")
		}
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = compact(it)
		}
		return out, nil
	}
	if out, ok := splitStream(trimmed); ok {
		return out, nil
	}
	lines := splitLines(trimmed)
	valid := 0
	for _, l := range lines {
		if json.Valid([]byte(l)) {
			valid++
		}
	}
	if len(lines) > 1 && (json.Valid([]byte(lines[0])) || 2*valid >= len(lines)) {
		return lines, nil
	}
	return []string{string(trimmed)}, nil
}

// splitStream reads a body as a stream of JSON values.
func splitStream(body []byte) ([]string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var out []string
	for dec.More() {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, compact(v))
	}
	// dec.More is false at a stray closing delimiter as well as at the end.
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return out, len(out) > 0
}

func splitLines(body []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), len(body)+1)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func compact(v json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}
