package matrix

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// PosError is a problem at a place in kernels.yaml.
type PosError struct {
	// File is the file name as given to Parse.
	File string
	// Line and Column are 1-based; Column is 0 when unknown.
	Line, Column int
	// Err is the problem.
	Err error
}

func (e *PosError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *PosError) Unwrap() error { return e.Err }

// Load reads and validates a kernels.yaml file.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading kernels file: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates kernels.yaml content. name is used in error
// messages. Every problem is reported, each with its file:line, in one
// errors.Join error.
func Parse(name string, data []byte) (*File, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	f := &File{name: name}
	if root.Kind == 0 {
		return nil, &PosError{File: name, Line: 1, Err: errors.New("empty file")}
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	var errs []error
	checkKeys(name, doc, reflect.TypeFor[File](), "top level", &errs)
	if doc.Kind != yaml.MappingNode {
		return nil, errors.Join(errs...)
	}
	groups := mappingValue(doc, "groups")
	if groups == nil {
		errs = append(errs, &PosError{File: name, Line: doc.Line, Column: doc.Column, Err: errors.New(`missing "groups"`)})
		return nil, errors.Join(errs...)
	}
	if groups.Kind != yaml.SequenceNode {
		errs = append(errs, &PosError{File: name, Line: groups.Line, Column: groups.Column, Err: errors.New(`"groups" must be a list`)})
		return nil, errors.Join(errs...)
	}
	for _, gn := range groups.Content {
		var g Group
		if err := gn.Decode(&g); err != nil {
			errs = append(errs, yamlError(name, err))
			continue
		}
		g.line = gn.Line
		if kn := mappingValue(gn, "kernels"); kn != nil && kn.Kind == yaml.SequenceNode {
			for _, k := range kn.Content {
				g.kernelLines = append(g.kernelLines, k.Line)
			}
		}
		f.Groups = append(f.Groups, g)
	}
	errs = append(errs, f.validate()...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f, nil
}

// Name is the file name the File was parsed from.
func (f *File) Name() string { return f.name }

// mappingValue returns the value node of key in mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolveAlias(n.Content[i+1])
		}
	}
	return nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// checkKeys reports every mapping key in n that the struct type t (or the
// structs nested in it) has no yaml field for.
func checkKeys(file string, n *yaml.Node, t reflect.Type, where string, errs *[]error) {
	n = resolveAlias(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // the decoder reports the type mismatch
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
			if !sf.IsExported() || tag == "-" || tag == "" {
				continue
			}
			fields[tag] = sf.Type
			names = append(names, tag)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, &PosError{File: file, Line: k.Line, Column: k.Column,
					Err: fmt.Errorf("unknown key %q in %s (known: %s)", k.Value, where, strings.Join(names, ", "))})
				continue
			}
			checkKeys(file, v, ft, strconv.Quote(k.Value), errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for _, c := range n.Content {
			checkKeys(file, c, t.Elem(), where+" entry", errs)
		}
	}
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line ([0-9]+): (.*)$`)

// yamlError turns yaml.v3's "line N: ..." messages into PosErrors.
func yamlError(file string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var errs []error
	for _, m := range msgs {
		if s := yamlLine.FindStringSubmatch(m); s != nil {
			line, _ := strconv.Atoi(s[1])
			errs = append(errs, &PosError{File: file, Line: line, Err: errors.New(s[2])})
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %s", file, m))
	}
	return errors.Join(errs...)
}
