// Package watch is dnsmon-watch's loop: it opens /dev/dnsmon, reads batches
// of records, enriches each event from /proc and /etc/passwd (user name,
// executable, container id) and prints readable or JSON lines (queries,
// their answers, queries left unanswered), reporting lost events from
// sequence gaps and the module's counters. It also prints those counters
// (DNSMON_IOC_STATS) on their own.
package watch
