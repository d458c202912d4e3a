// Package e2e holds the end-to-end tests that run real `atoll` processes: the binary is built
// once per test run, nodes are started on loopback with generated keys and genesis documents,
// and the tests act and assert only through the CLI and the nodes' gRPC APIs, waiting on
// observable conditions (never fixed sleeps).
package e2e
