package ui

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// The activation console follows the product brief: an instance's Customer
// Profiles page → Enable customer profiles → domain name → dead-letter
// queue → KMS key → Submit → summary.

var domainNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// home sends the principal to the first section its policies open: the
// instances (administrators), else the domains (agents).
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.allow(r, "connect:ListInstances", "*") == nil:
		http.Redirect(w, r, Prefix+"instances", http.StatusSeeOther)
	case s.allow(r, "profile:ListDomains", "*") == nil:
		http.Redirect(w, r, Prefix+"domains", http.StatusSeeOther)
	default:
		s.fail(w, r, profiles.Errorf(profiles.EFORBIDDEN, "You are signed in as %s, whose policies allow neither "+
			"connect:ListInstances (the activation console) nor profile:ListDomains (the domains and their profiles). "+
			"Ask an administrator for them.", sessionOf(r).Principal))
	}
}

func (s *Server) instances(w http.ResponseWriter, r *http.Request) {
	if err := s.allow(r, "connect:ListInstances", "*"); err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Integrations.ListInstances(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "instances", &page{Title: "Contact-center instances", Nav: "instances", Data: list})
}

// instanceData is the Customer Profiles page of an instance.
type instanceData struct {
	Instance *profiles.InstanceView
	Domain   *profiles.Domain // nil: not enabled
	KeyARN   string
	KeyNames []string
	Others   []*profiles.Domain // domains it could move to
	Moved    string
}

func (s *Server) findInstance(r *http.Request) (*profiles.InstanceView, error) {
	if err := s.allow(r, "connect:ListInstances", "*"); err != nil {
		return nil, err
	}
	list, err := s.Integrations.ListInstances(r.Context())
	if err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	for _, in := range list {
		if in.ID == id {
			return in, nil
		}
	}
	return nil, profiles.Errorf(profiles.ENOTFOUND, "Instance %s not found.", id)
}

