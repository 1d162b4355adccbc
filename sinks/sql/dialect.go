package sql

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The write modes.
const (
	ModeInsert       = "insert"
	ModeUpsert       = "upsert"
	ModeInsertIgnore = "insert_ignore"
)

// The drivers.
const (
	DriverMySQL    = "mysql"
	DriverPostgres = "postgres"
	DriverSQLite   = "sqlite"
)

// dialect is what differs between the databases: identifier quoting,
// placeholders, limits and the statements the sink writes.
type dialect struct {
	name      string // one of the Driver constants
	maxParams int    // most placeholders one statement may hold
	maxIdent  int    // longest identifier, in bytes
}

var dialects = map[string]*dialect{
	// MySQL and MariaDB: the protocol counts parameters in 16 bits.
	DriverMySQL: {name: DriverMySQL, maxParams: 65535, maxIdent: 64},
	// PostgreSQL: Bind messages count parameters in 16 bits; names are
	// cut to NAMEDATALEN-1 = 63 bytes, silently, so longer ones are refused.
	DriverPostgres: {name: DriverPostgres, maxParams: 65535, maxIdent: 63},
	// SQLite: SQLITE_MAX_VARIABLE_NUMBER since 3.32.0.
	DriverSQLite: {name: DriverSQLite, maxParams: 32766, maxIdent: 64},
}

var identRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// checkIdent reports whether name is an identifier the sink accepts:
// letters, digits and _, at most max bytes. A table name may be qualified by
// a schema (MySQL: a database) as schema.table.
func checkIdent(name string, max int, qualified bool) error {
	parts := []string{name}
	if qualified && strings.Contains(name, ".") {
		parts = strings.Split(name, ".")
		if len(parts) != 2 {
			return fmt.Errorf("%q: at most one dot, as in schema.table", name)
		}
	}
	for _, p := range parts {
		switch {
		case p == "":
			return fmt.Errorf("%q: empty name", name)
		case len(p) > max:
			return fmt.Errorf("%q: longer than %d characters", name, max)
		case !identRE.MatchString(p):
			return fmt.Errorf("%q: only letters, digits and _ are allowed", name)
		}
	}
	return nil
}

// quote quotes an identifier that checkIdent accepted: backticks for
// MySQL, double quotes for PostgreSQL and SQLite, each part of schema.table
// on its own.
func (d *dialect) quote(name string) string {
	q := `"`
	if d.name == DriverMySQL {
		q = "`"
	}
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = q + p + q
	}
	return strings.Join(parts, ".")
}

// placeholder appends the placeholder of parameter n (1-based).
func (d *dialect) placeholder(b *strings.Builder, n int) {
	if d.name == DriverPostgres {
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		return
	}
	b.WriteByte('?')
}

// values appends "(p, p), (p, p)" for rows of cols placeholders each,
// numbering from first.
func (d *dialect) values(b *strings.Builder, rows, cols, first int) {
	n := first
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			d.placeholder(b, n)
			n++
		}
		b.WriteByte(')')
	}
}

func (d *dialect) columnList(b *strings.Builder, cols []string) {
	b.WriteByte('(')
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.quote(c))
	}
	b.WriteByte(')')
}

// insert returns the statement that writes rows rows into table:
//
//   - insert: INSERT INTO t (cols) VALUES (...), (...)
//   - upsert: MySQL ON DUPLICATE KEY UPDATE c = VALUES(c); PostgreSQL and
//     SQLite ON CONFLICT (key) DO UPDATE SET c = EXCLUDED.c, for every
//     column not in key (DO NOTHING when there is none)
//   - insert_ignore: PostgreSQL and SQLite ON CONFLICT DO NOTHING; MySQL
//     ON DUPLICATE KEY UPDATE k = k, a no-op on a duplicate key that, unlike
//     INSERT IGNORE, does not also turn bad values into warnings and
//     silently truncated or defaulted data
func (d *dialect) insert(table string, cols []string, rows int, mode string, key []string) string {
	var b strings.Builder
	b.Grow(32 + 16*len(cols) + rows*(4+len(cols)*4))
	b.WriteString("INSERT INTO ")
	b.WriteString(d.quote(table))
	b.WriteByte(' ')
	d.columnList(&b, cols)
	b.WriteString(" VALUES ")
	d.values(&b, rows, len(cols), 1)
	switch mode {
	case ModeUpsert:
		update := nonKey(cols, key)
		if d.name == DriverMySQL {
			b.WriteString(" ON DUPLICATE KEY UPDATE ")
			if len(update) == 0 {
				k := d.quote(key[0])
				b.WriteString(k + " = " + k)
			}
			for i, c := range update {
				if i > 0 {
					b.WriteString(", ")
				}
				q := d.quote(c)
				b.WriteString(q + " = VALUES(" + q + ")")
			}
			break
		}
		b.WriteString(" ON CONFLICT ")
		d.columnList(&b, key)
		if len(update) == 0 {
			b.WriteString(" DO NOTHING")
			break
		}
		b.WriteString(" DO UPDATE SET ")
		excluded := "EXCLUDED."
		if d.name == DriverSQLite {
			excluded = "excluded."
		}
		for i, c := range update {
			if i > 0 {
				b.WriteString(", ")
			}
			q := d.quote(c)
			b.WriteString(q + " = " + excluded + q)
		}
	case ModeInsertIgnore:
		if d.name == DriverMySQL {
			first := d.quote(cols[0])
			b.WriteString(" ON DUPLICATE KEY UPDATE " + first + " = " + first)
			break
		}
		b.WriteString(" ON CONFLICT DO NOTHING")
	}
	return b.String()
}

