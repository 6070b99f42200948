package server

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/audit"
)

// Locals keys handlers set for the audit entry of their request.
const (
	localRows   = "audit_rows"   // int64: rows answered
	localSHA256 = "audit_sha256" // string: sha256 of an exported file
	localDetail = "audit_detail" // string: e.g. the dataset version exported
	localBytes  = "audit_bytes"  // int64: bytes sent from a file rather than the body
)

// audited writes one audit log entry per request, after the handler ran
// and before the answer leaves: when the entry cannot be written the
// answer is withheld (503), so nothing is read that the log does not show.
// Refusals (401, 403) and errors are recorded too.
func (s *Server) audited(c *fiber.Ctx) error {
	if s.opt.Audit == nil {
		return c.Next()
	}
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		// Let the error handler set the status and body first.
		if herr := s.errors(c, err); herr != nil {
			return herr
		}
		status = c.Response().StatusCode()
	}
	id, _ := identityOf(c)
	e := audit.Entry{User: id.Name, Role: string(id.Role), Method: c.Method(), Route: c.Path(),
		Params: canonicalQuery(c), Status: status, Bytes: int64(len(c.Response().Body()))}
	if v, ok := c.Locals(localRows).(int64); ok {
		e.Rows = v
	}
	if v, ok := c.Locals(localSHA256).(string); ok {
		e.ExportSHA256 = v
	}
	if v, ok := c.Locals(localBytes).(int64); ok {
		e.Bytes = v
	}
	if v, ok := c.Locals(localDetail).(string); ok {
		e.Detail = v
	}
	if aerr := s.opt.Audit.Append(context.WithoutCancel(c.UserContext()), e); aerr != nil {
		s.log.Error("audit log write failed; answer withheld", "path", c.Path(), "err", aerr)
		c.Response().ResetBody()
		var drop []string
		c.Response().Header.VisitAll(func(k, _ []byte) {
			if strings.HasPrefix(strings.ToLower(string(k)), "x-deesc-") {
				drop = append(drop, string(k))
			}
		})
		for _, k := range drop {
			c.Response().Header.Del(k)
		}
		c.Response().Header.Del(fiber.HeaderContentDisposition)
		return s.errors(c, fiber.NewError(fiber.StatusServiceUnavailable, "the audit log cannot be written, so the answer is withheld; try again or tell your administrator"))
	}
	return nil
}

// canonicalQuery is the request's query string with keys sorted, for the
// audit log. Token-like parameters never occur: tokens travel in headers.
func canonicalQuery(c *fiber.Ctx) string {
	q, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

// bounded runs the rest of the request under the configured query timeout:
// a query that runs longer is cancelled and answered 503.
// A client that hangs up cancels the request's queries too.
func (s *Server) bounded(c *fiber.Ctx) error {
	parent := c.UserContext()
	ctx, cancel := context.WithCancel(parent)
	if s.opt.QueryTimeout > 0 {
		ctx, cancel = context.WithTimeout(parent, s.opt.QueryTimeout)
	}
	defer cancel()
	go watchClient(ctx, c.Context().Conn(), cancel, 100*time.Millisecond)
	c.SetUserContext(ctx)
	err := c.Next()
	c.SetUserContext(parent)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fiber.NewError(fiber.StatusServiceUnavailable, "the query took longer than "+s.opt.QueryTimeout.String()+" and was stopped; narrow the selection or ask your administrator to raise query.timeout")
	}
	return err
}

// setRows records the number of rows an answer holds, for the audit log.
func setRows(c *fiber.Ctx, n int) { c.Locals(localRows, int64(n)) }
