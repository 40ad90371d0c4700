package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	yamlv3 "gopkg.in/yaml.v3"
)

// maxEntries bounds the keys of one mapping of a scenario file: the largest a
// real file has is its config (a few dozen keys).
const maxEntries = 1000

// maxListed is how many further problems an error lists after the first.
const maxListed = 20

// problem is one finding of precheck, at a position of the file.
type problem struct {
	line, col int
	path      string
	msg       string
}

// precheck reads the file with a second, linear-time YAML parser and checks its
// shape against the scenario format before the strict parse: every unknown key
// and every value of the wrong kind (a list where a mapping belongs, a string
// where a number does), in file order, all at once. A file this parser cannot
// read is left to the strict parser, whose syntax errors name line and column.
//
// Why a second parser and not goccy/go-yaml's own parser/ast: goccy's parser
// (v1.19, parser.ParseBytes, before any decoding) is quadratic in the keys of one
// block mapping: its parseMap recurses once per sibling key and copies what it
// gathered at every level (goccy/go-yaml pull request #889, open). Measured here:
// 7,500 keys 1.3 s, 15,000 5.7 s, 30,000 18 s, 60,000 64 s; yaml.v3 reads the same
// 60,000 in 0.4 s, and a file that passes this check holds at most maxEntries keys
// per mapping, so goccy's parse that follows stays small. Speed:
// BenchmarkLoadManyUnknownKeys.
func (p *fileState) precheck() error {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(p.data, &doc); err != nil || doc.Kind != yamlv3.DocumentNode || len(doc.Content) != 1 {
		return nil
	}
	var probs []problem
	p.shape(doc.Content[0], reflect.TypeFor[Scenario](), "", &probs)
	if len(probs) == 0 {
		return nil
	}
	first := probs[0]
	e := p.errAt(first.line, first.col, first.path, first.msg)
	if len(probs) > 1 {
		e.More = append(e.More, fmt.Sprintf("and %d more problems:", len(probs)-1))
		for _, pr := range probs[1:min(len(probs), maxListed+1)] {
			e.More = append(e.More, fmt.Sprintf("%s:%d:%d: %s", p.file, pr.line, pr.col, pr.msg))
		}
		if rest := len(probs) - 1 - maxListed; rest > 0 {
			e.More = append(e.More, fmt.Sprintf("... and %d more", rest))
		}
	}
	return e
}

