package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// MaxFileSize bounds a scenario file; real ones are a few kilobytes.
const MaxFileSize = 1 << 20

// maxDepth bounds the nesting of a scenario file (the format nests four levels).
const maxDepth = 32

// Error is a problem in a scenario file: a syntax error, an unknown key, a value
// of the wrong type or an impossible value, with the position of the offending
// node.
type Error struct {
	File   string
	Line   int // 1-based
	Column int // 1-based
	// Path names the offending node, e.g. "job.operators[1].parallelism" (empty
	// for syntax errors).
	Path string
	Msg  string
	// Source is the offending line of the file with a caret under the column, for
	// display; it may be empty.
	Source string
	// More lists the file's further problems found in the same pass, in file
	// order, one line each ("file:line:column: message").
	More []string
}

// Error formats the problem as "file:line:column: message", followed by the
// offending line of the file.
func (e *Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	if e.Source != "" {
		s += "\n" + e.Source
	}
	for _, m := range e.More {
		s += "\n  " + m
	}
	return s
}

// Load reads a scenario file (see Parse).
func Load(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(data, path)
}

// Parse reads a scenario from YAML, strictly: a syntax error, an unknown key, a
// value of the wrong type, an impossible value (parallelism 0, a negative
// interval, an unknown operator input, an unknown configuration key...) is an
// *Error naming filename, line and column. Parse checks everything Setup checks
// (under the protocol the configuration selects); it never panics.
func Parse(data []byte, filename string) (sc *Scenario, err error) {
	if filename == "" {
		filename = "<input>"
	}
	p := &fileState{file: filename, data: data, pos: map[string]token.Position{}, keyPos: map[string]token.Position{}, zero: map[string]bool{}}
	defer func() {
		if r := recover(); r != nil {
			sc, err = nil, p.errAt(1, 1, "", fmt.Sprintf("cannot read the scenario (internal error: %v)", r))
		}
	}()
	if len(data) > MaxFileSize {
		return nil, p.errAt(1, 1, "", fmt.Sprintf("file is larger than %d bytes", MaxFileSize))
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // a byte order mark starts some editors' UTF-8
	p.data = data
	if off, what := notText(data); off >= 0 {
		// no excerpt: the bytes of a binary file would garble the terminal
		line, col := lineCol(data, off)
		return nil, &Error{File: p.file, Line: line, Column: col,
			Msg: fmt.Sprintf("not a scenario file: %s (a scenario is YAML text)", what)}
	}
	if d, line, col := flowDepth(data); d > maxDepth {
		return nil, p.errAt(line, col, "", fmt.Sprintf("nesting deeper than %d levels", maxDepth))
	}
	if err := p.precheck(); err != nil {
		return nil, err
	}
	f, perr := parser.ParseBytes(data, 0)
	if perr != nil {
		return nil, p.yamlErr(perr)
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return nil, p.errAt(1, 1, "", "empty scenario: expected a mapping with name and job")
	}
	if len(docs) > 1 {
		line, col := 1, 1
		if t := docs[1].Start; t != nil && t.Position != nil {
			line, col = t.Position.Line, t.Position.Column
		} else if t := docs[1].Body.GetToken(); t != nil && t.Position != nil {
			line, col = t.Position.Line, t.Position.Column
		}
		return nil, p.errAt(line, col, "", "a scenario file holds one YAML document; found another")
	}
	body := docs[0].Body
	if err := p.checkFeatures(body, 0); err != nil {
		return nil, err
	}
	if _, ok := body.(*ast.MappingNode); !ok {
		if _, ok := body.(*ast.MappingValueNode); !ok {
			return nil, p.nodeErr(body, "", "a scenario is a mapping with name, job, cluster, config, faults and expect")
		}
	}
	var s Scenario
	dec := yaml.NewDecoder(strings.NewReader(""), yaml.Strict())
	if derr := dec.DecodeFromNode(body, &s); derr != nil {
		return nil, p.yamlErr(derr)
	}
	if err := p.walk(body, reflect.TypeFor[Scenario](), ""); err != nil {
		return nil, err
	}
	if _, serr := s.setup("", nil, p); serr != nil {
		var pe *pathError
		if errors.As(serr, &pe) {
			return nil, p.pathErr(pe)
		}
		return nil, p.errAt(1, 1, "", serr.Error())
	}
	return &s, nil
}

// fileState is what Parse knows about the file: where each node is, and which
// numbers were written as an explicit 0 (an impossible value where 0 means "the
// default" in Go).
type fileState struct {
	file   string
	data   []byte
	pos    map[string]token.Position // path -> value position
	keyPos map[string]token.Position // path -> key position
	zero   map[string]bool           // paths of integers written as 0
}

// explicitZero reports whether the integer at path was written as 0.
func (p *fileState) explicitZero(path string) bool { return p != nil && p.zero[path] }

// notText finds the first byte that makes data something other than UTF-8 text:
// invalid UTF-8, or a control character other than tab, line feed and carriage
// return. It returns -1 for text.
func notText(data []byte) (int, string) {
	for off := 0; off < len(data); {
		r, n := utf8.DecodeRune(data[off:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return off, "it is not valid UTF-8 text"
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f:
			return off, fmt.Sprintf("it holds the control character %U, as binary files do", r)
		}
		off += n
	}
	return -1, ""
}

func lineCol(data []byte, off int) (int, int) {
	line, col := 1, 1
	for _, r := range string(data[:off]) {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// flowDepth approximates the deepest nesting of the file — flow collections plus
// block entries that open on one line ("- - - x") — and where it is, without
// parsing, so that hostile input cannot make the YAML parser recurse deeply.
func flowDepth(data []byte) (max, line, col int) {
	depth, l, c := 0, 1, 0
	var quote byte
	atIndent, dashes := true, 0
	for i := 0; i < len(data); i++ {
		b := data[i]
		if b == '\n' {
			l, c, atIndent, dashes = l+1, 0, true, 0
			continue
		}
		c++
		if quote != 0 {
			if quote == '"' && b == '\\' && i+1 < len(data) && data[i+1] != '\n' {
				i++
				c++
			} else if b == quote {
				quote = 0
			}
			continue
		}
		indicator := false
		switch {
		case b == '#' && (i == 0 || data[i-1] == ' ' || data[i-1] == '\t'):
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
			continue
		case b == '"' || b == '\'':
			quote = b
		case b == '[' || b == '{':
			depth++
		case b == ']' || b == '}':
			if depth > 0 {
				depth--
			}
		case atIndent && (b == '-' || b == '?' || b == ':') && (i+1 == len(data) || data[i+1] == ' ' || data[i+1] == '\n'):
			dashes++
			indicator = true
		}
		if !indicator && b != ' ' && b != '\t' {
			atIndent = false
		}
		if d := depth + dashes; d > max {
			max, line, col = d, l, c
		}
	}
	return max, line, col
}

// source returns the line of the file and a caret under col.
func (p *fileState) source(line, col int) string {
	lines := bytes.Split(p.data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return ""
	}
	text := strings.TrimRight(string(lines[line-1]), "\r")
	if len(text) > 200 {
		return ""
	}
	prefix := fmt.Sprintf("%5d | ", line)
	pad := strings.Repeat(" ", len(prefix)-2) + "| "
	caret := ""
	n := 0
	for _, r := range text {
		if n >= col-1 {
			break
		}
		if r == '\t' {
			caret += "\t"
		} else {
			caret += " "
		}
		n++
	}
	return prefix + text + "\n" + pad + caret + "^"
}

func (p *fileState) errAt(line, col int, path, msg string) *Error {
	if line < 1 {
		line = 1
	}
	if col < 1 {
		col = 1
	}
	return &Error{File: p.file, Line: line, Column: col, Path: path, Msg: msg, Source: p.source(line, col)}
}

func tokenPos(t *token.Token) (int, int, bool) {
	if t == nil || t.Position == nil || t.Position.Line < 1 {
		return 0, 0, false
	}
	return t.Position.Line, t.Position.Column, true
}

func (p *fileState) nodeErr(n ast.Node, path, msg string) *Error {
	if n != nil {
		if line, col, ok := tokenPos(n.GetToken()); ok {
			return p.errAt(line, col, path, msg)
		}
	}
	return p.errAt(1, 1, path, msg)
}

// yamlErr turns an error of the YAML library into an *Error.
func (p *fileState) yamlErr(err error) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg := ye.GetMessage()
		if line, col, ok := tokenPos(ye.GetToken()); ok {
			return p.errAt(line, col, "", msg)
		}
		return p.errAt(1, 1, "", msg)
	}
	return p.errAt(1, 1, "", err.Error())
}

// pathErr places a semantic error at the node it names, or at the closest
// enclosing node written in the file.
func (p *fileState) pathErr(e *pathError) *Error {
	for path := e.path; ; path = parentPath(path) {
		if e.key {
			if pos, ok := p.keyPos[path]; ok {
				return p.errAt(pos.Line, pos.Column, e.path, e.msg)
			}
		}
		if pos, ok := p.pos[path]; ok {
			return p.errAt(pos.Line, pos.Column, e.path, e.msg)
		}
		if pos, ok := p.keyPos[path]; ok {
			return p.errAt(pos.Line, pos.Column, e.path, e.msg)
		}
		if path == "" {
			return p.errAt(1, 1, e.path, e.msg)
		}
	}
}

// parentPath strips the last element of a path: "job.operators[1].cost" ->
// "job.operators[1]" -> "job.operators" -> "job" -> "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkFeatures refuses the YAML features a scenario has no use for and that
// would hide where a value comes from: anchors, aliases, merge keys, tags,
// directives and complex keys.
func (p *fileState) checkFeatures(n ast.Node, depth int) error {
	if n == nil {
		return nil
	}
	if depth > maxDepth {
		return p.nodeErr(n, "", fmt.Sprintf("nesting deeper than %d levels", maxDepth))
	}
	switch n := n.(type) {
	case *ast.AnchorNode:
		return p.nodeErr(n, "", "anchors (&name) are not supported in scenario files")
	case *ast.AliasNode:
		return p.nodeErr(n, "", "aliases (*name) are not supported in scenario files")
	case *ast.TagNode:
		return p.nodeErr(n, "", "tags (!name) are not supported in scenario files")
	case *ast.MergeKeyNode:
		return p.nodeErr(n, "", "merge keys (<<) are not supported in scenario files")
	case *ast.DirectiveNode:
		return p.nodeErr(n, "", "directives (%) are not supported in scenario files")
	case *ast.MappingKeyNode:
		return p.nodeErr(n, "", "complex keys (?) are not supported in scenario files")
	case *ast.MappingNode:
		for _, v := range n.Values {
			if err := p.checkFeatures(v, depth+1); err != nil {
				return err
			}
		}
	case *ast.MappingValueNode:
		if err := p.checkFeatures(n.Key, depth+1); err != nil {
			return err
		}
		switch n.Key.(type) {
		case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NullNode, *ast.InfinityNode, *ast.NanNode:
		default:
			return p.nodeErr(n.Key, "", "a key must be a plain name")
		}
		return p.checkFeatures(n.Value, depth+1)
	case *ast.SequenceNode:
		for _, v := range n.Values {
			if err := p.checkFeatures(v, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// entries returns the key-value pairs of a mapping node (a single pair may be a
// bare MappingValueNode).
func entries(n ast.Node) []*ast.MappingValueNode {
	switch n := n.(type) {
	case *ast.MappingNode:
		return n.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}
	}
	return nil
}

func keyString(k ast.MapKeyNode) string {
	if t := k.GetToken(); t != nil {
		return t.Value
	}
	return ""
}

// fieldByTag finds the field of struct type t whose yaml name is name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// walk records the position of every node by path and checks scalars more
// strictly than the decoder: an integer field takes an integer literal (not 1.5,
// not "3"), a float field a finite number.
func (p *fileState) walk(n ast.Node, t reflect.Type, path string) error {
	if n == nil {
		return nil
	}
	if _, null := n.(*ast.NullNode); null {
		return nil
	}
	if line, col, ok := tokenPos(n.GetToken()); ok {
		if _, seen := p.pos[path]; !seen {
			p.pos[path] = token.Position{Line: line, Column: col}
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return p.walk(n, t.Elem(), path)
	case reflect.Struct, reflect.Map:
		for _, e := range entries(n) {
			key := keyString(e.Key)
			sub := joinPath(path, key)
			if line, col, ok := tokenPos(e.Key.GetToken()); ok {
				p.keyPos[sub] = token.Position{Line: line, Column: col}
			}
			vt := t
			if t.Kind() == reflect.Struct {
				f, ok := fieldByTag(t, key)
				if !ok {
					return p.nodeErr(e.Key, sub, fmt.Sprintf("unknown key %q in %s (it takes %s)", key, orScenario(path), takes(t)))
				}
				vt = f.Type
			} else {
				vt = t.Elem()
			}
			if _, null := e.Value.(*ast.NullNode); null {
				p.pos[sub] = p.keyPos[sub]
			}
			if err := p.walk(e.Value, vt, sub); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if seq, ok := n.(*ast.SequenceNode); ok {
			for i, v := range seq.Values {
				if err := p.walk(v, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
					return err
				}
			}
		}
	case reflect.Int, reflect.Int64, reflect.Uint64:
		in, ok := n.(*ast.IntegerNode)
		if !ok {
			return p.nodeErr(n, path, fmt.Sprintf("%s must be a whole number, got %s", lastElem(path), describe(n)))
		}
		switch v := in.Value.(type) {
		case int64:
			p.zero[path] = v == 0
		case uint64:
			p.zero[path] = v == 0
		}
	case reflect.Float64:
		switch n.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
		default:
			return p.nodeErr(n, path, fmt.Sprintf("%s must be a finite number, got %s", lastElem(path), describe(n)))
		}
	case reflect.String:
		switch n.(type) {
		case *ast.InfinityNode, *ast.NanNode:
			// The decoder turns .inf into "+Inf"; nobody means that.
			return p.nodeErr(n, path, fmt.Sprintf("%s: unexpected %s", lastElem(path), describe(n)))
		}
	}
	return nil
}

func lastElem(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func describe(n ast.Node) string {
	t := n.GetToken()
	v := ""
	if t != nil {
		v = t.Value
	}
	switch n.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		return fmt.Sprintf("the string %q", v)
	case *ast.FloatNode:
		return "the fraction " + v
	case *ast.BoolNode:
		return "the boolean " + v
	case *ast.InfinityNode:
		return "infinity"
	case *ast.NanNode:
		return "NaN"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	return strconv.Quote(v)
}
