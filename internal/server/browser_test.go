package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"

	"deesc/internal/auth"
)

// The browser tests drive the real pages in headless Chromium against the
// real server on a loopback port, serving the small demo dataset. They
// skip when Chromium is absent (and fail when CI=true). Screenshots go to
// $DEESC_ARTIFACTS, default a temporary directory.

const (
	browserWait  = 20 * time.Second // every wait in the browser
	browserWhole = 90 * time.Second // the whole browser, as a last resort
)

// chromiumPath returns the Chromium binary, or skips (fails under CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium at /usr/bin/chromium: the browser tests need it (Debian package chromium)")
	}
	t.Skip("no Chromium at /usr/bin/chromium: skipping the browser tests (install the Debian package chromium)")
	return ""
}

// browser is a running server and a headless Chromium pointed at it.
type browser struct {
	base      string
	ctx       context.Context
	artifacts string
	client    *http.Client
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	return newBrowserFor(t, newDemoServer(t))
}

// newBrowserFor starts Chromium against app served on loopback.
func newBrowserFor(t *testing.T, app *fiber.App) *browser {
	t.Helper()
	exe := chromiumPath(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })

	artifacts := os.Getenv("DEESC_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	profile := t.TempDir()
	root, cancelRoot := context.WithTimeout(context.Background(), browserWhole)
	alloc, cancelAlloc := chromedp.NewExecAllocator(root,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc(); cancelRoot() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium %s: %v", exe, err)
	}
	return &browser{base: "http://" + ln.Addr().String(), ctx: ctx, artifacts: artifacts, client: &http.Client{Timeout: browserWait}}
}

// apiJSON fetches path from the server as JSON.
func (b *browser) apiJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	resp, err := b.client.Get(b.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d, %v", path, resp.StatusCode, err)
	}
	return v
}

// tab is one browser tab and the console messages it collected.
type tab struct {
	t   *testing.T
	b   *browser
	ctx context.Context
	mu  sync.Mutex
	log []chromedp.ConsoleMessage
}

// open loads path in a new tab, collecting its console, and waits for the
// page's first complete render.
func (b *browser) open(t *testing.T, path string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	tb := &tab{t: t, b: b, ctx: ctx}
	msgs := chromedp.Console(ctx) // opens the tab and subscribes before the navigation
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.log = append(tb.log, m)
			tb.mu.Unlock()
		}
	}()
	tb.do(chromedp.Navigate(b.base + path))
	tb.waitRenders(1)
	return tb
}

// do runs actions with the per-wait deadline.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v\nconsole: %s", err, tb.console())
	}
}

// eval evaluates a JavaScript expression and decodes its value.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserWait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitRenders waits until the page has completed n renders and nothing is
// in flight (body[data-renders], body[data-busy], set by app.js).
func (tb *tab) waitRenders(n int) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserWait)
	defer cancel()
	js := fmt.Sprintf(`Number(document.body.dataset.renders || 0) >= %d && document.body.dataset.busy === 'false'`, n)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(browserWait), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		tb.t.Fatalf("waiting for render %d: %v\nconsole: %s", n, err, tb.console())
	}
}

