package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/openprofiles/profiles/connect"
)

const contactsUsage = `Usage:

	openprofiles contacts simulate --instance ARN --count N [--rate R] [--seed S] [flags]
	    generate N realistic contact trace records of the instance (voice calls
	    inbound and outbound by phone number, chats by email; returning
	    customers, new ones, a few households sharing one phone) and send them
	openprofiles contacts send --instance ARN [flags] FILE
	    send the contact records of FILE (JSON Lines, a JSON array or one
	    record; - reads standard input)

Records go in batches, at most --rate a second, to the instance's
contact-records endpoint (POST /connect/instances/{InstanceId}/contact-records,
SigV4 service "profile"), and from there to the domain the instance is
associated with: each finds or creates its profile (CTR object type). A
record that fails is counted and is in the domain's dead-letter queue. Prints
{Sent, Accepted, Failed} and the first failures as JSON.

Flags:
`

// contactsSummary is what `openprofiles contacts` prints.
type contactsSummary struct {
	Sent     int                    `json:"Sent"`
	Accepted int                    `json:"Accepted"`
	Failed   int                    `json:"Failed"`
	Seed     uint64                 `json:"Seed,omitempty"`
	Failures []connect.RecordResult `json:"Failures,omitempty"` // the first 100
}

// runContacts runs `openprofiles contacts simulate|send`.
func runContacts(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("openprofiles contacts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.bind(fs, getenv)
	instance := fs.String("instance", "", "`ARN` (or id) of the instance (required)")
	count := fs.Int("count", 100, "generate `N` records (simulate)")
	rate := fs.Float64("rate", 50, "send at most `R` records a second (0: no limit)")
	seed := fs.Uint64("seed", 0, "`S` seeds the generator: the same seed gives the same contacts (ContactIds, customers), so sending them again updates them (simulate; 0: a new seed, printed in the summary)")
	batch := fs.Int("batch", 100, "send at most `B` records in one request")
	out := fs.String("out", "", "also write the generated records to `FILE` as JSON Lines (simulate)")
	dryRun := fs.Bool("dry-run", false, "generate the records into --out without sending them (simulate)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), contactsUsage)
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
	case "simulate", "send":
	default:
		fs.Usage()
		return fmt.Errorf("contacts: unknown verb %q", verb)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *instance == "" {
		return fmt.Errorf("contacts %s: --instance is required", verb)
	}
	id, arn := *instance, *instance
	if v, ok := connect.InstanceID(*instance); ok {
		id = v
	} else if strings.ContainsAny(*instance, ":/") {
		return fmt.Errorf("contacts %s: --instance %q is neither an instance ARN (arn:aws:connect:REGION:ACCOUNT:instance/ID) nor an id", verb, *instance)
	}
	if *batch < 1 || *rate < 0 {
		return fmt.Errorf("contacts %s: --batch must be at least 1 and --rate not negative", verb)
	}

	var records []string
	var summary contactsSummary
	switch verb {
	case "simulate":
		if fs.NArg() > 0 {
			return fmt.Errorf("contacts simulate: unexpected argument %q", fs.Arg(0))
		}
		if *count < 1 {
			return fmt.Errorf("contacts simulate: --count must be at least 1")
		}
		if *dryRun && *out == "" {
			return fmt.Errorf("contacts simulate: --dry-run needs --out")
		}
		if _, ok := connect.InstanceID(arn); !ok {
			return fmt.Errorf("contacts simulate: --instance must be the instance ARN (the records carry it)")
		}
		summary.Seed = *seed
		if summary.Seed == 0 {
			summary.Seed = rand.Uint64()
		}
		var err error
		if records, err = simulateRecords(arn, summary.Seed, *count, *out); err != nil {
			return err
		}
		if *dryRun {
			return printJSON(stdout, map[string]any{"Generated": len(records), "Seed": summary.Seed, "Out": *out})
		}
	case "send":
		if fs.NArg() != 1 {
			return fmt.Errorf("contacts send: want one FILE (- for standard input)")
		}
		body, err := readInput(fs.Arg(0))
		if err != nil {
			return err
		}
		if records, err = connect.Split(body); err != nil {
			return fmt.Errorf("contacts send: %s: %w", fs.Arg(0), err)
		}
	}

	client, err := newConnectClient(ctx, &cf, getenv)
	if err != nil {
		return fmt.Errorf("contacts %s: %w", verb, err)
	}
	defer client.close()
	err = sendRecords(ctx, client, id, records, *batch, *rate, &summary)
	if ae, ok := err.(*iamAPIError); ok {
		fmt.Fprintln(stderr, ae.Error())
		err = fmt.Errorf("contacts %s: %s", verb, ae.Code)
	} else if err != nil {
		err = fmt.Errorf("contacts %s: %w", verb, err)
	}
	if err != nil && summary.Sent == 0 {
		return err
	}
	if perr := printJSON(stdout, summary); err == nil {
		err = perr
	}
	return err
}

// simulateRecords generates the records, spread over the time before now,
// and writes them to out when it is set.
func simulateRecords(arn string, seed uint64, n int, out string) ([]string, error) {
	// About ten minutes between contacts: the last ones are recent.
	sim := connect.NewSimulator(arn, seed, time.Now().Add(-time.Duration(n)*630*time.Second))
	records := make([]string, n)
	for i := range records {
		b, err := json.Marshal(sim.Next())
		if err != nil {
			return nil, err
		}
		records[i] = string(b)
	}
	if out != "" {
		if err := os.WriteFile(out, []byte(strings.Join(records, "\n")+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("contacts simulate: %w", err)
		}
	}
	return records, nil
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

// sendRecords posts the records in batches, at most rate a second (0: no
// limit), and adds the answers to summary.
func sendRecords(ctx context.Context, c *connectClient, instanceID string, records []string, batch int, rate float64, summary *contactsSummary) error {
	if rate > 0 && float64(batch) > rate {
		batch = max(1, int(rate))
	}
	path := connect.Path + url.PathEscape(instanceID) + "/contact-records"
	h := http.Header{}
	h.Set("Content-Type", "application/x-ndjson")
	start := time.Now()
	for i := 0; i < len(records); i += batch {
		if rate > 0 {
			// Batch k leaves no earlier than the records before it allow.
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(wait):
				}
			}
		}
		part := records[i:min(i+batch, len(records))]
		b, err := c.post(ctx, "PutContactRecords", path, h, []byte(strings.Join(part, "\n")))
		if err != nil {
			return err
		}
		var res connect.Result
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("bad answer: %w", err)
		}
		summary.Sent += len(part)
		summary.Accepted += res.Accepted
		summary.Failed += res.Failed
		for _, r := range res.Records {
			if r.ErrorCode != "" && len(summary.Failures) < 100 {
				r.Index += i
				summary.Failures = append(summary.Failures, r)
			}
		}
	}
	return nil
}
