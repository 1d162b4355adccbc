package sql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	dbsql "database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/batch"
	"github.com/sluicehq/sluice/engine/expr"
	"github.com/sluicehq/sluice/engine/field"
	"github.com/sluicehq/sluice/engine/spec"
)

// DefaultBatch is the sink's default batching policy: a Write carries up
// to 1000 records or 4MiB, and waits at most 500ms to fill up.
var DefaultBatch = batch.Policy{Count: 1000, Bytes: 4 << 20, Period: 500 * time.Millisecond}

// Register adds the sql sink to r.
func Register(r *engine.Registry) error {
	return engine.RegisterSink(r, engine.SinkSpec[Config]{
		Name:     "sql",
		Summary:  "Writes records as rows of a MySQL/MariaDB, PostgreSQL or SQLite table: multi-row insert or upsert in one transaction per batch, bad rows isolated, optionally exactly once.",
		Example:  `sql: {driver: mysql, dsn: "${MYSQL_DSN}", table: match_results, mode: upsert, key: [match_id, player_id]}`,
		Defaults: Defaults,
		Batch:    DefaultBatch,
		New: func(c Config, env engine.Env) (engine.Sink, error) {
			return New(c, env)
		},
	})
}

// Sink writes batches of records as rows through database/sql, one
// transaction per Write. Write and Positions may be called concurrently;
// Open, Write and Close follow engine.Sink. It implements
// engine.PositionKeeper.
type Sink struct {
	cfg      Config
	d        *dialect
	log      *slog.Logger
	pipeline string

	table  string         // the table, when it is not a template
	tableT *expr.Template // the table template, else nil
	cols   []mappedColumn // configured columns; empty: all fields
	create [][2]string    // create_table columns and types
	// used lists the fields the columns and the table template read; nil
	// when every field is needed. usedLayout is the same as a layout, for
	// Record.Values, and colSlots the slots of the columns that name a
	// field, per layout records come in.
	used       []string
	usedLayout *field.Layout
	colSlots   field.Cache[[]int]

	// Limits of one statement, and of the placeholders of the prepared
	// statements kept; tests lower them.
	maxParams   int
	maxBytes    int
	cacheParams int

	statements prometheus.Counter
	bisections prometheus.Counter
	skipped    prometheus.Counter

	mu       sync.RWMutex // Write and Positions hold it shared, Open and Close exclusively
	db       *dbsql.DB
	password string // to remove from errors
	target   string // host/database or file, for logs and errors
	// prepared is set when the sink prepares the statements it keeps (see
	// stmt.go): on MySQL unless the dsn asks for interpolateParams, and on
	// SQLite. pgx prepares and keeps statements itself, as the dsn's
	// default_query_exec_mode says.
	prepared bool

	emu     sync.Mutex
	streams map[string]*streamState // exactly_once: what this sink wrote, per stream
	window  int                     // offsets per stream in streams; tests lower it

	tmu        sync.Mutex
	tables     map[string]*tableInfo
	stmts      map[stmtKey]*statement
	stmtBytes  int // text held by stmts
	stmtParams int // placeholders of the prepared statements in stmts
}

type mappedColumn struct {
	name string
	prog *expr.Program
	// field is set when the expression is only the name of a top-level
	// field, such as event_id: the value is read from the record's fields
	// without running the expression.
	field string
}

// fieldOnly returns the field that the expression src, compiled to prog,
// reads and returns as it is, or "" if it does more.
func fieldOnly(src string, prog *expr.Program) string {
	f, exact := prog.Fields()
	if exact && len(f) == 1 && f[0] == strings.TrimSpace(src) {
		return f[0]
	}
	return ""
}

// usedFields returns the top-level fields that the table template and the
// column expressions read, nil if they may read any or there are no
// configured columns (every field becomes a column).
func usedFields(table *expr.Template, cols []mappedColumn) []string {
	if len(cols) == 0 {
		return nil
	}
	used := []string{}
	if table != nil {
		f, exact := table.Fields()
		if !exact {
			return nil
		}
		used = append(used, f...)
	}
	for _, c := range cols {
		f, exact := c.prog.Fields()
		if !exact {
			return nil
		}
		used = append(used, f...)
	}
	slices.Sort(used)
	return slices.Compact(used)
}

