package main_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles/awskinesis/kinesalite"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/fauxqs"
)

// The README's examples use these addresses; the test substitutes those of
// the servers it starts.
const (
	readmeServer  = "http://127.0.0.1:8720" // openprofiles serve
	readmeS3      = "http://127.0.0.1:4570" // an S3-compatible service (fauxqs here)
	readmeKinesis = "http://127.0.0.1:4568" // a Kinesis-compatible service (kinesalite here)
)

// readmeBlock is one ```sh block of the README.
type readmeBlock struct {
	line int    // of its opening fence
	text string // its lines
	skip string // why the test does not run it (a readme-test: skip marker)
}

// skipMarkerRE is the marker that keeps the test from running the block
// that follows it: an HTML comment on the line before its fence, with the
// reason.
var skipMarkerRE = regexp.MustCompile(`^<!-- readme-test: skip \((.+)\) -->$`)

// readmeShellBlocks returns the ```sh blocks of the README in order. It
// fails tb on a skip marker without a reason or not followed by a block.
func readmeShellBlocks(tb testing.TB, readme string) []readmeBlock {
	tb.Helper()
	var blocks []readmeBlock
	var cur *readmeBlock
	var body []string
	indent := "" // of the block's fence: a block in a list item is indented
	skip, skipLine := "", 0
	sc := bufio.NewScanner(strings.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case cur != nil && strings.TrimSpace(l) == "```":
			cur.text = strings.Join(body, "\n") + "\n"
			blocks = append(blocks, *cur)
			cur, body = nil, nil
		case cur != nil:
			body = append(body, strings.TrimPrefix(l, indent))
		case strings.TrimLeft(l, " ") == "```sh":
			cur, indent = &readmeBlock{line: n}, l[:len(l)-len("```sh")]
			if skip != "" && skipLine == n-1 {
				cur.skip, skip = skip, ""
			}
		case strings.HasPrefix(strings.TrimLeft(l, " "), "<!-- readme-test:"):
			m := skipMarkerRE.FindStringSubmatch(strings.TrimLeft(l, " "))
			if m == nil {
				tb.Fatalf("README.md:%d: want <!-- readme-test: skip (reason) -->, got %q", n, l)
			}
			if skip != "" {
				tb.Fatalf("README.md:%d: skip marker not followed by a ```sh block", skipLine)
			}
			skip, skipLine = m[1], n
		}
		if skip != "" && n > skipLine && cur == nil {
			tb.Fatalf("README.md:%d: skip marker not followed by a ```sh block on the next line", skipLine)
		}
	}
	if cur != nil {
		tb.Fatalf("README.md:%d: ```sh block not closed", cur.line)
	}
	return blocks
}

// readmeScriptPrelude starts the script of the README's blocks: it stops
// at the first command that fails, and says which, with its status (set -e
// alone ends the script silently, its last output before it).
const readmeScriptPrelude = "set -e -o pipefail\n" +
	"trap 'printf \"\\nREADME test: the script stopped with status %s at: %s\\n\" $? \"$BASH_COMMAND\" >&2' ERR\n"

// serveLineRE is a line of the README that starts the server, with the
// flags the test must have started its server with.
var serveLineRE = regexp.MustCompile(`^(?:[A-Z_]+=\S+ )*openprofiles serve((?: --[a-z0-9-]+ \S+)*)\s*$`)

