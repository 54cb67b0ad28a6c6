package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// app holds what every command shares: streams, the logger and flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// service is where Octopus service messages go. With --octopus-output
	// stdout is replaced by a writer that neutralises the service-message
	// marker in everything else, so only bluegreen's own messages are
	// obeyed; service is the raw side of the same stream.
	service   io.Writer
	logLevel  string
	logFormat string
	log       zerolog.Logger
	signal    atomic.Int32
	// secrets masks sensitive values in everything the logger writes.
	secrets *engine.SecretWriter
	// reportPath is the HTML report the last finished run wrote.
	reportPath string
}

// Main runs the CLI and returns the exit code; main() only calls os.Exit.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, service: stdout}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := a.signalContext()
	defer stop()
	err := root.ExecuteContext(ctx)
	// cobra reports an unknown command as a plain error; it is a usage
	// mistake like an unknown flag.
	if err != nil && strings.HasPrefix(err.Error(), "unknown command ") {
		err = &usageError{err}
	}
	if err != nil {
		// The error may quote a server's answer: it is printed through the
		// same filter as the logs (the run's secrets, the credentials).
		errw := engine.NewSecretWriter(stderr)
		if a.secrets != nil {
			errw = a.secrets.To(stderr)
		}
		printError(errw, err)
	}
	if f, ok := a.service.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	octopusRelease()
	return exitCode(err, int(a.signal.Load()))
}

// signalContext cancels on SIGINT or SIGTERM and remembers which came, so
// the exit code can say (130 or 143). The engine stops at its next safe
// point; a second signal exits at once.
func (a *app) signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		n := 0
		for s := range ch {
			n++
			if n > 1 {
				os.Exit(128 + int(s.(syscall.Signal)))
			}
			a.signal.Store(int32(s.(syscall.Signal)))
			a.log.Warn().Str("signal", s.String()).Msg("stopping at the next safe point; the journal is kept (press again to exit at once)")
			cancel()
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "bluegreen",
		Short: "Zero-downtime blue/green releases of EC2 applications, gated and reversible",
		Long: `bluegreen runs blue/green releases described in YAML runbooks: it validates the
whole runbook before touching anything, moves traffic step by step while expression
gates hold, journals an undo before every change, and rolls back by itself when a
gate fails. Inside Octopus Deploy it runs from its own step templates.

AWS is configured through the SDK default chain (AWS_REGION, AWS_PROFILE,
AWS_ENDPOINT_URL); Octopus through OCTOPUS_URL, OCTOPUS_API_KEY, OCTOPUS_SPACE.

Exit codes: 0 success, 1 run failed (rolled back or stopped), 2 invalid input,
3 lock held, 130/143 interrupted (state kept: resume or rollback next).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.setupLog(cmd)
		},
	}
	enumVarP(root.PersistentFlags(), &a.logLevel, "log-level", "", "info", []string{"debug", "info", "warn", "error"}, "log level: debug, info, warn, error")
	enumVarP(root.PersistentFlags(), &a.logFormat, "log-format", "", "auto", []string{"auto", "console", "json"}, "log format: auto (console on a terminal, JSON otherwise), console, json")
	_ = root.RegisterFlagCompletionFunc("log-format", fixedValues("auto", "console", "json"))
	_ = root.RegisterFlagCompletionFunc("log-level", fixedValues("debug", "info", "warn", "error"))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		a.validateCmd(), a.planCmd(), a.runCmd(), a.resumeCmd(), a.rollbackCmd(), a.statusCmd(),
		a.stepsCmd(), a.stepCmd(), a.schemaCmd(), a.versionCmd(), a.docsCmd(), a.reportCmd(),
		newTemplatesCmd(), newOctopusCmd(), a.unlockCmd(),
	)
	// Wrong argument counts are usage errors (exit 2), like unknown flags.
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	return root
}

func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		orig := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := orig(cmd, args); err != nil {
				return &usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

func (a *app) setupLog(cmd *cobra.Command) error {
	lvl, err := zerolog.ParseLevel(a.logLevel)
	if err != nil || a.logLevel == "" {
		return usagef("--log-level: expected debug, info, warn or error, found %q", a.logLevel)
	}
	out := a.stderr
	if f, _ := cmd.Flags().GetBool("octopus-output"); f {
		// Octopus shows stderr as errors; inside a step, logs go to stdout
		// beside the service messages, as plain text, with the marker of
		// any service message inside them neutralised.
		a.service, a.stdout = octopusStdout(a.stdout)
		out = a.stdout
		if a.logFormat == "auto" {
			a.logFormat = "plain"
		}
	}
	tty := isTerminal(out)
	a.secrets = engine.NewSecretWriter(out)
	out = a.secrets
	switch a.logFormat {
	case "auto":
		if tty {
			a.log = zerolog.New(zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly}).With().Timestamp().Logger()
		} else {
			a.log = zerolog.New(out).With().Timestamp().Logger()
		}
	case "console":
		a.log = zerolog.New(zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly, NoColor: !tty}).With().Timestamp().Logger()
	case "plain":
		a.log = zerolog.New(zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly, NoColor: true}).With().Timestamp().Logger()
	case "json":
		a.log = zerolog.New(out).With().Timestamp().Logger()
	default:
		return usagef("--log-format: expected auto, console or json, found %q", a.logFormat)
	}
	a.log = a.log.Level(lvl)
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
