package profiles

import (
	"context"
	"io"
	"time"
)

// SourceObject is an object of an S3 bucket, as listed.
type SourceObject struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// ObjectSources reads objects of S3 buckets (the S3 source of integration
// workflows). Package awss3 implements it over the S3 API. Errors: EINVALID
// for a bad bucket name, ENOTFOUND for a missing bucket or object,
// EFORBIDDEN when access is denied, ETHROTTLED when S3 asks to slow down;
// other errors are internal.
type ObjectSources interface {
	// ListObjects returns the objects of bucket whose keys start with
	// prefix ("" for all), in key order, every page of them.
	ListObjects(ctx context.Context, bucket, prefix string) ([]SourceObject, error)
	// CheckBucket returns nil when the bucket of the s3://bucket[/prefix]
	// URI exists and the credentials may use it.
	CheckBucket(ctx context.Context, uri string) error
	// OpenObject returns the body of an object to read: EINVALID when it
	// holds more than max bytes (at once, or from the Read that finds it
	// out). The caller closes it.
	OpenObject(ctx context.Context, bucket, key string, max int64) (io.ReadCloser, error)
}

// A Workflow (CreateIntegrationWorkflow, type APPFLOW_INTEGRATION) runs a
// flow of records from a source into an object type: the source's history
// first, in Batches, then, with a Scheduled trigger, its new data at every
// interval. OpenProfiles runs flows from S3 itself (AWS runs Amazon
// AppFlow flows); other connectors are refused.
type Workflow struct {
	DomainName       string
	ID               string
	Type             string // APPFLOW_INTEGRATION
	ObjectTypeName   string
	RoleArn          string
	Flow             FlowDefinition
	Batches          []WorkflowBatch
	Status           string // NOT_STARTED, IN_PROGRESS, COMPLETE, FAILED
	ErrorDescription string
	CreatedAt        time.Time
	LastUpdatedAt    time.Time
	RecordsProcessed int64
	StepsCompleted   int64
	TotalSteps       int64
	Tags             map[string]string
}

// FlowDefinition is a workflow's flow: where records come from, what
// happens to them (Tasks), and when it runs.
type FlowDefinition struct {
	Name                 string
	Description          string
	KmsArn               string
	ConnectorType        string // S3
	ConnectorProfileName string
	S3Bucket             string
	S3Prefix             string
	// DatetimeField names the records' field an incremental pull reads
	// (IncrementalPullConfig); kept and returned.
	DatetimeField string
	Tasks         []FlowTask
	TriggerType   string // OnDemand, Scheduled
	Schedule      *FlowSchedule
}

// FlowTask is one task of a flow, in AppFlow's terms.
type FlowTask struct {
	Type             string // Filter, Map, Mask, Truncate, Validate
	Operator         string // the S3 connector operator: PROJECTION, EQUAL_TO, NO_OP, …
	SourceFields     []string
	DestinationField string
	Properties       map[string]string
}

// FlowSchedule is a Scheduled trigger's settings.
type FlowSchedule struct {
	Expression         string // rate(N minutes|hours|days)
	DataPullMode       string // Incremental, Complete
	StartTime          time.Time
	EndTime            time.Time
	FirstExecutionFrom time.Time
	Offset             int64
	Timezone           string
}

// WorkflowBatch is a window of the source's history a workflow step
// reads: the objects last modified within [Start, End).
type WorkflowBatch struct {
	Start time.Time
	End   time.Time
}

// WorkflowStep is one run of a workflow's flow.
type WorkflowStep struct {
	Seq           int64 // its number: 1, 2, …
	FlowName      string
	Status        string // NOT_STARTED, IN_PROGRESS, COMPLETE, FAILED
	Message       string
	Records       int64
	BatchStart    string
	BatchEnd      string
	CreatedAt     time.Time
	LastUpdatedAt time.Time
}

// WorkflowQuery selects ListWorkflows' workflows: the fields that are set.
type WorkflowQuery struct {
	Type   string
	Status string
	From   time.Time // created at or after
	To     time.Time // created at or before
}

// MaxWorkflowsPerDomain is the quota of workflows of a domain.
const MaxWorkflowsPerDomain = 50

// WorkflowService manages integration workflows. Every method returns
// ENOTFOUND for a missing domain or workflow and EINVALID naming what is
// wrong.
type WorkflowService interface {
	// CreateIntegrationWorkflow checks a workflow and starts it (its
	// first step runs in the background).
	CreateIntegrationWorkflow(ctx context.Context, w *Workflow) (*Workflow, error)
	GetWorkflow(ctx context.Context, domain, id string) (*Workflow, error)
	// GetWorkflowSteps returns one page of a workflow's steps, oldest first.
	GetWorkflowSteps(ctx context.Context, domain, id string, page Page) ([]WorkflowStep, string, error)
	// ListWorkflows returns one page of a domain's workflows, newest first.
	ListWorkflows(ctx context.Context, domain string, q WorkflowQuery, page Page) ([]*Workflow, string, error)
	// DeleteWorkflow deletes a workflow (and the integration it set up);
	// a step running finishes the object it reads.
	DeleteWorkflow(ctx context.Context, domain, id string) error
}
