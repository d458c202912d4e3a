package cli

import (
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/runtime/host/sandbox"
)

func newDebugSandboxCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run programs in the sandbox runtimes get",
	}
	cmd.AddCommand(newDebugSandboxExecCommand(s))
	return cmd
}

func newDebugSandboxExecCommand(s Streams) *cobra.Command {
	var (
		binds  []string
		env    []string
		socket string
	)
	cmd := &cobra.Command{
		Use:   "exec [--bind-ro PATH]... [--env KEY=VALUE]... [--socket PATH] [--] PROGRAM [ARGS...]",
		Short: "Run a program in exactly the sandbox runtimes get",
		Long: `Run PROGRAM in exactly the sandbox a runtime gets: the same bubblewrap flags and the same
seccomp filter. PROGRAM is looked up in PATH on the host and bound read-only at that path
together with its ELF interpreter and shared libraries; nothing else of the host file system is
visible but the --bind-ro paths. The environment holds only the --env entries. --socket binds a
host Unix socket at ` + sandbox.SocketPath + `, as the node binds its runtime host socket.

Standard input, output and error pass through; the program's exit code becomes this command's
(a program killed by signal N inside the sandbox exits with 128+N). The sandbox preflight runs
first and, if the sandbox cannot start on this host, says what to change.`,
		Example: `  atoll debug sandbox exec -- cat /proc/self/status
  atoll debug sandbox exec --bind-ro /usr/share/zoneinfo -- ls -l /usr/share/zoneinfo`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			program, err := exec.LookPath(args[0])
			if err != nil {
				return fmt.Errorf("debug sandbox exec: %w", err)
			}
			if program, err = filepath.Abs(program); err != nil {
				return fmt.Errorf("debug sandbox exec: %w", err)
			}
			absBinds := make([]string, len(binds))
			for i, b := range binds {
				if absBinds[i], err = filepath.Abs(b); err != nil {
					return fmt.Errorf("debug sandbox exec: --bind-ro %s: %w", b, err)
				}
			}
			if socket != "" {
				if socket, err = filepath.Abs(socket); err != nil {
					return fmt.Errorf("debug sandbox exec: --socket: %w", err)
				}
			}

			provisioner, err := sandbox.NewBubblewrap(sandbox.BubblewrapOptions{})
			if err != nil {
				return err
			}
			if err := provisioner.Preflight(ctx); err != nil {
				return err
			}
			proc, err := provisioner.Start(ctx, sandbox.Config{
				Executable: program,
				Args:       args[1:],
				Env:        env,
				BindRO:     absBinds,
				Socket:     socket,
				Stdin:      s.In,
				Stdout:     s.Out,
				Stderr:     s.Err,
			})
			if err != nil {
				return err
			}
			status, err := proc.Wait()
			if err != nil {
				return err
			}
			if status.Code != 0 {
				return &ExitError{Code: status.Code}
			}
			return nil
		},
	}
	// Everything after PROGRAM belongs to PROGRAM, flags included.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringArrayVar(&binds, "bind-ro", nil, "bind this host `PATH` read-only at the same path (repeatable)")
	cmd.Flags().StringArrayVar(&env, "env", nil, "set `KEY=VALUE` in the program's otherwise empty environment (repeatable)")
	cmd.Flags().StringVar(&socket, "socket", "", "bind this host Unix socket `PATH` at "+sandbox.SocketPath)
	return cmd
}