// New builds a sink from c: it compiles the table template and the column
// expressions. It does no I/O; Open connects.
func New(c Config, env engine.Env) (*Sink, error) {
	d, ok := dialects[c.Driver]
	if !ok {
		return nil, spec.Errorf("driver", "expected mysql, postgres or sqlite, got %q", c.Driver)
	}
	s := &Sink{
		cfg: c, d: d, log: env.Log, pipeline: env.Pipeline,
		maxParams: d.maxParams, maxBytes: int(c.MaxStatementBytes), cacheParams: cachedParams,
		tables: map[string]*tableInfo{}, stmts: map[stmtKey]*statement{}, streams: map[string]*streamState{}, window: windowOffsets,
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.maxBytes <= 0 {
		s.maxBytes = int(Defaults().MaxStatementBytes)
	}
	var errs []error
	if t, err := expr.CompileTemplate(c.Table); err != nil {
		errs = append(errs, spec.At("table", err))
	} else if static, ok := t.Static(); ok {
		if err := checkIdent(static, d.maxIdent, true); err != nil {
			errs = append(errs, spec.At("table", err))
		}
		s.table = static
	} else {
		s.tableT = t
	}
	for _, p := range c.Columns {
		prog, err := expr.Compile(p.Value)
		if err != nil {
			errs = append(errs, spec.At("columns."+p.Key, err))
			continue
		}
		s.cols = append(s.cols, mappedColumn{name: p.Key, prog: prog, field: fieldOnly(p.Value, prog)})
	}
	s.used = usedFields(s.tableT, s.cols)
	if s.used != nil {
		s.usedLayout = field.NewLayout(s.used...)
	}
	if c.CreateTable != nil {
		for _, p := range c.CreateTable.Columns {
			s.create = append(s.create, [2]string{p.Key, strings.TrimSpace(p.Value)})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	metrics := env.Metrics
	counter := func(name, help string) prometheus.Counter {
		if metrics == nil {
			return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		}
		return metrics.Counter(name, help)
	}
	s.statements = counter("sluice_sql_statements_total", "Multi-row statements the SQL sink executed, including those that failed and those of bisections.")
	s.bisections = counter("sluice_sql_bisections_total", "Batches in which a row was rejected, so the SQL sink searched the batch for the bad rows.")
	s.skipped = counter("sluice_sql_skipped_records_total", "Records the SQL sink skipped in exactly_once mode because their position was already written.")
	return s, nil
}

// Open connects to the database (bounded by ctx and connect_timeout),
// creates the positions table in exactly_once mode, and, for a table that is
// not a template, creates it if create_table asks to, and checks that it
// exists and has the configured columns.
func (s *Sink) Open(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		return nil
	}
	start := time.Now()
	db, err := s.connect()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	fail := func(format string, err error) error {
		db.Close()
		return fmt.Errorf(format, s.target, redact(err, s.password))
	}
	if err := db.PingContext(ctx); err != nil {
		return fail("connect to %s: %w", err)
	}
	if s.cfg.ExactlyOnce {
		if _, err := db.ExecContext(ctx, s.d.createPositions(s.cfg.PositionsTable)); err != nil {
			return fail("create positions table on %s: %w", err)
		}
	}
	if s.table != "" {
		info, err := s.tableInfo(ctx, db, s.table)
		if err != nil {
			return fail("open table on %s: %w", err)
		}
		var missing []string
		for _, c := range s.cols {
			if _, ok := info.column(c.name); !ok {
				missing = append(missing, c.name)
			}
		}
		if len(missing) > 0 {
			db.Close()
			return fmt.Errorf("table %s on %s has no column %s", s.table, s.target, strings.Join(missing, ", "))
		}
	}
	s.db = db
	s.log.Info("connected", "driver", s.cfg.Driver, "database", s.target, "table", s.cfg.Table,
		"mode", s.cfg.Mode, "exactly_once", s.cfg.ExactlyOnce, engine.AttrElapsed, time.Since(start).Round(time.Millisecond).String())
	return nil
}

// connect builds the connection pool. It reads the TLS files and creates
// the folder of a SQLite file, but does not connect yet.
func (s *Sink) connect() (*dbsql.DB, error) {
	dsn := s.cfg.DSN.Reveal()
	var db *dbsql.DB
	switch s.cfg.Driver {
	case DriverMySQL:
		mc, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, spec.At("dsn", redact(fmt.Errorf("parse: %w", err), dsnPassword(s.cfg.Driver, dsn)))
		}
		s.password = mc.Passwd
		s.target = mc.Addr + "/" + mc.DBName
		if mc.Timeout == 0 {
			mc.Timeout = s.cfg.ConnectTimeout
		}
		s.prepared = !mc.InterpolateParams
		if s.cfg.TLS.Enabled {
			tc, err := s.cfg.TLS.config(mc.Addr)
			if err != nil {
				return nil, spec.At("tls", err)
			}
			mc.TLS = tc
		}
		conn, err := mysql.NewConnector(mc)
		if err != nil {
			return nil, redact(fmt.Errorf("mysql connector: %w", err), s.password)
		}
		db = dbsql.OpenDB(conn)
	case DriverPostgres:
		pc, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, spec.At("dsn", redact(fmt.Errorf("parse: %w", err), dsnPassword(s.cfg.Driver, dsn)))
		}
		s.password = pc.Password
		s.target = net.JoinHostPort(pc.Host, fmt.Sprint(pc.Port)) + "/" + pc.Database
		if pc.ConnectTimeout == 0 {
			pc.ConnectTimeout = s.cfg.ConnectTimeout
		}
		db = stdlib.OpenDB(*pc)
	case DriverSQLite:
		path := sqlitePath(dsn)
		s.target = path
		if path != "" && path != ":memory:" {
			if dir := filepath.Dir(path); dir != "." {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return nil, fmt.Errorf("create folder of %s: %w", path, err)
				}
			}
		}
		var err error
		if db, err = dbsql.Open("sqlite", dsn); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		s.prepared = true
	}
	conns := s.cfg.MaxOpenConns
	if conns == 0 {
		conns = 4
		if s.cfg.Driver == DriverSQLite {
			conns = 1
		}
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if s.cfg.Driver != DriverSQLite {
		// Connections are renewed now and then, so that a failover or a
		// load balancer's change reaches every one of them.
		db.SetConnMaxLifetime(5 * time.Minute)
		db.SetConnMaxIdleTime(time.Minute)
	}
	return db, nil
}

