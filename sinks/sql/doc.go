// Package sql is a sink that writes records as rows of a relational table:
// MySQL and MariaDB (go-sql-driver/mysql), PostgreSQL (pgx) and SQLite
// (modernc.org/sqlite, pure Go, the embedded default for the demo and
// local runs). It is where match and battle results are settled.
//
// Each record becomes one row. With columns, each column is an expression
// over the record's fields, written in the order given; without, every
// top-level field is a column of its name (the batch writes the union of
// its records' fields, sorted; a record lacking one writes NULL; objects and
// arrays are JSON text). Values are converted to the types the database
// reports for the table's columns (integers, floats, decimals, booleans,
// strings, times, JSON, bytes; nil is NULL), and a value that does not fit,
// such as "abc" for an INT column, fails its record permanently with the
// column and type in the error. The table may be a template, such as
// 'results_{{ day }}': the rows of one batch then go to several tables.
//
// A Write is one transaction: multi-row INSERT statements, then COMMIT.
// Write returns nil only once the transaction is committed. A statement
// holds a power of two of rows, as many as fit 8192 values, the database's
// placeholder limit and max_statement_bytes: 5000 rows of 11 columns are
// nine statements of 512 rows, then 256, 128 and 8. Batches of a table so
// reuse a dozen statements, each prepared once per connection and kept (by
// the sink on MySQL and SQLite, up to 65536 placeholders in all; by pgx on
// PostgreSQL): a statement then sends only its values, and the database
// does not parse it again. On MySQL, a dsn with interpolateParams=true
// (for a proxy that cannot prepare) has the driver send each statement as
// text with its values instead. Modes:
// insert; upsert on key (MySQL ON DUPLICATE KEY UPDATE c = VALUES(c),
// PostgreSQL and SQLite ON CONFLICT (key) DO UPDATE SET c = EXCLUDED.c), so
// that a replay overwrites instead of duplicating; insert_ignore (ON
// CONFLICT DO NOTHING, and on MySQL a no-op ON DUPLICATE KEY UPDATE rather
// than INSERT IGNORE, which would also truncate or default bad values).
//
// A bad row never blocks the others. When the database rejects a statement
// for its values (MySQL 1048 NOT NULL, 1062 duplicate key, 1292, 1366, 1406
// data too long, 1452 foreign key, check constraints; PostgreSQL classes 22
// and 23; SQLite constraint errors), the transaction is rolled back and
// written again with each statement in a savepoint: a rejected statement is
// rolled back to its savepoint, split in halves, and each half written the
// same way, down to single rows. The rows that fail alone are returned in a
// *engine.BatchError as engine.Permanent (the pipeline dead-letters them)
// and everything else is committed; the sluice_sql_bisections_total counter
// counts such batches. Deadlocks, lock wait timeouts, lost connections,
// server restarts and failed commits roll the whole transaction back and
// return a plain error, which the pipeline retries with backoff. A commit
// whose answer is lost may have been applied: the retry then overwrites
// (upsert), skips (exactly_once) or duplicates (plain insert) the rows.
//
// With exactly_once, the sink keeps a positions table (pipeline, stream,
// offset) and, in the same transaction as the rows, locks the rows of the
// batch's source streams (SELECT ... FOR UPDATE on MySQL and PostgreSQL;
// SQLite has one writer at a time), skips every record whose offset is at
// or below its stream's stored one, writes the others, and stores the new
// largest offset per stream: a replay writes nothing twice, even in insert
// mode. The sink then implements engine.PositionKeeper, so the pipeline can
// resume its source from the stored positions.
//
// The stored offset is a maximum, so the guarantee needs each source
// stream to arrive in order: the runtime sees that the sink keeps
// positions and then runs one transform worker and one writer for it, so
// that records reach it in source order (engine/run). The sink also
// remembers the offsets it wrote itself (the last 65536 per stream) and
// writes a record below the stored offset that it has not seen, as a
// second line of defence if a batch ever arrives late. A transform that
// splits a record gives the parts one position, and parts that land in a
// later batch are skipped. Records that failed permanently do not move a
// stream's position, but one written after them does, so a replay does not
// dead-letter them again.
//
// It is not a schema manager: the table must exist, unless create_table
// declares its columns for CREATE TABLE IF NOT EXISTS (each table a
// template renders to is created on first use). Column types are read once
// per table, when it is first written (for a table that is not a template,
// at Open, which fails when the table or a configured column is missing);
// restart the pipeline after an ALTER TABLE that changes types. Identifiers
// (table, columns, key) are letters, digits and _, at most 64 characters
// (63 on PostgreSQL), always quoted; values are always bound as parameters.
// The user needs INSERT (and UPDATE for upsert) and SELECT on the table.
// The dsn is a secret: it is never logged, and its password is removed from
// errors.
//
// Settlement into MariaDB, upserted on the match and player, exactly once:
//
//	sinks:
//	  settlement:
//	    when: 'event == "match_end"'
//	    sql: {driver: mysql, dsn: "${MYSQL_DSN}", table: match_results, mode: upsert, key: [match_id, player_id], exactly_once: true}
//	    batch: {count: 1000, period: 500ms}
//
// The same with explicit columns, TLS, and the table created if missing:
//
//	sql:
//	  driver: mysql
//	  dsn: "${MYSQL_DSN}"        # sluice:${MYSQL_PASSWORD}@tcp(db:3306)/games?parseTime=true
//	  table: match_results
//	  mode: upsert
//	  key: [match_id, player_id]
//	  columns: {match_id: 'match_id', player_id: 'player_id', score: 'score * 1', settled_at: 'parse_time(ts)'}
//	  create_table:
//	    columns: {match_id: BIGINT, player_id: BIGINT, score: INT, settled_at: TIMESTAMP}
//	    primary_key: [match_id, player_id]
//	  tls: {enabled: true, ca_file: /etc/ssl/db-ca.pem}
//
// PostgreSQL, one table per day, TLS set in the dsn (sslmode=verify-full,
// sslrootcert, sslcert and sslkey):
//
//	sql:
//	  driver: postgres
//	  dsn: "postgres://sluice:${PG_PASSWORD}@db:5432/games?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem"
//	  table: 'battle_results_{{ format_time(ts, "20060102") }}'
//	  mode: insert_ignore
//	  create_table:
//	    columns: {battle_id: BIGINT, player_id: BIGINT, outcome: VARCHAR(16), at: TIMESTAMPTZ}
//	    primary_key: [battle_id, player_id]
//
// SQLite, the embedded default, every field a column:
//
//	sql:
//	  driver: sqlite
//	  dsn: "file:.sluice/settlement.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
//	  table: match_results
//	  mode: upsert
//	  key: [match_id, player_id]
package sql
