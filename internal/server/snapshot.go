package server

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// oneDataset runs h so that its answer comes from one dataset: a handler
// that reads several queries could otherwise combine the previous dataset
// and the next when an import or rollback commits between them. The
// store's generation is read before and after; if a switch began or ended
// in between, the answer is discarded and computed again (a switch's
// commit takes milliseconds). After several tries, or ten seconds of
// waiting for a switch to end, it answers 503.
func (s *Server) oneDataset(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		waited := time.Duration(0)
		for try := 0; try < 5; {
			before := s.store.Generation()
			if before%2 != 0 {
				// A switch is committing: wait for it, within reason, and
				// no longer than the request itself may run.
				if err := c.UserContext().Err(); err != nil {
					return err
				}
				if waited > 10*time.Second {
					break
				}
				time.Sleep(10 * time.Millisecond)
				waited += 10 * time.Millisecond
				continue
			}
			try++
			err := h(c)
			if s.store.Generation() == before {
				return err
			}
			c.Response().ResetBody()
			c.Status(fiber.StatusOK)
		}
		return fiber.NewError(fiber.StatusServiceUnavailable, "the dataset is being replaced; try again in a moment")
	}
}