// sqlitePath returns the file of a SQLite DSN: file:path?params or a path.
func sqlitePath(dsn string) string {
	p := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		if strings.Contains(p[i:], "mode=memory") {
			return ":memory:"
		}
		p = p[:i]
	}
	return p
}

// dsnPassword returns the password of dsn as well as it can be found,
// to remove it from error messages.
func dsnPassword(driver, dsn string) string {
	switch driver {
	case DriverMySQL:
		if mc, err := mysql.ParseDSN(dsn); err == nil {
			return mc.Passwd
		}
		// user:password@net(addr)/db: the last @ before the last /.
		head := dsn
		if i := strings.LastIndexByte(head, '/'); i >= 0 {
			head = head[:i]
		}
		if at := strings.LastIndexByte(head, '@'); at >= 0 {
			if colon := strings.IndexByte(head[:at], ':'); colon >= 0 {
				return head[colon+1 : at]
			}
		}
	case DriverPostgres:
		if u, err := url.Parse(dsn); err == nil && u.User != nil {
			pw, _ := u.User.Password()
			return pw
		}
		for _, f := range strings.Fields(dsn) {
			if v, ok := strings.CutPrefix(f, "password="); ok {
				return strings.Trim(v, "'")
			}
		}
	}
	return ""
}

// config returns the TLS configuration for a MySQL server at addr.
func (t TLSConfig) config(addr string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // a documented test-only option
	if host, _, err := net.SplitHostPort(addr); err == nil {
		tc.ServerName = host
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate found", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Close closes the connections. Write must not be running.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	db := s.db
	s.db = nil
	s.mu.Unlock()
	if db == nil {
		return nil
	}
	s.tmu.Lock()
	s.closeStatements()
	s.tmu.Unlock()
	if err := db.Close(); err != nil {
		return fmt.Errorf("close connections to %s: %w", s.target, redact(err, s.password))
	}
	s.log.Info("closed")
	return nil
}

// Positions returns, per source stream, the offset of the last record
// written by this pipeline, from the positions table; ok is false unless
// exactly_once is on. It implements engine.PositionKeeper.
func (s *Sink) Positions(ctx context.Context) (map[string]int64, bool, error) {
	if !s.cfg.ExactlyOnce {
		return nil, false, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, true, ErrClosed
	}
	rows, err := s.db.QueryContext(ctx, s.d.readPositions(s.cfg.PositionsTable), s.pipeline)
	if err != nil {
		return nil, true, fmt.Errorf("read positions from %s: %w", s.cfg.PositionsTable, redact(err, s.password))
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var stream string
		var off int64
		if err := rows.Scan(&stream, &off); err != nil {
			return nil, true, fmt.Errorf("read positions from %s: %w", s.cfg.PositionsTable, redact(err, s.password))
		}
		if off != noOffset {
			out[stream] = off
		}
	}
	if err := rows.Err(); err != nil {
		return nil, true, fmt.Errorf("read positions from %s: %w", s.cfg.PositionsTable, redact(err, s.password))
	}
	return out, true, nil
}

// tableInfo is what the sink knows of one table: its columns and their
// types, as the database reports them.
type tableInfo struct {
	name    string
	cols    map[string]column // by lookup name: as is for postgres, lower case otherwise
	fold    bool              // names are compared without case (MySQL, SQLite)
	checked time.Time
}

func (t *tableInfo) column(name string) (column, bool) {
	if t.fold {
		name = strings.ToLower(name)
	}
	c, ok := t.cols[name]
	return c, ok
}

// errNoTable is the error of a table that does not exist.
var errNoTable = errors.New("table does not exist")

// tableInfo returns the columns of table, creating it first if create_table
// asks to. The answer is cached; refresh asks again when a cached answer is
// older than 10s, for a column that a record names and the table lacks.
func (s *Sink) tableInfo(ctx context.Context, db *dbsql.DB, table string) (*tableInfo, error) {
	s.tmu.Lock()
	info := s.tables[table]
	s.tmu.Unlock()
	if info != nil {
		return info, nil
	}
	if len(s.create) > 0 {
		if _, err := db.ExecContext(ctx, s.d.createTable(table, s.create, s.cfg.CreateTable.PrimaryKey)); err != nil {
			return nil, fmt.Errorf("create table %s: %w", table, redact(err, s.password))
		}
	}
	return s.describe(ctx, db, table)
}

func (s *Sink) refresh(ctx context.Context, db *dbsql.DB, info *tableInfo) (*tableInfo, error) {
	if time.Since(info.checked) < 10*time.Second {
		return info, nil
	}
	return s.describe(ctx, db, info.name)
}

// describe reads the column names and types of table and caches them.
func (s *Sink) describe(ctx context.Context, db *dbsql.DB, table string) (*tableInfo, error) {
	rows, err := db.QueryContext(ctx, s.d.probe(table))
	if err != nil {
		if isNoTable(err) {
			return nil, fmt.Errorf("table %s: %w", table, errNoTable)
		}
		return nil, fmt.Errorf("describe table %s: %w", table, redact(err, s.password))
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", table, redact(err, s.password))
	}
	info := &tableInfo{name: table, cols: make(map[string]column, len(types)), fold: s.cfg.Driver != DriverPostgres, checked: time.Now()}
	for _, ct := range types {
		name, dbType := ct.Name(), ct.DatabaseTypeName()
		key := name
		if info.fold {
			key = strings.ToLower(name)
		}
		info.cols[key] = column{name: name, dbType: dbType, kind: kindOf(s.cfg.Driver, dbType)}
	}
	s.tmu.Lock()
	s.tables[table] = info
	s.tmu.Unlock()
	return info, nil
}
