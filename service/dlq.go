package service

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
)

// DeadLetter is the message OpenProfiles writes to a domain's dead-letter
// queue (profiles.DeadLetter).
type DeadLetter = profiles.DeadLetter

// maxDeadLetterBytes is the largest message body sent to a queue (SQS's
// limit, less room for the other members).
const maxDeadLetterBytes = 256*1024 - 4096

// IngestAsync ingests an object that arrived asynchronously (from source).
// When it fails, the object and the error go to the domain's dead-letter
// queue, or, while the queue cannot be reached, to the durable local spool;
// the error is returned too, for the caller's counts. Nothing is lost.
func (s *Service) IngestAsync(ctx context.Context, domain, objectType, obj, source string) (string, error) {
	key, err := s.PutProfileObject(ctx, domain, objectType, obj)
	if err == nil {
		return key, nil
	}
	if ctx.Err() != nil {
		return "", err
	}
	return "", s.sendToDeadLetters(ctx, domain, objectType, obj, source, err)
}

// sendToDeadLetters sends an object that failed with err, and err, to the
// domain's dead-letter queue (or the spool), and returns err (with the
// queue's error, if it failed too).
func (s *Service) sendToDeadLetters(ctx context.Context, domain, objectType, obj, source string, err error) error {
	if derr := s.deadLetterObject(ctx, domain, objectType, obj, source, err); derr != nil {
		return fmt.Errorf("%w (and the dead-letter queue: %v)", err, derr)
	}
	return err
}

// deadLetterObject sends an object that failed with err, and err, to the
// domain's dead-letter queue (or the spool), and returns the queue's
// error.
func (s *Service) deadLetterObject(ctx context.Context, domain, objectType, obj, source string, err error) error {
	dl := DeadLetter{Version: 1, DomainName: domain, ObjectTypeName: objectType, Source: source,
		ErrorCode: deadLetterCode(err), ErrorMessage: profiles.ErrorMessage(err), Object: obj,
		FirstFailureAt: s.now(), Attempts: 1}
	return s.deadLetter(ctx, &dl)
}

// deadLetterCode is the stable code of a failure: its reason, else the
// error code.
func deadLetterCode(err error) string {
	if r := profiles.ErrorReason(err); r != "" {
		return r
	}
	switch profiles.ErrorCode(err) {
	case profiles.ENOTFOUND:
		return "NOT_FOUND"
	case profiles.EINVALID:
		return "INVALID"
	case profiles.EQUOTA:
		return "QUOTA"
	case profiles.ETHROTTLED:
		return profiles.ReasonRateExceeded
	case profiles.EFORBIDDEN:
		return "FORBIDDEN"
	}
	return "INTERNAL"
}

