package rowcodec

import (
	"encoding/json"
	"fmt"

	"github.com/openprofiles/profiles"
)

// The data column of object_types holds an ObjectType, minus its domain,
// name and times, as JSON in the stores' own form (as for settings: a
// renamed root field fails to compile here instead of changing what is
// stored). Empty values are left out and read back as zero or nil.

type objectTypeJSON struct {
	Description                      string                         `json:"description,omitempty"`
	TemplateID                       string                         `json:"templateId,omitempty"`
	ExpirationDays                   int                            `json:"expirationDays,omitempty"`
	EncryptionKey                    string                         `json:"encryptionKey,omitempty"`
	AllowProfileCreation             bool                           `json:"allowProfileCreation,omitempty"`
	SourceLastUpdatedTimestampFormat string                         `json:"sourceLastUpdatedTimestampFormat,omitempty"`
	MaxProfileObjectCount            int                            `json:"maxProfileObjectCount,omitempty"`
	SourcePriority                   int                            `json:"sourcePriority,omitempty"`
	Fields                           map[string]objectTypeFieldJSON `json:"fields,omitempty"`
	Keys                             map[string][]objectTypeKeyJSON `json:"keys,omitempty"`
	Tags                             map[string]string              `json:"tags,omitempty"`
}

type objectTypeFieldJSON struct {
	Source      string `json:"source"`
	Target      string `json:"target,omitempty"`
	ContentType string `json:"contentType,omitempty"`
}

type objectTypeKeyJSON struct {
	StandardIdentifiers []string `json:"standardIdentifiers,omitempty"`
	FieldNames          []string `json:"fieldNames,omitempty"`
}

// EncodeObjectType returns the data column of ot.
func EncodeObjectType(ot *profiles.ObjectType) (string, error) {
	j := objectTypeJSON{
		Description:                      ot.Description,
		TemplateID:                       ot.TemplateID,
		ExpirationDays:                   ot.ExpirationDays,
		EncryptionKey:                    ot.EncryptionKey,
		AllowProfileCreation:             ot.AllowProfileCreation,
		SourceLastUpdatedTimestampFormat: ot.SourceLastUpdatedTimestampFormat,
		MaxProfileObjectCount:            ot.MaxProfileObjectCount,
		SourcePriority:                   ot.SourcePriority,
		Tags:                             ot.Tags,
	}
	if len(ot.Fields) > 0 {
		j.Fields = make(map[string]objectTypeFieldJSON, len(ot.Fields))
		for name, f := range ot.Fields {
			j.Fields[name] = objectTypeFieldJSON{Source: f.Source, Target: f.Target, ContentType: f.ContentType}
		}
	}
	if len(ot.Keys) > 0 {
		j.Keys = make(map[string][]objectTypeKeyJSON, len(ot.Keys))
		for name, ks := range ot.Keys {
			out := make([]objectTypeKeyJSON, len(ks))
			for i, k := range ks {
				out[i] = objectTypeKeyJSON{StandardIdentifiers: k.StandardIdentifiers, FieldNames: k.FieldNames}
			}
			j.Keys[name] = out
		}
	}
	buf, err := json.Marshal(j)
	if err != nil {
		return "", fmt.Errorf("encode object type %q: %w", ot.Name, err)
	}
	return string(buf), nil
}

// DecodeObjectType sets the fields of ot held in the data column.
func DecodeObjectType(ot *profiles.ObjectType, data string) error {
	var j objectTypeJSON
	if err := json.Unmarshal([]byte(data), &j); err != nil {
		return fmt.Errorf("decode object type %q of domain %q: %w", ot.Name, ot.DomainName, err)
	}
	ot.Description = j.Description
	ot.TemplateID = j.TemplateID
	ot.ExpirationDays = j.ExpirationDays
	ot.EncryptionKey = j.EncryptionKey
	ot.AllowProfileCreation = j.AllowProfileCreation
	ot.SourceLastUpdatedTimestampFormat = j.SourceLastUpdatedTimestampFormat
	ot.MaxProfileObjectCount = j.MaxProfileObjectCount
	ot.SourcePriority = j.SourcePriority
	ot.Tags = j.Tags
	if len(j.Fields) > 0 {
		ot.Fields = make(map[string]profiles.ObjectTypeField, len(j.Fields))
		for name, f := range j.Fields {
			ot.Fields[name] = profiles.ObjectTypeField{Source: f.Source, Target: f.Target, ContentType: f.ContentType}
		}
	}
	if len(j.Keys) > 0 {
		ot.Keys = make(map[string][]profiles.ObjectTypeKey, len(j.Keys))
		for name, ks := range j.Keys {
			out := make([]profiles.ObjectTypeKey, len(ks))
			for i, k := range ks {
				out[i] = profiles.ObjectTypeKey{StandardIdentifiers: k.StandardIdentifiers, FieldNames: k.FieldNames}
			}
			ot.Keys[name] = out
		}
	}
	return nil
}
