package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/awssqs"
	"github.com/openprofiles/profiles/localsqs"
	"github.com/openprofiles/profiles/service"
)

// runDlq runs `openprofiles dlq list|replay|purge --domain D`, which work
// on the domain's dead-letter queue through the SQS API.
func runDlq(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	return runDlqWith(ctx, args, stdout, stderr, getenv, dlqTuning{hold: service.DefaultDeadLetterHold})
}

// dlqTuning is what tests change of `openprofiles dlq`.
type dlqTuning struct {
	// hold is how long replay hides the letters it took at a time; it
	// renews the hold of those not done with each time half of it has
	// passed (service.HoldDeadLetters).
	hold time.Duration
	// beforePut, when set, is called before each letter is ingested again.
	beforePut func()
	// afterReceive, when set, is called with the IDs of the messages of
	// each batch replay and purge receive, once they hold them.
	afterReceive func(ids []string)
	// maxHeld bounds the messages a run holds received at once (0:
	// maxHeldMessages).
	maxHeld int
}

// maxHeldMessages is how many messages a run of list, replay or purge
// holds received (in flight) at most: Amazon SQS refuses to receive past
// 120,000 in flight on a standard queue (OverLimit). replay and purge take
// a longer queue maxHeld messages at a time, deleting the domain's letters
// of each before they receive more, so they hold only what they leave in
// the queue (other domains' letters, cut letters, messages that are not
// letters, letters sent back with one more attempt); a run whose held
// messages reach the bound (list: any) stops receiving, finishes, and says
// that the queue may hold more (More).
const maxHeldMessages = 100_000

// moreNote is the note of a run that stopped at maxHeld.
const moreNote = "The run stopped receiving at %d messages held (SQS refuses to receive past 120,000 in flight): the queue may hold more. Run it again; the messages it left in the queue (other domains' letters, cut letters, messages that are not letters) count again, so remove them if they reach the bound every time."

