package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dnsmon/dnsmon/builder/cache"
	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/cmd/internal/cli/clitest"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// TestExplain checks the advice dnsmon-farm adds to the farm libraries'
// errors: the text is what README.md's Troubleshooting table quotes.
func TestExplain(t *testing.T) {
	_, noKey := publish.New(t.Context(), "oci-layout:"+t.TempDir())
	dir := t.TempDir()
	if _, _, err := signature.GenerateKeyFiles(dir, false); err != nil {
		t.Fatal(err)
	}
	_, _, exists := signature.GenerateKeyFiles(dir, false)
	other := errors.New("with-dockerd: dockerd exited")
	_, noKernels := cache.Prune(t.Context(), filepath.Join(dir, "kernels.yaml"), cache.WithCacheDir(t.TempDir()),
		cache.WithKinds(cache.Trees), cache.WithMaxAge(0))
	clitest.CheckExplain(t, explain, map[string]clitest.Case{
		"no signing key": {Err: noKey, WantIs: publish.ErrNoSigningKey,
			Want: "publishing needs a signing key (dnsmon-farm keygen makes one)"},
		"no version index": {Err: fmt.Errorf("bundle: r/x has %w (tag _index)", publish.ErrNoVersionIndex), WantIs: publish.ErrNoVersionIndex,
			Want: "bundle: r/x has no version index (tag _index): run dnsmon-farm reindex --key on it first"},
		"key exists": {Err: exists, WantIs: signature.ErrKeyExists,
			Want: filepath.Join(dir, signature.PrivateKeyFile) + " exists: refusing to replace a signing key (pass --force)"},
		"no kernels file": {Err: noKernels, WantIs: noKernels,
			Want: "finding the header trees that must stay: reading kernels file: open " + filepath.Join(dir, "kernels.yaml") +
				": no such file or directory (pass -f with the kernels file the farm builds: prune keeps the header trees of the kernels it lists that their mirror no longer serves)"},
		"other": {Err: other, WantIs: other, Want: other.Error()},
	})
}
