package headless

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// browser starts Chromium or skips the test when there is none.
func browser(t *testing.T) *Browser {
	t.Helper()
	path := Find()
	if path == "" {
		t.Skip("no Chromium on this machine (Debian: apt-get install chromium; or set $CHROMIUM): the headless checks are skipped")
	}
	b, err := Start(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestConsoleErrors: a console error, an uncaught exception and an image that
// does not exist are all reported; a clean page reports nothing.
func TestConsoleErrors(t *testing.T) {
	b := browser(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.html")
	good := filepath.Join(dir, "good.html")
	os.WriteFile(bad, []byte(`<!doctype html><title>bad</title><img src="missing.png">
<script>console.error("boom"); null.x;</script>`), 0o644)
	os.WriteFile(good, []byte(`<!doctype html><title>good</title><p style="color:red">fine</p><script>console.log("hello")</script>`), 0o644)
	p, err := b.Open("file://"+bad, 800, 600)
	if err != nil {
		t.Fatal(err)
	}
	broken, err := p.BrokenImages()
	if err != nil {
		t.Fatal(err)
	}
	if len(broken) != 1 || !strings.HasSuffix(broken[0], "missing.png") {
		t.Errorf("broken images %q, want missing.png", broken)
	}
	text := strings.Join(p.Console, "\n")
	for _, want := range []string{"boom", "exception", "missing.png"} {
		if !strings.Contains(text, want) {
			t.Errorf("console of bad.html lacks %q:\n%s", want, text)
		}
	}
	p.Close()
	p, err = b.Open("file://"+good, 800, 600)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Console) != 0 {
		t.Errorf("good.html reported %q", p.Console)
	}
	shot := filepath.Join(dir, "good.png")
	if err := p.Screenshot(shot, true); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 800 {
		t.Errorf("screenshot %v wide, want 800", img.Bounds().Dx())
	}
}

var (
	shotURL   = flag.String("shot.url", "", "TestShot: the page to photograph (file:// or http://)")
	shotOut   = flag.String("shot.out", "", "TestShot: the PNG to write")
	shotWidth = flag.Int("shot.width", 1280, "TestShot: viewport width")
	shotH     = flag.Int("shot.height", 900, "TestShot: viewport height (the whole page with -shot.full)")
	shotFull  = flag.Bool("shot.full", false, "TestShot: the whole page, not only the viewport")
)

// TestShot is a tool, not a check: it photographs one page, e.g.
//
//	go test ./internal/headless -run TestShot -shot.url file://$PWD/out/index.html -shot.out /tmp/index.png -shot.full
func TestShot(t *testing.T) {
	if *shotURL == "" {
		t.Skip("no -shot.url")
	}
	b := browser(t)
	p, err := b.Open(*shotURL, *shotWidth, *shotH)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Console {
		t.Logf("console: %s", c)
	}
	if err := p.Screenshot(*shotOut, *shotFull); err != nil {
		t.Fatal(err)
	}
}
