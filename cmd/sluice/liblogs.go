package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/IBM/sarama"
	"github.com/go-sql-driver/mysql"
)

// saramaLogger sends sarama's global log lines to slog at debug level:
// sarama logs every connection and rebalance step, which is noise at info.
type saramaLogger struct{ log *slog.Logger }

func (l saramaLogger) Print(v ...any) { l.out(fmt.Sprint(v...)) }
func (l saramaLogger) Printf(format string, v ...any) {
	l.out(fmt.Sprintf(format, v...))
}
func (l saramaLogger) Println(v ...any) { l.out(fmt.Sprintln(v...)) }

func (l saramaLogger) out(msg string) {
	l.log.Log(context.Background(), slog.LevelDebug, strings.TrimSpace(msg))
}

// bridgeSarama installs the bridge; only cmd touches sarama's globals.
func bridgeSarama(log *slog.Logger) {
	sarama.Logger = saramaLogger{log: log.With("lib", "sarama")}
}

// mysqlLogger sends go-sql-driver/mysql's global log lines (such as
// "closing bad idle connection") to slog at warn level.
type mysqlLogger struct{ log *slog.Logger }

func (l mysqlLogger) Print(v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprint(v...)))
}

// bridgeMySQL installs the bridge; only cmd touches the driver's globals.
func bridgeMySQL(log *slog.Logger) {
	_ = mysql.SetLogger(mysqlLogger{log: log.With("lib", "mysql")})
}
