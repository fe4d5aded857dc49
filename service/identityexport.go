package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
)

// Export of an identity resolution job's results: with
// Matching.ExportingConfig.S3Exporting set on the domain when the job has
// found its matches, the job writes them to one S3 object,
// S3KeyName/DOMAIN/JOB_ID/matches.jsonl (S3KeyName without its leading and
// trailing slashes; none: DOMAIN/JOB_ID/matches.jsonl) in S3BucketName,
// one match group a line, {"MatchId":…,"ProfileIds":[…],"ConfidenceScore":…},
// sorted by MatchId, as GetMatches returns them (an empty object when the
// job found none). The object is written whole (one PutObject) or not at
// all; the job records where only once it is written
// (IdentityResolutionJob.ExportingLocation). When it cannot be written
// (no S3 service on the server, a missing bucket, access refused, …) the
// job ends PARTIAL_SUCCESS, its Message saying why; its matches are kept
// for GetMatches all the same.

// identityExportFile is the name of a job's object under its prefix.
const identityExportFile = "matches.jsonl"

// exportedGroup is a line of an export.
type exportedGroup struct {
	MatchId         string
	ProfileIds      []string
	ConfidenceScore float64
}

// identityExportKey returns the key of a job's export under prefix.
func identityExportKey(prefix, domain, id string) string {
	return strings.TrimPrefix(strings.Trim(prefix, "/")+"/"+domain+"/"+id+"/"+identityExportFile, "/")
}

// exportMatches writes the job's groups where the domain's
// Matching.ExportingConfig says, as it is now. It returns where it wrote
// them (nil when the domain exports nothing), or a message that says why
// it could not, for the job's Message; the error is one that fails the
// job (the domain gone, the server stopping).
func (s *Service) exportMatches(ctx context.Context, domain, id string, groups []profiles.MatchGroup) (*profiles.S3Exporting, string, error) {
	d, err := s.Store.FindDomain(ctx, domain)
	if err != nil {
		return nil, "", err
	}
	if d.Matching == nil || d.Matching.ExportingConfig == nil || d.Matching.ExportingConfig.S3Exporting == nil {
		return nil, "", nil
	}
	dest := d.Matching.ExportingConfig.S3Exporting
	bucket := dest.S3BucketName
	if s.Objects == nil {
		return nil, fmt.Sprintf("The results were not exported to the S3 bucket %s: this server has no S3 service (start it with --s3-endpoint); read them with GetMatches.", bucket), nil
	}
	var body bytes.Buffer
	for _, g := range groups {
		line, err := json.Marshal(exportedGroup{MatchId: g.MatchID, ProfileIds: g.ProfileIDs, ConfidenceScore: g.ConfidenceScore})
		if err != nil {
			return nil, "", err
		}
		body.Write(line)
		body.WriteByte('\n')
	}
	// The domain may have been deleted since the job read its profiles,
	// and one of the same name created: the job's config goes with its
	// domain, so found now, the domain is the one the job read.
	if _, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigIdentityJob, id); profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, "", profiles.Errorf(profiles.ENOTFOUND, "Domain %s was deleted while the job ran.", domain)
	} else if err != nil {
		return nil, "", err
	}
	key := identityExportKey(dest.S3KeyName, domain, id)
	if err := s.Objects.PutObject(ctx, bucket, key, body.Bytes(), "application/x-ndjson", ""); err != nil {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		// S3's own messages can name the server's credentials: logged,
		// not shown.
		s.Logger.Error("identity resolution: export to S3 failed", "domain", domain, "job", id, "bucket", bucket, "key", key, "err", err)
		return nil, exportFailure(err, bucket), nil
	}
	return &profiles.S3Exporting{S3BucketName: bucket, S3KeyName: key}, "", nil
}

// exportFailure words why an export could not be written, for the job's
// Message.
func exportFailure(err error, bucket string) string {
	return fmt.Sprintf("The results were not exported: %s; read them with GetMatches (the next job exports its own).", s3WriteFailure(err, bucket))
}

// s3WriteFailure words why an object could not be written to bucket (S3's
// own messages go to the log: they can name the server's credentials).
func s3WriteFailure(err error, bucket string) string {
	why := "could not be written (the server's log says why)"
	switch profiles.ErrorCode(err) {
	case profiles.ENOTFOUND:
		why = "does not exist"
	case profiles.EFORBIDDEN:
		why = "refused this server's writes (its credentials need s3:PutObject on it)"
	case profiles.ETHROTTLED:
		why = "throttled the export"
	case profiles.EINVALID:
		why = "refused the export (the server's log says why)"
	}
	return fmt.Sprintf("the S3 bucket %s %s", bucket, why)
}

// Export of rule-based matching's groups: with
// RuleBasedMatching.ExportingConfig.S3Exporting set (and the matching
// enabled, with rules), the rule-based pass of the sweep (rulemerge.go: a
// domain at a time on one node, every interval, or nine times the pass's
// length) writes the groups it computed, before it merged any, to
// S3KeyName/DOMAIN/rule-based/matches.jsonl, one group a line,
// {"MatchId":…,"RuleLevel":…,"ProfileIds":[…]}, sorted by MatchId (an
// empty object for no group): the object is replaced whole when the
// groups (or the destination) changed since the last object written, and
// left alone otherwise. A write that fails is logged (an error once, then
// at Debug while the same failure lasts); the next pass tries again.

// ruleExport is what the domain's rule-based pass state (ruleMergeDoc)
// records of its exports.
type ruleExport struct {
	Exported      string `json:"exported,omitempty"`      // SHA-256 of the destination and content of the last object written
	ExportFailure string `json:"exportFailure,omitempty"` // why the last pass could not write it
}

