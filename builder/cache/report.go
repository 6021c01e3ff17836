package cache

import (
	"fmt"
	"strings"
)

// Usage is what the entries of each kind take, in bytes (or, in
// Report.Removed, how many there are).
type Usage struct {
	Trees, Packages, Images int64
}

func (u *Usage) add(k Kind, n int64) {
	switch k {
	case Trees:
		u.Trees += n
	case Packages:
		u.Packages += n
	case Images:
		u.Images += n
	}
}

// Total is the sum over the kinds.
func (u Usage) Total() int64 { return u.Trees + u.Packages + u.Images }

// Report is what a Prune did, or would do in a dry run.
type Report struct {
	DryRun bool
	// Before and After are the bytes the entries of the kinds pruned take.
	Before, After Usage
	// Removed counts the entries removed per kind; Freed is their bytes.
	Removed Usage
	Freed   int64
	// Kept counts the trees kept as the headers of a listed kernel;
	// Skipped the entries in use.
	Kept, Skipped int
	// MaxSize is the size limit, -1 for none.
	MaxSize int64
}

// String is the run's summary, one line per fact.
func (r Report) String() string {
	var b strings.Builder
	verb, freed, holds := "removed", "freed", "holds"
	if r.DryRun {
		verb, freed, holds = "would remove", "would free", "would hold"
	}
	fmt.Fprintf(&b, "%s %s, %s and %s: %s %s (%d bytes)\n", verb, count(r.Removed.Trees, "tree"),
		count(r.Removed.Packages, "package"), count(r.Removed.Images, "image"), freed, FormatBytes(r.Freed), r.Freed)
	fmt.Fprintf(&b, "the cache %s %s: trees %s, packages %s, images %s (was %s)",
		holds, FormatBytes(r.After.Total()), FormatBytes(r.After.Trees), FormatBytes(r.After.Packages),
		FormatBytes(r.After.Images), FormatBytes(r.Before.Total()))
	if r.Kept > 0 {
		fmt.Fprintf(&b, "\nkept %s: the headers of kernels kernels.yaml lists, whose mirror drops them or has dropped them", count(int64(r.Kept), "header tree"))
	}
	if r.Skipped > 0 {
		fmt.Fprintf(&b, "\nskipped %s in use: run prune again when the builds are done", count(int64(r.Skipped), "entry"))
	}
	if r.MaxSize >= 0 && r.After.Total() > r.MaxSize {
		fmt.Fprintf(&b, "\n%s over the maximum size %s: what is left is kept or in use", FormatBytes(r.After.Total()-r.MaxSize), FormatBytes(r.MaxSize))
	}
	return b.String()
}

// count writes "1 tree", "2 trees", "2 entries".
func count(n int64, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// FormatBytes writes n in binary units: "83.1 MiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
