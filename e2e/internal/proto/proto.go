package proto

import (
	"encoding/json"
	"strings"
)

// Line prefixes on the console.
const (
	VerdictPrefix = "DNSMON-VERDICT "
	DonePrefix    = "DNSMON-DONE"
)

// Verdict is the result of one scenario inside the guest.
type Verdict struct {
	Scenario string `json:"scenario"`
	// Status is "pass", "fail" or "skip".
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Ms is how long the scenario took inside the guest.
	Ms int64 `json:"ms"`
}

// Statuses.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// Format renders a verdict as one console line (without newline).
func (v Verdict) Format() string {
	b, _ := json.Marshal(v) // a struct of strings and ints always marshals
	return VerdictPrefix + string(b)
}

// ParseLine extracts a verdict from a console line; the prefix may follow
// other output on the same line (kernel messages interleave).
func ParseLine(line string) (Verdict, bool) {
	i := strings.Index(line, VerdictPrefix)
	if i < 0 {
		return Verdict{}, false
	}
	var v Verdict
	if err := json.Unmarshal([]byte(strings.TrimSpace(line[i+len(VerdictPrefix):])), &v); err != nil || v.Scenario == "" {
		return Verdict{}, false
	}
	return v, true
}

// IsDone reports whether a console line is the done marker.
func IsDone(line string) bool {
	return strings.Contains(line, DonePrefix) && !strings.Contains(line, VerdictPrefix)
}
