package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// event is one JSON line of dnsmon-watch --json.
type event map[string]any

func (e event) num(k string) (int64, bool) {
	switch v := e[k].(type) {
	case float64:
		return int64(v), true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func (e event) str(k string) string {
	switch v := e[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// watcher runs dnsmon-watch and collects its events.
type watcher struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	evs  []event
	text []string // non-JSON lines (drop notices, errors)
	done chan struct{}
}

func startWatcher(args ...string) (*watcher, error) {
	w := &watcher{cmd: exec.Command("/bin/dnsmon-watch", args...), done: make(chan struct{})}
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w.cmd.Stderr = w.cmd.Stdout
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting dnsmon-watch: %w", err)
	}
	go w.read(out)
	return w, nil
}

func (w *watcher) read(r io.Reader) {
	defer close(w.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var ev event
		w.mu.Lock()
		if strings.HasPrefix(strings.TrimSpace(line), "{") && json.Unmarshal([]byte(line), &ev) == nil {
			w.evs = append(w.evs, ev)
		} else {
			w.text = append(w.text, line)
		}
		w.mu.Unlock()
	}
}

func (w *watcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.evs)
}

func (w *watcher) since(i int) []event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]event(nil), w.evs[i:]...)
}

func (w *watcher) textLines() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.text, " | ")
}

// waitQname waits for an event whose qname is name, among events from index
// from on, and returns its index.
func (w *watcher) waitQname(from int, name string, timeout time.Duration) (int, event, error) {
	deadline := time.Now().Add(timeout)
	for {
		w.mu.Lock()
		for i := from; i < len(w.evs); i++ {
			if sameName(w.evs[i].str("qname"), name) {
				ev := w.evs[i]
				w.mu.Unlock()
				return i, ev, nil
			}
		}
		w.mu.Unlock()
		select {
		case <-w.done:
			return 0, nil, fmt.Errorf("dnsmon-watch exited before an event for %q (output: %s)", name, w.textLines())
		default:
		}
		if time.Now().After(deadline) {
			return 0, nil, fmt.Errorf("no event for %q within %v (%d events seen)", name, timeout, w.count())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quiet waits until no new event arrived for d, or max passed.
func (w *watcher) quiet(d, max time.Duration) {
	end := time.Now().Add(max)
	last, at := w.count(), time.Now()
	for time.Now().Before(end) {
		time.Sleep(50 * time.Millisecond)
		if n := w.count(); n != last {
			last, at = n, time.Now()
		} else if time.Since(at) >= d {
			return
		}
	}
}

// stop interrupts dnsmon-watch and waits for it.
func (w *watcher) stop() error {
	_ = w.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
	return w.cmd.Wait()
}

func sameName(got, want string) bool {
	if want == "." {
		return got == "."
	}
	return strings.TrimSuffix(got, ".") == strings.TrimSuffix(want, ".")
}