// nonKey returns the columns of cols that are not in key.
func nonKey(cols, key []string) []string {
	out := make([]string, 0, len(cols))
	for _, c := range cols {
		if !containsFold(key, c) {
			out = append(out, c)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// createTable returns CREATE TABLE IF NOT EXISTS for the declared columns,
// types as written.
func (d *dialect) createTable(table string, cols [][2]string, primaryKey []string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS ")
	b.WriteString(d.quote(table))
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.quote(c[0]))
		b.WriteByte(' ')
		b.WriteString(c[1])
	}
	if len(primaryKey) > 0 {
		b.WriteString(", PRIMARY KEY ")
		d.columnList(&b, primaryKey)
	}
	b.WriteByte(')')
	return b.String()
}

// The positions table of exactly-once mode: one row per pipeline and
// stream, holding the offset of the last record written from that stream.
// A row whose offset is noOffset was created to be locked before any
// record of its stream was written.
const noOffset = int64(-1 << 63)

// maxStreamLen is the longest stream name the positions table of MySQL
// holds (VARCHAR(512), so that the primary key fits InnoDB's 3072 bytes in
// utf8mb4).
const maxStreamLen = 512

func (d *dialect) createPositions(table string) string {
	text := "TEXT"
	pipeline, stream := text, text
	if d.name == DriverMySQL {
		pipeline, stream = "VARCHAR(128)", "VARCHAR(512)"
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s %s NOT NULL, %s %s NOT NULL, %s BIGINT NOT NULL, PRIMARY KEY (%s, %s))",
		d.quote(table), d.quote("pipeline"), pipeline, d.quote("stream"), stream, d.quote("offset"),
		d.quote("pipeline"), d.quote("stream"))
}

// ensurePositions returns the statement that creates the rows of n streams
// that do not have one yet, with offset noOffset, so that lockPositions
// finds a row to lock for every stream. Parameters: pipeline, stream,
// offset for each row.
func (d *dialect) ensurePositions(table string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + d.quote(table) + " ")
	d.columnList(&b, []string{"pipeline", "stream", "offset"})
	b.WriteString(" VALUES ")
	d.values(&b, n, 3, 1)
	if d.name == DriverMySQL {
		o := d.quote("offset")
		b.WriteString(" ON DUPLICATE KEY UPDATE " + o + " = " + o)
	} else {
		b.WriteString(" ON CONFLICT DO NOTHING")
	}
	return b.String()
}

// lockPositions returns the statement that reads, and on MySQL and
// PostgreSQL locks until the transaction ends, the rows of n streams.
// SQLite has one writer at a time: the transaction holds the database's
// write lock since ensurePositions. Parameters: pipeline, then the streams.
func (d *dialect) lockPositions(table string, n int) string {
	var b strings.Builder
	b.WriteString("SELECT " + d.quote("stream") + ", " + d.quote("offset") + " FROM " + d.quote(table) +
		" WHERE " + d.quote("pipeline") + " = ")
	d.placeholder(&b, 1)
	b.WriteString(" AND " + d.quote("stream") + " IN (")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		d.placeholder(&b, i+2)
	}
	b.WriteByte(')')
	if d.name != DriverSQLite {
		b.WriteString(" FOR UPDATE")
	}
	return b.String()
}

// savePositions returns the upsert of the new offsets of n streams.
// Parameters: pipeline, stream, offset for each row.
func (d *dialect) savePositions(table string, n int) string {
	return d.insert(table, []string{"pipeline", "stream", "offset"}, n, ModeUpsert, []string{"pipeline", "stream"})
}

// readPositions returns the query of every stream's offset of a pipeline.
func (d *dialect) readPositions(table string) string {
	var b strings.Builder
	b.WriteString("SELECT " + d.quote("stream") + ", " + d.quote("offset") + " FROM " + d.quote(table) +
		" WHERE " + d.quote("pipeline") + " = ")
	d.placeholder(&b, 1)
	return b.String()
}

// probe returns the query whose result columns describe table: no row,
// only column names and types.
func (d *dialect) probe(table string) string {
	return "SELECT * FROM " + d.quote(table) + " WHERE 1 = 0"
}

// savepoint statements. MySQL, PostgreSQL and SQLite share the syntax.
func savepoint(name string) string        { return "SAVEPOINT " + name }
func rollbackTo(name string) string       { return "ROLLBACK TO SAVEPOINT " + name }
func releaseSavepoint(name string) string { return "RELEASE SAVEPOINT " + name }
