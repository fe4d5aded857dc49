package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"

	"github.com/openprofiles/profiles/sigv4"
	"github.com/openprofiles/profiles/ui"
)

// consoleHandler wires the web console and agent workspace (package ui):
// the same services and authoriser as the API, the built-in KMS and queue
// service for creating keys and queues unless external ones are
// configured, and a session key derived from the server secret (shared by
// the nodes of a store, so a session works on every node).
func (m *Main) consoleHandler(lookup func(ctx context.Context, id string) (sigv4.Credential, bool, error), serverSecret []byte) http.Handler {
	mac := hmac.New(sha256.New, serverSecret)
	mac.Write([]byte("openprofiles console sessions"))
	m.UI = &ui.Server{
		Domains: m.Service, ObjectTypes: m.Service, Profiles: m.Service, Search: m.Service, Ingest: m.Service,
		Integrations: m.Service, DeadLetters: m.Service, Stats: m.Service, Tags: m.Service, Authorizer: m.Service, Calculated: m.Service, Matching: m.Service, Recommenders: m.Service,
		Drafts:        m.Service,
		RevokeSession: m.Service.RevokeConsoleSession, SessionRevoked: m.Service.ConsoleSessionRevoked,
		Lookup: func(ctx context.Context, id string) (string, string, bool, error) {
			cred, ok, err := lookup(ctx, id)
			return cred.Secret, cred.Principal, ok, err
		},
		KeyUsed: m.Service.NoteKeyUse,
		Secret:  mac.Sum(nil), Region: m.Config.Region, AccountID: m.Config.AccountID, SecureCookies: m.Config.SecureCookies,
		Logger: m.Logger, Now: m.Now,
	}
	if m.Config.KMSEndpoint == "" {
		m.UI.Keys = m.KMS
	}
	if m.Config.SQSEndpoint == "" {
		m.UI.Queues = m.SQS
	}
	return m.UI.Handler()
}
