package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/field"
)

// group is the rows of one Write that go to one table.
type group struct {
	info  *tableInfo
	cols  []column // in statement order; names as the sink writes them
	names string   // the columns' names joined by commas, once known
	rows  []row
}

// row is one record's values, in the order of its group's columns.
type row struct {
	idx  int    // index of the record in the batch
	vals []any  // converted values
	size int    // estimated bytes in a statement
	key  string // the key's values, encoded, for postgres upserts
}

// plan is a batch turned into rows, before any of them is written.
type plan struct {
	groups []*group
	failed map[int]error // records that cannot be written, permanently
}

// errBisect says that a statement failed because of its rows: the write
// starts again, looking for the bad ones.
var errBisect = errors.New("a row was rejected")

// Write writes the records of b as rows in one transaction, and returns
// nil once it is committed. Records that cannot be mapped to a row (their
// table or a column cannot be computed, a value does not fit its column)
// and rows the database rejects (constraint violations, values too long or
// out of range) fail permanently and are named in a *engine.BatchError;
// every other record is committed. A rejected row is found by bisection:
// the transaction starts again, and each statement that fails is rolled
// back to a savepoint, split in halves and retried, down to single rows.
// Anything else (deadlock, lock wait timeout, lost connection, server
// restart, a failed commit) rolls the transaction back and returns a plain,
// retryable error: nothing of b is written then.
func (s *Sink) Write(ctx context.Context, b engine.Batch) error {
	n := len(b.Records)
	if n == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	start := time.Now()
	p, err := s.plan(ctx, s.db, b)
	if err != nil {
		return err
	}
	bad, err := s.commit(ctx, s.db, b, p, false)
	if errors.Is(err, errBisect) {
		s.bisections.Inc()
		bad, err = s.commit(ctx, s.db, b, p, true)
	}
	if err != nil {
		return err
	}
	failed := make([]engine.RecordError, 0, len(bad))
	for i, e := range bad {
		failed = append(failed, engine.RecordError{Index: i, Err: e})
	}
	slices.SortFunc(failed, func(a, b engine.RecordError) int { return a.Index - b.Index })
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("batch written", engine.AttrRecords, n, "failed", len(failed),
			engine.AttrElapsed, time.Since(start).String())
	}
	return engine.NewBatchError(failed)
}

// plan maps every record of b to a row of its table. It reads the tables'
// columns (and creates the tables, with create_table) before the
// transaction starts: DDL would end it on MySQL. Its error is retryable;
// the failures of single records are in the plan.
func (s *Sink) plan(ctx context.Context, db *dbsql.DB, b engine.Batch) (*plan, error) {
	if len(s.cols) == 0 {
		return s.planFields(ctx, db, b)
	}
	return s.planColumns(ctx, db, b)
}

// tableRows is the group of one table while a plan is made, or why its
// records cannot be written.
type tableRows struct {
	name  string
	g     *group
	keyAt []int // the key columns' places in g.cols
	err   error // set when no record can be written to the table
	// For planFields: the records and their fields.
	idx    []int
	fields []map[string]any
}

