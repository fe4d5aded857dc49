package main_test

import (
	"bufio"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

func (e *ingestEnv) createUploadJob(name string) string {
	e.t.Helper()
	out, err := e.client.CreateUploadJob(e.t.Context(), &customerprofiles.CreateUploadJobInput{DomainName: aws.String(e.domain),
		DisplayName: aws.String(name), UniqueKey: aws.String("email"), DataExpiry: aws.Int32(7),
		Fields: map[string]types.ObjectTypeField{
			"email": field("_source.email", "_profile.EmailAddress", "EMAIL_ADDRESS"),
			"first": field("_source.first", "_profile.FirstName", "NAME"),
			"city":  field("_source.city", "_profile.Address.City", "STRING"),
		}})
	if err != nil {
		e.t.Fatalf("CreateUploadJob: %v", err)
	}
	return aws.ToString(out.JobId)
}

// putUpload PUTs a file to a job's upload URL as a client of S3 would,
// with the client token as a customer-provided key.
func (e *ingestEnv) putUpload(id, csv string, token func(string) string) int {
	e.t.Helper()
	p, err := e.client.GetUploadJobPath(e.t.Context(), &customerprofiles.GetUploadJobPathInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
	if err != nil {
		e.t.Fatalf("GetUploadJobPath: %v", err)
	}
	if p.ValidUntil == nil || !p.ValidUntil.After(time.Now()) {
		e.t.Errorf("ValidUntil %v", p.ValidUntil)
	}
	key := token(aws.ToString(p.ClientToken))
	raw, _ := base64.StdEncoding.DecodeString(key)
	sum := md5.Sum(raw)
	req, _ := http.NewRequest("PUT", aws.ToString(p.Url), strings.NewReader(csv))
	req.Header.Set("x-amz-server-side-encryption-customer-algorithm", "AES256")
	req.Header.Set("x-amz-server-side-encryption-customer-key", key)
	req.Header.Set("x-amz-server-side-encryption-customer-key-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Body.Close()
	return r.StatusCode
}

// waitUpload polls a job until it has finished.
func (e *ingestEnv) waitUpload(id string) *customerprofiles.GetUploadJobOutput {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := e.client.GetUploadJob(e.t.Context(), &customerprofiles.GetUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
		if err != nil {
			e.t.Fatalf("GetUploadJob: %v", err)
		}
		if out.Status != types.UploadJobStatusInProgress || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUploadJobs drives an upload job through the SDK and an HTTP PUT to
// its URL: create, upload the CSV with the client token, start, poll to
// the end; the rows became profiles, the rows of one key in file order,
// and the failures are counted. Then the refusals.
func TestUploadJobs(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	id := e.createUploadJob("crm-export.csv")
	_, err := e.client.StartUploadJob(ctx, &customerprofiles.StartUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException", "no file")

	csv := "email,first,city\n" +
		"ann@example.com,Ann,Lyon\n" +
		"bob@example.com,Bob,Paris\n" +
		"ANN@example.com,Annie,Lyon\n" + // Ann's key again: her profile, the later row kept
		",Nobody,Nice\n" + // no unique key
		"cat@example.com,Cat\n" // a column short
	if st := e.putUpload(id, csv, func(tok string) string { return "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nISE=" }); st != http.StatusForbidden {
		t.Errorf("PUT with a wrong client token: %d, want 403", st)
	}
	if st := e.putUpload(id, csv, func(tok string) string { return tok }); st != http.StatusOK {
		t.Fatalf("PUT the file: %d", st)
	}
	if _, err := e.client.StartUploadJob(ctx, &customerprofiles.StartUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)}); err != nil {
		t.Fatalf("StartUploadJob: %v", err)
	}
	job := e.waitUpload(id)
	r := job.ResultsSummary
	if job.Status != types.UploadJobStatusPartiallySucceeded || aws.ToInt64(r.CreatedRecords) != 2 || aws.ToInt64(r.UpdatedRecords) != 1 ||
		aws.ToInt64(r.FailedRecords) != 2 || job.CompletedAt == nil || aws.ToString(job.UniqueKey) != "email" || aws.ToInt32(job.DataExpiry) != 7 {
		t.Fatalf("job %s, results %+v, %+v", job.Status, *r, job)
	}
	ann := e.mustOne("_email", "ann@example.com")
	if aws.ToString(ann.FirstName) != "Annie" || ann.Address == nil || aws.ToString(ann.Address.City) != "Lyon" {
		t.Errorf("Ann's profile: %+v (the later row's name, Annie, expected)", ann)
	}
	e.mustOne("_email", "bob@example.com")
	if ps := e.search("_email", "cat@example.com"); len(ps) != 0 {
		t.Errorf("the short row made a profile: %+v", ps)
	}

	// Once started, a job takes no file and no second start.
	_, err = e.client.GetUploadJobPath(ctx, &customerprofiles.GetUploadJobPathInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException", "no longer")
	_, err = e.client.StartUploadJob(ctx, &customerprofiles.StartUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException", "once")

	t.Run("StopAndList", func(t *testing.T) {
		stopped := e.createUploadJob("never.csv")
		if _, err := e.client.StopUploadJob(ctx, &customerprofiles.StopUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(stopped)}); err != nil {
			t.Fatalf("StopUploadJob: %v", err)
		}
		if j := e.waitUpload(stopped); j.Status != types.UploadJobStatusStopped {
			t.Errorf("stopped job: %s", j.Status)
		}
		_, err := e.client.StopUploadJob(ctx, &customerprofiles.StopUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(stopped)})
		wantAPIError(t, err, "BadRequestException", "STOPPED")
		list, err := e.client.ListUploadJobs(ctx, &customerprofiles.ListUploadJobsInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(1)})
		if err != nil || len(list.Items) != 1 || aws.ToString(list.Items[0].JobId) != stopped || list.NextToken == nil {
			t.Fatalf("ListUploadJobs page 1: %+v, %v", list, err)
		}
		list, err = e.client.ListUploadJobs(ctx, &customerprofiles.ListUploadJobsInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(1), NextToken: list.NextToken})
		if err != nil || len(list.Items) != 1 || aws.ToString(list.Items[0].JobId) != id {
			t.Fatalf("ListUploadJobs page 2: %+v, %v", list, err)
		}
	})

	run := func(name, csv string) *customerprofiles.GetUploadJobOutput {
		t.Helper()
		job := e.createUploadJob(name)
		if st := e.putUpload(job, csv, func(tok string) string { return tok }); st != http.StatusOK {
			t.Fatalf("PUT: %d", st)
		}
		if _, err := e.client.StartUploadJob(ctx, &customerprofiles.StartUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(job)}); err != nil {
			t.Fatal(err)
		}
		return e.waitUpload(job)
	}

	t.Run("NotCSV", func(t *testing.T) {
		// A file that is not CSV all through, that names a column twice,
		// or lacks a column a field reads: the job fails and no row goes
		// in, not even those before the fault.
		for name, csv := range map[string]string{
			"bad quote": "email,first,city\ndan@example.com,Dan,Lyon\n\"unterminated,Ann,Lyon\n",
			"twice":     "email,first,city,email\ndan@example.com,Dan,Lyon,x@example.com\n",
			"no first":  "email,city\ndan@example.com,Lyon\n",
		} {
			if j := run(name, csv); j.Status != types.UploadJobStatusFailed || j.StatusReason != types.StatusReasonValidationFailure {
				t.Errorf("%s: %s %s", name, j.Status, j.StatusReason)
			}
		}
		if ps := e.search("_email", "dan@example.com"); len(ps) != 0 {
			t.Errorf("a failed file put rows in: %+v", ps)
		}
		// A byte-order mark (Excel's CSV UTF-8) is not part of the header.
		if j := run("bom.csv", "\ufeffemail,first,city\neve@example.com,Eve,Metz\n"); j.Status != types.UploadJobStatusSucceeded {
			t.Errorf("a file with a BOM: %s %s", j.Status, j.StatusReason)
		}
		e.mustOne("_email", "eve@example.com")
	})

	t.Run("ManyRowsOfOneProfile", func(t *testing.T) {
		// 150 rows of one customer, spelled differently: more than the
		// per-profile ingestion burst, all in file order; the last is kept.
		var b strings.Builder
		b.WriteString("email,first,city\n")
		spellings := []string{"fay@example.com", "FAY@example.com", " fay@example.com", "Fay@Example.COM"}
		for i := range 150 {
			fmt.Fprintf(&b, "%s,Fay%d,Lille\n", spellings[i%len(spellings)], i)
		}
		j := run("fay.csv", b.String())
		if j.Status != types.UploadJobStatusSucceeded || aws.ToInt64(j.ResultsSummary.CreatedRecords) != 1 || aws.ToInt64(j.ResultsSummary.UpdatedRecords) != 149 {
			t.Fatalf("job %s %+v", j.Status, *j.ResultsSummary)
		}
		if p := e.mustOne("_email", "fay@example.com"); aws.ToString(p.FirstName) != "Fay149" {
			t.Errorf("FirstName %q, want the last row's, Fay149", aws.ToString(p.FirstName))
		}
	})

	t.Run("Errors", func(t *testing.T) {
		_, err := e.client.CreateUploadJob(ctx, &customerprofiles.CreateUploadJobInput{DomainName: aws.String(e.domain), DisplayName: aws.String("x"),
			UniqueKey: aws.String("id"), Fields: map[string]types.ObjectTypeField{"email": field("_source.email", "_profile.EmailAddress", "EMAIL_ADDRESS")}})
		wantAPIError(t, err, "BadRequestException", "UniqueKey", "id")
		_, err = e.client.CreateUploadJob(ctx, &customerprofiles.CreateUploadJobInput{DomainName: aws.String(e.domain), DisplayName: aws.String("x"),
			UniqueKey: aws.String("email"), Fields: map[string]types.ObjectTypeField{"email": field("_source.email", "_profile.Nope", "STRING")}})
		wantAPIError(t, err, "BadRequestException", "Nope")
		_, err = e.client.GetUploadJob(ctx, &customerprofiles.GetUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String("0123456789abcdef0123456789abcdef")})
		wantAPIError(t, err, "ResourceNotFoundException", "0123456789abcdef0123456789abcdef")
	})
}

