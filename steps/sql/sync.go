package sql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "sql.sync",
		Title:   "Copy one PostgreSQL database into another",
		Summary: "Runs the command that copies the live database into the idle one, with the two DSNs kept out of logs and errors.",
		Doc: "The copy itself is yours to choose (pg_dump piped into psql, pg_restore, a " +
			"replication catch-up script): `command` is its argv, run directly without a " +
			"shell, in which `{from}` and `{to}` are replaced by the two DSNs. The DSNs are " +
			"also in the environment as `BLUEGREEN_SYNC_FROM` and `BLUEGREEN_SYNC_TO`; a " +
			"script that reads them there keeps the passwords off its command line, where " +
			"other users of the machine could see them in the process list.\n\n" +
			"This is a step of its own rather than a host.exec because the DSNs are " +
			"sensitive: host.exec logs its argv, and the command's own output (a psql error " +
			"quoting a connection string) could carry a password. Here every spelling of " +
			"both passwords is scrubbed from the output and from errors.\n\n" +
			"The step refuses to copy a database onto itself. It journals no undo: its " +
			"target is the idle copy, which serves no traffic, and the next sync overwrites " +
			"it; a rollback leaves it holding newer data, which is harmless. On a timeout " +
			"or cancellation the command's whole process group is killed.",
		Preflight: sqlReady,
		Rules: []steps.Rule{
			steps.Length("command", 1, 0),
		},
		Params: []steps.Param{
			{Name: "command", Type: steps.List, Items: steps.String, Required: true,
				Doc: "The program and its arguments; `{from}` and `{to}` in any item are replaced by the DSNs. Name a shell explicitly when you need a pipeline.",
				Examples: []any{
					[]any{"./sync-db.sh", "{from}", "{to}"},
					[]any{"sh", "-c", "pg_dump --clean --if-exists --no-owner \"$BLUEGREEN_SYNC_FROM\" | psql -v ON_ERROR_STOP=1 -q \"$BLUEGREEN_SYNC_TO\""},
				}},
			{Name: "from", Type: steps.String, Required: true, Sensitive: true,
				Doc: "DSN of the database to copy from (the live one)."},
			{Name: "to", Type: steps.String, Required: true, Sensitive: true,
				Doc: "DSN of the database to copy into (the idle one). Its data is replaced."},
			{Name: "env", Type: steps.Map, Items: steps.String,
				Doc: "Environment variables added to (or replacing) bluegreen's own."},
			{Name: "timeout", Type: steps.Duration, Default: 30 * time.Minute,
				Doc: "How long the copy may run before its process group is killed and the step fails."},
		},
		Outputs: []steps.Output{
			{Name: "exit_code", Type: steps.Int, Doc: "The command's exit code (-1 when it was killed or did not start)."},
			{Name: "output", Type: steps.String, Doc: "The last 16 KiB of the command's stdout and stderr, passwords scrubbed."},
		},
		Mutates: true,
		New:     func() steps.Step { return &syncStep{} },
	})
}

// syncStep runs sql.sync.
type syncStep struct{}

// outputTail is how much of a sync command's output is kept: its end says
// how it finished.
const outputTail = 16 << 10

func (s *syncStep) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	from, to := p.String("from"), p.String("to")
	tf, tt := newTarget(from), newTarget(to)
	scrub := func(s string) string { return tt.scrub(tf.scrub(s)) }
	if from == to || tf.name == tt.name {
		return nil, fmt.Errorf("param \"to\": names the same database as \"from\" (%s); a copy onto itself would destroy it", tf.name)
	}
	argv := p.Strings("command")
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("param \"command\": needs at least the program name")
	}
	name := scrub(argv[0])
	placeholders := strings.NewReplacer("{from}", from, "{to}", to)
	for i, a := range argv {
		argv[i] = placeholders.Replace(a)
	}

	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if timeout := p.Duration("timeout"); timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	env := os.Environ()
	for k, v := range p.StringMap("env") {
		env = append(env, k+"="+v)
	}
	cmd.Env = append(env, "BLUEGREEN_SYNC_FROM="+from, "BLUEGREEN_SYNC_TO="+to)
	out := &tailBuffer{limit: outputTail}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 2 * time.Second
	ownProcessGroup(cmd)

	call.Log.Info().Str("from", tf.name).Str("to", tt.name).Str("command", name).Msg("syncing database")
	start := time.Now()
	err := cmd.Run()
	res := steps.Outputs{"exit_code": -1, "output": scrub(out.String())}
	if cmd.ProcessState != nil {
		res["exit_code"] = cmd.ProcessState.ExitCode()
	}
	switch {
	case err == nil:
		call.Log.Info().Str("to", tt.name).Dur("took", time.Since(start)).Msg("database synced")
		return res, nil
	case ctx.Err() != nil:
		return res, fmt.Errorf("%q from %s to %s cancelled: %w", name, tf.name, tt.name, ctx.Err())
	case runCtx.Err() != nil:
		return res, fmt.Errorf("%q from %s to %s timed out after %s and was killed%s", name, tf.name, tt.name, p.Duration("timeout"), lastLine(res["output"].(string)))
	case cmd.ProcessState == nil:
		return res, fmt.Errorf("start %q: %s", name, scrub(err.Error()))
	default:
		return res, fmt.Errorf("%q from %s to %s failed (%s)%s", name, tf.name, tt.name, cmd.ProcessState, lastLine(res["output"].(string)))
	}
}

// lastLine formats the end of a command's output for an error message.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 512 {
		s = "..." + s[len(s)-512:]
	}
	if s == "" {
		return ""
	}
	return ": " + s
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	mu      sync.Mutex
	limit   int
	buf     []byte
	dropped bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.limit; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.dropped = true
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped {
		// The cut may have split a line, and with it a password that the
		// scrubber would then not recognise: drop the partial line.
		rest := b.buf
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			rest = rest[i+1:]
		} else {
			rest = nil
		}
		return "[... earlier output dropped ...]\n" + string(rest)
	}
	return string(b.buf)
}