// deadLetter sends a dead letter to the domain's queue; while the queue
// cannot be reached, or throttles, it goes to the spool. A domain without
// a queue (or deleted) keeps nothing: the caller reports the failure. A
// domain that cannot be read is not "no queue": the letter waits in the
// spool for the domain to be read (an error if it cannot, or if the
// letter is too large to be sent without a whole copy in the store; a
// replay then keeps the message rather than delete it with nothing sent).
func (s *Service) deadLetter(ctx context.Context, dl *DeadLetter) error {
	result := "failed"
	defer func() { s.Metrics.deadLetter(result) }()
	d, err := s.Store.FindDomain(ctx, dl.DomainName)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		result = "none"
		return nil
	} else if err != nil {
		// The store cannot be reached (a database outage): which queue
		// the domain names is unknown until it is back. The letter
		// waits in the spool, and the delivery that finds its domain
		// sends it there (DeliverSpooled). One too large for a queue
		// message would need its whole copy in the store: it fails.
		body, merr := json.Marshal(dl)
		if merr != nil || len(body) > maxDeadLetterBytes || profiles.ErrorCode(err) != profiles.EINTERNAL || s.Queues == nil {
			return err
		}
		s.Logger.Warn("the domain of a dead letter cannot be read; spooled", "domain", dl.DomainName, "err", err)
		if err := s.spool.add(spooled{Domain: dl.DomainName, Body: string(body), At: s.now()}); err != nil {
			return err
		}
		result = "spooled"
		return nil
	}
	if d.DeadLetterQueueURL == "" || s.Queues == nil {
		result = "none"
		return nil
	}
	body, err := json.Marshal(dl)
	if err != nil {
		return err
	}
	if len(body) > maxDeadLetterBytes {
		wasCut := dl.ObjectTruncated
		body, err = s.truncate(ctx, dl)
		if !wasCut && dl.ObjectCopy != "" {
			// The whole copy kept for this letter is the letter's alone:
			// should the letter go neither to the queue nor to the spool
			// (refused, or too large), no message names it, and it goes
			// (the caller, told of the failure, may send the object again,
			// which keeps another copy).
			defer func() {
				if result == "failed" {
					s.dropCopy(ctx, dl, letterCopy{name: dl.ObjectCopy})
				}
			}()
		}
		if err != nil {
			return err
		}
	}
	err = s.Queues.Send(ctx, d.DeadLetterQueueURL, string(body), s.AccountID, s.DomainARN(dl.DomainName))
	switch profiles.ErrorCode(err) {
	case "":
		result = "queued"
		return nil
	case profiles.EINTERNAL, profiles.ETHROTTLED: // unreachable or busy: keep it and try again later
		s.Logger.Warn("dead-letter queue unreachable or throttling; spooled", "domain", dl.DomainName, "err", err)
		if err := s.spool.add(spooled{URL: d.DeadLetterQueueURL, Domain: dl.DomainName, Body: string(body)}); err != nil {
			return err
		}
		result = "spooled"
		return nil
	}
	return err
}

// dlqObjectsDir is where earlier versions kept the whole objects of dead
// letters cut to fit a queue message: beside the spool, in the data dir,
// one directory per domain. The copies are in the store now; a replay reads
// the files of letters written before (wholeObject).
func (s *Service) dlqObjectsDir() string {
	return filepath.Join(filepath.Dir(s.spool.path), "dlq-objects")
}

// deadLetterCopyDir returns the directory of the whole copies of a domain's
// dead letters written by an earlier version. A domain name is letters,
// digits, '-' and '_' (the API checks it); any other is refused rather than
// joined to a path.
func (s *Service) deadLetterCopyDir(domain string) (string, error) {
	if domain == "" || len(domain) > 64 || strings.Trim(domain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return "", profiles.Errorf(profiles.EINVALID, "dead letter of domain %q: not a domain name", domain)
	}
	return filepath.Join(s.dlqObjectsDir(), domain), nil
}

// deadLetterCopyRecord is what a whole copy's encryption binds it to: its
// domain, its object type and its name (the store's copy's, or the file's
// of an earlier version), which is its letter's alone.
func deadLetterCopyRecord(dl *DeadLetter, name string) profiles.RecordRef {
	return profiles.RecordRef{Domain: dl.DomainName, Kind: profiles.RecordDeadLetter, ObjectType: dl.ObjectTypeName, ID: name}
}

// truncate cuts the message's copy of a too large object to fit a queue
// message, and keeps the object whole in the store (keepWholeCopy), where
// every node replays it. A letter sent again already cut (a replay that
// failed) keeps its copy and has its error message cut instead.
func (s *Service) truncate(ctx context.Context, dl *DeadLetter) ([]byte, error) {
	if !dl.ObjectTruncated {
		name, err := s.keepWholeCopy(ctx, dl)
		if err != nil {
			return nil, err
		}
		// The message names the copy.
		dl.ObjectTruncated, dl.ObjectSize, dl.ObjectCopy = true, len(dl.Object), name
		obj := dl.Object
		for n := len(obj) / 2; n > 0; n /= 2 {
			for n > 0 && !utf8.RuneStart(obj[n]) {
				n--
			}
			dl.Object = obj[:n]
			body, err := json.Marshal(dl)
			if err != nil || len(body) <= maxDeadLetterBytes {
				return body, err
			}
		}
		dl.Object = ""
	}
	// Too large without the object: the error message is (an error
	// quoting what failed); cut it too, once.
	dl.ErrorMessage = truncate(dl.ErrorMessage, 1000)
	body, err := json.Marshal(dl)
	if err == nil && len(body) > maxDeadLetterBytes {
		err = fmt.Errorf("a dead letter of domain %s is larger than a queue message even without its object", dl.DomainName)
	}
	return body, err
}

