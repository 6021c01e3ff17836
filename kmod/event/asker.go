package event

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Asker is the application a stub resolver's upstream query was made for
// (Event.Via). The module reports the application's query to the stub
// and the stub's own query upstream, each with its own sender; only the
// watcher, seeing both, can join them.
type Asker struct {
	PID    uint32 // the application's process; 0 when ambiguous
	Comm   string // its comm; empty when ambiguous
	Lookup uint64 // the application's query to the stub; 0 when ambiguous
	// Candidates is how many processes had asked a stub the same
	// question when the upstream query left: 1 for a join. With 2 or
	// more the watcher does not guess which of them the stub asked for,
	// and PID, Comm and Lookup are unset.
	Candidates int
}

// Ambiguous reports whether more than one process could have been the
// asker.
func (a *Asker) Ambiguous() bool { return a.Candidates > 1 }

// jsonAsker is the JSON form of an Asker.
type jsonAsker struct {
	PID       uint32 `json:"pid,omitempty"`
	Comm      string `json:"comm,omitempty"`
	Lookup    uint64 `json:"lookup,omitempty"`
	Ambiguous int    `json:"ambiguous,omitempty"`
}

// MarshalJSON writes {"pid":N,"comm":"C","lookup":N} for a join and
// {"ambiguous":N} when N processes could have been the asker.
func (a Asker) MarshalJSON() ([]byte, error) {
	if a.Ambiguous() {
		return json.Marshal(jsonAsker{Ambiguous: a.Candidates})
	}
	return json.Marshal(jsonAsker{PID: a.PID, Comm: a.Comm, Lookup: a.Lookup})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Asker) UnmarshalJSON(b []byte) error {
	var j jsonAsker
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	switch {
	case j.Ambiguous == 0:
		if j.Lookup == 0 {
			return errors.New("via: no lookup")
		}
		*a = Asker{PID: j.PID, Comm: j.Comm, Lookup: j.Lookup, Candidates: 1}
	case j.Ambiguous < 2 || j.PID != 0 || j.Comm != "" || j.Lookup != 0:
		return fmt.Errorf("via: ambiguous %d with a pid, comm or lookup, or fewer than 2 askers", j.Ambiguous)
	default:
		*a = Asker{Candidates: j.Ambiguous}
	}
	return nil
}
