package sql

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/sluicehq/sluice/engine"
)

// ErrClosed is returned by Write and Positions before Open and after
// Close.
var ErrClosed = fmt.Errorf("sql sink is not open: %w", engine.ErrNotConnected)

// MySQL and MariaDB error numbers that a row's values cause: a retry of the
// same row fails the same way.
var mysqlPermanent = map[uint16]bool{
	1048: true, // column cannot be null
	1054: true, // unknown column
	1062: true, // duplicate entry (insert mode, or another unique key)
	1136: true, // column count does not match value count
	1216: true, // foreign key: no parent row (old form)
	1217: true, // foreign key: row is referenced (old form)
	1263: true, // NULL supplied to NOT NULL column
	1264: true, // out of range value
	1265: true, // data truncated
	1292: true, // incorrect date/time/number value
	1364: true, // field has no default value
	1366: true, // incorrect value for column
	1367: true, // illegal value
	1406: true, // data too long
	1411: true, // incorrect value for function
	1451: true, // foreign key: row is referenced
	1452: true, // foreign key: no parent row
	1690: true, // value out of range
	3140: true, // invalid JSON text (MySQL)
	3819: true, // check constraint violated (MySQL 8)
	4025: true, // CONSTRAINT failed (MariaDB check constraint)
}

// classify reports whether err, from a statement writing rows, is caused by
// the rows themselves (permanent: a retry writes the same values and fails
// again) rather than by the server's state (deadlock, lock wait timeout,
// lost connection, restart, read-only failover, full disk: retryable).
// Unknown errors are retryable: an operator can fix a server, and the
// pipeline's retry policy bounds the wait.
func classify(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		if mysqlPermanent[me.Number] {
			return true
		}
		// SQLSTATE class 22 (data exception) and 23 (integrity constraint
		// violation), whatever the number; 40001 (deadlock) and HY000 are
		// not among them.
		class := string(me.SQLState[:2])
		return class == "22" || class == "23"
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "22"), strings.HasPrefix(pe.Code, "23"):
			// Data exceptions and integrity constraint violations.
			return true
		case pe.Code == "21000":
			// ON CONFLICT DO UPDATE would change one row twice: two rows
			// of one statement share a key. Bisection writes them apart.
			return true
		case pe.Code == "42703":
			// Undefined column.
			return true
		}
		// 40001 serialization failure, 40P01 deadlock, class 08 connection
		// exceptions, 57P01 admin shutdown, 53xxx insufficient resources,
		// 55P03 lock not available: retryable, as is everything else.
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 19, // SQLITE_CONSTRAINT: NOT NULL, CHECK, UNIQUE, PRIMARY KEY, FOREIGN KEY
			20, // SQLITE_MISMATCH: datatype mismatch (STRICT tables, INTEGER PRIMARY KEY)
			18, // SQLITE_TOOBIG: string or blob too big
			25: // SQLITE_RANGE
			return true
		}
		// SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_IOERR: retryable.
		return false
	}
	return false
}

// isNoTable reports whether err says that the table does not exist.
func isNoTable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1146
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "42P01" || pe.Code == "3F000" // undefined table, undefined schema
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == 1 && strings.Contains(se.Error(), "no such table")
	}
	return false
}

// redactedError is an error whose message had the database password
// removed. It unwraps to the driver's error, for errors.Is and As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact removes password from err's message. Drivers' errors name the
// server's address, which is fine, but a connection string parser may
// quote its input.
func redact(err error, password string) error {
	if err == nil || password == "" {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, password) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(msg, password, "******"), err: err}
}
