package sql

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluicehq/sluice/engine/expr"
	"github.com/sluicehq/sluice/engine/spec"
)

// Config configures the sql sink.
type Config struct {
	Driver            string             `yaml:"driver" spec:"required" enum:"mysql,postgres,sqlite" doc:"Database: mysql (MySQL and MariaDB, with go-sql-driver/mysql), postgres (PostgreSQL, with pgx) or sqlite (an embedded file, pure Go; for the demo and local runs)."`
	DSN               spec.Secret        `yaml:"dsn" spec:"required" doc:"Connection string; never printed nor put in errors. Use ${VAR}. mysql: user:password@tcp(host:3306)/db?param=value; postgres: postgres://user:password@host:5432/db?sslmode=verify-full&sslrootcert=/path/ca.pem (TLS is set here, with sslmode, sslrootcert, sslcert and sslkey); sqlite: a file path such as file:.sluice/settlement.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL) (the folder is created)."`
	Table             string             `yaml:"table" spec:"required" doc:"Table to write to: a name (schema.table allowed), or a template rendered per record, such as 'results_{{ day }}'; the rows of one batch go to as many tables as they render to, in one transaction. A record whose table cannot be rendered, renders to an illegal name, or names a table that does not exist (and create_table is off) fails permanently (dead-lettered)."`
	Columns           spec.Pairs[string] `yaml:"columns" doc:"Columns to write, in order, each column: expression over the record's fields, such as {match_id: 'match_id', score: 'score * 1', settled_at: 'parse_time(ts)'}; nil writes NULL. Empty: every top-level field of the record is a column of its name (a batch writes the union of its records' fields, sorted; a record lacking one writes NULL; objects and arrays are written as JSON text). Values are converted to the column's type as the database reports it; one that cannot be converted fails its record permanently."`
	Key               []string           `yaml:"key" doc:"Columns that identify a row, for upsert: the primary key or a unique key of the table (PostgreSQL and SQLite need a unique index on exactly these columns). A record whose key column is NULL fails permanently, since it could never be overwritten by a replay."`
	Mode              string             `yaml:"mode" enum:"insert,upsert,insert_ignore" doc:"insert: plain INSERT; a replay duplicates rows unless exactly_once is on or a unique key rejects them (then the rows fail permanently). upsert: insert or replace the non-key columns of the row with the same key (MySQL ON DUPLICATE KEY UPDATE, PostgreSQL and SQLite ON CONFLICT DO UPDATE); needs key. insert_ignore: keep the row already there (ON CONFLICT DO NOTHING; on MySQL a no-op ON DUPLICATE KEY UPDATE, so that bad values still fail instead of being truncated as INSERT IGNORE would)."`
	ExactlyOnce       bool               `yaml:"exactly_once" doc:"Store, in the same transaction as the rows, the offset of the last record written from each source stream (in positions_table, created if missing), and skip records at or below it: a replay writes nothing twice, even in insert mode. The pipeline then processes records in source order (one transform worker, one writer for this sink), which this needs."`
	PositionsTable    string             `yaml:"positions_table" doc:"Table of the exactly_once positions: (pipeline, stream, offset), primary key (pipeline, stream). Created if missing."`
	MaxOpenConns      int                `yaml:"max_open_conns" doc:"Most connections open to the database at once. 0: 1 for sqlite (one writer at a time), 4 otherwise."`
	MaxStatementBytes spec.ByteSize      `yaml:"max_statement_bytes" doc:"Largest multi-row statement, SQL text and values, that the sink sends; a batch is split into as many statements as needed (each also within the database's placeholder limit: 65535 for mysql and postgres, 32766 for sqlite). Keep it below MySQL's max_allowed_packet."`
	ConnectTimeout    time.Duration      `yaml:"connect_timeout" doc:"How long Open, and each new connection, may take to connect (unless the dsn sets its own timeout)."`
	CreateTable       *CreateTableConfig `yaml:"create_table" doc:"Create the table (each table a template renders to, on first use) with CREATE TABLE IF NOT EXISTS from these columns. Off by default: the table must exist."`
	TLS               TLSConfig          `yaml:"tls" doc:"TLS to the MySQL server. For postgres set sslmode (and sslrootcert, sslcert, sslkey) in the dsn instead."`
}

