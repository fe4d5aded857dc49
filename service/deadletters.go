package service

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.DeadLetterService = (*Service)(nil)

// maxDeadLetterScan bounds how many messages one call reads.
const maxDeadLetterScan = 1000

// taken is a message received from a dead-letter queue and hidden.
type taken struct {
	msg   profiles.QueueMessage
	entry *profiles.DeadLetterEntry
}

// domainQueue returns the dead-letter queue URL of a domain.
func (s *Service) domainQueue(ctx context.Context, domain string) (string, error) {
	d, err := s.Store.FindDomain(ctx, domain)
	if err != nil {
		return "", domainErr(err, domain)
	}
	if d.DeadLetterQueueURL == "" || s.Queues == nil {
		return "", profiles.Errorf(profiles.EINVALID, "Domain %s has no dead-letter queue (DeadLetterQueueUrl).", domain)
	}
	return d.DeadLetterQueueURL, nil
}

// take receives up to max messages of the queue of domain, hiding them for
// the hold (deadLetterHold). The caller hands back those it keeps with release
// (h.release when h is set). A message is a dead letter of the domain
// (entry.Letter) only if it names the domain: a queue may serve several
// domains, and anyone who may send to it may write any message; the others
// are left as foreign messages.
//
// With h set, each batch is added to h as soon as it is received, so that
// the holds of the first batches are renewed while the rest of a long
// queue is received (which may itself take longer than a hold). A caller
// whose ctx ends midway gets its error, and every message received so far
// is handed back at once.
func (s *Service) take(ctx context.Context, domain, url string, max int, h *holder) ([]taken, error) {
	var out []taken
	seen := map[string]bool{}
	giveBack := func() {
		if h != nil {
			h.release(context.WithoutCancel(ctx), out)
		} else {
			s.release(context.WithoutCancel(ctx), url, out)
		}
	}
	// An empty answer of a queue service whose short polls sample (SQS)
	// is the end only after a receive that waited.
	_, sampled := s.Queues.(profiles.SampledReceiver)
	var wait time.Duration
	for len(out) < max {
		if err := ctx.Err(); err != nil {
			giveBack()
			return nil, err
		}
		since := time.Now()
		msgs, err := s.Queues.Receive(ctx, url, min(10, max-len(out)), wait, s.deadLetterHold())
		if err != nil {
			giveBack()
			return nil, err
		}
		var batch []taken
		for _, m := range msgs {
			if seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			e := &profiles.DeadLetterEntry{ID: m.ID, SentAt: m.SentAt, ReceiveCount: m.ReceiveCount, Body: m.Body}
			var dl profiles.DeadLetter
			if json.Unmarshal([]byte(m.Body), &dl) == nil && dl.DomainName == domain {
				e.Letter = &dl
			}
			batch = append(batch, taken{msg: m, entry: e})
		}
		if len(batch) == 0 {
			if sampled && wait == 0 {
				wait = profiles.EndOfQueueWait
				continue
			}
			break
		}
		wait = 0
		if h != nil {
			h.add(batch, since)
		}
		out = append(out, batch...)
	}
	return out, nil
}

// release makes the messages visible again.
func (s *Service) release(ctx context.Context, url string, ts []taken) {
	handBack(ctx, s.Queues, s.Logger, url, ts)
}

// handBack makes the messages of ts visible again at once.
func handBack(ctx context.Context, queues profiles.DeadLetters, logger *slog.Logger, url string, ts []taken) {
	for _, t := range ts {
		if err := queues.ChangeVisibility(ctx, url, t.msg.ReceiptHandle, 0); err != nil {
			logger.Warn("dead letter not handed back; visible again after the hold", "queue", url, "id", t.msg.ID, "err", err)
		}
	}
}

