package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.exec",
		Title:   "Run a command",
		Summary: "Runs a command on this host and fails when it exits with a non-zero code.",
		Doc: "The command is an argv list run directly, without a shell: write " +
			"`[sh, -c, \"...\"]` when you need one. The command inherits bluegreen's " +
			"environment plus `env`. Its stdout and stderr are captured up to 64 KiB each; " +
			"beyond that the middle is replaced by a truncation marker.\n\n" +
			"A non-zero exit fails the step with the exit code and the end of stderr. On a " +
			"timeout or cancellation the command's whole process group is killed, so a " +
			"script's children do not outlive it. A command that starts a background " +
			"service may leave it running: once the command itself has exited with 0, a " +
			"child still holding its output is not waited for longer than two seconds.\n\n" +
			"bluegreen cannot know what a command changes, so host.exec is not a mutating " +
			"step and has no automatic undo. Give `undo` when the command changes something " +
			"that a rollback must restore: that argv is journaled before the command runs " +
			"and is run (with the same dir, env and timeout) if the release is rolled back.",
		Rules: []steps.Rule{
			steps.Length("command", 1, 0),
			steps.Length("undo", 1, 0),
		},
		Params: []steps.Param{
			{Name: "command", Type: steps.List, Items: steps.String, Required: true,
				Doc:      "The program and its arguments. The first item is looked up in PATH unless it contains a slash.",
				Examples: []any{[]any{"systemctl", "start", "app@green"}, []any{"sh", "-c", "./stop.sh && rm -f app.pid"}}},
			{Name: "dir", Type: steps.String,
				Doc: "Working directory of the command; bluegreen's own working directory when empty."},
			{Name: "env", Type: steps.Map, Items: steps.String,
				Doc:      "Environment variables added to (or replacing) bluegreen's own. They are shown in plans and logs: pass secrets through bluegreen's own environment or a file instead.",
				Examples: []any{map[string]any{"APP_COLOUR": "green"}}},
			{Name: "timeout", Type: steps.Duration, Default: 5 * time.Minute,
				Doc: "How long the command may run before its process group is killed and the step fails."},
			{Name: "undo", Type: steps.List, Items: steps.String,
				Doc:      "A command that reverses this one. When given it is journaled before the command runs, and a rollback runs it as a host.exec with the same dir, env and timeout.",
				Examples: []any{[]any{"systemctl", "stop", "app@green"}}},
		},
		Outputs: []steps.Output{
			{Name: "exit_code", Type: steps.Int, Doc: "The command's exit code (-1 when it was killed by a signal)."},
			{Name: "stdout", Type: steps.String, Doc: "Standard output, at most 64 KiB (the middle is cut when longer)."},
			{Name: "stderr", Type: steps.String, Doc: "Standard error, at most 64 KiB (the middle is cut when longer)."},
		},
		New: func() steps.Step { return &execStep{} },
	})
}

// execStep runs host.exec.
type execStep struct{}

// waitDelay bounds how long Run waits, after the command exits, for
// children that inherited its output pipes: a start script that puts a
// server in the background must not hang the step.
const waitDelay = 2 * time.Second

func (s *execStep) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	argv := p.Strings("command")
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("param \"command\": needs at least the program name")
	}
	timeout := p.Duration("timeout")

	if undo := p.Strings("undo"); len(undo) > 0 && !call.Undoing {
		up := map[string]any{"command": p.List("undo"), "timeout": timeout}
		if p.Has("dir") {
			up["dir"] = p.String("dir")
		}
		if p.Has("env") {
			up["env"] = p.Map("env")
		}
		err := call.BeforeChange(steps.Undo{
			Kind:   "host.exec",
			Params: up,
			Note:   "run " + strings.Join(undo, " "),
		})
		if err != nil {
			return nil, fmt.Errorf("journal undo of %q: %w", argv[0], err)
		}
	}

	res, err := runCommand(ctx, argv, p.String("dir"), p.StringMap("env"), timeout)
	out := steps.Outputs{"exit_code": res.exitCode, "stdout": res.stdout, "stderr": res.stderr}
	if err != nil {
		return out, err
	}
	call.Log.Debug().Strs("command", argv).Int("exit_code", res.exitCode).Msg("command finished")
	return out, nil
}

// commandResult is what runCommand captured.
type commandResult struct {
	exitCode       int
	stdout, stderr string
}

// runCommand runs argv and returns its bounded output. Its error names the
// program and says why it failed: it did not start, it timed out, it was
// cancelled, or it exited with a non-zero code (quoting the end of stderr).
// Other steps (nginx test and reload commands) share it so that every
// command bluegreen runs behaves the same way.
func runCommand(ctx context.Context, argv []string, dir string, env map[string]string, timeout time.Duration) (commandResult, error) {
	res := commandResult{exitCode: -1}
	runCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = mergeEnv(os.Environ(), env)
	}
	stdout, stderr := newBoundedBuffer(outputLimit), newBoundedBuffer(outputLimit)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	ownProcessGroup(cmd)

	err := cmd.Run()
	res.stdout, res.stderr = stdout.String(), stderr.String()
	if cmd.ProcessState != nil {
		res.exitCode = cmd.ProcessState.ExitCode()
	}
	name := argv[0]
	switch {
	case err == nil:
		return res, nil
	case errors.Is(err, exec.ErrWaitDelay) && res.exitCode == 0:
		// The command succeeded but left a child holding its output (a
		// server started in the background). That is what start scripts do.
		return res, nil
	case ctx.Err() != nil:
		return res, fmt.Errorf("%q cancelled: %w", name, ctx.Err())
	case runCtx.Err() != nil:
		return res, fmt.Errorf("%q timed out after %s and was killed%s", name, timeout, stderrTail(res.stderr))
	case cmd.ProcessState == nil:
		return res, fmt.Errorf("start %q: %w", name, err)
	case res.exitCode == -1:
		return res, fmt.Errorf("%q %s%s", name, cmd.ProcessState, stderrTail(res.stderr))
	default:
		return res, fmt.Errorf("%q exited with code %d%s", name, res.exitCode, stderrTail(res.stderr))
	}
}

// stderrTail formats the end of stderr for an error message.
func stderrTail(stderr string) string {
	s := strings.TrimSpace(lastBytes(stderr, 512))
	if s == "" {
		return ""
	}
	return ": " + s
}

// mergeEnv returns base with the entries of add set, replacing any entry of
// the same name, sorted so the child sees a stable environment.
func mergeEnv(base []string, add map[string]string) []string {
	out := make([]string, 0, len(base)+len(add))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if _, replaced := add[name]; !replaced {
			out = append(out, kv)
		}
	}
	for k, v := range add {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
