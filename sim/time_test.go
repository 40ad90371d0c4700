package sim

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want Duration
	}{
		{"10 s", 10 * Second},
		{"500 ms", 500 * Millisecond},
		{"1 min", Minute},
		{"1.5s", 1500 * Millisecond},
		{"200us", 200 * Microsecond},
		{"250", 250 * Millisecond}, // a bare number is milliseconds, as in Flink
		{"0", 0},
		{"0 s", 0},
		{"  7 ns  ", 7},
		{"3 µs", 3 * Microsecond},
		{"2 h", 2 * Hour},
		{"1 d", 24 * Hour},
		{"5 m", 5 * Minute},
		{"2 Seconds", 2 * Second},
		{"1.5 MS", 1500 * Microsecond},
		{".5 s", 500 * Millisecond},
		{"+5 s", 5 * Second},
		{"0.0000005 ms", 1}, // half a nanosecond rounds up
		{"0.0000004 ms", 0},
		{"4503599627370497 ns", 4503599627370497},   // 2^52+1: exact, no float rounding
		{"9223372036854775807 ns", Duration(Never)}, // the largest duration
		{"9223372036.854775807 s", Duration(Never)}, // the same, in seconds
		{"2240328155.279531776 s", Duration(2240328155279531776)}, // exact nanoseconds of a huge value
		{"106751.991167300640 d", Duration(9223372036854775296)},  // near the limit, in days
		{"1.0000000000000000000001 ms", Millisecond},              // long fractions are fine
		{"0000000000000000000000000000000000001 ms", Millisecond}, // long integers too
		{"0.99999999999999999999999999999999999 ns", Nanosecond},  // rounds up
		{"0.49999999999999999999999999999999999 ns", 0},           // rounds down
		{"153722867.28 min", Duration(153722867*Minute + 16800*Millisecond)},
	}
	for _, c := range cases {
		got, err := ParseDuration(c.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseDuration(%q) = %d, want %d", c.in, int64(got), int64(c.want))
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	for _, in := range []string{
		"", "   ", "abc", "s", "-1 s", "-0.5 ms", "5 parsecs", "1.2.3 s", "--1", "+-1",
		"1e5 s", "0x10 s", "1_000 ms", ". s", "5 s s",
		"9223372036854775808 ns",  // 2^63: one past the largest
		"9223372036854775.808 ms", // the same
		"106752 d",                // overflows int64 nanoseconds
		"1" + strings.Repeat("0", 400) + " s",
	} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %d, want an error", in, int64(d))
		}
	}
}

func TestDurationString(t *testing.T) {
	cases := []struct {
		d    Duration
		want string
	}{
		{0, "0 ms"},
		{10 * Second, "10 s"},
		{500 * Millisecond, "500 ms"},
		{Minute, "1 min"},
		{90 * Minute, "90 min"},
		{2 * Hour, "2 h"},
		{1500 * Millisecond, "1500 ms"},
		{200 * Microsecond, "200 us"},
		{7, "7 ns"},
		{999, "999 ns"},
		{1234, "1.234 us"},
		{1234567, "1.234567 ms"},
		{Second + 1, "1.000000001 s"},
		{-Second, "-1 s"},
		{-1500, "-1.5 us"},
		{Duration(2240328155279531776), "2240328155.279531776 s"},
		{Duration(Never), "9223372036.854775807 s"},
	}
	for _, c := range cases {
		if got := c.d.String(); got != c.want {
			t.Errorf("Duration(%d).String() = %q, want %q", int64(c.d), got, c.want)
		}
	}
}

func TestDurationRoundTripTable(t *testing.T) {
	for _, in := range []string{"10 s", "500 ms", "1 min", "1.5s", "200us", "250", "7 ns", "2 h", "1 d", "1.234567 ms"} {
		d, err := ParseDuration(in)
		if err != nil {
			t.Fatalf("ParseDuration(%q): %v", in, err)
		}
		s := d.String()
		d2, err := ParseDuration(s)
		if err != nil || d2 != d {
			t.Errorf("%q parses to %d, prints as %q, re-parses to %d (%v)", in, int64(d), s, int64(d2), err)
		}
	}
}

// TestDurationRoundTrip: every non-negative duration prints as a string that parses
// back to exactly the same duration, however large and however unround.
func TestDurationRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := Duration(rapid.OneOf(
			rapid.Int64Range(0, 1<<63-1),
			rapid.Int64Range(0, 10_000),
			rapid.Int64Range(0, 1<<53),
			rapid.Map(rapid.Int64Range(0, 1<<30), func(n int64) int64 { return n * int64(Millisecond) }),
		).Draw(t, "d"))
		s := d.String()
		got, err := ParseDuration(s)
		if err != nil {
			t.Fatalf("%d prints as %q, which does not parse: %v", int64(d), s, err)
		}
		if got != d {
			t.Fatalf("%d prints as %q, which parses to %d", int64(d), s, int64(got))
		}
	})
}

func TestTimeArithmetic(t *testing.T) {
	t0 := Time(0).Add(1500 * Millisecond)
	if t0 != Time(1_500_000_000) {
		t.Fatalf("Add: got %d", int64(t0))
	}
	if d := t0.Sub(Time(500 * Millisecond)); d != Second {
		t.Fatalf("Sub: got %v", d)
	}
	if s := t0.Seconds(); s != 1.5 {
		t.Fatalf("Seconds: got %v", s)
	}
	if s := t0.String(); s != "1500 ms" {
		t.Fatalf("String: got %q", s)
	}
	if ms := (2500 * Microsecond).Milliseconds(); ms != 2.5 {
		t.Fatalf("Milliseconds: got %v", ms)
	}
	if s := (250 * Millisecond).Seconds(); s != 0.25 {
		t.Fatalf("Duration.Seconds: got %v", s)
	}
}

// FuzzParseDuration: ParseDuration never panics, never returns a negative duration,
// and whatever it accepts prints (String) as a string that parses to the same value.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{
		"10 s", "500 ms", "1 min", "1.5s", "200us", "250", "", "abc", "-1 s", "5 parsecs",
		"0", "7 ns", "3 µs", "1 d", "+.5 h", "9223372036854775807 ns", "9223372036854775808 ns",
		"4503599627370497 ns", "1.000000001 s", "0.0000005 ms", "1e3 s", "1.2.3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %d, negative", s, int64(d))
		}
		p := d.String()
		d2, err := ParseDuration(p)
		if err != nil {
			t.Fatalf("ParseDuration(%q) = %d prints as %q, which does not parse: %v", s, int64(d), p, err)
		}
		if d2 != d {
			t.Fatalf("ParseDuration(%q) = %d prints as %q, which parses to %d", s, int64(d), p, int64(d2))
		}
	})
}

func TestDurationShort(t *testing.T) {
	for d, want := range map[Duration]string{
		0: "0 ns", 7: "7 ns", 40 * Microsecond: "40 us", 250 * Millisecond: "250 ms", 1503807975: "1.504 s",
		21002520 * Microsecond: "21.003 s", 90 * Second: "1.5 min", -1500 * Millisecond: "-1.5 s", 3 * Hour: "3 h",
	} {
		if got := d.Short(); got != want {
			t.Errorf("Duration(%d).Short() = %q, want %q", int64(d), got, want)
		}
	}
}
