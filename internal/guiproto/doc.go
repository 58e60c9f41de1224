// Package guiproto is the Qubes GUI protocol 1.8: message types, the 12-byte
// header, every body layout, the version handshake, and the validation the
// daemon (guid) applies to what an agent sends.
//
// # Untrusted and trusted
//
// Everything an agent sends is hostile. [ReadUntrusted] turns the bytes into
// Untrusted* values (for example [UntrustedCreate]) whose fields are
// unexported: code outside this package cannot use them as geometry, strings
// or sizes. The only way to get at the contents is the message's one Validate
// method, which applies the checks of the Qubes daemon (spec §3.2) against the
// limits in limits.go and returns the trusted type (for example [Create]).
// The body length is always derived from the message type; the header's
// untrusted_len is only compared with it, and variable-size bodies are
// bounded before anything is allocated.
//
// Validation errors are [*Error] values whose [Kind] tells the guid what to do:
// [Fatal] ends the session (the reference daemon exits), [Verify] marks a
// suspicious message that is dropped (the reference daemon asks the user),
// [Drop] is a harmless message that is ignored. Out-of-range geometry that
// the reference daemon clamps is clamped silently.
//
// The trusted types are also what both sides send: [WriteMessage] encodes any
// of them. The agent reads the daemon's messages with [ReadFromDaemon], which
// is strict about lengths and enumerations: a malformed daemon message is an
// error, never a panic.
//
// Session rules that need the window table (unknown or duplicate window IDs)
// belong to the guid; [Type.WindowRule] says which rule applies to a type.
package guiproto