func (s *Server) instance(w http.ResponseWriter, r *http.Request) {
	in, err := s.findInstance(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &instanceData{Instance: in}
	if in.DomainName != "" {
		if err := s.allow(r, "profile:GetDomain", s.Domains.DomainARN(in.DomainName)); err != nil {
			s.fail(w, r, err)
			return
		}
		dom, _, err := s.Domains.GetDomain(r.Context(), in.DomainName)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Domain = dom
		d.KeyARN, _ = s.Domains.EncryptionKeyARN(r.Context(), dom.Name)
		d.KeyNames = s.keyNames(r, d.KeyARN)
		if err := s.allow(r, "profile:ListDomains", "*"); err == nil {
			all, _, _ := s.Domains.ListDomains(r.Context(), profiles.Page{MaxResults: 100})
			for _, o := range all {
				if o.Name != dom.Name {
					d.Others = append(d.Others, o)
				}
			}
		}
	}
	s.render(w, r, http.StatusOK, "instance", &page{Title: "Customer Profiles — " + in.Alias, Nav: "instances", Domain: in.DomainName, Data: d})
}

// keyNames returns the aliases of a key of the built-in KMS.
func (s *Server) keyNames(r *http.Request, arn string) []string {
	if s.Keys == nil || arn == "" {
		return nil
	}
	keys, err := s.Keys.ListKeys(r.Context())
	if err != nil {
		return nil
	}
	for _, k := range keys {
		if k.ARN == arn {
			return k.Aliases
		}
	}
	return nil
}

// wizard is the state of the activation form, carried from step to step in
// the form itself.
type wizard struct {
	Instance *profiles.InstanceView
	Step     string // domain, queue, key
	Errors   map[string]string

	DomainName string

	QueueChoice string // new, existing, none
	QueueName   string // for new
	QueueURL    string // for existing (or created)
	Queues      []*profiles.Queue
	Statement   string // the queue policy statement the service needs

	KeyChoice      string // new, existing
	KeyAlias       string
	KeyDescription string
	KeyARN         string // for existing (or created)
	Keys           []*profiles.KeyMetadata
	KeyStatement   string

	BuiltinQueues, BuiltinKeys bool

	Existing []*profiles.Domain // domains the instance could use instead

	// Run is the wizard's one-time token (wizardRun), made when it starts
	// and carried from step to step: the domain its Submit creates records
	// it (DomainService.RecordActivation), so that a repeat of that Submit
	// shows the activation made, not an error.
	Run string
	// Notice is an error of the whole form, shown above it.
	Notice string
}

func (s *Server) newWizard(r *http.Request, in *profiles.InstanceView) *wizard {
	f := r.PostForm
	wz := &wizard{Instance: in, Errors: map[string]string{}, BuiltinQueues: s.Queues != nil, BuiltinKeys: s.Keys != nil,
		DomainName:  strings.TrimSpace(f.Get("domain_name")),
		QueueChoice: f.Get("queue_choice"), QueueName: strings.TrimSpace(f.Get("queue_name")), QueueURL: strings.TrimSpace(f.Get("queue_url")),
		KeyChoice: f.Get("key_choice"), KeyAlias: strings.TrimSpace(f.Get("key_alias")),
		KeyDescription: strings.TrimSpace(f.Get("key_description")), KeyARN: strings.TrimSpace(f.Get("key_arn")),
		Run: f.Get("run")}
	if s.wizardRunNonce(r, in.ID, wz.Run) == "" {
		wz.Run = s.wizardRun(r, in.ID) // a new run of the wizard
	}
	if wz.DomainName == "" {
		wz.DomainName = "CustomerProfiles-" + sanitize(in.Alias)
	}
	// The queue name, key alias and key description proposed for the
	// domain name the form was made for follow a new name; those the
	// administrator changed stay as typed.
	if was := strings.TrimSpace(f.Get("named_for")); was != "" && was != wz.DomainName {
		if wz.QueueName == defaultQueueName(was) {
			wz.QueueName = ""
		}
		if wz.KeyAlias == defaultKeyAlias(was) {
			wz.KeyAlias = ""
		}
		if wz.KeyDescription == defaultKeyDescription(was) {
			wz.KeyDescription = ""
		}
	}
	if wz.QueueChoice == "" {
		wz.QueueChoice = "new"
		if s.Queues == nil {
			wz.QueueChoice = "existing"
		}
	}
	if wz.QueueName == "" {
		wz.QueueName = defaultQueueName(wz.DomainName)
	}
	if wz.KeyChoice == "" {
		wz.KeyChoice = "new"
		if s.Keys == nil {
			wz.KeyChoice = "existing"
		}
	}
	if wz.KeyAlias == "" {
		wz.KeyAlias = defaultKeyAlias(wz.DomainName)
	}
	if wz.KeyDescription == "" {
		wz.KeyDescription = defaultKeyDescription(wz.DomainName)
	}
	return wz
}

// The names the activation proposes for a domain's new queue and key.
func defaultQueueName(domain string) string      { return domain + "-DLQ" }
func defaultKeyAlias(domain string) string       { return "alias/" + domain }
func defaultKeyDescription(domain string) string { return "Encrypts the profiles of " + domain }

func sanitize(alias string) string {
	var b strings.Builder
	for _, c := range alias {
		if c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteRune(c)
		}
	}
	out := b.String()
	if len(out) > 40 {
		out = out[:40]
	}
	return out
}

