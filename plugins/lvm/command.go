package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"
)

// lvm runs lvm2 commands. *runner runs the real ones; the driver's unit tests replay captured
// output through a fake.
type lvm interface {
	// run runs `lvm args…` and returns its stdout, which holds a report even when the command
	// failed for one of several named objects. A failure is an error from classify.
	run(ctx context.Context, s scope, args ...string) ([]byte, error)
}

// runner is the one wrapper every lvm2 command goes through.
type runner struct {
	bin string
	env []string
	// grace is how long an interrupted command may take before its process group is killed.
	grace time.Duration
	log   logger
}

// newRunner runs bin with LC_ALL=C (stable messages for classify), LVM_SYSTEM_DIR=systemDir (the
// driver's lvm.conf) and PATH, for the helpers lvm2 starts; nothing else of the environment.
func newRunner(bin, systemDir string, grace time.Duration, log logger) *runner {
	env := []string{"LC_ALL=C", "LVM_SYSTEM_DIR=" + systemDir, "LVM_SUPPRESS_FD_WARNINGS=1"}
	if path, ok := os.LookupEnv("PATH"); ok {
		env = append(env, "PATH="+path)
	}
	return &runner{bin: bin, env: env, grace: grace, log: log}
}

// run runs one command as an argument vector, never through a shell, in its own process group
// with stdin on /dev/null, so that a prompt reads end of file and answers no. When ctx ends, the
// group gets SIGINT: lvm2 blocks signals while it holds a VG write lock, so the command leaves
// the metadata consistent and stops at its next safe point. A group still there after the
// grace period is killed.
func (r *runner) run(ctx context.Context, s scope, args ...string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, classify(ctx, s, failure{args: args, exit: -1})
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = r.env, &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var exited atomic.Bool
	cmd.Cancel = func() error { return r.interrupt(cmd.Process.Pid, &exited) }
	cmd.WaitDelay = r.grace + time.Second // Go's own kill of the leader backs up interrupt's
	start := time.Now()
	err := cmd.Run()
	exited.Store(true)
	code := exitCode(err)
	r.log.Debug("lvm command", "args", args, "exit", code, "duration", time.Since(start))
	if err == nil {
		return stdout.Bytes(), nil
	}
	if code == -1 && ctx.Err() == nil { // never started, or an I/O failure of ours
		return stdout.Bytes(), classify(ctx, s, failure{args: args, exit: code, stderr: err.Error()})
	}
	return stdout.Bytes(), classify(ctx, s, failure{args: args, exit: code, stderr: stderr.String()})
}

// interrupt sends SIGINT to the command's process group and SIGKILL after the grace period,
// unless the command has been reaped by then.
func (r *runner) interrupt(pgid int, exited *atomic.Bool) error {
	err := syscall.Kill(-pgid, syscall.SIGINT)
	time.AfterFunc(r.grace, func() {
		if !exited.Load() {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	})
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// exitCode is the command's exit status, or -1 when it did not exit by itself.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}

// logger is the part of hclog.Logger the driver uses; sdk.Env's Logger satisfies it.
type logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
}

// nopLogger discards everything, for a driver built without a logger.
type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
