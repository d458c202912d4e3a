// Command kvstore-v2 is version 2 of the example runtime kvstore (package app): the host
// starts it with $ATOLL_HOST_SOCKET naming its socket, and it serves until shut down.
package main

import (
	"fmt"
	"os"

	"github.com/atoll-project/atoll/runtime/examples/kvstore/app"
	"github.com/atoll-project/atoll/runtime/sdk"
)

func main() {
	rt, err := app.New(2)
	if err == nil {
		err = sdk.Run(rt)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvstore-v2:", err)
		os.Exit(1)
	}
}
