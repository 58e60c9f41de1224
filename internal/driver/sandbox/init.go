package sandbox

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// initEnv marks a process started by bwrap as the in-qube init.
const initEnv = "QUBE_SANDBOX_INIT"

// RunInitIfRequested turns the calling program into the in-qube init when
// the sandbox driver started it (the driver bind-mounts the daemon's own
// executable into each qube). It never returns in that case. Call it first
// thing in main (and in TestMain of packages that start sandboxes).
func RunInitIfRequested() {
	if os.Getenv(initEnv) != "1" {
		return
	}
	os.Unsetenv(initEnv)
	if err := runInit(); err != nil {
		fmt.Fprintln(os.Stderr, "qube init:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// qinit is pid 1 of a qube: it starts programs for the host, reaps every
// orphan, and on SIGTERM stops everything and exits, which ends the qube.
type qinit struct {
	mu      sync.Mutex
	waiters map[int]chan syscall.WaitStatus
}

func runInit() error {
	// Close what bwrap was handed besides the control socket: the info
	// pipe and the fds of the host's root, the home and this executable.
	// An O_PATH fd of the host's / would let the qube leave its mounts.
	for fd := 4; fd <= 7; fd++ {
		unix.Close(fd)
	}
	ctlFile := os.NewFile(3, "control")
	syscall.CloseOnExec(3)
	ctl, err := net.FileConn(ctlFile)
	ctlFile.Close()
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	uc := ctl.(*net.UnixConn)
	in := &qinit{waiters: map[int]chan syscall.WaitStatus{}}

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range sigs {
			if s == syscall.SIGCHLD {
				in.reap()
				continue
			}
			in.stopAll()
		}
	}()
	if _, err := uc.Write([]byte{'R'}); err != nil {
		return fmt.Errorf("announce readiness: %w", err)
	}
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(64*4))
	for {
		_, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
		if err != nil {
			// The host is gone: end the qube with it.
			in.stopAll()
			return nil
		}
		files, err := receivedFiles(oob[:oobn])
		if err != nil || len(files) == 0 {
			for _, f := range files {
				f.Close()
			}
			continue
		}
		go in.serve(files[0], files[1:])
	}
}

func receivedFiles(oob []byte) ([]*os.File, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
			files = append(files, os.NewFile(uintptr(fd), "passed"))
		}
	}
	return files, nil
}

// serve handles one run request on its own connection.
func (in *qinit) serve(connFile *os.File, files []*os.File) {
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	conn, err := net.FileConn(connFile)
	connFile.Close()
	if err != nil {
		return
	}
	defer conn.Close()
	var req runRequest
	line, err := bufio.NewReader(io.LimitReader(conn, maxRequest)).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &req)
	}
	if err == nil && (len(req.Argv) == 0 || req.NFiles != len(files) || len(files) < 3) {
		err = fmt.Errorf("malformed request")
	}
	if err != nil {
		fmt.Fprintf(conn, "error bad request\n")
		return
	}
	pid, done, err := in.spawn(req, files)
	if err != nil {
		msg := []byte(err.Error())
		for i, c := range msg {
			if c < 0x20 || c > 0x7e {
				msg[i] = '?'
			}
		}
		fmt.Fprintf(conn, "error %.*s\n", maxErrorText, msg)
		return
	}
	fmt.Fprintf(conn, "started %d\n", pid)
	ws := <-done
	code := ws.ExitStatus()
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	fmt.Fprintf(conn, "exit %d\n", code)
}

func (in *qinit) spawn(req runRequest, files []*os.File) (int, chan syscall.WaitStatus, error) {
	path := req.Argv[0]
	if lp, err := lookPath(path, req.Env); err == nil {
		path = lp
	} else {
		return 0, nil, err
	}
	fds := make([]uintptr, len(files))
	for i, f := range files {
		fds[i] = f.Fd()
	}
	dir := req.Dir
	if dir == "" {
		dir = os.Getenv("HOME")
	}
	done := make(chan syscall.WaitStatus, 1)
	// Hold the lock across fork so the reaper cannot see the exit of a
	// pid that is not yet registered.
	in.mu.Lock()
	defer in.mu.Unlock()
	pid, err := syscall.ForkExec(path, req.Argv, &syscall.ProcAttr{
		Dir: dir, Env: req.Env, Files: fds,
		Sys: &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return 0, nil, fmt.Errorf("start %s: %v", req.Argv[0], err)
	}
	in.waiters[pid] = done
	return pid, done, nil
}

// lookPath resolves a command with the PATH of the request's environment.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH", name)
}

// reap collects every exited child, ours or orphaned.
func (in *qinit) reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
		in.mu.Lock()
		if ch, ok := in.waiters[pid]; ok {
			ch <- ws
			delete(in.waiters, pid)
		}
		in.mu.Unlock()
	}
}

// stopAll sends SIGTERM to every process of the qube, waits until they are
// gone and exits; the host kills the qube if that takes too long.
func (in *qinit) stopAll() {
	_ = syscall.Kill(-1, syscall.SIGTERM)
	for syscall.Kill(-1, 0) != syscall.ESRCH {
		time.Sleep(20 * time.Millisecond)
		in.reap()
	}
	os.Exit(0)
}