// planColumns maps the records of b with the configured columns, a record
// at a time: the fields the columns use are read with Record.Values
// (picked from the record's value if it does not hold them yet), so that
// the plan keeps the rows' values and nothing more.
func (s *Sink) planColumns(ctx context.Context, db *dbsql.DB, b engine.Batch) (*plan, error) {
	n := len(b.Records)
	p := &plan{failed: map[int]error{}}
	var scratch map[string]any // the fields of a table template
	if s.tableT != nil && s.used != nil {
		scratch = make(map[string]any, len(s.used))
	}
	var (
		order  []*tableRows
		byName map[string]*tableRows
		last   *tableRows
		slab   []any // the values of the next rows
	)
	pgUpsert := s.cfg.Driver == DriverPostgres && s.cfg.Mode == ModeUpsert
	for i := range b.Records {
		rec := &b.Records[i]
		if s.cfg.ExactlyOnce && len(rec.Source.Stream) > maxStreamLen {
			p.fail(i, fmt.Errorf("source stream name is %d bytes long; exactly_once keeps at most %d", len(rec.Source.Stream), maxStreamLen))
			continue
		}
		rf, err := s.fieldsOf(rec)
		if err != nil {
			p.fail(i, err)
			continue
		}
		name := s.table
		if s.tableT != nil {
			fields := rf.m
			if fields == nil {
				fields = rf.into(scratch) // the template's fields are among them
			}
			if name, err = s.tableName(fields); err != nil {
				p.fail(i, err)
				continue
			}
		}
		tr := last
		if tr == nil || tr.name != name {
			if tr = byName[name]; tr == nil {
				room := 0 // rows of several tables: each grows as it needs
				if s.tableT == nil {
					room = n - i
				}
				if tr, err = s.columnsOf(ctx, db, name, room); err != nil {
					return nil, err
				}
				if byName == nil {
					byName = map[string]*tableRows{}
				}
				byName[name] = tr
				order = append(order, tr)
			}
			last = tr
		}
		if tr.err != nil {
			p.fail(i, tr.err)
			continue
		}
		cols := len(tr.g.cols)
		if len(slab) < cols {
			slab = make([]any, cols*min(n-i, 1024))
		}
		r, err := s.row(tr.g.cols, rf, tr.keyAt, pgUpsert, slab[:cols:cols])
		if err != nil {
			p.fail(i, err)
			continue
		}
		slab = slab[cols:]
		r.idx = i
		tr.g.rows = append(tr.g.rows, r)
	}
	for _, tr := range order {
		if tr.g != nil && len(tr.g.rows) > 0 {
			p.groups = append(p.groups, tr.g)
		}
	}
	return p, nil
}

// fail notes that record i cannot be written.
func (p *plan) fail(i int, err error) { p.failed[i] = engine.Permanent(err) }

// tableName returns the table of the record with fields.
func (s *Sink) tableName(fields map[string]any) (string, error) {
	if s.tableT == nil {
		return s.table, nil
	}
	name, err := s.tableT.Render(fields)
	if err != nil {
		return "", fmt.Errorf("table: %w", err)
	}
	if err := checkIdent(name, s.d.maxIdent, true); err != nil {
		return "", fmt.Errorf("table %q rendered from %q: %w", name, s.tableT.Source(), err)
	}
	return name, nil
}

// columnsOf returns the group of table with the configured columns, room
// made for up to rows rows, or the error of its records when the table or
// a column does not exist.
func (s *Sink) columnsOf(ctx context.Context, db *dbsql.DB, table string, rows int) (*tableRows, error) {
	tr := &tableRows{name: table}
	info, err := s.tableInfo(ctx, db, table)
	if errors.Is(err, errNoTable) {
		tr.err = fmt.Errorf("%w (create it, or set create_table)", err)
		return tr, nil
	}
	if err != nil {
		return nil, err
	}
	g := &group{info: info, cols: make([]column, 0, len(s.cols))}
	for _, mc := range s.cols {
		c, ok, err := s.lookup(ctx, db, g, mc.name)
		if err != nil {
			return nil, err
		}
		if !ok {
			tr.err = fmt.Errorf("table %s has no column %s", g.info.name, mc.name)
			return tr, nil
		}
		g.cols = append(g.cols, c)
	}
	if tr.keyAt, tr.err = s.keyColumns(g.cols); tr.err != nil {
		return tr, nil
	}
	g.rows = make([]row, 0, rows)
	tr.g = g
	return tr, nil
}

// lookup returns the column name of g's table, reading the table's columns
// again (at most every 10s) when it lacks one.
func (s *Sink) lookup(ctx context.Context, db *dbsql.DB, g *group, name string) (column, bool, error) {
	c, ok := g.info.column(name)
	if !ok {
		fresh, err := s.refresh(ctx, db, g.info)
		if err != nil {
			if errors.Is(err, errNoTable) {
				return column{}, false, nil
			}
			return column{}, false, err
		}
		g.info = fresh
		c, ok = fresh.column(name)
	}
	c.name = name // as configured or as the field is named
	return c, ok, nil
}

