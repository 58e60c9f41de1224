// Package driver defines what qube-hostd asks of a way to run qubes
// (bubblewrap sandboxes, later libvirt virtual machines).
package driver

import (
	"errors"
	"os"
	"time"
)

// Power is a qube's power state as the driver sees it.
type Power int

const (
	Halted Power = iota
	Running
	Paused
)

func (p Power) String() string {
	switch p {
	case Running:
		return "Running"
	case Paused:
		return "Paused"
	}
	return "Halted"
}

// Spec is everything a driver needs to start one qube.
type Spec struct {
	Name string
	// Root is the directory mounted as the qube's /; "" means the host's /.
	Root string
	// RootWritable mounts Root read-write (a running TemplateVM with its
	// own root directory); the host's / is always read-only.
	RootWritable bool
	// Home is the host directory behind /home/user; "" gives a fresh
	// tmpfs that vanishes at shutdown (DispVMs).
	Home string
	// Network shares the host's network; otherwise only loopback exists.
	Network bool
	// Services are started inside the qube once it runs (an X server,
	// qube-agent, ...), in order.
	Services []Service
}

// Service is a long-running program inside a qube.
type Service struct {
	Name string
	Argv []string
	Env  []string // added to the qube's base environment
	// Files become the service's fds 3, 4, ... (for qube-agent: the shared
	// region and the listening GUI socket, both made on the host).
	Files []*os.File
}

// RunOptions are the stdio and extra files of a program started in a qube.
// Nil stdio files mean /dev/null; ExtraFiles become fds 3, 4, ...
type RunOptions struct {
	Env                   []string
	Dir                   string
	Stdin, Stdout, Stderr *os.File
	ExtraFiles            []*os.File
}

// Process is a program started inside a qube.
type Process struct {
	PID  int // in the qube's pid namespace
	wait func() (int, error)
}

// NewProcess is for drivers: wait blocks until the program exits.
func NewProcess(pid int, wait func() (int, error)) *Process {
	return &Process{PID: pid, wait: wait}
}

// Wait returns the exit code (128+signal for a signal), or an error when
// the qube stopped or the driver lost track of the program.
func (p *Process) Wait() (int, error) { return p.wait() }

// Stats are cumulative counters of a running qube.
type Stats struct {
	CPUTime  time.Duration // CPU time of all its processes, living and reaped
	MemoryKB uint64        // resident memory of its processes
}

// Errors drivers return; hostd maps them to qubesd exception classes.
var (
	ErrNotRunning = errors.New("qube is not running")
	ErrRunning    = errors.New("qube is already running")
	ErrNotPaused  = errors.New("qube is not paused")
)

// Driver runs qubes. Implementations are safe for concurrent use.
type Driver interface {
	// Start boots the qube and its services and returns once it runs.
	Start(spec Spec) error
	// Shutdown asks the qube to stop and, after timeout, kills it. It
	// returns once the qube is halted.
	Shutdown(name string, timeout time.Duration) error
	Kill(name string) error
	Pause(name string) error
	Unpause(name string) error
	Power(name string) Power
	Stats(name string) (Stats, error)
	// Run starts a program inside a running qube.
	Run(name string, argv []string, opts RunOptions) (*Process, error)
	// Halted delivers the name of every qube that stopped, whether asked
	// to or on its own, so the daemon can emit domain-shutdown.
	Halted() <-chan string
	// Close kills every qube.
	Close() error
}
