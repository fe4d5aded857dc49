package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openprofiles/profiles/awsapi"
)

// importBatch is how many objects one import request carries.
const importBatch = 500

// runImport runs `openprofiles import`: it sends the objects of a file to
// the server's import endpoint, in batches, showing progress, and prints
// the counts. Failed objects are in the domain's dead-letter queue.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("openprofiles import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.bind(fs, getenv)
	domain := fs.String("domain", "", "`name` of the domain (required)")
	objectType := fs.String("object-type", "", "`name` of the object type (required)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	from := fs.Int("from", 1, "send the file from object `N` on (the first is 1), as the message of an import that stopped midway says")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: openprofiles import --domain D --object-type T [flags] FILE

Ingests the JSON objects of FILE (JSON Lines, or one JSON array; - reads
standard input) through the asynchronous ingestion path: each object finds
or creates its profile as with PutProfileObject, and each one that fails goes
to the domain's dead-letter queue with its error. Prints the counts, and the
first failures, as JSON. The whole file is read and checked before anything
is sent; if a request fails midway, the error says which objects are in and
gives the command that sends the rest (--from N: the file from object N on).

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *domain == "" || *objectType == "" || fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("import: --domain, --object-type and one FILE are required")
	}
	var in io.Reader = os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	objects, err := readObjects(in)
	if err != nil {
		return err
	}
	if *from < 1 || *from > max(len(objects), 1) {
		return fmt.Errorf("import: --from %d is not an object of the file: it holds %d objects, counted from 1", *from, len(objects))
	}
	first := *from - 1 // the index of the first object to send
	cfg, err := cf.awsConfig(ctx, getenv)
	if err != nil {
		return err
	}
	endpoint := strings.TrimRight(cf.endpoint, "/") + awsapi.ImportPath + url.PathEscape(*domain) + "/object-types/" + url.PathEscape(*objectType)
	client := &http.Client{Timeout: 10 * time.Minute}
	var total awsapi.ImportResult
	start := time.Now()
	send := func(body []byte) (*awsapi.ImportResult, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("AWS credentials: %w", err)
		}
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "profile", cfg.Region, time.Now()); err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			e := apiError("Import", resp, b)
			fmt.Fprintln(stderr, e.Error())
			return nil, fmt.Errorf("import: %s", e.Code)
		}
		var res awsapi.ImportResult
		if err := json.Unmarshal(b, &res); err != nil {
			return nil, fmt.Errorf("import: bad answer: %w", err)
		}
		return &res, nil
	}
	for i := first; i < len(objects); i += importBatch {
		batch := objects[i:min(i+importBatch, len(objects))]
		res, err := send([]byte(strings.Join(batch, "\n")))
		if err != nil && i > first {
			// The batches before this one are in: say how far the
			// import went, and how to send the rest.
			if !*quiet {
				fmt.Fprintln(stderr)
			}
			return fmt.Errorf("%w\nimport: stopped at object %d of %d: objects %d to %d were sent (%d ingested, %d failed: in the dead-letter queue); "+
				"objects %d to %d may have been ingested or not, and the %d after them were not sent. "+
				"Send the file again from object %d (an object with a UNIQUE key that is in already is updated in place, not added twice):\n%s",
				err, i+1, len(objects), first+1, i, total.Ingested, total.Failed, i+1, i+len(batch), len(objects)-i-len(batch), i+1,
				resumeCommand(args, i+1))
		} else if err != nil {
			return err
		}
		total.Ingested += res.Ingested
		total.Failed += res.Failed
		for _, f := range res.Failures {
			if len(total.Failures) < 100 {
				f.Index += i
				total.Failures = append(total.Failures, f)
			}
		}
		if !*quiet {
			progress(stderr, i+len(batch)-first, len(objects)-first, total, time.Since(start))
		}
	}
	if !*quiet {
		fmt.Fprintln(stderr)
	}
	return printJSON(stdout, total)
}

// resumeCommand is the command line that sends the file of an import
// (its arguments args) again from object from (counted from 1): the same
// flags and file, with --from set.
func resumeCommand(args []string, from int) string {
	words := []string{"openprofiles", "import", "--from", strconv.Itoa(from)}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if a == "--" {
			words = append(words, args[i:]...)
			break
		}
		if strings.HasPrefix(a, "-") && name == "from" {
			if !hasValue {
				i++ // its value is the next argument
			}
			continue
		}
		words = append(words, a)
	}
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	return strings.Join(words, " ")
}

// progress draws the progress bar on one terminal line.
func progress(w io.Writer, done, total int, res awsapi.ImportResult, elapsed time.Duration) {
	const width = 30
	filled := width
	if total > 0 {
		filled = done * width / total
	}
	rate := float64(done) / max(elapsed.Seconds(), 0.001)
	fmt.Fprintf(w, "\r[%s%s] %d/%d objects  %d ingested  %d failed  %.0f/s",
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total, res.Ingested, res.Failed, rate)
}

// readObjects reads a JSON array of objects, or JSON Lines, into the
// objects' texts. The whole file is read, and checked as far as its shape
// goes, before anything is sent: a file that cannot be read, or that holds
// more than its JSON array, is refused, never imported in part. A UTF-8
// byte order mark (which some editors and exports write) is skipped.
func readObjects(r io.Reader) ([]string, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && string(b) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	for {
		c, err := br.Peek(1)
		if err == io.EOF {
			return nil, nil // empty
		} else if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		if c[0] == ' ' || c[0] == '\n' || c[0] == '\r' || c[0] == '\t' {
			br.ReadByte()
			continue
		}
		if c[0] == '[' {
			// One element at a time: decoded whole, the array took about
			// six times the file's size in memory (the decoder's copy of
			// it, each element's, and the compacted texts), against about
			// one for the same objects as JSON Lines.
			dec := json.NewDecoder(br)
			notArray := func(err error) error { return fmt.Errorf("import: the file is not a JSON array: %w", err) }
			if _, err := dec.Token(); err != nil {
				return nil, notArray(err)
			}
			var out []string
			var it json.RawMessage
			var b bytes.Buffer
			for dec.More() {
				if err := dec.Decode(&it); err != nil {
					return nil, notArray(err)
				}
				b.Reset()
				json.Compact(&b, it)
				out = append(out, b.String())
			}
			if _, err := dec.Token(); err != nil { // its ]
				return nil, notArray(err)
			}
			// Only white space may follow the array: what else would be
			// left out without a word.
			if _, err := dec.Token(); err != io.EOF {
				return nil, fmt.Errorf("import: the file holds more after its JSON array (near byte %d): give one JSON array, or JSON Lines (one object a line)", dec.InputOffset())
			}
			return out, nil
		}
		break
	}
	var out []string
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 1<<20), maxImportLine)
	line := 0
	for sc.Scan() {
		line++
		if text := strings.TrimSpace(sc.Text()); text != "" {
			out = append(out, text)
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return nil, fmt.Errorf("import: line %d is longer than %d MiB: no object is that large; is the file JSON Lines (one object a line)?", line+1, maxImportLine>>20)
	} else if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return out, nil
}

// utf8BOM is the byte order mark some tools write at the start of UTF-8 files.
const utf8BOM = "\xef\xbb\xbf"

// maxImportLine is the longest line of a JSON Lines file import reads.
const maxImportLine = 4 << 20
