package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/openprofiles/profiles"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/openprofiles/profiles/awsapi"
	"github.com/openprofiles/profiles/awskinesis"
	"github.com/openprofiles/profiles/awskms"
	"github.com/openprofiles/profiles/awss3"
	"github.com/openprofiles/profiles/awssqs"
	"github.com/openprofiles/profiles/connect"
	"github.com/openprofiles/profiles/iamapi"
	"github.com/openprofiles/profiles/internal/looplog"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/localsqs"
	"github.com/openprofiles/profiles/postgres"
	"github.com/openprofiles/profiles/service"
	"github.com/openprofiles/profiles/sigv4"
	"github.com/openprofiles/profiles/sqlite"
	"github.com/openprofiles/profiles/ui"
)

// shutdownTimeout bounds how long in-flight requests may drain on a signal.
const shutdownTimeout = 30 * time.Second

// Main is the running server: `openprofiles serve` and the end-to-end tests
// use it alike.
type Main struct {
	Config Config
	Stdout io.Writer // where first-start instructions go
	Logger *slog.Logger
	Now    func() time.Time // the clock of the store and the services; nil: time.Now
	// ActivationWait is how long a Submit of the console's activation
	// waits for another activation to finish (0:
	// service.DefaultActivationWait).
	ActivationWait time.Duration
	// DomainPurgeWait is how long DeleteDomain waits for the removal of a
	// domain's data before it goes on in the background, and
	// DomainPurgePage how many profiles a page of it removes (0: the
	// service's defaults, service.DefaultDomainPurgeWait and
	// service.DefaultDomainPurgePage).
	DomainPurgeWait time.Duration
	DomainPurgePage int

	DB      Store
	KMS     *localkms.KMS
	SQS     *localsqs.SQS
	Service *service.Service
	API     *awsapi.Server
	Metrics *prometheus.Registry // served on GET /metrics (metrics.go)
	UI      *ui.Server           // the web console under /console/ (console.go)

	audit       *rotatingFile
	ln          net.Listener
	server      *http.Server
	debug       *http.Server // the profiler on Config.DebugAddr (debug.go)
	debugAddr   string
	served      chan error
	stopSweeper context.CancelFunc
	sweeperDone chan struct{}
	schema      *schemaGuard  // the store's schema version, checked while running (schemaguard.go)
	health      *looplog.Loop // the failures of /healthz's pings: one ERROR line an outage
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("openprofiles serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Config
	if err := c.bind(fs, getenv); err != nil {
		return err
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: openprofiles serve [flags]

Runs the Customer Profiles API (AWS REST-JSON, SigV4 service "profile") on
embedded SQLite in the data dir, or on PostgreSQL (--store). Root credentials
come from OPENPROFILES_ACCESS_KEY_ID and OPENPROFILES_SECRET_ACCESS_KEY; when
they are unset, the first start generates them into DATA-DIR/credentials
(mode 0600). The same holds for OPENPROFILES_SERVER_SECRET (base64, at least
32 bytes: keys paging tokens and the blind index of search keys; else
DATA-DIR/server.secret) and OPENPROFILES_KMS_ROOT_KEY (base64, 32 bytes: wraps
the built-in KMS's keys; else DATA-DIR/kms-root.key); nodes of one PostgreSQL
store share all four. GOGC is 400 unless set. SIGINT, SIGTERM or SIGHUP
drains in-flight requests and closes the store (SIGHUP reloads nothing: the
TLS files are read again without it); a second SIGINT or SIGTERM during the
drain stops at once with status 1.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	tuneGC(getenv)
	m := &Main{Config: c, Stdout: stdout, Logger: newLogger(stderr, c.LogLevel)}
	if err := m.Open(); err != nil {
		return err
	}
	m.Logger.Info("listening", "addr", m.Addr(), "data_dir", c.DataDir, "region", c.Region, "account_id", c.AccountID)
	select {
	case <-ctx.Done():
		if sig := (receivedSignal{}); errors.As(context.Cause(ctx), &sig) {
			m.Logger.Info("shutting down", "signal", signalName(sig.Signal), "drain_timeout", shutdownTimeout.String())
		} else {
			m.Logger.Info("shutting down")
		}
	case err := <-m.served:
		m.Close()
		return err
	}
	return m.Close()
}

// DefaultGCPercent is the garbage collector's target heap growth in
// `serve` when GOGC is not set. The server's live heap is small (tens of
// MB) and each request allocates, so Go's default of 100 collects often:
// at 400 the server answered 20 % more searches and ingested 9 % more
// objects a second for ~25 MB more memory (BENCHMARKS.md, "Garbage
// collection at 400 % heap growth"). GOGC, when set, wins.
const DefaultGCPercent = 400

// tuneGC sets DefaultGCPercent unless the environment sets GOGC (which the
// Go runtime has read already).
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Open opens the store, wires the services and starts serving on
// Config.Addr. It returns once the listener is open.
func (m *Main) Open() (err error) {
	c := &m.Config
	if err := c.Validate(); err != nil {
		return err
	}
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	m.health = &looplog.Loop{Logger: m.Logger, Name: "health check failed", Loop: "health check"}
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	// The address and the TLS files first, before the data dir and the
	// store: a start that cannot serve (the port taken, often by the
	// server it is meant to replace) must not create a data dir, generate
	// secrets or migrate the database of a server still running on it,
	// which an older server then finds upgraded past it and steps aside.
	var certs *certFiles
	if c.TLSCert != "" {
		if certs, err = loadCertFiles(c.TLSCert, c.TLSKey, m.Logger); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	// The profiler's address too (a taken one failed the start after the
	// migration). It serves from here on: a slow start can be profiled.
	if c.DebugAddr != "" {
		if err := m.serveDebug(c.DebugAddr); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				m.debug.Close()
			}
		}()
	}
	if m.DB, err = openStore(c, m.Logger, m.Now); err != nil {
		return err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	m.Metrics = newMetrics()
	m.schema = newSchemaGuard()
	m.instrumentSchema()
	m.instrumentStore()
	if err := m.DB.Open(); err != nil {
		return fmt.Errorf("open store: %w", err)
	}

	if err := m.checkKeyMaterial(context.Background()); err != nil {
		m.DB.Close()
		return err
	}
	serverSecret, err := serverSecret(c.DataDir, c.ServerSecret)
	if err != nil {
		m.DB.Close()
		return err
	}
	if err := m.checkServerSecret(context.Background(), serverSecret); err != nil {
		m.DB.Close()
		return err
	}
	// After the checks: a refused start generates no root credentials.
	keyID, secret, created, err := rootCredentials(c)
	if err != nil {
		m.DB.Close()
		return err
	}
	rootKey, err := localkms.LoadOrCreateRootKey(c.DataDir, c.KMSRootKey)
	if err != nil {
		m.DB.Close()
		return err
	}
	m.KMS = &localkms.KMS{Store: m.DB, Region: c.Region, AccountID: c.AccountID, RootKey: rootKey, Now: m.Now}
	if err := m.KMS.CheckRootKey(context.Background()); err != nil {
		m.DB.Close()
		from := filepath.Join(c.DataDir, localkms.RootKeyFile)
		if c.KMSRootKey != "" {
			from = localkms.RootKeyEnv
		}
		return fmt.Errorf("KMS root key (%s): %w. Give the server the root key it ran with (the data dir's own %s, from its backup, or its %s; with several nodes: the other nodes' value)",
			from, err, localkms.RootKeyFile, localkms.RootKeyEnv)
	}
	defaultKey, err := m.KMS.EnsureDefaultKey(context.Background())
	if err != nil {
		m.DB.Close()
		return fmt.Errorf("default KMS key: %w", err)
	}

	m.Service = service.New(m.DB, c.Region, c.AccountID, serverSecret)
	m.Service.Logger = m.Logger
	m.Service.MaxDomains = c.MaxDomains
	m.Service.Now = m.Now
	m.Service.ActivationWait = m.ActivationWait
	m.Service.DomainPurgeWait, m.Service.DomainPurgePage = m.DomainPurgeWait, m.DomainPurgePage
	m.Service.SetIngestRate(c.IngestRate, c.IngestBurst)
	// New profiles side by side suit SQLite's one writer; PostgreSQL's
	// concurrent transactions would conflict on that one index page.
	_, m.Service.SortedProfileIDs = m.DB.(sqliteStore)
	m.Service.Keys, m.Service.DefaultKey = m.KMS, defaultKey
	if c.KMSEndpoint != "" {
		// The domains' keys live in an external KMS, reached with the
		// standard AWS credentials of this process.
		awsCfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(c.Region))
		if err != nil {
			m.DB.Close()
			return fmt.Errorf("external KMS credentials: %w", err)
		}
		keys := awskms.New(c.KMSEndpoint, c.Region, awsCfg.Credentials)
		keys.Logger = m.Logger
		m.Service.Keys, m.Service.DefaultKey = keys, c.KMSDefaultKey
	}
	m.Service.SetCryptConfig(service.CryptConfig{DataKeyMaxAge: c.DataKeyMaxAge, CacheSize: 1000, KeyStateTTL: c.KMSKeyCheckInterval})
	m.DB.SetSealer(m.Service.Sealer())
	m.Service.IAM = m.DB
	m.Service.Integrations = m.DB
	m.Service.Configs = m.DB
	if locks, ok := m.DB.(profiles.ActivationLocker); ok {
		// PostgreSQL, which several nodes may serve: the console's
		// activations take turns across them.
		m.Service.Activations = locks
	}
	m.SQS = &localsqs.SQS{Store: m.DB, Region: c.Region, AccountID: c.AccountID, BaseURL: m.PublicURL, Now: m.Now}
	m.Service.Queues = m.SQS
	m.Service.DeadLetterCopies = m.DB
	m.Service.SetSpool(filepath.Join(c.DataDir, "dlq-spool.jsonl"))
	if c.SQSEndpoint != "" {
		// Dead-letter queues live in an external SQS-compatible service,
		// reached with the standard AWS credentials of this process.
		awsCfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(c.Region))
		if err != nil {
			m.DB.Close()
			return fmt.Errorf("external SQS credentials: %w", err)
		}
		queues := awssqs.New(c.SQSEndpoint, c.Region, awsCfg.Credentials)
		queues.Logger = m.Logger
		m.Service.Queues = queues
	}
	m.Service.Outbox, m.Service.EventRetryInterval = m.DB, c.EventRetryInterval
	if c.KinesisEndpoint != "" {
		// Event streams write to Kinesis data streams of an external
		// Kinesis-compatible service, with the standard AWS credentials.
		awsCfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(c.Region))
		if err != nil {
			m.DB.Close()
			return fmt.Errorf("external Kinesis credentials: %w", err)
		}
		m.Service.Streams = awskinesis.New(c.KinesisEndpoint, c.Region, awsCfg.Credentials)
	}
	if c.S3Endpoint != "" {
		// Segment snapshots are written to buckets of an external
		// S3-compatible service, with the standard AWS credentials.
		awsCfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(c.Region))
		if err != nil {
			m.DB.Close()
			return fmt.Errorf("external S3 credentials: %w", err)
		}
		b := awss3.New(c.S3Endpoint, c.Region, awsCfg.Credentials)
		m.Service.Objects, m.Service.Sources = b, b
	}
	if m.Service.Audit, err = m.openAudit(); err != nil {
		m.DB.Close()
		return err
	}

	// Callers sign with the root key, or with an access key of a principal.
	rootARN := profiles.RootARN(c.AccountID)
	lookup := func(ctx context.Context, id string) (sigv4.Credential, bool, error) {
		if id == keyID {
			return sigv4.Credential{Secret: secret, Principal: rootARN}, true, nil
		}
		secret, principal, ok, err := m.Service.LookupAccessKey(ctx, id)
		return sigv4.Credential{Secret: secret, Principal: principal}, ok, err
	}
	// A key's use is recorded (GetAccessKeyLastUsed) once its signature verifies.
	verified := func(ctx context.Context, id *sigv4.Identity) { m.Service.NoteKeyUse(ctx, id.AccessKeyID, id.Principal) }
	// Every SigV4 endpoint checks the Host header against --public-host
	// (when set) before the signature.
	verifier := func(service string) *sigv4.Verifier {
		return &sigv4.Verifier{Region: c.Region, Services: []string{service}, Lookup: lookup, Verified: verified, Hosts: c.PublicHosts}
	}
	kmsAPI := m.KMS.Handler(verifier(localkms.SigningService), m.authorizeKMS, m.Logger)
	sqsAPI := m.SQS.Handler(verifier(localsqs.SigningService), m.authorizeWith, m.Logger)
	iamAPI := iamapi.Handler(m.Service, m.Service, verifier(iamapi.SigningService), c.AccountID, m.Logger)
	m.API = &awsapi.Server{
		Domains:      m.Service,
		Tags:         m.Service,
		ObjectTypes:  m.Service,
		Ingest:       m.Service,
		Search:       m.Service,
		Profiles:     m.Service,
		Integrations: m.Service,
		Layouts:      m.Service,

		CalculatedAttributes: m.Service,
		Segments:             m.Service,
		EventTriggers:        m.Service,
		EventStreams:         m.Service,
		IdentityResolution:   m.Service,
		Snapshots:            m.Service,
		Matching:             m.Service,
		TypeAttributes:       m.Service,
		Uploads:              m.Service,
		DomainObjectTypes:    m.Service,
		Recommenders:         m.Service,
		Workflows:            m.Service,
		Verifier:             verifier("profile"),
		Authorizer:           m.Service,
		Region:               c.Region,
		Logger:               m.Logger,
		MaxBodyBytes:         c.MaxBodyBytes,
	}
	m.API.OnServerError = func(error) { m.schema.pokeNow() }
	m.API.Init()
	m.instrumentServices()
	intake := &connect.Intake{Integrations: m.Service, Ingest: m.Service, Authorizer: m.Service, Tags: m.Service,
		Verifier: verifier(connect.SigningService),
		Region:   c.Region, AccountID: c.AccountID, Logger: m.Logger}
	contactRecords, connectAdmin := intake.Handler(), intake.AdminHandler()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", m.healthz)
	if c.Console {
		// The console signs nothing but checks the Host as the API does:
		// its session cookie is the one host's, and a page reached by
		// another name (DNS rebinding) is refused.
		mux.Handle(ui.Prefix, onlyPublicHosts(m.consoleHandler(lookup, serverSecret), c.PublicHosts))
		mux.Handle("GET /{$}", onlyPublicHosts(http.HandlerFunc(ui.RedirectHome), c.PublicHosts))
	}
	if c.Metrics {
		mux.Handle("GET /metrics", m.metricsHandler())
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The built-in KMS shares the address: its JSON protocol names the
		// operation in X-Amz-Target.
		switch target := r.Header.Get("X-Amz-Target"); {
		case strings.HasPrefix(target, localkms.TargetPrefix):
			kmsAPI.ServeHTTP(w, r)
			return
		case strings.HasPrefix(target, iamapi.TargetPrefix):
			iamAPI.ServeHTTP(w, r)
			return
		case strings.HasPrefix(target, localsqs.TargetPrefix):
			sqsAPI.ServeHTTP(w, r)
			return
		case strings.HasPrefix(target, connect.TargetPrefix):
			connectAdmin.ServeHTTP(w, r)
			return
		case strings.HasPrefix(r.URL.Path, awsapi.ImportPath):
			m.API.ServeImport(w, r)
			return
		case strings.HasPrefix(r.URL.Path, service.UploadPath):
			m.API.ServeUpload(w, r, service.UploadPath)
			return
		case strings.HasPrefix(r.URL.Path, connect.Path):
			contactRecords.ServeHTTP(w, r)
			return
		}
		m.API.ServeHTTP(w, r)
	}))

	conns := newServerListener(ln, c.MaxConnections, c.WriteTimeout)
	m.ln = conns
	m.instrumentConnections(conns)
	// The server's own errors (a client that speaks plain HTTP to the
	// HTTPS port, a connection cut during its handshake) are the
	// clients' doing: logged at info, not on stderr.
	// Slow clients are bounded: headers must arrive within 10 s and fit in
	// maxHeaderBytes, a body within BodyTimeout of its first read, each
	// part of a response must be taken within WriteTimeout, an idle
	// keep-alive connection is closed after IdleTimeout, and at most
	// MaxConnections are open at once (these two: serverListener).
	m.server = &http.Server{Handler: withBodyDeadline(m.schemaGate(mux), c.BodyTimeout), ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes: maxHeaderBytes, IdleTimeout: c.IdleTimeout,
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelInfo)}
	serve := func() error { return m.server.Serve(m.ln) }
	if certs != nil {
		m.server.TLSConfig = certs.tlsConfig()
		serve = func() error { return m.server.ServeTLS(m.ln, "", "") }
	}
	m.served = make(chan error, 1)
	go func() {
		if err := serve(); !errors.Is(err, http.ErrServerClosed) {
			m.served <- err
		}
		close(m.served)
	}()

	sweepCtx, stop := context.WithCancel(context.Background())
	m.stopSweeper, m.sweeperDone = stop, make(chan struct{})
	go func() {
		defer close(m.sweeperDone)
		m.Service.RunSweeper(sweepCtx, c.SweepInterval,
			service.Cleanup{Name: "sweep: KMS keys due for deletion", Run: m.KMS.DeleteDueKeys},
			service.Cleanup{Name: "sweep: dead-letter spool delivery", Run: m.Service.DeliverSpooled},
			service.Cleanup{Name: "sweep: form tokens", Run: m.Service.SweepFormTokens},
			service.Cleanup{Name: "sweep: dead-letter copies", Run: m.Service.SweepDeadLetterCopies})
	}()
	m.Service.StartEventDelivery()
	m.Service.StartIdentityResolution(c.SweepInterval)
	m.Service.StartRuleMerges(c.SweepInterval)
	m.Service.StartRecommenderTraining(c.SweepInterval)
	m.Service.StartWorkflows(c.SweepInterval)
	m.Service.StartTypeScrubs(c.SweepInterval)
	m.Service.StartDomainPurges(c.SweepInterval)
	m.startSchemaGuard(c.SchemaCheckInterval)

	if created {
		fmt.Fprintf(m.Stdout, `OpenProfiles generated root credentials (access key %s) into %s (mode 0600).
Use them with the AWS CLI and SDKs:

	export AWS_SHARED_CREDENTIALS_FILE=%s AWS_PROFILE=%s
	aws customer-profiles list-domains --endpoint-url %s

`, keyID, filepath.Join(c.DataDir, credentialsFile), absPath(filepath.Join(c.DataDir, credentialsFile)), credentialsProfile, m.PublicURL())
	}
	return nil
}

