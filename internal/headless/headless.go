// Package headless drives a headless Chromium through the DevTools protocol
// over a pipe (--remote-debugging-pipe: JSON messages separated by NUL bytes on
// file descriptors 3 and 4), with no dependency and no network port: it loads a
// page, collects what the page logs to its console (errors, uncaught
// exceptions, resources that failed to load) and takes screenshots. The report's
// tests use it to render the HTML report; it is not part of any simulation.
package headless

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Find returns the Chromium to use: $CHROMIUM when set, else the first of
// chromium, chromium-browser, google-chrome on the PATH ("" when none).
func Find() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is a running headless Chromium.
type Browser struct {
	cmd     *exec.Cmd
	profile string
	out     *os.File // our end of Chromium's fd 3 (commands)
	in      *os.File // our end of Chromium's fd 4 (replies and events)

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan message
	events  chan message
	done    chan struct{}
	readErr error
}

type message struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Start runs Chromium headless with a fresh profile and no background
// networking (a closed network refuses its connections otherwise).
func Start(chromium string) (*Browser, error) {
	profile, err := os.MkdirTemp("", "headless-profile-")
	if err != nil {
		return nil, err
	}
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--disable-extensions", "--mute-audio", "--remote-debugging-pipe", "--user-data-dir="+profile, "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, evW} // fd 3: commands in, fd 4: messages out
	var stderr strings.Builder
	cmd.Stderr = &limited{w: &stderr, n: 1 << 16}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(profile)
		return nil, fmt.Errorf("start %s: %w", chromium, err)
	}
	cmdR.Close()
	evW.Close()
	b := &Browser{cmd: cmd, profile: profile, out: cmdW, in: evR, waiting: map[int]chan message{},
		events: make(chan message, 1024), done: make(chan struct{})}
	go b.read()
	if _, err := b.call("", "Browser.getVersion", nil, 30*time.Second); err != nil {
		b.Close()
		return nil, fmt.Errorf("chromium does not answer: %v (stderr: %s)", err, stderr.String())
	}
	return b, nil
}

type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// read dispatches Chromium's messages: replies to their caller, events to the
// event channel (dropped when nobody reads them and the channel is full).
func (b *Browser) read() {
	r := bufio.NewReaderSize(b.in, 1<<20)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			b.mu.Unlock()
			close(b.done)
			return
		}
		var m message
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.waiting[m.ID]
			delete(b.waiting, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		select {
		case b.events <- m:
		default:
		}
	}
}

// call sends one command and waits for its reply.
func (b *Browser) call(session, method string, params any, timeout time.Duration) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan message, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	req := map[string]any{"id": id, "method": method}
	if params != nil {
		req["params"] = params
	}
	if session != "" {
		req["sessionId"] = session
	}
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := b.out.Write(append(data, 0)); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-b.done:
		return nil, fmt.Errorf("%s: chromium exited (%v)", method, b.readErr)
	case <-time.After(timeout):
		return nil, fmt.Errorf("%s: no reply in %v", method, timeout)
	}
}

// Close ends Chromium and removes its profile.
func (b *Browser) Close() error {
	b.call("", "Browser.close", nil, 5*time.Second)
	b.out.Close()
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
	b.in.Close()
	return os.RemoveAll(b.profile)
}

// Page is one loaded page.
type Page struct {
	b       *Browser
	session string
	target  string
	// Console holds what the page reported as errors while it loaded: console
	// errors, uncaught exceptions and failed loads, one line each.
	Console []string
}

// Open loads url in a new tab of the given viewport size and waits for its load
// event and for its images, then for quiet (no new message for settle).
func (b *Browser) Open(url string, width, height int) (*Page, error) {
	res, err := b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, 30*time.Second)
	if err != nil {
		return nil, err
	}
	var target struct{ TargetID string }
	if err := json.Unmarshal(res, &target); err != nil {
		return nil, err
	}
	res, err = b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, 30*time.Second)
	if err != nil {
		return nil, err
	}
	var att struct{ SessionID string }
	if err := json.Unmarshal(res, &att); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: att.SessionID, target: target.TargetID}
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		if _, err := b.call(p.session, m, nil, 30*time.Second); err != nil {
			return nil, err
		}
	}
	if err := p.resize(width, height); err != nil {
		return nil, err
	}
	if _, err := b.call(p.session, "Page.navigate", map[string]any{"url": url}, 60*time.Second); err != nil {
		return nil, err
	}
	if err := p.wait("Page.loadEventFired", 60*time.Second); err != nil {
		return nil, err
	}
	p.settle(500 * time.Millisecond)
	return p, nil
}

