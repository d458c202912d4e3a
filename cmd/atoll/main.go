// Command atoll is the single binary of the Atoll runtime layer: node, devnet, keys, queries,
// load tools and debugging aids, as subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/atoll-project/atoll/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