// onlyPublicHosts refuses, with 400, a request whose Host header is not
// one of hosts (when set): the console and the upload URLs, which carry no
// SigV4 signature, answer to the names the signed endpoints do.
func onlyPublicHosts(h http.Handler, hosts []string) http.Handler {
	if len(hosts) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sigv4.HostAllowed(hosts, r.Host) {
			http.Error(w, fmt.Sprintf("The Host header %q does not name this server: use one of its public host names.", r.Host), http.StatusBadRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// authorizeWith is the authorisation of the built-in queue service's API:
// the caller's identity policies, with the request's condition keys and
// aws:PrincipalArn.
func (m *Main) authorizeWith(ctx context.Context, principal, action, resource string, cond map[string][]string) error {
	return m.Service.Authorize(ctx, m.authRequest(principal, action, resource, cond))
}

// authorizeKMS is the authorisation of the built-in KMS's API: the
// service's decision (for a key, from its policy and grants and, where
// the key policy lets them count, the caller's identity policies), with
// the request's condition keys and aws:PrincipalArn. byGrant reports that
// a grant of the key allowed the call and no statement of its policy did.
func (m *Main) authorizeKMS(ctx context.Context, principal, action, resource string, cond map[string][]string) (byGrant bool, err error) {
	return m.Service.AuthorizeKey(ctx, m.authRequest(principal, action, resource, cond))
}

// authRequest is the request to authorise of a call of the built-in KMS or
// queue service's API.
func (m *Main) authRequest(principal, action, resource string, cond map[string][]string) *profiles.AuthRequest {
	keys := map[string][]string{"aws:PrincipalArn": {principal}, "aws:RequestedRegion": {m.Config.Region}}
	for k, v := range cond {
		keys[k] = v
	}
	return &profiles.AuthRequest{Principal: principal, Action: action, Resource: resource, Context: keys}
}

// openAudit opens the audit trail: a JSON line per authorisation decision.
func (m *Main) openAudit() (*slog.Logger, error) {
	var w io.Writer = m.Stdout
	if m.Config.AuditLog != "-" {
		path := m.Config.AuditLog
		if path == "" {
			path = filepath.Join(m.Config.DataDir, "audit.log")
		}
		f, err := openRotatingFile(path, m.Config.AuditMaxBytes, 5)
		if err != nil {
			return nil, err
		}
		f.logger = m.Logger
		m.audit, w = f, f
	}
	return slog.New(slog.NewJSONHandler(w, nil)), nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// Addr returns the address the server listens on.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// URL returns the base URL of the server.
func (m *Main) URL() string {
	if m.Config.TLSCert != "" {
		return "https://" + m.Addr()
	}
	return "http://" + m.Addr()
}

// PublicURL returns the base URL clients reach the server by, that of the
// URLs it gives out (the built-in queues'): its first --public-host when
// set (it answers no other), else URL.
func (m *Main) PublicURL() string {
	if len(m.Config.PublicHosts) == 0 {
		return m.URL()
	}
	if m.Config.TLSCert != "" {
		return "https://" + m.Config.PublicHosts[0]
	}
	return "http://" + m.Config.PublicHosts[0]
}

// Close stops accepting requests, waits for in-flight ones (up to
// shutdownTimeout) and closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
	}
	if m.debug != nil {
		m.debug.Close()
	}
	if m.schema != nil {
		m.stopSchemaGuard()
	}
	if m.stopSweeper != nil {
		m.stopSweeper()
		<-m.sweeperDone
	}
	if m.Service != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if err := m.Service.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("service: %w", err))
		}
		cancel()
	}
	if m.audit != nil {
		m.audit.Close()
	}
	if m.DB != nil {
		if err := m.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// healthz answers 200 when the store answers, 503 otherwise, and 503 once
// the database schema is newer than this server knows (schemaguard.go) or
// an fsync of SQLite's write-ahead log failed. It needs no signature.
func (m *Main) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	if current, known, behind := m.schema.versions(); behind {
		schemaHealth(w, current, known)
		return
	}
	// An fsync of SQLite's write-ahead log failed: the store refuses
	// every write until the server restarts (sqlite/walsync.go).
	if s, ok := m.DB.(interface{ SyncFailed() error }); ok && s.SyncFailed() != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"status":"unavailable","storage":"sync_failed"}`)
		return
	}
	if err := m.DB.Ping(ctx); err != nil {
		// The server may have stepped aside since the look above: the
		// store then refuses the ping for that reason alone.
		if current, known, behind := m.schema.versions(); behind {
			schemaHealth(w, current, known)
			return
		}
		m.health.Failed(r.Context(), err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"status":"unavailable"}`)
		return
	}
	m.health.Succeeded(r.Context())
	// Writes fail while the storage is full, reads go on, and writes
	// succeed again by themselves once there is room: no restart is
	// needed, so the server stays in service, but says so.
	if s, ok := m.DB.(interface{ StorageFull() bool }); ok && s.StorageFull() {
		fmt.Fprintln(w, `{"status":"degraded","storage":"full"}`)
		return
	}
	fmt.Fprintln(w, `{"status":"ok"}`)
}

