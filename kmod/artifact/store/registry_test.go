package store

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// tagServer serves REPO's tag list one tag a page, tags t0…t(n-1), with
// link(page) as each page's Link header (no header when it returns "").
func tagServer(t *testing.T, n int, link func(srv *httptest.Server, next int) string) *registrySource {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/dnsmon/modules/tags/list" {
			http.NotFound(w, r)
			return
		}
		page := 0
		if l := r.URL.Query().Get("last"); l != "" {
			i, err := strconv.Atoi(strings.TrimPrefix(l, "t"))
			if err != nil {
				http.Error(w, "bad last", http.StatusBadRequest)
				return
			}
			page = i + 1
		}
		if page+1 < n {
			if l := link(srv, page+1); l != "" {
				w.Header().Set("Link", l)
			}
		}
		fmt.Fprintf(w, `{"name":"dnsmon/modules","tags":["t%d"]}`, page)
	}))
	t.Cleanup(srv.Close)
	repo, err := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/dnsmon/modules")
	if err != nil {
		t.Fatal(err)
	}
	return &registrySource{repo: repo, client: srv.Client(), maxTagPages: defaultMaxTagPages}
}

func TestRegistryTagsPages(t *testing.T) {
	next := func(_ *httptest.Server, p int) string {
		return fmt.Sprintf(`</v2/dnsmon/modules/tags/list?n=1&last=t%d>; rel="next"`, p-1)
	}
	for name, c := range map[string]struct {
		pages    int
		maxPages int
		link     func(*httptest.Server, int) string
		wantErr  string
	}{
		"one page": {pages: 1, link: next},
		// Past the 100 pages the listing used to stop at, quietly.
		"every one of 150 pages": {pages: 150, link: next},
		"more pages than the bound": {pages: 20, maxPages: 5, link: next,
			wantErr: "more than 5 pages (5 tags so far): refusing a partial listing"},
		"a link back to an earlier page": {pages: 10, link: func(_ *httptest.Server, p int) string {
			return `</v2/dnsmon/modules/tags/list?n=1&last=t0>; rel="next"`
		}, wantErr: "links back to page"},
		"a malformed link": {pages: 3, link: func(*httptest.Server, int) string { return "/v2/dnsmon/modules/tags/list?last=t0" },
			wantErr: "malformed Link header"},
		"a link to another host": {pages: 3, link: func(_ *httptest.Server, p int) string {
			return `<http://elsewhere.invalid/v2/dnsmon/modules/tags/list?last=t0>; rel="next"`
		}, wantErr: "leaves http://"},
	} {
		t.Run(name, func(t *testing.T) {
			src := tagServer(t, c.pages, c.link)
			if c.maxPages != 0 {
				src.maxTagPages = c.maxPages
			}
			tags, err := src.Tags(context.Background())
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Tags: %d tags, error %v; want an error containing %q", len(tags), err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tags) != c.pages || tags[0] != "t0" || tags[len(tags)-1] != fmt.Sprintf("t%d", c.pages-1) {
				t.Errorf("Tags: %d tags (%v … ), want t0…t%d", len(tags), tags[:min(3, len(tags))], c.pages-1)
			}
		})
	}
}
