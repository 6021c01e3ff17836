package watch

import (
	"bufio"
	"bytes"
	"io/fs"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dnsmon/dnsmon/kmod/event"
)

// maxCached bounds the per-process cache of /proc lookups.
const maxCached = 4096

// system reads what the watcher needs from /proc, /sys and /etc.
type system struct{ fsys fs.FS }

func (s system) read(name string, max int) []byte {
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, max)
	n, _ := f.Read(b)
	return b[:n]
}

// moduleLoaded reports whether /sys/module/dnsmon exists.
func (s system) moduleLoaded() bool {
	_, err := fs.Stat(s.fsys, "sys/module/dnsmon")
	return err == nil
}

// responsesParam is the module parameter that turns answers on and off.
const responsesParam = "sys/module/dnsmon/parameters/responses"

// responsesOff reports whether the module is loaded with responses=0: its
// parameter file reads N (or 0). A module without the parameter reports
// queries only; its records say so.
func (s system) responsesOff() bool {
	v := strings.TrimSpace(string(s.read(responsesParam, 8)))
	return v == "N" || v == "0"
}

// miscMinor finds name's minor number in /proc/misc ("MINOR NAME" lines).
func (s system) miscMinor(name string) (int, bool) {
	sc := bufio.NewScanner(bytes.NewReader(s.read("proc/misc", 1<<16)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[1] == name {
			n, err := strconv.Atoi(f[0])
			return n, err == nil
		}
	}
	return 0, false
}

// containerID returns the last run of exactly 64 lowercase hex digits in a
// cgroup path: the id Docker, containerd, CRI-O and Podman put there
// (/docker/ID, docker-ID.scope, cri-containerd-ID.scope, crio-ID.scope,
// libpod-ID.scope, kubepods/.../ID).
func containerID(path string) string {
	id := ""
	for i := 0; i < len(path); {
		j := i
		for j < len(path) && (path[j] >= '0' && path[j] <= '9' || path[j] >= 'a' && path[j] <= 'f') {
			j++
		}
		if j-i == 64 {
			id = path[i:j]
		}
		i = j + 1
	}
	return id
}

// procInfo is what /proc says about a process.
type procInfo struct {
	exe       string
	container string
}

// enricher fills the user name, executable and container of events.
type enricher struct {
	sys   system
	users map[uint32]string
	procs map[uint32]procInfo // by tid, valid while comm matches
	comms map[uint32]string
}

func newEnricher(fsys fs.FS) *enricher {
	e := &enricher{sys: system{fsys}, users: map[uint32]string{}, procs: map[uint32]procInfo{}, comms: map[uint32]string{}}
	sc := bufio.NewScanner(bytes.NewReader(e.sys.read("etc/passwd", 4<<20)))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 3 {
			continue
		}
		if uid, err := strconv.ParseUint(f[2], 10, 32); err == nil {
			if _, dup := e.users[uint32(uid)]; !dup {
				e.users[uint32(uid)] = f[0]
			}
		}
	}
	return e
}

// fill sets User, Exe and Container when they can be known. /proc is only
// trusted while the thread still has the event's comm: a pid reused by
// another program must not lend it its executable.
func (e *enricher) fill(ev *event.Event) {
	if ev.ProcUnknown() {
		return
	}
	ev.User = e.users[ev.UID]
	if ev.PID == 0 {
		return
	}
	tid := ev.TID
	if tid == 0 {
		tid = ev.PID
	}
	comm := strings.TrimSuffix(string(e.sys.read("proc/"+strconv.FormatUint(uint64(tid), 10)+"/comm", 64)), "\n")
	if comm == "" || comm != ev.Comm {
		return
	}
	if p, ok := e.procs[tid]; ok && e.comms[tid] == comm {
		ev.Exe, ev.Container = p.exe, p.container
		return
	}
	pid := "proc/" + strconv.FormatUint(uint64(ev.PID), 10)
	var p procInfo
	if exe, err := fs.ReadLink(e.sys.fsys, pid+"/exe"); err == nil {
		p.exe = exe
	}
	sc := bufio.NewScanner(bytes.NewReader(e.sys.read(pid+"/cgroup", 1<<16)))
	for sc.Scan() {
		_, path, _ := strings.Cut(sc.Text(), ":")
		_, path, _ = strings.Cut(path, ":")
		if id := containerID(path); id != "" {
			p.container = id
			break
		}
	}
	if len(e.procs) >= maxCached {
		clear(e.procs)
		clear(e.comms)
	}
	e.procs[tid], e.comms[tid] = p, comm
	ev.Exe, ev.Container = p.exe, p.container
}

// serverString is ADDR:PORT, with brackets for IPv6.
func serverString(e event.Event) string {
	if !e.Server.IsValid() {
		return "?:" + strconv.Itoa(int(e.Port))
	}
	return netip.AddrPortFrom(e.Server, e.Port).String()
}

// sanitize escapes bytes a terminal would act on as \DDD, as the module
// already does; it protects the reader if a name slipped through.
func sanitize(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] >= 0x7f {
			var b strings.Builder
			for j := 0; j < len(s); j++ {
				if c := s[j]; c < 0x21 || c >= 0x7f {
					b.WriteString("\\" + strconv.FormatUint(uint64(c)+1000, 10)[1:])
				} else {
					b.WriteByte(c)
				}
			}
			return b.String()
		}
	}
	return s
}

// quoteIfNeeded quotes a comm or user name holding spaces, quotes or
// unprintable characters.
func quoteIfNeeded(s string) string {
	if s == "" || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == 0x7f || !strconv.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}
