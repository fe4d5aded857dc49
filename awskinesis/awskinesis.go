// Package awskinesis is a profiles.StreamDestinations over an external
// service that speaks the Amazon Kinesis Data Streams API: Amazon Kinesis
// itself, or an emulator such as kinesalite (see package
// awskinesis/kinesalite). It calls the service through
// aws-sdk-go-v2/service/kinesis (the Kinesis JSON protocol) with the
// credentials it is given.
//
// # Stream ARNs
//
// Streams are named by ARN, arn:aws:kinesis:REGION:ACCOUNT:stream/NAME. The
// service is called with the stream's name (StreamName, not StreamARN:
// kinesalite predates the StreamARN parameters), which it looks up in the
// account of the credentials and the region of the client. So that records
// never go to a stream of the same name elsewhere, an ARN of another region
// than Streams.Region is refused (EINVALID), and CheckStream compares the
// ARN the service gives the stream with the one asked for (EINVALID when
// they differ: the stream is of another account than the credentials').
// PutRecords checks the region only: call CheckStream before writing to a
// stream the first time.
//
// # Errors
//
// Errors of the service become root error codes:
//
//	ResourceNotFoundException                                   ENOTFOUND
//	AccessDeniedException, AccessDenied, KMS* (the stream's
//	KMS key; KMSThrottlingException is ETHROTTLED)              EFORBIDDEN
//	InvalidArgumentException, ValidationException,
//	SerializationException                                      EINVALID
//	ProvisionedThroughputExceededException,
//	LimitExceededException, ThrottlingException                 ETHROTTLED
//
// Anything else (the service unreachable, 5xx, credentials it refuses) is
// returned wrapped, an internal error: the caller keeps the message and
// tries again later. The records PutRecords reports failed one by one
// (ProvisionedThroughputExceededException or InternalFailure) are not an
// error: PutRecords returns their indexes.
package awskinesis

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

var _ profiles.StreamDestinations = (*Streams)(nil)

// MaxRecords is the most records PutRecords takes in one call (a limit of
// the Kinesis PutRecords API).
const MaxRecords = 500

// Streams is the data streams of a Kinesis-compatible service.
type Streams struct {
	Client *kinesis.Client
	// Region is the region of the service Client calls; ARNs of other
	// regions are refused. Empty: any region.
	Region string
}

// New returns Streams that call the Kinesis API at endpoint (e.g.
// http://127.0.0.1:4567; "" for Amazon Kinesis of the region) in region,
// signing with creds. For other settings (retries, HTTP client), build the
// client with kinesis.New or kinesis.NewFromConfig (with an sdkhttp.Client as
// its HTTP client) and set Streams.Client.
func New(endpoint, region string, creds aws.CredentialsProvider) *Streams {
	o := kinesis.Options{Region: region, Credentials: creds, HTTPClient: sdkhttp.New(nil)}
	if endpoint != "" {
		o.BaseEndpoint = aws.String(endpoint)
	}
	return &Streams{Client: kinesis.New(o), Region: region}
}

var arnRE = regexp.MustCompile(`^arn:aws[a-z-]*:kinesis:([a-z]{2}(?:-[a-z]+)+-[0-9]+):([0-9]{12}):stream/([a-zA-Z0-9_.-]{1,128})$`)

// ParseStreamARN returns the region, account and name of the ARN of a
// Kinesis data stream, arn:aws:kinesis:REGION:ACCOUNT:stream/NAME. Returns
// EINVALID naming the ARN when it is not one.
func ParseStreamARN(streamARN string) (region, account, name string, err error) {
	m := arnRE.FindStringSubmatch(streamARN)
	if m == nil {
		return "", "", "", profiles.Errorf(profiles.EINVALID,
			"%q is not the ARN of a Kinesis data stream (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)", streamARN)
	}
	return m[1], m[2], m[3], nil
}

// streamName parses the ARN and checks its region.
func (s *Streams) streamName(streamARN string) (string, error) {
	region, _, name, err := ParseStreamARN(streamARN)
	if err != nil {
		return "", err
	}
	if s.Region != "" && region != s.Region {
		return "", profiles.Errorf(profiles.EINVALID,
			"Kinesis stream %s is in region %s: streams are written in region %s here", streamARN, region, s.Region)
	}
	return name, nil
}

