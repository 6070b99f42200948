package server

import (
	"errors"
	"html"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/auth"
)

// sessionCookie carries the session secret of a browser signed in at /login.
const sessionCookie = "deesc_session"

// demoIdentity is who every request acts as when authentication is off.
var demoIdentity = auth.Identity{Name: "demo", Role: auth.Admin}

// identityOf returns the caller identified by identify, and whether there is one.
func identityOf(c *fiber.Ctx) (auth.Identity, bool) {
	id, ok := c.Locals("identity").(auth.Identity)
	return id, ok
}

// identify finds the caller from an Authorization: Bearer header or the
// session cookie. With authentication off everyone is the demo admin. An
// unknown or revoked token, or a session that ended, leaves the request
// anonymous (answered 401 by allow on protected routes).
func (s *Server) identify(c *fiber.Ctx) error {
	if !s.opt.Auth {
		c.Locals("identity", demoIdentity)
		return c.Next()
	}
	var (
		id  auth.Identity
		err error
	)
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		err = auth.ErrNoToken
		if strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) != "" {
			id, err = s.opt.Tokens.Lookup(c.UserContext(), strings.TrimSpace(tok))
		}
	} else if secret := c.Cookies(sessionCookie); secret != "" && s.sessions != nil {
		id, err = s.sessions.Lookup(c.UserContext(), secret)
	} else {
		err = auth.ErrNoToken
	}
	switch {
	case err == nil:
		c.Locals("identity", id)
	case !errors.Is(err, auth.ErrNoToken) && !errors.Is(err, auth.ErrNoSession):
		return err
	}
	return c.Next()
}

// allow admits the roles given (nil = public): 401 without a valid token,
// 403 for a role not in the list.
func allow(roles []auth.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if roles == nil {
			return c.Next()
		}
		id, ok := identityOf(c)
		if !ok {
			return errUnauthenticated
		}
		if !id.Role.Allowed(roles...) {
			return forbidden(id.Role)
		}
		return c.Next()
	}
}

var errUnauthenticated = fiber.NewError(fiber.StatusUnauthorized, "sign in: send a token as Authorization: Bearer TOKEN, or sign in at /login")

func forbidden(r auth.Role) error {
	return fiber.NewError(fiber.StatusForbidden, "the "+string(r)+" role may not use this")
}

// sessionBody answers GET /api/session: who the caller is.
type sessionBody struct {
	User string    `json:"user"`
	Role auth.Role `json:"role"`
	Auth bool      `json:"auth"` // authentication is on
	Demo bool      `json:"demo"` // authentication is off: everyone acts as admin
	// Expires is when the session a sign-in started ends (RFC 3339, UTC).
	Expires string `json:"expires,omitempty"`
}

// sessionGet answers the caller's identity, or 401.
func (s *Server) sessionGet(c *fiber.Ctx) error {
	id, ok := identityOf(c)
	if !ok {
		return errUnauthenticated
	}
	return c.JSON(sessionBody{User: id.Name, Role: id.Role, Auth: s.opt.Auth, Demo: !s.opt.Auth})
}

// sessionPost signs a browser in: it checks the token given as JSON
// {"token": …} or a form field, starts a session and sets the session's
// secret (not the token) as an HttpOnly cookie that lasts as long as it.
func (s *Server) sessionPost(c *fiber.Ctx) error {
	var in struct {
		Token string `json:"token" form:"token"`
	}
	if err := c.BodyParser(&in); err != nil || strings.TrimSpace(in.Token) == "" {
		return badParam("token", "give the token as JSON {\"token\": \"…\"} or a form field")
	}
	if !s.opt.Auth {
		return c.JSON(sessionBody{User: demoIdentity.Name, Role: demoIdentity.Role, Demo: true})
	}
	// Signing in again ends the session the browser had, so no secret it
	// dropped stays live.
	if old := c.Cookies(sessionCookie); old != "" {
		s.sessions.End(old)
	}
	secret, id, expires, err := s.sessions.Start(c.UserContext(), strings.TrimSpace(in.Token))
	if errors.Is(err, auth.ErrNoToken) {
		return fiber.NewError(fiber.StatusUnauthorized, "unknown or revoked token")
	}
	if err != nil {
		return err
	}
	c.Locals("identity", id)
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: secret, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Secure: c.Protocol() == "https", Expires: expires})
	return c.JSON(sessionBody{User: id.Name, Role: id.Role, Auth: true, Expires: expires.UTC().Format(time.RFC3339)})
}

// sessionDelete signs a browser out: the session ends on the server, and
// the cookie is cleared.
func (s *Server) sessionDelete(c *fiber.Ctx) error {
	if secret := c.Cookies(sessionCookie); secret != "" && s.sessions != nil {
		s.sessions.End(secret)
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Expires: time.Unix(1, 0)})
	return c.SendStatus(fiber.StatusNoContent)
}