// keepWholeCopy keeps the object of a letter about to be cut whole, as a
// copy in the store sealed with the domain's KMS key and bound to the
// domain, the object type and the copy's name, and returns that name. The
// copy is this letter's alone (a random name): a replay that ingests it, or
// the letter's delete, removes it, and no other letter needs it. When the
// domain's key cannot seal it, no copy is kept (rather than one in plain
// text), the name is "" and the letter's error says so.
func (s *Service) keepWholeCopy(ctx context.Context, dl *DeadLetter) (string, error) {
	if s.DeadLetterCopies == nil {
		dl.ErrorMessage = truncate(dl.ErrorMessage, 1000) + fmt.Sprintf(" The whole object (%d bytes) is not kept: this server keeps no copies of dead letters.", len(dl.Object))
		return "", nil
	}
	var random [16]byte
	rand.Read(random[:])
	name := hex.EncodeToString(random[:])
	sealed, err := s.crypt.Seal(ctx, deadLetterCopyRecord(dl, name), []byte(dl.Object))
	switch code := profiles.ErrorCode(err); {
	case err == nil:
	case code == profiles.EFORBIDDEN || code == profiles.EINVALID:
		// The domain's key cannot be used (often why the object
		// failed): the whole object is not kept in plain text; the
		// letter keeps its first part and says so.
		s.Logger.Warn("large dead letter cut without a whole copy: the domain's key cannot seal it", "domain", dl.DomainName, "bytes", len(dl.Object), "err", err)
		dl.ErrorMessage = truncate(dl.ErrorMessage, 1000) + fmt.Sprintf(" The whole object (%d bytes) is not kept: it cannot be sealed with the domain's KMS key (%s)", len(dl.Object), profiles.ErrorMessage(err))
		return "", nil
	default:
		return "", fmt.Errorf("the object (%d bytes) is too large for a queue message and its whole copy cannot be sealed: %w", len(dl.Object), err)
	}
	// Kept before the message that names it is sent, in one write, with
	// the time of this server's clock, which its sweep compares.
	c := &profiles.DeadLetterCopy{DomainName: dl.DomainName, Name: name, Data: sealed, CreatedAt: s.now()}
	if err := s.DeadLetterCopies.PutDeadLetterCopy(ctx, c); err != nil {
		return "", fmt.Errorf("the object (%d bytes) is too large for a queue message and its whole copy cannot be kept: %w", len(dl.Object), err)
	}
	return name, nil
}

// CheckDeadLetterQueue makes sure the service may send to a queue for a
// domain. Returns EINVALID saying what is missing.
func (s *Service) checkQueue(ctx context.Context, url, domain string) error {
	if url == "" || s.Queues == nil {
		return nil
	}
	err := s.Queues.CheckQueue(ctx, url, s.AccountID, s.DomainARN(domain))
	switch profiles.ErrorCode(err) {
	case "":
		return nil
	case profiles.ENOTFOUND, profiles.EFORBIDDEN, profiles.EINVALID:
		return profiles.Errorf(profiles.EINVALID, "DeadLetterQueueUrl %s: %s", url, profiles.ErrorMessage(err))
	}
	return err
}

// spooled is a dead letter waiting for its queue. URL is empty for a
// letter spooled while its domain could not be read: the queue is the
// one the domain names at the delivery.
type spooled struct {
	URL    string `json:"url"`
	Domain string `json:"domain"`
	Body   string `json:"body"`
	// At is when a letter without URL was spooled: a domain of its
	// name created after it is not the letter's (DeliverSpooled).
	At time.Time `json:"at,omitzero"`
}