// CreateTableConfig declares the table the sink creates when it is
// missing.
type CreateTableConfig struct {
	Columns    spec.Pairs[string] `yaml:"columns" spec:"required" doc:"Column: SQL type, in order, such as {match_id: BIGINT, player_id: BIGINT, score: INT, nick: VARCHAR(32) NOT NULL, settled_at: TIMESTAMP}; types are passed as written and may only be words with one (n) or (n,m)."`
	PrimaryKey []string           `yaml:"primary_key" doc:"Columns of the primary key; for upsert, the same columns as key."`
}

// TLSConfig configures TLS to a MySQL server.
type TLSConfig struct {
	Enabled            bool   `yaml:"enabled" doc:"Connect with TLS."`
	CAFile             string `yaml:"ca_file" doc:"PEM file of the CA certificates that sign the server's certificate; empty: the system's."`
	CertFile           string `yaml:"cert_file" doc:"PEM file of the client certificate, for servers that require one (with key_file)."`
	KeyFile            string `yaml:"key_file" doc:"PEM file of the client certificate's private key."`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify" doc:"Do not check the server's certificate; for tests only."`
}

// Defaults returns the sink defaults: insert mode, positions in
// sluice_positions, 4MiB statements, 10s to connect.
func Defaults() Config {
	return Config{
		Mode:              ModeInsert,
		PositionsTable:    "sluice_positions",
		MaxStatementBytes: 4 << 20,
		ConnectTimeout:    10 * time.Second,
	}
}

