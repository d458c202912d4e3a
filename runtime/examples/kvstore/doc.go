// Package kvstore is the example runtime of DESIGN.md §7. Its logic is in package app; the
// programs cmd/kvstore-v1 and cmd/kvstore-v2 serve versions 1 and 2 of it, and mkbundle packs
// them into runtime bundles (make runtimes). This package holds the tests that drive the
// runtime end to end through the SDK, in-process, over a socketpair and as a process, and the
// benchmark comparing the three.
package kvstore
