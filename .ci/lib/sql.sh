# shellcheck shell=bash
# .ci/lib/sql.sh — real MariaDB and PostgreSQL servers for the integration
# tests. No Docker, no systemd: the servers come from Debian's packages
# (installed here when missing, without starting the packaged services) and
# run as plain background processes on 127.0.0.1, each on a fresh data dir in
# a temp dir that is removed on stop.
#
#   source .ci/lib/sql.sh
#   trap sql_stop EXIT
#   sql_start                     # both, in parallel (or mysql_start / pg_start)
#   mysql_restart [--kill] [SECONDS]   # outage: stop, stay down, start again; same port, data kept
#   pg_restart [--kill] [SECONDS]
#   sql_stop                      # idempotent (or mysql_stop / pg_stop); removes the data dirs
#
# Exports after mysql_start:
#   SLUICE_TEST_MYSQL         sluice:sluice@tcp(127.0.0.1:PORT)/sluice_test?parseTime=true&multiStatements=false
#   SLUICE_TEST_MYSQL_CTL     an executable: CTL start|stop|kill|restart [SECONDS]|status
#   SLUICE_TEST_MYSQL_LOG     the server's error log
#   SLUICE_TEST_MYSQL_SOCKET  its unix socket (root, no password, over it)
# after pg_start:
#   SLUICE_TEST_POSTGRES      postgres://sluice:sluice@127.0.0.1:PORT/sluice_test?sslmode=disable
#   SLUICE_TEST_POSTGRES_CTL  as for MySQL
#   SLUICE_TEST_POSTGRES_LOG  the server's log
#   SLUICE_TEST_POSTGRES_SOCKET  the socket directory (superuser postgres, trust, over it)
#
# The CTL scripts are for Go tests, which cannot call shell functions, e.g.
#   exec.Command(os.Getenv("SLUICE_TEST_MYSQL_CTL"), "stop").Run(); time.Sleep(20*time.Second)
#   exec.Command(os.Getenv("SLUICE_TEST_MYSQL_CTL"), "start").Run()  // returns once it serves again
# stop waits until the server is gone; start until it accepts connections;
# kill is a crash (MariaDB: SIGKILL; PostgreSQL: SIGQUIT, immediate shutdown
# with WAL recovery on the next start); status exits 3 when stopped. The
# server they start writes to its log only, so the caller's pipes are not
# held. Calls on one server are serialised (flock).
#
# Users: sluice/sluice owns database sluice_test (MariaDB: all privileges on
# sluice_test and on sluice\_test\_% databases, from 127.0.0.1 and localhost;
# PostgreSQL: owner of sluice_test, CREATEDB). Both servers run in UTC with
# utf8mb4 / UTF8.
#
# Settings (environment, all optional):
#   MYSQL_PORT, POSTGRES_PORT          fixed ports (default: free ones below the
#                                      ephemeral range, so no client socket takes
#                                      them during an outage)
#   MYSQL_EXTRA_CNF                    lines appended to the [mysqld] section
#   POSTGRES_EXTRA_CONF                lines appended to postgresql.conf
#                                      (e.g. "wal_level = logical")
#   POSTGRES_VERSION                   major version (default: the newest installed,
#                                      else Debian's default)
#   SQL_START_TIMEOUT                  seconds to wait for a server (default: 90)
#   SQL_STOP_TIMEOUT                   seconds before SIGKILL on stop (default: 60)
#   MYSQL_KEEP_LOG, POSTGRES_KEEP_LOG  copy the server log here on stop (default:
#                                      .ci/out/mysql-error.log, .ci/out/postgres.log
#                                      when .ci/out exists)
#   SQL_WATCHDOG                       1 (default): stop the servers and remove their
#                                      dirs if this shell dies without calling *_stop
#   SQL_APT_UPDATE                     1 (default): apt-get update before installing
#
# Also: sql_install [mysql] [pg] installs the packages only; mysql_client ARGS
# and pg_client ARGS run the mariadb / psql clients as sluice over TCP on
# sluice_test; mysql_down / mysql_up, pg_down / pg_up are the halves of *_restart.
#
# Safe under `set -euo pipefail`. Call the functions directly, not in $(...):
# they keep the servers' state in shell variables. Do not call a bare `wait`
# in the calling shell: the watchdogs are its background jobs.

_SQL_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
_SQL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_MY_DIR=${_MY_DIR:-}
_MY_PORT=${_MY_PORT:-}
_MY_WD_PID=${_MY_WD_PID:-}
_PG_DIR=${_PG_DIR:-}
_PG_PORT=${_PG_PORT:-}
_PG_WD_PID=${_PG_WD_PID:-}
_SQL_APT_UPDATED=${_SQL_APT_UPDATED:-}

_sql_log() { local tag=$1; shift; printf '%s: %s\n' "$tag" "$*" >&2; }
_sql_ms() { date +%s%3N; }
_sql_since() { # START_MS -> "1.23s"
  local d=$(( $(_sql_ms) - $1 ))
  printf '%d.%02ds' $(( d / 1000 )) $(( d % 1000 / 10 ))
}
_sql_tag() { case $1 in my) echo mysql ;; pg) echo postgres ;; *) echo sql ;; esac; }

