package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// runUpload creates a job (createUploadJob's mapping: email, first,
// city), PUTs csv to it, starts it and waits for its end.
func (e *ingestEnv) runUpload(name, csv string) *customerprofiles.GetUploadJobOutput {
	e.t.Helper()
	job := e.createUploadJob(name)
	if st := e.putUpload(job, csv, func(tok string) string { return tok }); st != http.StatusOK {
		e.t.Fatalf("PUT %s: %d", name, st)
	}
	if _, err := e.client.StartUploadJob(e.t.Context(), &customerprofiles.StartUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(job)}); err != nil {
		e.t.Fatalf("StartUploadJob %s: %v", name, err)
	}
	return e.waitUpload(job)
}

func summary(j *customerprofiles.GetUploadJobOutput) string {
	r := j.ResultsSummary
	return fmt.Sprintf("%s/%s created %d updated %d failed %d", j.Status, j.StatusReason,
		aws.ToInt64(r.CreatedRecords), aws.ToInt64(r.UpdatedRecords), aws.ToInt64(r.FailedRecords))
}

// TestUploadJobs_CSVEdges: the CSV files spreadsheets and exports write,
// through the SDK and the upload URL: quoted cells holding commas, quotes
// and line breaks; CRLF line ends and blank lines; a header only; rows
// shorter or longer than the header among good ones; a file that is not
// UTF-8 (Excel's "CSV" in Windows-1252), which must not go in with its
// letters replaced.
func TestUploadJobs_CSVEdges(t *testing.T) {
	e := newIngestEnv(t)

	t.Run("Quoted", func(t *testing.T) {
		j := e.runUpload("quoted.csv", "email,first,city\r\n"+
			"\"qa@example.com\",\"Ann, \"\"the\"\" first\",\"Lyon\r\nCedex 03\"\r\n"+
			"qb@example.com,Bob,\"\"\r\n")
		if got, want := summary(j), "SUCCEEDED/ created 2 updated 0 failed 0"; got != want {
			t.Fatalf("job %s, want %s", got, want)
		}
		p := e.mustOne("_email", "qa@example.com")
		if got, want := aws.ToString(p.FirstName), `Ann, "the" first`; got != want {
			t.Errorf("FirstName %q, want %q", got, want)
		}
		if p.Address == nil || aws.ToString(p.Address.City) != "Lyon\nCedex 03" {
			t.Errorf("Address %+v, want the city with its line break", p.Address)
		}
	})

	t.Run("BlankLinesAndCRLF", func(t *testing.T) {
		j := e.runUpload("blank.csv", "\ufeffemail,first,city\r\n\r\nba@example.com,Ba,Metz\r\n\r\n\r\nbb@example.com,Bb,Nancy")
		if got, want := summary(j), "SUCCEEDED/ created 2 updated 0 failed 0"; got != want {
			t.Fatalf("job %s, want %s", got, want)
		}
		if p := e.mustOne("_email", "bb@example.com"); p.Address == nil || aws.ToString(p.Address.City) != "Nancy" {
			t.Errorf("the last row, without a line end: %+v", p.Address)
		}
	})

	t.Run("HeaderOnly", func(t *testing.T) {
		j := e.runUpload("empty.csv", "email,first,city\n")
		if got, want := summary(j), "SUCCEEDED/ created 0 updated 0 failed 0"; got != want {
			t.Fatalf("job %s, want %s", got, want)
		}
		j = e.runUpload("nothing.csv", "")
		if j.Status != types.UploadJobStatusFailed || j.StatusReason != types.StatusReasonValidationFailure {
			t.Fatalf("an empty file: %s", summary(j))
		}
	})

	t.Run("ShortAndLongRows", func(t *testing.T) {
		j := e.runUpload("ragged.csv", "email,first,city\n"+
			"ra@example.com,Ra,Lyon\n"+
			"rb@example.com,Rb\n"+ // short
			"rc@example.com,Rc,Lyon,extra\n"+ // long
			"\"rd@example.com\",\"Rd\n\",Lyon\n"+ // a line break in a cell: one row
			"re@example.com,Re,Lyon\n")
		if got, want := summary(j), "PARTIALLY_SUCCEEDED/ created 3 updated 0 failed 2"; got != want {
			t.Fatalf("job %s, want %s", got, want)
		}
		for _, gone := range []string{"rb@example.com", "rc@example.com"} {
			if ps := e.search("_email", gone); len(ps) != 0 {
				t.Errorf("the ragged row of %s went in: %+v", gone, ps)
			}
		}
		e.mustOne("_email", "re@example.com")
	})

	t.Run("NotUTF8", func(t *testing.T) {
		// René and Zoë in Windows-1252: é is 0xE9, ë 0xEB.
		j := e.runUpload("cp1252.csv", "email,first,city\nrene@example.com,Ren\xe9,Lyon\nzoe@example.com,Zo\xeb,Metz\n")
		if j.Status != types.UploadJobStatusFailed || j.StatusReason != types.StatusReasonValidationFailure {
			t.Errorf("a Windows-1252 file: %s, want FAILED/VALIDATION_FAILURE", summary(j))
		}
		for _, email := range []string{"rene@example.com", "zoe@example.com"} {
			if ps := e.search("_email", email); len(ps) != 0 {
				t.Errorf("a row of a file not UTF-8 went in: %q", aws.ToString(ps[0].FirstName))
			}
		}
	})
}

