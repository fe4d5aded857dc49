package dlqtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

const visibility = 30 * time.Second

// receive receives once and fails tb on error.
func receive(tb testing.TB, h *Harness, url string, max int, wait, vis time.Duration) []profiles.QueueMessage {
	tb.Helper()
	msgs, err := h.DL.Receive(tb.Context(), url, max, wait, vis)
	if err != nil {
		tb.Fatalf("Receive(max %d, wait %v, visibility %v): %v", max, wait, vis, err)
	}
	if len(msgs) > max {
		tb.Fatalf("Receive(max %d): %d messages", max, len(msgs))
	}
	return msgs
}

// receiveN receives until it has n messages (several receives: a queue
// may return fewer than it has), and fails tb if it gets more or fewer.
func receiveN(tb testing.TB, h *Harness, url string, n int) []profiles.QueueMessage {
	tb.Helper()
	var got []profiles.QueueMessage
	for i := 0; i < 10 && len(got) < n; i++ {
		got = append(got, receive(tb, h, url, 10, 2*time.Second, visibility)...)
	}
	if len(got) != n {
		tb.Fatalf("received %d messages, want %d", len(got), n)
	}
	return got
}

func mustSend(tb testing.TB, h *Harness, url, body string) {
	tb.Helper()
	acct, src := h.source("acme")
	if err := h.DL.Send(tb.Context(), url, body, acct, src); err != nil {
		tb.Fatalf("Send(%.40q): %v", body, err)
	}
}

func testSendReceiveDelete(t *testing.T, h *Harness) {
	url := h.newQueue(t)
	body := `{"DomainName": "acme", "ErrorMessage": "The UNIQUE key or PROFILE key doesn't exist", "Object": {"név": "<Zoë & 李>"}}`
	before := time.Now()
	mustSend(t, h, url, body)
	m := receiveN(t, h, url, 1)[0]
	if m.Body != body {
		t.Errorf("Body=%q, want %q", m.Body, body)
	}
	if m.ID == "" || m.ReceiptHandle == "" || m.ReceiveCount != 1 {
		t.Errorf("ID=%q ReceiptHandle=%q ReceiveCount=%d, want an id, a handle and 1", m.ID, m.ReceiptHandle, m.ReceiveCount)
	}
	if m.SentAt.Before(before.Add(-time.Minute)) || m.SentAt.After(time.Now().Add(time.Minute)) {
		t.Errorf("SentAt=%v, want about %v", m.SentAt, before)
	}
	if err := h.DL.Delete(t.Context(), url, m.ReceiptHandle); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := receive(t, h, url, 10, time.Second, visibility); len(got) != 0 {
		t.Errorf("Receive after Delete: %d messages, want 0", len(got))
	}
}

func testReceiveMax(t *testing.T, h *Harness) {
	url := h.newQueue(t)
	want := []string{"m1", "m2", "m3"}
	for _, b := range want {
		mustSend(t, h, url, b)
	}
	first := receive(t, h, url, 2, 2*time.Second, visibility)
	if len(first) == 0 {
		t.Fatalf("Receive(max 2): no message of 3")
	}
	rest := receiveN(t, h, url, 3-len(first))
	var got []string
	for _, m := range append(first, rest...) {
		got = append(got, m.Body)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("bodies %q, want %q", got, want)
	}
	for _, max := range []int{0, 11} {
		_, err := h.DL.Receive(t.Context(), url, max, 0, visibility)
		checkCode(t, fmt.Sprintf("Receive(max %d)", max), err, profiles.EINVALID)
	}
}