# _sql_which NAME...: the path of the first of these programs found.
_sql_which() {
  local n d
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin /sbin /bin; do
      if [ -x "$d/$n" ]; then echo "$d/$n"; return 0; fi
    done
  done
  return 1
}

# _sql_pid_alive PID: the process exists and is not a zombie (nothing may
# reap orphans here).
_sql_pid_alive() {
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

_sql_port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# _sql_free_port [EXCLUDED...]: a free TCP port on 127.0.0.1 below the
# ephemeral range (a restarted server must get its port back, and clients'
# ephemeral ports never land there).
_SQL_FREE_PORT_PY='
import random, socket, sys
excluded = {int(a) for a in sys.argv[1:] if a.isdigit()}
lo, hi = 32768, 60999
try:
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[:2])
except Exception:
    pass
bottom, top = (15000, lo - 1) if lo > 20000 else (hi + 1, 65535)
for _ in range(500):
    p = random.randint(bottom, top)
    if p in excluded:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))  # no SO_REUSEADDR: TIME_WAIT counts as taken
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    sys.exit(1)
'
_sql_free_port() {
  local p i
  if command -v python3 >/dev/null 2>&1 && p=$(python3 -c "$_SQL_FREE_PORT_PY" "$@" 2>/dev/null) && [ -n "$p" ]; then
    echo "$p"; return 0
  fi
  for i in $(seq 200); do
    p=$(( 15000 + RANDOM % 17000 ))
    case " $* " in *" $p "*) continue ;; esac
    if ! _sql_port_open "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

# _sql_locked DIR CMD...: run CMD in a subshell holding DIR/.lock, so that the
# library and the CTL scripts never act on one server at the same time.
_sql_locked() {
  local d=$1; shift
  (
    exec 9>>"$d/.lock"
    if ! flock -w 300 9; then echo "sql: $d is locked by another start/stop for 300s" >&2; exit 1; fi
    "$@"
  )
}

# ---------------------------------------------------------------------------
# Packages

# _my_bins: find the MariaDB programs (sets _MY_SERVER _MY_INSTALLDB _MY_CLIENT _MY_ADMIN).
_my_bins() {
  _MY_SERVER=$(_sql_which mariadbd mysqld) &&
  _MY_INSTALLDB=$(_sql_which mariadb-install-db mysql_install_db) &&
  _MY_CLIENT=$(_sql_which mariadb mysql) &&
  _MY_ADMIN=$(_sql_which mariadb-admin mysqladmin)
}

# _pg_bindir: print the bin dir of the PostgreSQL to use (POSTGRES_BINDIR,
# else /usr/lib/postgresql/$POSTGRES_VERSION/bin, else the newest complete one).
_pg_bindir() {
  local d c=''
  if [ -n "${POSTGRES_BINDIR:-}" ]; then c=$POSTGRES_BINDIR
  elif [ -n "${POSTGRES_VERSION:-}" ]; then c=/usr/lib/postgresql/$POSTGRES_VERSION/bin
  else
    for d in $(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V); do
      if [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_isready" ] && [ -x "$d/psql" ]; then c=$d; fi
    done
  fi
  [ -n "$c" ] && [ -x "$c/postgres" ] && [ -x "$c/initdb" ] && [ -x "$c/pg_isready" ] && [ -x "$c/psql" ] || return 1
  echo "$c"
}

# sql_install [mysql] [pg]: install the server and client packages that are
# missing (default: both), from Debian with apt-get, without letting the
# packages start their services (policy-rc.d). A no-op when all is there.
sql_install() {
  local -a want=("$@") pkgs=()
  local k
  if [ ${#want[@]} -eq 0 ]; then want=(mysql pg); fi
  for k in "${want[@]}"; do
    case $k in
      my|mysql|mariadb) _my_bins 2>/dev/null || pkgs+=(mariadb-server mariadb-client) ;;
      pg|postgres|postgresql)
        if ! _pg_bindir >/dev/null 2>&1; then
          if [ -n "${POSTGRES_VERSION:-}" ]; then pkgs+=("postgresql-$POSTGRES_VERSION" "postgresql-client-$POSTGRES_VERSION")
          else pkgs+=(postgresql postgresql-client); fi
        fi ;;
      *) _sql_log sql "sql_install: unknown server $k (mysql, pg)"; return 2 ;;
    esac
  done
  [ ${#pkgs[@]} -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    _sql_log sql "missing ${pkgs[*]} and cannot install them (needs root and apt-get)"; return 1
  fi
  local t0 aptlog prc=/usr/sbin/policy-rc.d saved='' ours=0 rc=0
  t0=$(_sql_ms)
  aptlog=$(mktemp "${TMPDIR:-/tmp}/sluice-sql-apt.XXXXXX")
  # Forbid service starts while installing: the packages would start a
  # system-wide mariadbd / postgres (or hang trying, without systemd).
  if [ ! -e "$prc" ] || ! grep -qx 'exit 101' "$prc"; then
    if [ -e "$prc" ]; then saved="$prc.sluice-saved.$$"; mv -f "$prc" "$saved"; fi
    printf '#!/bin/sh\n# written by sluice .ci/lib/sql.sh during apt-get install\nexit 101\n' >"$prc"
    chmod 755 "$prc"; ours=1
  fi
  if [ "${SQL_APT_UPDATE:-1}" = 1 ] && [ -z "$_SQL_APT_UPDATED" ]; then
    _sql_log sql "apt-get update ..."
    if DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update >>"$aptlog" 2>&1; then
      _SQL_APT_UPDATED=1
    else
      _sql_log sql "apt-get update failed; trying the install anyway"
    fi
  fi
  _sql_log sql "installing ${pkgs[*]} from Debian ..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${pkgs[@]}" >>"$aptlog" 2>&1 || rc=$?
  if [ "$ours" = 1 ]; then
    rm -f "$prc"
    if [ -n "$saved" ]; then mv -f "$saved" "$prc"; fi
  fi
  if [ "$rc" != 0 ]; then
    _sql_log sql "apt-get install failed (exit $rc, $(_sql_since "$t0")); it said:"
    tail -n 25 "$aptlog" | awk '{print "  | " $0}' >&2
    rm -f "$aptlog"; return 1
  fi
  rm -f "$aptlog"
  for k in "${want[@]}"; do
    case $k in
      my|mysql|mariadb) _my_bins || { _sql_log mysql "installed, but no mariadbd / mariadb-install-db found"; return 1; } ;;
      *) _pg_bindir >/dev/null || { _sql_log postgres "installed, but no postgres/initdb/pg_isready/psql in /usr/lib/postgresql/*/bin"; return 1; } ;;
    esac
  done
  _sql_log sql "installed ${pkgs[*]} ($(_sql_since "$t0"))"
}