// ruleExportFile is the object rule-based matching's groups go to, under
// the prefix and the domain's name.
const ruleExportFile = "rule-based/matches.jsonl"

// ruleExports says whether a pass exports rule-based matching's groups.
func ruleExports(r *profiles.RuleBasedMatchingSettings) bool {
	return r != nil && r.Enabled && len(r.MatchingRules) > 0 && r.ExportingConfig != nil && r.ExportingConfig.S3Exporting != nil
}

// exportedRuleGroup is a line of a rule-based export.
type exportedRuleGroup struct {
	MatchId    string
	RuleLevel  int
	ProfileIds []string
}

// exportRuleGroups writes the groups a pass computed under the settings
// of key where d's RuleBasedMatching.ExportingConfig says, unless the
// last object written holds them already, and returns what the pass
// state records. It returns errRuleMergeTaken when the domain is gone or
// its settings changed (the next pass exports under the new ones).
func (s *Service) exportRuleGroups(ctx context.Context, d *profiles.Domain, key string, groups []*profiles.SimilarProfiles) (ruleExport, error) {
	var prev ruleMergeDoc
	if s.Configs != nil {
		if c, err := s.Configs.FindConfig(ctx, d.Name, profiles.ConfigRuleMerge, ruleMergeConfig); err == nil {
			json.Unmarshal(c.Data, &prev) // a state it cannot read: written again
		} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return prev.ruleExport, err
		}
	}
	dest := d.RuleBasedMatching.ExportingConfig.S3Exporting
	failed := func(why string, err error) (ruleExport, error) {
		lv := slog.LevelError
		if why == prev.ExportFailure {
			lv = slog.LevelDebug // the same as at the last pass
		}
		s.Logger.Log(ctx, lv, "rule-based matching: export to S3 failed; the next pass tries again", "domain", d.Name, "bucket", dest.S3BucketName, "why", why, "err", err)
		return ruleExport{Exported: prev.Exported, ExportFailure: why}, nil
	}
	if s.Objects == nil {
		return failed("this server has no S3 service (start it with --s3-endpoint)", nil)
	}
	var body bytes.Buffer
	for _, g := range groups {
		line, err := json.Marshal(exportedRuleGroup{MatchId: g.MatchID, RuleLevel: g.RuleLevel, ProfileIds: g.ProfileIDs})
		if err != nil {
			return prev.ruleExport, err
		}
		body.Write(line)
		body.WriteByte('\n')
	}
	objKey := strings.TrimPrefix(strings.Trim(dest.S3KeyName, "/")+"/"+d.Name+"/"+ruleExportFile, "/")
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", dest.S3BucketName, objKey)
	h.Write(body.Bytes())
	sum := hex.EncodeToString(h.Sum(nil))
	if sum == prev.Exported {
		return ruleExport{Exported: sum}, nil
	}
	// The groups are of the domain as it was read: not of another one of
	// its name, nor of other settings.
	cur, err := s.Store.FindDomain(ctx, d.Name)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return prev.ruleExport, errRuleMergeTaken
	} else if err != nil {
		return prev.ruleExport, err
	}
	if ruleSettingsKey(cur.CreatedAt, cur.RuleBasedMatching) != key {
		return prev.ruleExport, errRuleMergeTaken
	}
	if err := s.Objects.PutObject(ctx, dest.S3BucketName, objKey, body.Bytes(), "application/x-ndjson", ""); err != nil {
		if ctx.Err() != nil {
			return prev.ruleExport, ctx.Err()
		}
		return failed(s3WriteFailure(err, dest.S3BucketName), err)
	}
	s.Logger.Info("rule-based matching: groups exported", "domain", d.Name, "bucket", dest.S3BucketName, "key", objKey, "groups", len(groups))
	return ruleExport{Exported: sum}, nil
}

// checkExporting checks an ExportingConfig of the domain: as the model
// does (the bucket required, 3 to 63 lowercase letters, digits, dots and
// hyphens; a key prefix of 1 to 800 characters), and as S3 does the names
// it will write to (a bucket name begins and ends with a letter or digit,
// has no two dots in a row, is no IP address; an object key is at most
// 1,024 bytes). The error names the member.
func checkExporting(e *profiles.ExportingConfig, domain string) error {
	if e == nil || e.S3Exporting == nil {
		return nil
	}
	const field = "ExportingConfig.S3Exporting."
	b, prefix := e.S3Exporting.S3BucketName, e.S3Exporting.S3KeyName
	switch {
	case b == "":
		return profiles.Errorf(profiles.EINVALID, field+"S3BucketName is required.")
	case len(b) < 3 || len(b) > 63 || strings.Trim(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "":
		return profiles.Errorf(profiles.EINVALID, field+"S3BucketName %q must be 3 to 63 lowercase letters, digits, dots and hyphens.", b)
	case !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) || strings.Contains(b, "..") || net.ParseIP(b) != nil:
		return profiles.Errorf(profiles.EINVALID, field+"S3BucketName %q is not an S3 bucket name: it must begin and end with a letter or digit, have no two dots in a row, and not be an IP address.", b)
	case utf8.RuneCountInString(prefix) > 800:
		return profiles.Errorf(profiles.EINVALID, field+"S3KeyName must be at most 800 characters.")
	}
	// The longest key a job writes: its id is 32 characters.
	if n := len(identityExportKey(prefix, domain, strings.Repeat("0", 32))); n > 1024 {
		return profiles.Errorf(profiles.EINVALID, field+"S3KeyName is too long: the jobs' objects, S3KeyName/%s/JOB_ID/%s, would have keys of %d bytes, and S3 takes 1,024 at most.", domain, identityExportFile, n)
	}
	return nil
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