func runDlqWith(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, tune dlqTuning) error {
	fs := flag.NewFlagSet("openprofiles dlq", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.bind(fs, getenv)
	domain := fs.String("domain", "", "`name` of the domain (required)")
	sqsEndpoint := fs.String("sqs-endpoint", getenv("OPENPROFILES_SQS_ENDPOINT"),
		"`URL` of the queue service: an external SQS-compatible one (env OPENPROFILES_SQS_ENDPOINT; default: the built-in queues, at --endpoint)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage:

	openprofiles dlq list   --domain D [flags]   print the dead letters (and leave them in the queue)
	openprofiles dlq replay --domain D [flags]   ingest each dead letter again: delete it on success, keep it
	                                             with one more attempt and the new error on failure
	openprofiles dlq purge  --domain D [flags]   delete every dead letter of the domain

The queue is the domain's DeadLetterQueueUrl, reached at --endpoint (the
built-in queues) or --sqs-endpoint, never at the host the URL names: whoever
may update the domain sets the URL. Without --sqs-endpoint, a URL that is not
one of the built-in queues (an external service's) is refused. A dead letter is JSON: DomainName,
ObjectTypeName, Source, ErrorCode, ErrorMessage, Object (the original
object), FirstFailureAt, Attempts. replay ingests only the letters of the
domain; the others are left in the queue, and so are the letters whose object
was cut to fit a queue message (ObjectTruncated): the console of any server
replays them from the whole copy the store keeps (a letter of an earlier
version, with ObjectFile: the console of the server that wrote it). purge
deletes the letters of the domain alone: those of other domains, and
messages that are not dead letters, stay in the queue.

Flags:
`)
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return flag.ErrHelp
	}
	if strings.HasPrefix(args[0], "-") { // flags before the verb: -h, or a verb missing
		if err := fs.Parse(args); err != nil {
			return err
		}
		fs.Usage()
		return fmt.Errorf("dlq: a verb (list, replay or purge) must come first")
	}
	verb := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if verb != "list" && verb != "replay" && verb != "purge" {
		// Before the server is asked anything: a verb mistyped must not
		// read as the server's error (or its absence).
		fs.Usage()
		return fmt.Errorf("dlq: unknown verb %q: want list, replay or purge", verb)
	}
	if *domain == "" {
		fs.Usage()
		return fmt.Errorf("dlq: --domain is required")
	}
	cfg, err := cf.awsConfig(ctx, getenv)
	if err != nil {
		return err
	}
	profilesClient := customerprofiles.NewFromConfig(cfg, func(o *customerprofiles.Options) { o.BaseEndpoint = aws.String(cf.endpoint) })
	d, err := profilesClient.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: domain})
	if err != nil {
		return err
	}
	queueURL := aws.ToString(d.DeadLetterQueueUrl)
	if queueURL == "" {
		return fmt.Errorf("dlq: domain %s has no DeadLetterQueueUrl", *domain)
	}
	if _, err := url.Parse(queueURL); err != nil {
		return fmt.Errorf("dlq: DeadLetterQueueUrl %q: %w", queueURL, err)
	}
	// The queue service is the one the operator names, not the URL's
	// host: a principal who may update the domain would otherwise have
	// this command send requests signed with the operator's credentials
	// to a host of its choice. The queue services read the queue from
	// the URL's path.
	queues := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(cmp.Or(*sqsEndpoint, cf.endpoint)) })
	if *sqsEndpoint == "" {
		if err := checkBuiltInQueue(ctx, queues, *domain, queueURL, cf.endpoint); err != nil {
			return err
		}
	}
	q := &dlq{profiles: profilesClient, queues: queues, url: queueURL, domain: *domain, stdout: stdout,
		logger: slog.New(slog.NewTextHandler(stderr, nil)), dlqTuning: tune}
	if *sqsEndpoint != "" {
		// An external service: Amazon SQS answers a short poll from a
		// sample of its servers, and may answer none while messages
		// remain. The built-in queues read the whole queue.
		q.endWait = profiles.EndOfQueueWait
	}
	if q.maxHeld <= 0 {
		q.maxHeld = maxHeldMessages
	}
	switch verb {
	case "list":
		return q.list(ctx)
	case "replay":
		return q.replay(ctx)
	case "purge":
		return q.purge(ctx)
	}
	return fmt.Errorf("dlq: unknown verb %q", verb)
}

// checkBuiltInQueue refuses a domain whose queue the built-in queues at
// endpoint do not serve: the built-in service serves a URL of any host whose
// path is its account and the name of one of its queues (localsqs); any
// other is an external service's, which --sqs-endpoint must name. Without
// this, list and purge worked on a built-in queue of the same name, or
// failed with a bare QueueDoesNotExist.
func checkBuiltInQueue(ctx context.Context, queues *sqs.Client, domain, queueURL, endpoint string) error {
	refuse := func(why string) error {
		return fmt.Errorf("dlq: domain %s's DeadLetterQueueUrl %s is not a queue of the built-in queue service at --endpoint %s (%s): "+
			"name the SQS-compatible service that serves it with --sqs-endpoint URL (env OPENPROFILES_SQS_ENDPOINT)", domain, queueURL, endpoint, why)
	}
	if _, ok := localsqs.QueueURLName(queueURL); !ok {
		return refuse("not a URL of the form scheme://host/account/queue-name")
	}
	_, err := queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &queueURL,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	var noQueue *sqstypes.QueueDoesNotExist
	if errors.As(err, &noQueue) {
		return refuse("no such queue of its account there")
	}
	return err
}

type dlq struct {
	profiles *customerprofiles.Client
	queues   *sqs.Client
	url      string
	domain   string // the letters of this domain are replayed
	stdout   io.Writer
	logger   *slog.Logger // of the hold of replay's letters
	// endWait is how long the receive that would end a run waits for a
	// message (a long poll): 0 on the built-in queues, whose short polls
	// read the whole queue.
	endWait time.Duration
	dlqTuning
}

// errHeldFull stops receiveAll when a run holds maxHeld messages.
var errHeldFull = errors.New("dlq: maxHeld messages held")

// receiveAll receives every message once, hiding each for visibility, and
// calls fn with each batch of messages it had not received yet and a time
// before they were received. An answer with none new ends it: at once on
// the built-in queues; on an external service (endWait) only the answer of
// a receive that waited endWait for a message (a long poll, which SQS
// answers from all its servers), after a short poll answered none. fn's
// error ends it too, and is returned.
func (q *dlq) receiveAll(ctx context.Context, visibility time.Duration, fn func(batch []profiles.QueueMessage, since time.Time) error) error {
	return q.receiveSeen(ctx, map[string]bool{}, visibility, fn)
}

// receiveSeen is receiveAll, seen the IDs of the messages received before
// (it adds those it receives).
func (q *dlq) receiveSeen(ctx context.Context, seen map[string]bool, visibility time.Duration, fn func(batch []profiles.QueueMessage, since time.Time) error) error {
	var wait time.Duration
	for {
		since := time.Now()
		out, err := q.queues.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &q.url, MaxNumberOfMessages: 10,
			VisibilityTimeout: int32(visibility.Seconds()), WaitTimeSeconds: int32(wait / time.Second)})
		if err != nil {
			return err
		}
		var fresh []profiles.QueueMessage
		for _, m := range out.Messages {
			if seen[aws.ToString(m.MessageId)] {
				continue
			}
			seen[aws.ToString(m.MessageId)] = true
			fresh = append(fresh, profiles.QueueMessage{ID: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body)})
		}
		if len(fresh) == 0 {
			if wait == 0 && q.endWait > 0 {
				wait = q.endWait
				continue
			}
			return nil
		}
		wait = 0
		if err := fn(fresh, since); err != nil {
			return err
		}
	}
}

// list prints the dead letters. It receives each once (hidden while it
// reads the queue, so that none is listed twice) and then makes them
// visible again: a replay right after finds them all.
func (q *dlq) list(ctx context.Context) error {
	items := []any{}
	var handles []string
	err := q.receiveAll(ctx, 30*time.Second, func(batch []profiles.QueueMessage, _ time.Time) error {
		for _, m := range batch {
			handles = append(handles, m.ReceiptHandle)
			var dl service.DeadLetter
			if json.Unmarshal([]byte(m.Body), &dl) != nil {
				items = append(items, map[string]any{"Unreadable": m.Body})
				continue
			}
			items = append(items, dl)
		}
		if len(handles) >= q.maxHeld {
			return errHeldFull
		}
		return nil
	})
	more := errors.Is(err, errHeldFull)
	if more {
		err = nil
	}
	if rerr := q.release(context.WithoutCancel(ctx), handles); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	out := map[string]any{"QueueUrl": q.url, "DeadLetters": items}
	if more {
		out["More"] = fmt.Sprintf(moreNote, len(handles))
	}
	return printJSON(q.stdout, out)
}

// release makes received messages visible again at once.
func (q *dlq) release(ctx context.Context, handles []string) error {
	for len(handles) > 0 {
		batch := handles[:min(len(handles), 10)]
		handles = handles[len(batch):]
		entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, len(batch))
		for i, h := range batch {
			entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h), VisibilityTimeout: 0}
		}
		out, err := q.queues.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &q.url, Entries: entries})
		if err != nil {
			return fmt.Errorf("dlq: the letters listed stay hidden until their visibility timeout: %w", err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("dlq: %d letters listed stay hidden until their visibility timeout: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

func (q *dlq) replay(ctx context.Context) error {
	// Take every message first (hidden for the run), so that the ones sent
	// back with one more attempt are not tried again in this run; held
	// until the replay is done with them, however long it takes: a letter
	// another reader (a listing, a second replay) received since the hold
	// ran out is left to it, never ingested again nor deleted on a stale
	// receipt handle (a delete that deletes nothing). The holds are
	// renewed from the first batch received on: receiving a long queue may
	// take longer than a hold. A queue longer than maxHeld is taken and
	// replayed maxHeld messages at a time (receiveInChunks); the letters
	// sent back are known by their IDs, and not tried again either.
	h := service.HoldDeadLetters(ctx, &awssqs.Queues{Client: q.queues, Logger: q.logger}, q.logger, q.url, q.hold, nil, time.Now())
	var replayed, failed, cut, unreadable, other int
	sentBack := map[string]bool{} // the IDs of the letters sent back
	held, more, err := q.receiveInChunks(ctx, h, func(msgs []profiles.QueueMessage) ([]profiles.QueueMessage, error) {
		var keep []profiles.QueueMessage // left in the queue
		for i, m := range msgs {
			if sentBack[m.ID] { // sent back by this run, failed already
				keep = append(keep, m)
				continue
			}
			var dl service.DeadLetter
			if json.Unmarshal([]byte(m.Body), &dl) != nil || dl.DomainName == "" {
				// Not a dead letter (anyone who may send to the queue
				// may send anything, JSON of another shape too): handed
				// back as it is, visible at once.
				unreadable++
				keep = append(keep, m)
				continue
			}
			if dl.DomainName != q.domain {
				other++
				keep = append(keep, m)
				continue
			}
			if dl.ObjectTruncated {
				// Its object is cut: only a server, which reads the
				// whole copy from the store, can ingest it (the
				// console's replay). The cut copy is never ingested in
				// its place, and the letter stays as it is, with its
				// own error.
				cut++
				keep = append(keep, m)
				continue
			}
			if err := q.replayOne(ctx, h, m, dl, &replayed, &failed, sentBack); err != nil {
				// This letter goes back too, visible at once: its
				// delete, or the send of its new attempt, failed (a
				// letter replayed but not deleted comes back sooner than
				// after its hold; one sent again is in the queue twice,
				// as it would be after the hold).
				return append(keep, msgs[i:]...), err
			}
		}
		return keep, nil
	})
	h.Release(context.WithoutCancel(ctx), held)
	if err != nil {
		return err
	}
	out := map[string]any{"Replayed": replayed, "StillFailing": failed}
	if other > 0 {
		out["OtherDomains"] = other
	}
	if unreadable > 0 {
		out["Unreadable"] = unreadable
	}
	if cut > 0 {
		out["Cut"] = cut
		out["CutNote"] = "Letters whose object was cut to fit a queue message are left as they are: replay them from the console, which reads their whole objects from the store (a letter of an earlier version, with ObjectFile: from the console of the server that wrote it)."
	}
	if more {
		out["More"] = fmt.Sprintf(moreNote, len(held))
	}
	return printJSON(q.stdout, out)
}

// receiveInChunks receives the queue as receiveAll does, holding each
// batch with h from when it is received, and calls process with the
// messages received whenever the run holds maxHeld messages, and once at
// the end of the queue. process does its work on them and returns those
// it leaves in the queue, which the run goes on holding; on error, also
// those it did not get to. Receiving resumes while the run holds fewer
// than maxHeld; else it stops there, with more. It returns the messages
// held, for the caller to hand back. Deleting what it processes, a run
// holds only what it leaves, however long the queue: Amazon SQS refuses
// to receive past 120,000 messages in flight.
func (q *dlq) receiveInChunks(ctx context.Context, h *service.DeadLetterHolder, process func([]profiles.QueueMessage) ([]profiles.QueueMessage, error)) (held []profiles.QueueMessage, more bool, err error) {
	seen := map[string]bool{}
	for {
		var chunk []profiles.QueueMessage
		err := q.receiveSeen(ctx, seen, q.hold, func(batch []profiles.QueueMessage, since time.Time) error {
			h.Add(batch, since)
			chunk = append(chunk, batch...)
			q.received(batch)
			if len(held)+len(chunk) >= q.maxHeld {
				return errHeldFull
			}
			return nil
		})
		full := errors.Is(err, errHeldFull)
		if err != nil && !full {
			return append(held, chunk...), false, err
		}
		kept, err := process(chunk)
		held = append(held, kept...)
		switch {
		case err != nil:
			return held, false, err
		case !full:
			return held, false, nil
		case len(held) >= q.maxHeld:
			return held, true, nil
		}
	}
}

// received calls afterReceive, if set, with the IDs of batch.
func (q *dlq) received(batch []profiles.QueueMessage) {
	if q.afterReceive == nil {
		return
	}
	ids := make([]string, len(batch))
	for i, m := range batch {
		ids[i] = m.ID
	}
	q.afterReceive(ids)
}

// purge deletes the dead letters of the domain, and leaves the rest of
// the queue as it is: a queue may serve several domains (PurgeQueue
// deleted their letters too, and anything else sent to the queue). Each
// letter is deleted only while this run holds it (another reader's since
// its hold ran out is left to it). A queue longer than maxHeld is taken
// and purged maxHeld messages at a time (receiveInChunks).
func (q *dlq) purge(ctx context.Context) error {
	h := service.HoldDeadLetters(ctx, &awssqs.Queues{Client: q.queues, Logger: q.logger}, q.logger, q.url, q.hold, nil, time.Now())
	var deleted, unreadable, other int
	held, more, err := q.receiveInChunks(ctx, h, func(msgs []profiles.QueueMessage) ([]profiles.QueueMessage, error) {
		var keep []profiles.QueueMessage
		for i, m := range msgs {
			var dl service.DeadLetter
			if json.Unmarshal([]byte(m.Body), &dl) != nil || dl.DomainName == "" {
				unreadable++
				keep = append(keep, m)
				continue
			}
			if dl.DomainName != q.domain {
				other++
				keep = append(keep, m)
				continue
			}
			if !h.Keep(ctx, m) {
				continue
			}
			if _, err := q.queues.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.url, ReceiptHandle: aws.String(m.ReceiptHandle)}); err != nil {
				return append(keep, msgs[i:]...), err
			}
			h.Done(m.ID)
			deleted++
		}
		return keep, nil
	})
	h.Release(context.WithoutCancel(ctx), held)
	if err != nil {
		return err
	}
	out := map[string]any{"Deleted": deleted, "QueueUrl": q.url}
	if other > 0 {
		out["OtherDomains"] = other
	}
	if unreadable > 0 {
		out["Unreadable"] = unreadable
	}
	if more {
		out["More"] = fmt.Sprintf(moreNote, len(held))
	}
	return printJSON(q.stdout, out)
}

// replayOne ingests one dead letter dl, m's body, again and deletes it;
// one that fails again is sent back with one more attempt and the new
// error. A letter whose hold h cannot vouch for (another reader's now) is
// left alone.
func (q *dlq) replayOne(ctx context.Context, h *service.DeadLetterHolder, m profiles.QueueMessage, dl service.DeadLetter, replayed, failed *int, sentBack map[string]bool) error {
	if !h.Keep(ctx, m) {
		return nil
	}
	if q.beforePut != nil {
		q.beforePut()
	}
	_, err := q.profiles.PutProfileObject(ctx, &customerprofiles.PutProfileObjectInput{
		DomainName: aws.String(dl.DomainName), ObjectTypeName: aws.String(dl.ObjectTypeName), Object: aws.String(dl.Object)})
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // stopped (Ctrl-C): the letter goes back as it was
	}
	if err != nil {
		// Keep it: a new message with one more attempt and the new error.
		*failed++
		dl.Attempts++
		dl.ErrorCode, dl.ErrorMessage = replayFailure(err)
		b, _ := json.Marshal(dl)
		sent, err := q.queues.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.url, MessageBody: aws.String(string(b))})
		if err != nil {
			return err
		}
		sentBack[aws.ToString(sent.MessageId)] = true
	} else {
		*replayed++
	}
	if !h.Keep(ctx, m) {
		q.logger.Warn("a dead letter replayed stays in its queue: its hold ran out before its message was deleted", "domain", q.domain, "id", m.ID)
		return nil
	}
	if _, err := q.queues.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.url, ReceiptHandle: aws.String(m.ReceiptHandle)}); err != nil {
		return err
	}
	h.Done(m.ID)
	return nil
}

// replayFailure returns the ErrorCode and ErrorMessage of a dead letter
// whose replay failed with err, as the server words them when it writes
// the letter (service's dead-letter codes): the product brief's fixed
// messages name their reason; other failures are named by their API
// error's kind (a letter kept the code of its first failure, with the
// message of the new one).
func replayFailure(err error) (code, message string) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "INTERNAL", err.Error()
	}
	message = ae.ErrorMessage()
	for reason, msg := range map[string]string{
		profiles.ReasonKeyMissing:     profiles.MsgKeyMissing,
		profiles.ReasonRateExceeded:   profiles.MsgRateExceeded,
		profiles.ReasonAmbiguousKeys:  profiles.MsgAmbiguousKeys,
		profiles.ReasonKMSKeyAccess:   profiles.MsgKMSKeyAccess,
		profiles.ReasonKMSKeyInvalid:  profiles.MsgKMSKeyInvalid,
		profiles.ReasonKMSKeyState:    profiles.MsgKMSKeyState,
		profiles.ReasonObjectTooLarge: strings.Split(profiles.MsgObjectTooLarge, "%")[0],
	} {
		if strings.HasPrefix(message, msg) {
			return reason, message
		}
	}
	switch ae.ErrorCode() {
	case "ResourceNotFoundException":
		return "NOT_FOUND", message
	case "BadRequestException":
		return "INVALID", message
	case "ThrottlingException":
		return profiles.ReasonRateExceeded, message
	case "AccessDeniedException":
		return "FORBIDDEN", message
	}
	return "INTERNAL", message
}