func (s *Server) enableStart(w http.ResponseWriter, r *http.Request) {
	in, err := s.findInstance(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if in.DomainName != "" {
		http.Redirect(w, r, Prefix+"instances/"+url.PathEscape(in.ID), http.StatusSeeOther)
		return
	}
	// A step is a page of its own, its state in the query (see
	// enableStep), so that the browser's Back and Reload work. The state
	// is taken only from an address the console made for the caller: a
	// link made elsewhere cannot choose a queue or key of its own, one
	// Submit away.
	// An address the console made lives as long as the wizard's run token
	// in it (profiles.FormTokenTTL, as a Submit does): an older one, kept
	// in a history, a bookmark or a log, starts the wizard afresh, saying
	// so, rather than open a step with the state it holds.
	q := r.URL.Query()
	sig, err := base64.RawURLEncoding.DecodeString(q.Get("ws"))
	q.Del("ws")
	expired := false
	switch {
	case err != nil || !hmac.Equal(sig, s.wizardMAC(r, in.ID, q)):
		q = url.Values{}
	case s.wizardRunNonce(r, in.ID, q.Get("run")) == "":
		q, expired = url.Values{}, true
	}
	r.PostForm = q
	wz := s.newWizard(r, in)
	if expired {
		wz.Step = "domain"
		wz.Notice = "This page of the activation is more than a day old, so what it held was not used: " +
			"nothing was created. Start again from the first step."
		s.renderWizard(w, r, http.StatusGone, wz)
		return
	}
	wz.Step = q.Get("step")
	if wz.Step != "queue" && wz.Step != "key" {
		wz.Step = "domain"
	}
	// A refused step (see refuseStep) carries its errors and status too.
	for k := range q {
		if field, ok := strings.CutPrefix(k, "error."); ok {
			wz.Errors[field] = q.Get(k)
		}
	}
	wz.Notice = q.Get("notice")
	status, _ := strconv.Atoi(q.Get("status"))
	if status < 400 || status > 499 {
		status = http.StatusOK
	}
	s.renderWizard(w, r, status, wz)
}

// toStep sends the browser to a step of the wizard with its state (no
// secret in it: names, a queue URL, a key ARN), after a post: the step is
// then a page the browser's history can go back to without posting again.
func (s *Server) toStep(w http.ResponseWriter, r *http.Request, wz *wizard, step string) {
	s.redirectStep(w, r, wz, step, http.StatusOK, nil)
}

// refuseStep answers a refused step (errors beside its fields, or a
// notice) as toStep does: the browser is sent to the step's page, which
// shows the errors with the refusal's status, so that Back, Forward and
// Reload never post the step again. The errors are the console's own
// messages about the names in the state, signed with it, as a
// confirmation is (withDone).
func (s *Server) refuseStep(w http.ResponseWriter, r *http.Request, wz *wizard, status int) {
	q := url.Values{"status": {strconv.Itoa(status)}}
	for field, msg := range wz.Errors {
		q.Set("error."+field, msg)
	}
	if wz.Notice != "" {
		q.Set("notice", wz.Notice)
	}
	s.redirectStep(w, r, wz, wz.Step, status, q)
}

// maxStepAddress bounds the address of a step's page: past it (values
// typed far longer than any valid one, each in the query, a domain name
// five times over in the names proposed for it), the address could be
// refused by the server itself (its header limit) or a proxy before it, and
// the form lost; the step is then the answer to the post, with its status.
const maxStepAddress = 8 << 10

// redirectStep sends the browser to the page of step, its state (and the
// extra values of a refusal) in the query, signed; status is the page's.
func (s *Server) redirectStep(w http.ResponseWriter, r *http.Request, wz *wizard, step string, status int, extra url.Values) {
	q := url.Values{"step": {step}, "domain_name": {wz.DomainName}, "named_for": {wz.DomainName}, "run": {wz.Run},
		"queue_choice": {wz.QueueChoice}, "queue_name": {wz.QueueName}, "queue_url": {wz.QueueURL},
		"key_choice": {wz.KeyChoice}, "key_alias": {wz.KeyAlias}, "key_description": {wz.KeyDescription}, "key_arn": {wz.KeyARN}}
	for k, v := range extra {
		q[k] = v
	}
	q.Set("ws", base64.RawURLEncoding.EncodeToString(s.wizardMAC(r, wz.Instance.ID, q)))
	loc := Prefix + "instances/" + url.PathEscape(wz.Instance.ID) + "/enable?" + q.Encode()
	if len(loc) > maxStepAddress {
		wz.Step = step
		s.renderWizard(w, r, status, wz)
		return
	}
	http.Redirect(w, r, loc, http.StatusSeeOther)
}

// wizardMAC signs the state of the wizard of an instance (without its
// signature, ws) for the caller of r.
func (s *Server) wizardMAC(r *http.Request, instance string, state url.Values) []byte {
	principal := ""
	if sess := sessionOf(r); sess != nil {
		principal = sess.Principal
	}
	return s.mac("wizard", principal, instance, state.Encode())[:16]
}

// wizardRun returns a one-time token for a run of the wizard of an
// instance: when it was made, a nonce (what RecordActivation records) and
// their signature for the caller and the instance.
func (s *Server) wizardRun(r *http.Request, instance string) string {
	issued, nonce := strconv.FormatInt(s.Now().Unix(), 10), newNonce()
	return issued + "." + nonce + "." + base64.RawURLEncoding.EncodeToString(s.wizardRunMAC(r, instance, issued, nonce))
}

// wizardRunNonce returns the nonce of a wizard token that this console
// made for the caller and the instance less than profiles.FormTokenTTL ago
// (the record of its activation is kept at least that long), or "".
func (s *Server) wizardRunNonce(r *http.Request, instance, token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	issued, err := strconv.ParseInt(parts[0], 10, 64)
	sig, serr := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || serr != nil || !hmac.Equal(sig, s.wizardRunMAC(r, instance, parts[0], parts[1])) ||
		s.Now().Sub(time.Unix(issued, 0)) >= profiles.FormTokenTTL {
		return ""
	}
	return parts[1]
}

func (s *Server) wizardRunMAC(r *http.Request, instance, issued, nonce string) []byte {
	principal := ""
	if sess := sessionOf(r); sess != nil {
		principal = sess.Principal
	}
	return s.mac("wizard-run", principal, instance, issued, nonce)[:16]
}

func (s *Server) renderWizard(w http.ResponseWriter, r *http.Request, status int, wz *wizard) {
	if wz.Step == "domain" && s.allow(r, "profile:ListDomains", "*") == nil {
		wz.Existing, _, _ = s.Domains.ListDomains(r.Context(), profiles.Page{MaxResults: 100})
	}
	if wz.Step == "queue" && s.Queues != nil {
		wz.Queues, _ = s.Queues.ListQueues(r.Context())
		wz.Statement = s.Queues.ServiceQueueStatement(wz.QueueName)
	}
	if wz.Step == "key" && s.Keys != nil {
		wz.Keys, _ = s.Keys.ListKeys(r.Context())
		wz.KeyStatement = s.Keys.ServiceKeyStatement()
	}
	if len(wz.Errors) > 0 && status == http.StatusOK {
		status = http.StatusBadRequest
	}
	if wz.Notice != "" && status == http.StatusOK {
		status = http.StatusBadRequest
	}
	titles := map[string]string{"domain": "Create domain", "queue": "Dead-letter queue", "key": "Encryption key"}
	s.render(w, r, status, "enable", &page{Title: titles[wz.Step] + " — " + wz.Instance.Alias, Nav: "instances", Error: wz.Notice, Data: wz})
}

// enableStep handles the submission of one step: "next" moves on when the
// step is valid; "back" returns to the previous step (both by a redirection
// to the step's page); the last step's "submit" creates what was chosen and
// the domain, and associates it. A step with an error is shown again, on
// its page too (refuseStep).
func (s *Server) enableStep(w http.ResponseWriter, r *http.Request) {
	step, action := r.PostForm.Get("step"), r.PostForm.Get("action")
	submit := step == "key" && action != "back"
	var busy error
	if submit {
		// One Submit at a time, on every node of the store: a second
		// submission of a wizard (a double click, another tab, a load
		// balancer that sends the two to two nodes) waits for the first,
		// then finds the domain it made (below). Only a caller who may see
		// the instances waits in line.
		if err := s.allow(r, "connect:ListInstances", "*"); err != nil {
			s.fail(w, r, err)
			return
		}
		release, err := s.Domains.LockActivation(r.Context())
		switch {
		case err == nil:
			defer release()
		case profiles.ErrorCode(err) == profiles.ECONFLICT:
			busy = err // waited too long: the form says so, below
		default:
			s.fail(w, r, err)
			return
		}
	}
	in, err := s.findInstance(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	run := s.wizardRunNonce(r, in.ID, r.PostForm.Get("run"))
	wz := s.newWizard(r, in)
	if busy != nil {
		wz.Step, wz.Notice = "key", profiles.ErrorMessage(busy)
		s.refuseStep(w, r, wz, http.StatusConflict)
		return
	}
	if submit && run != "" && s.activatedBefore(w, r, wz, run) {
		return
	}
	if in.DomainName != "" {
		http.Redirect(w, r, Prefix+"instances/"+url.PathEscape(in.ID), http.StatusSeeOther)
		return
	}
	if action == "back" {
		prev := map[string]string{"queue": "domain", "key": "queue"}[step]
		if prev == "" {
			prev = "domain"
		}
		s.toStep(w, r, wz, prev)
		return
	}
	switch step {
	case "domain":
		wz.Step = "domain"
		if s.checkDomainStep(r, wz) {
			s.toStep(w, r, wz, "queue")
			return
		}
	case "queue":
		wz.Step = "queue"
		if s.checkQueueStep(r, wz) {
			s.toStep(w, r, wz, "key")
			return
		}
	case "key":
		wz.Step = "key"
		if run == "" {
			// Without the wizard's token a repeat could not be told:
			// nothing is made, and the form gets a new token.
			wz.Notice = "Nothing was created: this form is more than a day old, or was not made by this console for you " +
				"(its one-time token, field run, is missing or wrong). Check the instance's page, then submit again."
			break
		}
		if s.checkKeyStep(wz) && s.activate(w, r, wz, run) {
			return
		}
	default:
		wz.Step = "domain"
	}
	if len(wz.Errors) == 0 && wz.Notice == "" {
		s.toStep(w, r, wz, wz.Step)
		return
	}
	s.refuseStep(w, r, wz, http.StatusBadRequest)
}

func (s *Server) checkDomainStep(r *http.Request, wz *wizard) bool {
	switch {
	case !domainNameRE.MatchString(wz.DomainName):
		wz.Errors["domain_name"] = "The domain name must be 1 to 64 letters, digits, hyphens (-) and underscores (_)."
		return false
	}
	if _, _, err := s.Domains.GetDomain(r.Context(), wz.DomainName); err == nil {
		wz.Errors["domain_name"] = "A domain named " + wz.DomainName + " exists already. Choose another name."
		return false
	}
	if err := s.allow(r, "profile:CreateDomain", s.Domains.DomainARN(wz.DomainName)); err != nil {
		wz.Errors["domain_name"] = profiles.ErrorMessage(err)
		return false
	}
	return true
}

func (s *Server) checkQueueStep(r *http.Request, wz *wizard) bool {
	switch wz.QueueChoice {
	case "none":
		wz.QueueURL = ""
	case "new":
		if s.Queues == nil {
			wz.Errors["queue_choice"] = "Queues live in an external SQS service here: enter the URL of an existing queue."
			return false
		}
		if !queueNameRE.MatchString(wz.QueueName) {
			wz.Errors["queue_name"] = "The queue name must be 1 to 80 letters, digits, hyphens (-) and underscores (_)."
			return false
		}
		if err := s.allow(r, "sqs:CreateQueue", s.Queues.QueueARN(wz.QueueName)); err != nil {
			wz.Errors["queue_name"] = profiles.ErrorMessage(err)
			return false
		}
	case "existing":
		if wz.QueueURL == "" {
			wz.Errors["queue_url"] = "Choose a queue, or create a new one."
			return false
		}
		// Failed objects go there in the clear, as with the API's
		// CreateDomain: the caller must be allowed to send to it.
		if err := s.allow(r, "sqs:SendMessage", s.dlqQueueARN(wz.QueueURL)); err != nil {
			wz.Errors["queue_url"] = profiles.ErrorMessage(err)
			return false
		}
	default:
		wz.Errors["queue_choice"] = "Choose a dead-letter queue option."
		return false
	}
	return true
}

var queueNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,80}$`)

func (s *Server) checkKeyStep(wz *wizard) bool {
	switch wz.KeyChoice {
	case "new":
		if s.Keys == nil {
			wz.Errors["key_choice"] = "Keys live in an external KMS here: enter the ARN of an existing key."
			return false
		}
		if wz.KeyAlias != "" && !strings.HasPrefix(wz.KeyAlias, "alias/") {
			wz.Errors["key_alias"] = "An alias begins with alias/, e.g. alias/" + wz.DomainName + "."
			return false
		}
	case "existing":
		if wz.KeyARN == "" {
			wz.Errors["key_arn"] = "Choose a key, or create a new one."
			return false
		}
	default:
		wz.Errors["key_choice"] = "Choose an encryption key option."
		return false
	}
	return true
}

// activate creates the new queue and key when asked, then the domain, and
// associates the instance with it. On a failure it shows the error beside
// the field it concerns and keeps what was already made (a created queue
// or key becomes the "existing" choice), so that nothing is made twice.
func (s *Server) activate(w http.ResponseWriter, r *http.Request, wz *wizard, run string) bool {
	// Once begun, the activation finishes even if the browser leaves (a
	// double click cancels the first request): what it made is then
	// recorded for the repeat to find.
	ctx := context.WithoutCancel(r.Context())
	if !s.checkDomainStep(r, wz) {
		wz.Step = "domain"
		return false
	}
	// Every step is checked again: the wizard's state comes from the form.
	if !s.checkQueueStep(r, wz) {
		wz.Step = "queue"
		return false
	}
	if !s.checkKeyStep(wz) {
		wz.Step = "key"
		return false
	}
	if wz.KeyChoice == "existing" {
		// The domain's data will be sealed under it, as with the API's
		// CreateDomain: a key named by id or alias counts as the ARN it
		// names (a Deny on that ARN holds however the key is named).
		arn, err := s.Domains.KeyARN(ctx, wz.KeyARN)
		if err != nil {
			return s.stepError(w, r, wz, "key", "key_arn", err)
		}
		if err := s.allow(r, "kms:GenerateDataKey", arn); err != nil {
			return s.stepError(w, r, wz, "key", "key_arn", err)
		}
	}
	// Every permission the activation needs is checked before anything is
	// made: a refusal after the domain was created left it made and the
	// instance not associated.
	if wz.KeyChoice == "new" {
		if err := s.allow(r, "kms:CreateKey", "*"); err != nil {
			return s.stepError(w, r, wz, "key", "key_alias", err)
		}
		if wz.KeyAlias != "" {
			if err := s.allow(r, "kms:CreateAlias", "arn:aws:kms:"+s.Region+":"+s.AccountID+":"+wz.KeyAlias); err != nil {
				return s.stepError(w, r, wz, "key", "key_alias", err)
			}
		}
	}
	if err := s.allowIntegration(r, "profile:PutIntegration", wz.DomainName, wz.Instance.ARN); err != nil {
		s.fail(w, r, err)
		return true
	}
	if wz.QueueChoice == "new" {
		q, err := s.Queues.CreateServiceQueue(ctx, wz.QueueName)
		if err != nil {
			return s.stepError(w, r, wz, "queue", "queue_name", err)
		}
		wz.QueueChoice, wz.QueueURL = "existing", q.URL
		s.Logger.Info("ui: dead-letter queue created", "queue", q.URL, "principal", sessionOf(r).Principal)
	}
	if wz.KeyChoice == "new" {
		k, err := s.Keys.CreateServiceKey(ctx, wz.KeyDescription, wz.KeyAlias)
		if err != nil {
			return s.stepError(w, r, wz, "key", "key_alias", err)
		}
		wz.KeyChoice, wz.KeyARN = "existing", k.ARN
		s.Logger.Info("ui: KMS key created", "key", k.ARN, "principal", sessionOf(r).Principal)
	}
	_, err := s.Domains.CreateDomain(ctx, &profiles.Domain{Name: wz.DomainName, DefaultExpirationDays: 366,
		DefaultEncryptionKey: wz.KeyARN, DeadLetterQueueURL: wz.QueueURL})
	if err != nil {
		msg := profiles.ErrorMessage(err)
		field := "key_arn"
		if strings.Contains(msg, "DeadLetterQueueUrl") {
			return s.stepError(w, r, wz, "queue", "queue_url", err)
		}
		if strings.Contains(msg, "does not allow") && s.Keys != nil {
			err = profiles.Errorf(profiles.EINVALID, "%s Add the statement shown above to the key's policy, or create a new key here.", msg)
		}
		return s.stepError(w, r, wz, "key", field, err)
	}
	if err := s.Domains.RecordActivation(ctx, wz.DomainName, run); err != nil {
		// The domain is made: a repeat of the Submit will say the name is
		// taken, rather than make another queue or key.
		s.Logger.Error("ui: record the activation", "domain", wz.DomainName, "err", err)
	}
	if _, err := s.Integrations.SwitchInstance(ctx, wz.Instance.ARN, wz.DomainName); err != nil {
		s.fail(w, r, err)
		return true
	}
	s.Logger.Info("ui: customer profiles enabled", "instance", wz.Instance.ARN, "domain", wz.DomainName, "principal", sessionOf(r).Principal)
	http.Redirect(w, r, s.withDone(r, Prefix+"instances/"+url.PathEscape(wz.Instance.ID), "Customer Profiles is enabled: domain "+wz.DomainName+" was created."), http.StatusSeeOther)
	return true
}

// activatedBefore answers a Submit of the wizard run whose activation
// created its domain already (a double click, another tab, a
// resubmission, on any node of the store): it finishes the association
// if the first could not, and shows the success page of that activation.
// It returns false when the run created no domain.
func (s *Server) activatedBefore(w http.ResponseWriter, r *http.Request, wz *wizard, run string) bool {
	if !domainNameRE.MatchString(wz.DomainName) {
		return false
	}
	done, err := s.Domains.ActivatedBy(r.Context(), wz.DomainName, run)
	if err != nil {
		s.fail(w, r, err)
		return true
	}
	if !done {
		return false
	}
	if wz.Instance.DomainName == "" {
		if err := s.allowIntegration(r, "profile:PutIntegration", wz.DomainName, wz.Instance.ARN); err != nil {
			s.fail(w, r, err)
			return true
		}
		if _, err := s.Integrations.SwitchInstance(r.Context(), wz.Instance.ARN, wz.DomainName); err != nil {
			s.fail(w, r, err)
			return true
		}
	}
	http.Redirect(w, r, s.withDone(r, Prefix+"instances/"+url.PathEscape(wz.Instance.ID), "Customer Profiles is enabled: domain "+wz.DomainName+
		" was created. (The form was submitted more than once; one domain was created.)"), http.StatusSeeOther)
	return true
}

// stepError shows err beside the field of the step; errors that are not
// the user's to fix go to the error page.
func (s *Server) stepError(w http.ResponseWriter, r *http.Request, wz *wizard, step, field string, err error) bool {
	msg, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return true
	}
	wz.Step, wz.Errors[field] = step, msg
	return false
}

// changeDomain moves the instance's association to another domain; its
// profiles stay in the domain they are in.
func (s *Server) changeDomain(w http.ResponseWriter, r *http.Request) {
	in, err := s.findInstance(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to := r.PostForm.Get("domain")
	if to == "" {
		s.fail(w, r, profiles.Errorf(profiles.EINVALID, "Choose the domain to associate the instance with."))
		return
	}
	if err := s.allowIntegration(r, "profile:PutIntegration", to, in.ARN); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.DomainName != "" {
		if err := s.allowIntegration(r, "profile:DeleteIntegration", in.DomainName, in.ARN); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if _, err := s.Integrations.SwitchInstance(r.Context(), in.ARN, to); err != nil {
		s.fail(w, r, err)
		return
	}
	done := "Customer Profiles is enabled: the instance uses domain " + to + "."
	if in.DomainName != "" {
		done = "The instance now uses domain " + to + ". Its profiles stayed in " + in.DomainName + "."
	}
	http.Redirect(w, r, s.withDone(r, Prefix+"instances/"+url.PathEscape(in.ID), done), http.StatusSeeOther)
}

// allowIntegration authorises an action on the integration that
// associates an instance (Uri: its ARN) with a domain as the API
// authorises PutIntegration and DeleteIntegration: on the domain's ARN and
// on the integration's (…:domains/NAME/integrations/URI), with its own
// tags.
func (s *Server) allowIntegration(r *http.Request, action, domain, instanceARN string) error {
	arn := s.Domains.DomainARN(domain)
	if err := s.allow(r, action, arn); err != nil {
		return err
	}
	return s.allow(r, action, arn+"/integrations/"+instanceARN)
}

// DisplayNameTag is the domain tag that holds the name the console shows
// for a domain. A domain's name is part of its ARN and of the encryption
// context of everything it stores, so it cannot change (as on AWS);
// renaming in the console sets this tag.
const DisplayNameTag = "openprofiles:DisplayName"

func (s *Server) rename(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	name := strings.TrimSpace(r.PostForm.Get("display_name"))
	arn := s.Domains.DomainARN(domain)
	// The tag calls' own actions and condition keys, as through the API.
	action, cond := "profile:TagResource", map[string][]string{"aws:TagKeys": {DisplayNameTag}, "aws:RequestTag/" + DisplayNameTag: {name}}
	if name == "" {
		action, cond = "profile:UntagResource", map[string][]string{"aws:TagKeys": {DisplayNameTag}}
	}
	if err := s.allowWith(r, action, arn, cond); err != nil {
		s.fail(w, r, err)
		return
	}
	if len([]rune(name)) > 256 {
		s.fail(w, r, profiles.Errorf(profiles.EINVALID, "The display name must be at most 256 characters."))
		return
	}
	var err error
	if name == "" {
		err = s.Tags.UntagResource(r.Context(), arn, []string{DisplayNameTag})
	} else {
		err = s.Tags.TagResource(r.Context(), arn, map[string]string{DisplayNameTag: name})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back := safeNext(r.PostForm.Get("next"))
	if back == Prefix {
		back = Prefix + "domains/" + url.PathEscape(domain)
	}
	http.Redirect(w, r, s.withDone(r, back, "Domain "+domain+" is now shown as "+orDefault(name, domain)+"."), http.StatusSeeOther)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