// ListDeadLetters returns up to max (1–1000) messages of the domain's
// dead-letter queue and leaves them in it (visible again at once).
func (s *Service) ListDeadLetters(ctx context.Context, domain string, max int) ([]*profiles.DeadLetterEntry, error) {
	if max < 1 || max > maxDeadLetterScan {
		return nil, profiles.Errorf(profiles.EINVALID, "max %d: must be from 1 to %d", max, maxDeadLetterScan)
	}
	url, err := s.domainQueue(ctx, domain)
	if err != nil {
		return nil, err
	}
	ts, err := s.take(ctx, domain, url, max, nil)
	if err != nil {
		return nil, err
	}
	s.release(context.WithoutCancel(ctx), url, ts)
	out := make([]*profiles.DeadLetterEntry, len(ts))
	for i, t := range ts {
		out[i] = t.entry
	}
	return out, nil
}

// ReplayDeadLetters ingests the dead letters of the domain with the given
// message IDs (nil: every one) again, those of an object type allow lets
// the caller put objects of (nil: all). Each ingested one is deleted; each
// that fails again is replaced by a message with one more attempt and the
// new error. Messages that are not the domain's dead letters, and letters
// allow refuses (counted in refused), are left alone. If ctx ends midway
// (the console's request), the letters not done with are handed back
// (visible again at once, as they were) and ctx's error is returned.
func (s *Service) ReplayDeadLetters(ctx context.Context, domain string, ids []string, allow func(objectType string) error) (replayed, failed, refused int, err error) {
	url, err := s.domainQueue(ctx, domain)
	if err != nil {
		return 0, 0, 0, err
	}
	// Held until the replay is done with them, however long it takes,
	// from the first batch received on.
	h := s.holdTaken(ctx, url, nil, time.Now())
	ts, err := s.take(ctx, domain, url, maxDeadLetterScan, h)
	if err != nil {
		return 0, 0, 0, err
	}
	var keep []taken
	gone := map[string]bool{} // the IDs of the messages deleted
	for i, t := range ts {
		if ids != nil && !slices.Contains(ids, t.msg.ID) || t.entry.Letter == nil {
			keep = append(keep, t)
			continue
		}
		if ctx.Err() != nil { // the request ended (the browser closed): the rest handed back
			keep = append(keep, ts[i:]...)
			err = ctx.Err()
			break
		}
		dl := t.entry.Letter
		if allow != nil && allow(dl.ObjectTypeName) != nil {
			refused++
			keep = append(keep, t)
			continue
		}
		if !h.keep(ctx, t) { // another reader's now: left to it
			continue
		}
		// A letter whose whole copy cannot be read fails as one whose
		// ingestion fails: it is kept, with the error.
		obj, kept, perr := s.wholeObject(ctx, dl)
		if perr == nil {
			_, perr = s.PutProfileObject(ctx, dl.DomainName, dl.ObjectTypeName, obj)
		}
		if perr != nil && ctx.Err() != nil {
			// Not ingested because the request ended midway: the letter
			// has not failed again, and is handed back as it is.
			keep = append(keep, ts[i:]...)
			err = ctx.Err()
			break
		}
		if perr != nil {
			failed++
			again := *dl
			again.Attempts++
			again.ErrorCode, again.ErrorMessage = deadLetterCode(perr), profiles.ErrorMessage(perr)
			// The letter is sent again, for a new retention: its copy
			// is kept as long.
			s.renewCopy(ctx, dl, kept)
			if err := s.deadLetter(ctx, &again); err != nil {
				keep = append(keep, ts[i:]...)
				h.release(context.WithoutCancel(ctx), keep)
				return replayed, failed, refused, err
			}
		} else {
			replayed++
		}
		// A delete with a stale receipt handle deletes nothing, and is
		// no error: the message is deleted, and its copy removed, only
		// if it is still this replay's. If not, it stays in the queue,
		// with its copy, for the reader that has it.
		if !h.keep(ctx, t) {
			s.Logger.Warn("a dead letter replayed stays in its queue: its hold ran out before its message was deleted", "domain", domain, "id", t.msg.ID)
			continue
		}
		if err := s.Queues.Delete(ctx, url, t.msg.ReceiptHandle); err != nil {
			// Not deleted (the queue not reached, the request ended):
			// handed back with the rest, to be found by the next replay,
			// rather than hidden for what is left of its hold.
			h.release(context.WithoutCancel(ctx), append(keep, ts[i:]...))
			return replayed, failed, refused, err
		}
		h.done(t.msg.ID)
		gone[t.msg.ID] = true
		// In, and in the store: the kept copy is not needed. Removed only
		// once the message is gone, which a replay may find again until
		// then (its delete failed, the server stopped); a crash between
		// the two leaves the copy unnamed by any message, which the
		// sweep removes. Another message naming it (this letter sent
		// again by a replay whose delete then failed) keeps it.
		if perr == nil && !copyNamedByOthers(ts, i, gone) {
			s.dropCopy(ctx, dl, kept)
		}
	}
	h.release(context.WithoutCancel(ctx), keep)
	return replayed, failed, refused, err
}

