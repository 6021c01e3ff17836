package bench

import (
	"testing"
	"time"
)

func TestFloor(t *testing.T) {
	s := time.Second
	for name, c := range map[string]struct {
		makes   []time.Duration
		jobs    int
		want    time.Duration
		wantErr bool
	}{
		"one job":              {[]time.Duration{3 * s, 4 * s, 5 * s}, 1, 12 * s, false},
		"two jobs":             {[]time.Duration{3 * s, 4 * s, 5 * s}, 2, 6 * s, false},
		"equal kernels":        {[]time.Duration{4 * s, 4 * s, 4 * s, 4 * s}, 2, 8 * s, false},
		"more jobs than makes": {[]time.Duration{2 * s}, 4, s / 2, false},
		"no makes":             {nil, 2, 0, true},
		"no jobs":              {[]time.Duration{s}, 0, 0, true},
		"zero make":            {[]time.Duration{s, 0}, 2, 0, true},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Floor(c.makes, c.jobs)
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("Floor(%v, %d) = %v, %v; want %v, error %t", c.makes, c.jobs, got, err, c.want, c.wantErr)
			}
		})
	}
}
