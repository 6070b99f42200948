package server

import (
	"github.com/gofiber/fiber/v2"

	"deesc/internal/auth"
)

// Role sets used by the route table. Least privilege: leadership sees
// aggregates (small cells suppressed), evaluators aggregates and analyses,
// auditors row-level query results and the audit log, admin everything.
var (
	everyone  = []auth.Role{auth.Leadership, auth.Evaluator, auth.Auditor, auth.Admin}
	analysts  = []auth.Role{auth.Evaluator, auth.Admin}
	auditors  = []auth.Role{auth.Auditor, auth.Admin}
	adminOnly = []auth.Role{auth.Admin}
)

// route is one API operation: what it answers, who may call it, and how it
// is documented in /api/openapi.json. A nil roles list means public.
type route struct {
	method, path string
	roles        []auth.Role
	handler      fiber.Handler
	cached       bool // answers are kept in the result cache per dataset version
	long         bool // not bounded by the query timeout (an import)
	audited      bool // each call is written to the audit log
	doc          opDoc
}

// apiRoutes is the route table: every /api route deesc serves.
func (s *Server) apiRoutes() []route {
	return []route{
		{method: "GET", path: "/api/health", handler: s.health, doc: docHealth},
		{method: "GET", path: "/api/openapi.json", handler: s.openAPI, doc: docOpenAPI},
		{method: "GET", path: "/api/session", handler: s.sessionGet, doc: docSessionGet},
		{method: "POST", path: "/api/session", handler: s.sessionPost, audited: true, doc: docSessionPost},
		{method: "DELETE", path: "/api/session", handler: s.sessionDelete, doc: docSessionDelete},
		{method: "GET", path: "/api/compliance", roles: everyone, handler: s.compliance, cached: true, audited: true, doc: docCompliance},
		{method: "GET", path: "/api/outcomes", roles: everyone, handler: s.outcomes, cached: true, audited: true, doc: docOutcomes},
		{method: "GET", path: "/api/force/matrix", roles: everyone, handler: s.forceMatrix, cached: true, audited: true, doc: docMatrix},
		{method: "GET", path: "/api/disparities", roles: everyone, handler: s.disparities, cached: true, audited: true, doc: docDisparities},
		{method: "GET", path: "/api/dose", roles: everyone, handler: s.dose, cached: true, audited: true, doc: docDose},
		{method: "GET", path: "/api/dataset", roles: everyone, handler: s.outline, cached: true, audited: true, doc: docOutline},
		{method: "GET", path: "/api/cohorts", roles: analysts, handler: s.cohorts, cached: true, audited: true, doc: docCohorts},
		{method: "GET", path: "/api/staggered", roles: analysts, handler: s.staggered, cached: true, audited: true, doc: docStaggered},
		{method: "GET", path: "/api/prepost", roles: analysts, handler: s.prepost, cached: true, audited: true, doc: docPrepost},
		{method: "GET", path: "/api/queries", roles: everyone, handler: s.queryList, audited: true, doc: docQueryList},
		{method: "GET", path: "/api/queries/:name", roles: everyone, handler: s.queryRun, cached: true, audited: true, doc: docQueryRun},
		{method: "GET", path: "/api/queries/:name/export", roles: everyone, handler: s.queryExport, audited: true, doc: docQueryExport},
		{method: "GET", path: "/api/queries/:name/export/manifest", roles: everyone, handler: s.queryManifest, audited: true, doc: docQueryManifest},
		{method: "GET", path: "/api/versions", roles: auditors, handler: s.versions, audited: true, doc: docVersions},
		{method: "POST", path: "/api/import", roles: adminOnly, handler: s.upload, audited: true, long: true, doc: docImport},
		{method: "POST", path: "/api/versions/:version/rollback", roles: adminOnly, handler: s.rollback, audited: true, doc: docRollback},
		{method: "GET", path: "/api/tokens", roles: adminOnly, handler: s.tokenList, audited: true, doc: docTokenList},
		{method: "POST", path: "/api/tokens", roles: adminOnly, handler: s.tokenAdd, audited: true, doc: docTokenAdd},
		{method: "DELETE", path: "/api/tokens/:name", roles: adminOnly, handler: s.tokenRevoke, audited: true, doc: docTokenRevoke},
	}
}

// routes registers the middleware, the route table, the charts and the pages.
func (s *Server) routes(app *fiber.App) {
	app.Use(securityHeaders)
	app.Use(s.sameOrigin)
	app.Use(singleParams)
	app.Use(s.identify)
	app.Use(s.limited)
	app.Use(s.smallBodies)
	for _, r := range s.apiRoutes() {
		handlers := []fiber.Handler{}
		if r.audited {
			handlers = append(handlers, s.audited)
		}
		handlers = append(handlers, allow(r.roles))
		if !r.long {
			handlers = append(handlers, s.bounded)
		}
		if r.cached {
			handlers = append(handlers, s.cache)
		}
		if r.method == fiber.MethodGet {
			handlers = append(handlers, s.oneDataset(r.handler))
		} else {
			handlers = append(handlers, r.handler) // writes switch datasets themselves
		}
		app.Add(r.method, r.path, handlers...)
	}
	app.Use("/api", func(c *fiber.Ctx) error {
		return fiber.NewError(fiber.StatusNotFound, "no such endpoint: "+c.Method()+" "+c.Path())
	})
	app.Get("/charts/:file", s.audited, s.chartAccess, s.bounded, s.cache, s.oneDataset(s.chart))
	app.Use(pageGuard)
	s.pages(app)
}
