package fetcher_test

import (
	"errors"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/fetcher/install"
	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

// TestWithReleaseRefusesPaths checks that the release options of the
// fetcher, the installer and the loader refuse the same releases with the
// same typed error: the release ends up in file paths.
func TestWithReleaseRefusesPaths(t *testing.T) {
	for _, release := range []string{"", "..", ".", "../../etc", "6.1/x", "/", "6.1\x00x", "-a"} {
		errs := map[string]error{}
		_, errs["fetcher"] = fetcher.Fetch(t.Context(), fetcher.WithRelease(release))
		_, errs["install"] = install.Uninstall(t.Context(), install.WithRelease(release))
		_, errs["loader"] = loader.Load(t.Context(), "x.ko", nil, loader.WithRelease(release))
		for pkg, err := range errs {
			var re *modinfo.ReleaseError
			if !errors.As(err, &re) || re.Release != release {
				t.Errorf("%s WithRelease(%q): %v, want a *modinfo.ReleaseError", pkg, release, err)
			}
		}
	}
}
