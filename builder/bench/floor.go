package bench

import (
	"fmt"
	"time"
)

// Floor is the wall time a farm that added nothing to make would take
// for one run: the raw make time of every target, each measured alone,
// summed and divided among the jobs that run at once. It is
// targets × raw make ÷ jobs with each target's own make, so that a matrix
// whose kernels differ (a 5.10 module builds in two thirds of a 6.12
// one's time) is not measured against whichever kernel stands for all.
func Floor(makes []time.Duration, jobs int) (time.Duration, error) {
	if jobs < 1 {
		return 0, fmt.Errorf("floor: %d jobs, want at least 1", jobs)
	}
	if len(makes) == 0 {
		return 0, ErrNoSamples
	}
	var sum time.Duration
	for _, d := range makes {
		if d <= 0 {
			return 0, fmt.Errorf("floor: raw make time %v, want a positive time", d)
		}
		sum += d
	}
	return sum / time.Duration(jobs), nil
}
