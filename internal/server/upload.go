package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/store"
)

// importAnswer is POST /api/import refused: the problems, file by file.
type importAnswer struct {
	Error    string          `json:"error"`
	Problems []store.Problem `json:"problems"`
	Omitted  map[string]int  `json:"omitted,omitempty"`
}

// upload imports the files of a multipart form (field "files", one part
// per file, named as in an import folder: officers.csv, force.parquet, …)
// as a new dataset version, while the dashboards keep answering from the
// current one: 201 with the version, 422 with every problem (the dataset
// unchanged), 400 for a request that carries no usable file.
func (s *Server) upload(c *fiber.Ctx) error {
	form, err := c.MultipartForm()
	if err != nil {
		return badParam("files", "send the files as multipart/form-data, one part per file in the field \"files\"")
	}
	parts := form.File["files"]
	if len(parts) == 0 {
		return badParam("files", "no file in the field \"files\"")
	}
	dir, err := os.MkdirTemp("", "deesc-upload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	names := make([]string, 0, len(parts))
	for _, p := range parts {
		name := p.Filename
		if name != filepath.Base(name) || strings.HasPrefix(name, ".") || name == "" ||
			!(strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".csv.gz") || strings.HasSuffix(name, ".parquet")) {
			return badParam("files", "%q: give each file a plain name ending .csv, .csv.gz or .parquet", name)
		}
		if err := c.SaveFile(p, filepath.Join(dir, name)); err != nil {
			return err
		}
		names = append(names, name)
	}
	id, _ := identityOf(c)
	opt := s.opt.Import
	opt.Source = fmt.Sprintf("upload by %s: %s", id.Name, strings.Join(names, ", "))
	v, err := s.store.Import(c.UserContext(), dir, opt)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		c.Locals(localDetail, "import refused: "+strconv.Itoa(ve.Total())+" problem(s)")
		return c.Status(fiber.StatusUnprocessableEntity).JSON(importAnswer{
			Error: fmt.Sprintf("import refused: %d problem(s); the dataset is unchanged", ve.Total()), Problems: ve.Problems, Omitted: ve.Omitted})
	}
	if err != nil {
		return err
	}
	c.Locals(localDetail, "dataset version "+strconv.Itoa(v.Number)+" imported")
	return c.Status(fiber.StatusCreated).JSON(v)
}

// smallBodies enforces the body limits from the request's declared length,
// before any of the body is read: limits.upload_bytes for POST /api/import,
// limits.body_bytes for every other route (413 beyond). A body of unknown
// length (chunked) is refused with 411, since it could not be bounded
// before reading.
func (s *Server) smallBodies(c *fiber.Ctx) error {
	n := c.Request().Header.ContentLength()
	limit, what := s.opt.BodyBytes, "limits.body_bytes"
	if c.Path() == "/api/import" {
		// An upload refused before its body is read (401, 403, 429, 413)
		// leaves the body on the connection: close it rather than read it
		// as the next request.
		c.Context().SetConnectionClose()
		limit, what = s.opt.UploadBytes, "limits.upload_bytes"
	}
	switch {
	case n == -1:
		return fiber.NewError(fiber.StatusLengthRequired, "send the body with a Content-Length")
	case n > limit:
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "the request body is larger than "+strconv.Itoa(limit)+" bytes ("+what+")")
	}
	return c.Next()
}
