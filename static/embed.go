// Package static holds deesc's web pages, their scripts and stylesheet,
// embedded in the binary so that the service works offline with no build
// step: plain HTML, vanilla JavaScript modules and one CSS file.
package static

import (
	"embed"
	"io/fs"
)

// files is the accepted exception to "no globals": go:embed needs a
// package-level variable. Callers get it read-only through Files.
//
//go:embed *.html *.js *.css *.svg
var files embed.FS

// Files returns the embedded pages (index.html, evaluate.html, audit.html,
// login.html), scripts, stylesheet and icon, flat at the root.
func Files() fs.FS { return files }
