package awsapi

import "github.com/openprofiles/profiles"

// Conversions between the wire shapes of a domain's settings and the
// domain types of the root package.

func matchingFromWire(m *MatchingRequest) *profiles.MatchingSettings {
	if m == nil {
		return nil
	}
	out := &profiles.MatchingSettings{
		Enabled:         derefBool(m.Enabled),
		ExportingConfig: exportingFromWire(m.ExportingConfig),
	}
	if m.JobSchedule != nil {
		out.JobSchedule = &profiles.JobSchedule{DayOfTheWeek: deref(m.JobSchedule.DayOfTheWeek), Time: deref(m.JobSchedule.Time)}
	}
	if a := m.AutoMerging; a != nil {
		out.AutoMerging = &profiles.AutoMerging{
			Enabled:                             derefBool(a.Enabled),
			ConflictResolution:                  conflictFromWire(a.ConflictResolution),
			MinAllowedConfidenceScoreForMerging: a.MinAllowedConfidenceScoreForMerging,
		}
		if a.Consolidation != nil {
			out.AutoMerging.Consolidation = &profiles.Consolidation{MatchingAttributesList: a.Consolidation.MatchingAttributesList}
		}
	}
	return out
}

func matchingToWire(m *profiles.MatchingSettings) *MatchingResponse {
	if m == nil {
		return nil
	}
	out := &MatchingResponse{Enabled: &m.Enabled, ExportingConfig: exportingToWire(m.ExportingConfig)}
	if js := m.JobSchedule; js != nil {
		out.JobSchedule = &JobSchedule{DayOfTheWeek: &js.DayOfTheWeek, Time: &js.Time}
	}
	if a := m.AutoMerging; a != nil {
		out.AutoMerging = &AutoMerging{
			Enabled:                             &a.Enabled,
			ConflictResolution:                  conflictToWire(a.ConflictResolution),
			MinAllowedConfidenceScoreForMerging: a.MinAllowedConfidenceScoreForMerging,
		}
		if a.Consolidation != nil {
			out.AutoMerging.Consolidation = &Consolidation{MatchingAttributesList: a.Consolidation.MatchingAttributesList}
		}
	}
	return out
}

func ruleBasedFromWire(m *RuleBasedMatchingRequest) *profiles.RuleBasedMatchingSettings {
	if m == nil {
		return nil
	}
	out := &profiles.RuleBasedMatchingSettings{
		Enabled:                        derefBool(m.Enabled),
		MaxAllowedRuleLevelForMerging:  m.MaxAllowedRuleLevelForMerging,
		MaxAllowedRuleLevelForMatching: m.MaxAllowedRuleLevelForMatching,
		ConflictResolution:             conflictFromWire(m.ConflictResolution),
		ExportingConfig:                exportingFromWire(m.ExportingConfig),
	}
	for _, r := range m.MatchingRules {
		out.MatchingRules = append(out.MatchingRules, r.Rule)
	}
	if a := m.AttributeTypesSelector; a != nil {
		out.AttributeTypesSelector = &profiles.AttributeTypesSelector{
			AttributeMatchingModel: deref(a.AttributeMatchingModel),
			Address:                a.Address,
			PhoneNumber:            a.PhoneNumber,
			EmailAddress:           a.EmailAddress,
		}
	}
	return out
}

func ruleBasedToWire(m *profiles.RuleBasedMatchingSettings) *RuleBasedMatchingResponse {
	if m == nil {
		return nil
	}
	out := &RuleBasedMatchingResponse{
		Enabled:                        &m.Enabled,
		Status:                         optional(m.Status),
		MaxAllowedRuleLevelForMerging:  m.MaxAllowedRuleLevelForMerging,
		MaxAllowedRuleLevelForMatching: m.MaxAllowedRuleLevelForMatching,
		ConflictResolution:             conflictToWire(m.ConflictResolution),
		ExportingConfig:                exportingToWire(m.ExportingConfig),
	}
	for _, r := range m.MatchingRules {
		out.MatchingRules = append(out.MatchingRules, MatchingRule{Rule: r})
	}
	if a := m.AttributeTypesSelector; a != nil {
		out.AttributeTypesSelector = &AttributeTypesSelector{
			AttributeMatchingModel: &a.AttributeMatchingModel,
			Address:                a.Address,
			PhoneNumber:            a.PhoneNumber,
			EmailAddress:           a.EmailAddress,
		}
	}
	return out
}

func dataStoreFromWire(m *DataStoreRequest) *profiles.DataStoreSettings {
	if m == nil {
		return nil
	}
	return &profiles.DataStoreSettings{Enabled: derefBool(m.Enabled)}
}

func dataStoreToWire(m *profiles.DataStoreSettings) *DataStoreResponse {
	if m == nil {
		return nil
	}
	out := &DataStoreResponse{Enabled: &m.Enabled}
	if r := m.Readiness; r != nil {
		out.Readiness = &Readiness{ProgressPercentage: r.ProgressPercentage, Message: optional(r.Message)}
	}
	return out
}

func conflictFromWire(c *ConflictResolution) *profiles.ConflictResolution {
	if c == nil {
		return nil
	}
	return &profiles.ConflictResolution{ConflictResolvingModel: deref(c.ConflictResolvingModel), SourceName: deref(c.SourceName)}
}

func conflictToWire(c *profiles.ConflictResolution) *ConflictResolution {
	if c == nil {
		return nil
	}
	return &ConflictResolution{ConflictResolvingModel: &c.ConflictResolvingModel, SourceName: optional(c.SourceName)}
}

func exportingFromWire(e *ExportingConfig) *profiles.ExportingConfig {
	if e == nil {
		return nil
	}
	out := &profiles.ExportingConfig{}
	if s3 := e.S3Exporting; s3 != nil {
		out.S3Exporting = &profiles.S3Exporting{S3BucketName: deref(s3.S3BucketName), S3KeyName: deref(s3.S3KeyName)}
	}
	return out
}

func exportingToWire(e *profiles.ExportingConfig) *ExportingConfig {
	if e == nil {
		return nil
	}
	out := &ExportingConfig{}
	if s3 := e.S3Exporting; s3 != nil {
		out.S3Exporting = &S3ExportingConfig{S3BucketName: &s3.S3BucketName, S3KeyName: optional(s3.S3KeyName)}
	}
	return out
}
