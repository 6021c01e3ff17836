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

// watcher runs dnsmon-watch and collects its events: queries (and
// malformed messages) in evs, answers and unanswered queries in lookups,
// so that the scenarios that count queries see only queries.
type watcher struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	evs     []event
	lookups []event
	text    []string // non-JSON lines (drop notices, errors)
	done    chan struct{}
}

// isQuery tells a query event (or one of a watcher without lookups) from
// an answer or unanswered one.
func (e event) isQuery() bool {
	k := e.str("kind")
	return k == "" || k == "query"
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
		switch {
		case !strings.HasPrefix(strings.TrimSpace(line), "{") || json.Unmarshal([]byte(line), &ev) != nil:
			w.text = append(w.text, line)
		case ev.isQuery():
			w.evs = append(w.evs, ev)
		default:
			w.lookups = append(w.lookups, ev)
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

// waitLookup waits for the answer or unanswered event of the query event
// with seq lookup.
func (w *watcher) waitLookup(lookup int64, timeout time.Duration) (event, error) {
	deadline := time.Now().Add(timeout)
	for {
		w.mu.Lock()
		for _, ev := range w.lookups {
			if n, ok := ev.num("lookup"); ok && n == lookup {
				w.mu.Unlock()
				return ev, nil
			}
		}
		w.mu.Unlock()
		select {
		case <-w.done:
			return nil, fmt.Errorf("dnsmon-watch exited before the end of lookup %d (output: %s)", lookup, w.textLines())
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no answer or unanswered event for lookup %d within %v", lookup, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lookupEvents returns the answer and unanswered events of lookup so far.
func (w *watcher) lookupEvents(lookup int64) []event {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []event
	for _, ev := range w.lookups {
		if n, ok := ev.num("lookup"); ok && n == lookup {
			out = append(out, ev)
		}
	}
	return out
}

// waitCount waits until at least n query events arrived, dnsmon-watch
// exited, or timeout passed.
func (w *watcher) waitCount(n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for w.count() < n && time.Now().Before(deadline) {
		select {
		case <-w.done:
			return
		case <-time.After(20 * time.Millisecond):
		}
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
