// Package watch is dnsmon-watch's loop: it opens /dev/dnsmon, reads batches
// of records, enriches each event from /proc and /etc/passwd (user name,
// executable, container id) and prints readable or JSON lines (queries,
// their answers, queries left unanswered), reporting lost events from
// sequence gaps and the module's counters. It names the application a
// stub resolver's upstream query was made for (Event.Via), and can print
// one line per lookup instead of one per event, a truncated UDP answer and
// its TCP retry as one (WithLookups). It also prints the module's counters
// (DNSMON_IOC_STATS) on their own.
package watch
