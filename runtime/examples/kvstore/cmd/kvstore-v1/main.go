// Command kvstore-v1 is version 1 of the example runtime kvstore (package app): the host
// starts it with $ATOLL_HOST_SOCKET naming its socket, and it serves until shut down.
package main

import (
	"fmt"
	"os"

	"github.com/atoll-project/atoll/runtime/examples/kvstore/app"
	"github.com/atoll-project/atoll/runtime/sdk"
)

func main() {
	rt, err := app.New(1)
	if err == nil {
		err = sdk.Run(rt)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvstore-v1:", err)
		os.Exit(1)
	}
}