# ---------------------------------------------------------------------------
# MariaDB. Its dir D: my.cnf, data/, run/mysqld.sock, log/error.log, port, pid, ctl.

_my_pid() { # DIR -> the pid of its running server
  local d=$1 p
  p=$(cat "$d/pid" 2>/dev/null) || return 1
  _sql_pid_alive "$p" && grep -qa -- "$d/my.cnf" "/proc/$p/cmdline" 2>/dev/null && echo "$p"
}

_my_write_cnf() { # DIR PORT
  local d=$1 port=$2
  cat >"$d/my.cnf" <<EOF
# MariaDB for Sluice's integration tests (written by .ci/lib/sql.sh).
[mysqld]
user=root
datadir=$d/data
tmpdir=$d/tmp
socket=$d/run/mysqld.sock
pid-file=$d/run/mysqld.pid
log-error=$d/log/error.log
port=$port
bind-address=127.0.0.1
skip-name-resolve
default-time-zone=+00:00
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
max_allowed_packet=64M
max_connections=300
innodb_buffer_pool_size=128M
innodb_flush_log_at_trx_commit=1
${MYSQL_EXTRA_CNF:-}
EOF
}

# _my_init DIR: a fresh data dir (system tables, root without password).
_my_init() {
  local d=$1 t0 extra=()
  t0=$(_sql_ms)
  _my_bins || return 1
  if "$_MY_INSTALLDB" --help 2>/dev/null | grep -q -- --skip-auth-anonymous-user; then extra+=(--skip-auth-anonymous-user); fi
  if ! "$_MY_INSTALLDB" --defaults-file="$d/my.cnf" --user=root --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve ${extra[@]+"${extra[@]}"} </dev/null >"$d/log/install-db.log" 2>&1; then
    _sql_log mysql "$(basename "$_MY_INSTALLDB") failed:"; tail -n 30 "$d/log/install-db.log" | awk '{print "  | " $0}' >&2
    return 1
  fi
  _sql_log mysql "data dir initialised in $d ($(_sql_since "$t0"))"
}

_my_tail_log() {
  local f
  for f in "$1/log/error.log" "$1/log/console.log"; do
    if [ -s "$f" ]; then _sql_log mysql "--- last lines of $f"; tail -n "${2:-40}" "$f" | awk '{print "  | " $0}' >&2; fi
  done
}

_my_ping() { # DIR PORT: the server answers on its socket and on TCP (as root,
  # which has no password: a bare TCP probe would log "Aborted connection")
  "$_MY_ADMIN" --no-defaults --protocol=socket --socket="$1/run/mysqld.sock" -uroot \
    --connect-timeout=2 ping >/dev/null 2>&1 &&
  "$_MY_ADMIN" --no-defaults --protocol=tcp -h 127.0.0.1 -P "$2" -uroot \
    --connect-timeout=2 ping >/dev/null 2>&1
}

