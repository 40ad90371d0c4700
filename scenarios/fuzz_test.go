package scenarios

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParse feeds arbitrary bytes to the scenario loader: it must never panic,
// every error must carry the file name, a line and a column, and a scenario that
// loads must print and load back to an equal scenario.
func FuzzParse(f *testing.F) {
	for _, sc := range Registry() {
		data, err := sc.YAML()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte("name: x\njob: {sources: [{name: s, records: 1}]}\ndescription: \"tab\\there \\u00e9 \\\\ \\\"q\\\"\"\n"))
	f.Add([]byte("name: x\njob: {sources: [{name: s}]}\nconfig: {execution.checkpointing.interval: 1.50, heartbeat.timeout: 3}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "fuzz.yaml" || e.Line < 1 || e.Column < 1 ||
				!strings.HasPrefix(err.Error(), fmt.Sprintf("fuzz.yaml:%d:%d: ", e.Line, e.Column)) {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		out, err := sc.YAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(out, "printed.yaml")
		if err != nil {
			t.Fatalf("printed scenario does not load: %v\n--- input\n%s\n--- printed\n%s", err, data, out)
		}
		if d := cmp.Diff(sc, back, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("round trip differs (-parsed +reparsed):\n%s\n--- input\n%s\n--- printed\n%s", d, data, out)
		}
		again, _ := back.YAML()
		if string(again) != string(out) {
			t.Fatalf("printing is not stable:\n%s\nthen\n%s", out, again)
		}
	})
}
