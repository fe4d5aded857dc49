// Command openprofiles is the OpenProfiles server and its command-line
// client: `openprofiles serve` runs the Customer Profiles API on embedded
// SQLite; the other subcommands talk to a running server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := stopOnSignals(os.Stderr, os.Exit)
	defer stop()
	err := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(helpExitCode(os.Args[1:]))
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "openprofiles:", err)
		os.Exit(1)
	}
}

// stopOnSignals returns a context that SIGINT, SIGTERM or SIGHUP cancels,
// its cause a receivedSignal: `serve` then drains the requests in flight
// and closes the store (SIGHUP does the same as SIGTERM: the server has
// nothing to reload, as it reads its TLS files again by itself). A SIGINT
// or SIGTERM after that stops the process at once: it says so on stderr
// and exits with status 1 (through exit), for an operator who will not
// wait for the drain. A SIGHUP after the first signal changes nothing
// (a closing terminal may send one). stop stops the watching.
func stopOnSignals(stderr io.Writer, exit func(int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		var first os.Signal
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				if first == nil {
					first = sig
					cancel(receivedSignal{sig})
					continue
				}
				if sig == syscall.SIGHUP {
					continue
				}
				fmt.Fprintf(stderr, "openprofiles: %s while stopping after %s: stopping at once, without waiting for the requests in flight\n",
					signalName(sig), signalName(first))
				exit(1)
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(context.Canceled)
	}
}

// receivedSignal is the cause of the cancellation of main's context.
type receivedSignal struct{ os.Signal }

func (r receivedSignal) Error() string { return "received " + signalName(r.Signal) }

// signalName names the signals main watches as operators write them.
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}

// helpExitCode is the exit status of a command that printed its usage:
// 0 when the command line asked for it (-h, -help or --help before any
// "--", or a help command or verb), 2 when the usage answers a command
// line that is incomplete.
func helpExitCode(args []string) int {
	for i, a := range args {
		switch {
		case a == "--":
			return 2
		case a == "-h" || a == "-help" || a == "--help":
			return 0
		case a == "help" && i <= 1: // "openprofiles help", "openprofiles iam help"
			return 0
		}
	}
	return 2
}

const usage = `OpenProfiles: a self-hosted Amazon Connect Customer Profiles service.

Usage:

	openprofiles <command> [flags]

Commands:

	serve      run the server (Customer Profiles API on embedded SQLite or PostgreSQL)
	backup     write a restorable backup of a server's data dir (while it runs)
	restore    check a backup and restore it into a data dir
	domains    list or show domains of a running server
	import     ingest a file of JSON objects (failures go to the dead-letter queue)
	dlq        list, replay or purge a domain's dead-letter queue
	iam        manage users, roles, access keys and policies (like 'aws iam')
	instances  create, list and switch contact-center instances
	contacts   send or simulate contact records of an instance
	bench      measure ingestion, search and import (starts its own server)
	version    print the version

Run 'openprofiles <command> --help' for the flags of a command.
`

// Run runs the subcommand named by args[0].
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr, getenv)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr, getenv)
	case "restore":
		return runRestore(ctx, args[1:], stdout, stderr, getenv)
	case "domains":
		return runDomains(ctx, args[1:], stdout, stderr, getenv)
	case "import":
		return runImport(ctx, args[1:], stdout, stderr, getenv)
	case "dlq":
		return runDlq(ctx, args[1:], stdout, stderr, getenv)
	case "iam":
		return runIAM(ctx, args[1:], stdout, stderr, getenv)
	case "instances":
		return runInstances(ctx, args[1:], stdout, stderr, getenv)
	case "contacts":
		return runContacts(ctx, args[1:], stdout, stderr, getenv)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version":
		return runVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
