package connect

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// ContactRecord is a contact trace record as Amazon Connect writes it (the
// members the simulator fills; absent ones are null, as in real records).
type ContactRecord struct {
	AWSAccountId                       string            `json:"AWSAccountId"`
	AWSContactTraceRecordFormatVersion string            `json:"AWSContactTraceRecordFormatVersion"`
	Agent                              *Agent            `json:"Agent"`
	AgentConnectionAttempts            int               `json:"AgentConnectionAttempts"`
	Attributes                         map[string]string `json:"Attributes"`
	Channel                            string            `json:"Channel"`
	ContactId                          string            `json:"ContactId"`
	CustomerEndpoint                   *Endpoint         `json:"CustomerEndpoint"`
	DisconnectReason                   string            `json:"DisconnectReason"`
	DisconnectTimestamp                string            `json:"DisconnectTimestamp"`
	InitialContactId                   *string           `json:"InitialContactId"`
	InitiationMethod                   string            `json:"InitiationMethod"`
	InitiationTimestamp                string            `json:"InitiationTimestamp"`
	InstanceARN                        string            `json:"InstanceARN"`
	LastUpdateTimestamp                string            `json:"LastUpdateTimestamp"`
	MediaStreams                       []MediaStream     `json:"MediaStreams"`
	NextContactId                      *string           `json:"NextContactId"`
	PreviousContactId                  *string           `json:"PreviousContactId"`
	Queue                              *Queue            `json:"Queue"`
	Recording                          *Recording        `json:"Recording"`
	SystemEndpoint                     *Endpoint         `json:"SystemEndpoint"`
	TransferCompletedTimestamp         *string           `json:"TransferCompletedTimestamp"`
	TransferredToEndpoint              *Endpoint         `json:"TransferredToEndpoint"`
}

// Endpoint is a customer or system endpoint: TELEPHONE_NUMBER with an E.164
// number, or EMAIL_ADDRESS.
type Endpoint struct {
	Address string `json:"Address"`
	Type    string `json:"Type"`
}

// Agent is the agent who handled a contact.
type Agent struct {
	ARN                       string          `json:"ARN"`
	AfterContactWorkDuration  int             `json:"AfterContactWorkDuration"`
	AgentInteractionDuration  int             `json:"AgentInteractionDuration"`
	ConnectedToAgentTimestamp string          `json:"ConnectedToAgentTimestamp"`
	CustomerHoldDuration      int             `json:"CustomerHoldDuration"`
	HierarchyGroups           *struct{}       `json:"HierarchyGroups"`
	LongestHoldDuration       int             `json:"LongestHoldDuration"`
	NumberOfHolds             int             `json:"NumberOfHolds"`
	RoutingProfile            *RoutingProfile `json:"RoutingProfile"`
	Username                  string          `json:"Username"`
}

// RoutingProfile is an agent's routing profile.
type RoutingProfile struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

// Queue is the queue a contact waited in.
type Queue struct {
	ARN              string `json:"ARN"`
	DequeueTimestamp string `json:"DequeueTimestamp"`
	Duration         int    `json:"Duration"`
	EnqueueTimestamp string `json:"EnqueueTimestamp"`
	Name             string `json:"Name"`
}

// MediaStream is a media stream of a contact.
type MediaStream struct {
	Type string `json:"Type"`
}

// Recording is the recording of a voice contact.
type Recording struct {
	DeletionReason *string `json:"DeletionReason"`
	Location       string  `json:"Location"`
	Status         string  `json:"Status"`
	Type           string  `json:"Type"`
}

// Simulator generates the contact records of an instance: voice calls
// (inbound and outbound, by phone number) and chats (by email), from
// returning customers (a pool reused), new customers, and a few households
// whose members share one phone number. The same seed gives the same
// records.
type Simulator struct {
	InstanceARN string
	// Shares of the contacts (defaults 0.3, 0.6 and 0.05): chats, contacts
	// of returning customers, and new customers on a number already used
	// by another customer.
	ChatShare, ReturningShare, SharedPhoneShare float64

	rng       *rand.Rand
	at        time.Time
	customers []*customer
	phones    map[string]bool
	agents    []named // username and ARN
	queues    []named // name and ARN
	profile   string  // ARN of the routing profile
	region    string
	account   string
}

type named struct{ name, arn string }

type customer struct {
	first, last, phone, email, account string
}

// NewSimulator returns a simulator for an instance whose first contact
// starts at start.
func NewSimulator(instanceARN string, seed uint64, start time.Time) *Simulator {
	s := &Simulator{InstanceARN: instanceARN, ChatShare: 0.3, ReturningShare: 0.6, SharedPhoneShare: 0.05,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), at: start.UTC().Truncate(time.Second),
		phones: map[string]bool{}, region: "us-east-1", account: "000000000000"}
	if parts := strings.SplitN(instanceARN, ":", 6); len(parts) == 6 {
		s.region, s.account = parts[3], parts[4]
	}
	for _, a := range []string{"amina.diallo", "ben.okafor", "chloe.martin", "diego.ramos", "emma.nguyen", "farid.haddad", "grace.kim", "hugo.lefebvre"} {
		s.agents = append(s.agents, named{a, instanceARN + "/agent/" + s.uuid()})
	}
	for _, q := range []string{"BasicQueue", "Billing", "TechnicalSupport", "Sales"} {
		s.queues = append(s.queues, named{q, instanceARN + "/queue/" + s.uuid()})
	}
	s.profile = instanceARN + "/routing-profile/" + s.uuid()
	return s
}

