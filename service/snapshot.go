package service

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
)

var _ profiles.SegmentSnapshotService = (*Service)(nil)

// Segment snapshots: CreateSegmentSnapshot checks the request and the
// bucket, records the snapshot IN_PROGRESS and runs the export in the
// background (on the node that took the request): it evaluates the segment
// on every profile of the domain, as the data is then, and writes its
// members to one S3 object, s3://bucket/prefix/DOMAIN/SEGMENT/ID.jsonl (a
// profile as the API shows it per line) or .csv (ProfileId and one column
// per field any member has). The object is built in memory.

// Settings of segment snapshots.
const (
	maxSnapshotsKept   = 1000             // a domain's last snapshots
	maxExportsRunning  = 2                // exports a node runs at once; others wait
	snapshotStaleAfter = 10 * time.Minute // one IN_PROGRESS and not updated for this long failed with its node
)

// snapshotHeartbeat is how often an export, running or waiting for a
// slot, records that it is alive; a variable for tests.
var snapshotHeartbeat = time.Minute

// maxExportBytes is the largest export (it is built in memory); a
// variable for tests.
var maxExportBytes = 1 << 30

// exportSlots are the node's running exports.
var exportSlots = make(chan struct{}, maxExportsRunning)

// snapshotDoc is what a snapshot's config holds.
type snapshotDoc struct {
	Segment        string    `json:"segment"`
	DataFormat     string    `json:"dataFormat"`
	DestinationURI string    `json:"destinationUri"`
	EncryptionKey  string    `json:"encryptionKey,omitempty"`
	RoleArn        string    `json:"roleArn,omitempty"`
	Status         string    `json:"status"`
	StatusMessage  string    `json:"statusMessage,omitempty"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// CreateSegmentSnapshot checks the request and starts the export.
func (s *Service) CreateSegmentSnapshot(ctx context.Context, snap *profiles.SegmentSnapshot) (*profiles.SegmentSnapshot, error) {
	bad := func(format string, args ...any) error { return profiles.Errorf(profiles.EINVALID, format, args...) }
	if _, err := s.GetSegmentDefinition(ctx, snap.DomainName, snap.SegmentName); err != nil {
		return nil, err
	}
	switch snap.DataFormat {
	case "CSV", "JSONL":
	case "ORC":
		return nil, bad("DataFormat ORC is not supported: use CSV or JSONL.")
	default:
		return nil, bad("DataFormat %q must be CSV or JSONL.", snap.DataFormat)
	}
	bucket, _, err := parseS3URI(snap.DestinationURI)
	if err != nil {
		return nil, err
	}
	if s.Objects == nil {
		return nil, bad("Segment snapshots need an S3-compatible service, and this server has none: start it with --s3-endpoint.")
	}
	if k := snap.EncryptionKey; k != "" && !strings.HasPrefix(k, "arn:") && !strings.HasPrefix(k, "alias/") {
		return nil, bad("EncryptionKey %q must be the ARN (or alias/NAME) of a KMS key.", k)
	}
	// S3's own messages can name the server's credentials: they are
	// logged, not sent.
	switch err := s.Objects.CheckBucket(ctx, snap.DestinationURI); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, bad("DestinationUri: the S3 bucket %s does not exist.", bucket)
	case profiles.EFORBIDDEN:
		s.Logger.Warn("segment snapshot: S3 bucket refused", "bucket", bucket, "err", err)
		return nil, bad("DestinationUri: this server may not use the S3 bucket %s (its credentials need s3:ListBucket and s3:PutObject on it).", bucket)
	case profiles.EINVALID:
		s.Logger.Warn("segment snapshot: S3 bucket refused", "bucket", bucket, "err", err)
		return nil, bad("DestinationUri: the S3 bucket %s cannot be used (the server's log says why).", bucket)
	default:
		return nil, fmt.Errorf("check S3 bucket %s: %w", bucket, err)
	}
	// One export of a domain at a time: each reads the whole domain.
	running, err := s.Configs.ListConfigs(ctx, snap.DomainName, profiles.ConfigSegmentSnapshot, "", 0)
	if err != nil {
		return nil, domainErr(err, snap.DomainName)
	}
	for _, c := range running {
		if other, err := s.snapshotFromConfig(c); err == nil && other.Status == "IN_PROGRESS" {
			return nil, profiles.Errorf(profiles.ETHROTTLED, "Snapshot %s of domain %s is running: create this one when it has finished.", other.ID, snap.DomainName)
		}
	}
	doc := &snapshotDoc{Segment: snap.SegmentName, DataFormat: snap.DataFormat, DestinationURI: snap.DestinationURI,
		EncryptionKey: snap.EncryptionKey, RoleArn: snap.RoleArn, Status: "IN_PROGRESS", UpdatedAt: s.now()}
	data, _ := json.Marshal(doc)
	c := &profiles.DomainConfig{DomainName: snap.DomainName, Kind: profiles.ConfigSegmentSnapshot, Name: s.newID(s.now()), Data: data}
	if err := s.createEvictingOldest(ctx, c, maxSnapshotsKept, "segment snapshots"); err != nil {
		return nil, err
	}
	// The export outlives the request, not the service (Close).
	runCtx := profiles.NewContextWithPrincipal(s.bg.context(), profiles.PrincipalFromContext(ctx))
	s.bg.wg.Go(func() { s.runSnapshot(runCtx, snap.DomainName, c.Name, doc) })
	return s.snapshotFromConfig(c)
}

// createEvictingOldest creates c, a config of a kind whose oldest (by
// name: ids that sort by time) make way for new ones past limit.
func (s *Service) createEvictingOldest(ctx context.Context, c *profiles.DomainConfig, limit int, what string) error {
	for try := 0; ; try++ {
		err := s.Configs.CreateConfig(ctx, c, limit)
		if profiles.ErrorCode(err) == profiles.EQUOTA && try > 0 {
			return profiles.Errorf(profiles.ETHROTTLED, "Too many %s are being created in domain %s at once; retry.", what, c.DomainName)
		} else if profiles.ErrorCode(err) != profiles.EQUOTA {
			if err != nil {
				return domainErr(err, c.DomainName)
			}
			return nil
		}
		// Full: the oldest go.
		old, err := s.Configs.ListConfigs(ctx, c.DomainName, c.Kind, "", 100)
		if err != nil {
			return domainErr(err, c.DomainName)
		}
		for _, o := range old {
			if err := s.Configs.DeleteConfig(ctx, c.DomainName, o.Kind, o.Name); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
				return err
			}
		}
	}
}

// parseS3URI splits s3://bucket[/prefix].
func parseS3URI(uri string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !ok || len(bucket) < 3 || len(bucket) > 63 || strings.Trim(bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
		return "", "", profiles.Errorf(profiles.EINVALID, "DestinationUri %q must be an S3 location: s3://bucket or s3://bucket/prefix.", uri)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// runSnapshot exports the segment and records how it went, and that it
// is alive every snapshotHeartbeat: while it waits for a slot too (a node
// runs maxExportsRunning at once, the others wait), or it would read
// FAILED after snapshotStaleAfter, and another export of its domain could
// start.
func (s *Service) runSnapshot(ctx context.Context, domain, id string, doc *snapshotDoc) {
	var mu sync.Mutex // guards doc: the heartbeat saves it too
	save := func() {
		mu.Lock()
		doc.UpdatedAt = s.now()
		data, _ := json.Marshal(doc)
		mu.Unlock()
		// Recorded even when the service is closing.
		_, err := s.Configs.UpdateConfig(context.WithoutCancel(ctx), domain, profiles.ConfigSegmentSnapshot, id, func(c *profiles.DomainConfig) error {
			c.Data = data
			return nil
		})
		if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			s.Logger.Error("segment snapshot: record its status", "domain", domain, "snapshot", id, "err", err)
		}
	}
	stop := every(snapshotHeartbeat, save)
	select {
	case exportSlots <- struct{}{}:
		defer func() { <-exportSlots }()
	case <-ctx.Done():
	}
	n, where, err := s.exportSegment(ctx, domain, id, doc)
	stop()
	mu.Lock()
	switch {
	case err == nil:
		noun := "profiles"
		if n == 1 {
			noun = "profile"
		}
		doc.Status, doc.StatusMessage = "COMPLETED", fmt.Sprintf("Exported %d %s to %s.", n, noun, where)
	case ctx.Err() != nil:
		doc.Status, doc.StatusMessage = "FAILED", "The server stopped before the export finished."
	default:
		s.Logger.Error("segment snapshot failed", "domain", domain, "snapshot", id, "err", err)
		doc.Status, doc.StatusMessage = "FAILED", truncate(snapshotFailure(err, doc), 1000)
	}
	mu.Unlock()
	save()
}

// errWrite marks an error of the S3 service (exportSegment's PutObject).
type errWrite struct{ err error }

func (e errWrite) Error() string { return e.err.Error() }
func (e errWrite) Unwrap() error { return e.err }

// snapshotFailure words why an export failed for its caller: the S3
// service's own messages can name the server's credentials, so they are
// logged and replaced by one per error code.
func snapshotFailure(err error, doc *snapshotDoc) string {
	var w errWrite
	if !errors.As(err, &w) {
		switch profiles.ErrorCode(err) {
		case profiles.ENOTFOUND, profiles.EINVALID:
			return "The export failed: " + profiles.ErrorMessage(err)
		}
		return "The export failed (the server's log says why)."
	}
	bucket, _, _ := parseS3URI(doc.DestinationURI)
	switch profiles.ErrorCode(err) {
	case profiles.ENOTFOUND:
		return fmt.Sprintf("The S3 bucket %s does not exist.", bucket)
	case profiles.EFORBIDDEN:
		if doc.EncryptionKey != "" {
			return fmt.Sprintf("This server may not write to the S3 bucket %s, or use the KMS key %s.", bucket, doc.EncryptionKey)
		}
		return fmt.Sprintf("This server may not write to the S3 bucket %s.", bucket)
	case profiles.ETHROTTLED:
		return fmt.Sprintf("The S3 bucket %s throttled the export: create the snapshot again.", bucket)
	}
	return fmt.Sprintf("The export could not be written to the S3 bucket %s (the server's log says why).", bucket)
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// exportSegment writes the segment's members to the destination and
// returns how many and where.
func (s *Service) exportSegment(ctx context.Context, domain, id string, doc *snapshotDoc) (int, string, error) {
	def, err := s.GetSegmentDefinition(ctx, domain, doc.Segment)
	if err != nil {
		return 0, "", err
	}
	ev, err := s.newSegmentEval(ctx, domain, def.Name, def.Groups)
	if err != nil {
		return 0, "", err
	}
	// JSON lines are written as members are found; CSV needs every
	// column first, so it keeps the members' fields.
	var buf bytes.Buffer
	var rows []profiles.Profile
	n, size := 0, 0 // size: the bytes of the export so far (CSV: of its members' fields)
	err = s.eachProfile(ctx, domain, func(tx profiles.Tx, p *profiles.Profile) error {
		in, err := ev.holds(ctx, tx, p)
		if err != nil || !in {
			return err
		}
		n++
		if doc.DataFormat == "JSONL" {
			line, err := profileDocument(p)
			if err != nil {
				return err
			}
			buf.Write(line)
			buf.WriteByte('\n')
			size = buf.Len()
		} else {
			rows = append(rows, profiles.Profile{ID: p.ID, Fields: p.Fields})
			size += len(p.ID)
			for k, v := range p.Fields {
				size += len(k) + len(v)
			}
		}
		if size > maxExportBytes {
			return profiles.Errorf(profiles.EINVALID, "The export is larger than %d MiB, the most a snapshot may be.", maxExportBytes>>20)
		}
		return nil
	})
	if err != nil {
		return 0, "", err
	}
	ext, contentType := ".jsonl", "application/x-ndjson"
	if doc.DataFormat == "CSV" {
		buf.Reset()
		if err := writeCSV(&buf, rows); err != nil {
			return 0, "", err
		}
		ext, contentType = ".csv", "text/csv"
	}
	bucket, prefix, err := parseS3URI(doc.DestinationURI)
	if err != nil {
		return 0, "", err
	}
	key := strings.TrimPrefix(prefix+"/"+domain+"/"+doc.Segment+"/"+id+ext, "/")
	// The domain may have been deleted since the snapshot was created,
	// and one of the same name created (through any node): what was read
	// since is another domain's, which must not go to this snapshot's
	// destination. The snapshot's config goes with its domain, and its id
	// is not reused: found now, after every read, the domain is the one
	// it was created in, and was all along.
	if _, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigSegmentSnapshot, id); profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return 0, "", profiles.Errorf(profiles.ENOTFOUND, "Domain %s was deleted while the snapshot ran.", domain)
	} else if err != nil {
		return 0, "", err
	}
	if err := s.Objects.PutObject(ctx, bucket, key, buf.Bytes(), contentType, doc.EncryptionKey); err != nil {
		return 0, "", errWrite{err}
	}
	return n, "s3://" + bucket + "/" + key, nil
}

// writeCSV writes profiles as CSV: ProfileId, then one column per field
// any of them has, sorted.
func writeCSV(buf *bytes.Buffer, ps []profiles.Profile) error {
	columns := map[string]bool{}
	for _, p := range ps {
		for k := range p.Fields {
			columns[k] = true
		}
	}
	header := append([]string{"ProfileId"}, slices.Sorted(maps.Keys(columns))...)
	w := csv.NewWriter(buf)
	w.Write(header)
	for _, p := range ps {
		row := make([]string, len(header))
		row[0] = p.ID
		for i, k := range header[1:] {
			row[i+1] = p.Fields[k]
		}
		w.Write(row)
	}
	w.Flush()
	return w.Error()
}

// GetSegmentSnapshot returns a snapshot of a segment.
func (s *Service) GetSegmentSnapshot(ctx context.Context, domain, segment, id string) (*profiles.SegmentSnapshot, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigSegmentSnapshot, id)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Segment snapshot", id)
	}
	snap, err := s.snapshotFromConfig(c)
	if err != nil {
		return nil, err
	}
	if snap.SegmentName != segment {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "Segment snapshot %s of segment %s not found in domain %s.", id, segment, domain)
	}
	return snap, nil
}

func (s *Service) snapshotFromConfig(c *profiles.DomainConfig) (*profiles.SegmentSnapshot, error) {
	var doc snapshotDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("segment snapshot %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	snap := &profiles.SegmentSnapshot{DomainName: c.DomainName, SegmentName: doc.Segment, ID: c.Name, DataFormat: doc.DataFormat,
		DestinationURI: doc.DestinationURI, EncryptionKey: doc.EncryptionKey, RoleArn: doc.RoleArn, Status: doc.Status,
		StatusMessage: doc.StatusMessage, CreatedAt: c.CreatedAt}
	if snap.Status == "IN_PROGRESS" && s.now().Sub(doc.UpdatedAt) > snapshotStaleAfter {
		snap.Status, snap.StatusMessage = "FAILED", "The server running this export stopped before it finished."
	}
	return snap, nil
}
