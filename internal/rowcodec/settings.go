package rowcodec

import (
	"encoding/json"
	"fmt"

	"github.com/openprofiles/profiles"
)

// The settings column holds a domain's Matching, RuleBasedMatching and
// DataStore settings as JSON in the form below. The form is this package's
// own, written out field by field, so that renaming a field of a root type
// cannot silently change what is stored: such a change fails to compile here
// and needs a migration. A nil setting is left out; an absent key reads back
// as nil.

type settingsJSON struct {
	Matching          *matchingJSON          `json:"matching,omitempty"`
	RuleBasedMatching *ruleBasedMatchingJSON `json:"ruleBasedMatching,omitempty"`
	DataStore         *dataStoreJSON         `json:"dataStore,omitempty"`
}

type matchingJSON struct {
	Enabled         bool                 `json:"enabled"`
	JobSchedule     *jobScheduleJSON     `json:"jobSchedule,omitempty"`
	AutoMerging     *autoMergingJSON     `json:"autoMerging,omitempty"`
	ExportingConfig *exportingConfigJSON `json:"exportingConfig,omitempty"`
}

type jobScheduleJSON struct {
	DayOfTheWeek string `json:"dayOfTheWeek"`
	Time         string `json:"time"`
}

type autoMergingJSON struct {
	Enabled                             bool                    `json:"enabled"`
	Consolidation                       *consolidationJSON      `json:"consolidation,omitempty"`
	ConflictResolution                  *conflictResolutionJSON `json:"conflictResolution,omitempty"`
	MinAllowedConfidenceScoreForMerging *float64                `json:"minAllowedConfidenceScoreForMerging,omitempty"`
}

type consolidationJSON struct {
	MatchingAttributesList [][]string `json:"matchingAttributesList"`
}

type conflictResolutionJSON struct {
	ConflictResolvingModel string `json:"conflictResolvingModel"`
	SourceName             string `json:"sourceName,omitempty"`
}

type exportingConfigJSON struct {
	S3Exporting *s3ExportingJSON `json:"s3Exporting,omitempty"`
}

type s3ExportingJSON struct {
	S3BucketName string `json:"s3BucketName"`
	S3KeyName    string `json:"s3KeyName,omitempty"`
}

type ruleBasedMatchingJSON struct {
	Enabled                        bool                        `json:"enabled"`
	MatchingRules                  [][]string                  `json:"matchingRules,omitempty"`
	Status                         string                      `json:"status,omitempty"`
	MaxAllowedRuleLevelForMerging  *int                        `json:"maxAllowedRuleLevelForMerging,omitempty"`
	MaxAllowedRuleLevelForMatching *int                        `json:"maxAllowedRuleLevelForMatching,omitempty"`
	AttributeTypesSelector         *attributeTypesSelectorJSON `json:"attributeTypesSelector,omitempty"`
	ConflictResolution             *conflictResolutionJSON     `json:"conflictResolution,omitempty"`
	ExportingConfig                *exportingConfigJSON        `json:"exportingConfig,omitempty"`
}

type attributeTypesSelectorJSON struct {
	AttributeMatchingModel string   `json:"attributeMatchingModel"`
	Address                []string `json:"address,omitempty"`
	PhoneNumber            []string `json:"phoneNumber,omitempty"`
	EmailAddress           []string `json:"emailAddress,omitempty"`
}

type dataStoreJSON struct {
	Enabled   bool           `json:"enabled"`
	Readiness *readinessJSON `json:"readiness,omitempty"`
}

type readinessJSON struct {
	ProgressPercentage *int   `json:"progressPercentage,omitempty"`
	Message            string `json:"message,omitempty"`
}

// EncodeSettings returns the settings column of d.
func EncodeSettings(d *profiles.Domain) (string, error) {
	s := settingsJSON{}
	if m := d.Matching; m != nil {
		s.Matching = &matchingJSON{
			Enabled:         m.Enabled,
			ExportingConfig: encodeExporting(m.ExportingConfig),
		}
		if j := m.JobSchedule; j != nil {
			s.Matching.JobSchedule = &jobScheduleJSON{DayOfTheWeek: j.DayOfTheWeek, Time: j.Time}
		}
		if a := m.AutoMerging; a != nil {
			s.Matching.AutoMerging = &autoMergingJSON{
				Enabled:                             a.Enabled,
				ConflictResolution:                  encodeConflictResolution(a.ConflictResolution),
				MinAllowedConfidenceScoreForMerging: a.MinAllowedConfidenceScoreForMerging,
			}
			if c := a.Consolidation; c != nil {
				s.Matching.AutoMerging.Consolidation = &consolidationJSON{MatchingAttributesList: c.MatchingAttributesList}
			}
		}
	}
	if r := d.RuleBasedMatching; r != nil {
		s.RuleBasedMatching = &ruleBasedMatchingJSON{
			Enabled:                        r.Enabled,
			MatchingRules:                  r.MatchingRules,
			Status:                         r.Status,
			MaxAllowedRuleLevelForMerging:  r.MaxAllowedRuleLevelForMerging,
			MaxAllowedRuleLevelForMatching: r.MaxAllowedRuleLevelForMatching,
			ConflictResolution:             encodeConflictResolution(r.ConflictResolution),
			ExportingConfig:                encodeExporting(r.ExportingConfig),
		}
		if a := r.AttributeTypesSelector; a != nil {
			s.RuleBasedMatching.AttributeTypesSelector = &attributeTypesSelectorJSON{
				AttributeMatchingModel: a.AttributeMatchingModel,
				Address:                a.Address,
				PhoneNumber:            a.PhoneNumber,
				EmailAddress:           a.EmailAddress,
			}
		}
	}
	if ds := d.DataStore; ds != nil {
		s.DataStore = &dataStoreJSON{Enabled: ds.Enabled}
		if r := ds.Readiness; r != nil {
			s.DataStore.Readiness = &readinessJSON{ProgressPercentage: r.ProgressPercentage, Message: r.Message}
		}
	}
	buf, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encode settings: %w", err)
	}
	return string(buf), nil
}

