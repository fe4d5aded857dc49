package awsapi

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sigv4"
)

func (s *Server) registerUploadHandlers() {
	s.handlers["CreateUploadJob"] = s.createUploadJob
	s.handlers["GetUploadJob"] = s.getUploadJob
	s.handlers["ListUploadJobs"] = s.listUploadJobs
	s.handlers["GetUploadJobPath"] = s.getUploadJobPath
	s.handlers["StartUploadJob"] = s.startUploadJob
	s.handlers["StopUploadJob"] = s.stopUploadJob
}

func (s *Server) createUploadJob(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateUploadJob(c)
	if err != nil {
		return nil, err
	}
	fields := map[string]profiles.ObjectTypeField{}
	for name, f := range in.Fields {
		fields[name] = profiles.ObjectTypeField{Source: deref(f.Source), Target: deref(f.Target), ContentType: deref(f.ContentType)}
	}
	j, err := s.Uploads.CreateUploadJob(ctx, &profiles.UploadJob{DomainName: *in.DomainName, DisplayName: deref(in.DisplayName),
		Fields: fields, UniqueKey: deref(in.UniqueKey), DataExpiry: derefInt(in.DataExpiry)})
	if err != nil {
		return nil, err
	}
	return &CreateUploadJobResponse{JobId: &j.ID}, nil
}

func (s *Server) getUploadJob(ctx context.Context, c *call) (any, error) {
	in, err := bindGetUploadJob(c)
	if err != nil {
		return nil, err
	}
	j, err := s.Uploads.GetUploadJob(ctx, *in.DomainName, *in.JobId)
	if err != nil {
		return nil, err
	}
	created, updated, failed := int64(j.Created), int64(j.Updated), int64(j.Failed)
	out := &GetUploadJobResponse{JobId: &j.ID, DisplayName: &j.DisplayName, Status: &j.Status, StatusReason: optional(j.StatusReason),
		CreatedAt: NewTimestamp(j.CreatedAt), CompletedAt: NewTimestamp(j.CompletedAt), UniqueKey: &j.UniqueKey, DataExpiry: &j.DataExpiry,
		Fields: map[string]ObjectTypeField{}, ResultsSummary: &ResultsSummary{CreatedRecords: &created, UpdatedRecords: &updated, FailedRecords: &failed}}
	for name, f := range j.Fields {
		out.Fields[name] = ObjectTypeField{Source: optional(f.Source), Target: optional(f.Target), ContentType: optional(f.ContentType)}
	}
	return out, nil
}

