package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	"github.com/openprofiles/profiles/internal/sdkhttp"
)

// clientFlags are the flags every client subcommand shares. Credentials and
// region come from the standard AWS environment variables and shared files
// (AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_REGION…),
// so one set serves the AWS CLI and openprofiles alike.
type clientFlags struct {
	endpoint string
	profile  string
	region   string
}

func (f *clientFlags) bind(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.endpoint, "endpoint", envString(getenv, "OPENPROFILES_ENDPOINT", "http://127.0.0.1:8720"), "`URL` of the OpenProfiles server (env OPENPROFILES_ENDPOINT)")
	fs.StringVar(&f.profile, "profile", "", "AWS shared-config `profile` to take credentials from (default: AWS_PROFILE or default)")
	fs.StringVar(&f.region, "region", "", "AWS `region` to sign for (default: AWS_REGION, the profile's region, or us-east-1)")
}

// awsConfig loads the AWS configuration the way the AWS CLI does.
func (f *clientFlags) awsConfig(ctx context.Context, getenv func(string) string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if f.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(f.profile))
	}
	if f.region != "" {
		opts = append(opts, config.WithRegion(f.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cfg.HTTPClient = sdkhttp.New(cfg.HTTPClient)
	return cfg, nil
}

func (f *clientFlags) profilesClient(ctx context.Context, getenv func(string) string) (*customerprofiles.Client, error) {
	cfg, err := f.awsConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return customerprofiles.NewFromConfig(cfg, func(o *customerprofiles.Options) {
		o.BaseEndpoint = aws.String(f.endpoint)
	}), nil
}
