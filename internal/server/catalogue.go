package server

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/auth"
	"deesc/internal/export"
	"deesc/internal/store"
	"deesc/queries"
)

// queryRows is the default and largest number of rows GET
// /api/queries/{name} answers; exports have no limit.
const (
	queryRowsDefault = 1000
	queryRowsMax     = 100000
)

// catalogueQuery finds the named query and checks the caller's role may
// run it: 404 for an unknown name, 403 for a role it does not list.
func (s *Server) catalogueQuery(c *fiber.Ctx) (queries.Query, auth.Identity, error) {
	id, _ := identityOf(c)
	q, ok := s.store.Queries().Get(c.Params("name"))
	if !ok {
		return q, id, fiber.NewError(fiber.StatusNotFound, "no query named "+strconv.Quote(c.Params("name"))+" in the catalogue (GET /api/queries lists them)")
	}
	if !q.Allows(string(id.Role)) {
		return q, id, forbidden(id.Role)
	}
	return q, id, nil
}

// bindQuery checks the request's parameters against the query's declared
// types (400 naming a bad one) and returns the bound arguments and the
// effective parameters. The names in reserved are the route's own.
func (s *Server) bindQuery(c *fiber.Ctx, q queries.Query, reserved ...string) ([]any, map[string]string, error) {
	values := map[string]string{}
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		if !slices.Contains(reserved, string(k)) {
			values[string(k)] = string(v)
		}
	})
	return q.Bind(values, s.today())
}

// runOptions suppresses small counts for leadership, whose views are
// aggregates only.
func (s *Server) runOptions(id auth.Identity, limit int) store.RunOptions {
	return store.RunOptions{Limit: limit, Suppress: id.Role == auth.Leadership, MinCell: s.opt.MinCell}
}

// queryList answers the catalogue: the queries the caller's role may run.
func (s *Server) queryList(c *fiber.Ctx) error {
	id, _ := identityOf(c)
	out := s.store.Queries().ForRole(string(id.Role))
	if out == nil {
		out = []queries.Query{}
	}
	setRows(c, len(out))
	return c.JSON(out)
}

// queryAnswer is GET /api/queries/{name}.
type queryAnswer struct {
	Query          string            `json:"query"`
	Params         map[string]string `json:"params"`
	DatasetVersion int               `json:"dataset_version"`
	Columns        []string          `json:"columns"`
	Rows           [][]any           `json:"rows"`
	Limit          int               `json:"limit"`
	Truncated      bool              `json:"truncated"` // more rows exist: use the export for all of them
	Suppressed     int64             `json:"suppressed"`
	MinCell        int64             `json:"min_cell,omitempty"`
}

// queryRun answers up to limit rows of a named query as JSON, saying when
// there are more.
func (s *Server) queryRun(c *fiber.Ctx) error {
	q, id, err := s.catalogueQuery(c)
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit", queryRowsDefault, 1, queryRowsMax)
	if err != nil {
		return err
	}
	args, params, err := s.bindQuery(c, q, "limit")
	if err != nil {
		return err
	}
	version, err := s.store.CurrentVersionNumber(c.UserContext())
	if err != nil {
		return err
	}
	opt := s.runOptions(id, limit)
	res, err := s.store.RunQuery(c.UserContext(), q, args, opt)
	if err != nil {
		return err
	}
	setRows(c, len(res.Rows))
	body := queryAnswer{Query: q.Name, Params: params, DatasetVersion: version, Columns: res.Columns, Rows: res.Rows,
		Limit: limit, Truncated: res.Truncated, Suppressed: res.Suppressed}
	if opt.Suppress {
		body.MinCell = opt.MinCell
	}
	if body.Rows == nil {
		body.Rows = [][]any{}
	}
	return c.JSON(body)
}

// runExport writes the whole result of the request's query in the
// requested format to a private temporary file and returns it, open and
// already unlinked, with its manifest.
func (s *Server) runExport(c *fiber.Ctx) (*os.File, export.Manifest, error) {
	var m export.Manifest
	q, id, err := s.catalogueQuery(c)
	if err != nil {
		return nil, m, err
	}
	format, err := export.ParseFormat(c.Query("format", "csv"))
	if err != nil {
		return nil, m, badParam("format", "%s", err.Error())
	}
	args, params, err := s.bindQuery(c, q, "format")
	if err != nil {
		return nil, m, err
	}
	dir, err := os.MkdirTemp("", "deesc-export-")
	if err != nil {
		return nil, m, err
	}
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, "export"+format.Ext()))
	if err != nil {
		return nil, m, err
	}
	m, err = s.store.Export(c.UserContext(), q, args, format, f, s.runOptions(id, 0))
	if err == nil {
		_, err = f.Seek(0, 0)
	}
	if err != nil {
		f.Close()
		return nil, m, err
	}
	m.Params, m.User, m.Role, m.Created = params, id.Name, string(id.Role), time.Now().UTC()
	c.Locals(localRows, m.Rows)
	c.Locals(localSHA256, m.SHA256)
	c.Locals(localBytes, m.Bytes)
	c.Locals(localDetail, "dataset version "+strconv.Itoa(m.DatasetVersion)+", "+string(format))
	return f, m, nil
}

// queryExport streams the full result of a named query as CSV, JSON or
// Parquet, with its manifest in headers (X-Deesc-*).
func (s *Server) queryExport(c *fiber.Ctx) error {
	f, m, err := s.runExport(c)
	if err != nil {
		return err
	}
	for k, v := range m.Headers() {
		c.Set(k, v)
	}
	// The file is written before it is sent, so its hash is known up front.
	c.Set("X-Deesc-Sha256", m.SHA256)
	c.Set("X-Deesc-User", m.User)
	c.Set(fiber.HeaderContentType, m.Format.ContentType())
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+m.Query+m.Format.Ext()+`"`)
	return c.SendStream(f, int(m.Bytes))
}

// queryManifest answers the manifest of the export the same parameters
// would produce: the same rows and, for the same dataset version, the same
// sha256.
func (s *Server) queryManifest(c *fiber.Ctx) error {
	f, m, err := s.runExport(c)
	if err != nil {
		return err
	}
	f.Close()
	// The log records what left: the manifest, not the file it describes.
	c.Locals(localBytes, nil)
	c.Locals(localDetail, "manifest only: "+strconv.FormatInt(m.Rows, 10)+" rows, sha256 "+m.SHA256)
	return c.JSON(m)
}
