// Package kinesalite runs kinesalite, an emulator of Amazon Kinesis Data
// Streams (pure JavaScript, from npm, in memory), for tests: Start starts
// one for a test, CreateStream and ReadAll create a stream and read back
// what was written to it. scripts/test installs kinesalite:
//
//	npm install --prefix "$(Dir)" --no-audit --no-fund kinesalite@3.3.3
//
// It needs node (Node.js 20 works) on PATH.
//
// # ARNs
//
// kinesalite gives a stream the ARN
// arn:aws:kinesis:REGION:ACCOUNT:stream/NAME where REGION and ACCOUNT are
// fixed when the process starts, from its environment: $AWS_REGION (else
// $AWS_DEFAULT_REGION, else us-east-1) and the digits of $AWS_ACCOUNT_ID
// (else 000000000000). It ignores the region requests are signed for, and
// any access key is accepted. Start sets them to Region and Account (never
// inherited from the test's environment); StartIn sets others.
package kinesalite

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/openprofiles/profiles/internal/sdkhttp"
	"github.com/openprofiles/profiles/internal/testproc"
)

// Version is the version of kinesalite Start runs.
const Version = "3.3.3"

// Region and Account are those of the ARNs of the streams of a kinesalite
// that Start started.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// Dir is where kinesalite is installed: $OPENPROFILES_KINESALITE_DIR, else
// $XDG_CACHE_HOME/openprofiles/kinesalite-<Version> (or
// $HOME/.cache/openprofiles/kinesalite-<Version>).
func Dir() string {
	if d := os.Getenv("OPENPROFILES_KINESALITE_DIR"); d != "" {
		return d
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "openprofiles", "kinesalite-"+Version)
}

// Start starts kinesalite on a free port of 127.0.0.1, with streams in
// Region and Account, and returns its endpoint, http://127.0.0.1:PORT. It
// is stopped when tb ends. tb fails when it cannot start.
func Start(tb testing.TB) string {
	tb.Helper()
	return StartIn(tb, Region, Account)
}

var (
	listeningRE = regexp.MustCompile(`Listening at (http://127\.0\.0\.1:[0-9]+)`)
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
)

// StartIn is Start with streams in region and account (12 digits).
//
// Streams are CREATING, UPDATING or DELETING only until kinesalite's next
// turn of its event loop (CreateStream waits for ACTIVE; a deleted stream
// may be DELETING for a moment), and an account may have up to 100 shards.
func StartIn(tb testing.TB, region, account string) string {
	tb.Helper()
	if region == "" || !accountRE.MatchString(account) {
		tb.Fatalf("kinesalite.StartIn(%q, %q): want a region and a 12-digit account", region, account)
	}
	dir := Dir()
	module := filepath.Join(dir, "node_modules", "kinesalite")
	if _, err := os.Stat(filepath.Join(module, "index.js")); err != nil {
		tb.Fatalf("kinesalite %s is not installed in %s (run scripts/test, or npm install --prefix %s --no-audit --no-fund kinesalite@%s): %v",
			Version, dir, dir, Version, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("kinesalite needs Node.js: node is not on PATH: %v", err)
	}
	// kinesalite's cli.js has no way to listen on port 0 (it takes 0 for
	// its default, 4567) nor on loopback only: run the server it exports
	// on 127.0.0.1:0, which reports the port it got.
	mod, _ := json.Marshal(module)
	script := `var server = require(` + string(mod) + `)({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100});
server.listen(0, '127.0.0.1', function() { var a = server.address(); console.log('Listening at http://' + a.address + ':' + a.port) })`
	cmd := exec.Command(node, "-e", script)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "AWS_REGION" && k != "AWS_DEFAULT_REGION" && k != "AWS_ACCOUNT_ID" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_REGION="+region, "AWS_ACCOUNT_ID="+account)
	return testproc.Start(tb, "kinesalite", cmd, listeningRE)
}

// Client returns a Kinesis client of the kinesalite at endpoint, signing
// for region with a made-up access key (kinesalite accepts any).
func Client(endpoint, region string) *kinesis.Client {
	return kinesis.New(kinesis.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: sdkhttp.New(nil),
		Credentials: credentials.NewStaticCredentialsProvider("AKTEST", "secret", "")})
}

// CreateStream creates a stream of shards shards (1 or more) and returns its
// ARN, as kinesalite gives it, once it is ACTIVE. tb fails on error.
func CreateStream(tb testing.TB, endpoint, region, name string, shards int) string {
	tb.Helper()
	ctx := tb.Context()
	c := Client(endpoint, region)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards))}); err != nil {
		tb.Fatalf("kinesalite: CreateStream %s: %v", name, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			tb.Fatalf("kinesalite: DescribeStreamSummary %s: %v", name, err)
		}
		if s := out.StreamDescriptionSummary; s.StreamStatus == types.StreamStatusActive {
			return aws.ToString(s.StreamARN)
		} else if time.Now().After(deadline) {
			tb.Fatalf("kinesalite: stream %s is still %s after 30 s", name, s.StreamStatus)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A Record is a record read from a stream.
type Record struct {
	ShardID        string
	SequenceNumber string
	PartitionKey   string
	Data           []byte
}

// ReadAll returns every record of the stream: those of its first shard (as
// ListShards orders them) in the order they were written, then those of the
// next shard, and so on. tb fails on error.
func ReadAll(tb testing.TB, endpoint, region, name string) []Record {
	tb.Helper()
	ctx := tb.Context()
	c := Client(endpoint, region)
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		tb.Fatalf("kinesalite: ListShards %s: %v", name, err)
	}
	var records []Record
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: sh.ShardId,
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			tb.Fatalf("kinesalite: GetShardIterator %s %s: %v", name, aws.ToString(sh.ShardId), err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				tb.Fatalf("kinesalite: GetRecords %s %s: %v", name, aws.ToString(sh.ShardId), err)
			}
			if len(out.Records) == 0 {
				break // an open shard always has a next iterator
			}
			for _, r := range out.Records {
				records = append(records, Record{ShardID: aws.ToString(sh.ShardId), SequenceNumber: aws.ToString(r.SequenceNumber),
					PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data})
			}
			iter = out.NextShardIterator
		}
	}
	return records
}

// String returns the record's partition key and data, for test messages.
func (r Record) String() string {
	return fmt.Sprintf("%s:%q", r.PartitionKey, r.Data)
}
