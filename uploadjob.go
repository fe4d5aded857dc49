package profiles

import (
	"context"
	"time"
)

// An UploadJob ingests a CSV file into a domain (CreateUploadJob): each
// row is an object whose fields are the file's columns, mapped with
// Fields (an object type's field definitions, by name) and tied to a
// profile through the UniqueKey field, then kept DataExpiry days.
type UploadJob struct {
	DomainName   string
	ID           string
	DisplayName  string
	Fields       map[string]ObjectTypeField
	UniqueKey    string
	DataExpiry   int    // days
	Status       string // CREATED, IN_PROGRESS, PARTIALLY_SUCCEEDED, SUCCEEDED, FAILED, STOPPED
	StatusReason string // VALIDATION_FAILURE, INTERNAL_FAILURE; "" for none
	Message      string // what went wrong, for FAILED
	Uploaded     bool   // the file was uploaded
	Created      int    // rows that created a profile
	Updated      int    // rows that reached an existing profile
	Failed       int    // rows not ingested
	CreatedAt    time.Time
	CompletedAt  time.Time
}

// UploadJobPath is where the file of an upload job goes: a PUT of the CSV
// to URL, with ClientToken in the headers S3 takes for a customer key
// (x-amz-server-side-encryption-customer-key, -key-MD5, -algorithm
// AES256), until ValidUntil.
type UploadJobPath struct {
	URL         string
	ClientToken string
	ValidUntil  time.Time
}

// DefaultUploadDataExpiry is how many days an upload job's objects are
// kept when it names no DataExpiry (two weeks, as on AWS).
const DefaultUploadDataExpiry = 14

// MaxUploadBytes bounds one upload job's file.
const MaxUploadBytes = 64 << 20

// UploadJobService runs upload jobs. Every method returns ENOTFOUND for a
// missing domain or job.
type UploadJobService interface {
	// CreateUploadJob checks a job's mapping and keeps it, CREATED.
	CreateUploadJob(ctx context.Context, j *UploadJob) (*UploadJob, error)
	GetUploadJob(ctx context.Context, domain, id string) (*UploadJob, error)
	// ListUploadJobs returns one page of a domain's jobs, newest first.
	ListUploadJobs(ctx context.Context, domain string, page Page) ([]*UploadJob, string, error)
	// UploadJobPath gives a job's upload URL under baseURL and a new client
	// token (a previous one stops working). Returns EINVALID once the job
	// has started.
	UploadJobPath(ctx context.Context, domain, id, baseURL string) (*UploadJobPath, error)
	// CheckUpload tells whether a PUT of a job's file may go on (the
	// same checks as Upload's, before the file is read).
	CheckUpload(ctx context.Context, domain, id, signature, clientToken string) error
	// Upload keeps a job's file (sealed under the domain's key until the
	// job has run), given the URL's signature and the client token;
	// EFORBIDDEN when they are wrong or expired, EINVALID once the job has
	// started.
	Upload(ctx context.Context, domain, id, signature, clientToken string, file []byte) error
	// StartUploadJob starts ingesting the file; the job runs on this node
	// and GetUploadJob reports its progress. EINVALID without a file or
	// when the job was started before.
	StartUploadJob(ctx context.Context, domain, id string) error
	// StopUploadJob stops a job that has not finished (STOPPED).
	StopUploadJob(ctx context.Context, domain, id string) error
}
