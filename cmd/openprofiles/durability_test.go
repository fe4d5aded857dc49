package main_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// TestDurability_KillDuringBenchIngest kills the server (SIGKILL) at random
// points of `openprofiles bench` ingest runs, several times, and restarts
// it on the same data dir: every object acknowledged (200) before a kill is
// there, each person has one profile, and SQLite's integrity check passes.
// Not timed; scaled down to run in seconds.
func TestDurability_KillDuringBenchIngest(t *testing.T) {
	bin := mustBuildBinary(t)
	dataDir := t.TempDir()
	acks := filepath.Join(t.TempDir(), "acks")
	env := []string{"OPENPROFILES_ACCESS_KEY_ID=" + testKeyID, "OPENPROFILES_SECRET_ACCESS_KEY=" + testSecret,
		"OPENPROFILES_STORE=sqlite"}
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": testKeyID, "AWS_SECRET_ACCESS_KEY": testSecret,
		"AWS_SESSION_TOKEN": "", "AWS_REGION": testRegion, "AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull} {
		t.Setenv(k, v)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))

	const rounds, perRound = 4, 1000
	for round := range rounds {
		n, err := startNode(t, bin, fmt.Sprintf("node%d", round), dataDir, env)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- main.Run(ctx, []string{"bench", "--endpoint", n.url, "--scenarios", "ingest",
				"--objects", fmt.Sprint(perRound), "--offset", fmt.Sprint(round * perRound), "--concurrency", "16",
				"--ack-file", acks}, nil, io.Discard, io.Discard, os.Getenv)
		}()
		// Kill at a random point: from while the domain is set up to late
		// in the run.
		time.Sleep(time.Duration(50+rng.IntN(1200)) * time.Millisecond)
		n.mustKill(t)
		select {
		case <-done: // the requests after the kill fail
		case <-time.After(time.Minute):
			t.Fatal("bench did not end after the server was killed")
		}
		cancel()
	}

	n, err := startNode(t, bin, "final", dataDir, env)
	if err != nil {
		t.Fatal(err)
	}
	// Acknowledged objects by person.
	f, err := os.Open(acks)
	if err != nil {
		t.Fatalf("no object was acknowledged in %d rounds: %v", rounds, err)
	}
	byPerson := map[int][]string{}
	total := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var i, person int
		var key string
		if _, err := fmt.Sscan(sc.Text(), &i, &person, &key); err != nil {
			t.Fatalf("ack line %q: %v", sc.Text(), err)
		}
		byPerson[person] = append(byPerson[person], key)
		total++
	}
	f.Close()
	if total == 0 {
		t.Fatalf("no object was acknowledged in %d rounds", rounds)
	}
	t.Logf("%d objects of %d persons acknowledged before the kills", total, len(byPerson))

	for person, keys := range byPerson {
		email := fmt.Sprintf("person%d@example.com", person)
		out, err := n.client.SearchProfiles(t.Context(), &customerprofiles.SearchProfilesInput{
			DomainName: aws.String("bench"), KeyName: aws.String("_email"), Values: []string{email}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Items) != 1 {
			t.Errorf("%s: %d profiles, want 1", email, len(out.Items))
			continue
		}
		objs, err := n.client.ListProfileObjects(t.Context(), &customerprofiles.ListProfileObjectsInput{
			DomainName: aws.String("bench"), ObjectTypeName: aws.String("contact"), ProfileId: out.Items[0].ProfileId})
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, o := range objs.Items {
			have[aws.ToString(o.ProfileObjectUniqueKey)] = true
		}
		for _, k := range keys {
			if !have[k] {
				t.Errorf("%s: acknowledged object %s is missing", email, k)
			}
		}
	}
	n.mustStop(t)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "openprofiles.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || strings.TrimSpace(check) != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
	var fk int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fk); err != nil || fk != 0 {
		t.Errorf("foreign_key_check: %d violations, %v", fk, err)
	}
}
