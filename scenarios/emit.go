package scenarios

import (
	"bytes"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/token"
)

// YAML writes the scenario in the file format Parse reads, in the shape of
// ../shared/examples/crash-during-alignment.yaml: block mappings for the
// scenario, its sources and its cluster, one flow mapping a line for operators
// and faults, configuration keys sorted. Parse(YAML()) gives an equal Scenario.
func (s *Scenario) YAML() ([]byte, error) {
	e := &emitter{}
	e.block(reflect.ValueOf(*s), 0)
	return e.buf.Bytes(), nil
}

// flowTypes are written as one flow mapping each.
var flowTypes = map[reflect.Type]bool{
	reflect.TypeFor[OperatorSpec](): true,
	reflect.TypeFor[FaultSpec]():    true,
	reflect.TypeFor[KeySpec]():      true,
	reflect.TypeFor[LinkSpec]():     true,
	reflect.TypeFor[StorageSpec]():  true,
	reflect.TypeFor[WhenSpec]():     true,
	reflect.TypeFor[ActionSpec]():   true,
}

type emitter struct {
	buf bytes.Buffer
}

func (e *emitter) indent(n int) {
	for i := 0; i < n; i++ {
		e.buf.WriteString("  ")
	}
}

// fields yields the yaml name and value of every field of struct v worth
// writing: non-zero values, non-nil pointers (an empty one is written as {}),
// non-empty slices and maps.
func fields(v reflect.Value) []struct {
	name string
	v    reflect.Value
} {
	var out []struct {
		name string
		v    reflect.Value
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.Pointer:
			if fv.IsNil() {
				continue
			}
		case reflect.Slice, reflect.Map:
			if fv.Len() == 0 {
				continue
			}
		default:
			if fv.IsZero() && !(fv.Kind() == reflect.Struct && name == "job") {
				continue
			}
		}
		out = append(out, struct {
			name string
			v    reflect.Value
		}{name, fv})
	}
	return out
}

// block writes struct v as a block mapping at the given indentation (the first
// line's indentation is already written when first is false).
func (e *emitter) block(v reflect.Value, level int) {
	for _, f := range fields(v) {
		e.indent(level)
		e.buf.WriteString(f.name)
		e.buf.WriteString(":")
		e.blockValue(f.name, f.v, level)
	}
}

func (e *emitter) blockValue(name string, v reflect.Value, level int) {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		if flowTypes[v.Type()] {
			e.buf.WriteString(" ")
			e.flow(v)
			e.buf.WriteString("\n")
			return
		}
		if len(fields(v)) == 0 {
			e.buf.WriteString(" {}\n")
			return
		}
		e.buf.WriteString("\n")
		e.block(v, level+1)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Struct {
			e.buf.WriteString(" ")
			e.flowValue(v)
			e.buf.WriteString("\n")
			return
		}
		e.buf.WriteString("\n")
		for i := 0; i < v.Len(); i++ {
			item := v.Index(i)
			e.indent(level + 1)
			e.buf.WriteString("- ")
			if flowTypes[item.Type()] || len(fields(item)) == 0 {
				e.flow(item)
				e.buf.WriteString("\n")
				continue
			}
			// A block mapping as a sequence entry: the first key follows "- ",
			// the others align with it.
			fs := fields(item)
			for j, f := range fs {
				if j > 0 {
					e.indent(level + 2)
				}
				e.buf.WriteString(f.name)
				e.buf.WriteString(":")
				e.blockValue(f.name, f.v, level+2)
			}
		}
	case reflect.Map:
		e.buf.WriteString("\n")
		keys := v.MapKeys()
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = k.String()
		}
		slices.Sort(names)
		for _, k := range names {
			e.indent(level + 1)
			e.buf.WriteString(scalar(k, false, true))
			e.buf.WriteString(": ")
			e.buf.WriteString(e.scalarValue(v.MapIndex(reflect.ValueOf(k)), false))
			e.buf.WriteString("\n")
		}
	case reflect.String:
		if name == "description" {
			if header, folded, ok := foldedBlock(v.String(), level+1); ok {
				e.buf.WriteString(" " + header + "\n")
				e.buf.WriteString(folded)
				return
			}
		}
		e.buf.WriteString(" ")
		e.buf.WriteString(e.scalarValue(v, false))
		e.buf.WriteString("\n")
	default:
		e.buf.WriteString(" ")
		e.buf.WriteString(e.scalarValue(v, false))
		e.buf.WriteString("\n")
	}
}

// flow writes struct v as a flow mapping: {a: 1, b: x}.
func (e *emitter) flow(v reflect.Value) {
	e.buf.WriteString("{")
	for i, f := range fields(v) {
		if i > 0 {
			e.buf.WriteString(", ")
		}
		e.buf.WriteString(f.name)
		e.buf.WriteString(": ")
		e.flowValue(f.v)
	}
	e.buf.WriteString("}")
}