func encodeConflictResolution(c *profiles.ConflictResolution) *conflictResolutionJSON {
	if c == nil {
		return nil
	}
	return &conflictResolutionJSON{ConflictResolvingModel: c.ConflictResolvingModel, SourceName: c.SourceName}
}

func encodeExporting(e *profiles.ExportingConfig) *exportingConfigJSON {
	if e == nil {
		return nil
	}
	out := &exportingConfigJSON{}
	if s3 := e.S3Exporting; s3 != nil {
		out.S3Exporting = &s3ExportingJSON{S3BucketName: s3.S3BucketName, S3KeyName: s3.S3KeyName}
	}
	return out
}

// DecodeSettings sets the settings of d from the settings column.
func DecodeSettings(d *profiles.Domain, text string) error {
	var s settingsJSON
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return fmt.Errorf("decode settings of domain %q: %w", d.Name, err)
	}
	if m := s.Matching; m != nil {
		d.Matching = &profiles.MatchingSettings{
			Enabled:         m.Enabled,
			ExportingConfig: decodeExporting(m.ExportingConfig),
		}
		if j := m.JobSchedule; j != nil {
			d.Matching.JobSchedule = &profiles.JobSchedule{DayOfTheWeek: j.DayOfTheWeek, Time: j.Time}
		}
		if a := m.AutoMerging; a != nil {
			d.Matching.AutoMerging = &profiles.AutoMerging{
				Enabled:                             a.Enabled,
				ConflictResolution:                  decodeConflictResolution(a.ConflictResolution),
				MinAllowedConfidenceScoreForMerging: a.MinAllowedConfidenceScoreForMerging,
			}
			if c := a.Consolidation; c != nil {
				d.Matching.AutoMerging.Consolidation = &profiles.Consolidation{MatchingAttributesList: c.MatchingAttributesList}
			}
		}
	}
	if r := s.RuleBasedMatching; r != nil {
		d.RuleBasedMatching = &profiles.RuleBasedMatchingSettings{
			Enabled:                        r.Enabled,
			MatchingRules:                  r.MatchingRules,
			Status:                         r.Status,
			MaxAllowedRuleLevelForMerging:  r.MaxAllowedRuleLevelForMerging,
			MaxAllowedRuleLevelForMatching: r.MaxAllowedRuleLevelForMatching,
			ConflictResolution:             decodeConflictResolution(r.ConflictResolution),
			ExportingConfig:                decodeExporting(r.ExportingConfig),
		}
		if a := r.AttributeTypesSelector; a != nil {
			d.RuleBasedMatching.AttributeTypesSelector = &profiles.AttributeTypesSelector{
				AttributeMatchingModel: a.AttributeMatchingModel,
				Address:                a.Address,
				PhoneNumber:            a.PhoneNumber,
				EmailAddress:           a.EmailAddress,
			}
		}
	}
	if ds := s.DataStore; ds != nil {
		d.DataStore = &profiles.DataStoreSettings{Enabled: ds.Enabled}
		if r := ds.Readiness; r != nil {
			d.DataStore.Readiness = &profiles.Readiness{ProgressPercentage: r.ProgressPercentage, Message: r.Message}
		}
	}
	return nil
}

func decodeConflictResolution(c *conflictResolutionJSON) *profiles.ConflictResolution {
	if c == nil {
		return nil
	}
	return &profiles.ConflictResolution{ConflictResolvingModel: c.ConflictResolvingModel, SourceName: c.SourceName}
}

func decodeExporting(e *exportingConfigJSON) *profiles.ExportingConfig {
	if e == nil {
		return nil
	}
	out := &profiles.ExportingConfig{}
	if s3 := e.S3Exporting; s3 != nil {
		out.S3Exporting = &profiles.S3Exporting{S3BucketName: s3.S3BucketName, S3KeyName: s3.S3KeyName}
	}
	return out
}

// EncodeTags returns the tags column: a JSON object, "{}" for no tags.
func EncodeTags(tags map[string]string) (string, error) {
	if len(tags) == 0 {
		return "{}", nil
	}
	buf, err := json.Marshal(tags)
	if err != nil {
		return "", fmt.Errorf("encode tags: %w", err)
	}
	return string(buf), nil
}

// DecodeTags returns the tags of the tags column, nil for none.
func DecodeTags(text string) (map[string]string, error) {
	var tags map[string]string
	if err := json.Unmarshal([]byte(text), &tags); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}
