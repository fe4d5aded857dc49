package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// domainRow is a domain in the list.
type domainRow struct {
	Domain      *profiles.Domain
	DisplayName string
}

func (s *Server) domains(w http.ResponseWriter, r *http.Request) {
	if err := s.allow(r, "profile:ListDomains", "*"); err != nil {
		s.fail(w, r, err)
		return
	}
	list, _, err := s.Domains.ListDomains(r.Context(), profiles.Page{MaxResults: 100})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]domainRow, len(list))
	for i, d := range list {
		rows[i] = domainRow{Domain: d, DisplayName: d.Tags[DisplayNameTag]}
	}
	s.render(w, r, http.StatusOK, "domains", &page{Title: "Domains", Nav: "domains", Data: rows})
}

// overviewData is a domain's overview.
type overviewData struct {
	Domain      *profiles.Domain
	DisplayName string
	Stats       *profiles.DomainStats
	KeyARN      string
	KeyNames    []string
	DLQDepth    int
	DLQError    string
	Chart       *chart
	Instances   []*profiles.InstanceView
}

// chart is a bar chart of ingestion outcomes, drawn as inline SVG.
type chart struct {
	Hours    int
	Bars     []bar
	Ingested int
	Failed   int
	Max      int
	Width    int
	Height   int
}

type bar struct {
	X, W             int
	OkY, OkH, FY, FH int
	Label, Title     string
	ShowLabel        bool
	Ingested, Failed int
	Start            time.Time
}

// chartHeight is the drawing height of the bars, in SVG units.
const chartHeight = 120

func newChart(buckets []profiles.IngestCount) *chart {
	c := &chart{Hours: len(buckets), Height: chartHeight + 20}
	for _, b := range buckets {
		c.Max = max(c.Max, b.Ingested+b.Failed)
		c.Ingested += b.Ingested
		c.Failed += b.Failed
	}
	scale := 1.0
	if c.Max > 0 {
		scale = float64(chartHeight) / float64(c.Max)
	}
	const w, gap = 20, 4
	for i, b := range buckets {
		okH, fH := int(float64(b.Ingested)*scale+0.5), int(float64(b.Failed)*scale+0.5)
		if b.Ingested > 0 && okH == 0 {
			okH = 1
		}
		if b.Failed > 0 && fH == 0 {
			fH = 1
		}
		x := i * (w + gap)
		c.Bars = append(c.Bars, bar{X: x, W: w, OkY: chartHeight - okH, OkH: okH, FY: chartHeight - okH - fH, FH: fH,
			Label: b.Start.Format("15h"), ShowLabel: i%3 == 0, Ingested: b.Ingested, Failed: b.Failed, Start: b.Start,
			Title: fmt.Sprintf("%s UTC: %d ingested, %d failed", b.Start.Format("Jan 2 15:04"), b.Ingested, b.Failed)})
		c.Width = x + w
	}
	return c
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	if err := s.allow(r, "profile:GetDomain", s.Domains.DomainARN(domain)); err != nil {
		s.fail(w, r, err)
		return
	}
	d, stats, err := s.Domains.GetDomain(r.Context(), domain)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o := &overviewData{Domain: d, DisplayName: d.Tags[DisplayNameTag], Stats: stats}
	o.KeyARN, _ = s.Domains.EncryptionKeyARN(r.Context(), domain)
	o.KeyNames = s.keyNames(r, o.KeyARN)
	if d.DeadLetterQueueURL != "" {
		if n, err := s.DeadLetters.DeadLetterDepth(r.Context(), domain); err != nil {
			o.DLQError = profiles.ErrorMessage(err)
		} else {
			o.DLQDepth = n
		}
	}
	if s.Stats != nil {
		o.Chart = newChart(s.Stats.IngestHistory(domain, 24, time.Hour))
	}
	if list, err := s.Integrations.ListInstances(r.Context()); err == nil {
		for _, in := range list {
			if in.DomainName == domain {
				o.Instances = append(o.Instances, in)
			}
		}
	}
	s.render(w, r, http.StatusOK, "overview", &page{Title: orDefault(o.DisplayName, domain) + " — overview", Nav: "domains", Domain: domain, Data: o})
}

// dlqData is a domain's dead-letter page.
type dlqData struct {
	QueueURL string
	Entries  []*profiles.DeadLetterEntry
	Denied   string
}

// dlqQueueARN returns the ARN of a queue of a queue URL
// (scheme://host/{account}/{name}) of this account and region.
func (s *Server) dlqQueueARN(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return "*"
	}
	parts := splitPath(u.Path)
	if len(parts) != 2 {
		return "*"
	}
	return "arn:aws:sqs:" + s.Region + ":" + parts[0] + ":" + parts[1]
}

func splitPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, "/") {
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

// allowDLQ authorises reading (and, for write, changing) a domain's
// dead letters: the queue's actions, and kms:Decrypt on the domain's key
// since dead letters hold profile data.
func (s *Server) allowDLQ(r *http.Request, d *profiles.Domain, actions ...string) error {
	arn := s.dlqQueueARN(d.DeadLetterQueueURL)
	for _, a := range actions {
		if err := s.allow(r, a, arn); err != nil {
			return err
		}
	}
	return s.allowData(r, "profile:GetDomain", d.Name)
}

func (s *Server) dlq(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	d, err := s.domainFor(r, domain)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := &dlqData{QueueURL: d.DeadLetterQueueURL}
	p := &page{Title: "Dead letters — " + domain, Nav: "domains", Domain: domain, Data: data}
	if d.DeadLetterQueueURL == "" {
		s.render(w, r, http.StatusOK, "dlq", p)
		return
	}
	if err := s.allowDLQ(r, d, "sqs:ReceiveMessage"); err != nil {
		if profiles.ErrorCode(err) != profiles.EFORBIDDEN {
			s.fail(w, r, err)
			return
		}
		data.Denied = profiles.ErrorMessage(err)
		s.render(w, r, http.StatusForbidden, "dlq", p)
		return
	}
	data.Entries, err = s.DeadLetters.ListDeadLetters(r.Context(), domain, 200)
	if msg, ok := userError(err); ok {
		p.Error = msg
	} else if err != nil {
		// The details (a queue service's address, a store's error) are
		// logged, not shown (DESIGN.md).
		s.Logger.Error("ui: read a dead-letter queue", "domain", domain, "queue", d.DeadLetterQueueURL, "err", err)
		p.Error = "The dead-letter queue could not be read right now; try again. The server's log has the details."
	}
	s.render(w, r, http.StatusOK, "dlq", p)
}

func (s *Server) domainFor(r *http.Request, domain string) (*profiles.Domain, error) {
	if err := s.allow(r, "profile:GetDomain", s.Domains.DomainARN(domain)); err != nil {
		return nil, err
	}
	d, _, err := s.Domains.GetDomain(r.Context(), domain)
	return d, err
}

// dlqAction replays or deletes the chosen dead letters (action
// replay-one, replay-all, delete-one).
func (s *Server) dlqAction(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	d, err := s.domainFor(r, domain)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d.DeadLetterQueueURL == "" {
		s.fail(w, r, profiles.Errorf(profiles.EINVALID, "Domain %s has no dead-letter queue.", domain))
		return
	}
	id := r.PostForm.Get("id")
	var done string
	switch r.PostForm.Get("action") {
	case "replay-one", "replay-all":
		if err := s.allowDLQ(r, d, "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.allow(r, "profile:PutProfileObject", s.Domains.DomainARN(domain)); err != nil {
			s.fail(w, r, err)
			return
		}
		var ids []string
		if r.PostForm.Get("action") == "replay-one" {
			if id == "" {
				s.fail(w, r, profiles.Errorf(profiles.EINVALID, "Choose the dead letter to replay."))
				return
			}
			ids = []string{id}
		}
		// A letter is put as PutProfileObject would put it: the caller
		// needs the action on its object type's ARN too.
		allow := func(objectType string) error {
			return s.allow(r, "profile:PutProfileObject", s.Domains.DomainARN(domain)+"/object-types/"+objectType)
		}
		replayed, failed, refused, err := s.DeadLetters.ReplayDeadLetters(r.Context(), domain, ids, allow)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		done = fmt.Sprintf("Replayed: %d ingested, %d failed again (kept with the new error).", replayed, failed)
		if refused > 0 {
			done += fmt.Sprintf(" %d not replayed: you may not put objects of their object type (profile:PutProfileObject).", refused)
		}
	case "delete-one":
		if err := s.allowDLQ(r, d, "sqs:ReceiveMessage", "sqs:DeleteMessage"); err != nil {
			s.fail(w, r, err)
			return
		}
		n, err := s.DeadLetters.DeleteDeadLetters(r.Context(), domain, []string{id})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		done = fmt.Sprintf("Deleted %d dead letters.", n)
		if n == 1 {
			done = "Deleted 1 dead letter."
		}
	default:
		s.fail(w, r, profiles.Errorf(profiles.EINVALID, "Unknown action: choose replay or delete."))
		return
	}
	http.Redirect(w, r, s.withDone(r, Prefix+"domains/"+url.PathEscape(domain)+"/dlq", done), http.StatusSeeOther)
}