# _my_launch DIR: start the server on its config, wait until it serves.
_my_launch() {
  local d=$1 t0 pid port deadline timeout=${SQL_START_TIMEOUT:-90}
  if pid=$(_my_pid "$d"); then _sql_log mysql "already running (pid $pid)"; return 0; fi
  _my_bins || { _sql_log mysql "mariadbd not found"; return 1; }
  port=$(cat "$d/port")
  if _sql_port_open "$port"; then _sql_log mysql "port $port is taken by another process"; return 1; fi
  t0=$(_sql_ms)
  # From a subshell, so that the server is no job of this shell; its output
  # goes to a file, not to our caller's pipes; fd 9 (the lock) is not passed on.
  pid=$(cd "$d" || exit 1; "$_MY_SERVER" --defaults-file="$d/my.cnf" </dev/null >>"$d/log/console.log" 2>&1 9>&- & echo $!)
  echo "$pid" >"$d/pid"
  deadline=$(( $(date +%s) + timeout ))
  while ! _my_ping "$d" "$port"; do
    if ! _sql_pid_alive "$pid"; then
      _sql_log mysql "mariadbd exited during startup"; _my_tail_log "$d"; rm -f "$d/pid"; return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      _sql_log mysql "mariadbd not ready after ${timeout}s"; _my_tail_log "$d"; _my_halt "$d" --kill; return 1
    fi
    sleep 0.1
  done
  _sql_log mysql "server pid $pid ready on 127.0.0.1:$port ($(_sql_since "$t0"))"
}

# _my_halt DIR [--kill]: stop the server (TERM, KILL after SQL_STOP_TIMEOUT;
# --kill: KILL at once, like a crash); the data stays.
_my_halt() {
  local d=$1 sig=TERM pid t0 i=0 max
  if [ "${2:-}" = --kill ]; then sig=KILL; fi
  pid=$(_my_pid "$d") || { rm -f "$d/pid"; return 0; }
  t0=$(_sql_ms); max=$(( ${SQL_STOP_TIMEOUT:-60} * 10 ))
  kill -"$sig" "$pid" 2>/dev/null || true
  while _sql_pid_alive "$pid" && [ "$i" -lt "$max" ]; do sleep 0.1; i=$(( i + 1 )); done
  if _sql_pid_alive "$pid"; then
    _sql_log mysql "mariadbd pid $pid did not stop after ${SQL_STOP_TIMEOUT:-60}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    i=0; while _sql_pid_alive "$pid" && [ "$i" -lt 50 ]; do sleep 0.1; i=$(( i + 1 )); done
  fi
  rm -f "$d/pid"
  _sql_log mysql "server pid $pid stopped (SIG$sig, $(_sql_since "$t0"))"
}

# _my_setup DIR: database sluice_test and user sluice.
_my_setup() {
  local d=$1 out
  if ! out=$("$_MY_CLIENT" --no-defaults --protocol=socket --socket="$d/run/mysqld.sock" -uroot --batch 2>&1 <<'SQL'
CREATE DATABASE IF NOT EXISTS sluice_test CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'sluice'@'127.0.0.1' IDENTIFIED BY 'sluice';
CREATE USER IF NOT EXISTS 'sluice'@'localhost' IDENTIFIED BY 'sluice';
GRANT ALL PRIVILEGES ON `sluice_test`.* TO 'sluice'@'127.0.0.1', 'sluice'@'localhost';
GRANT ALL PRIVILEGES ON `sluice\_test\_%`.* TO 'sluice'@'127.0.0.1', 'sluice'@'localhost';
-- mariadb-install-db also made root@<hostname>, which skip-name-resolve
-- warns about at every start.
DELETE FROM mysql.global_priv WHERE Host NOT IN ('localhost', '127.0.0.1', '::1');
DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost', '127.0.0.1', '::1');
FLUSH PRIVILEGES;
SQL
  ); then
    _sql_log mysql "creating database sluice_test / user sluice failed:"; printf '%s\n' "$out" | awk '{print "  | " $0}' >&2
    return 1
  fi
}

_my_version() { "$_MY_SERVER" --version 2>/dev/null | sed -n 's/.*Ver \([^ ]*\).*/\1/p'; }

# _my_prepare: temp dir, port, config and CTL script (sets _MY_DIR, _MY_PORT).
_my_prepare() {
  _my_bins || { _sql_log mysql "MariaDB is not installed"; return 1; }
  _MY_PORT=${MYSQL_PORT:-$(_sql_free_port "${_PG_PORT:-}")} || { _sql_log mysql "no free port"; return 1; }
  _MY_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-mysql.XXXXXX") || return 1
  mkdir -p "$_MY_DIR/data" "$_MY_DIR/tmp" "$_MY_DIR/run" "$_MY_DIR/log"
  echo "$_MY_PORT" >"$_MY_DIR/port"
  _my_write_cnf "$_MY_DIR" "$_MY_PORT"
  _sql_write_ctl my "$_MY_DIR"
  _sql_watchdog my
}

_my_bringup() { # DIR
  _my_init "$1" && _my_launch "$1" && _my_setup "$1"
}

_my_export() {
  export SLUICE_TEST_MYSQL="sluice:sluice@tcp(127.0.0.1:$_MY_PORT)/sluice_test?parseTime=true&multiStatements=false"
  export SLUICE_TEST_MYSQL_CTL="$_MY_DIR/ctl"
  export SLUICE_TEST_MYSQL_LOG="$_MY_DIR/log/error.log"
  export SLUICE_TEST_MYSQL_SOCKET="$_MY_DIR/run/mysqld.sock"
}

