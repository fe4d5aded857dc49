package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openprofiles/profiles/connect"
)

const instancesUsage = `Usage:

	openprofiles instances create --alias ALIAS [flags]
	    register a contact-center instance; prints its ARN, then its JSON
	openprofiles instances list [--output table|json] [flags]
	    list the instances with the domain each is associated with
	openprofiles instances switch --instance ARN --domain NAME [flags]
	    move an instance's association to another domain in one step; the
	    profiles made from its contacts stay in the domain they are in

An instance is associated with one domain at most: by PutIntegration (Uri =
the instance ARN, ObjectTypeName CTR) or by 'switch'. Its contact records
(POST /connect/instances/{InstanceId}/contact-records, see 'openprofiles
contacts') go to that domain. Requests go to the server's instance admin API
(X-Amz-Target OpenProfilesConnect.<Operation>), signed with SigV4 for the
service "profile" with the credentials the AWS CLI would use.

Flags of every verb:
`

// runInstances runs `openprofiles instances create|list|switch`.
func runInstances(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("openprofiles instances", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.bind(fs, getenv)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), instancesUsage)
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return flag.ErrHelp
	}
	verb := args[0]
	switch verb {
	case "help", "-h", "-help", "--help":
		fs.SetOutput(stdout)
		fs.Usage()
		return nil
	}
	alias := fs.String("alias", "", "`ALIAS` of the new instance (create)")
	output := fs.String("output", "table", "`FORMAT` of the list: table or json (list)")
	instance := fs.String("instance", "", "`ARN` of the instance (switch)")
	domain := fs.String("domain", "", "`NAME` of the domain to associate it with (switch)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("instances %s: unexpected argument %q", verb, fs.Arg(0))
	}
	client, err := newConnectClient(ctx, &cf, getenv)
	if err != nil {
		return fmt.Errorf("instances %s: %w", verb, err)
	}
	defer client.close()

	switch verb {
	case "create":
		if *alias == "" {
			return fmt.Errorf("instances create: --alias is required")
		}
		var out connect.CreateInstanceOutput
		if err = client.admin(ctx, "CreateInstance", connect.CreateInstanceInput{InstanceAlias: *alias}, &out); err == nil {
			fmt.Fprintln(stdout, out.Instance.Arn)
			err = printJSON(stdout, out)
		}
	case "list":
		if *output != "table" && *output != "json" {
			return fmt.Errorf("instances list: --output is table or json, not %q", *output)
		}
		var out connect.ListInstancesOutput
		if err = client.admin(ctx, "ListInstances", connect.ListInstancesInput{}, &out); err == nil {
			if *output == "json" {
				err = printJSON(stdout, out)
			} else {
				err = printInstances(stdout, out.InstanceSummaryList)
			}
		}
	case "switch":
		if *instance == "" || *domain == "" {
			return fmt.Errorf("instances switch: --instance and --domain are required")
		}
		var out connect.SwitchInstanceOutput
		if err = client.admin(ctx, "SwitchInstance", connect.SwitchInstanceInput{InstanceArn: *instance, DomainName: *domain}, &out); err == nil {
			err = printJSON(stdout, out)
		}
	default:
		fs.Usage()
		return fmt.Errorf("instances: unknown verb %q", verb)
	}
	if ae, ok := err.(*iamAPIError); ok {
		fmt.Fprintln(stderr, ae.Error())
		return fmt.Errorf("instances %s: %s", verb, ae.Code)
	} else if err != nil {
		return fmt.Errorf("instances %s: %w", verb, err)
	}
	return nil
}

// printInstances prints the instances as a table.
func printInstances(w io.Writer, list []connect.InstanceInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tALIAS\tARN\tDOMAIN")
	for _, in := range list {
		domain := in.DomainName
		if domain == "" {
			domain = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", in.Id, in.InstanceAlias, in.Arn, domain)
	}
	return tw.Flush()
}

// connectClient sends signed requests (SigV4, service "profile") to the
// contact-center APIs of a server.
type connectClient struct {
	endpoint  string
	region    string
	creds     aws.CredentialsProvider
	transport *http.Transport
	http      *http.Client
}

func newConnectClient(ctx context.Context, cf *clientFlags, getenv func(string) string) (*connectClient, error) {
	cfg, err := cf.awsConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --profile")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	return &connectClient{
		endpoint:  strings.TrimRight(cf.endpoint, "/"),
		region:    cfg.Region,
		creds:     cfg.Credentials,
		transport: transport,
		http:      &http.Client{Transport: transport, Timeout: 5 * time.Minute},
	}, nil
}

func (c *connectClient) close() { c.transport.CloseIdleConnections() }

// post sends one signed POST to path and returns the body of a 2xx
// answer, or an *iamAPIError (named after op) for an error answer.
func (c *connectClient) post(ctx context.Context, op, path string, header http.Header, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), connect.SigningService, c.region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, apiError(op, resp, b)
	}
	return b, nil
}

// admin calls an operation of the instance admin API.
func (c *connectClient) admin(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set("Content-Type", connect.ContentType)
	h.Set("X-Amz-Target", connect.TargetPrefix+op)
	b, err := c.post(ctx, op, "/", h, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: bad answer: %w", op, err)
	}
	return nil
}
