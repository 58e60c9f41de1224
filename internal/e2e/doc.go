// Package e2e holds the end-to-end tests of the window path, built from
// real parts only: Xvfb as the qube's display, X clients (xterm and a
// small X client that is this test binary run again), the built
// qube-agent and qube-guid binaries sharing a sealed memfd region passed
// as fd 3, and a headless compositor (weston and sway for screenshots,
// sway's virtual pointer and keyboard for input).
//
//	go test ./internal/e2e                       # needs Xvfb, weston, sway, grim, xterm, go
//	QUBE_E2E_SHOTS=DIR go test ./internal/e2e    # keeps the screenshots in DIR
//
// TestBenchWindowPath compares the path with waypipe and runs only with
// QUBE_BENCH=1 (see docs/benchmarks.md). The package has no non-test code.
package e2e