// Store is what the server keeps its data in: every SPI of the root package.
type Store interface {
	profiles.Store
	profiles.KMSStore
	profiles.IAMStore
	profiles.QueueStore
	profiles.IntegrationStore
	profiles.ConfigStore
	profiles.EventOutbox
	profiles.DeadLetterCopyStore
	profiles.ServerSettingStore
	Open() error
	SetSealer(profiles.Sealer)
	// SchemaVersion reads the database's schema version while the store
	// is open, and the highest the store knows; StepAside makes the store
	// refuse to write once the first is higher (schemaguard.go).
	SchemaVersion(ctx context.Context) (current, known int, err error)
	StepAside(version int)
}

var (
	_ Store = (*sqliteStore)(nil)
	_ Store = (*postgresStore)(nil)
)

type sqliteStore struct{ *sqlite.DB }

func (s sqliteStore) SetSealer(sl profiles.Sealer) { s.DB.Sealer = sl }

type postgresStore struct{ *postgres.DB }

func (s postgresStore) SetSealer(sl profiles.Sealer) { s.DB.Sealer = sl }

// SetOnCommit sets the hook of the store's write transactions (metrics.go).
func (s sqliteStore) SetOnCommit(f func(int, time.Duration, error)) { s.DB.OnCommit = f }

// SetOnSync sets the hook of SQLite's syncs of its write-ahead log (metrics.go).
func (s sqliteStore) SetOnSync(f func(int, time.Duration, error)) { s.DB.OnSync = f }

func (s postgresStore) SetOnCommit(f func(int, time.Duration, error)) { s.DB.OnCommit = f }

// openStore returns the store the configuration names: SQLite in the data
// dir, or PostgreSQL for a postgres:// URL.
func openStore(c *Config, logger *slog.Logger, now func() time.Time) (Store, error) {
	if strings.HasPrefix(c.Store, "postgres://") || strings.HasPrefix(c.Store, "postgresql://") {
		db := postgres.NewDB(c.Store)
		db.Logger, db.Now = logger, now
		db.MaxConns, db.StatementTimeout = c.PGMaxConns, c.PGStatementTimeout
		return postgresStore{db}, nil
	}
	if c.Store != "" && c.Store != "sqlite" {
		return nil, fmt.Errorf("--store %q: want sqlite or a postgres:// URL", c.Store)
	}
	db := sqlite.NewDB(filepath.Join(c.DataDir, "openprofiles.db"))
	db.Logger, db.Now = logger, now
	return sqliteStore{db}, nil
}
