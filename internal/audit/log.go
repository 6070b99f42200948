package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit: log is closed")

// Options tunes the writer. The zero value is usable.
type Options struct {
	MaxBatch int              // most entries per transaction; 0 means 256
	MaxDelay time.Duration    // how long a batch waits for more entries after its first; 0 commits what is queued at once
	Now      func() time.Time // clock for Entry.Time; nil means time.Now
}

// Log appends entries to main.audit_log through a single writer goroutine,
// which commits concurrent Appends together (group commit). It is safe for
// concurrent use.
type Log struct {
	db  *sql.DB
	opt Options

	mu     sync.RWMutex // held for reading while sending on reqs; Close takes it to close reqs
	closed bool
	reqs   chan request
	done   chan struct{}

	// Owned by the writer goroutine after Open returns.
	lastSeq  int64
	lastHash string
	insert   *sql.Stmt // insertSQL, prepared once: parsing and planning it was a third of a commit
}

type request struct {
	e    Entry
	done chan error
}

// Open ensures the schema, reads the last entry's seq and hash, and starts the
// writer. It fails when the table cannot be created or read.
func Open(ctx context.Context, db *sql.DB, opt Options) (*Log, error) {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 256
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := EnsureSchema(ctx, db); err != nil {
		return nil, fmt.Errorf("audit.Open: %w", err)
	}
	l := &Log{
		db:   db,
		opt:  opt,
		reqs: make(chan request, opt.MaxBatch),
		done: make(chan struct{}),
	}
	var err error
	if l.lastSeq, l.lastHash, err = tail(ctx, db); err != nil {
		return nil, fmt.Errorf("audit.Open: %w", err)
	}
	if l.insert, err = db.PrepareContext(ctx, insertSQL); err != nil {
		return nil, fmt.Errorf("audit.Open: %w", err)
	}
	go l.run()
	return l, nil
}