# ---------------------------------------------------------------------------
# PostgreSQL. Its dir D (owned by the postgres user when we are root): data/
# (postgresql.conf includes sluice.conf), run/ (the socket), log/postgres.log,
# port, pid, bindir, ctl.

# _pg_run_argv CMD...: CMD as the postgres user when we are root (setpriv
# execs, so a background job's $! is the server itself), in _PG_ARGV.
_pg_run_argv() {
  if [ "$(id -u)" = 0 ]; then
    _PG_ARGV=(setpriv --reuid=postgres --regid=postgres --init-groups -- "$@")
  else
    _PG_ARGV=("$@")
  fi
}

_pg_pid() { # DIR -> the pid of its running postmaster
  local d=$1 p
  p=$(cat "$d/pid" 2>/dev/null) || return 1
  _sql_pid_alive "$p" && grep -qa -- "$d/data" "/proc/$p/cmdline" 2>/dev/null && echo "$p"
}

_pg_write_conf() { # DIR PORT
  local d=$1 port=$2
  cat >"$d/data/sluice.conf" <<EOF
# PostgreSQL for Sluice's integration tests (written by .ci/lib/sql.sh).
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$d/run'
fsync = on
synchronous_commit = on
shared_buffers = 128MB
max_connections = 300
timezone = 'UTC'
log_timezone = 'UTC'
lc_messages = 'C'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
${POSTGRES_EXTRA_CONF:-}
EOF
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$d/data/sluice.conf"; fi
}

_pg_init() { # DIR
  local d=$1 t0 bindir
  t0=$(_sql_ms)
  bindir=$(cat "$d/bindir")
  local -a _PG_ARGV
  _pg_run_argv "$bindir/initdb" -D "$d/data" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync
  if ! (cd "$d" && "${_PG_ARGV[@]}" </dev/null >"$d/log/initdb.log" 2>&1); then
    _sql_log postgres "initdb failed:"; tail -n 30 "$d/log/initdb.log" | awk '{print "  | " $0}' >&2
    return 1
  fi
  printf "\ninclude 'sluice.conf'\n" >>"$d/data/postgresql.conf"
  _pg_write_conf "$d" "$(cat "$d/port")"
  _sql_log postgres "data dir initialised in $d ($(_sql_since "$t0"))"
}

_pg_tail_log() {
  if [ -s "$1/log/postgres.log" ]; then
    _sql_log postgres "--- last lines of $1/log/postgres.log"
    tail -n "${2:-40}" "$1/log/postgres.log" | awk '{print "  | " $0}' >&2
  fi
}

_pg_ready() { # DIR HOST PORT
  "$(cat "$1/bindir")/pg_isready" -q -h "$2" -p "$3" -U postgres -d postgres -t 2 >/dev/null 2>&1
}

_pg_launch() { # DIR
  local d=$1 t0 pid port bindir deadline timeout=${SQL_START_TIMEOUT:-90}
  if pid=$(_pg_pid "$d"); then _sql_log postgres "already running (pid $pid)"; return 0; fi
  port=$(cat "$d/port"); bindir=$(cat "$d/bindir")
  if _sql_port_open "$port"; then _sql_log postgres "port $port is taken by another process"; return 1; fi
  t0=$(_sql_ms)
  local -a _PG_ARGV
  _pg_run_argv "$bindir/postgres" -D "$d/data"
  pid=$(cd "$d" || exit 1; "${_PG_ARGV[@]}" </dev/null >>"$d/log/postgres.log" 2>&1 9>&- & echo $!)
  echo "$pid" >"$d/pid"
  deadline=$(( $(date +%s) + timeout ))
  while ! { _pg_ready "$d" "$d/run" "$port" && _pg_ready "$d" 127.0.0.1 "$port"; }; do
    if ! _sql_pid_alive "$pid"; then
      _sql_log postgres "postgres exited during startup"; _pg_tail_log "$d"; rm -f "$d/pid"; return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      _sql_log postgres "postgres not ready after ${timeout}s"; _pg_tail_log "$d"; _pg_halt "$d" --kill; return 1
    fi
    sleep 0.1
  done
  _sql_log postgres "server pid $pid ready on 127.0.0.1:$port ($(_sql_since "$t0"))"
}

# _pg_halt DIR [--kill]: fast shutdown (SIGINT; --kill: SIGQUIT, an immediate
# shutdown that needs crash recovery, like a crash but without orphaned
# backends); SIGKILL after SQL_STOP_TIMEOUT. The data stays.
_pg_halt() {
  local d=$1 sig=INT pid t0 i=0 max
  if [ "${2:-}" = --kill ]; then sig=QUIT; fi
  pid=$(_pg_pid "$d") || { rm -f "$d/pid"; return 0; }
  t0=$(_sql_ms); max=$(( ${SQL_STOP_TIMEOUT:-60} * 10 ))
  kill -"$sig" "$pid" 2>/dev/null || true
  while _sql_pid_alive "$pid" && [ "$i" -lt "$max" ]; do sleep 0.1; i=$(( i + 1 )); done
  if _sql_pid_alive "$pid"; then
    _sql_log postgres "postmaster pid $pid did not stop after ${SQL_STOP_TIMEOUT:-60}s; SIGQUIT, then SIGKILL"
    kill -QUIT "$pid" 2>/dev/null || true
    i=0; while _sql_pid_alive "$pid" && [ "$i" -lt 50 ]; do sleep 0.1; i=$(( i + 1 )); done
    kill -KILL "$pid" 2>/dev/null || true
    i=0; while _sql_pid_alive "$pid" && [ "$i" -lt 50 ]; do sleep 0.1; i=$(( i + 1 )); done
  fi
  rm -f "$d/pid"
  _sql_log postgres "server pid $pid stopped (SIG$sig, $(_sql_since "$t0"))"
}

