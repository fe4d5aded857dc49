package connect_test

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openprofiles/profiles/connect"
)

func simulate(seed uint64, n int) []*connect.ContactRecord {
	s := connect.NewSimulator(instanceARN, seed, time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	out := make([]*connect.ContactRecord, n)
	for i := range out {
		out[i] = s.Next()
	}
	return out
}

func TestSimulator(t *testing.T) {
	const n = 400
	recs := simulate(7, n)
	if diff := cmp.Diff(recs, simulate(7, n)); diff != "" {
		t.Fatalf("the same seed gave other records (-first +second):\n%s", diff)
	}
	if cmp.Equal(recs[0], simulate(8, 1)[0]) {
		t.Error("another seed gave the same first record")
	}

	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	phoneRE := regexp.MustCompile(`^\+1[2-9][0-9]{9}$`)
	emailRE := regexp.MustCompile(`^[a-z]+\.[a-z]+\.[0-9]+@example\.(com|net|org)$`)
	ids := map[string]bool{}
	count := map[string]int{}
	contactsOf := map[string]int{}          // address -> contacts
	namesOf := map[string]map[string]bool{} // phone -> customer names
	var last time.Time
	for i, r := range recs {
		if !uuidRE.MatchString(r.ContactId) || ids[r.ContactId] {
			t.Fatalf("record %d: ContactId %q is not a new UUID", i, r.ContactId)
		}
		ids[r.ContactId] = true
		if r.InstanceARN != instanceARN || r.AWSAccountId != "000000000000" || r.Attributes["customerName"] == "" {
			t.Fatalf("record %d: %+v", i, r)
		}
		start, err1 := time.Parse(time.RFC3339, r.InitiationTimestamp)
		end, err2 := time.Parse(time.RFC3339, r.DisconnectTimestamp)
		if err1 != nil || err2 != nil || !end.After(start) || !start.After(last) {
			t.Fatalf("record %d: times %s..%s after %s", i, r.InitiationTimestamp, r.DisconnectTimestamp, last)
		}
		last = start
		switch r.Channel {
		case "VOICE":
			if r.CustomerEndpoint.Type != "TELEPHONE_NUMBER" || !phoneRE.MatchString(r.CustomerEndpoint.Address) ||
				(r.InitiationMethod != "INBOUND" && r.InitiationMethod != "OUTBOUND") {
				t.Fatalf("record %d: voice %+v %+v", i, r.CustomerEndpoint, r.InitiationMethod)
			}
			if namesOf[r.CustomerEndpoint.Address] == nil {
				namesOf[r.CustomerEndpoint.Address] = map[string]bool{}
			}
			namesOf[r.CustomerEndpoint.Address][r.Attributes["customerName"]] = true
		case "CHAT":
			if r.CustomerEndpoint.Type != "EMAIL_ADDRESS" || !emailRE.MatchString(r.CustomerEndpoint.Address) {
				t.Fatalf("record %d: chat %+v", i, r.CustomerEndpoint)
			}
		default:
			t.Fatalf("record %d: channel %q", i, r.Channel)
		}
		if r.Agent != nil && (r.Agent.Username == "" || r.Agent.ConnectedToAgentTimestamp == "") {
			t.Fatalf("record %d: agent %+v", i, r.Agent)
		}
		if r.Queue != nil && r.Queue.Name == "" {
			t.Fatalf("record %d: queue %+v", i, r.Queue)
		}
		count[r.Channel+" "+r.InitiationMethod]++
		contactsOf[r.CustomerEndpoint.Address]++
	}
	returning, shared := 0, 0
	for _, n := range contactsOf {
		if n > 1 {
			returning++
		}
	}
	for _, names := range namesOf {
		if len(names) > 1 {
			shared++
		}
	}
	for _, k := range []string{"VOICE INBOUND", "VOICE OUTBOUND", "CHAT API"} {
		if count[k] < n/20 {
			t.Errorf("%d %s contacts of %d, want some: %v", count[k], k, n, count)
		}
	}
	if returning < 10 || len(contactsOf) < n/4 {
		t.Errorf("%d addresses with several contacts of %d addresses; want returning and new customers", returning, len(contactsOf))
	}
	if shared == 0 {
		t.Error("no phone number shared by two customers")
	}

	// The JSON is a contact trace record: the members the CTR template reads.
	b, _ := json.Marshal(recs[0])
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"ContactId", "Channel", "InitiationMethod", "InitiationTimestamp", "DisconnectTimestamp", "LastUpdateTimestamp", "Agent", "Queue", "InstanceARN", "Attributes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("record JSON has no %s: %s", k, b)
		}
	}
	if ep, _ := m["CustomerEndpoint"].(map[string]any); ep["Address"] == nil || ep["Type"] == nil {
		t.Errorf("CustomerEndpoint = %v", m["CustomerEndpoint"])
	}
}
