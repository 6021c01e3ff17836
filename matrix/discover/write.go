package discover

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/dnsmon/dnsmon/matrix"
	"gopkg.in/yaml.v3"
)

// Additions maps group names to the kernel releases to append to them.
type Additions map[string][]string

// ToWrite returns the new releases of the results that Write should add:
// those of groups that were read without error and do not track.
func ToWrite(results []Result) Additions {
	add := Additions{}
	for _, r := range results {
		if r.Err == nil && !r.Tracked && len(r.New) > 0 {
			add[r.Group] = slices.Clone(r.New)
		}
	}
	return add
}

// Edit returns kernels.yaml content data with each group's releases
// appended to its kernels list, as new lines after the group's last kernel
// line with the same indentation: every other byte of the file, comments
// and blank lines included, is kept. Releases the group lists already are
// skipped. The result is parsed and validated before it is returned.
func Edit(name string, data []byte, add Additions) ([]byte, int, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, 0, fmt.Errorf("editing %s: %w", name, err)
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	groups := mapValue(doc, "groups")
	if groups == nil || groups.Kind != yaml.SequenceNode {
		return nil, 0, fmt.Errorf("editing %s: no groups list", name)
	}
	lines := strings.SplitAfter(string(data), "\n")
	type insertion struct {
		after int // 0-based index of the line to insert after
		text  []string
	}
	var ins []insertion
	done := map[string]bool{}
	n := 0
	for _, gn := range groups.Content {
		nameNode := mapValue(gn, "name")
		if nameNode == nil {
			continue
		}
		g := nameNode.Value
		rels, ok := add[g]
		if !ok || done[g] {
			continue
		}
		done[g] = true
		kn := mapValue(gn, "kernels")
		if kn == nil || kn.Kind != yaml.SequenceNode || len(kn.Content) == 0 {
			return nil, 0, fmt.Errorf("editing %s: group %q has no kernels list to add to (add one kernel by hand first)", name, g)
		}
		if kn.Style&yaml.FlowStyle != 0 {
			return nil, 0, fmt.Errorf("editing %s:%d: group %q lists its kernels in flow style [..]: write them one per line", name, kn.Line, g)
		}
		var have []string
		for _, k := range kn.Content {
			have = append(have, k.Value)
		}
		last := kn.Content[len(kn.Content)-1]
		if last.Line < 1 || last.Line > len(lines) || last.Column < 1 {
			return nil, 0, fmt.Errorf("editing %s: group %q: kernel list position out of range", name, g)
		}
		line := lines[last.Line-1]
		if last.Column-1 > len(line) {
			return nil, 0, fmt.Errorf("editing %s:%d: group %q: unexpected kernel line", name, last.Line, g)
		}
		prefix := line[:last.Column-1]
		if strings.TrimSpace(prefix) != "-" {
			return nil, 0, fmt.Errorf("editing %s:%d: group %q: the last kernel is not on a line of its own", name, last.Line, g)
		}
		// A multi-line last item (unusual for a release) ends later.
		after := last.Line - 1
		var text []string
		for _, r := range rels {
			if slices.Contains(have, r) {
				continue
			}
			if _, err := matrix.ParseRelease(r); err != nil {
				return nil, 0, fmt.Errorf("editing %s: group %q: %w", name, g, err)
			}
			have = append(have, r)
			text = append(text, prefix+r+"\n")
		}
		if len(text) > 0 {
			ins = append(ins, insertion{after: after, text: text})
			n += len(text)
		}
	}
	var missing []string
	for g := range add {
		if !done[g] {
			missing = append(missing, g)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, 0, fmt.Errorf("editing %s: no group named %s", name, strings.Join(missing, ", "))
	}
	if n == 0 {
		return data, 0, nil
	}
	if !strings.HasSuffix(lines[len(lines)-1], "\n") && lines[len(lines)-1] != "" {
		lines[len(lines)-1] += "\n"
	}
	var b bytes.Buffer
	next := 0
	slices.SortFunc(ins, func(a, b insertion) int { return a.after - b.after })
	for i, l := range lines {
		b.WriteString(l)
		for next < len(ins) && ins[next].after == i {
			for _, t := range ins[next].text {
				b.WriteString(t)
			}
			next++
		}
	}
	out := b.Bytes()
	if _, err := matrix.Parse(name, out); err != nil {
		return nil, 0, fmt.Errorf("editing %s: the edited file would be invalid: %w", name, err)
	}
	return out, n, nil
}

// Write adds the releases to the kernels file at path (see Edit) and
// replaces it atomically: a temporary file in the same directory, fsync,
// rename. It returns how many releases it added; with none, the file is
// not touched.
func Write(path string, add Additions) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading kernels file: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("reading kernels file: %w", err)
	}
	out, n, err := Edit(path, data, add)
	if err != nil || n == 0 {
		return 0, err
	}
	if err := atomicfile.Write(path, out, fi.Mode().Perm()); err != nil {
		return 0, err
	}
	return n, nil
}

// mapValue returns the value of key in mapping node n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