// typeRE matches a column type of create_table: words, the first one
// optionally followed by (n) or (n,m), such as BIGINT, VARCHAR(32) NOT NULL,
// DECIMAL(10,2), DOUBLE PRECISION or TIMESTAMP WITH TIME ZONE.
var typeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\s*\(\s*\d+\s*(,\s*\d+\s*)?\))?(\s+[A-Za-z][A-Za-z0-9_]*)*$`)

// Validate reports every problem at once, compiling the table template and
// the column expressions.
func (c Config) Validate() error {
	var errs []error
	d, ok := dialects[c.Driver]
	if !ok {
		errs = append(errs, spec.Errorf("driver", "expected mysql, postgres or sqlite, got %q", c.Driver))
		d = dialects[DriverMySQL] // check names against the common limits
	}
	if strings.TrimSpace(c.DSN.Reveal()) == "" {
		errs = append(errs, spec.Errorf("dsn", "a connection string is required"))
	} else if c.Driver == DriverMySQL {
		if _, err := mysql.ParseDSN(c.DSN.Reveal()); err != nil {
			errs = append(errs, spec.At("dsn", redact(errors.New("not a go-sql-driver/mysql DSN such as user:password@tcp(host:3306)/db: "+err.Error()), dsnPassword(c.Driver, c.DSN.Reveal()))))
		}
	}
	switch {
	case strings.TrimSpace(c.Table) == "":
		errs = append(errs, spec.Errorf("table", "a table name or template is required"))
	case !strings.Contains(c.Table, "{{"):
		if err := checkIdent(c.Table, d.maxIdent, true); err != nil {
			errs = append(errs, spec.At("table", err))
		}
	default:
		if _, err := expr.CompileTemplate(c.Table); err != nil {
			errs = append(errs, spec.At("table", err))
		}
	}
	var cols []string
	for _, p := range c.Columns {
		if err := checkIdent(p.Key, d.maxIdent, false); err != nil {
			errs = append(errs, spec.At("columns."+p.Key, err))
		}
		if strings.TrimSpace(p.Value) == "" {
			errs = append(errs, spec.Errorf("columns."+p.Key, "an expression is required, such as the field's name"))
		} else if _, err := expr.Compile(p.Value); err != nil {
			errs = append(errs, spec.At("columns."+p.Key, err))
		}
		if containsFold(cols, p.Key) {
			errs = append(errs, spec.Errorf("columns."+p.Key, "column is repeated"))
		}
		cols = append(cols, p.Key)
	}
	var seen []string
	for i, k := range c.Key {
		path := "key[" + strconv.Itoa(i) + "]"
		switch {
		case checkIdent(k, d.maxIdent, false) != nil:
			errs = append(errs, spec.At(path, checkIdent(k, d.maxIdent, false)))
		case containsFold(seen, k):
			errs = append(errs, spec.Errorf(path, "column %s is repeated", k))
		case len(cols) > 0 && !containsFold(cols, k):
			errs = append(errs, spec.Errorf(path, "column %s is not among columns", k))
		}
		seen = append(seen, k)
	}
	switch c.Mode {
	case ModeInsert, ModeInsertIgnore:
	case ModeUpsert:
		if len(c.Key) == 0 {
			errs = append(errs, spec.Errorf("key", "upsert needs the key columns, such as [match_id, player_id]"))
		}
	default:
		errs = append(errs, spec.Errorf("mode", "expected insert, upsert or insert_ignore, got %q", c.Mode))
	}
	if err := checkIdent(c.PositionsTable, d.maxIdent, true); err != nil {
		errs = append(errs, spec.At("positions_table", err))
	}
	if c.MaxOpenConns < 0 {
		errs = append(errs, spec.Errorf("max_open_conns", "must not be negative, got %d", c.MaxOpenConns))
	}
	if c.MaxStatementBytes < 1024 {
		errs = append(errs, spec.Errorf("max_statement_bytes", "expected at least 1KiB, got %d", c.MaxStatementBytes))
	}
	if c.ConnectTimeout <= 0 {
		errs = append(errs, spec.Errorf("connect_timeout", "expected a positive duration, got %s", c.ConnectTimeout))
	}
	if ct := c.CreateTable; ct != nil {
		errs = append(errs, ct.validate(d, cols, c))
	}
	if c.TLS.Enabled || c.TLS.CAFile != "" || c.TLS.CertFile != "" || c.TLS.KeyFile != "" || c.TLS.InsecureSkipVerify {
		switch {
		case c.Driver != DriverMySQL:
			errs = append(errs, spec.Errorf("tls", "only for mysql; for postgres set sslmode, sslrootcert, sslcert and sslkey in the dsn"))
		case !c.TLS.Enabled:
			errs = append(errs, spec.Errorf("tls.enabled", "must be true when other tls keys are set"))
		case (c.TLS.CertFile == "") != (c.TLS.KeyFile == ""):
			errs = append(errs, spec.Errorf("tls", "cert_file and key_file go together"))
		}
	}
	return errors.Join(errs...)
}

func (ct *CreateTableConfig) validate(d *dialect, cols []string, c Config) error {
	var errs []error
	if len(ct.Columns) == 0 {
		errs = append(errs, spec.Errorf("create_table.columns", "at least one column is required"))
	}
	var declared []string
	for _, p := range ct.Columns {
		path := "create_table.columns." + p.Key
		if err := checkIdent(p.Key, d.maxIdent, false); err != nil {
			errs = append(errs, spec.At(path, err))
		}
		if containsFold(declared, p.Key) {
			errs = append(errs, spec.Errorf(path, "column is repeated"))
		}
		declared = append(declared, p.Key)
		if !typeRE.MatchString(strings.TrimSpace(p.Value)) {
			errs = append(errs, spec.Errorf(path, "expected a type such as BIGINT, VARCHAR(32), DECIMAL(10,2) or INT NOT NULL, got %q", p.Value))
		}
	}
	for i, k := range ct.PrimaryKey {
		if !containsFold(declared, k) {
			errs = append(errs, spec.Errorf("create_table.primary_key["+strconv.Itoa(i)+"]", "column %s is not among create_table.columns", k))
		}
	}
	for _, col := range cols {
		if !containsFold(declared, col) {
			errs = append(errs, spec.Errorf("columns."+col, "column is not among create_table.columns"))
		}
	}
	for i, k := range c.Key {
		if !containsFold(declared, k) {
			errs = append(errs, spec.Errorf("key["+strconv.Itoa(i)+"]", "column %s is not among create_table.columns", k))
		}
	}
	if c.Mode == ModeUpsert && len(c.Key) > 0 && !sameSet(c.Key, ct.PrimaryKey) {
		errs = append(errs, spec.Errorf("create_table.primary_key", "must be the key columns %v: upsert overwrites the row with the same primary key", c.Key))
	}
	return errors.Join(errs...)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !containsFold(b, x) {
			return false
		}
	}
	return true
}