func testVisibility(t *testing.T, h *Harness) {
	url := h.newQueue(t)
	mustSend(t, h, url, "hidden for a while")
	const hidden = 2 * time.Second
	start := time.Now() // the message is hidden until at least start+hidden
	first := receive(t, h, url, 1, 5*time.Second, hidden)
	if len(first) != 1 {
		t.Fatalf("Receive: %d messages, want 1", len(first))
	}
	got := receive(t, h, url, 10, 0, visibility)
	// Only a receive that ended within the hidden time proves anything (a
	// loaded machine can take longer between the two calls).
	var again []profiles.QueueMessage
	if elapsed := time.Since(start); elapsed < hidden && len(got) != 0 {
		t.Fatalf("Receive while hidden: %d messages, want 0", len(got))
	} else if elapsed >= hidden {
		t.Logf("the receive while hidden ended %v after the first began: not checked", elapsed)
		again = got // back already, as it may be by then
	}
	for i := 0; i < 5 && len(again) == 0; i++ {
		again = receive(t, h, url, 1, 2*time.Second, visibility)
	}
	if len(again) != 1 {
		t.Fatalf("Receive after the visibility timeout: %d messages, want 1", len(again))
	}
	m := again[0]
	if m.ID != first[0].ID || m.Body != first[0].Body || m.ReceiveCount != 2 {
		t.Errorf("received again: ID=%q Body=%q ReceiveCount=%d, want %q, %q, 2", m.ID, m.Body, m.ReceiveCount, first[0].ID, first[0].Body)
	}
	if m.ReceiptHandle == first[0].ReceiptHandle {
		t.Errorf("received again with the same receipt handle")
	}
	if err := h.DL.Delete(t.Context(), url, m.ReceiptHandle); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

func testLongPolling(t *testing.T, h *Harness) {
	url := h.newQueue(t)
	acct, src := h.source("acme")
	sent := make(chan error, 1)
	// Sent 200 ms later, to arrive while the receive waits; the receive
	// returns with it, so the wait of 20 s (the most SQS has) costs nothing
	// and leaves a loaded machine time to send it.
	go func() {
		time.Sleep(200 * time.Millisecond)
		sent <- h.DL.Send(t.Context(), url, "late", acct, src)
	}()
	msgs := receive(t, h, url, 1, 20*time.Second, visibility)
	if err := <-sent; err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(msgs) != 1 || msgs[0].Body != "late" {
		t.Fatalf("Receive waiting 20 s for a message sent after 200 ms: %v", msgs)
	}
}

func testPurge(t *testing.T, h *Harness) {
	url := h.newQueue(t)
	mustSend(t, h, url, "one")
	mustSend(t, h, url, "two")
	if err := h.DL.Purge(t.Context(), url); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if got := receive(t, h, url, 10, time.Second, visibility); len(got) != 0 {
		t.Errorf("Receive after Purge: %d messages, want 0", len(got))
	}
	mustSend(t, h, url, "after")
	if got := receiveN(t, h, url, 1); got[0].Body != "after" {
		t.Errorf("Receive after Purge and Send: %q", got[0].Body)
	}
}

func testBadReceiptHandle(t *testing.T, h *Harness) {
	url := h.newQueue(t)
	mustSend(t, h, url, "keep me")
	m := receiveN(t, h, url, 1)[0]
	err := h.DL.Delete(t.Context(), url, "not-a-receipt-handle")
	if h.ChecksHandles || err != nil {
		checkCode(t, "Delete(not-a-receipt-handle)", err, profiles.EINVALID)
	}
	if err := h.DL.Delete(t.Context(), url, m.ReceiptHandle); err != nil {
		t.Fatalf("Delete(the handle received): %v", err)
	}
}

func testNotFound(t *testing.T, h *Harness) {
	url := h.newQueue(t)
	missing := url[:strings.LastIndexByte(url, '/')+1] + "dlqtest-missing-" + randomHex(4)
	ctx := t.Context()
	acct, src := h.source("acme")
	checkCode(t, "CheckQueue(missing)", h.DL.CheckQueue(ctx, missing, acct, src), profiles.ENOTFOUND)
	checkCode(t, "Send(missing)", h.DL.Send(ctx, missing, "x", acct, src), profiles.ENOTFOUND)
	_, err := h.DL.Receive(ctx, missing, 1, 0, visibility)
	checkCode(t, "Receive(missing)", err, profiles.ENOTFOUND)
	checkCode(t, "Delete(missing)", h.DL.Delete(ctx, missing, "x"), profiles.ENOTFOUND)
	checkCode(t, "Purge(missing)", h.DL.Purge(ctx, missing), profiles.ENOTFOUND)
}

func testCheckQueue(t *testing.T, h *Harness) {
	ctx := t.Context()
	acct, src := h.source("acme")
	anyQueue := QueueARN(h.Region, h.Account, "*")
	domains := DomainARN(h.Region, h.Account, "*")
	if !h.ChecksPolicy {
		url := h.newQueue(t)
		if err := h.DL.CheckQueue(ctx, url, acct, src); err != nil {
			t.Fatalf("CheckQueue(service policy): %v", err)
		}
		return
	}
	for _, tc := range []struct {
		name, policy string
		ok           bool
	}{
		{"brief statement and conditions", h.ServicePolicy(), true},
		{"brief statement", Policy(ServiceStatement(anyQueue, "", "")), true},
		{"this domain", Policy(ServiceStatement(anyQueue, h.Account, DomainARN(h.Region, h.Account, "acme"))), true},
		{"sqs:*", Policy(strings.Replace(ServiceStatement(anyQueue, "", ""), "SQS:SendMessage", "sqs:*", 1)), true},
		{"no policy", "", false},
		{"another domain", Policy(ServiceStatement(anyQueue, h.Account, DomainARN(h.Region, h.Account, "other"))), false},
		{"another account", Policy(ServiceStatement(anyQueue, "111111111111", domains)), false},
		{"another region", Policy(ServiceStatement(anyQueue, h.Account, DomainARN("eu-west-9", h.Account, "*"))), false},
		{"another service", Policy(strings.Replace(ServiceStatement(anyQueue, "", ""), "profile.amazonaws.com", "events.amazonaws.com", 1)), false},
		{"another action", Policy(strings.Replace(ServiceStatement(anyQueue, "", ""), "SQS:SendMessage", "sqs:ReceiveMessage", 1)), false},
		{"denied", Policy(ServiceStatement(anyQueue, "", ""),
			strings.Replace(strings.Replace(ServiceStatement(anyQueue, "", ""), "Allow", "Deny", 1), "Customer Profiles SQS policy", "Deny", 1)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := h.NewQueue(t, tc.policy)
			checkErr := h.DL.CheckQueue(ctx, url, acct, src)
			sendErr := h.DL.Send(ctx, url, "checked", acct, src)
			if tc.ok {
				checkCode(t, "CheckQueue", checkErr, "")
				checkCode(t, "Send", sendErr, "")
				return
			}
			checkCode(t, "CheckQueue", checkErr, profiles.EFORBIDDEN)
			checkCode(t, "Send", sendErr, profiles.EFORBIDDEN)
			msg := profiles.ErrorMessage(checkErr)
			for _, want := range []string{"Customer Profiles SQS policy", QueueARN(h.Region, h.Account, queueName(url)), "profile.amazonaws.com", "aws:SourceArn"} {
				if !strings.Contains(msg, want) {
					t.Errorf("CheckQueue: message %q does not name %q", msg, want)
				}
			}
			if got := receive(t, h, url, 10, 0, visibility); len(got) != 0 {
				t.Errorf("Send refused, yet the queue has %d messages", len(got))
			}
		})
	}
}

func testChangeVisibilityAndDepth(t *testing.T, h *Harness) {
	url := h.newQueue(t)
	if n, err := h.DL.Depth(t.Context(), url); err != nil || n != 0 {
		t.Fatalf("Depth of a new queue = %d, %v; want 0", n, err)
	}
	mustSend(t, h, url, "one")
	mustSend(t, h, url, "two")
	got := receiveN(t, h, url, 2)
	if n, err := h.DL.Depth(t.Context(), url); err != nil || n != 2 {
		t.Errorf("Depth with two messages in flight = %d, %v; want 2", n, err)
	}
	// Hidden for the visibility timeout until made visible again.
	if again := receive(t, h, url, 10, 0, visibility); len(again) != 0 {
		t.Fatalf("Receive while hidden: %d messages, want 0", len(again))
	}
	if err := h.DL.ChangeVisibility(t.Context(), url, got[0].ReceiptHandle, 0); err != nil {
		t.Fatalf("ChangeVisibility(0): %v", err)
	}
	back := receiveN(t, h, url, 1)
	if back[0].ID != got[0].ID || back[0].Body != got[0].Body {
		t.Errorf("after ChangeVisibility(0) received %q (%s), want %q (%s)", back[0].Body, back[0].ID, got[0].Body, got[0].ID)
	}
	if err := h.DL.Delete(t.Context(), url, back[0].ReceiptHandle); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n, err := h.DL.Depth(t.Context(), url); err != nil || n != 1 {
		t.Errorf("Depth after a delete = %d, %v; want 1", n, err)
	}
	err := h.DL.ChangeVisibility(t.Context(), url, "not-a-handle", 0)
	checkCode(t, "ChangeVisibility(bad handle)", err, profiles.EINVALID)
	_, err = h.DL.Depth(t.Context(), url+"-missing")
	checkCode(t, "Depth(missing queue)", err, profiles.ENOTFOUND)
}

func testStaleHandle(t *testing.T, h *Harness) {
	url := h.newQueue(t)
	mustSend(t, h, url, "received twice")
	first := receiveN(t, h, url, 1)[0]
	if err := h.DL.ChangeVisibility(t.Context(), url, first.ReceiptHandle, 0); err != nil {
		t.Fatalf("ChangeVisibility(0): %v", err)
	}
	again := receiveN(t, h, url, 1)[0]
	if again.ID != first.ID {
		t.Fatalf("received %s after making %s visible, want it again", again.ID, first.ID)
	}
	err := h.DL.ChangeVisibility(t.Context(), url, first.ReceiptHandle, visibility)
	checkCode(t, "ChangeVisibility(the handle of the first receive)", err, profiles.EINVALID)
	errs, err := h.DL.ChangeVisibilities(t.Context(), url, []string{first.ReceiptHandle}, visibility)
	if err != nil || len(errs) != 1 {
		t.Fatalf("ChangeVisibilities(the handle of the first receive): %v, %v; want one error", errs, err)
	}
	checkCode(t, "ChangeVisibilities(the handle of the first receive)", errs[0], profiles.EINVALID)
	if err := h.DL.ChangeVisibility(t.Context(), url, again.ReceiptHandle, visibility); err != nil {
		t.Errorf("ChangeVisibility(the handle of the last receive): %v", err)
	}
	if err := h.DL.Delete(t.Context(), url, again.ReceiptHandle); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

func testChangeVisibilities(t *testing.T, h *Harness) {
	url := h.newQueue(t)
	for _, b := range []string{"one", "two", "three"} {
		mustSend(t, h, url, b)
	}
	got := receiveN(t, h, url, 3)
	// The first and the last visible again at once; the second hidden
	// longer; a handle the queue never made in between fails alone.
	handles := []string{got[0].ReceiptHandle, "not-a-handle", got[2].ReceiptHandle}
	errs, err := h.DL.ChangeVisibilities(t.Context(), url, handles, 0)
	if err != nil || len(errs) != 3 {
		t.Fatalf("ChangeVisibilities: %v, %v; want three answers", errs, err)
	}
	checkCode(t, "ChangeVisibilities: the first", errs[0], "")
	checkCode(t, "ChangeVisibilities: a handle never made", errs[1], profiles.EINVALID)
	checkCode(t, "ChangeVisibilities: the last", errs[2], "")
	errs, err = h.DL.ChangeVisibilities(t.Context(), url, []string{got[1].ReceiptHandle}, 10*time.Minute)
	if err != nil || len(errs) != 1 || errs[0] != nil {
		t.Fatalf("ChangeVisibilities(10 min): %v, %v; want no error", errs, err)
	}
	back := receiveN(t, h, url, 2)
	ids := []string{back[0].ID, back[1].ID}
	if !slices.Contains(ids, got[0].ID) || !slices.Contains(ids, got[2].ID) {
		t.Errorf("received %v after ChangeVisibilities(0), want %s and %s", ids, got[0].ID, got[2].ID)
	}
	for _, n := range []int{0, 11} {
		_, err := h.DL.ChangeVisibilities(t.Context(), url, slices.Repeat([]string{got[1].ReceiptHandle}, n), 0)
		checkCode(t, fmt.Sprintf("ChangeVisibilities(%d handles)", n), err, profiles.EINVALID)
	}
	_, err = h.DL.ChangeVisibilities(t.Context(), url+"-missing", []string{got[1].ReceiptHandle}, 0)
	checkCode(t, "ChangeVisibilities(missing queue)", err, profiles.ENOTFOUND)
}
