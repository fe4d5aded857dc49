package service

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

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
	snapshotStaleAfter = 10 * time.Minute // one IN_PROGRESS and not updated for this long failed with its node
)

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
	switch err := s.Objects.CheckBucket(ctx, snap.DestinationURI); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, bad("DestinationUri: the S3 bucket %s does not exist.", bucket)
	case profiles.EFORBIDDEN, profiles.EINVALID:
		return nil, bad("DestinationUri: the S3 bucket %s cannot be written: %s", bucket, profiles.ErrorMessage(err))
	default:
		return nil, fmt.Errorf("check S3 bucket %s: %w", bucket, err)
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

// runSnapshot exports the segment and records how it went.
func (s *Service) runSnapshot(ctx context.Context, domain, id string, doc *snapshotDoc) {
	n, where, err := s.exportSegment(ctx, domain, id, doc)
	switch {
	case ctx.Err() != nil:
		doc.Status, doc.StatusMessage = "FAILED", "The server stopped before the export finished."
	case err != nil:
		s.Logger.Error("segment snapshot failed", "domain", domain, "snapshot", id, "err", err)
		doc.Status, doc.StatusMessage = "FAILED", "The export failed: "+profiles.ErrorMessage(err)
	default:
		noun := "profiles"
		if n == 1 {
			noun = "profile"
		}
		doc.Status, doc.StatusMessage = "COMPLETED", fmt.Sprintf("Exported %d %s to %s.", n, noun, where)
	}
	if len(doc.StatusMessage) > 1000 {
		doc.StatusMessage = doc.StatusMessage[:997] + "..."
	}
	doc.UpdatedAt = s.now()
	data, _ := json.Marshal(doc)
	// Recorded even when the service is closing.
	_, err = s.Configs.UpdateConfig(context.WithoutCancel(ctx), domain, profiles.ConfigSegmentSnapshot, id, func(c *profiles.DomainConfig) error {
		c.Data = data
		return nil
	})
	if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		s.Logger.Error("segment snapshot: record its status", "domain", domain, "snapshot", id, "err", err)
	}
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
	var members []*profiles.Profile
	err = s.eachProfile(ctx, domain, func(tx profiles.Tx, p *profiles.Profile) error {
		in, err := ev.holds(ctx, tx, p)
		if in {
			members = append(members, p)
		}
		return err
	})
	if err != nil {
		return 0, "", err
	}
	body, ext, contentType, err := encodeSnapshot(members, doc.DataFormat)
	if err != nil {
		return 0, "", err
	}
	bucket, prefix, err := parseS3URI(doc.DestinationURI)
	if err != nil {
		return 0, "", err
	}
	key := strings.TrimPrefix(prefix+"/"+domain+"/"+doc.Segment+"/"+id+ext, "/")
	if err := s.Objects.PutObject(ctx, bucket, key, body, contentType, doc.EncryptionKey); err != nil {
		return 0, "", err
	}
	return len(members), "s3://" + bucket + "/" + key, nil
}

// encodeSnapshot writes profiles as JSON lines or CSV.
func encodeSnapshot(ps []*profiles.Profile, format string) (body []byte, ext, contentType string, err error) {
	var buf bytes.Buffer
	if format == "JSONL" {
		for _, p := range ps {
			line, err := profileDocument(p)
			if err != nil {
				return nil, "", "", err
			}
			buf.Write(line)
			buf.WriteByte('\n')
		}
		return buf.Bytes(), ".jsonl", "application/x-ndjson", nil
	}
	columns := map[string]bool{}
	for _, p := range ps {
		for k := range p.Fields {
			columns[k] = true
		}
	}
	header := append([]string{"ProfileId"}, slices.Sorted(maps.Keys(columns))...)
	w := csv.NewWriter(&buf)
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
	return buf.Bytes(), ".csv", "text/csv", w.Error()
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