// deadLetterCopyExt ends the name of a whole copy that the previous
// version wrote in the data dir: 32 random hex digits and this.
const deadLetterCopyExt = ".sealed"

// isCopyName tells whether name is one of a whole copy: n lower-case hex
// digits and ext.
func isCopyName(name string, n int, ext string) bool {
	hexDigits, ok := strings.CutSuffix(name, ext)
	if !ok || len(hexDigits) != n {
		return false
	}
	_, err := hex.DecodeString(hexDigits)
	return err == nil && strings.ToLower(hexDigits) == hexDigits
}

// letterCopy is where the whole copy of a cut letter is: the store's copy
// of the letter's domain named name, or for a letter written before the
// copies moved to the store, a file of this node's data dir. sealed is the
// copy as read.
type letterCopy struct {
	name   string
	file   string
	sealed []byte
}

// locateCopy returns where the whole copy of a letter cut to fit a queue
// message is, from the name the letter gives it: one keepWholeCopy gives
// (ObjectCopy: a copy of the letter's domain in the store), or one the
// previous version gave its files (ObjectFile: in the letter's domain's
// directory of this node's dlq-objects). Any other name (a message names a
// copy; the queue takes messages from anyone who may send to it, in any
// domain) is an error that says why the copy is not read.
func (s *Service) locateCopy(dl *profiles.DeadLetter) (letterCopy, error) {
	switch name := dl.ObjectCopy; {
	case name != "":
		if !isCopyName(name, 32, "") {
			return letterCopy{}, profiles.Errorf(profiles.EINVALID, "The dead letter's ObjectCopy %q is not the name of a whole copy; its object is cut (%d of %d bytes) and is not ingested.",
				name, len(dl.Object), dl.ObjectSize)
		}
		if s.DeadLetterCopies == nil {
			return letterCopy{}, profiles.Errorf(profiles.EINVALID, "The whole object of this dead letter (%s) is not kept by this server (it keeps no copies).", name)
		}
		return letterCopy{name: name}, nil
	case dl.ObjectFile == "":
		return letterCopy{}, profiles.Errorf(profiles.EINVALID, "The whole object of this dead letter (%d bytes) was not kept (its error says why): its object is cut (%d bytes) and is not ingested.",
			dl.ObjectSize, len(dl.Object))
	}
	name := dl.ObjectFile
	switch {
	case isCopyName(name, 32, deadLetterCopyExt):
	case isCopyName(filepath.Base(name), 64, ".json"):
		// Written by an earlier version: named by the object's hash
		// and shared by every letter of the object, in any domain, in
		// plaintext. Nothing tells which domain wrote it.
		return letterCopy{}, profiles.Errorf(profiles.EINVALID, "The whole object of this dead letter (%d bytes) is in the file dlq-objects/%s of the server's data dir, "+
			"kept by an earlier version for any domain: a replay does not read it. Check that it is domain %s's object, put it with PutProfileObject, then delete the letter and the file.",
			dl.ObjectSize, filepath.Base(name), dl.DomainName)
	default:
		return letterCopy{}, profiles.Errorf(profiles.EINVALID, "The dead letter's ObjectFile %q is not the name of a whole copy this server keeps; its object is cut (%d of %d bytes) and is not ingested.",
			name, len(dl.Object), dl.ObjectSize)
	}
	if s.spool.path == "" {
		return letterCopy{}, profiles.Errorf(profiles.EINVALID, "The whole object of this dead letter (%s) is not kept by this server (it has no data dir).", name)
	}
	dir, err := s.deadLetterCopyDir(dl.DomainName)
	if err != nil {
		return letterCopy{}, err
	}
	return letterCopy{file: filepath.Join(dir, name)}, nil
}

