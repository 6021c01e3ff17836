// Command guestinit is the init (pid 1) of the dnsmon test guests, and the
// test clients they run: the same static binary is copied under several
// names so that each client has a known comm.
//
//	/init                    pid 1: runs every scenario, prints verdicts, powers off
//	NAME responder -port P   DNS responder on 127.0.0.1 and ::1, UDP and TCP
//	NAME client [flags]      sends one query (or a flood, or raw bytes) and reports pid/tid/netns
//	NAME stub                a stub resolver on 127.0.0.53:53 forwarding to 127.0.0.1:53
package main

import (
	"fmt"
	"os"
)

func main() {
	if os.Getpid() == 1 {
		runPersistMode() // returns unless dnsmon_mode=persist-* (persist.go)
		runInit()
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: guestinit responder|client [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "responder":
		err = runResponder(os.Args[2:])
	case "client":
		err = runClient(os.Args[2:])
	case "stub":
		err = runStub(os.Args[2:])
	default:
		err = fmt.Errorf("unknown role %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "guestinit:", err)
		os.Exit(1)
	}
}
