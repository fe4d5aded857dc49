package looplog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/openprofiles/profiles/internal/looplog"
)

// TestLoop: the first failure at ERROR, the same again (or one whose
// message differs in numbers only) at DEBUG, another one at ERROR, the
// first again at DEBUG, a success after failures once at INFO, and a
// success after a success nothing; after a success, a failure is at
// ERROR again.
func TestLoop(t *testing.T) {
	var buf bytes.Buffer
	l := &looplog.Loop{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), Name: "sweep"}
	ctx := t.Context()
	down, other := errors.New("database down"), errors.New("disk full")
	l.Failed(ctx, down, "domain", "d")
	l.Failed(ctx, down)
	l.Failed(ctx, down)
	l.Failed(ctx, other)
	l.Failed(ctx, down)
	l.Failed(ctx, errors.New("read tcp 127.0.0.1:4001->127.0.0.1:5432: connection reset"))
	l.Failed(ctx, errors.New("read tcp 127.0.0.1:4002->127.0.0.1:5432: connection reset"))
	l.Succeeded(ctx)
	l.Succeeded(ctx)
	l.Failed(ctx, down)

	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		s := rec["level"].(string) + " " + rec["msg"].(string)
		for _, k := range []string{"err", "loop", "failed_runs", "domain"} {
			if v, ok := rec[k]; ok {
				s += fmt.Sprintf(" %s=%#v", k, v)
			}
		}
		got = append(got, s)
	}
	want := []string{
		`ERROR sweep err="database down" domain="d"`,
		`DEBUG sweep err="database down" failed_runs=2`,
		`DEBUG sweep err="database down" failed_runs=3`,
		`ERROR sweep err="disk full"`,
		`DEBUG sweep err="database down" failed_runs=5`,
		`ERROR sweep err="read tcp 127.0.0.1:4001->127.0.0.1:5432: connection reset"`,
		`DEBUG sweep err="read tcp 127.0.0.1:4002->127.0.0.1:5432: connection reset" failed_runs=7`,
		`INFO recovered loop="sweep" failed_runs=7`,
		`ERROR sweep err="database down"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
