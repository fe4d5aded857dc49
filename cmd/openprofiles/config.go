package main

import (
	"flag"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is the configuration of `openprofiles serve`. Every field has a
// flag and an OPENPROFILES_* environment variable; a flag wins.
type Config struct {
	Addr string
	// TLSCert and TLSKey, when set, are PEM files of the certificate (with
	// its chain) and private key the server answers HTTPS with; empty:
	// plain HTTP.
	TLSCert, TLSKey string
	DataDir         string
	Store           string // "sqlite" (in the data dir) or a postgres:// URL
	// PostgreSQL: connections in the pool (0: 4 × GOMAXPROCS) and the
	// statement timeout (0: 30 s).
	PGMaxConns         int
	PGStatementTimeout time.Duration
	Region             string
	AccountID          string
	MaxDomains         int
	MaxBodyBytes       int64
	// BodyTimeout is how long a request's body may take to arrive from the
	// server's first read of it (the largest, a 64 MB upload or import, at
	// 2 Mbit/s; --body-timeout, 0: no limit); IdleTimeout how long a keep-alive
	// connection may wait for its next request (longer than the SDKs' own
	// 90 s, so that a client does not send on a connection the server is
	// closing; no flag). They guard the server against slow clients.
	BodyTimeout, IdleTimeout time.Duration
	// WriteTimeout is how long each part of a response may wait for the
	// client to take it (--write-timeout, 0: no limit): a client that
	// stops reading has its connection closed, one that reads slowly but
	// steadily is never cut.
	WriteTimeout time.Duration
	// MaxConnections caps the connections open at once
	// (--max-connections, 0: no cap); further clients wait in the
	// kernel's queue until one closes.
	MaxConnections int
	// PublicHosts, when set, are the only Host headers the server answers
	// (but on /healthz and /metrics): a signature made for another server
	// is not accepted here (--public-host).
	PublicHosts []string
	LogLevel    string
	// Metrics serves GET /metrics (Prometheus text format, unsigned).
	Metrics bool
	// Console serves the web console and agent workspace under /console/.
	Console bool
	// SecureCookies marks the console's cookies Secure on every request,
	// for a server behind a proxy that terminates TLS
	// (--secure-cookies); with --tls-cert they are Secure anyway.
	SecureCookies bool
	// DebugAddr, when set, serves Go's profiler (net/http/pprof) on a
	// listener of its own at that address, unsigned: keep it on loopback.
	DebugAddr string

	// Per-profile ingestion rate (objects per second; 0: no limit) and burst.
	IngestRate  float64
	IngestBurst int
	// How often expired profile objects are deleted from disk.
	SweepInterval time.Duration
	// How often the store's schema version is read, to notice another
	// node (or process) that migrated the database past this server
	// (schemaguard.go); 0: DefaultSchemaCheckInterval.
	SchemaCheckInterval time.Duration

	// How long an unwrapped data key is used and cached, and how often the
	// state and policy of a KMS key in use are checked again.
	DataKeyMaxAge       time.Duration
	KMSKeyCheckInterval time.Duration

	// An external AWS-KMS-compatible service for the domains' keys (""
	// for the built-in KMS), and the key of domains that name none there.
	KMSEndpoint   string
	KMSDefaultKey string

	// An external SQS-compatible service for dead-letter queues ("" for
	// the built-in queues).
	SQSEndpoint string

	// An external Kinesis-compatible service for event streams ("": no
	// event streams).
	KinesisEndpoint string
	// An external S3-compatible service for segment snapshots and
	// integration workflows ("": neither).
	S3Endpoint string
	// How long an event its Kinesis data stream did not take waits before
	// it is sent again.
	EventRetryInterval time.Duration

	// Where the audit trail goes: a file (rotated at AuditMaxBytes, keeping
	// 5), "-" for stdout; "" is audit.log in the data dir.
	AuditLog      string
	AuditMaxBytes int64

	// Secrets from the environment (base64); when empty they are generated
	// into the data dir at first start. Nodes of one store share them.
	ServerSecret string
	KMSRootKey   string

	// Root credentials; when both are empty the first start generates them
	// into the data dir.
	AccessKeyID     string
	SecretAccessKey string
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Addr:               "127.0.0.1:8720",
		DataDir:            "./openprofiles-data",
		Region:             "us-east-1",
		AccountID:          "000000000000",
		EventRetryInterval: 30 * time.Second,
		MaxDomains:         100,
		MaxBodyBytes:       10 << 20,
		BodyTimeout:        5 * time.Minute,
		IdleTimeout:        2 * time.Minute,
		WriteTimeout:       2 * time.Minute,
		MaxConnections:     4096,
		LogLevel:           "info",
		Metrics:            true,
		Console:            true,

		IngestRate:    100,
		IngestBurst:   100,
		SweepInterval: time.Minute,

		AuditMaxBytes:       50 << 20,
		DataKeyMaxAge:       5 * time.Minute,
		KMSKeyCheckInterval: 5 * time.Second,
	}
}