// shape checks node n against Go type t at path, appending what is wrong.
func (p *fileState) shape(n *yamlv3.Node, t reflect.Type, path string, probs *[]problem) {
	if n == nil || n.Kind == yamlv3.AliasNode || isNull(n) {
		return // aliases are refused by the strict pass, with their own message
	}
	add := func(at *yamlv3.Node, format string, args ...any) {
		*probs = append(*probs, problem{at.Line, at.Column, path, fmt.Sprintf(format, args...)})
	}
	what := lastElem(path)
	if what == "" {
		what = "the scenario"
	}
	switch t.Kind() {
	case reflect.Pointer:
		p.shape(n, t.Elem(), path, probs)
	case reflect.Struct, reflect.Map:
		if n.Kind != yamlv3.MappingNode {
			add(n, "%s must be a mapping (%s), got %s", what, takes(t), kindOf(n))
			return
		}
		if t.Kind() == reflect.Map && len(n.Content)/2 > maxEntries {
			add(n, "%s has %d keys; a mapping of a scenario holds at most %d", what, len(n.Content)/2, maxEntries)
			return
		}
		seen := map[string]*yamlv3.Node{}
		hinted := false // the keys a mapping takes are listed at its first unknown key
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yamlv3.ScalarNode {
				continue // complex keys: the strict pass refuses them
			}
			sub := joinPath(path, k.Value)
			if prev, dup := seen[k.Value]; dup {
				*probs = append(*probs, problem{k.Line, k.Column, sub,
					fmt.Sprintf("key %q is already defined at %d:%d", k.Value, prev.Line, prev.Column)})
				continue
			}
			seen[k.Value] = k
			var vt reflect.Type
			if t.Kind() == reflect.Struct {
				f, ok := fieldByTag(t, k.Value)
				if !ok {
					msg := fmt.Sprintf("unknown key %q in %s", k.Value, orScenario(path))
					if !hinted {
						msg += fmt.Sprintf(" (it takes %s)", takes(t))
						hinted = true
					}
					*probs = append(*probs, problem{k.Line, k.Column, sub, msg + suggestion(k.Value, t, len(*probs))})
					continue
				}
				vt = f.Type
			} else if vt = t.Elem(); path == "config" && !isConfigKey(k.Value) && !notModelledKey(k.Value) {
				hint := ""
				if len(*probs) < maxListed {
					hint = didYouMean(k.Value, configKeyNames())
				}
				*probs = append(*probs, problem{k.Line, k.Column, sub, fmt.Sprintf("unknown configuration key %q%s", k.Value, hint)})
				continue
			}
			p.shape(v, vt, sub, probs)
		}
	case reflect.Slice:
		if n.Kind != yamlv3.SequenceNode {
			add(n, "%s must be a list, got %s", what, kindOf(n))
			return
		}
		for i, v := range n.Content {
			p.shape(v, t.Elem(), path+"["+strconv.Itoa(i)+"]", probs)
		}
	case reflect.String:
		if n.Kind != yamlv3.ScalarNode {
			add(n, "%s must be a single value, got %s", what, kindOf(n))
		}
	case reflect.Int, reflect.Int64, reflect.Uint64:
		if n.Kind != yamlv3.ScalarNode || n.Tag != "!!int" {
			add(n, "%s must be a whole number, got %s", what, kindOf(n))
			return
		}
		v := strings.ReplaceAll(n.Value, "_", "")
		if t.Kind() == reflect.Uint64 {
			if _, err := strconv.ParseUint(strings.TrimPrefix(v, "+"), 0, 64); err != nil {
				add(n, "%s must be a whole number from 0 to %d, got %s", what, uint64(math.MaxUint64), n.Value)
			}
		} else if _, err := strconv.ParseInt(v, 0, 64); err != nil {
			add(n, "%s must be a whole number from %d to %d, got %s", what, math.MinInt64, math.MaxInt64, n.Value)
		}
	case reflect.Float64:
		if n.Kind != yamlv3.ScalarNode || n.Tag != "!!int" && n.Tag != "!!float" {
			add(n, "%s must be a number, got %s", what, kindOf(n))
		}
	}
}

func isNull(n *yamlv3.Node) bool { return n.Kind == yamlv3.ScalarNode && n.Tag == "!!null" }

func orScenario(path string) string {
	if path == "" {
		return "the scenario"
	}
	return path
}

// takes lists the keys a struct type takes, or says what a map holds.
func takes(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "keys and values"
	}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	return strings.Join(names, ", ")
}

// suggestion is " (did you mean ...?)" for the first problems of a file; later
// ones (a file of thousands of unknown keys) go without, to stay fast.
func suggestion(key string, t reflect.Type, nth int) string {
	if nth >= maxListed {
		return ""
	}
	return didYouMean(key, strings.Split(takes(t), ", "))
}

// kindOf says what a node is, in the words of the messages.
func kindOf(n *yamlv3.Node) string {
	switch n.Kind {
	case yamlv3.MappingNode:
		return "a mapping"
	case yamlv3.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!int":
		return "the whole number " + n.Value
	case "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	}
	return fmt.Sprintf("the string %q", n.Value)
}

func notModelledKey(k string) bool {
	for _, nm := range notModelled {
		if k == nm || strings.HasSuffix(nm, ".") && strings.HasPrefix(k, nm) {
			return true
		}
	}
	return false
}

func configKeyNames() []string {
	names := make([]string, 0, len(configKeys))
	for n := range configKeys {
		names = append(names, n)
	}
	return names
}
