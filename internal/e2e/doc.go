// Package e2e holds the end-to-end tests of the window path, built from
// real parts only: Xvfb as the qube's display, X clients (xterm and a
// small X client that is this test binary run again), the built
// qube-agent and qube-guid binaries sharing a sealed memfd region, and a
// headless compositor (weston for screenshots, sway for input). It also
// holds the side-by-side benchmark against waypipe (TestBenchWindowPath,
// run only with QUBE_BENCH=1; see docs/benchmarks.md).
//
// The package has no non-test code.
package e2e