// TestUploadJobs_StopWhileRunning: StopUploadJob of a job under way ends
// it STOPPED, with CompletedAt, before the end of its file; the rows
// counted are rows that went in; the job takes no start, file or stop
// again.
func TestUploadJobs_StopWhileRunning(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	id := e.createUploadJob("long.csv")
	var b strings.Builder
	b.WriteString("email,first,city\n")
	const rows = 40000
	for i := range rows {
		fmt.Fprintf(&b, "s%d@example.com,S%d,Lyon\n", i, i)
	}
	if st := e.putUpload(id, b.String(), func(tok string) string { return tok }); st != http.StatusOK {
		t.Fatalf("PUT: %d", st)
	}
	in := &customerprofiles.StartUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)}
	if _, err := e.client.StartUploadJob(ctx, in); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); len(e.search("_email", "s0@example.com")) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the job ingested no row of s0 within 30 s")
		}
	}
	if _, err := e.client.StopUploadJob(ctx, &customerprofiles.StopUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)}); err != nil {
		t.Fatalf("StopUploadJob: %v", err)
	}
	j := e.waitUpload(id)
	if j.Status != types.UploadJobStatusStopped || j.CompletedAt == nil || j.StatusReason != "" {
		t.Fatalf("after StopUploadJob: %s, CompletedAt %v", summary(j), j.CompletedAt)
	}
	// The run saves its counts when it ends, within a second of the stop.
	r := j.ResultsSummary
	for deadline := time.Now().Add(30 * time.Second); aws.ToInt64(r.CreatedRecords) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r = e.waitUpload(id).ResultsSummary
	}
	t.Logf("stopped with %d created", aws.ToInt64(r.CreatedRecords))
	if c := aws.ToInt64(r.CreatedRecords); c == 0 || c >= rows || aws.ToInt64(r.FailedRecords) != 0 || aws.ToInt64(r.UpdatedRecords) != 0 {
		t.Errorf("counts of a stopped job: %+v", *r)
	}
	_, err := e.client.StartUploadJob(ctx, in)
	wantAPIError(t, err, "BadRequestException", "STOPPED")
	_, err = e.client.StopUploadJob(ctx, &customerprofiles.StopUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException", "STOPPED")
	_, err = e.client.GetUploadJobPath(ctx, &customerprofiles.GetUploadJobPathInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException", "STOPPED")
}

// TestUploadJobs_NodeDied: a job IN_PROGRESS whose node died (kill -9:
// nothing wrote its end) reads FAILED, INTERNAL_FAILURE, two minutes
// after the node last said how far it got, in GetUploadJob and
// ListUploadJobs alike; StopUploadJob and StartUploadJob then answer as
// for the FAILED job it reads as.
func TestUploadJobs_NodeDied(t *testing.T) {
	clock := &testClock{now: time.Now().UTC().Truncate(time.Millisecond)}
	e := newIngestEnvClock(t, clock)
	ctx := t.Context()
	id := e.createUploadJob("orphan.csv")
	// What a node killed mid-run leaves: the job IN_PROGRESS, last
	// written when it last said how far it got.
	doc, _ := json.Marshal(map[string]any{"displayName": "orphan.csv", "uniqueKey": "email", "dataExpiry": 7, "status": "IN_PROGRESS",
		"fields":   map[string]any{"email": map[string]string{"Source": "_source.email", "Target": "_profile.EmailAddress", "ContentType": "EMAIL_ADDRESS"}},
		"uploaded": true, "created": 12})
	mustRawExec(t, e.m, "UPDATE configs SET data = ?, updated_at = ? WHERE domain = ? AND kind = 'upload-job' AND name = ?",
		doc, clock.Now().UnixMilli(), e.domain, id)
	get := func() *customerprofiles.GetUploadJobOutput {
		j, err := e.client.GetUploadJob(ctx, &customerprofiles.GetUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	if j := get(); j.Status != types.UploadJobStatusInProgress {
		t.Fatalf("just written: %s", summary(j))
	}
	clock.add(3 * time.Minute)
	if j := get(); j.Status != types.UploadJobStatusFailed || j.StatusReason != types.StatusReasonInternalFailure ||
		aws.ToInt64(j.ResultsSummary.CreatedRecords) != 12 {
		t.Fatalf("3 minutes after its node died: %s", summary(j))
	}
	list, err := e.client.ListUploadJobs(ctx, &customerprofiles.ListUploadJobsInput{DomainName: aws.String(e.domain)})
	if err != nil || len(list.Items) != 1 || list.Items[0].Status != types.UploadJobStatusFailed {
		t.Fatalf("ListUploadJobs: %+v %v", list, err)
	}
	_, err = e.client.StopUploadJob(ctx, &customerprofiles.StopUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException", "FAILED")
	_, err = e.client.StartUploadJob(ctx, &customerprofiles.StartUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException", "FAILED")
	_, err = e.client.GetUploadJobPath(ctx, &customerprofiles.GetUploadJobPathInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException", "FAILED")
	if j := get(); j.Status != types.UploadJobStatusFailed || j.StatusReason != types.StatusReasonInternalFailure {
		t.Fatalf("after the refused stop: %s", summary(j))
	}
}

// TestUploadJobs_Paging: ListUploadJobs pages newest first through every
// job once; a token of another domain's list, or a forged one, is refused.
func TestUploadJobs_Paging(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	var want []string
	for i := range 7 {
		want = append([]string{e.createUploadJob(fmt.Sprintf("job%d.csv", i))}, want...)
	}
	var got []string
	var token *string
	for page := 0; ; page++ {
		out, err := e.client.ListUploadJobs(ctx, &customerprofiles.ListUploadJobsInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(3), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			got = append(got, aws.ToString(it.JobId))
			if it.Status != types.UploadJobStatusCreated || it.CompletedAt != nil || aws.ToInt32(it.DataExpiry) != 7 {
				t.Errorf("item %+v", it)
			}
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	first, err := e.client.ListUploadJobs(ctx, &customerprofiles.ListUploadJobsInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("other"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.ListUploadJobs(ctx, &customerprofiles.ListUploadJobsInput{DomainName: aws.String("other"), NextToken: first.NextToken})
	wantAPIError(t, err, "BadRequestException")
	_, err = e.client.ListUploadJobs(ctx, &customerprofiles.ListUploadJobsInput{DomainName: aws.String(e.domain), NextToken: aws.String("forged")})
	wantAPIError(t, err, "BadRequestException")
	_, err = e.client.ListUploadJobs(ctx, &customerprofiles.ListUploadJobsInput{DomainName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "nope")
}
