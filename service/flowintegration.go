package service

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// Integrations of flows: PutIntegration with a FlowDefinition. AWS creates
// an Amazon AppFlow flow and an integration whose Uri is the flow's ARN;
// OpenProfiles runs the flow as an integration workflow (the one
// CreateIntegrationWorkflow creates, without batches: its first run reads
// all the source's files) and keeps the integration beside it. The
// workflow is found by the flow's name (its reservation,
// ConfigWorkflowFlow); deleting the integration deletes the workflow, and
// the other way round.

// putFlowIntegration creates or replaces the workflow of in.Flow, then puts
// the integration of the flow's ARN.
func (s *Service) putFlowIntegration(ctx context.Context, in *profiles.Integration) (*profiles.Integration, error) {
	f := *in.Flow
	if f.Name == "" {
		return nil, profiles.Errorf(profiles.EINVALID, "FlowDefinition.FlowName is required.")
	}
	uri := s.flowARN(f.Name)
	if in.URI != "" && in.URI != uri {
		return nil, profiles.Errorf(profiles.EINVALID, "Uri %s: the Uri of an integration with a FlowDefinition is its flow's ARN, %s (or leave Uri out).", in.URI, uri)
	}
	if len(in.ObjectTypeNames) > 0 {
		return nil, profiles.Errorf(profiles.EINVALID, "ObjectTypeNames maps the event types of SaaS applications: a flow from S3 ingests into one ObjectTypeName.")
	}
	if in.ObjectTypeName == "" {
		return nil, profiles.Errorf(profiles.EINVALID, "ObjectTypeName is required with a FlowDefinition.")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	w := &profiles.Workflow{DomainName: in.DomainName, Type: "APPFLOW_INTEGRATION", ObjectTypeName: in.ObjectTypeName, RoleArn: in.RoleARN, Flow: f}
	// The integration must be this domain's to put: checked before the
	// workflow changes, so that a refusal leaves it as it was.
	if other, err := s.Integrations.FindIntegrationByURI(ctx, uri); err == nil && other.DomainName != in.DomainName {
		return nil, profiles.Errorf(profiles.ECONFLICT, "%s is already associated with another domain: %s.", uri, other.DomainName)
	} else if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return nil, err
	}
	id, err := s.flowWorkflowID(ctx, in.DomainName, f.Name)
	switch profiles.ErrorCode(err) {
	case "":
		if _, err := s.GetWorkflow(ctx, in.DomainName, id); profiles.ErrorCode(err) == profiles.ENOTFOUND {
			if reclaimed, err := s.reclaimFlowName(ctx, in.DomainName, f.Name); err != nil {
				return nil, err
			} else if !reclaimed {
				return nil, profiles.Errorf(profiles.ECONFLICT, "FlowName %s: its workflow is being created or deleted; try again in a moment.", f.Name)
			}
			id = ""
		} else if err != nil {
			return nil, err
		}
	case profiles.ENOTFOUND:
	default:
		return nil, err
	}
	created := id == ""
	if created {
		out, err := s.createWorkflow(ctx, w, true)
		if err != nil {
			// A PutIntegration of the same flow beside this one may have
			// made it: replace its flow instead.
			won, ferr := s.flowWorkflowID(ctx, in.DomainName, f.Name)
			if ferr != nil {
				return nil, err
			}
			// Its workflow is stored just after its reservation.
			rerr := s.replaceFlow(ctx, in.DomainName, won, w)
			for try := 0; profiles.ErrorCode(rerr) == profiles.ENOTFOUND && try < 10; try++ {
				time.Sleep(10 * time.Millisecond)
				rerr = s.replaceFlow(ctx, in.DomainName, won, w)
			}
			if profiles.ErrorCode(rerr) == profiles.ENOTFOUND {
				return nil, profiles.Errorf(profiles.ECONFLICT, "FlowName %s: its workflow is being created by another request; try again in a moment.", f.Name)
			} else if rerr != nil {
				return nil, rerr
			}
			id, created = won, false
		} else {
			id = out.ID
		}
	} else if err := s.replaceFlow(ctx, in.DomainName, id, w); err != nil {
		return nil, err
	}
	c := *in
	c.URI, c.Flow = uri, nil
	out, err := s.PutIntegration(ctx, &c)
	if err != nil {
		if created {
			if derr := s.deleteWorkflow(context.WithoutCancel(ctx), in.DomainName, id, f.Name); derr != nil {
				s.Logger.Error("integration: delete the workflow of a refused integration", "domain", in.DomainName, "workflow", id, "err", derr)
			}
		}
		return nil, err
	}
	out.WorkflowID = id
	return out, nil
}

// staleReservation is how old a flow name's reservation without its
// workflow must be to be taken as left over: a workflow is created within
// milliseconds of its reservation, and deleted just before it.
const staleReservation = time.Minute

