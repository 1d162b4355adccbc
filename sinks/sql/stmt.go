package sql

import (
	"context"
	dbsql "database/sql"
	"math/bits"
	"strings"
)

// Statements.
//
// A batch is written in multi-row statements of a few sizes only: as many
// rows as fit stmtParams placeholders, max_statement_bytes and the
// database's placeholder limit, rounded down to a power of two. A batch of
// 5000 rows of 11 columns is nine statements of 512 rows, then 256, 128
// and 8, and every batch of that table reuses the same dozen statements.
// On MySQL (unless the dsn sets interpolateParams) and SQLite, the sink
// prepares each on the server once (database/sql then prepares it once on
// each connection it runs on) and keeps it, so that a statement sends only
// its values: the server does not parse the text again, and MySQL and
// MariaDB do not describe every placeholder back, as they do for each
// statement that go-sql-driver prepares, runs and closes when it is given
// arguments. With the rows of benchmark scenario (e), MariaDB spends about
// 3.5µs of CPU per row so, and 11µs when each statement is prepared, run
// and closed (5000 rows each). On PostgreSQL, pgx keeps the statements it
// prepares per connection itself (as default_query_exec_mode says), and the
// few sizes keep its cache small.

const (
	// stmtParams is the most placeholders of a statement the sink keeps
	// prepared: 744 rows of 11 columns, written 512 at a time. MariaDB
	// holds about 470 bytes per placeholder of a prepared statement, per
	// connection. It spent as much CPU per row with statements of 2048 to
	// 16384 placeholders, more with larger ones (a third more at 65535).
	stmtParams = 8192
	// cachedParams bounds the placeholders of the statements the sink
	// keeps prepared, about 30MiB per connection on MariaDB: room for a
	// few tables. Past it, the statements are closed and prepared again as
	// they are needed.
	cachedParams = 1 << 16
	// cachedText bounds the statement text the sink keeps.
	cachedText = 8 << 20
)

// stmtKey names a statement.
type stmtKey struct {
	table string
	cols  string // column names joined by commas
	rows  int
}

// statement is a statement's text, and its prepared form once the sink
// has prepared it.
type statement struct {
	text     string
	prepared *dbsql.Stmt
	params   int
}

// chunk returns how many of rows, at least one, the next statement holds:
// as many as stmtParams, the placeholder limit and max_statement_bytes
// allow and, in a postgres upsert, no two rows with the same key (ON
// CONFLICT DO UPDATE cannot change a row twice in one statement), rounded
// down to a power of two.
func (s *Sink) chunk(g *group, rows []row) int {
	maxRows := max(min(s.maxParams, stmtParams)/len(g.cols), 1)
	size := 64 + 8*len(g.cols) + len(g.info.name)
	for _, c := range g.cols {
		size += 2 * (len(c.name) + 4) // the column list, and the update list of an upsert
	}
	var keys map[string]bool
	n := 0
	for ; n < len(rows) && n < maxRows; n++ {
		r := &rows[n]
		if n > 0 && size+r.size > s.maxBytes {
			break
		}
		if r.key != "" {
			if keys[r.key] {
				break
			}
			if keys == nil {
				keys = map[string]bool{}
			}
			keys[r.key] = true
		}
		size += r.size + 4
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

// statement returns the statement writing rows rows of g, from the
// statements the sink keeps: batches of one table repeat the same ones.
func (s *Sink) statement(g *group, rows int) (stmtKey, *statement) {
	k := stmtKey{table: g.info.name, cols: g.colNames(), rows: rows}
	s.tmu.Lock()
	st := s.stmts[k]
	s.tmu.Unlock()
	if st != nil {
		return k, st
	}
	names := make([]string, len(g.cols))
	for i, c := range g.cols {
		names[i] = c.name
	}
	st = &statement{text: s.d.insert(g.info.name, names, rows, s.cfg.Mode, s.cfg.Key), params: rows * len(g.cols)}
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if had := s.stmts[k]; had != nil {
		return k, had
	}
	if s.stmtBytes+len(st.text) > cachedText {
		s.closeStatements()
	}
	s.stmts[k] = st
	s.stmtBytes += len(st.text)
	return k, st
}

// prepare prepares on db the statements that writing the rows of p takes
// and that the sink does not hold prepared yet. It runs before the
// transaction, which holds a connection of its own: the pool may have no
// other. A statement that the database refuses for what it names (a
// column that is gone) is left unprepared, so that it fails in the
// transaction and its rows are dead-lettered; any other error is returned.
func (s *Sink) prepare(ctx context.Context, db *dbsql.DB, p *plan) error {
	if !s.prepared {
		return nil
	}
	for _, g := range p.groups {
		for rows := g.rows; len(rows) > 0; {
			n := s.chunk(g, rows)
			rows = rows[n:]
			if err := s.prepareStatement(ctx, db, g, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// prepareStatement prepares the statement writing rows rows of g, unless
// the sink holds it prepared.
func (s *Sink) prepareStatement(ctx context.Context, db *dbsql.DB, g *group, rows int) error {
	k, st := s.statement(g, rows)
	s.tmu.Lock()
	done := st.prepared != nil
	s.tmu.Unlock()
	if done {
		return nil
	}
	ps, err := db.PrepareContext(ctx, st.text)
	if err != nil {
		if classify(err) {
			return nil
		}
		return s.fail("prepare statement", err)
	}
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if st.prepared != nil || s.stmts[k] != st {
		// Prepared meanwhile by another Write, or no longer kept.
		ps.Close()
		return nil
	}
	if s.stmtParams+st.params > s.cacheParams {
		s.closeStatements()
		s.stmts[k] = st
		s.stmtBytes = len(st.text)
	}
	st.prepared = ps
	s.stmtParams += st.params
	return nil
}

// closeStatements forgets the statements the sink keeps and closes the
// prepared ones; a Write that runs one meanwhile is not disturbed
// (database/sql closes it on the server once no transaction uses it). The
// caller holds tmu.
func (s *Sink) closeStatements() {
	for _, st := range s.stmts {
		if st.prepared != nil {
			st.prepared.Close()
			st.prepared = nil
		}
	}
	clear(s.stmts)
	s.stmtBytes, s.stmtParams = 0, 0
}

// exec writes rows in one multi-row statement: the prepared one when the
// sink holds it, else the statement's text with its values. A prepared
// statement that fails other than for its rows' values is forgotten, so
// that the retry prepares it again, in case the server lost it.
func (s *Sink) exec(ctx context.Context, tx *dbsql.Tx, g *group, rows []row) error {
	args := make([]any, 0, len(rows)*len(g.cols))
	for _, r := range rows {
		args = append(args, r.vals...)
	}
	k, st := s.statement(g, len(rows))
	s.tmu.Lock()
	ps := st.prepared
	s.tmu.Unlock()
	s.statements.Inc()
	if ps == nil {
		_, err := tx.ExecContext(ctx, st.text, args...)
		return err
	}
	_, err := tx.StmtContext(ctx, ps).ExecContext(ctx, args...)
	if err != nil && !classify(err) {
		s.tmu.Lock()
		if s.stmts[k] == st {
			delete(s.stmts, k)
			s.stmtBytes -= len(st.text)
			if st.prepared != nil {
				st.prepared.Close()
				st.prepared = nil
				s.stmtParams -= st.params
			}
		}
		s.tmu.Unlock()
	}
	return err
}

// colNames returns the names of g's columns joined by commas.
func (g *group) colNames() string {
	if g.names == "" {
		var b strings.Builder
		for i, c := range g.cols {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c.name)
		}
		g.names = b.String()
	}
	return g.names
}