func (p *Page) resize(width, height int) error {
	_, err := p.b.call(p.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, 30*time.Second)
	return err
}

// wait reads events until method arrives on this page, noting console errors.
func (p *Page) wait(method string, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		select {
		case m := <-p.b.events:
			if p.note(m) == method {
				return nil
			}
		case <-p.b.done:
			return errors.New("chromium exited")
		case <-deadline:
			return fmt.Errorf("no %s in %v", method, timeout)
		}
	}
}

// settle reads events until none came for quiet.
func (p *Page) settle(quiet time.Duration) {
	for {
		select {
		case m := <-p.b.events:
			p.note(m)
		case <-time.After(quiet):
			return
		}
	}
}

// note records an event of this page if it reports an error; it returns the
// event's method when the event is this page's.
func (p *Page) note(m message) string {
	if m.SessionID != p.session {
		return ""
	}
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string
			Args []struct {
				Value       any
				Description string
			}
		}
		if json.Unmarshal(m.Params, &e) == nil && (e.Type == "error" || e.Type == "assert") {
			var parts []string
			for _, a := range e.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, fmt.Sprint(a.Value))
				}
			}
			p.Console = append(p.Console, "console."+e.Type+": "+strings.Join(parts, " "))
		}
	case "Runtime.exceptionThrown":
		var e struct {
			ExceptionDetails struct {
				Text      string
				Exception struct{ Description string }
			}
		}
		if json.Unmarshal(m.Params, &e) == nil {
			p.Console = append(p.Console, "exception: "+e.ExceptionDetails.Text+" "+e.ExceptionDetails.Exception.Description)
		}
	case "Log.entryAdded":
		var e struct {
			Entry struct{ Level, Source, Text, URL string }
		}
		if json.Unmarshal(m.Params, &e) == nil && e.Entry.Level == "error" {
			p.Console = append(p.Console, e.Entry.Source+": "+e.Entry.Text+" "+e.Entry.URL)
		}
	}
	return m.Method
}

// Eval evaluates a JavaScript expression in the page and returns its value as
// JSON; a promise is awaited.
func (p *Page) Eval(expr string) (json.RawMessage, error) {
	res, err := p.b.call(p.session, "Runtime.evaluate",
		map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, 60*time.Second)
	if err != nil {
		return nil, err
	}
	var r struct {
		Result struct {
			Value json.RawMessage
		}
		ExceptionDetails *struct{ Text string }
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	if r.ExceptionDetails != nil {
		return nil, fmt.Errorf("evaluate %q: %s", expr, r.ExceptionDetails.Text)
	}
	return r.Result.Value, nil
}

// BrokenImages loads every image of the page, lazy ones too, and returns the
// addresses of those that do not decode (missing or not an image).
func (p *Page) BrokenImages() ([]string, error) {
	v, err := p.Eval(`Promise.all(Array.from(document.images).map(i => { i.loading = "eager";
		return i.decode().then(() => "", () => i.src); })).then(r => r.filter(x => x))`)
	if err != nil {
		return nil, err
	}
	var broken []string
	err = json.Unmarshal(v, &broken)
	p.settle(200 * time.Millisecond)
	return broken, err
}

// Screenshot writes the page as a PNG: the viewport, or with fullPage the whole
// page (the viewport is stretched to the page's height first, so that lazily
// loaded images load).
func (p *Page) Screenshot(path string, fullPage bool) error {
	params := map[string]any{"format": "png"}
	if fullPage {
		v, err := p.Eval("JSON.stringify([document.documentElement.scrollWidth, document.documentElement.scrollHeight])")
		if err != nil {
			return err
		}
		var s string
		var wh [2]int
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(s), &wh); err != nil {
			return err
		}
		if err := p.resize(wh[0], wh[1]); err != nil {
			return err
		}
		p.settle(1500 * time.Millisecond)
		params["captureBeyondViewport"] = true
	}
	res, err := p.b.call(p.session, "Page.captureScreenshot", params, 60*time.Second)
	if err != nil {
		return err
	}
	var shot struct{ Data string }
	if err := json.Unmarshal(res, &shot); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// Close closes the page's tab.
func (p *Page) Close() error {
	_, err := p.b.call("", "Target.closeTarget", map[string]any{"targetId": p.target}, 10*time.Second)
	return err
}
