package builder

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/matrix"
)

func TestRemoveDangling(t *testing.T) {
	farm := map[string]string{LabelFarm: "1"}
	tests := map[string]struct {
		labels      map[string]string
		inUse       bool
		wantRemoved bool
	}{
		"a farm image nothing uses is removed":         {farm, false, true},
		"a farm image with more labels is removed too": {map[string]string{LabelFarm: "1", LabelBase: "x"}, false, true},
		"a farm image a container uses is left":        {farm, true, false},
		"an image without the farm's label is left":    {map[string]string{"other": "1"}, false, false},
		"an image whose farm label is not 1 is left":   {map[string]string{LabelFarm: "0"}, false, false},
		"an image without labels is left":              {map[string]string{}, false, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.dangling["sha256:d"] = tc.labels
			f.inUse["sha256:d"] = tc.inUse
			n, err := RemoveDangling(t.Context(), f)
			if err != nil {
				t.Fatal(err)
			}
			if removed := slices.Contains(f.removedImages, "sha256:d"); removed != tc.wantRemoved || n != len(f.removedImages) {
				t.Errorf("removed %v (count %d), want removed: %v", f.removedImages, n, tc.wantRemoved)
			}
		})
	}
}

// TestFarmRunLeavesNothing checks a farm run's sweeps: the dangling farm
// images found at the start and those made during the run are removed,
// also when the run is cancelled, and so is the build's container.
func TestFarmRunLeavesNothing(t *testing.T) {
	for _, cancelled := range []bool{false, true} {
		name := map[bool]string{false: "completed", true: "cancelled"}[cancelled]
		t.Run(name, func(t *testing.T) {
			target := debTarget("6.1.0-50-amd64")
			f := newFake()
			f.images[BaseImage(target)] = true
			f.images[HeadersImage(target)] = true
			f.labels[HeadersImage(target)] = map[string]string{LabelBase: BaseImage(target)}
			f.dangling["sha256:before"] = map[string]string{LabelFarm: "1"}
			f.run = func(c *fakeContainer) (int, string, map[string][]byte) {
				f.mu.Lock()
				f.dangling["sha256:during"] = map[string]string{LabelFarm: "1"}
				f.mu.Unlock()
				return okRun(c)
			}
			f.block = cancelled
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if cancelled {
				go cancelOnceCreated(ctx, f, cancel)
			}
			pub, err := NewDirPublisher(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			m := MatrixBuild{Publisher: pub, Options: []Option{WithClient(f), WithSource(testSource),
				WithModule("hello", "1.0"), WithCacheDir(t.TempDir())}}
			results, err := m.build(ctx, []matrix.Target{target})
			if cancelled != errors.Is(err, context.Canceled) || len(results) != 1 {
				t.Fatalf("farm run: %v %v", results, err)
			}
			if len(f.created) != 0 {
				t.Errorf("containers left: %d", len(f.created))
			}
			if len(f.dangling) != 0 || f.imageLists != 2 {
				t.Errorf("dangling images left: %v after %d sweeps; want none after two", f.dangling, f.imageLists)
			}
		})
	}
}

// cancelOnceCreated calls cancel once f has a container.
func cancelOnceCreated(ctx context.Context, f *fakeClient, cancel func()) {
	for ctx.Err() == nil {
		f.mu.Lock()
		n := len(f.created)
		f.mu.Unlock()
		if n > 0 {
			cancel()
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCancelledCreateLeavesNoContainer: the engine may make a container
// whose create request was cancelled; the builder removes it by name.
func TestCancelledCreateLeavesNoContainer(t *testing.T) {
	target := debTarget("6.1.0-50-amd64")
	f := newFake()
	f.run = okRun
	f.images[HeadersImage(target)] = true
	f.labels[HeadersImage(target)] = map[string]string{LabelBase: BaseImage(target)}
	f.createErr = context.Canceled
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := newFakeEngine(t, f).Build(ctx, target); !errors.Is(err, context.Canceled) {
		t.Fatalf("Build: %v, want context.Canceled", err)
	}
	if len(f.created) != 0 || len(f.removed) != 1 || f.removeCtxs[0] != nil {
		t.Errorf("%d containers left, removed %q with ctx errors %v; want the one made removed with a live context",
			len(f.created), f.removed, f.removeCtxs)
	}
}