var (
	firstNames = []string{"Ana", "Ben", "Carla", "David", "Elif", "Femi", "Gabriel", "Hana", "Ivan", "Julia", "Kenji", "Lea", "Mateo", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yusuf", "Zoe"}
	lastNames  = []string{"Silva", "Brown", "Rossi", "Cohen", "Yilmaz", "Adeyemi", "Dubois", "Sato", "Petrov", "Schmidt", "Tanaka", "Moreau", "Garcia", "Haddad", "Khan", "Patel", "Lambert", "Lopez", "Nieminen", "Singh", "Rao", "Novak", "Li", "Demir", "Walsh"}
	areaCodes  = []string{"206", "212", "305", "312", "415", "503", "617", "702", "720", "808"}
	intents    = []string{"billing", "order-status", "technical-issue", "cancellation", "new-account", "address-change"}
)

// Next returns the next contact record, a few minutes after the previous one.
func (s *Simulator) Next() *ContactRecord {
	r := s.rng
	s.at = s.at.Add(time.Duration(30+r.IntN(20*60)) * time.Second)
	c := s.pick()
	chat := r.Float64() < s.ChatShare
	id := s.uuid()
	queue := s.queues[r.IntN(len(s.queues))]
	rec := &ContactRecord{
		AWSAccountId: s.account, AWSContactTraceRecordFormatVersion: "2017-03-10",
		AgentConnectionAttempts: 1, ContactId: id, InstanceARN: s.InstanceARN,
		Attributes: map[string]string{"customerName": c.first + " " + c.last, "accountNumber": c.account,
			"intent": intents[r.IntN(len(intents))], "language": []string{"en-US", "en-US", "es-US", "fr-CA"}[r.IntN(4)]},
		InitiationTimestamp: ts(s.at), DisconnectReason: []string{"CUSTOMER_DISCONNECT", "AGENT_DISCONNECT"}[r.IntN(2)],
	}
	if chat {
		rec.Channel, rec.InitiationMethod = "CHAT", "API"
		rec.CustomerEndpoint = &Endpoint{Address: c.email, Type: "EMAIL_ADDRESS"}
		rec.MediaStreams = []MediaStream{{Type: "CHAT"}}
	} else {
		rec.Channel, rec.InitiationMethod = "VOICE", "INBOUND"
		if r.IntN(5) == 0 {
			rec.InitiationMethod = "OUTBOUND"
		}
		rec.CustomerEndpoint = &Endpoint{Address: c.phone, Type: "TELEPHONE_NUMBER"}
		rec.SystemEndpoint = &Endpoint{Address: "+18005550100", Type: "TELEPHONE_NUMBER"}
		rec.MediaStreams = []MediaStream{{Type: "AUDIO"}}
	}
	t := s.at.Add(time.Duration(2+r.IntN(10)) * time.Second)
	abandoned := rec.InitiationMethod != "OUTBOUND" && r.IntN(20) == 0
	if rec.InitiationMethod != "OUTBOUND" {
		wait := 5 + r.IntN(300)
		q := &Queue{ARN: queue.arn, EnqueueTimestamp: ts(t), Duration: wait, Name: queue.name}
		t = t.Add(time.Duration(wait) * time.Second)
		q.DequeueTimestamp = ts(t)
		rec.Queue = q
	}
	if abandoned {
		rec.DisconnectReason = "CUSTOMER_DISCONNECT"
	} else {
		talk, acw := 60+r.IntN(900), 10+r.IntN(120)
		holds := r.IntN(3)
		agent := s.agents[r.IntN(len(s.agents))]
		a := &Agent{ARN: agent.arn, Username: agent.name, ConnectedToAgentTimestamp: ts(t),
			AgentInteractionDuration: talk, AfterContactWorkDuration: acw, NumberOfHolds: holds,
			RoutingProfile: &RoutingProfile{ARN: s.profile, Name: "Basic Routing Profile"}}
		if holds > 0 {
			a.LongestHoldDuration = 10 + r.IntN(120)
			a.CustomerHoldDuration = a.LongestHoldDuration * holds
		}
		rec.Agent = a
		t = t.Add(time.Duration(talk+a.CustomerHoldDuration) * time.Second)
		if !chat {
			rec.Recording = &Recording{Location: fmt.Sprintf("connect-recordings/%s/%s_%s.wav", s.at.Format("2006/01/02"), id, ts(s.at)), Status: "AVAILABLE", Type: "AUDIO"}
		}
	}
	rec.DisconnectTimestamp = ts(t)
	rec.LastUpdateTimestamp = ts(t.Add(time.Duration(1+r.IntN(60)) * time.Second))
	return rec
}

// pick returns the customer of the next contact: a returning one, or a
// new one (some on the number of a customer already known).
func (s *Simulator) pick() *customer {
	r := s.rng
	if len(s.customers) > 0 && r.Float64() < s.ReturningShare {
		return s.customers[r.IntN(len(s.customers))]
	}
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	n := len(s.customers) + 1
	c := &customer{first: first, last: last, account: fmt.Sprintf("AC-%06d", 100000+n),
		email: fmt.Sprintf("%s.%s.%d@%s", strings.ToLower(first), strings.ToLower(last), n, []string{"example.com", "example.net", "example.org"}[r.IntN(3)])}
	if len(s.customers) > 0 && r.Float64() < s.SharedPhoneShare {
		c.phone = s.customers[r.IntN(len(s.customers))].phone // a household's line
	} else {
		for c.phone == "" || s.phones[c.phone] {
			c.phone = fmt.Sprintf("+1%s%d%02d%04d", areaCodes[r.IntN(len(areaCodes))], 2+r.IntN(8), r.IntN(100), r.IntN(10000))
		}
	}
	s.phones[c.phone] = true
	s.customers = append(s.customers, c)
	return c
}

// uuid returns a version 4 UUID from the simulator's source.
func (s *Simulator) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := s.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// ts writes a time as contact records do: ISO 8601, UTC, to the second.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
