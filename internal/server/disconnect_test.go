package server

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// TestWatchClient: a client that hangs up cancels the request's context
// within a few checks; one that stays connected, with a pipelined request
// waiting, is not cancelled, and its bytes are still there to be read.
func TestWatchClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dial := func() (client, server net.Conn) {
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		server, err = ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return client, server
	}

	client, server := dial()
	defer server.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go watchClient(ctx, server, cancel, 20*time.Millisecond)
	client.Close()
	start := time.Now()
	<-ctx.Done()
	if ctx.Err() != context.Canceled || time.Since(start) > 2*time.Second {
		t.Errorf("hang-up: ctx %v after %s, want cancelled promptly", ctx.Err(), time.Since(start))
	}

	client, server = dial()
	defer client.Close()
	defer server.Close()
	if _, err := client.Write([]byte("GET /next")); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	go watchClient(ctx2, server, cancel2, 20*time.Millisecond)
	<-ctx2.Done()
	if ctx2.Err() != context.DeadlineExceeded {
		t.Errorf("connected client: ctx %v, want only the deadline", ctx2.Err())
	}
	buf := make([]byte, 9)
	server.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "GET /next" {
		t.Errorf("pipelined bytes after watching: %q %v", buf, err)
	}
}