// CheckStream returns nil when the stream exists with status ACTIVE or
// UPDATING and the service gives it the ARN asked for. Returns EINVALID for
// a bad ARN, an ARN of another region or account, or another status;
// ENOTFOUND for a missing stream; EFORBIDDEN when the credentials may not
// describe it.
func (s *Streams) CheckStream(ctx context.Context, streamARN string) error {
	name, err := s.streamName(streamARN)
	if err != nil {
		return err
	}
	out, err := s.Client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		return kinesisError("DescribeStreamSummary", streamARN, err)
	}
	sum := out.StreamDescriptionSummary
	if sum == nil {
		return fmt.Errorf("awskinesis: DescribeStreamSummary %s: no StreamDescriptionSummary", streamARN)
	}
	if got := aws.ToString(sum.StreamARN); got != "" && got != streamARN {
		return profiles.Errorf(profiles.EINVALID,
			"Kinesis stream %s: the stream %s of the credentials' account and region is %s, another stream", streamARN, name, got)
	}
	if st := sum.StreamStatus; st != types.StreamStatusActive && st != types.StreamStatusUpdating {
		return profiles.Errorf(profiles.EINVALID, "Kinesis stream %s is %s: it takes records when ACTIVE or UPDATING", streamARN, st)
	}
	return nil
}

// PutRecords writes 1 to MaxRecords records to the stream in one call and
// returns the indexes of the records the stream refused (throttled or
// failed: the caller sends them again). Returns EINVALID for a bad ARN, a
// bad number of records or a partition key that is empty or longer than
// 256 characters; otherwise an error means none was written and carries the
// codes of the package documentation.
func (s *Streams) PutRecords(ctx context.Context, streamARN string, records []profiles.StreamRecord) ([]int, error) {
	name, err := s.streamName(streamARN)
	if err != nil {
		return nil, err
	}
	if len(records) < 1 || len(records) > MaxRecords {
		return nil, profiles.Errorf(profiles.EINVALID, "Kinesis PutRecords %s: %d records: must be from 1 to %d", streamARN, len(records), MaxRecords)
	}
	entries := make([]types.PutRecordsRequestEntry, len(records))
	for i, r := range records {
		if n := utf8.RuneCountInString(r.PartitionKey); n < 1 || n > 256 {
			return nil, profiles.Errorf(profiles.EINVALID,
				"Kinesis PutRecords %s: record %d: PartitionKey has %d characters: must have 1 to 256", streamARN, i, n)
		}
		data := r.Data
		if data == nil {
			data = []byte{} // Data is required: an empty record is still one
		}
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(r.PartitionKey), Data: data}
	}
	out, err := s.Client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
	if err != nil {
		return nil, kinesisError("PutRecords", streamARN, err)
	}
	if len(out.Records) != len(records) {
		return nil, fmt.Errorf("awskinesis: PutRecords %s: %d results for %d records", streamARN, len(out.Records), len(records))
	}
	var failed []int
	for i, r := range out.Records {
		if aws.ToString(r.ErrorCode) != "" {
			failed = append(failed, i)
		}
	}
	return failed, nil
}

// codes maps Kinesis error codes to root error codes.
var codes = map[string]string{
	"ResourceNotFoundException": profiles.ENOTFOUND,

	"AccessDeniedException": profiles.EFORBIDDEN,
	"AccessDenied":          profiles.EFORBIDDEN,

	"InvalidArgumentException": profiles.EINVALID,
	"ValidationException":      profiles.EINVALID,
	"SerializationException":   profiles.EINVALID,

	"ProvisionedThroughputExceededException": profiles.ETHROTTLED,
	"LimitExceededException":                 profiles.ETHROTTLED,
	"ThrottlingException":                    profiles.ETHROTTLED,
	"KMSThrottlingException":                 profiles.ETHROTTLED,
}

// kinesisError maps an error of the Kinesis client to a root error code
// (see the package documentation), or wraps it.
func kinesisError(op, streamARN string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		msg := fmt.Sprintf("Kinesis %s %s: %s: %s", op, streamARN, code, ae.ErrorMessage())
		if c, ok := codes[code]; ok {
			return profiles.Errorf(c, "%s", msg)
		}
		if strings.HasPrefix(code, "KMS") {
			return profiles.Errorf(profiles.EFORBIDDEN, "%s", msg)
		}
	}
	var ipe smithy.InvalidParamsError
	if errors.As(err, &ipe) {
		return profiles.Errorf(profiles.EINVALID, "Kinesis %s %s: %v", op, streamARN, err)
	}
	return fmt.Errorf("awskinesis: %s %s: %w", op, streamARN, err)
}
