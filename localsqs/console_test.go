package localsqs_test

import (
	"strings"
	"testing"

	"github.com/openprofiles/profiles"
)

func TestCreateServiceQueue(t *testing.T) {
	s := MustRealServer(t)
	ctx := t.Context()
	q, err := s.SQS.CreateServiceQueue(ctx, "CustomerProfiles-ExampleCorp-dlq")
	if err != nil {
		t.Fatalf("CreateServiceQueue: %v", err)
	}
	if !strings.HasSuffix(q.URL, "/"+testAccount+"/CustomerProfiles-ExampleCorp-dlq") || q.ARN != s.SQS.QueueARN(q.Name) {
		t.Errorf("URL %s ARN %s", q.URL, q.ARN)
	}
	domainARN := "arn:aws:profile:" + testRegion + ":" + testAccount + ":domains/ExampleCorp"
	if err := s.SQS.CheckQueue(ctx, q.URL, testAccount, domainARN); err != nil {
		t.Errorf("CheckQueue of the new queue: %v", err)
	}
	if st := s.SQS.ServiceQueueStatement(q.Name); !strings.Contains(st, q.ARN) || !strings.Contains(st, "SQS:SendMessage") {
		t.Errorf("ServiceQueueStatement: %s", st)
	}
	qs, err := s.SQS.ListQueues(ctx)
	if err != nil || len(qs) != 1 || qs[0].URL != q.URL {
		t.Errorf("ListQueues = %+v, %v; want the new queue with its URL", qs, err)
	}
	if _, err := s.SQS.CreateServiceQueue(ctx, q.Name); profiles.ErrorCode(err) != profiles.ECONFLICT {
		t.Errorf("CreateServiceQueue(taken): %v, want ECONFLICT", err)
	}
	if _, err := s.SQS.CreateServiceQueue(ctx, "bad name!"); profiles.ErrorCode(err) != profiles.EINVALID {
		t.Errorf("CreateServiceQueue(bad name): %v, want EINVALID", err)
	}
}
