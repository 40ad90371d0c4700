package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// pathError is a problem with one node of a scenario, named by its path
// ("job.operators[1].parallelism"); Parse turns the path into a line and column.
type pathError struct {
	path string
	key  bool // the key itself is wrong (an unknown configuration key)
	msg  string
	err  error // the error it wraps, if any
}

func (e *pathError) Unwrap() error { return e.err }

func (e *pathError) Error() string {
	if e.path == "" {
		return e.msg
	}
	// a message that starts with the key it is about names it once
	tail := lastElem(e.path)
	if k, ok := strings.CutPrefix(e.path, "config."); ok {
		tail = k
	}
	if rest, ok := strings.CutPrefix(e.msg, tail); ok && (rest == "" || rest[0] == ':' || rest[0] == ' ') {
		return e.path + rest
	}
	return e.path + ": " + e.msg
}

// perr is a pathError with a formatted message.
func perr(path, format string, args ...any) *pathError {
	return &pathError{path: path, msg: fmt.Sprintf(format, args...)}
}

// checkFields reports the first non-zero field of struct v whose yaml name is
// not in allowed.
func checkFields(path string, v any, allowed []string, what string) error {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("yaml"), ",")
		if rv.Field(i).IsZero() || slices.Contains(allowed, name) {
			continue
		}
		return &pathError{path: path + "." + name, key: true, msg: fmt.Sprintf("%s does not take %s", what, name)}
	}
	return nil
}

// checkName accepts names that make readable task names: letters, digits, '-',
// '_' and '.', starting with a letter or digit.
func checkName(path, name, what string) error {
	if name == "" {
		return perr(path, "%s needs a name", what)
	}
	if len(name) > maxNameLen {
		return perr(path, "%s name is longer than %d characters", what, maxNameLen)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && (r == '-' || r == '_' || r == '.')
		if !ok {
			return perr(path, "%s name %q: use letters, digits, '-', '_' and '.', starting with a letter or digit", what, name)
		}
	}
	return nil
}

// positiveInt checks an integer field where 0 means "the default" in Go but is
// impossible when written in a file.
func positiveInt(fs *fileState, path, what string, n int64) error {
	if n < 0 || n == 0 && fs.explicitZero(path) {
		return perr(path, "%s must be at least 1, got %d", what, n)
	}
	return nil
}

// unknownKind is the error for entry path of a section whose kind is missing or
// not one of kinds: entry names such an entry ("a fault"), noun its kind
// ("fault kind").
func unknownKind(path, kind string, kinds []string, entry, noun string) error {
	if kind == "" {
		return perr(path, "%s needs a kind (%s)", entry, strings.Join(kinds, ", "))
	}
	return perr(path+".kind", "unknown %s %q (%s)%s", noun, kind, strings.Join(kinds, ", "), didYouMean(kind, kinds))
}