func (s *Server) listUploadJobs(ctx context.Context, c *call) (any, error) {
	in, err := bindListUploadJobs(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.Uploads.ListUploadJobs(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListUploadJobsResponse{Items: []UploadJobItem{}, NextToken: optional(next)}
	for _, j := range list {
		out.Items = append(out.Items, UploadJobItem{JobId: &j.ID, DisplayName: &j.DisplayName, Status: &j.Status, StatusReason: optional(j.StatusReason),
			CreatedAt: NewTimestamp(j.CreatedAt), CompletedAt: NewTimestamp(j.CompletedAt), DataExpiry: &j.DataExpiry})
	}
	return out, nil
}

func (s *Server) getUploadJobPath(ctx context.Context, c *call) (any, error) {
	in, err := bindGetUploadJobPath(c)
	if err != nil {
		return nil, err
	}
	// The URL is on this server, as the caller reached it.
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	p, err := s.Uploads.UploadJobPath(ctx, *in.DomainName, *in.JobId, scheme+"://"+c.r.Host)
	if err != nil {
		return nil, err
	}
	return &GetUploadJobPathResponse{Url: &p.URL, ClientToken: &p.ClientToken, ValidUntil: NewTimestamp(p.ValidUntil)}, nil
}

func (s *Server) startUploadJob(ctx context.Context, c *call) (any, error) {
	in, err := bindStartUploadJob(c)
	if err != nil {
		return nil, err
	}
	if err := s.Uploads.StartUploadJob(ctx, *in.DomainName, *in.JobId); err != nil {
		return nil, err
	}
	return &StartUploadJobResponse{}, nil
}

func (s *Server) stopUploadJob(ctx context.Context, c *call) (any, error) {
	in, err := bindStopUploadJob(c)
	if err != nil {
		return nil, err
	}
	if err := s.Uploads.StopUploadJob(ctx, *in.DomainName, *in.JobId); err != nil {
		return nil, err
	}
	return &StopUploadJobResponse{}, nil
}

// ServeUpload serves the URLs GetUploadJobPath gives: a PUT of the job's
// CSV file, as to an S3 pre-signed URL with a customer-provided key (the
// client token in x-amz-server-side-encryption-customer-key, its MD5 in
// -key-MD5, algorithm AES256). The URL's signature and the token authorise
// it; errors are S3-style XML.
func (s *Server) ServeUpload(w http.ResponseWriter, r *http.Request, uploadPath string) {
	s3err := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>\n", code, xmlEscape(msg))
	}
	if r.Method != http.MethodPut {
		s3err(http.StatusMethodNotAllowed, "MethodNotAllowed", "PUT the file to this URL.")
		return
	}
	// An upload URL names the host GetUploadJobPath was asked at, which
	// the signed API checks against the server's public hosts: so does
	// the upload.
	if s.Verifier != nil && !sigv4.HostAllowed(s.Verifier.Hosts, r.Host) {
		s3err(http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("The Host header %q does not name this server: PUT the file to the URL GetUploadJobPath gave.", r.Host))
		return
	}
	domain, id, ok := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), uploadPath), "/")
	domain, err1 := url.PathUnescape(domain)
	id, err2 := url.PathUnescape(id)
	if !ok || err1 != nil || err2 != nil || domain == "" || id == "" || strings.Contains(id, "/") {
		s3err(http.StatusNotFound, "NoSuchKey", "No upload job at this URL.")
		return
	}
	token := r.Header.Get("x-amz-server-side-encryption-customer-key")
	if r.Header.Get("x-amz-server-side-encryption-customer-algorithm") != "AES256" || token == "" ||
		r.Header.Get("x-amz-server-side-encryption-customer-key-MD5") != customerKeyMD5(token) {
		s3err(http.StatusBadRequest, "InvalidArgument", "Send the client token of GetUploadJobPath in x-amz-server-side-encryption-customer-key, its MD5 in x-amz-server-side-encryption-customer-key-MD5 and AES256 in x-amz-server-side-encryption-customer-algorithm.")
		return
	}
	tooLarge := func() {
		s3err(http.StatusRequestEntityTooLarge, "EntityTooLarge", fmt.Sprintf("An upload job's file holds at most %d bytes.", profiles.MaxUploadBytes))
	}
	if r.ContentLength > profiles.MaxUploadBytes {
		tooLarge()
		return
	}
	answer := func(err error) {
		switch profiles.ErrorCode(err) {
		case profiles.EFORBIDDEN:
			s3err(http.StatusForbidden, "AccessDenied", profiles.ErrorMessage(err))
		case profiles.ENOTFOUND:
			s3err(http.StatusNotFound, "NoSuchKey", profiles.ErrorMessage(err))
		case profiles.EINVALID:
			s3err(http.StatusBadRequest, "InvalidRequest", profiles.ErrorMessage(err))
		default:
			s.Logger.Error("upload failed", "domain", domain, "job", id, "error", err.Error())
			s3err(http.StatusInternalServerError, "InternalError", "Internal error.")
		}
	}
	// Who may upload is known before a byte of the body is read.
	signature := r.URL.Query().Get("signature")
	if err := s.Uploads.CheckUpload(r.Context(), domain, id, signature, token); err != nil {
		answer(err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, profiles.MaxUploadBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		tooLarge()
		return
	} else if err != nil {
		s3err(http.StatusBadRequest, "IncompleteBody", "The file was not received whole.")
		return
	}
	if err := s.Uploads.Upload(r.Context(), domain, id, signature, token, body); err != nil {
		answer(err)
		return
	}
	s.Logger.Info("upload job file received", "domain", domain, "job", id, "bytes", len(body))
	w.WriteHeader(http.StatusOK)
}

// customerKeyMD5 is the x-amz-server-side-encryption-customer-key-MD5 of
// a key, as S3 computes it: the MD5 of the decoded key, in base64.
func customerKeyMD5(key string) string {
	raw, _ := base64.StdEncoding.DecodeString(key)
	h := md5.Sum(raw)
	return base64.StdEncoding.EncodeToString(h[:])
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
