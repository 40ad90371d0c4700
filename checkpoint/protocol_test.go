package checkpoint

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestGuaranteeText(t *testing.T) {
	for _, g := range []Guarantee{ExactlyOnce, AtLeastOnce} {
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		var back Guarantee
		if err := json.Unmarshal(b, &back); err != nil || back != g {
			t.Errorf("%v: marshalled %s, read back %v (%v)", g, b, back, err)
		}
		if p, err := ParseGuarantee(g.String()); err != nil || p != g {
			t.Errorf("ParseGuarantee(%q) = %v, %v", g.String(), p, err)
		}
	}
	if _, err := ParseGuarantee("exactly once"); err == nil || !strings.Contains(err.Error(), "exactly-once or at-least-once") {
		t.Errorf("ParseGuarantee of a misspelling: %v", err)
	}
	if _, err := json.Marshal(Guarantee(0)); err == nil {
		t.Errorf("the zero guarantee marshalled")
	}
}

type fake struct{ name string }

func (f fake) Name() string                          { return f.name }
func (fake) Guarantee() Guarantee                    { return AtLeastOnce }
func (fake) NewHandler(HandlerConfig) BarrierHandler { return nil }

func TestRegistry(t *testing.T) {
	Register(fake{"test/registry"})
	p, err := Lookup("test/registry")
	if err != nil || p.Name() != "test/registry" {
		t.Fatalf("Lookup: %v, %v", p, err)
	}
	found := false
	for _, n := range Names() {
		found = found || n == "test/registry"
	}
	if !found {
		t.Errorf("Names() = %v lacks test/registry", Names())
	}
	if _, err := Lookup("test/none"); err == nil || !strings.Contains(err.Error(), "test/registry") {
		t.Errorf("Lookup of an unknown name: %v (want the known names listed)", err)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("registering a name twice did not panic")
		}
	}()
	Register(fake{"test/registry"})
}

func TestFailureReasons(t *testing.T) {
	counts := map[FailureReason]bool{ReasonExpired: true, ReasonDeclined: true, ReasonFinalizeFailed: true,
		ReasonSubsumed: false, ReasonJobFailover: false, ReasonInputEnded: false}
	seen := map[string]bool{}
	for r, want := range counts {
		if r.Counts() != want {
			t.Errorf("%v.Counts() = %v, want %v", r, r.Counts(), want)
		}
		if seen[r.String()] || strings.HasPrefix(r.String(), "reason(") {
			t.Errorf("%d has the name %q", r, r)
		}
		seen[r.String()] = true
	}
}
