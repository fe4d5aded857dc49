package awskinesis_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/awskinesis"
	"github.com/openprofiles/profiles/awskinesis/kinesalite"
)

var creds = credentials.NewStaticCredentialsProvider("AKTEST", "secret", "")

func TestCheckStream(t *testing.T) {
	endpoint := kinesalite.Start(t)
	arn := kinesalite.CreateStream(t, endpoint, kinesalite.Region, "orders", 1)
	if want := "arn:aws:kinesis:us-east-1:000000000000:stream/orders"; arn != want {
		t.Fatalf("CreateStream: ARN %s, want %s", arn, want)
	}
	s := awskinesis.New(endpoint, kinesalite.Region, creds)
	tests := []struct {
		name, arn string
		code      string // "" for nil
		mention   string
	}{
		{"ok", arn, "", ""},
		{"missing stream", "arn:aws:kinesis:us-east-1:000000000000:stream/nope", profiles.ENOTFOUND, "arn:aws:kinesis:us-east-1:000000000000:stream/nope"},
		{"another account", "arn:aws:kinesis:us-east-1:111122223333:stream/orders", profiles.EINVALID, arn},
		{"another region", "arn:aws:kinesis:eu-west-1:000000000000:stream/orders", profiles.EINVALID, "region eu-west-1"},
		{"not an ARN", "orders", profiles.EINVALID, `"orders"`},
		{"another service", "arn:aws:sqs:us-east-1:000000000000:orders", profiles.EINVALID, "arn:aws:sqs:us-east-1:000000000000:orders"},
		{"a consumer", arn + "/consumer/c:1", profiles.EINVALID, arn + "/consumer/c:1"},
		{"bad account", "arn:aws:kinesis:us-east-1:0000:stream/orders", profiles.EINVALID, "arn:aws:kinesis:us-east-1:0000:stream/orders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CheckStream(t.Context(), tt.arn)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("CheckStream(%s): %v, want nil", tt.arn, err)
				}
				return
			}
			if got := profiles.ErrorCode(err); got != tt.code || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("CheckStream(%s): %v (%s), want %s naming %s", tt.arn, err, got, tt.code, tt.mention)
			}
		})
	}

	// A stream being deleted is DELETING (kinesalite deletes it on its next
	// turn of the event loop), then missing.
	if _, err := kinesalite.Client(endpoint, kinesalite.Region).DeleteStream(t.Context(), &kinesis.DeleteStreamInput{StreamName: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.CheckStream(t.Context(), arn)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			break
		}
		if profiles.ErrorCode(err) != profiles.EINVALID || !strings.Contains(err.Error(), "is DELETING") {
			t.Fatalf("CheckStream(deleted): %v, want EINVALID saying DELETING, then ENOTFOUND", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("CheckStream(deleted): still %v after 10 s, want ENOTFOUND", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func records(n int, key func(i int) string) []profiles.StreamRecord {
	rs := make([]profiles.StreamRecord, n)
	for i := range rs {
		rs[i] = profiles.StreamRecord{PartitionKey: key(i), Data: fmt.Appendf(nil, `{"n":%d}`, i)}
	}
	return rs
}

func TestPutRecords(t *testing.T) {
	endpoint := kinesalite.Start(t)
	s := awskinesis.New(endpoint, kinesalite.Region, creds)
	ctx := t.Context()

	t.Run("one shard, in order", func(t *testing.T) {
		arn := kinesalite.CreateStream(t, endpoint, kinesalite.Region, "one", 1)
		var want []profiles.StreamRecord
		for batch := range 3 {
			rs := records(4, func(i int) string { return fmt.Sprintf("profile-%d", (batch*4+i)%3) })
			for i := range rs {
				rs[i].Data = fmt.Appendf(nil, `{"batch":%d,"n":%d}`, batch, i)
			}
			rs[2].Data = nil // an empty record is one too
			failed, err := s.PutRecords(ctx, arn, rs)
			if err != nil || len(failed) != 0 {
				t.Fatalf("PutRecords(batch %d): %v, %v, want no failure", batch, failed, err)
			}
			want = append(want, rs...)
		}
		got := kinesalite.ReadAll(t, endpoint, kinesalite.Region, "one")
		if len(got) != len(want) {
			t.Fatalf("read %d records, want %d: %v", len(got), len(want), got)
		}
		for i := range want {
			if got[i].PartitionKey != want[i].PartitionKey || !bytes.Equal(got[i].Data, want[i].Data) {
				t.Errorf("record %d: got %s, want %s:%q", i, got[i], want[i].PartitionKey, want[i].Data)
			}
		}
	})

	t.Run("500 records over 4 shards", func(t *testing.T) {
		arn := kinesalite.CreateStream(t, endpoint, kinesalite.Region, "four", 4)
		rs := records(awskinesis.MaxRecords, func(i int) string { return fmt.Sprintf("profile-%d", i%37) })
		failed, err := s.PutRecords(ctx, arn, rs)
		if err != nil || len(failed) != 0 {
			t.Fatalf("PutRecords(500): %v, %v, want no failure", failed, err)
		}
		got := kinesalite.ReadAll(t, endpoint, kinesalite.Region, "four")
		if len(got) != len(rs) {
			t.Fatalf("read %d records, want %d", len(got), len(rs))
		}
		// Each partition key's records are in one shard, in the order written.
		byKey := map[string][]string{}
		shardOf := map[string]string{}
		shards := map[string]bool{}
		for _, r := range got {
			if s, ok := shardOf[r.PartitionKey]; ok && s != r.ShardID {
				t.Errorf("%s is in shards %s and %s", r.PartitionKey, s, r.ShardID)
			}
			shardOf[r.PartitionKey] = r.ShardID
			shards[r.ShardID] = true
			byKey[r.PartitionKey] = append(byKey[r.PartitionKey], string(r.Data))
		}
		for i := range 37 {
			key := fmt.Sprintf("profile-%d", i)
			var want []string
			for j := i; j < len(rs); j += 37 {
				want = append(want, string(rs[j].Data))
			}
			if !slices.Equal(byKey[key], want) {
				t.Errorf("%s: read %v, want %v", key, byKey[key], want)
			}
		}
		if len(shards) < 2 {
			t.Errorf("37 partition keys went to %d shard(s) of 4", len(shards))
		}
	})

	arn := kinesalite.CreateStream(t, endpoint, kinesalite.Region, "errors", 1)
	one := records(1, func(int) string { return "p" })
	tests := []struct {
		name    string
		arn     string
		records []profiles.StreamRecord
		code    string
		mention string
	}{
		{"no records", arn, nil, profiles.EINVALID, "0 records"},
		{"501 records", arn, records(501, func(int) string { return "p" }), profiles.EINVALID, "501 records"},
		{"empty partition key", arn, records(2, func(i int) string { return strings.Repeat("p", i) }), profiles.EINVALID, "record 0: PartitionKey"},
		{"long partition key", arn, records(1, func(int) string { return strings.Repeat("é", 257) }), profiles.EINVALID, "257 characters"},
		{"record over 1 MiB (the service refuses it)", arn, []profiles.StreamRecord{{PartitionKey: "p", Data: make([]byte, 1<<20+1)}}, profiles.EINVALID, "ValidationException"},
		{"missing stream", "arn:aws:kinesis:us-east-1:000000000000:stream/nope", one, profiles.ENOTFOUND, "arn:aws:kinesis:us-east-1:000000000000:stream/nope"},
		{"not an ARN", "nope", one, profiles.EINVALID, `"nope"`},
		{"another region", "arn:aws:kinesis:us-west-2:000000000000:stream/errors", one, profiles.EINVALID, "region us-west-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failed, err := s.PutRecords(ctx, tt.arn, tt.records)
			if got := profiles.ErrorCode(err); got != tt.code || !strings.Contains(err.Error(), tt.mention) || failed != nil {
				t.Errorf("PutRecords: %v, %v (%s), want %s naming %s", failed, err, got, tt.code, tt.mention)
			}
		})
	}
	if got := kinesalite.ReadAll(t, endpoint, kinesalite.Region, "errors"); len(got) != 0 {
		t.Errorf("refused calls wrote %v", got)
	}
}

// TestKinesaliteARNs checks what package kinesalite documents: the ARNs of
// its streams are of the region and account it was started with, whatever
// the region requests are signed for; and Streams of that region use them.
func TestKinesaliteARNs(t *testing.T) {
	endpoint := kinesalite.StartIn(t, "eu-west-1", "123456789012")
	arn := kinesalite.CreateStream(t, endpoint, "ap-south-1", "clicks", 2)
	if want := "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks"; arn != want {
		t.Fatalf("CreateStream: ARN %s, want %s", arn, want)
	}
	s := awskinesis.New(endpoint, "eu-west-1", creds)
	if err := s.CheckStream(t.Context(), arn); err != nil {
		t.Fatalf("CheckStream(%s): %v", arn, err)
	}
	if failed, err := s.PutRecords(t.Context(), arn, records(3, func(i int) string { return fmt.Sprint(i) })); err != nil || failed != nil {
		t.Fatalf("PutRecords(%s): %v, %v", arn, failed, err)
	}
	if got := kinesalite.ReadAll(t, endpoint, "us-east-1", "clicks"); len(got) != 3 {
		t.Errorf("read %v, want 3 records", got)
	}
	// Another account's ARN names a stream the credentials do not reach.
	if err := s.CheckStream(t.Context(), "arn:aws:kinesis:eu-west-1:000000000000:stream/clicks"); profiles.ErrorCode(err) != profiles.EINVALID || !strings.Contains(err.Error(), arn) {
		t.Errorf("CheckStream(another account): %v, want EINVALID naming %s", err, arn)
	}
}

// fakeKinesis answers every call with status and body.
func fakeKinesis(t *testing.T, status int, body string) *awskinesis.Streams {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	s := awskinesis.New(srv.URL, "us-east-1", creds)
	s.Client = kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds, RetryMaxAttempts: 1})
	return s
}

// TestPartialFailure checks that PutRecords returns the indexes of the
// records the service refused (kinesalite never refuses some of a call).
func TestPartialFailure(t *testing.T) {
	results := []map[string]string{
		{"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
		{"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard"},
		{"SequenceNumber": "2", "ShardId": "shardId-000000000000"},
		{"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."},
	}
	body, _ := json.Marshal(map[string]any{"FailedRecordCount": 2, "Records": results})
	s := fakeKinesis(t, 200, string(body))
	arn := "arn:aws:kinesis:us-east-1:000000000000:stream/s"
	failed, err := s.PutRecords(t.Context(), arn, records(4, func(int) string { return "p" }))
	if err != nil || !slices.Equal(failed, []int{1, 3}) {
		t.Errorf("PutRecords: %v, %v, want [1 3], nil", failed, err)
	}
	if _, err := s.PutRecords(t.Context(), arn, records(5, func(int) string { return "p" })); profiles.ErrorCode(err) != profiles.EINTERNAL {
		t.Errorf("PutRecords(4 results for 5 records): %v, want an internal error", err)
	}
}

// TestErrors checks the mapping of errors of the service.
func TestErrors(t *testing.T) {
	arn := "arn:aws:kinesis:us-east-1:000000000000:stream/s"
	for _, tt := range []struct{ errorType, code string }{
		{"ProvisionedThroughputExceededException", profiles.ETHROTTLED},
		{"LimitExceededException", profiles.ETHROTTLED},
		{"KMSThrottlingException", profiles.ETHROTTLED},
		{"ResourceNotFoundException", profiles.ENOTFOUND},
		{"AccessDeniedException", profiles.EFORBIDDEN},
		{"KMSAccessDeniedException", profiles.EFORBIDDEN},
		{"KMSDisabledException", profiles.EFORBIDDEN},
		{"KMSNotFoundException", profiles.EFORBIDDEN},
		{"KMSOptInRequired", profiles.EFORBIDDEN},
		{"InvalidArgumentException", profiles.EINVALID},
		{"ValidationException", profiles.EINVALID},
		{"UnrecognizedClientException", profiles.EINTERNAL},
		{"ResourceInUseException", profiles.EINTERNAL},
	} {
		t.Run(tt.errorType, func(t *testing.T) {
			s := fakeKinesis(t, 400, `{"__type":"`+tt.errorType+`","message":"no way"}`)
			_, err := s.PutRecords(t.Context(), arn, records(1, func(int) string { return "p" }))
			if got := profiles.ErrorCode(err); got != tt.code || !strings.Contains(err.Error(), tt.errorType) || !strings.Contains(err.Error(), arn) {
				t.Errorf("PutRecords: %v (%s), want %s naming %s and the stream", err, got, tt.code, tt.errorType)
			}
			if err := s.CheckStream(t.Context(), arn); profiles.ErrorCode(err) != tt.code {
				t.Errorf("CheckStream: %v, want %s", err, tt.code)
			}
		})
	}

	t.Run("status", func(t *testing.T) {
		for _, st := range []string{"CREATING", "DELETING"} {
			s := fakeKinesis(t, 200, `{"StreamDescriptionSummary":{"StreamName":"s","StreamARN":"`+arn+`","StreamStatus":"`+st+`"}}`)
			if err := s.CheckStream(t.Context(), arn); profiles.ErrorCode(err) != profiles.EINVALID || !strings.Contains(err.Error(), st) {
				t.Errorf("CheckStream(%s): %v, want EINVALID saying %s", st, err, st)
			}
		}
		s := fakeKinesis(t, 200, `{"StreamDescriptionSummary":{"StreamName":"s","StreamARN":"`+arn+`","StreamStatus":"UPDATING"}}`)
		if err := s.CheckStream(t.Context(), arn); err != nil {
			t.Errorf("CheckStream(UPDATING): %v, want nil", err)
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		s := awskinesis.New("http://127.0.0.1:1", "us-east-1", creds)
		s.Client = kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), Credentials: creds, RetryMaxAttempts: 1})
		if err := s.CheckStream(t.Context(), arn); profiles.ErrorCode(err) != profiles.EINTERNAL {
			t.Errorf("CheckStream(unreachable): %v, want an internal error", err)
		}
	})
}