// spool is the durable local spool: dead letters that could not be sent,
// one JSON line each, in a file of the data dir, until the queue is back.
type spool struct {
	mu   sync.Mutex
	path string
}

// SetSpool sets the file of the spool of undelivered dead letters.
func (s *Service) SetSpool(path string) { s.spool.path = path }

func (sp *spool) add(m spooled) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.path == "" {
		return errors.New("no spool for undelivered dead letters")
	}
	f, err := os.OpenFile(sp.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(m)
	line := append(b, '\n')
	// A line cut short (a write that failed, the disk full, or a crash
	// of the machine mid-write) is ended first: this letter must not be
	// glued to it, which made both one line that does not parse, dropped
	// by the next delivery.
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if size := fi.Size(); size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err != nil {
			f.Close()
			return err
		}
		if last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := f.Write(line); err != nil {
		f.Truncate(fi.Size()) // no part of this letter stays
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// DeliverSpooled sends the spooled dead letters whose queues can be reached
// again and keeps the others; it returns how many it delivered.
func (s *Service) DeliverSpooled(ctx context.Context) (int, error) {
	sp := &s.spool
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.path == "" {
		return 0, nil
	}
	f, err := os.Open(sp.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var keep []spooled
	delivered, dropped := 0, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var m spooled
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		if m.URL == "" { // spooled while its domain could not be read
			d, err := s.Store.FindDomain(ctx, m.Domain)
			switch {
			case profiles.ErrorCode(err) == profiles.ENOTFOUND || err == nil && d.DeadLetterQueueURL == "" ||
				// A domain of that name created after the letter was
				// spooled (a minute's margin for the clocks of other
				// nodes): the letter's was deleted, and its letters
				// are not the new one's.
				err == nil && !m.At.IsZero() && m.At.Before(d.CreatedAt.Add(-time.Minute)):
				// The domain is gone, or sends its dead letters nowhere
				// now: as for a letter of such a domain, none is kept.
				s.Logger.Warn("a spooled dead letter is dropped: its domain is gone or has no dead-letter queue", "domain", m.Domain)
				dropped++
				continue
			case err != nil:
				keep = append(keep, m)
				continue
			}
			m.URL = d.DeadLetterQueueURL
		}
		if err := s.Queues.Send(ctx, m.URL, m.Body, s.AccountID, s.DomainARN(m.Domain)); err != nil {
			keep = append(keep, m)
			continue
		}
		delivered++
		s.renewDeliveredCopy(ctx, m)
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return delivered, err
	}
	if delivered == 0 && dropped == 0 {
		return 0, nil
	}
	// Rewrite the spool with what is left. Should that fail (the disk
	// full), the spool stays as it was: the letters delivered go again
	// next time, as after a crash here, and none left is lost.
	var rest bytes.Buffer
	for _, m := range keep {
		b, _ := json.Marshal(m)
		rest.Write(append(b, '\n'))
	}
	return delivered, writeFileDurably(sp.path, rest.Bytes())
}

// renewDeliveredCopy renews the store's whole copy of a cut letter just
// delivered from the spool: the copy dates from when the letter was cut,
// and the message, sent only now, may live the longest retention from now.
// A copy gone (the letter waited longer than the sweep keeps copies) is
// logged.
func (s *Service) renewDeliveredCopy(ctx context.Context, m spooled) {
	var dl DeadLetter
	if s.DeadLetterCopies == nil || json.Unmarshal([]byte(m.Body), &dl) != nil || !dl.ObjectTruncated || dl.ObjectCopy == "" || dl.DomainName != m.Domain {
		return
	}
	c, err := s.DeadLetterCopies.FindDeadLetterCopy(ctx, dl.DomainName, dl.ObjectCopy)
	if err != nil {
		s.Logger.Warn("the whole copy of a dead letter delivered from the spool is not renewed", "domain", dl.DomainName, "copy", dl.ObjectCopy, "err", err)
		return
	}
	s.renewCopy(ctx, &dl, letterCopy{name: c.Name, sealed: c.Data})
}

// writeFileDurably replaces the file at path (or creates it, mode 0600)
// with data, whole or not at all, even should the machine crash: data goes
// to a new file beside it, synced, renamed over path, and the directory is
// synced. On any error the file at path is as it was (but for an error
// syncing the directory: it may then have been replaced).
func writeFileDurably(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// deadLetterCopyMaxAge is how long the store keeps a whole copy of a cut
// dead letter that no replay or delete removed (a queue purged, a letter
// that expired): no letter names it after the longest retention of a queue
// message (SQS: 14 days; a replay that fails sends the letter again, and
// the spool's delivery sends it late, and both renew its copy), and a day
// more for the nodes' clocks.
const deadLetterCopyMaxAge = 15 * 24 * time.Hour

// deadLetterCopySweepBatch is how many copies one delete of the sweep
// removes at most.
const deadLetterCopySweepBatch = 100

// SweepDeadLetterCopies removes the whole copies of dead letters that no
// letter needs any more: in the store, those older than
// deadLetterCopyMaxAge (a deleted domain's went with it); in this node's
// data dir (dlq-objects/<domain>/, written by earlier versions), every copy
// of a domain that no longer exists, and the copies written before the
// domain of that name was created (a domain deleted and created again: its
// letters are the old domain's). DeleteDomain removes the files of the
// node it runs on; the sweep of every node removes the others. Returns how
// many copies it removed. Files are compared with the domain's creation
// with a minute's margin (the nodes' clocks).
func (s *Service) SweepDeadLetterCopies(ctx context.Context) (int, error) {
	removed := 0
	if s.DeadLetterCopies != nil {
		before := s.now().Add(-deadLetterCopyMaxAge)
		for {
			n, err := s.DeadLetterCopies.DeleteDeadLetterCopiesBefore(ctx, before, deadLetterCopySweepBatch)
			removed += n
			if err != nil {
				return removed, err
			}
			if n < deadLetterCopySweepBatch {
				break
			}
		}
	}
	if s.spool.path == "" {
		return removed, nil
	}
	dirs, err := os.ReadDir(s.dlqObjectsDir())
	if errors.Is(err, os.ErrNotExist) {
		return removed, nil
	} else if err != nil {
		return removed, err
	}
	for _, e := range dirs {
		if !e.IsDir() {
			continue // a copy of an earlier version: the README's hand replay
		}
		dir, err := s.deadLetterCopyDir(e.Name())
		if err != nil {
			continue // not a directory this server made
		}
		var created time.Time // zero: the domain is gone, every copy goes
		switch d, err := s.Store.FindDomain(ctx, e.Name()); {
		case err == nil:
			created = d.CreatedAt
		case profiles.ErrorCode(err) != profiles.ENOTFOUND:
			return removed, err
		}
		files, err := os.ReadDir(dir)
		if err != nil {
			return removed, err
		}
		for _, f := range files {
			info, err := f.Info()
			// A minute's margin for the clocks of other nodes: a copy
			// written just after the domain was created stays.
			if err != nil || (!created.IsZero() && !info.ModTime().Before(created.Add(-time.Minute))) {
				continue
			}
			if err := os.Remove(filepath.Join(dir, f.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return removed, err
			}
			removed++
		}
		if created.IsZero() {
			os.Remove(dir) // empty now, unless a copy came meanwhile
		}
	}
	return removed, nil
}

// removeDeadLetterCopies removes the whole copies of a deleted domain's
// dead letters that earlier versions wrote in this node's data dir.
func (s *Service) removeDeadLetterCopies(domain string) {
	if s.spool.path == "" {
		return
	}
	dir, err := s.deadLetterCopyDir(domain)
	if err != nil {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		s.Logger.Warn("remove the dead-letter copies of a deleted domain; the sweep goes on", "domain", domain, "err", err)
	}
}
