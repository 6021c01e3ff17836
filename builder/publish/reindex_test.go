package publish_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/signature"
	"golang.org/x/sync/errgroup"
)

// TestShardsThenReindex publishes from several publishers at once with
// WithoutIndex, as parallel CI shards do, then rebuilds the index.
func TestShardsThenReindex(t *testing.T) {
	ctx := context.Background()
	key, _ := signature.GenerateKey()
	for name, target := range targets(t) {
		t.Run(name, func(t *testing.T) {
			const shards, perShard = 3, 4
			var g errgroup.Group
			if name == "layout" {
				// An OCI layout's index.json is one file that each
				// publisher rewrites: shards into one layout take turns.
				g.SetLimit(1)
			}
			for s := range shards {
				g.Go(func() error {
					p, err := publish.New(ctx, target, publish.WithSigningKey(key), publish.WithoutIndex())
					if err != nil {
						return err
					}
					defer p.Close()
					for i := range perShard {
						m := module(fmt.Sprintf("6.1.0-%d-amd64", s*perShard+i), "r")
						if err := p.Publish(ctx, m); err != nil {
							return err
						}
						// The farm's cache asks Has before building: it
						// must see the module without an index.
						if has, err := p.Has(ctx, m.Key); err != nil || !has {
							return fmt.Errorf("Has(%s) after publishing without index = %v, %v", m.Key.Kernel, has, err)
						}
						other := m.Key
						other.Recipe = "changed"
						if has, err := p.Has(ctx, other); err != nil || has {
							return fmt.Errorf("Has with another recipe = %v, %v", has, err)
						}
					}
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			src, err := store.Open(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if _, err := store.ReadManifest(ctx, src, "0.1.0"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("index exists after publishing without index: %v", err)
			}

			// One unsigned module, in another version, must stay out
			// unless asked for.
			up := newPublisher(t, target, publish.WithoutSigning(), publish.WithoutIndex())
			um := module("6.1.0-99-amd64", "r")
			um.Key.ModuleVersion = "0.2.0"
			if err := up.Publish(ctx, um); err != nil {
				t.Fatal(err)
			}

			p := newPublisher(t, target, publish.WithoutSigning())
			tests := []struct {
				name        string
				opts        publish.ReindexOptions
				written     int
				unchanged   int
				modules     int
				versions    []string
				skippedSome bool
			}{
				{"first", publish.ReindexOptions{}, 1, 0, shards * perShard, []string{"0.1.0"}, true},
				{"again is a no-op", publish.ReindexOptions{}, 0, 1, shards * perShard, []string{"0.1.0"}, true},
				{"one version", publish.ReindexOptions{Versions: []string{"0.1.0"}}, 0, 1, shards * perShard, []string{"0.1.0"}, false},
				{"unsigned too", publish.ReindexOptions{IncludeUnsigned: true}, 1, 1, shards*perShard + 1, []string{"0.1.0", "0.2.0"}, false},
			}
			for _, tc := range tests {
				st, err := p.Reindex(ctx, tc.opts)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if st.Written != tc.written || st.Unchanged != tc.unchanged || st.Modules != tc.modules ||
					!slices.Equal(st.Versions, tc.versions) || (len(st.Skipped) > 0) != tc.skippedSome {
					t.Errorf("%s: stats %+v, want written %d unchanged %d modules %d versions %v skipped %v",
						tc.name, st, tc.written, tc.unchanged, tc.modules, tc.versions, tc.skippedSome)
				}
			}
			_, descs, err := artifact.ParseIndex(readManifest(t, target, "0.1.0"))
			if err != nil || len(descs) != shards*perShard {
				t.Fatalf("index lists %d modules (%v), want %d", len(descs), err, shards*perShard)
			}
			// The rebuilt index serves hosts: resolve one module.
			if _, err := resolve(ctx, src, "0.1.0", "6.1.0-5-amd64", signature.Keys{&key.PublicKey}); err != nil {
				t.Errorf("resolving through the rebuilt index: %v", err)
			}
			if _, err := p.Reindex(ctx, publish.ReindexOptions{Versions: []string{"9.9.9"}}); err == nil {
				t.Error("reindexing a version without modules succeeded")
			}
		})
	}
}