_pg_setup() { # DIR
  local d=$1 out
  if ! out=$("$(cat "$d/bindir")/psql" -X -q -v ON_ERROR_STOP=1 -h "$d/run" -p "$(cat "$d/port")" \
      -U postgres -d postgres 2>&1 <<'SQL'
CREATE ROLE sluice LOGIN CREATEDB PASSWORD 'sluice';
CREATE DATABASE sluice_test OWNER sluice;
SQL
  ); then
    _sql_log postgres "creating role sluice / database sluice_test failed:"; printf '%s\n' "$out" | awk '{print "  | " $0}' >&2
    return 1
  fi
}

_pg_version() { "$(cat "$_PG_DIR/bindir")/postgres" --version 2>/dev/null | sed 's/^postgres (PostgreSQL) //'; }

# _pg_prepare: temp dir owned by postgres, port, CTL script (sets _PG_DIR, _PG_PORT).
_pg_prepare() {
  local bindir base=${TMPDIR:-/tmp}
  bindir=$(_pg_bindir) || { _sql_log postgres "PostgreSQL is not installed"; return 1; }
  if [ "$(id -u)" = 0 ]; then
    if ! id -u postgres >/dev/null 2>&1; then
      useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home --shell /bin/bash postgres ||
        { _sql_log postgres "cannot create the postgres user"; return 1; }
      _sql_log postgres "created system user postgres"
    fi
    # The server runs as postgres: its dir must be reachable by that user.
    if ! setpriv --reuid=postgres --regid=postgres --init-groups -- test -x "$base" -a -w "$base" 2>/dev/null; then base=/tmp; fi
  fi
  _PG_PORT=${POSTGRES_PORT:-$(_sql_free_port "${_MY_PORT:-}")} || { _sql_log postgres "no free port"; return 1; }
  _PG_DIR=$(mktemp -d "$base/sluice-postgres.XXXXXX") || return 1
  mkdir -p "$_PG_DIR/data" "$_PG_DIR/run" "$_PG_DIR/log"
  chmod 700 "$_PG_DIR/data"
  echo "$_PG_PORT" >"$_PG_DIR/port"
  echo "$bindir" >"$_PG_DIR/bindir"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$_PG_DIR"; fi
  _sql_write_ctl pg "$_PG_DIR"
  _sql_watchdog pg
}

_pg_bringup() { # DIR
  _pg_init "$1" && _pg_launch "$1" && _pg_setup "$1"
}

_pg_export() {
  export SLUICE_TEST_POSTGRES="postgres://sluice:sluice@127.0.0.1:$_PG_PORT/sluice_test?sslmode=disable"
  export SLUICE_TEST_POSTGRES_CTL="$_PG_DIR/ctl"
  export SLUICE_TEST_POSTGRES_LOG="$_PG_DIR/log/postgres.log"
  export SLUICE_TEST_POSTGRES_SOCKET="$_PG_DIR/run"
}

# ---------------------------------------------------------------------------
# CTL scripts and watchdogs.

_sql_write_ctl() { # KIND DIR
  local k=$1 d=$2
  {
    printf '#!/usr/bin/env bash\n'
    printf '# The test %s server of one CI run (written by .ci/lib/sql.sh).\n' "$(_sql_tag "$k")"
    printf '# Usage: %s start|stop|kill|restart [SECONDS]|status\n' "$d/ctl"
    printf 'set -euo pipefail\n'
    printf 'source %q\n' "$_SQL_LIB"
    printf '_sql_ctl %q %q "$@"\n' "$k" "$d"
  } >"$d/ctl"
  chmod 755 "$d/ctl"
}

# _sql_ctl KIND DIR CMD [ARG]: what a CTL script does.
_sql_ctl() {
  local k=$1 d=$2 tag pid
  shift 2
  tag=$(_sql_tag "$k")
  if [ ! -f "$d/port" ]; then _sql_log "$tag" "no server in $d (stopped for good?)"; return 1; fi
  case ${1:-} in
    start) _sql_locked "$d" "_${k}_launch" "$d" ;;
    stop) _sql_locked "$d" "_${k}_halt" "$d" ;;
    kill) _sql_locked "$d" "_${k}_halt" "$d" --kill ;;
    restart)
      _sql_locked "$d" "_${k}_halt" "$d"
      if [ "${2:-0}" != 0 ]; then _sql_log "$tag" "staying down ${2}s"; sleep "$2"; fi
      _sql_locked "$d" "_${k}_launch" "$d" ;;
    status)
      if pid=$("_${k}_pid" "$d"); then echo "running pid $pid port $(cat "$d/port")"
      else echo "stopped"; return 3; fi ;;
    *) echo "usage: $d/ctl start|stop|kill|restart [SECONDS]|status" >&2; return 2 ;;
  esac
}

