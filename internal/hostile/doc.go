// Package hostile is the hostile-qube test suite; it has no code of its own.
//
// Its tests play a malicious GUI agent against the real qube-guid binary on
// a headless sway: a table of named attacks, each breaking one rule of the
// GUI protocol (spec §3.2 and issue 8), each with the outcome the daemon
// must show (the agent disconnected, the message dropped, a value clamped)
// and the checks every attack shares: the daemon did not crash, its memory
// stayed bounded, and a second qube's daemon on the same compositor kept
// working and received nothing. A property test checks clipboard isolation
// across three qubes on the global clipboard store. docs/security.md lists
// the attacks; a test keeps that list in sync with the table.
package hostile