// keyColumns returns the places of the key columns in cols.
func (s *Sink) keyColumns(cols []column) ([]int, error) {
	keyAt := make([]int, 0, len(s.cfg.Key))
	for _, k := range s.cfg.Key {
		at := slices.IndexFunc(cols, func(c column) bool { return strings.EqualFold(c.name, k) })
		if at < 0 {
			return nil, fmt.Errorf("key column %s has no value", k)
		}
		keyAt = append(keyAt, at)
	}
	return keyAt, nil
}

// planFields maps the records of b with every top-level field as a column:
// it reads every record's fields first, since a table's columns are the
// union of its records' fields.
func (s *Sink) planFields(ctx context.Context, db *dbsql.DB, b engine.Batch) (*plan, error) {
	p := &plan{failed: map[int]error{}}
	var order []*tableRows
	byName := map[string]*tableRows{}
	for i := range b.Records {
		rec := &b.Records[i]
		if s.cfg.ExactlyOnce && len(rec.Source.Stream) > maxStreamLen {
			p.fail(i, fmt.Errorf("source stream name is %d bytes long; exactly_once keeps at most %d", len(rec.Source.Stream), maxStreamLen))
			continue
		}
		fields, err := rec.View(s.used)
		if err != nil {
			p.fail(i, err)
			continue
		}
		name, err := s.tableName(fields)
		if err != nil {
			p.fail(i, err)
			continue
		}
		tr := byName[name]
		if tr == nil {
			tr = &tableRows{name: name}
			byName[name] = tr
			order = append(order, tr)
		}
		tr.idx = append(tr.idx, i)
		tr.fields = append(tr.fields, fields)
	}
	for _, tr := range order {
		info, err := s.tableInfo(ctx, db, tr.name)
		if errors.Is(err, errNoTable) {
			for _, i := range tr.idx {
				p.fail(i, fmt.Errorf("%w (create it, or set create_table)", err))
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		g, err := s.fieldsGroup(ctx, db, info, tr.idx, tr.fields, p)
		if err != nil {
			return nil, err
		}
		if g != nil {
			p.groups = append(p.groups, g)
		}
	}
	return p, nil
}

// fieldsGroup maps the records idx (with their fields) of one table to
// rows whose columns are the union of the records' fields, sorted.
func (s *Sink) fieldsGroup(ctx context.Context, db *dbsql.DB, info *tableInfo, idx []int, fields []map[string]any, p *plan) (*group, error) {
	g := &group{info: info}
	seen := map[string]bool{}
	var names []string
	for _, f := range fields {
		for k := range f {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	slices.Sort(names)
	bad := map[string]error{}
	for _, name := range names {
		if err := checkIdent(name, s.d.maxIdent, false); err != nil {
			bad[name] = fmt.Errorf("field %w: it cannot be a column (map columns explicitly)", err)
			continue
		}
		c, ok, err := s.lookup(ctx, db, g, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			bad[name] = fmt.Errorf("table %s has no column %s for the record's field of that name", g.info.name, name)
			continue
		}
		g.cols = append(g.cols, c)
	}
	if len(bad) > 0 {
		keep := idx[:0:0]
		keepF := fields[:0:0]
		for j, f := range fields {
			var errs []error
			for name, err := range bad {
				if _, has := f[name]; has {
					errs = append(errs, err)
				}
			}
			if len(errs) > 0 {
				slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
				p.fail(idx[j], errors.Join(errs...))
				continue
			}
			keep = append(keep, idx[j])
			keepF = append(keepF, f)
		}
		idx, fields = keep, keepF
	}
	if len(g.cols) == 0 {
		for _, i := range idx {
			p.fail(i, errors.New("record has no fields to write"))
		}
		return nil, nil
	}
	keyAt, err := s.keyColumns(g.cols)
	if err != nil {
		for _, i := range idx {
			p.fail(i, err)
		}
		return nil, nil
	}
	pgUpsert := s.cfg.Driver == DriverPostgres && s.cfg.Mode == ModeUpsert
	cols := len(g.cols)
	slab := make([]any, cols*len(idx))
	g.rows = make([]row, 0, len(idx))
	for j, i := range idx {
		r, err := s.row(g.cols, rowFields{m: fields[j]}, keyAt, pgUpsert, slab[:cols:cols])
		if err != nil {
			p.fail(i, err)
			continue
		}
		slab = slab[cols:]
		r.idx = i
		g.rows = append(g.rows, r)
	}
	if len(g.rows) == 0 {
		return nil, nil
	}
	return g, nil
}

// row computes one record's values into vals, which has a place for each
// column.
func (s *Sink) row(cols []column, rf rowFields, keyAt []int, encodeKey bool, vals []any) (row, error) {
	r := row{vals: vals}
	for c, col := range cols {
		var v any
		if len(s.cols) > 0 {
			var err error
			if v, err = s.cols[c].value(rf, c); err != nil {
				return row{}, fmt.Errorf("columns.%s: %w", col.name, err)
			}
		} else {
			v = rf.m[col.name]
		}
		cv, err := convert(v, col)
		if err != nil {
			return row{}, err
		}
		r.vals[c] = cv
		r.size += valueSize(cv) + 4
	}
	var key []byte
	for _, at := range keyAt {
		if r.vals[at] == nil {
			return row{}, fmt.Errorf("key column %s is NULL", cols[at].name)
		}
		if encodeKey {
			key = fmt.Appendf(key, "%T:%v\x00", r.vals[at], r.vals[at])
		}
	}
	r.key = string(key)
	return r, nil
}

// rowFields is where row reads a record's values: the fields the
// configured columns read, as Record.Values gives them, or else a map of
// the record's fields.
type rowFields struct {
	m     map[string]any
	l     *field.Layout
	vals  []field.Value
	slots []int // slots[c] is the slot in l of the field column c names, -1 for an expression
}

// into returns the record's picked fields in scratch, which it clears
// first.
func (rf rowFields) into(scratch map[string]any) map[string]any {
	clear(scratch)
	for i, v := range rf.vals {
		if v.Exists() {
			scratch[rf.l.Name(i)] = v.Any()
		}
	}
	return scratch
}

// fieldsOf returns the fields of rec that the configured columns read.
// Columns whose expressions may read any field get the record's fields
// decoded in full.
func (s *Sink) fieldsOf(rec *engine.Record) (rowFields, error) {
	if s.usedLayout == nil {
		m, err := rec.Fields()
		return rowFields{m: m}, err
	}
	l, vals, err := rec.Values(s.usedLayout)
	if err != nil {
		return rowFields{}, err
	}
	return rowFields{l: l, vals: vals, slots: s.colSlots.Get(l, s.slotsIn)}, nil
}

// slotsIn returns, for each configured column that is only a field name,
// the slot of that field in l; -1 for the others.
func (s *Sink) slotsIn(l *field.Layout) []int {
	slots := make([]int, len(s.cols))
	for c, mc := range s.cols {
		slots[c] = -1
		if mc.field != "" {
			if slot, ok := l.Index(mc.field); ok {
				slots[c] = slot
			}
		}
	}
	return slots
}

// value returns the value of column c, mapped by mc, for the record with
// the fields rf: the field it names, or else what its expression
// evaluates to.
func (mc *mappedColumn) value(rf rowFields, c int) (any, error) {
	if rf.vals != nil {
		if slot := rf.slots[c]; slot >= 0 && rf.vals[slot].Kind() != field.KindAny {
			return rf.vals[slot].Any(), nil
		}
		// EvalValues turns other types into those of the record model.
		v, err := mc.prog.EvalValues(rf.l, rf.vals, nil)
		return v.Any(), err
	}
	if mc.field != "" {
		switch v := rf.m[mc.field].(type) {
		case nil, string, int64, float64, bool, time.Time:
			return v, nil
		}
		// Eval turns other types into those of the record model.
	}
	return mc.prog.Eval(rf.m)
}

// commit writes the plan in one transaction and commits it. Without
// bisect, the first statement that the database rejects for its rows ends
// the attempt with errBisect. With bisect, each statement runs in a
// savepoint, and one that is rejected is split until the bad rows are
// alone; commit returns them with the records that could not be mapped.
// In exactly_once mode it first locks the positions of the batch's streams,
// skips the records at or below them, and saves the new positions before
// committing.
func (s *Sink) commit(ctx context.Context, db *dbsql.DB, b engine.Batch, p *plan, bisect bool) (map[int]error, error) {
	if err := s.prepare(ctx, db, p); err != nil {
		return nil, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.fail("begin transaction", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	var skip []bool
	var stored map[string]int64
	if s.cfg.ExactlyOnce {
		if stored, err = s.lockPositions(ctx, tx, b); err != nil {
			return nil, err
		}
		var late int
		skip, late = s.skips(b, stored)
		skipped := 0
		for _, sk := range skip {
			if sk {
				skipped++
			}
		}
		if late > 0 {
			s.log.Debug("records arrived out of order; writing them", engine.AttrRecords, late)
		}
		defer func() {
			if committed {
				s.skipped.Add(float64(skipped))
			}
		}()
	}
	bad := make(map[int]error, len(p.failed))
	for i, e := range p.failed {
		if skip == nil || !skip[i] {
			bad[i] = e
		}
	}
	for _, g := range p.groups {
		rows := g.rows
		if skip != nil {
			rows = slices.DeleteFunc(slices.Clone(rows), func(r row) bool { return skip[r.idx] })
		}
		for len(rows) > 0 {
			n := s.chunk(g, rows)
			if bisect {
				err = s.bisect(ctx, tx, g, rows[:n], bad)
			} else if err = s.exec(ctx, tx, g, rows[:n]); err != nil {
				if classify(err) {
					return nil, errBisect
				}
				err = s.fail("write to "+g.info.name, err)
			}
			if err != nil {
				return nil, err
			}
			rows = rows[n:]
		}
	}
	if s.cfg.ExactlyOnce {
		next := nextPositions(b, stored, skip, bad)
		if err := s.savePositions(ctx, tx, next); err != nil {
			return nil, err
		}
		s.storing(next)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.fail("commit", err)
	}
	if s.cfg.ExactlyOnce {
		s.committed(b, skip)
	}
	committed = true
	return bad, nil
}

// bisectSavepoint is the savepoint a bisection rolls back to. Savepoints
// are never nested: each is released before the next is set.
const bisectSavepoint = "sluice_bisect"

// bisect writes rows in a savepoint. When the database rejects them for
// their values, it rolls back to the savepoint and writes each half the
// same way; a single rejected row is added to bad. Other errors are
// returned: the transaction cannot go on.
func (s *Sink) bisect(ctx context.Context, tx *dbsql.Tx, g *group, rows []row, bad map[int]error) error {
	if _, err := tx.ExecContext(ctx, savepoint(bisectSavepoint)); err != nil {
		return s.fail("savepoint", err)
	}
	err := s.exec(ctx, tx, g, rows)
	if err == nil {
		if _, err := tx.ExecContext(ctx, releaseSavepoint(bisectSavepoint)); err != nil {
			return s.fail("release savepoint", err)
		}
		return nil
	}
	if !classify(err) {
		return s.fail("write to "+g.info.name, err)
	}
	if _, err := tx.ExecContext(ctx, rollbackTo(bisectSavepoint)); err != nil {
		return s.fail("rollback to savepoint", err)
	}
	if _, err := tx.ExecContext(ctx, releaseSavepoint(bisectSavepoint)); err != nil {
		return s.fail("release savepoint", err)
	}
	if len(rows) == 1 {
		bad[rows[0].idx] = engine.Permanent(fmt.Errorf("write to %s: %w", g.info.name, redact(err, s.password)))
		return nil
	}
	mid := len(rows) / 2
	if err := s.bisect(ctx, tx, g, rows[:mid], bad); err != nil {
		return err
	}
	return s.bisect(ctx, tx, g, rows[mid:], bad)
}

// fail wraps a retryable error of the transaction.
func (s *Sink) fail(what string, err error) error {
	return fmt.Errorf("%s on %s: %w", what, s.target, redact(err, s.password))
}

// streams returns the sorted source streams of the records of b, but for
// names too long for the positions table (their records failed).
func streams(b engine.Batch) []string {
	seen := map[string]bool{}
	var out []string
	for i := range b.Records {
		st := b.Records[i].Source.Stream
		if seen[st] || len(st) > maxStreamLen {
			continue
		}
		seen[st] = true
		out = append(out, st)
	}
	slices.Sort(out)
	return out
}

// lockPositions makes sure that every stream of b has a row in the
// positions table, locks those rows until the transaction ends (sorted, so
// that two writers lock in the same order), and returns their offsets.
func (s *Sink) lockPositions(ctx context.Context, tx *dbsql.Tx, b engine.Batch) (map[string]int64, error) {
	all := streams(b)
	table := s.cfg.PositionsTable
	per := max(s.maxParams/3-1, 1)
	for rest := all; len(rest) > 0; {
		part := rest[:min(per, len(rest))]
		rest = rest[len(part):]
		args := make([]any, 0, 3*len(part))
		for _, st := range part {
			args = append(args, s.pipeline, st, noOffset)
		}
		if _, err := tx.ExecContext(ctx, s.d.ensurePositions(table, len(part)), args...); err != nil {
			return nil, s.fail("create positions of "+table, err)
		}
	}
	stored := make(map[string]int64, len(all))
	for rest := all; len(rest) > 0; {
		part := rest[:min(per, len(rest))]
		rest = rest[len(part):]
		args := make([]any, 0, 1+len(part))
		args = append(args, s.pipeline)
		for _, st := range part {
			args = append(args, st)
		}
		rows, err := tx.QueryContext(ctx, s.d.lockPositions(table, len(part)), args...)
		if err != nil {
			return nil, s.fail("lock positions of "+table, err)
		}
		for rows.Next() {
			var st string
			var off int64
			if err := rows.Scan(&st, &off); err != nil {
				rows.Close()
				return nil, s.fail("lock positions of "+table, err)
			}
			stored[st] = off
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.fail("lock positions of "+table, err)
		}
	}
	return stored, nil
}

// nextPositions returns, for each stream that gets a new offset, the
// offset of the last record written: the largest of the stored one and
// those of the records written now (neither skipped nor failed).
func nextPositions(b engine.Batch, stored map[string]int64, skip []bool, bad map[int]error) map[string]int64 {
	next := map[string]int64{}
	for i := range b.Records {
		if skip[i] {
			continue
		}
		if _, failed := bad[i]; failed {
			continue
		}
		pos := b.Records[i].Source
		cur, ok := next[pos.Stream]
		if !ok {
			if cur, ok = stored[pos.Stream]; !ok {
				cur = noOffset
			}
		}
		if pos.Offset > cur {
			next[pos.Stream] = pos.Offset
		}
	}
	return next
}

// savePositions upserts the new offsets.
func (s *Sink) savePositions(ctx context.Context, tx *dbsql.Tx, next map[string]int64) error {
	if len(next) == 0 {
		return nil
	}
	keys := make([]string, 0, len(next))
	for st := range next {
		keys = append(keys, st)
	}
	slices.Sort(keys)
	table := s.cfg.PositionsTable
	per := max(s.maxParams/3, 1)
	for len(keys) > 0 {
		part := keys[:min(per, len(keys))]
		keys = keys[len(part):]
		args := make([]any, 0, 3*len(part))
		for _, st := range part {
			args = append(args, s.pipeline, st, next[st])
		}
		if _, err := tx.ExecContext(ctx, s.d.savePositions(table, len(part)), args...); err != nil {
			return s.fail("save positions to "+table, err)
		}
	}
	return nil
}
