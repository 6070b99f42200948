package server

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"
)

// watchClient cancels ctx when the client at the other end of conn hangs
// up, checking every interval until ctx ends. fasthttp gives a handler no
// signal for it, so the socket is peeked (MSG_PEEK: nothing is consumed,
// a pipelined request stays for fasthttp to read): zero bytes with no
// error means the peer closed. Connections that are not TCP are not watched.
func watchClient(ctx context.Context, conn net.Conn, cancel context.CancelFunc, interval time.Duration) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var buf [1]byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		gone := false
		_ = raw.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			gone = n == 0 && err == nil || err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
			return true
		})
		if gone {
			cancel()
			return
		}
	}
}