# _sql_watchdog KIND: if this shell dies without *_stop, stop the server and
# remove its dir.
_sql_watchdog() {
  [ "${SQL_WATCHDOG:-1}" = 1 ] || return 0
  local k=$1 owner=$$ d wd
  if [ "$k" = my ]; then d=$_MY_DIR; else d=$_PG_DIR; fi
  (
    set +e
    trap - EXIT INT TERM
    while kill -0 "$owner" 2>/dev/null && [ -d "$d" ]; do sleep 2; done
    if [ -d "$d" ]; then
      "_${k}_halt" "$d"
      rm -rf "$d"
    fi
  ) </dev/null >/dev/null 2>&1 9>&- &
  wd=$!
  if [ "$k" = my ]; then _MY_WD_PID=$wd; else _PG_WD_PID=$wd; fi
}

# ---------------------------------------------------------------------------
# Public functions.

_sql_alive() { # KIND
  if [ "$1" = my ]; then [ -n "$_MY_DIR" ] && _my_pid "$_MY_DIR" >/dev/null
  else [ -n "$_PG_DIR" ] && _pg_pid "$_PG_DIR" >/dev/null; fi
}

# _sql_start KIND...: install, prepare, then init+launch+setup (in parallel
# when there are two), then export.
_sql_start() {
  local -a kinds=() pids=()
  local k t_all rc=0 i d failed=''
  for k in "$@"; do
    if _sql_alive "$k"; then _sql_log "$(_sql_tag "$k")" "already running"; else kinds+=("$k"); fi
  done
  [ ${#kinds[@]} -gt 0 ] || return 0
  t_all=$(_sql_ms)
  sql_install "${kinds[@]}" || return 1
  for k in "${kinds[@]}"; do
    "_${k}_prepare" || { "_${k}_stop"; return 1; }
  done
  if [ ${#kinds[@]} -eq 1 ]; then
    k=${kinds[0]}
    if [ "$k" = my ]; then d=$_MY_DIR; else d=$_PG_DIR; fi
    "_${k}_bringup" "$d" || { _sql_log "$(_sql_tag "$k")" "start failed"; "_${k}_stop"; return 1; }
  else
    for k in "${kinds[@]}"; do
      if [ "$k" = my ]; then d=$_MY_DIR; else d=$_PG_DIR; fi
      ( "_${k}_bringup" "$d" ) &
      pids+=($!)
    done
    for i in "${!kinds[@]}"; do
      wait "${pids[$i]}" || failed="$failed ${kinds[$i]}"
    done
    if [ -n "$failed" ]; then
      for k in $failed; do _sql_log "$(_sql_tag "$k")" "start failed"; done
      for k in "${kinds[@]}"; do "_${k}_stop"; done
      return 1
    fi
  fi
  for k in "${kinds[@]}"; do
    "_${k}_export"
    if [ "$k" = my ]; then
      _sql_log mysql "started MariaDB $(_my_version): SLUICE_TEST_MYSQL=$SLUICE_TEST_MYSQL"
    else
      _sql_log postgres "started PostgreSQL $(_pg_version): SLUICE_TEST_POSTGRES=$SLUICE_TEST_POSTGRES"
    fi
  done
  _sql_log sql "ready: $(for k in "${kinds[@]}"; do _sql_tag "$k"; done | paste -sd' ') (total $(_sql_since "$t_all"))"
  return $rc
}

# mysql_start / pg_start / sql_start: install if needed, initialise a data
# dir, start, create sluice/sluice_test, export SLUICE_TEST_*.
mysql_start() { _sql_start my; }
pg_start() { _sql_start pg; }
sql_start() { _sql_start my pg; }

# *_down [--kill] / *_up: the halves of *_restart (same port, data kept).
mysql_down() { [ -n "$_MY_DIR" ] && [ -d "$_MY_DIR" ] || return 0; _sql_locked "$_MY_DIR" _my_halt "$_MY_DIR" "$@"; }
pg_down() { [ -n "$_PG_DIR" ] && [ -d "$_PG_DIR" ] || return 0; _sql_locked "$_PG_DIR" _pg_halt "$_PG_DIR" "$@"; }
mysql_up() {
  if [ -z "$_MY_DIR" ] || [ ! -f "$_MY_DIR/my.cnf" ]; then _sql_log mysql "mysql_up: no server to bring back (call mysql_start)"; return 1; fi
  _sql_locked "$_MY_DIR" _my_launch "$_MY_DIR"
}
pg_up() {
  if [ -z "$_PG_DIR" ] || [ ! -f "$_PG_DIR/port" ]; then _sql_log postgres "pg_up: no server to bring back (call pg_start)"; return 1; fi
  _sql_locked "$_PG_DIR" _pg_launch "$_PG_DIR"
}

_sql_restart() { # KIND [--kill] [DOWN_SECONDS]
  local k=$1 kill_flag='' down=0
  shift
  while [ $# -gt 0 ]; do
    case $1 in --kill) kill_flag=--kill ;; *) down=$1 ;; esac
    shift
  done
  if [ "$k" = my ]; then mysql_down $kill_flag || return 1; else pg_down $kill_flag || return 1; fi
  if [ "$down" != 0 ]; then _sql_log "$(_sql_tag "$k")" "staying down ${down}s"; sleep "$down"; fi
  if [ "$k" = my ]; then mysql_up; else pg_up; fi
}
# mysql_restart / pg_restart [--kill] [DOWN_SECONDS]: stop (gracefully, or
# like a crash with --kill), stay down DOWN_SECONDS (default 0), start again.
mysql_restart() { _sql_restart my "$@"; }
pg_restart() { _sql_restart pg "$@"; }

# mysql_stop / pg_stop / sql_stop: stop and delete the data. Idempotent, never
# fail: fit for `trap sql_stop EXIT`, the script's exit status is kept.
mysql_stop() { _my_stop || true; return 0; }
pg_stop() { _pg_stop || true; return 0; }
sql_stop() {
  if [ -n "$_MY_DIR$_PG_DIR" ]; then
    # Both at once: each stop is mostly waiting.
    local p=''
    if [ -n "$_MY_DIR" ] && [ -d "$_MY_DIR" ]; then (_sql_locked "$_MY_DIR" _my_halt "$_MY_DIR" || true) & p=$!; fi
    if [ -n "$_PG_DIR" ] && [ -d "$_PG_DIR" ]; then _sql_locked "$_PG_DIR" _pg_halt "$_PG_DIR" || true; fi
    if [ -n "$p" ]; then wait "$p" 2>/dev/null || true; fi
  fi
  _my_stop || true
  _pg_stop || true
  return 0
}

_sql_cleanup() { # KIND DIR WD_PID KEEP_DEFAULT KEEP_SRC
  local k=$1 d=$2 wd=$3 keep=$4 src=$5 tag
  tag=$(_sql_tag "$k")
  if [ -n "$d" ] && [ -d "$d" ]; then
    _sql_locked "$d" "_${k}_halt" "$d" || "_${k}_halt" "$d" || true
  fi
  if [ -n "$wd" ]; then kill "$wd" 2>/dev/null || true; wait "$wd" 2>/dev/null || true; fi
  if [ -n "$d" ] && [ -d "$d" ]; then
    if [ -n "$keep" ] && [ -s "$src" ] && cp "$src" "$keep" 2>/dev/null; then
      _sql_log "$tag" "server log kept in $keep"
    fi
    rm -rf "$d" || true
    _sql_log "$tag" "data dir $d removed"
  fi
}

_my_stop() {
  local keep=${MYSQL_KEEP_LOG:-}
  if [ -z "$keep" ] && [ -d "$_SQL_ROOT/.ci/out" ]; then keep="$_SQL_ROOT/.ci/out/mysql-error.log"; fi
  _sql_cleanup my "$_MY_DIR" "$_MY_WD_PID" "$keep" "$_MY_DIR/log/error.log"
  _MY_DIR='' _MY_PORT='' _MY_WD_PID=''
  unset SLUICE_TEST_MYSQL SLUICE_TEST_MYSQL_CTL SLUICE_TEST_MYSQL_LOG SLUICE_TEST_MYSQL_SOCKET
}

_pg_stop() {
  local keep=${POSTGRES_KEEP_LOG:-}
  if [ -z "$keep" ] && [ -d "$_SQL_ROOT/.ci/out" ]; then keep="$_SQL_ROOT/.ci/out/postgres.log"; fi
  _sql_cleanup pg "$_PG_DIR" "$_PG_WD_PID" "$keep" "$_PG_DIR/log/postgres.log"
  _PG_DIR='' _PG_PORT='' _PG_WD_PID=''
  unset SLUICE_TEST_POSTGRES SLUICE_TEST_POSTGRES_CTL SLUICE_TEST_POSTGRES_LOG SLUICE_TEST_POSTGRES_SOCKET
}

# mysql_client ARGS...: the mariadb client as sluice over TCP, on sluice_test.
mysql_client() {
  if [ -z "$_MY_PORT" ]; then _sql_log mysql "mysql_client: no server (call mysql_start)"; return 1; fi
  _my_bins || return 1
  "$_MY_CLIENT" --no-defaults --default-character-set=utf8mb4 --protocol=tcp -h 127.0.0.1 -P "$_MY_PORT" -usluice -psluice sluice_test "$@"
}

# pg_client ARGS...: psql as sluice over TCP, on sluice_test.
pg_client() {
  if [ -z "$_PG_DIR" ]; then _sql_log postgres "pg_client: no server (call pg_start)"; return 1; fi
  "$(cat "$_PG_DIR/bindir")/psql" -X -v ON_ERROR_STOP=1 \
    "postgres://sluice:sluice@127.0.0.1:$_PG_PORT/sluice_test?sslmode=disable" "$@"
}
