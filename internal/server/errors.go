package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/analysis"
	"deesc/internal/store"
	"deesc/queries"
)

// NotComputable says why a statistic cannot be computed on this data: 422.
type NotComputable struct{ Reason string }

func (e *NotComputable) Error() string { return e.Reason }

// errorBody is every error the API sends.
type errorBody struct {
	Error string `json:"error"`
	Param string `json:"param,omitempty"`
	ID    string `json:"id,omitempty"`
}

// classify maps an error to its status and the body a client may read:
// the one place where errors become HTTP. Internal errors come back as 500
// with an empty body (errorHandler gives them an id).
func classify(err error) (int, errorBody) {
	var (
		pe *analysis.ParamError
		qe *queries.ParamError
		nc *NotComputable
		fe *fiber.Error
	)
	reason, notComputable := analysis.IsNotComputable(err)
	switch {
	case errors.As(err, &pe):
		return fiber.StatusBadRequest, errorBody{Error: pe.Error(), Param: pe.Param}
	case errors.As(err, &qe):
		return fiber.StatusBadRequest, errorBody{Error: qe.Error(), Param: qe.Param}
	case errors.As(err, &nc):
		return fiber.StatusUnprocessableEntity, errorBody{Error: nc.Reason}
	case notComputable:
		return fiber.StatusUnprocessableEntity, errorBody{Error: reason}
	case errors.Is(err, store.ErrNoDataset):
		return fiber.StatusServiceUnavailable, errorBody{Error: "no dataset has been imported yet"}
	case errors.As(err, &fe):
		return fe.Code, errorBody{Error: fe.Message}
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		return 499, errorBody{Error: "request cancelled"}
	}
	return fiber.StatusInternalServerError, errorBody{}
}

// errorHandler answers an error with its status and JSON body (classify).
// Internal errors reach the client only as an id; the detail is logged.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		status, body := classify(err)
		// A 503 that says why (a timeout, a dataset being replaced) keeps
		// its message.
		if status >= 500 && !(status == fiber.StatusServiceUnavailable && body.Error != "") {
			body = errorBody{Error: "internal error; quote this id to your administrator", ID: newID()}
			log.Error("request failed", "id", body.ID, "method", c.Method(), "path", c.Path(), "err", err)
		}
		return c.Status(status).JSON(body)
	}
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
