package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
)

// runDomains runs `openprofiles domains list|get`, which print the API's
// JSON answers as the AWS CLI does.
func runDomains(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("openprofiles domains", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.bind(fs, getenv)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage:

	openprofiles domains list [flags]         list every domain
	openprofiles domains get [flags] NAME     show one domain

Flags:
`)
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
	case "list", "get":
	default:
		fs.Usage()
		return fmt.Errorf("domains: unknown verb %q", verb)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	client, err := cf.profilesClient(ctx, getenv)
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		if fs.NArg() > 0 {
			return fmt.Errorf("domains list: unexpected argument %q (to show one domain: openprofiles domains get NAME)", fs.Arg(0))
		}
		var items []any
		p := &customerprofiles.ListDomainsInput{}
		for {
			out, err := client.ListDomains(ctx, p)
			if err != nil {
				return err
			}
			for _, d := range out.Items {
				items = append(items, map[string]any{
					"DomainName": aws.ToString(d.DomainName), "CreatedAt": d.CreatedAt, "LastUpdatedAt": d.LastUpdatedAt, "Tags": d.Tags,
				})
			}
			if out.NextToken == nil {
				break
			}
			p.NextToken = out.NextToken
		}
		if items == nil {
			items = []any{}
		}
		return printJSON(stdout, map[string]any{"Items": items})
	case "get":
		if fs.NArg() != 1 {
			return fmt.Errorf("domains get: want one domain name")
		}
		out, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(fs.Arg(0))})
		if err != nil {
			return err
		}
		return printJSON(stdout, withoutMetadata(out))
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	return enc.Encode(v)
}

// withoutMetadata returns an SDK output as a JSON object without the SDK's
// ResultMetadata member.
func withoutMetadata(out any) any {
	b, err := json.Marshal(out)
	if err != nil {
		return out
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return out
	}
	delete(m, "ResultMetadata")
	return m
}