// TestUploadJobs_ServerStops: a job running when its server stops ends
// FAILED (INTERNAL_FAILURE) with what it ingested counted, and the server
// stops without waiting for the rest of the file (nor crashing: a row's
// failure, then interrupted rows, once made it panic).
func TestUploadJobs_ServerStops(t *testing.T) {
	e := newIngestEnv(t)
	id := e.createUploadJob("big.csv")
	var b strings.Builder
	b.WriteString("email,first,city\n")
	b.WriteString("short@example.com,Short\n") // fails: the first failure is a row's
	for i := range 50000 {
		fmt.Fprintf(&b, "p%d@example.com,P%d,Lyon\n", i, i)
	}
	if st := e.putUpload(id, b.String(), func(tok string) string { return tok }); st != http.StatusOK {
		t.Fatalf("PUT: %d", st)
	}
	if _, err := e.client.StartUploadJob(t.Context(), &customerprofiles.StartUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	// The server stops once the job has ingested rows (p0's is one of the
	// first), with the rest of the file in flight or to come.
	for deadline := time.Now().Add(30 * time.Second); len(e.search("_email", "p0@example.com")) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the job ingested no row of p0 within 30 s")
		}
	}
	cfg := e.m.Config
	start := time.Now()
	e.m.Close()
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("closing took %v with a job running", d)
	}
	m := MustOpenMain(t, cfg)
	e.client = MustClient(t, m)
	j, err := e.client.GetUploadJob(t.Context(), &customerprofiles.GetUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	r := j.ResultsSummary
	t.Logf("when the server stopped: created %d, failed %d", aws.ToInt64(r.CreatedRecords), aws.ToInt64(r.FailedRecords))
	// At most the short row failed: the rows the stop interrupted (up to
	// 256 in flight) are not failures.
	if j.Status != types.UploadJobStatusFailed || j.StatusReason != types.StatusReasonInternalFailure ||
		aws.ToInt64(r.CreatedRecords) >= 50000 || aws.ToInt64(r.FailedRecords) > 1 {
		t.Errorf("job after its server stopped: %s %s, created %d, failed %d", j.Status, j.StatusReason, aws.ToInt64(r.CreatedRecords), aws.ToInt64(r.FailedRecords))
	}
}

