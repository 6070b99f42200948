package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"deesc/static"
)

// asset is one embedded file ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
	hash  string // first 12 hex digits of the sha256, the ?v= of its URL
}

// pages registers the web pages (GET /, /evaluate, /audit, /login) and
// their files under /static/. It panics when the embedded files cannot be
// read, which only a broken build can cause.
//
// The Content-Security-Policy and other security headers are set for every
// response by securityHeaders; the pages need no inline script. Pages are
// served with Cache-Control: no-cache (revalidated by ETag), and
// their references to /static/NAME carry ?v=HASH of the file's content: a
// request with the current hash may be cached for a year, any other is
// revalidated, so a new build is never served stale scripts.
func (s *Server) pages(app *fiber.App) {
	assets, err := loadAssets(static.Files())
	if err != nil {
		panic(fmt.Sprintf("server.pages: %v", err))
	}
	for route, file := range map[string]string{"/": "index.html", "/evaluate": "evaluate.html", "/audit": "audit.html", "/login": "login.html"} {
		a := assets[file]
		app.Get(route, func(c *fiber.Ctx) error {
			return serveAsset(c, a, "no-cache")
		})
	}
	app.Get("/static/*", func(c *fiber.Ctx) error {
		a, ok := assets[c.Params("*")]
		if !ok || strings.HasSuffix(c.Params("*"), ".html") {
			return fiber.NewError(fiber.StatusNotFound, "no such file: "+c.Path())
		}
		cache := "no-cache"
		if c.Query("v") == a.hash {
			cache = "public, max-age=31536000, immutable"
		}
		return serveAsset(c, a, cache)
	})
}

// serveAsset answers with a's body, or 304 when the request's If-None-Match
// names its ETag.
func serveAsset(c *fiber.Ctx, a asset, cache string) error {
	c.Set(fiber.HeaderCacheControl, cache)
	c.Set(fiber.HeaderETag, a.etag)
	if match := c.Get(fiber.HeaderIfNoneMatch); match != "" && strings.Contains(match, a.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, a.ctype)
	return c.Send(a.body)
}

// loadAssets reads every file of fsys, and rewrites each page's references
// "/static/NAME" to "/static/NAME?v=HASH". It fails when a file cannot be
// read or has a type it does not know.
func loadAssets(fsys fs.FS) (map[string]asset, error) {
	names, err := fs.Glob(fsys, "*")
	if err != nil {
		return nil, fmt.Errorf("loadAssets: %w", err)
	}
	assets := make(map[string]asset, len(names))
	var pages []string
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("loadAssets: %w", err)
		}
		ctype := mime.TypeByExtension(path.Ext(n))
		switch path.Ext(n) { // the system's MIME table may lack or differ on these
		case ".html":
			ctype, pages = "text/html; charset=utf-8", append(pages, n)
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		}
		if ctype == "" {
			return nil, fmt.Errorf("loadAssets: %s: unknown content type", n)
		}
		assets[n] = newAsset(b, ctype)
	}
	for _, p := range pages {
		html := string(assets[p].body)
		for n, a := range assets {
			if !strings.HasSuffix(n, ".html") {
				html = strings.ReplaceAll(html, `"/static/`+n+`"`, `"/static/`+n+`?v=`+a.hash+`"`)
			}
		}
		assets[p] = newAsset([]byte(html), assets[p].ctype)
	}
	return assets, nil
}

func newAsset(b []byte, ctype string) asset {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	return asset{body: b, ctype: ctype, etag: `"` + h[:32] + `"`, hash: h[:12]}
}