// text returns the text of the element with id.
func (tb *tab) text(id string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.getElementById(%s) || {textContent: 'no #%s'}).textContent.trim()`, jsString(id), id))
}

// choose sets a select's value and fires change, as a user picking it would.
func (tb *tab) choose(id, value string) {
	tb.t.Helper()
	got := eval[string](tb, fmt.Sprintf(`(() => { const s = document.getElementById(%s); s.value = %s; s.dispatchEvent(new Event('change', {bubbles: true})); return s.value; })()`, jsString(id), jsString(value)))
	if got != value {
		tb.t.Fatalf("#%s has no option %q", id, value)
	}
}

func (tb *tab) console() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var b strings.Builder
	for _, m := range tb.log {
		fmt.Fprintf(&b, "\n  %s (%s:%d)", m, m.URL, m.Line+1)
	}
	return b.String()
}

// noErrors fails on console errors and uncaught exceptions, except those
// allowed (e.g. the 400 answer a test provokes).
func (tb *tab) noErrors(allow func(chromedp.ConsoleMessage) bool) {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.log {
		if m.Type != chromedp.ConsoleError && !m.IsException() {
			continue
		}
		if allow != nil && allow(m) {
			continue
		}
		tb.t.Errorf("console %s (%s:%d)", m, m.URL, m.Line+1)
	}
}

// screenshot saves a full-page PNG as NAME.png in the artifacts folder.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(tb.b.artifacts, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// chartsDrawn counts the inlined server charts that are images with a
// description holding figures.
func (tb *tab) chartsDrawn() int {
	return eval[int](tb, `[...document.querySelectorAll('figure.chart svg[role=img]')].filter(s => /\d/.test((s.querySelector('desc') || {}).textContent || '')).length`)
}

// noSidewaysScroll fails when the page is wider than the viewport.
func (tb *tab) noSidewaysScroll(what string) {
	tb.t.Helper()
	if w := eval[[]int](tb, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1]+1 {
		tb.t.Errorf("%s: the page is %dpx wide in a %dpx viewport", what, w[0], w[1])
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pctText, rateText and ratioCI format as app.js does (en-CA).
func pctText(p float64) string { return fmt.Sprintf("%.1f%%", p) }

func rateText(x float64) string {
	if math.Abs(x) >= 1 {
		return fmt.Sprintf("%.1f", x)
	}
	d := max(2, min(6, 1-int(math.Floor(math.Log10(math.Abs(x))))))
	return fmt.Sprintf("%.*f", d, x)
}

func ratioCI(est, lo, hi float64) string {
	return fmt.Sprintf("%.2f (95%% CI %.2f–%.2f)", est, lo, hi)
}

// badRequestLogged allows the console entry of a 400 answer the test provoked.
func badRequestLogged(m chromedp.ConsoleMessage) bool {
	return strings.Contains(m.Text, "status of 400")
}

func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	outline := b.apiJSON(t, "/api/dataset")
	divisions := outline["divisions"].([]any)
	if len(divisions) < 2 {
		t.Fatalf("the demo dataset has %d divisions, want 2 or more", len(divisions))
	}
	div1 := divisions[0].(map[string]any)["division"].(string)
	div2 := divisions[1].(map[string]any)["division"].(string)

	t.Run("leadership", func(t *testing.T) {
		tb := b.open(t, "/")
		c := b.apiJSON(t, "/api/compliance")
		if got, want := tb.text("tile-compliance-value"), pctText(num(t, c, "overall.current_pct")); got != want {
			t.Errorf("compliance tile %q, want %q from /api/compliance", got, want)
		}
		force := b.apiJSON(t, "/api/outcomes?outcome=force&group_by=year")
		if got, want := tb.text("tile-force-value"), rateText(num(t, force, "total.rate")); got != want {
			t.Errorf("force tile %q, want %q from /api/outcomes", got, want)
		}
		if d := tb.text("tile-force-detail"); !strings.Contains(d, "per officer-year (95% CI") {
			t.Errorf("force tile detail %q lacks the interval", d)
		}
		// The whole service's hours balance is by division (a service may
		// have thousands of units); a division's, by unit.
		hoursTable := func() (head string, rows int) {
			return eval[string](tb, `document.querySelector('#hours-table table thead th').textContent`),
				eval[int](tb, `document.querySelectorAll('#hours-table table tbody tr').length`)
		}
		byDivision := len(b.apiJSON(t, "/api/compliance?level=division")["hours_balance"].([]any))
		if head, rows := hoursTable(); head != "Division" || rows != byDivision || rows < 2 {
			t.Errorf("hours balance: %d rows headed %q, want the %d divisions of /api/compliance?level=division", rows, head, byDivision)
		}
		if n := tb.chartsDrawn(); n < 5 {
			t.Errorf("%d charts drawn with figures in their <desc>, want 5", n)
		}
		tb.noErrors(nil)
		tb.noSidewaysScroll("1280×800")
		tb.screenshot("leadership")
		tb.do(chromedp.EmulateViewport(820, 1180))
		tb.noSidewaysScroll("820×1180")
		tb.screenshot("leadership-tablet")
		tb.do(chromedp.EmulateViewport(1280, 800))

		// Picking a division updates the numbers and the URL.
		tb.choose("division", div1)
		tb.waitRenders(2)
		if loc := eval[string](tb, `location.search`); !strings.Contains(loc, "division="+strings.ReplaceAll(div1, " ", "+")) {
			t.Errorf("URL %q does not keep the division %q", loc, div1)
		}
		cd := b.apiJSON(t, "/api/compliance?division="+div1)
		if got, want := tb.text("tile-compliance-value"), pctText(num(t, cd, "overall.current_pct")); got != want {
			t.Errorf("after choosing %s the compliance tile is %q, want %q", div1, got, want)
		}
		if h := eval[string](tb, `document.querySelector('#compliance-by-group thead th').textContent`); h != "Unit" {
			t.Errorf("drill-down to %s shows %q rows, want units", div1, h)
		}
		if head, rows := hoursTable(); head != "Unit" || rows != len(cd["hours_balance"].([]any)) {
			t.Errorf("hours balance of %s: %d rows headed %q, want its %d units", div1, rows, head, len(cd["hours_balance"].([]any)))
		}
		tb.noErrors(nil)
	})

	t.Run("bookmark", func(t *testing.T) {
		tb := b.open(t, "/?division="+div2+"&from=2024-01&to=2024-12&outcome=complaints")
		for id, want := range map[string]string{"division": div2, "from": "2024-01", "to": "2024-12", "outcome": "complaints"} {
			if got := eval[string](tb, fmt.Sprintf(`document.getElementById(%s).value`, jsString(id))); got != want {
				t.Errorf("#%s = %q, want %q from the URL", id, got, want)
			}
		}
		c := b.apiJSON(t, "/api/compliance?as_of=2024-12-31&division="+div2)
		if got, want := tb.text("tile-compliance-value"), pctText(num(t, c, "overall.current_pct")); got != want {
			t.Errorf("restored compliance tile %q, want %q", got, want)
		}
		tb.noErrors(nil)
	})

	// A unit chosen without its division (the unit list offers every unit):
	// the hours balance is that unit's.
	t.Run("unit alone", func(t *testing.T) {
		c := b.apiJSON(t, "/api/compliance?level=division")
		unit := c["courses"].([]any)[0].(map[string]any)["divisions"].([]any)[0].(map[string]any)["division"].(string)
		bal := b.apiJSON(t, "/api/compliance?division="+url.QueryEscape(unit))["hours_balance"].([]any)
		unit = bal[0].(map[string]any)["unit"].(string)
		tb := b.open(t, "/?unit="+url.QueryEscape(unit))
		rows := eval[[]string](tb, `[...document.querySelectorAll('#hours-table table tbody tr > :first-child')].map(td => td.textContent)`)
		if len(rows) != 1 || rows[0] != unit {
			t.Errorf("hours balance with unit %q alone: rows %q", unit, rows)
		}
		tb.noErrors(nil)
	})

	t.Run("bad parameter", func(t *testing.T) {
		tb := b.open(t, "/?from=2099-13")
		alert := eval[string](tb, `[...document.querySelectorAll('[role=alert]')].filter(e => e.offsetParent !== null).map(e => e.textContent).join(' | ')`)
		if !strings.Contains(alert, "from") || !strings.Contains(alert, "2099-13") {
			t.Errorf("visible alerts %q do not name the parameter from and its value", alert)
		}
		tb.noErrors(badRequestLogged)
	})

	t.Run("evaluate", func(t *testing.T) {
		tb := b.open(t, "/evaluate")
		tb.do(
			chromedp.SendKeys(chromedp.ID("course"), "ICAT"),
			chromedp.Click(chromedp.ID("run")),
		)
		tb.waitRenders(2)
		co := b.apiJSON(t, "/api/cohorts?course=ICAT&outcome=force")
		want := ratioCI(num(t, co, "adjusted.rate_ratio"), num(t, co, "adjusted.ci_low"), num(t, co, "adjusted.ci_high"))
		if got := tb.text("adjusted-rr"); got != want {
			t.Errorf("adjusted rate ratio %q, want %q from /api/cohorts", got, want)
		}
		if loc := eval[string](tb, `location.search`); !strings.Contains(loc, "course=ICAT") {
			t.Errorf("URL %q does not keep the form", loc)
		}
		// The unit-clustered interval, or why there is none (the test
		// service has too few units for one).
		sg := b.apiJSON(t, "/api/staggered?course=ICAT&outcome=force")
		if why, _ := sg["se_unit_clustered_not_computed"].(string); why == "" || !strings.Contains(tb.text("staggered-clustered"), why) {
			t.Errorf("unit-clustered line %q, want the API's reason %q", tb.text("staggered-clustered"), why)
		}
		if cv := tb.text("caveats"); !strings.Contains(cv, "description, not an effect") {
			t.Errorf("caveats %q do not label the crude ratio", cv)
		}
		if n := tb.chartsDrawn(); n < 3 {
			t.Errorf("%d charts drawn (forest, event study, dose), want 3", n)
		}
		tb.noErrors(nil)
		tb.noSidewaysScroll("1280×800")
		tb.screenshot("evaluate")
	})

	t.Run("audit", func(t *testing.T) {
		tb := b.open(t, "/audit")
		// A data query (the audit log has none in tests: Options.Audit is nil).
		first := eval[string](tb, `(document.querySelector('#query option[value="training_completions"]') || document.querySelector('#query option:not([value=""]):not([value="audit_log"])') || {value: ''}).value`)
		if first == "" {
			t.Fatalf("the catalogue is empty: %s", tb.text("main"))
		}
		tb.choose("query", first)
		tb.do(chromedp.Click(chromedp.ID("preview-btn")))
		tb.waitRenders(2)
		if notes := tb.text("preview-notes"); !strings.Contains(notes, "Dataset version 1") {
			t.Errorf("preview of %s: notes %q, errors %q", first, notes, tb.text("preview"))
		}
		if href := eval[string](tb, `document.querySelector('#export-links a[data-format=csv]').getAttribute('href')`); !strings.HasPrefix(href, "/api/queries/"+first+"/export?format=csv") {
			t.Errorf("CSV export link %q", href)
		}
		if loc := eval[string](tb, `location.search`); !strings.Contains(loc, "q="+first) {
			t.Errorf("URL %q does not keep the query", loc)
		}
		tb.noErrors(nil)
		tb.screenshot("audit")
	})

	t.Run("login", func(t *testing.T) {
		tb := b.open(t, "/login?next=/evaluate%3Fcourse%3DICAT")
		tb.screenshot("login")
		// Authentication is off in tests: any token signs in as admin, and
		// the page goes on to next.
		tb.do(chromedp.SendKeys(chromedp.ID("token"), "anything"), chromedp.Click(chromedp.ID("signin")))
		// The navigation replaces the page under a poll, so ask again until
		// the new page answers.
		deadline := time.Now().Add(browserWait)
		var loc string
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(tb.ctx, time.Second)
			loc, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
			cancel()
			if loc == "/evaluate?course=ICAT" {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if loc != "/evaluate?course=ICAT" {
			t.Errorf("after signing in the page is %q, want next = /evaluate?course=ICAT", loc)
		}
		tb.noErrors(nil)
	})
}

// TestPagesServed checks the pages and their files without a browser: types,
// caching (the ?v= hash of each reference, ETag and 304), that every file a
// page or script references exists, and that no page holds what the
// Content-Security-Policy would block (inline script, on* handler, style
// attribute).
func TestPagesServed(t *testing.T) {
	app, _ := newTestServer(t, writeFiles(t, handDataset()))
	fetch := func(path string, header ...string) (*http.Response, string) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	ref := regexp.MustCompile(`"/static/([a-z0-9.-]+)\?v=([0-9a-f]{12})"`)
	blocked := regexp.MustCompile(`(?i)<script>|<script(\s+type="[^"]*")?\s*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:`)
	imports := regexp.MustCompile(`from '\./([a-z0-9.-]+)'`)
	seen := map[string]bool{}
	for _, page := range []string{"/", "/evaluate", "/audit", "/login"} {
		resp, body := fetch(page)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: %d, %q, %q", page, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
		}
		if m := blocked.FindString(body); m != "" {
			t.Errorf("GET %s holds %q, which the Content-Security-Policy blocks", page, m)
		}
		refs := ref.FindAllStringSubmatch(body, -1)
		if len(refs) < 3 {
			t.Errorf("GET %s references %d versioned files, want the icon, stylesheet and script", page, len(refs))
		}
		for _, r := range refs {
			seen[r[1]] = true
			resp, _ := fetch("/static/" + r[1] + "?v=" + r[2])
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("ETag") == "" {
				t.Errorf("GET /static/%s?v=%s: %d, Cache-Control %q, ETag %q", r[1], r[2], resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"))
			}
		}
	}
	for name := range seen {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		_, body := fetch("/static/" + name)
		for _, m := range imports.FindAllStringSubmatch(body, -1) {
			if resp, _ := fetch("/static/" + m[1]); resp.StatusCode != 200 {
				t.Errorf("%s imports %s: %d", name, m[1], resp.StatusCode)
			}
		}
	}
	for path, ctype := range map[string]string{"/static/app.js": "text/javascript; charset=utf-8", "/static/app.css": "text/css; charset=utf-8", "/static/favicon.svg": "image/svg+xml"} {
		resp, _ := fetch(path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ctype || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s (no version): %d, %q, %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
		}
		if again, _ := fetch(path, "If-None-Match", resp.Header.Get("ETag")); again.StatusCode != 304 {
			t.Errorf("GET %s with its ETag: %d, want 304", path, again.StatusCode)
		}
	}
	for _, path := range []string{"/static/nope.js", "/static/index.html", "/static/embed.go"} {
		if resp, _ := fetch(path); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestBrowserSignIn: with authentication on, an anonymous visit goes to
// the sign-in page, an evaluator's token signs in and returns to the page
// asked for, the header names the user, the navigation offers only the
// evaluator's pages, and the auditors' page says it is not for this role.
func TestBrowserSignIn(t *testing.T) {
	app, _, secrets := authServer(t)
	b := newBrowserFor(t, app)
	tb := b.open(t, "/evaluate?course=ICAT")
	loc := eval[string](tb, `location.pathname + location.search`)
	if loc != "/login?next=%2Fevaluate%3Fcourse%3DICAT" && loc != "/login?next=/evaluate%3Fcourse%3DICAT" {
		t.Fatalf("anonymous visit to /evaluate landed on %q, want the sign-in page", loc)
	}
	tb.do(chromedp.SendKeys(chromedp.ID("token"), secrets[auth.Evaluator]), chromedp.Click(chromedp.ID("signin")))
	deadline := time.Now().Add(browserWait)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.ctx, time.Second)
		loc, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
		cancel()
		if loc == "/evaluate?course=ICAT" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if loc != "/evaluate?course=ICAT" {
		t.Fatalf("after signing in the page is %q", loc)
	}
	tb.waitRenders(1)
	header := eval[string](tb, `document.body.innerText`)
	if !strings.Contains(header, "user-evaluator") || strings.Contains(header, "Demo mode") {
		t.Errorf("the page does not name the signed-in evaluator, or still says demo mode:\n%.300s", header)
	}
	visible := eval[[]string](tb, `[...document.querySelectorAll('nav a')].filter(a => a.offsetParent !== null).map(a => a.getAttribute('href'))`)
	for _, href := range visible {
		if strings.HasPrefix(href, "/audit") {
			t.Errorf("the evaluator's navigation offers %s", href)
		}
	}
	tb.screenshot("signed-in-evaluator")
	tb.do(chromedp.Navigate(b.base + "/audit"))
	if got := eval[string](tb, `(document.querySelector('h1') || {textContent: document.body.innerText}).textContent`); !strings.Contains(got, "Not available to your role") {
		t.Errorf("/audit as evaluator shows %q", got)
	}
}