// envString returns the variable's value, or def when it is unset.
func envString(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func envFloat(getenv func(string) string, name string, def float64) (float64, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a number", name, v)
	}
	return f, nil
}

func envDuration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a duration", name, v)
	}
	return d, nil
}

func envBool(getenv func(string) string, name string, def bool) (bool, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b, nil
}

func envInt(getenv func(string) string, name string, def int64) (int64, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not an integer", name, v)
	}
	return n, nil
}

// bind registers the flags of c on fs, with defaults taken from the environment.
func (c *Config) bind(fs *flag.FlagSet, getenv func(string) string) error {
	d := DefaultConfig()
	maxDomains, err := envInt(getenv, "OPENPROFILES_MAX_DOMAINS", int64(d.MaxDomains))
	if err != nil {
		return err
	}
	maxBody, err := envInt(getenv, "OPENPROFILES_MAX_BODY_BYTES", d.MaxBodyBytes)
	if err != nil {
		return err
	}
	fs.StringVar(&c.Addr, "addr", envString(getenv, "OPENPROFILES_ADDR", d.Addr), "address to listen on (`host:port`; env OPENPROFILES_ADDR)")
	fs.StringVar(&c.TLSCert, "tls-cert", getenv("OPENPROFILES_TLS_CERT"), "PEM `file` of the certificate (and chain) to serve HTTPS with, read again when it changes; with --tls-key (env OPENPROFILES_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", getenv("OPENPROFILES_TLS_KEY"), "PEM `file` of the private key of --tls-cert (env OPENPROFILES_TLS_KEY)")
	fs.StringVar(&c.Store, "store", envString(getenv, "OPENPROFILES_STORE", "sqlite"), "where data lives: `sqlite` (a file in the data dir) or a PostgreSQL URL postgres://user@host:5432/db (env OPENPROFILES_STORE)")
	pgConns, err := envInt(getenv, "OPENPROFILES_PG_MAX_CONNS", 0)
	if err != nil {
		return err
	}
	pgTimeout, err := envDuration(getenv, "OPENPROFILES_PG_STATEMENT_TIMEOUT", 0)
	if err != nil {
		return err
	}
	fs.IntVar(&c.PGMaxConns, "pg-max-conns", int(pgConns), "PostgreSQL: connections in each of a node's three pools (up to 3 × this in all); 0 is 4 × the number of CPUs (env OPENPROFILES_PG_MAX_CONNS)")
	fs.DurationVar(&c.PGStatementTimeout, "pg-statement-timeout", pgTimeout, "PostgreSQL: bound on every statement; 0 is 30s (env OPENPROFILES_PG_STATEMENT_TIMEOUT)")
	fs.StringVar(&c.DataDir, "data-dir", envString(getenv, "OPENPROFILES_DATA_DIR", d.DataDir), "`directory` of the database and generated secrets (env OPENPROFILES_DATA_DIR)")
	fs.StringVar(&c.Region, "region", envString(getenv, "OPENPROFILES_REGION", d.Region), "AWS `region` the server answers as; clients must sign for it (env OPENPROFILES_REGION)")
	fs.StringVar(&c.AccountID, "account-id", envString(getenv, "OPENPROFILES_ACCOUNT_ID", d.AccountID), "12-digit AWS account `id` used in ARNs (env OPENPROFILES_ACCOUNT_ID)")
	fs.IntVar(&c.MaxDomains, "max-domains", int(maxDomains), "quota of domains in the account (env OPENPROFILES_MAX_DOMAINS)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", maxBody, "largest request body accepted, in bytes (env OPENPROFILES_MAX_BODY_BYTES)")
	fs.BoolVar(&c.Metrics, "metrics", getenv("OPENPROFILES_METRICS") != "false", "serve GET /metrics in the Prometheus text format, without signature (env OPENPROFILES_METRICS=false turns it off)")
	fs.BoolVar(&c.Console, "console", getenv("OPENPROFILES_CONSOLE") != "false", "serve the web console and agent workspace under /console/ (env OPENPROFILES_CONSOLE=false turns it off)")
	secureCookies, err := envBool(getenv, "OPENPROFILES_SECURE_COOKIES", false)
	if err != nil {
		return err
	}
	fs.BoolVar(&c.SecureCookies, "secure-cookies", secureCookies, "mark the console's cookies Secure (sent over HTTPS only) also when requests arrive over plain HTTP: set it behind a proxy that terminates TLS; with --tls-cert they are Secure anyway (env OPENPROFILES_SECURE_COOKIES=true)")
	fs.StringVar(&c.DebugAddr, "debug-addr", getenv("OPENPROFILES_DEBUG_ADDR"), "serve Go's profiler (/debug/pprof/) on this `host:port`, unsigned, on a listener of its own; empty: off (env OPENPROFILES_DEBUG_ADDR)")
	fs.StringVar(&c.LogLevel, "log-level", envString(getenv, "OPENPROFILES_LOG_LEVEL", d.LogLevel), "`level` of logs: debug, info, warn or error (env OPENPROFILES_LOG_LEVEL)")
	rate, err := envFloat(getenv, "OPENPROFILES_INGEST_RATE", d.IngestRate)
	if err != nil {
		return err
	}
	burst, err := envInt(getenv, "OPENPROFILES_INGEST_BURST", int64(d.IngestBurst))
	if err != nil {
		return err
	}
	sweep, err := envDuration(getenv, "OPENPROFILES_SWEEP_INTERVAL", d.SweepInterval)
	if err != nil {
		return err
	}
	fs.Float64Var(&c.IngestRate, "ingest-rate", rate, "objects per second one profile may ingest; 0 for no limit (env OPENPROFILES_INGEST_RATE)")
	fs.IntVar(&c.IngestBurst, "ingest-burst", int(burst), "burst of objects one profile may ingest at once (env OPENPROFILES_INGEST_BURST)")
	fs.DurationVar(&c.SweepInterval, "sweep-interval", sweep, "how often expired objects, console form tokens and refused console forms are deleted from disk and due identity resolution jobs, rule-based merge passes, recommender trainings and workflow steps start (env OPENPROFILES_SWEEP_INTERVAL)")
	dkAge, err := envDuration(getenv, "OPENPROFILES_DATA_KEY_MAX_AGE", d.DataKeyMaxAge)
	if err != nil {
		return err
	}
	keyCheck, err := envDuration(getenv, "OPENPROFILES_KMS_KEY_CHECK_INTERVAL", d.KMSKeyCheckInterval)
	if err != nil {
		return err
	}
	fs.DurationVar(&c.DataKeyMaxAge, "data-key-max-age", dkAge, "how long an unwrapped data key is used and cached; 0 asks the KMS every time (env OPENPROFILES_DATA_KEY_MAX_AGE)")
	fs.DurationVar(&c.KMSKeyCheckInterval, "kms-key-check-interval", keyCheck, "how often the state and policy of a KMS key in use are checked again (env OPENPROFILES_KMS_KEY_CHECK_INTERVAL)")
	fs.StringVar(&c.KMSEndpoint, "kms-endpoint", getenv("OPENPROFILES_KMS_ENDPOINT"), "`URL` of an external AWS-KMS-compatible service for the domains' keys, signed with the standard AWS credentials; empty: the built-in KMS (env OPENPROFILES_KMS_ENDPOINT)")
	fs.StringVar(&c.KMSDefaultKey, "kms-default-key", getenv("OPENPROFILES_KMS_DEFAULT_KEY"), "`key` (id, ARN or alias) of the external KMS for domains that name none (env OPENPROFILES_KMS_DEFAULT_KEY)")
	fs.StringVar(&c.AuditLog, "audit-log", getenv("OPENPROFILES_AUDIT_LOG"), "`file` of the audit trail (JSON lines, rotated), or - for stdout; default audit.log in the data dir (env OPENPROFILES_AUDIT_LOG)")
	c.AuditMaxBytes = d.AuditMaxBytes
	bodyTimeout, err := envDuration(getenv, "OPENPROFILES_BODY_TIMEOUT", d.BodyTimeout)
	if err != nil {
		return err
	}
	fs.DurationVar(&c.BodyTimeout, "body-timeout", bodyTimeout, "how long a request's body may take to arrive from the server's first read of it (the largest, a 64 MB import or upload, needs ~1.7 Mbit/s at 5m); 0 for no limit (env OPENPROFILES_BODY_TIMEOUT)")
	c.IdleTimeout = d.IdleTimeout
	writeTimeout, err := envDuration(getenv, "OPENPROFILES_WRITE_TIMEOUT", d.WriteTimeout)
	if err != nil {
		return err
	}
	fs.DurationVar(&c.WriteTimeout, "write-timeout", writeTimeout, "how long each part of a response may wait for the client to read it (a client that stops reading is cut, a slow one is not); 0 for no limit (env OPENPROFILES_WRITE_TIMEOUT)")
	maxConns, err := envInt(getenv, "OPENPROFILES_MAX_CONNECTIONS", int64(d.MaxConnections))
	if err != nil {
		return err
	}
	fs.IntVar(&c.MaxConnections, "max-connections", int(maxConns), "most connections open at once; more clients wait until one closes; 0 for no cap (env OPENPROFILES_MAX_CONNECTIONS)")
	c.PublicHosts = splitHosts(getenv("OPENPROFILES_PUBLIC_HOSTS"))
	fromEnv := true
	fs.Func("public-host", "`host[:port]` clients reach the server by, as they send it in the Host header (with the port unless it is the scheme's default); repeat it or give a comma list; when set, requests naming another host are refused (but /healthz and /metrics); empty: any host (env OPENPROFILES_PUBLIC_HOSTS, comma list)", func(v string) error {
		if fromEnv {
			c.PublicHosts, fromEnv = nil, false
		}
		c.PublicHosts = append(c.PublicHosts, splitHosts(v)...)
		return nil
	})
	fs.StringVar(&c.SQSEndpoint, "sqs-endpoint", getenv("OPENPROFILES_SQS_ENDPOINT"), "`URL` of an external SQS-compatible service for dead-letter queues, signed with the standard AWS credentials; empty: the built-in queues (env OPENPROFILES_SQS_ENDPOINT)")
	fs.StringVar(&c.KinesisEndpoint, "kinesis-endpoint", getenv("OPENPROFILES_KINESIS_ENDPOINT"), "`URL` of a Kinesis-compatible service (Amazon Kinesis Data Streams: https://kinesis.REGION.amazonaws.com) whose data streams event streams write to, signed with the standard AWS credentials; empty: CreateEventStream is refused (env OPENPROFILES_KINESIS_ENDPOINT)")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", getenv("OPENPROFILES_S3_ENDPOINT"), "`URL` of an S3-compatible service (Amazon S3: https://s3.REGION.amazonaws.com) segment snapshots are written to and integration workflows read from, signed with the standard AWS credentials; empty: CreateSegmentSnapshot, CreateIntegrationWorkflow and PutIntegration with a flow are refused (env OPENPROFILES_S3_ENDPOINT)")
	retry, err := envDuration(getenv, "OPENPROFILES_EVENT_RETRY_INTERVAL", d.EventRetryInterval)
	if err != nil {
		return err
	}
	fs.DurationVar(&c.EventRetryInterval, "event-retry-interval", retry, "how long an event its Kinesis data stream did not take waits before it is sent again (env OPENPROFILES_EVENT_RETRY_INTERVAL)")
	c.ServerSecret = getenv("OPENPROFILES_SERVER_SECRET")
	c.KMSRootKey = getenv("OPENPROFILES_KMS_ROOT_KEY")
	c.AccessKeyID = getenv("OPENPROFILES_ACCESS_KEY_ID")
	c.SecretAccessKey = getenv("OPENPROFILES_SECRET_ACCESS_KEY")
	return nil
}

// splitHosts splits a comma list of host names, leaving out blanks.
func splitHosts(v string) []string {
	var hosts []string
	for h := range strings.SplitSeq(v, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case !accountIDRE.MatchString(c.AccountID):
		return fmt.Errorf("--account-id %q: want 12 digits", c.AccountID)
	case !regionRE.MatchString(c.Region):
		return fmt.Errorf("--region %q: want an AWS region name such as us-east-1", c.Region)
	case c.DataDir == "":
		return fmt.Errorf("--data-dir is required")
	case c.MaxDomains < 1:
		return fmt.Errorf("--max-domains must be at least 1")
	case c.MaxBodyBytes < 1024:
		return fmt.Errorf("--max-body-bytes must be at least 1024")
	case c.IngestRate < 0 || c.IngestBurst < 1:
		return fmt.Errorf("--ingest-rate must be >= 0 and --ingest-burst >= 1")
	case c.SweepInterval <= 0:
		return fmt.Errorf("--sweep-interval must be positive")
	case c.DataKeyMaxAge < 0 || c.KMSKeyCheckInterval < 0:
		return fmt.Errorf("--data-key-max-age and --kms-key-check-interval must not be negative")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return fmt.Errorf("set both --tls-cert and --tls-key, or neither")
	case (c.AccessKeyID == "") != (c.SecretAccessKey == ""):
		return fmt.Errorf("set both OPENPROFILES_ACCESS_KEY_ID and OPENPROFILES_SECRET_ACCESS_KEY, or neither")
	case c.EventRetryInterval < time.Second:
		return fmt.Errorf("--event-retry-interval must be at least 1s")
	case c.BodyTimeout < 0 || c.WriteTimeout < 0:
		return fmt.Errorf("--body-timeout and --write-timeout must not be negative")
	case c.MaxConnections < 0:
		return fmt.Errorf("--max-connections must not be negative (0: no cap)")
	case c.PGStatementTimeout < 0 || c.PGStatementTimeout > 0 && c.PGStatementTimeout < time.Millisecond:
		// PostgreSQL counts statement_timeout in milliseconds: less
		// than one would be 0, no bound at all.
		return fmt.Errorf("--pg-statement-timeout %v: want 0 (30s) or at least 1ms", c.PGStatementTimeout)
	}
	for _, h := range c.PublicHosts {
		if u, err := url.Parse("http://" + h); err != nil || u.Host != h || u.User != nil || u.Hostname() == "" {
			return fmt.Errorf("--public-host %q: want a host name or host:port, as clients send it in the Host header (no scheme or path)", h)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return nil
}