func (e *emitter) flowValue(v reflect.Value) {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		e.flow(v)
	case reflect.Slice:
		e.buf.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				e.buf.WriteString(", ")
			}
			e.flowValue(v.Index(i))
		}
		e.buf.WriteString("]")
	case reflect.Map:
		// a flow mapping with sorted keys: {enrich: 3, totals: 3}
		names := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			names = append(names, k.String())
		}
		slices.Sort(names)
		e.buf.WriteString("{")
		for i, k := range names {
			if i > 0 {
				e.buf.WriteString(", ")
			}
			e.buf.WriteString(scalar(k, true, true))
			e.buf.WriteString(": ")
			e.buf.WriteString(e.scalarValue(v.MapIndex(reflect.ValueOf(k)), true))
		}
		e.buf.WriteString("}")
	default:
		e.buf.WriteString(e.scalarValue(v, true))
	}
}

func (e *emitter) scalarValue(v reflect.Value, flow bool) string {
	switch v.Kind() {
	case reflect.String:
		return scalar(v.String(), flow, false)
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float64, reflect.Float32:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	}
	return `""`
}

// plainChars are the characters a plain scalar may hold here (a conservative
// subset of YAML's plain scalars, safe inside flow collections too).
func plainChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == ' ' || r == '.' || r == '_' || r == '/' || r == '-' || r == '+'
}

// scalar writes a string as a plain scalar when that reads back as the same
// string (checked with the YAML library), else double-quoted.
func scalar(s string, flow, key bool) string {
	if plainOK(s) && readsBack(s, flow, key) {
		return s
	}
	return quote(s)
}

func plainOK(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || strings.Contains(s, "  ") || len(s) > 200 {
		return false
	}
	if !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z' || s[0] >= '0' && s[0] <= '9' ||
		s[0] == '-' && len(s) > 1 && s[1] >= '0' && s[1] <= '9') {
		return false
	}
	for _, r := range s {
		if !plainChar(r) {
			return false
		}
	}
	if token.IsNeedQuoted(s) {
		// Booleans and whole numbers read back as written into a string field.
		if s != "true" && s != "false" {
			if n, err := strconv.ParseInt(s, 10, 64); err != nil || strconv.FormatInt(n, 10) != s {
				return false
			}
		}
	}
	return true
}

// plainCache remembers readsBack's answers: the same few scalars ("1 ms",
// configuration keys) come up again and again, and asking the YAML library
// costs a parse.
var plainCache = struct {
	sync.Mutex
	m map[plainQuery]bool
}{m: map[plainQuery]bool{}}

type plainQuery struct {
	s         string
	flow, key bool
}

// readsBack checks that s written plain decodes to s.
func readsBack(s string, flow, key bool) bool {
	q := plainQuery{s, flow, key}
	plainCache.Lock()
	ok, known := plainCache.m[q]
	plainCache.Unlock()
	if known {
		return ok
	}
	ok = readsBackUncached(s, flow, key)
	plainCache.Lock()
	if len(plainCache.m) < 1<<14 {
		plainCache.m[q] = ok
	}
	plainCache.Unlock()
	return ok
}

func readsBackUncached(s string, flow, key bool) bool {
	var src string
	var out map[string]string
	switch {
	case key:
		src = s + ": x\n"
	case flow:
		src = "{v: " + s + "}\n"
	default:
		src = "v: " + s + "\n"
	}
	if err := yaml.UnmarshalWithOptions([]byte(src), &out, yaml.Strict()); err != nil || len(out) != 1 {
		return false
	}
	if key {
		_, ok := out[s]
		return ok
	}
	return out["v"] == s
}

// quote writes s double-quoted, escaping what YAML needs escaped and every
// control or line-breaking character.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			// Not representable in YAML (Parse rejects invalid UTF-8).
			b.WriteString(`\uFFFD`)
			i++
			continue
		}
		i += n
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == utf8.RuneError {
				b.WriteString(`\u`)
				h := strconv.FormatInt(int64(r), 16)
				b.WriteString(strings.Repeat("0", 4-len(h)))
				b.WriteString(h)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// foldedBlock writes a long text of one line (with or without one final newline)
// as a folded block scalar (> or >-) wrapped at spaces, when that reads back as
// the same text.
func foldedBlock(s string, level int) (header, body string, ok bool) {
	const width = 88
	header = ">-"
	text := s
	if t, nl := strings.CutSuffix(s, "\n"); nl {
		header, text = ">", t
	}
	if len(text) <= 60 || text[0] == ' ' || text[len(text)-1] == ' ' || strings.Contains(text, "  ") || !utf8.ValidString(text) {
		return "", "", false
	}
	for _, r := range text {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfeff {
			return "", "", false
		}
	}
	pad := strings.Repeat("  ", level)
	var b strings.Builder
	line := 0
	for i, w := range strings.Split(text, " ") {
		switch {
		case i == 0:
			b.WriteString(pad)
			line = len(pad)
		case line+1+len(w) > width:
			b.WriteString("\n")
			b.WriteString(pad)
			line = len(pad)
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	b.WriteString("\n")
	body = b.String()
	var check struct {
		V string `yaml:"v"`
	}
	if err := yaml.UnmarshalWithOptions([]byte("v: "+header+"\n"+body), &check, yaml.Strict()); err != nil || check.V != s {
		return "", "", false
	}
	return header, body, true
}