// tail returns the newest stored entry's seq and hash, or 0 and Genesis for an
// empty log.
func tail(ctx context.Context, db *sql.DB) (seq int64, hash string, err error) {
	err = db.QueryRowContext(ctx,
		`SELECT seq, hash FROM main.audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, Genesis, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("reading last entry: %w", err)
	}
	return seq, hash, nil
}

// Append writes e and returns once the transaction holding it has committed.
// It returns ErrClosed after Close, an error naming the field when Status does
// not fit the table, and the database's error when the batch could not be
// written; the caller should then withhold its answer. If ctx ends first,
// Append returns ctx's error and the entry may still be written.
func (l *Log) Append(ctx context.Context, e Entry) error {
	if e.Status < math.MinInt32 || e.Status > math.MaxInt32 {
		return fmt.Errorf("audit.Append: status %d out of range", e.Status)
	}
	// DuckDB stores VARCHAR as UTF-8; cleaning here keeps one bad string from
	// failing the whole batch, and keeps the Go hash equal to the stored text.
	for _, s := range []*string{&e.User, &e.Role, &e.Method, &e.Route, &e.Params, &e.ExportSHA256, &e.Detail} {
		*s = strings.ToValidUTF8(*s, "\uFFFD")
	}
	r := request{e: e, done: make(chan error, 1)}

	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	select {
	case l.reqs <- r:
		l.mu.RUnlock()
	case <-ctx.Done():
		l.mu.RUnlock()
		return fmt.Errorf("audit.Append: %w", ctx.Err())
	}

	select {
	case err := <-r.done:
		if err != nil {
			return fmt.Errorf("audit.Append: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit.Append: %w", ctx.Err())
	}
}

// Close writes the entries already queued, stops the writer and returns. Later
// Appends return ErrClosed. Close is idempotent.
func (l *Log) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.reqs)
	}
	l.mu.Unlock()
	<-l.done
	return nil
}

// run is the writer: it takes the first queued request, gathers up to MaxBatch
// (waiting at most MaxDelay), commits them in one transaction and answers each.
// When a batch fails, each of its entries is committed alone, so one entry
// the database refuses fails only its own request.
func (l *Log) run() {
	defer close(l.done)
	defer l.insert.Close()
	batch := make([]request, 0, l.opt.MaxBatch)
	for first := range l.reqs {
		batch = append(batch[:0], first)
		batch = l.gather(batch)
		err := l.commit(batch)
		if err != nil && len(batch) > 1 {
			for i := range batch {
				batch[i].done <- l.commit(batch[i : i+1])
			}
			continue
		}
		for _, r := range batch {
			r.done <- err
		}
	}
}

// gather appends queued requests to batch until it is full, the queue is empty
// (MaxDelay 0) or MaxDelay has passed, or the queue is closed.
func (l *Log) gather(batch []request) []request {
	var deadline <-chan time.Time
	if l.opt.MaxDelay > 0 {
		t := time.NewTimer(l.opt.MaxDelay)
		defer t.Stop()
		deadline = t.C
	}
	for len(batch) < l.opt.MaxBatch {
		if deadline == nil {
			select {
			case r, ok := <-l.reqs:
				if !ok {
					return batch
				}
				batch = append(batch, r)
			default:
				return batch
			}
			continue
		}
		select {
		case r, ok := <-l.reqs:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		case <-deadline:
			return batch
		}
	}
	return batch
}

// insertSQL writes a batch in one statement from one list per column: DuckDB
// binds a list far faster than thousands of scalar parameters, and unnest over
// lists of equal length zips them into rows. The time is bound as
// microseconds because a bare time.Time binds as TIMESTAMPTZ, whose cast to
// TIMESTAMP would apply the session's time zone.
const insertSQL = `INSERT INTO main.audit_log (seq, occurred_at, user_name, role, method, route, params,
	status, rows, bytes, export_sha256, detail, prev_hash, hash)
SELECT unnest($seq::BIGINT[]), make_timestamp(unnest($us::BIGINT[])),
	unnest($user::VARCHAR[]), unnest($role::VARCHAR[]), unnest($method::VARCHAR[]), unnest($route::VARCHAR[]),
	unnest($params::VARCHAR[]), unnest($status::INTEGER[]), unnest($rows::BIGINT[]), unnest($bytes::BIGINT[]),
	unnest($export::VARCHAR[]), unnest($detail::VARCHAR[]), unnest($prev::VARCHAR[]), unnest($hash::VARCHAR[])`

// commit chains batch onto the tail and inserts it in one statement, so the
// batch is written entirely or not at all. On failure it re-reads the tail
// from the database so the next batch chains onto what is stored.
func (l *Log) commit(batch []request) error {
	var cols columns
	seq, prev := l.lastSeq, l.lastHash
	for i := range batch {
		e := &batch[i].e
		seq++
		e.Seq = seq
		e.Time = l.opt.Now().UTC().Truncate(time.Microsecond)
		e.PrevHash = prev
		e.Hash = hashEntry(*e)
		prev = e.Hash
		cols.add(*e)
	}
	ctx := context.Background()
	_, err := l.insert.ExecContext(ctx, cols.args()...)
	if err != nil {
		err = fmt.Errorf("writing %d entries from seq %d: %w", len(batch), l.lastSeq+1, err)
		if s, h, terr := tail(ctx, l.db); terr != nil {
			err = errors.Join(err, terr) // keep the old tail; the next batch fails or succeeds on its own
		} else {
			l.lastSeq, l.lastHash = s, h
		}
		return err
	}
	l.lastSeq, l.lastHash = seq, prev
	return nil
}

// columns is a batch laid out column by column, as insertSQL binds it.
type columns struct {
	seq, us, rows, bytes                                          []int64
	status                                                        []int32
	user, role, method, route, params, export, detail, prev, hash []string
}

func (c *columns) add(e Entry) {
	c.seq = append(c.seq, e.Seq)
	c.us = append(c.us, e.Time.UnixMicro())
	c.user = append(c.user, e.User)
	c.role = append(c.role, e.Role)
	c.method = append(c.method, e.Method)
	c.route = append(c.route, e.Route)
	c.params = append(c.params, e.Params)
	c.status = append(c.status, int32(e.Status))
	c.rows = append(c.rows, e.Rows)
	c.bytes = append(c.bytes, e.Bytes)
	c.export = append(c.export, e.ExportSHA256)
	c.detail = append(c.detail, e.Detail)
	c.prev = append(c.prev, e.PrevHash)
	c.hash = append(c.hash, e.Hash)
}

func (c *columns) args() []any {
	return []any{
		sql.Named("seq", c.seq), sql.Named("us", c.us), sql.Named("user", c.user), sql.Named("role", c.role),
		sql.Named("method", c.method), sql.Named("route", c.route), sql.Named("params", c.params),
		sql.Named("status", c.status), sql.Named("rows", c.rows), sql.Named("bytes", c.bytes),
		sql.Named("export", c.export), sql.Named("detail", c.detail), sql.Named("prev", c.prev), sql.Named("hash", c.hash),
	}
}
