package sdktest

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// SocketPair returns the two ends of a connected Unix stream socket pair: one for the host,
// one for the runtime. The caller closes both.
func SocketPair() (host, runtime net.Conn, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("sdktest: socketpair: %w", err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), fmt.Sprintf("socketpair-%d", i))
		c, err := net.FileConn(f) // dups the descriptor
		f.Close()
		if err != nil {
			for _, prev := range conns[:i] {
				prev.Close()
			}
			if i == 0 {
				syscall.Close(fds[1])
			}
			return nil, nil, fmt.Errorf("sdktest: socketpair: %w", err)
		}
		conns[i] = c
	}
	return conns[0], conns[1], nil
}