// wholeObject returns the object of a letter to ingest again: the letter's
// own, or for a letter cut to fit a queue message, the whole copy kept for
// it (locateCopy), and where it is (set once the copy is read, even when it
// does not open). The copy must open with the domain's KMS key, bound to
// the domain, the object type and the copy's name, and begin with the
// letter's cut copy. A letter whose copy is missing, or does not open (the
// key disabled), fails with an error that says why; the cut copy is never
// ingested in its place.
func (s *Service) wholeObject(ctx context.Context, dl *profiles.DeadLetter) (obj string, c letterCopy, err error) {
	if !dl.ObjectTruncated {
		return dl.Object, letterCopy{}, nil
	}
	c, err = s.locateCopy(dl)
	if err != nil {
		return "", letterCopy{}, err
	}
	name := c.name
	if c.name != "" {
		stored, err := s.DeadLetterCopies.FindDeadLetterCopy(ctx, dl.DomainName, c.name)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return "", letterCopy{}, profiles.Errorf(profiles.EINVALID, "The whole object of this dead letter (copy %s of domain %s) is not kept (any more): "+
				"its object is cut (%d of %d bytes) and is not ingested.", c.name, dl.DomainName, len(dl.Object), dl.ObjectSize)
		} else if err != nil {
			return "", letterCopy{}, err
		}
		c.sealed = stored.Data
	} else {
		name = filepath.Base(c.file)
		c.sealed, err = os.ReadFile(c.file)
		if errors.Is(err, os.ErrNotExist) {
			return "", letterCopy{}, profiles.Errorf(profiles.EINVALID, "The whole object of this dead letter (%s of domain %s) is not kept by this server: "+
				"its object is cut (%d of %d bytes) and is not ingested. A letter written before the copies moved to the store (ObjectFile) "+
				"has its copy in the data dir of the server that wrote it: replay it there.", name, dl.DomainName, len(dl.Object), dl.ObjectSize)
		} else if err != nil {
			return "", letterCopy{}, err
		}
	}
	if len(c.sealed) == 0 || c.sealed[0] != sealVersion { // Open lets plaintext through
		return "", c, profiles.Errorf(profiles.EINVALID, "The whole copy %s of a dead letter of domain %s is not sealed: it is not ingested.", name, dl.DomainName)
	}
	whole, err := s.crypt.Open(ctx, deadLetterCopyRecord(dl, name), c.sealed)
	if err != nil {
		return "", c, err
	}
	if !strings.HasPrefix(string(whole), dl.Object) {
		return "", c, profiles.Errorf(profiles.EINVALID, "The whole copy %s of a dead letter of domain %s does not begin with the letter's object: it is not ingested.", name, dl.DomainName)
	}
	return string(whole), c, nil
}

// dropCopy removes the whole copy of a letter ingested or deleted, if it
// names one this server may remove; a copy already gone is no error, and
// one that stays (the store away) is logged: the sweep removes it.
func (s *Service) dropCopy(ctx context.Context, dl *profiles.DeadLetter, c letterCopy) {
	switch {
	case c.name != "":
		err := s.DeadLetterCopies.DeleteDeadLetterCopy(context.WithoutCancel(ctx), dl.DomainName, c.name)
		if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			s.Logger.Warn("the whole copy of a dead letter gone from its queue is kept until the sweep", "domain", dl.DomainName, "copy", c.name, "err", err)
		}
	case c.file != "":
		os.Remove(c.file)
	}
}