// tokenBody is one API token as listed; the secret is shown only once, on creation.
type tokenBody struct {
	Name    string     `json:"name"`
	Role    auth.Role  `json:"role"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
	Token   string     `json:"token,omitempty"`
}

// tokenList answers every token, revoked ones included, without secrets.
func (s *Server) tokenList(c *fiber.Ctx) error {
	toks, err := s.opt.Tokens.List(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]tokenBody, len(toks))
	for i, t := range toks {
		out[i] = tokenBody{Name: t.Name, Role: t.Role, Created: t.Created, Revoked: t.Revoked}
	}
	return c.JSON(out)
}

// tokenAdd creates a token from JSON {"name", "role"} and answers it once (201).
func (s *Server) tokenAdd(c *fiber.Ctx) error {
	var in struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := c.BodyParser(&in); err != nil {
		return badParam("body", "give JSON {\"name\": …, \"role\": …}")
	}
	role, err := auth.ParseRole(in.Role)
	if err != nil {
		return badParam("role", "%s", err.Error())
	}
	secret, err := s.opt.Tokens.Add(c.UserContext(), in.Name, role)
	if err != nil {
		var ie *auth.InputError
		if errors.As(err, &ie) {
			return badParam("name", "%s", ie.Error())
		}
		return err
	}
	c.Locals(localDetail, "token "+in.Name+" ("+string(role)+") created")
	return c.Status(fiber.StatusCreated).JSON(tokenBody{Name: in.Name, Role: role, Created: time.Now().UTC(), Token: secret})
}

// tokenRevoke revokes the named token: 204, or 404 when there is none.
func (s *Server) tokenRevoke(c *fiber.Ctx) error {
	c.Locals(localDetail, "token "+c.Params("name")+" revoked")
	err := s.opt.Tokens.Revoke(c.UserContext(), c.Params("name"))
	if errors.Is(err, auth.ErrNoToken) {
		return fiber.NewError(fiber.StatusNotFound, "no active token named "+c.Params("name"))
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// securityHeaders sets a strict content security policy: the pages load
// only the server's own scripts, styles and images.
func securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("X-Frame-Options", "DENY")
	return c.Next()
}

// pageRoles lists the pages that need a role; /login and /static are public.
var pageRoles = map[string][]auth.Role{"/": everyone, "/evaluate": analysts, "/audit": auditors}

// pageGuard sends anonymous visitors of a protected page to /login (302,
// coming back afterwards) and answers 403 with a plain page to a role
// that may not see it.
func pageGuard(c *fiber.Ctx) error {
	roles, ok := pageRoles[strings.ToLower(strings.TrimSuffix(c.Path(), "/"))]
	if c.Path() == "/" {
		roles, ok = pageRoles["/"]
	}
	if !ok || c.Method() != fiber.MethodGet {
		return c.Next()
	}
	id, ok := identityOf(c)
	if !ok {
		return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusFound)
	}
	if !id.Role.Allowed(roles...) {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Status(fiber.StatusForbidden).SendString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not available to your role — deesc</title>` +
			`<link rel="stylesheet" href="/static/app.css"></head><body><main id="main"><h1>Not available to your role</h1>` +
			`<p>You are signed in as <strong>` + html.EscapeString(id.Name) + `</strong> (` + html.EscapeString(string(id.Role)) + `), and this page is for ` +
			html.EscapeString(roleList(roles)) + `.</p><p><a href="/">Back to the dashboard</a> · <a href="/login">Sign in as someone else</a></p></main></body></html>`)
	}
	return c.Next()
}

func roleList(roles []auth.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// sameOrigin refuses (403) a state-changing request a browser sent from
// another site (Sec-Fetch-Site or Origin say so), so a page elsewhere cannot
// import, roll back or sign someone in. With authentication off it also
// refuses a change whose Host is not a loopback name, so a rebound DNS name
// cannot use the demo's admin rights (reads stay open: it is the demo).
func (s *Server) sameOrigin(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if !s.opt.Auth {
		host := c.Hostname()
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) && host != "" {
			return fiber.NewError(fiber.StatusForbidden, "authentication is off, so deesc accepts changes only in requests addressed to localhost or a loopback address")
		}
	}
	if site := c.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fiber.NewError(fiber.StatusForbidden, "refused: the request came from another site ("+site+")")
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || !strings.EqualFold(u.Host, c.Get(fiber.HeaderHost)) {
			return fiber.NewError(fiber.StatusForbidden, "refused: the request came from another origin ("+origin+")")
		}
	}
	return c.Next()
}

// singleParams answers 400 when a query parameter is given twice: which
// one counts would otherwise depend on who reads it.
func singleParams(c *fiber.Ctx) error {
	seen := map[string]bool{}
	var dup string
	c.Request().URI().QueryArgs().VisitAll(func(k, _ []byte) {
		if seen[string(k)] && dup == "" {
			dup = string(k)
		}
		seen[string(k)] = true
	})
	if dup != "" {
		return badParam(dup, "given more than once; give it once")
	}
	return c.Next()
}