// reclaimFlowName deletes the reservation of a flow name whose workflow is
// gone (a deletion cut short by a store failure), and reports whether it
// did: not while the workflow may still be on its way.
func (s *Service) reclaimFlowName(ctx context.Context, domain, flow string) (bool, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigWorkflowFlow, flow)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return true, nil
	} else if err != nil {
		return false, err
	}
	var id string
	if err := json.Unmarshal(c.Data, &id); err != nil {
		return false, err
	}
	if s.now().Sub(c.CreatedAt) < staleReservation {
		return false, nil
	}
	if _, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigWorkflow, id); err == nil {
		return false, nil
	} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return false, err
	}
	return true, s.releaseFlowName(ctx, domain, flow, id)
}

// releaseFlowName deletes the reservation of a flow name if it is the
// workflow id's.
func (s *Service) releaseFlowName(ctx context.Context, domain, flow, id string) error {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigWorkflowFlow, flow)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	var holder string
	if err := json.Unmarshal(c.Data, &holder); err != nil || holder != id {
		return err // another workflow's (or unreadable)
	}
	if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigWorkflowFlow, flow); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return err
	}
	return nil
}

func (s *Service) flowWorkflowNotFound(domain, flow string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "Flow %s has no workflow in domain %s.", flow, domain)
}

// flowWorkflowID returns the id of a domain's workflow of a flow name.
// Returns ENOTFOUND.
func (s *Service) flowWorkflowID(ctx context.Context, domain, flow string) (string, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigWorkflowFlow, flow)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return "", s.flowWorkflowNotFound(domain, flow)
	} else if err != nil {
		return "", err
	}
	var id string
	if err := json.Unmarshal(c.Data, &id); err != nil {
		return "", err
	}
	return id, nil
}

// flowName returns the flow name of a Uri that is the ARN of a flow of
// this account and region.
func (s *Service) flowName(uri string) (string, bool) {
	name, ok := strings.CutPrefix(uri, s.flowARN(""))
	return name, ok && name != ""
}

// withWorkflowID sets the WorkflowID of integrations of flows that have a
// workflow in their domain.
func (s *Service) withWorkflowID(ctx context.Context, list ...*profiles.Integration) error {
	for _, in := range list {
		name, ok := s.flowName(in.URI)
		if !ok {
			continue
		}
		switch id, err := s.flowWorkflowID(ctx, in.DomainName, name); profiles.ErrorCode(err) {
		case "":
			in.WorkflowID = id
		case profiles.ENOTFOUND:
		default:
			return err
		}
	}
	return nil
}

// flowHandover is how long a workflow whose flow PutIntegration replaced
// during a run waits before the new flow runs: the run notices within
// seconds (and a record's throttling wait, 30 s at most).
const flowHandover = time.Minute

// replaceFlow gives a workflow the flow, object type and role of w, as
// PutIntegration does for a flow name that has a workflow. The workflow
// starts over (its history read again) when its source (bucket or
// prefix) changed, when it failed, and for an OnDemand flow (which runs
// once for each PutIntegration); otherwise a scheduled flow's next pull
// goes on from the last file read, with the new tasks. A step running
// stops: the next sweep runs the new flow.
func (s *Service) replaceFlow(ctx context.Context, domain, id string, w *profiles.Workflow) error {
	if err := s.checkWorkflow(ctx, w); err != nil {
		return err
	}
	principal := profiles.PrincipalFromContext(ctx)
	now := s.now()
	return s.changeWorkflow(ctx, domain, id, func(d *workflowDoc) error {
		f := w.Flow
		again := d.Flow.S3Bucket != f.S3Bucket || d.Flow.S3Prefix != f.S3Prefix || f.TriggerType == "OnDemand" ||
			d.Status == "FAILED" || d.Flow.Name != f.Name
		d.Flow, d.ObjectTypeName, d.RoleArn, d.Principal, d.ViaIntegration = f, w.ObjectTypeName, w.RoleArn, principal, true
		// A run of the flow replaced loses the lease at its next save, and
		// stops; the new flow runs once the handover has passed, so that
		// the two never write side by side.
		if d.LeaseUntil.After(now) {
			d.LeaseUntil = now.Add(flowHandover)
		}
		for i := range d.Steps {
			if d.Steps[i].Status == "IN_PROGRESS" {
				d.Steps[i].Status, d.Steps[i].Message, d.Steps[i].LastUpdatedAt = "FAILED", "Interrupted: PutIntegration replaced the flow.", now
			}
		}
		switch {
		case again:
			d.Status, d.ErrorDescription, d.Retries, d.RetryingSince = "NOT_STARTED", "", 0, time.Time{}
			d.Batches, d.HistoryDone, d.TotalSteps = nil, 0, d.StepsCompleted+1
			d.Watermark, d.WatermarkKey, d.Recent, d.FileFailures, d.NextPull = time.Time{}, "", nil, nil, time.Time{}
		case f.TriggerType == "Scheduled" && d.Status == "COMPLETE":
			interval, _ := scheduleInterval(f.Schedule.Expression)
			if next := now.Add(interval); d.NextPull.After(next) {
				d.NextPull = next // a shorter interval counts from now
			}
		}
		return nil
	})
}
