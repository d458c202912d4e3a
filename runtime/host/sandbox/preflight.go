package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// preflightTimeout bounds the trial sandbox Preflight starts.
const preflightTimeout = 30 * time.Second

// Preflight starts the program `true` (looked up in PATH) in a sandbox built exactly as a
// runtime's (same flags, same seccomp filter, its libraries resolved and bound the same way)
// and returns nil if it exits with status 0. Otherwise the error wraps ErrBubblewrapMissing,
// ErrUserNamespaces or ErrUnavailable and says what to change on the host, for example
// "sysctl -w user.max_user_namespaces=15000".
func (b *Bubblewrap) Preflight(ctx context.Context) error {
	if _, err := b.bwrapPath(); err != nil {
		return err
	}
	trueBin, err := exec.LookPath("true")
	if err != nil {
		return fmt.Errorf("%w: no `true` program to try the sandbox with: %v", ErrUnavailable, err)
	}
	if trueBin, err = filepath.Abs(trueBin); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	var stderr bytes.Buffer
	p, err := b.Start(ctx, Config{Executable: trueBin, Stderr: &stderr})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	status, err := p.Wait()
	if err == nil && status.Success() {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: a trial sandbox running %s did not exit within %v", ErrUnavailable, trueBin, preflightTimeout)
	}
	detail := strings.TrimSpace(stderr.String())
	if detail == "" {
		detail = status.String()
	}
	return diagnose(detail, os.Geteuid() == 0, readSysctl)
}

// readSysctl returns the value of a sysctl (dotted name) and whether it exists.
func readSysctl(name string) (string, bool) {
	b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// diagnose explains a failed trial sandbox. bwrapErr is what bubblewrap printed, root whether
// this process runs as root, and sysctl reads kernel settings.
func diagnose(bwrapErr string, root bool, sysctl func(name string) (string, bool)) error {
	const persist = " (to keep it across reboots, put the setting in a file under /etc/sysctl.d/)"
	if v, ok := sysctl("user.max_user_namespaces"); ok && v == "0" {
		return fmt.Errorf("%w: user.max_user_namespaces is 0; fix: sysctl -w user.max_user_namespaces=15000%s; bubblewrap said: %s",
			ErrUserNamespaces, persist, bwrapErr)
	}
	if !root {
		if v, ok := sysctl("kernel.unprivileged_userns_clone"); ok && v == "0" {
			return fmt.Errorf("%w: unprivileged user namespaces are disabled; fix: sysctl -w kernel.unprivileged_userns_clone=1%s; bubblewrap said: %s",
				ErrUserNamespaces, persist, bwrapErr)
		}
		if v, ok := sysctl("kernel.apparmor_restrict_unprivileged_userns"); ok && v == "1" {
			return fmt.Errorf("%w: AppArmor restricts unprivileged user namespaces; fix: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0%s, or give bwrap an AppArmor profile with the userns permission; bubblewrap said: %s",
				ErrUserNamespaces, persist, bwrapErr)
		}
	}
	lower := strings.ToLower(bwrapErr)
	for _, hint := range []string{"namespace", "uid map", "gid map", "setgroups"} {
		if strings.Contains(lower, hint) {
			return fmt.Errorf("%w: no kernel setting explains it; inside a container, its seccomp or AppArmor profile must allow creating user namespaces (for example docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined); bubblewrap said: %s",
				ErrUserNamespaces, bwrapErr)
		}
	}
	if strings.Contains(lower, "seccomp") {
		return fmt.Errorf("%w: the kernel refused the seccomp filter (it needs CONFIG_SECCOMP_FILTER); bubblewrap said: %s",
			ErrUnavailable, bwrapErr)
	}
	return fmt.Errorf("%w: %s", ErrUnavailable, bwrapErr)
}