// TestREADMECLIExamples runs the README's sh blocks, in order, with bash
// against a real server, the real AWS CLI and the openprofiles binary, and
// checks the output the README's comments show. Each block runs as a user
// would type it, in one shell session (variables carry over) in a fresh
// directory, with the credentials the server wrote into its data dir.
func TestREADMECLIExamples(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the AWS CLI (aws) is needed on PATH (scripts/test installs it): %v", err)
	}
	for _, tool := range []string{"bash", "jq", "curl", "openssl", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's examples need %s on PATH (scripts/test installs it): %v", tool, err)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeShellBlocks(t, string(readme))

	bin := mustBuildBinary(t)
	s3 := fauxqs.Start(t)
	kinesis := kinesalite.StartIn(t, testRegion, "000000000000")
	// The server writes to S3 and Kinesis with the standard AWS
	// credentials of its process (any key is accepted by both emulators).
	t.Setenv("AWS_ACCESS_KEY_ID", "AKREADMESERVER")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "readme-server-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	work := t.TempDir()
	c := main.DefaultConfig()
	c.Addr = "127.0.0.1:0"
	c.DataDir = filepath.Join(work, "openprofiles-data") // as `openprofiles serve` run in work
	c.S3Endpoint, c.KinesisEndpoint = s3, kinesis
	c.SweepInterval = time.Second             // background work (identity resolution, training) a minute sooner
	c.AccessKeyID, c.SecretAccessKey = "", "" // generated into the data dir, as on a first start
	c.Store = "sqlite"                        // the embedded default, as the README's serve lines run it (on every pass of scripts/test)
	if err := os.Mkdir(c.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	m := MustOpenMain(t, c)
	if _, err := os.Stat(filepath.Join(c.DataDir, "credentials")); err != nil {
		t.Fatalf("the server wrote no credentials into its data dir: %v", err)
	}
	subst := strings.NewReplacer(readmeServer, m.URL(), readmeS3, s3, readmeKinesis, kinesis)
	// the flags of `openprofiles serve` lines, as the test started the server
	served := map[string]string{"--s3-endpoint": readmeS3, "--kinesis-endpoint": readmeKinesis}

	var script strings.Builder
	script.WriteString(readmeScriptPrelude)
	run := map[int]bool{}
	for _, b := range blocks {
		if b.skip != "" {
			t.Logf("README.md:%d: not run: %s", b.line, b.skip)
			continue
		}
		run[b.line] = true
		fmt.Fprintf(&script, "printf '\\n@@README.md:%d@@\\n'; printf '\\n@@README.md:%d@@ at %%ss\\n' $SECONDS >&2\n", b.line, b.line)
		for i, l := range strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") {
			if sm := serveLineRE.FindStringSubmatch(l); sm != nil {
				f := strings.Fields(sm[1])
				for j := 0; j+1 < len(f); j += 2 {
					if want, ok := served[f[j]]; !ok || f[j+1] != want {
						t.Fatalf("README.md:%d: %q: the test's server runs with %v, not %s %s", b.line+1+i, l, served, f[j], f[j+1])
					}
				}
				script.WriteString(": the test started the server so\n")
				continue
			}
			if strings.Contains(l, "openprofiles serve") {
				t.Fatalf("README.md:%d: a serve line the test does not understand: %q", b.line+1+i, l)
			}
			script.WriteString(subst.Replace(l) + "\n")
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = work
	cmd.WaitDelay = 5 * time.Second // a command of the script still holding its output
	home := t.TempDir()
	for _, kv := range os.Environ() { // no AWS or OpenProfiles settings of the machine or of the test
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "AWS_") && !strings.HasPrefix(k, "OPENPROFILES_") && k != "HOME" && k != "PATH" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"HOME="+home, // no ~/.aws
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"AWS_CONFIG_FILE="+filepath.Join(home, "no-config"),
		"AWS_PAGER=",                     // AWS CLI v2 (Debian's) would page its output
		"OPENPROFILES_ENDPOINT="+m.URL(), // the client subcommands' default, http://127.0.0.1:8720
	)
	mustKnowREADMEOperations(t, blocks, cmd.Env, home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	t.Logf("the README's examples ran in %v", time.Since(start).Round(time.Millisecond))
	outs, errs := splitByBlock(stdout.String()), splitByBlock(stderr.String())
	for _, m := range regexp.MustCompile(`@@README\.md:([0-9]+)@@ at ([0-9]+)s`).FindAllStringSubmatch(stderr.String(), -1) {
		t.Logf("README.md:%s: started at %ss", m[1], m[2])
	}
	if err != nil {
		last := 0
		for l := range outs {
			last = max(last, l)
		}
		t.Fatalf("README.md:%d: the block failed: %v\n--- its stdout:\n%s\n--- its stderr:\n%s", last, err, outs[last], errs[last])
	}
	for _, b := range blocks {
		if !run[b.line] {
			continue
		}
		if _, ok := outs[b.line]; !ok {
			t.Errorf("README.md:%d: the block did not run", b.line)
			continue
		}
		for _, want := range expectedOutputs(b.text) {
			if !want.re.MatchString(outs[b.line]) {
				t.Errorf("README.md:%d: the comment shows %s, the output has no %s\n--- output:\n%s", b.line, want.shown, want.re, outs[b.line])
			}
		}
	}
}

// splitByBlock splits the output of the script at the blocks' markers.
func splitByBlock(out string) map[int]string {
	parts := map[int]string{}
	markerRE := regexp.MustCompile(`(?m)^@@README\.md:([0-9]+)@@.*\n`)
	idx := markerRE.FindAllStringSubmatchIndex(out, -1)
	for i, m := range idx {
		line, _ := strconv.Atoi(out[m[2]:m[3]])
		end := len(out)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		parts[line] = out[m[1]:end]
	}
	return parts
}

// outputWant is a member a README comment shows in a command's output.
type outputWant struct {
	shown string
	re    *regexp.Regexp
}

var (
	// a comment that shows output: "# " followed by JSON ("Status": …,
	// {"SnapshotId": …}), alone on its line or after a command
	outputCommentRE = regexp.MustCompile(`^#\s+([{"].*)$`)
	// a member with a scalar value, as a comment shows it
	memberRE = regexp.MustCompile(`"([A-Za-z]+)":\s*("(?:[^"\\]|\\.)*"|-?[0-9][0-9.]*…?|true|false)`)
	// an id or a value the README elides: 01a2…, 4c10…, …
	elidedRE = regexp.MustCompile(`[0-9a-f]*…`)
	// a time, which the README shows as an example: any time stands for it
	timestampRE = regexp.MustCompile(`^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"$`)
)

// expectedOutputs returns the members the comments of a block show, as
// patterns of the pretty-printed (aws) or compact JSON output: "01a2…"
// stands for any id, "…" for anything within a string, 0.866… for any
// number that starts so.
func expectedOutputs(block string) []outputWant {
	var wants []outputWant
	for _, l := range strings.Split(block, "\n") {
		c := outputCommentRE.FindStringSubmatch(shellComment(l))
		if c == nil {
			continue
		}
		for _, mm := range memberRE.FindAllStringSubmatch(c[1], -1) {
			name, v := mm[1], mm[2]
			var pat string
			switch {
			case timestampRE.MatchString(v):
				pat = `"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"`
			case strings.HasPrefix(v, `"`):
				var b strings.Builder
				rest := v[1 : len(v)-1]
				for _, loc := range elidedRE.FindAllStringIndex(rest, -1) {
					b.WriteString(regexp.QuoteMeta(rest[:loc[0]]))
					b.WriteString(`[^"]*`)
					rest = rest[loc[1]:]
				}
				b.WriteString(regexp.QuoteMeta(rest))
				pat = `"` + b.String() + `"`
			case strings.HasSuffix(v, "…"):
				pat = regexp.QuoteMeta(strings.TrimSuffix(v, "…")) + `[0-9]*`
			default:
				pat = regexp.QuoteMeta(v) + `\b`
			}
			wants = append(wants, outputWant{shown: mm[0], re: regexp.MustCompile(`"` + name + `":\s*` + pat)})
		}
	}
	return wants
}

// TestREADMEOutputComments checks how the README's output comments are
// read: what they show must be in the output, loosely.
func TestREADMEOutputComments(t *testing.T) {
	block := `aws customer-profiles get-workflow --workflow-id "$WF"   # "Status": "COMPLETE", "Metrics": {"AppflowIntegration": {"RecordsProcessed": 1, …}}
# "StatusMessage": "Exported 1 profile to s3://exports/a/01a2….jsonl.", "Score": 0.755…
# {"EventTimestamp":"2026-11-27T12:51:58.648Z","Object":"{\"first\":\"Nobody\"}"}
aws s3 cp x - --query 'a # "Not": "checked"' --object "{\"a # \"Nor\": \"this\"}" # "Size": 2
# a comment in prose, "Quoted": "not checked"
`
	wants := expectedOutputs(block)
	var shown []string
	for _, w := range wants {
		shown = append(shown, w.shown)
	}
	if got, want := strings.Join(shown, " | "), `"Status": "COMPLETE" | "RecordsProcessed": 1 | "StatusMessage": "Exported 1 profile to s3://exports/a/01a2….jsonl." | "Score": 0.755… | "EventTimestamp":"2026-11-27T12:51:58.648Z" | "Object":"{\"first\":\"Nobody\"}" | "Size": 2`; got != want {
		t.Fatalf("members shown:\n got %s\nwant %s", got, want)
	}
	for _, tc := range []struct {
		out  string
		want []bool // per member, whether out holds it
	}{
		{`{
    "Status": "COMPLETE",
    "Metrics": {"AppflowIntegration": {"RecordsProcessed": 1, "StepsCompleted": 1}},
    "StatusMessage": "Exported 1 profile to s3://exports/a/01a22186c1fa000001c6c7a45fb8c500.jsonl.",
    "Score": 0.7554191132592915
}
{"EventTimestamp":"2026-11-28T09:40:16.027Z","Object":"{\"first\":\"Nobody\"}"}`, []bool{true, true, true, true, true, true, false}},
		{`{"Status": "FAILED", "RecordsProcessed": 12, "StatusMessage": "Exported 2 profiles to s3://exports/a/01a2.jsonl.", "Score": 0.866,
"EventTimestamp": "yesterday", "Object": "{}"}`, []bool{false, false, false, false, false, false, false}},
	} {
		for i, w := range wants {
			if got := w.re.MatchString(tc.out); got != tc.want[i] {
				t.Errorf("%s (%s) in %q: %v, want %v", w.shown, w.re, tc.out, got, tc.want[i])
			}
		}
	}
}

// TestREADMEShellBlocks checks how the README's blocks and skip markers
// are read.
func TestREADMEShellBlocks(t *testing.T) {
	readme := "# T\n\n```sh\necho one\n```\n\n<!-- readme-test: skip (needs a human) -->\n```sh\nread x\n```\n\n```go\nfmt.Println()\n```\n```sh\necho two\necho three\n```\n" +
		"- in a list item:\n\n  ```sh\n  echo four \\\n      five\n  ```\n  <!-- readme-test: skip (an example id) -->\n  ```sh\n  get 01a2…\n  ```\n"
	got := readmeShellBlocks(t, readme)
	want := []readmeBlock{{line: 3, text: "echo one\n"}, {line: 8, text: "read x\n", skip: "needs a human"}, {line: 15, text: "echo two\necho three\n"},
		{line: 21, text: "echo four \\\n    five\n"}, {line: 26, text: "get 01a2…\n", skip: "an example id"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("blocks:\n got %+v\nwant %+v", got, want)
	}
	if !serveLineRE.MatchString("AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… openprofiles serve --s3-endpoint http://127.0.0.1:4570") ||
		serveLineRE.MatchString("openprofiles serve --s3-endpoint http://127.0.0.1:4570 && rm -rf x") {
		t.Errorf("serveLineRE reads serve lines wrong")
	}
}

// referenceModel is the directory of the API model the server implements
// (service-2.json and the files beside it), as botocore lays them out.
const referenceModel = "../../../shared/reference/customer-profiles"

// mustKnowREADMEOperations makes sure the AWS CLI of env knows every
// customer-profiles operation the README's blocks run. An older CLI (such
// as Debian 12's awscli 2.9, from before layouts, segments, upload jobs,
// recommenders…) learns them from the reference model, installed as
// `aws configure add-model` would into home/.aws/models; without the
// reference model, tb fails naming what the CLI lacks. A CLI that does not
// list its operations when given one it does not know (later AWS CLI v2
// releases name the bad choice only) gets the reference model too.
func mustKnowREADMEOperations(tb testing.TB, blocks []readmeBlock, env []string, home string) {
	tb.Helper()
	used := map[string]bool{}
	for _, b := range blocks {
		if b.skip == "" {
			for _, m := range regexp.MustCompile(`aws customer-profiles ([a-z][a-z0-9-]+)`).FindAllStringSubmatch(b.text, -1) {
				used[m[1]] = true
			}
		}
	}
	// The CLI lists the operations it knows when given one it does not.
	probe := exec.CommandContext(tb.Context(), "aws", "customer-profiles", "no-such-operation")
	probe.Env = env
	out, _ := probe.CombinedOutput()
	version, _ := exec.Command("aws", "--version").CombinedOutput()
	_, choices, listed := strings.Cut(string(out), "valid choices are:")
	var missing []string
	why := "does not list its operations" // when given one it does not know
	if listed {
		known := map[string]bool{}
		for _, w := range regexp.MustCompile(`[a-z][a-z0-9-]+`).FindAllString(choices, -1) {
			known[w] = true
		}
		for op := range used {
			if !known[op] {
				missing = append(missing, op)
			}
		}
		if len(missing) == 0 {
			return
		}
		slices.Sort(missing)
		why = fmt.Sprintf("does not know %v", missing)
	}
	if _, err := os.Stat(filepath.Join(referenceModel, "service-2.json")); err != nil {
		if !listed {
			tb.Logf("the AWS CLI (%s) does not list its operations and there is no reference model to give it (%v): the README's blocks run with the CLI's own model", strings.TrimSpace(string(version)), err)
			return
		}
		tb.Fatalf("the AWS CLI (%s) does not know %v, which the README uses, and there is no reference model to teach it (%v)",
			strings.TrimSpace(string(version)), missing, err)
	}
	dir := filepath.Join(home, ".aws", "models", "customer-profiles", "2020-08-15")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for _, f := range []string{"service-2.json", "paginators-1.json", "endpoint-rule-set-1.json"} {
		data, err := os.ReadFile(filepath.Join(referenceModel, f))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Logf("the AWS CLI (%s) %s: the test gave it the reference model (aws configure add-model)", strings.TrimSpace(string(version)), why)
}

// shellComment returns the comment of a line of shell, from its # (at the
// start of a word, outside quotes) to its end, or "".
func shellComment(l string) string {
	var quote rune
	escaped := false
	for i, r := range l {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && quote != '\'':
			escaped = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t'):
			return l[i:]
		}
	}
	return ""
}

// TestREADMECLIModel: how mustKnowREADMEOperations reads the AWS CLI's
// answer to an operation it does not know (a stand-in aws on PATH, with
// the wording of each kind of CLI): the reference model is installed when
// the CLI lacks an operation the README uses, and when it does not list
// its operations (later AWS CLI v2 releases), not when it knows them all.
func TestREADMECLIModel(t *testing.T) {
	blocks := []readmeBlock{{line: 1, text: "aws customer-profiles get-domain --domain-name d\naws customer-profiles list-domains\n"},
		{line: 5, text: "aws customer-profiles create-recommender …\n", skip: "not run"}}
	usage := "usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\\nTo see help text, you can run:\\n\\n  aws help\\n"
	for _, c := range []struct {
		name, answer string
		installed    bool
	}{
		{"knows all", usage + "aws: error: argument operation: Invalid choice, valid choices are:\\n\\nget-domain | list-domains\\n", false},
		{"lacks one", usage + "aws: error: argument operation: Invalid choice, valid choices are:\\n\\nget-domain | delete-domain\\n", true},
		{"lists none", usage + "\\naws: error: argument operation: Found invalid choice 'no-such-operation'\\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			bin := t.TempDir()
			script := "#!/bin/sh\nif [ \"$1\" = --version ]; then echo aws-cli/2.99.0; exit 0; fi\nprintf '" + c.answer + "' >&2\nexit 252\n"
			if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			home := t.TempDir()
			mustKnowREADMEOperations(t, blocks, os.Environ(), home)
			_, err := os.Stat(filepath.Join(home, ".aws", "models", "customer-profiles", "2020-08-15", "service-2.json"))
			if installed := err == nil; installed != c.installed {
				t.Errorf("reference model installed: %v, want %v", installed, c.installed)
			}
		})
	}
}

// earlyExitRE is a pipe into a command that may exit before it has read
// all its input (head, grep -q or -m).
var earlyExitRE = regexp.MustCompile(`\|\s*(head\b|grep\s+(-[a-zA-Z]*[qm]|--quiet|--max-count))`)

// TestREADMEPipes: the blocks the README test runs have no pipe into a
// command that may stop reading early: the script runs with pipefail, and
// a writer that writes again once the reader has exited dies of SIGPIPE
// (status 141), or not, as the machine's timing has it.
func TestREADMEPipes(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range readmeShellBlocks(t, string(readme)) {
		if b.skip != "" {
			continue
		}
		for i, l := range strings.Split(b.text, "\n") {
			if earlyExitRE.MatchString(l) {
				t.Errorf("README.md:%d: %q: a pipe into a command that may exit before reading all (sed -n 1p reads all)", b.line+1+i, l)
			}
		}
	}
	for l, want := range map[string]bool{"x | head -1": true, "x|grep -q y": true, "x | grep -m1 y": true, "x | sed -n 1p": false, "x | grep y": false, "# | head": true} {
		if got := earlyExitRE.MatchString(l); got != want {
			t.Errorf("earlyExitRE on %q: %v, want %v", l, got, want)
		}
	}
}

// TestREADMEScriptPrelude: a command of the README's blocks that fails
// stops the script, which names it and its status.
func TestREADMEScriptPrelude(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "bash", "-c", readmeScriptPrelude+"echo one\nuntil true; do :; done\nARN=$(exit 3)\necho never\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil || stdout.String() != "one\n" || !strings.Contains(stderr.String(), "the script stopped with status 3 at: ARN=$(exit 3)") {
		t.Errorf("script: %v, stdout %q, stderr %q; want status 3, one, the command named", err, stdout.String(), stderr.String())
	}
}