// TestUploadJobs_CheckedBeforeTheBody: a PUT to an upload URL with a forged
// signature is refused from its headers, before the server reads a body
// (here announced at 60 MiB and never sent).
func TestUploadJobs_CheckedBeforeTheBody(t *testing.T) {
	e := newIngestEnv(t)
	id := e.createUploadJob("forged.csv")
	token := base64.StdEncoding.EncodeToString(make([]byte, 32))
	sum := md5.Sum(make([]byte, 32))
	u, _ := url.Parse(e.m.URL())
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /openprofiles/uploads/%s/%s?signature=forged HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n"+
		"x-amz-server-side-encryption-customer-algorithm: AES256\r\nx-amz-server-side-encryption-customer-key: %s\r\n"+
		"x-amz-server-side-encryption-customer-key-MD5: %s\r\n\r\n", e.domain, id, u.Host, 60<<20, token, base64.StdEncoding.EncodeToString(sum[:]))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body: %v", err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("forged signature: %d, want 403", r.StatusCode)
	}
}

// TestUploadJobs_DottedColumns: a column whose name has dots, as exports
// of nested records write them (contact.email), is read by the source
// _source.contact.email; a field reading a dotted column the header does
// not name fails the job before any row goes in.
func TestUploadJobs_DottedColumns(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	run := func(name, csv string) *customerprofiles.GetUploadJobOutput {
		t.Helper()
		out, err := e.client.CreateUploadJob(ctx, &customerprofiles.CreateUploadJobInput{DomainName: aws.String(e.domain),
			DisplayName: aws.String(name), UniqueKey: aws.String("email"),
			Fields: map[string]types.ObjectTypeField{
				"email": field("_source.contact.email", "_profile.EmailAddress", "EMAIL_ADDRESS"),
				"first": field("_source.contact.name.first", "_profile.FirstName", "NAME"),
			}})
		if err != nil {
			t.Fatalf("CreateUploadJob: %v", err)
		}
		job := aws.ToString(out.JobId)
		if st := e.putUpload(job, csv, func(tok string) string { return tok }); st != http.StatusOK {
			t.Fatalf("PUT: %d", st)
		}
		if _, err := e.client.StartUploadJob(ctx, &customerprofiles.StartUploadJobInput{DomainName: aws.String(e.domain), JobId: aws.String(job)}); err != nil {
			t.Fatal(err)
		}
		return e.waitUpload(job)
	}
	j := run("nested.csv", "id,contact.email,contact.name.first\n1,gil@example.com,Gil\n2,hal@example.com,Hal\n")
	if j.Status != types.UploadJobStatusSucceeded || aws.ToInt64(j.ResultsSummary.CreatedRecords) != 2 {
		t.Fatalf("job %s %s, results %+v", j.Status, j.StatusReason, *j.ResultsSummary)
	}
	if p := e.mustOne("_email", "gil@example.com"); aws.ToString(p.FirstName) != "Gil" {
		t.Errorf("FirstName %q, want Gil", aws.ToString(p.FirstName))
	}
	j = run("no-name.csv", "id,contact.email\n3,ivy@example.com\n")
	if j.Status != types.UploadJobStatusFailed || j.StatusReason != types.StatusReasonValidationFailure {
		t.Errorf("a file without the contact.name.first column: %s %s", j.Status, j.StatusReason)
	}
	if ps := e.search("_email", "ivy@example.com"); len(ps) != 0 {
		t.Errorf("a failed file put rows in: %+v", ps)
	}
}