// renewCopy puts the store's whole copy of a letter that is sent again
// back with the current time, so that the sweep keeps it as long as the
// new message may live. A copy of the data dir is left as it is.
func (s *Service) renewCopy(ctx context.Context, dl *profiles.DeadLetter, c letterCopy) {
	if c.name == "" || c.sealed == nil {
		return
	}
	renewed := &profiles.DeadLetterCopy{DomainName: dl.DomainName, Name: c.name, Data: c.sealed, CreatedAt: s.now()}
	if err := s.DeadLetterCopies.PutDeadLetterCopy(ctx, renewed); err != nil {
		s.Logger.Warn("the whole copy of a dead letter sent again is not renewed: the sweep may remove it before the letter", "domain", dl.DomainName, "copy", c.name, "err", err)
	}
}

// copyNamedByOthers tells whether a letter of ts other than ts[i], and not
// deleted (gone), names the whole copy ts[i]'s letter names. Only the
// messages taken are known: the sweep removes a copy no message names.
func copyNamedByOthers(ts []taken, i int, gone map[string]bool) bool {
	dl := ts[i].entry.Letter
	if dl == nil || !dl.ObjectTruncated || dl.ObjectCopy == "" && dl.ObjectFile == "" {
		return false
	}
	for j, t := range ts {
		o := t.entry.Letter
		if j == i || gone[t.msg.ID] || o == nil || !o.ObjectTruncated {
			continue
		}
		if o.DomainName == dl.DomainName && o.ObjectCopy == dl.ObjectCopy && o.ObjectFile == dl.ObjectFile {
			return true
		}
	}
	return false
}

// DeleteDeadLetters deletes the messages of the domain's dead-letter queue
// with the given IDs, and the whole copies kept for those that are the
// domain's cut letters, and returns how many messages it deleted. If ctx
// ends midway, the messages not deleted are handed back (visible again at
// once) and ctx's error is returned.
func (s *Service) DeleteDeadLetters(ctx context.Context, domain string, ids []string) (int, error) {
	url, err := s.domainQueue(ctx, domain)
	if err != nil {
		return 0, err
	}
	// Held until the delete is done with them, from the first batch
	// received on.
	h := s.holdTaken(ctx, url, nil, time.Now())
	ts, err := s.take(ctx, domain, url, maxDeadLetterScan, h)
	if err != nil {
		return 0, err
	}
	var keep []taken
	deleted := 0
	gone := map[string]bool{} // the IDs of the messages deleted
	for i, t := range ts {
		if !slices.Contains(ids, t.msg.ID) {
			keep = append(keep, t)
			continue
		}
		if err := ctx.Err(); err != nil { // the request ended: the rest handed back
			h.release(context.WithoutCancel(ctx), append(keep, ts[i:]...))
			return deleted, err
		}
		// Not deleted, nor its copy removed, on a receipt handle that
		// may be stale (a delete that deletes nothing).
		if !h.keep(ctx, t) {
			continue
		}
		if err := s.Queues.Delete(ctx, url, t.msg.ReceiptHandle); err != nil {
			// Not deleted: handed back with the rest, not hidden for
			// what is left of its hold.
			h.release(context.WithoutCancel(ctx), append(keep, ts[i:]...))
			return deleted, err
		}
		h.done(t.msg.ID)
		deleted++
		gone[t.msg.ID] = true
		// The letter is gone: so is the whole copy kept for it, unless
		// another message still names it (the letter sent again by a
		// replay whose delete then failed: deleting one of the two must
		// not leave the other without its object).
		if dl := t.entry.Letter; dl != nil && dl.ObjectTruncated && !copyNamedByOthers(ts, i, gone) {
			if c, err := s.locateCopy(dl); err == nil {
				s.dropCopy(ctx, dl, c)
			}
		}
	}
	h.release(context.WithoutCancel(ctx), keep)
	return deleted, nil
}

// DeadLetterDepth returns the approximate number of messages in the
// domain's dead-letter queue.
func (s *Service) DeadLetterDepth(ctx context.Context, domain string) (int, error) {
	url, err := s.domainQueue(ctx, domain)
	if err != nil {
		return 0, err
	}
	return s.Queues.Depth(ctx, url)
}
