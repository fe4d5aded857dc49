package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// InstanceInfo is an instance on the wire of the admin API; DomainName, in
// ListInstances, is the domain it is associated with ("" for none).
type InstanceInfo struct {
	Id            string `json:"Id"`
	Arn           string `json:"Arn"`
	InstanceAlias string `json:"InstanceAlias"`
	CreatedTime   string `json:"CreatedTime"` // RFC 3339, UTC
	DomainName    string `json:"DomainName,omitempty"`
}

// IntegrationInfo is an instance's association on the wire.
type IntegrationInfo struct {
	DomainName      string            `json:"DomainName"`
	Uri             string            `json:"Uri"`
	ObjectTypeName  string            `json:"ObjectTypeName,omitempty"`
	ObjectTypeNames map[string]string `json:"ObjectTypeNames,omitempty"`
}

// Inputs and outputs of the admin API's operations.
type (
	CreateInstanceInput struct {
		InstanceAlias string `json:"InstanceAlias"`
	}
	CreateInstanceOutput struct {
		Instance InstanceInfo `json:"Instance"`
	}
	ListInstancesInput  struct{}
	ListInstancesOutput struct {
		InstanceSummaryList []InstanceInfo `json:"InstanceSummaryList"`
	}
	SwitchInstanceInput struct {
		InstanceArn string `json:"InstanceArn"`
		DomainName  string `json:"DomainName"`
	}
	SwitchInstanceOutput struct {
		Integration IntegrationInfo `json:"Integration"`
	}
)

// serveAdmin runs one operation of the admin API.
func (in *Intake) serveAdmin(ctx context.Context, q *request) (any, error) {
	switch q.operation {
	case "CreateInstance":
		var v CreateInstanceInput
		if err := decode(q.body, &v); err != nil {
			return nil, err
		}
		if err := q.authorize(ctx, "connect:CreateInstance", "*", ""); err != nil {
			return nil, err
		}
		inst, err := in.Integrations.CreateInstance(ctx, v.InstanceAlias)
		if err != nil {
			return nil, err
		}
		q.log = append(q.log, "instance", inst.ID)
		return &CreateInstanceOutput{Instance: instanceInfo(inst, "")}, nil

	case "ListInstances":
		var v ListInstancesInput
		if err := decode(q.body, &v); err != nil {
			return nil, err
		}
		if err := q.authorize(ctx, "connect:ListInstances", "*", ""); err != nil {
			return nil, err
		}
		list, err := in.Integrations.ListInstances(ctx)
		if err != nil {
			return nil, err
		}
		out := &ListInstancesOutput{InstanceSummaryList: make([]InstanceInfo, 0, len(list))}
		for _, v := range list {
			out.InstanceSummaryList = append(out.InstanceSummaryList, instanceInfo(&v.Instance, v.DomainName))
		}
		return out, nil

	case "SwitchInstance":
		var v SwitchInstanceInput
		if err := decode(q.body, &v); err != nil {
			return nil, err
		}
		return in.switchInstance(ctx, q, &v)
	}
	return nil, &wireError{"UnknownOperationException", http.StatusBadRequest,
		fmt.Sprintf("Unknown operation %q: the admin API has CreateInstance, ListInstances and SwitchInstance (X-Amz-Target %s<Operation>).", clip(q.operation), TargetPrefix)}
}

// switchInstance moves an instance's association: the caller needs
// profile:PutIntegration on the new domain and profile:DeleteIntegration on
// the domain the instance leaves, each also on the integration's ARN (as
// the API's PutIntegration and DeleteIntegration).
func (in *Intake) switchInstance(ctx context.Context, q *request, v *SwitchInstanceInput) (any, error) {
	switch {
	case v.InstanceArn == "":
		return nil, profiles.Errorf(profiles.EINVALID, "InstanceArn is required.")
	case v.DomainName == "":
		return nil, profiles.Errorf(profiles.EINVALID, "DomainName is required.")
	}
	id, ok := InstanceID(v.InstanceArn)
	if !ok {
		return nil, profiles.Errorf(profiles.EINVALID, "InstanceArn %q is not an instance ARN (arn:aws:connect:REGION:ACCOUNT:instance/ID).", clip(v.InstanceArn))
	}
	q.log = append(q.log, "instance", id, "domain", v.DomainName)
	if err := q.authorizeIntegration(ctx, "profile:PutIntegration", v.DomainName, v.InstanceArn); err != nil {
		return nil, err
	}
	old, err := in.Integrations.InstanceIntegration(ctx, id)
	if err == nil && old.DomainName != v.DomainName {
		if err := q.authorizeIntegration(ctx, "profile:DeleteIntegration", old.DomainName, old.URI); err != nil {
			return nil, err
		}
	} else if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return nil, err
	}
	integ, err := in.Integrations.SwitchInstance(ctx, v.InstanceArn, v.DomainName)
	if err != nil {
		return nil, err
	}
	return &SwitchInstanceOutput{Integration: IntegrationInfo{DomainName: integ.DomainName, Uri: integ.URI,
		ObjectTypeName: integ.ObjectTypeName, ObjectTypeNames: integ.ObjectTypeNames}}, nil
}

// authorizeIntegration authorises an action on the integration of Uri uri
// of a domain as the API does PutIntegration's and DeleteIntegration's: on
// the domain's ARN, with its tags, and on the integration's
// (…:domains/NAME/integrations/URI), with its own.
func (q *request) authorizeIntegration(ctx context.Context, action, domain, uri string) error {
	arn := q.in.domainARN(domain)
	if err := q.authorize(ctx, action, arn, domain); err != nil {
		return err
	}
	return q.authorize(ctx, action, arn+"/integrations/"+uri, domain)
}

// InstanceID returns the id of an instance ARN
// (arn:aws:connect:REGION:ACCOUNT:instance/ID).
func InstanceID(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "connect" {
		return "", false
	}
	id, ok := strings.CutPrefix(parts[5], "instance/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

func instanceInfo(in *profiles.Instance, domain string) InstanceInfo {
	return InstanceInfo{Id: in.ID, Arn: in.ARN, InstanceAlias: in.Alias,
		CreatedTime: in.CreatedAt.UTC().Format(time.RFC3339), DomainName: domain}
}

// decode reads a JSON request body (empty: no members) and refuses unknown
// members, naming them.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	if err != nil {
		return &wireError{"SerializationException", http.StatusBadRequest, "Could not read the request: " + clip(err.Error())}
	}
	return nil
}

// clip shortens client-supplied text echoed in a message.
func clip(s string) string {
	const max = 256
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
