package sandbox

import (
	"errors"
	"strings"
	"testing"
)

func TestDiagnoseNamesTheSettingToChange(t *testing.T) {
	for _, c := range []struct {
		name     string
		bwrapErr string
		root     bool
		sysctls  map[string]string
		wantErr  error
		wantFix  string
	}{
		{
			name:     "user namespaces capped at zero",
			bwrapErr: "bwrap: Creating new namespace failed: No space left on device",
			sysctls:  map[string]string{"user.max_user_namespaces": "0"},
			wantErr:  ErrUserNamespaces,
			wantFix:  "sysctl -w user.max_user_namespaces=15000",
		},
		{
			name:     "the zero cap applies to root too",
			bwrapErr: "bwrap: Creating new namespace failed: No space left on device",
			root:     true,
			sysctls:  map[string]string{"user.max_user_namespaces": "0", "kernel.unprivileged_userns_clone": "0"},
			wantErr:  ErrUserNamespaces,
			wantFix:  "sysctl -w user.max_user_namespaces=15000",
		},
		{
			name:     "Debian's unprivileged_userns_clone switch",
			bwrapErr: "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.",
			sysctls:  map[string]string{"user.max_user_namespaces": "63000", "kernel.unprivileged_userns_clone": "0"},
			wantErr:  ErrUserNamespaces,
			wantFix:  "sysctl -w kernel.unprivileged_userns_clone=1",
		},
		{
			name:     "Ubuntu's AppArmor restriction",
			bwrapErr: "bwrap: setting up uid map: Permission denied",
			sysctls:  map[string]string{"user.max_user_namespaces": "63000", "kernel.apparmor_restrict_unprivileged_userns": "1"},
			wantErr:  ErrUserNamespaces,
			wantFix:  "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
		},
		{
			name:     "a container that forbids namespaces",
			bwrapErr: "bwrap: Creating new namespace failed: Operation not permitted",
			sysctls:  map[string]string{"user.max_user_namespaces": "63000"},
			wantErr:  ErrUserNamespaces,
			wantFix:  "--security-opt seccomp=unconfined",
		},
		{
			name:     "a kernel without seccomp filters",
			bwrapErr: "bwrap: prctl(PR_SET_SECCOMP): Invalid argument",
			sysctls:  map[string]string{"user.max_user_namespaces": "63000"},
			wantErr:  ErrUnavailable,
			wantFix:  "CONFIG_SECCOMP_FILTER",
		},
		{
			name:     "anything else is quoted",
			bwrapErr: "bwrap: something odd",
			wantErr:  ErrUnavailable,
			wantFix:  "bwrap: something odd",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := diagnose(c.bwrapErr, c.root, func(name string) (string, bool) {
				v, ok := c.sysctls[name]
				return v, ok
			})
			if !errors.Is(err, c.wantErr) {
				t.Errorf("got %v, want %v", err, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.wantFix) || !strings.Contains(err.Error(), c.bwrapErr) {
				t.Errorf("%q does not name %q and quote bubblewrap", err, c.wantFix)
			}
		})
	}
}
