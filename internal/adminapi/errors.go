package adminapi

import (
	"errors"
	"fmt"
)

// Error is an exception qubesd sent (2\0class\0traceback\0message\0). Any
// class is kept by name; errors.Is matches the sentinels below along Qubes'
// exception hierarchy, so errors.Is(err, ErrVMError) holds for a
// QubesVMNotStartedError.
type Error struct {
	Class     string // Python class name, e.g. QubesVMNotFoundError
	Message   string
	Traceback string // only when qubesd runs with --debug
	Call      string // the method (and argument) that failed, set by the client
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "(no message)"
	}
	if e.Call == "" {
		return fmt.Sprintf("%s: %s", e.Class, msg)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Class, msg, e.Call)
}

// Is reports whether target is a sentinel (an *Error with only Class set)
// naming this class or one of its Qubes base classes.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Message != "" || t.Call != "" {
		return false
	}
	for c := e.Class; c != ""; c = parentClass(c) {
		if c == t.Class {
			return true
		}
	}
	return false
}

// Sentinels for errors.Is. Classes without a sentinel still match ErrQubes
// when their name starts with "Qubes" and can be read from Error.Class.
var (
	ErrQubes                = &Error{Class: "QubesException"}
	ErrProtocol             = &Error{Class: "ProtocolError"}
	ErrPermissionDenied     = &Error{Class: "PermissionDenied"}
	ErrVMNotFound           = &Error{Class: "QubesVMNotFoundError"}
	ErrVMAlreadyExists      = &Error{Class: "QubesVMAlreadyExistsError"}
	ErrVMError              = &Error{Class: "QubesVMError"}
	ErrVMInUse              = &Error{Class: "QubesVMInUseError"}
	ErrVMNotStarted         = &Error{Class: "QubesVMNotStartedError"}
	ErrVMNotRunning         = &Error{Class: "QubesVMNotRunningError"}
	ErrVMNotPaused          = &Error{Class: "QubesVMNotPausedError"}
	ErrVMNotHalted          = &Error{Class: "QubesVMNotHaltedError"}
	ErrVMShutdownTimeout    = &Error{Class: "QubesVMShutdownTimeoutError"}
	ErrNoTemplate           = &Error{Class: "QubesNoTemplateError"}
	ErrMemory               = &Error{Class: "QubesMemoryError"}
	ErrValue                = &Error{Class: "QubesValueError"}
	ErrPropertyValue        = &Error{Class: "QubesPropertyValueError"}
	ErrNoSuchProperty       = &Error{Class: "QubesNoSuchPropertyError"}
	ErrFeatureNotFound      = &Error{Class: "QubesFeatureNotFoundError"}
	ErrTagNotFound          = &Error{Class: "QubesTagNotFoundError"}
	ErrLabelNotFound        = &Error{Class: "QubesLabelNotFoundError"}
	ErrLabelInUse           = &Error{Class: "QubesLabelInUseError"}
	ErrBackupProfileMissing = &Error{Class: "QubesBackupProfileNotFoundError"}
)

// parents is Qubes' exception hierarchy (qubes/exc.py) as far as a client
// can act on it. ProtocolError and PermissionDenied are not QubesExceptions.
var parents = map[string]string{
	"QubesVMNotRunningError":      "QubesVMNotStartedError",
	"QubesVMNotPausedError":       "QubesVMNotStartedError",
	"QubesVMNotStartedError":      "QubesVMError",
	"QubesVMNotSuspendedError":    "QubesVMError",
	"QubesVMNotHaltedError":       "QubesVMError",
	"QubesVMInUseError":           "QubesVMError",
	"QubesVMShutdownTimeoutError": "QubesVMError",
	"QubesVMCancelledPauseError":  "QubesVMError",
	"QubesNoTemplateError":        "QubesVMError",
	"QubesPropertyValueError":     "QubesValueError",
	"QubesInvalidLabelValueError": "QubesValueError",
}

func parentClass(c string) string {
	if p, ok := parents[c]; ok {
		return p
	}
	if c != "QubesException" && len(c) > 5 && c[:5] == "Qubes" || c == "BackupCancelledError" || c == "BackupAlreadyRunningError" || c == "StoragePoolException" {
		return "QubesException"
	}
	return ""
}

// ErrNoAnswer matches a NoAnswerError with errors.Is.
var ErrNoAnswer = errors.New("qubesd closed the connection without an answer")

// NoAnswerError is an empty response: qubesd dropped the connection because
// of a framing error, an oversized request or an unhandled exception in the
// method, which it logs to its journal only.
type NoAnswerError struct {
	Call string
	Hint string // where to look for the reason; the qubesd journal when empty
}

func (e *NoAnswerError) Error() string {
	hint := e.Hint
	if hint == "" {
		hint = "see 'journalctl -u qubesd -e' in dom0 for the reason"
	}
	return fmt.Sprintf("qubesd closed the connection without an answer to %s (%s)", e.Call, hint)
}

// Is makes errors.Is(err, ErrNoAnswer) hold.
func (e *NoAnswerError) Is(target error) bool { return target == ErrNoAnswer }

// ErrMalformed is wrapped by every error about bytes that break the framing.
var ErrMalformed = errors.New("malformed qubesd response")
