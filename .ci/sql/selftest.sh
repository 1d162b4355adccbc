#!/usr/bin/env bash
# Self-test of .ci/lib/sql.sh: install (when missing) and start MariaDB and
# PostgreSQL, run SQL through the clients over TCP with the credentials of the
# exported DSNs, stop/start and crash/start each server through its CTL script
# (as a Go test would) and through *_restart (data kept), stop both (nothing
# left behind), then check that the watchdog cleans up after a shell killed
# with SIGKILL. Usage: .ci/sql/selftest.sh   (SELFTEST_DOWN=SECONDS: outage length, default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/sql.sh
trap sql_stop EXIT

ms() { date +%s%3N; }
since() { local d=$(( $(ms) - $1 )); printf '%d.%02ds' $(( d / 1000 )) $(( d % 1000 / 10 )); }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
down=${SELFTEST_DOWN:-2}

t_all=$(ms)
step "packages before"
for p in mariadb-server mariadb-client postgresql postgresql-client; do
  printf '  %-18s %s\n' "$p" "$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$p" 2>/dev/null || echo 'not installed')"
done

step "sql_start"
t0=$(ms)
sql_start
echo "sql_start took $(since "$t0")"
echo "SLUICE_TEST_MYSQL=$SLUICE_TEST_MYSQL"
echo "SLUICE_TEST_MYSQL_CTL=$SLUICE_TEST_MYSQL_CTL"
echo "SLUICE_TEST_POSTGRES=$SLUICE_TEST_POSTGRES"
echo "SLUICE_TEST_POSTGRES_CTL=$SLUICE_TEST_POSTGRES_CTL"
my_dir=$_MY_DIR pg_dir=$_PG_DIR

# Clients with the DSNs' own credentials, over TCP.
[[ $SLUICE_TEST_MYSQL =~ ^([^:]+):([^@]*)@tcp\(([^:]+):([0-9]+)\)/([^?]+)\? ]] || fail "cannot parse $SLUICE_TEST_MYSQL"
my_user=${BASH_REMATCH[1]} my_pass=${BASH_REMATCH[2]} my_host=${BASH_REMATCH[3]} my_port=${BASH_REMATCH[4]} my_db=${BASH_REMATCH[5]}
mariadb_bin=$(_sql_which mariadb mysql)
psql_bin=$(_pg_bindir)/psql
my_sql() { "$mariadb_bin" --no-defaults --default-character-set=utf8mb4 --protocol=tcp -h "$my_host" -P "$my_port" -u "$my_user" -p"$my_pass" \
  --batch --skip-column-names --connect-timeout=5 "$my_db" -e "$1"; }
pg_sql() { "$psql_bin" -X -At -v ON_ERROR_STOP=1 "$SLUICE_TEST_POSTGRES" -c "$1"; }
expect() { # WHAT GOT WANT
  if [ "$2" != "$3" ]; then fail "$1: got [$2], want [$3]"; fi
  echo "ok  $1: $2"
}

step "versions and settings"
echo "MariaDB server: $(my_sql 'SELECT VERSION()')"
echo "PostgreSQL server: $(pg_sql 'SELECT version()')"
echo "MariaDB: $(my_sql "SELECT CONCAT_WS(' ', @@character_set_server, @@collation_server, @@time_zone, @@max_allowed_packet, @@innodb_buffer_pool_size, @@innodb_flush_log_at_trx_commit, @@skip_name_resolve, @@bind_address)")"
echo "PostgreSQL: $(pg_sql "SELECT concat_ws(' ', current_setting('server_encoding'), current_setting('TimeZone'), current_setting('shared_buffers'), current_setting('fsync'), current_setting('listen_addresses'), current_setting('max_connections'))")"

rss() { # PID -> "N MiB"
  awk '/^VmRSS/{printf "%.0f MiB", $2/1024}' "/proc/$1/status"
}
pg_tree_rss() { # PID -> RSS and PSS summed over the postmaster and its children
  local pids p rss=0 pss=0 r s
  pids="$1 $(pgrep -P "$1" | tr '\n' ' ')"
  for p in $pids; do
    r=$(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    s=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    rss=$(( rss + ${r:-0} )); pss=$(( pss + ${s:-0} ))
  done
  echo "$(echo "$pids" | wc -w) processes, RSS sum $(( rss / 1024 )) MiB, PSS sum $(( pss / 1024 )) MiB"
}
report_rss() {
  local mp pp
  mp=$("$SLUICE_TEST_MYSQL_CTL" status | awk '{print $3}')
  pp=$("$SLUICE_TEST_POSTGRES_CTL" status | awk '{print $3}')
  echo "RSS $1: mariadbd $(rss "$mp") (PSS $(awk '/^Pss:/{printf "%.0f MiB", $2/1024}' "/proc/$mp/smaps_rollup")); postgres postmaster $(rss "$pp"), $(pg_tree_rss "$pp")"
}
report_rss "after start"

step "SQL over TCP"
my_sql "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(32) NOT NULL) ENGINE=InnoDB;
        INSERT INTO t VALUES (1, 'één'), (2, 'two'), (3, '😀');"
expect "mysql rows" "$(my_sql 'SELECT COUNT(*), SUM(id) FROM t' | tr '\t' ' ')" "3 6"
expect "mysql utf8mb4 round trip" "$(my_sql 'SELECT v FROM t WHERE id = 3')" "😀"
expect "mysql 20 MiB value (max_allowed_packet)" "$(my_sql "SELECT LENGTH(REPEAT('x', 20*1024*1024))")" "20971520"
my_sql "CREATE DATABASE sluice_test_extra; DROP DATABASE sluice_test_extra;"
echo "ok  mysql: sluice may create and drop sluice_test_* databases"
pg_sql "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL);
        INSERT INTO t VALUES (1, 'één'), (2, 'two'), (3, '😀');" >/dev/null
expect "postgres rows" "$(pg_sql 'SELECT count(*), sum(id) FROM t' | tr '|' ' ')" "3 6"
expect "postgres utf8 round trip" "$(pg_sql 'SELECT v FROM t WHERE id = 3')" "😀"
pg_sql "CREATE DATABASE sluice_test_extra" >/dev/null && pg_sql "DROP DATABASE sluice_test_extra" >/dev/null
echo "ok  postgres: sluice may create and drop databases"

# A CTL script as a Go test runs it: a child process whose output is captured
# through a pipe (a server that kept the pipe open would hang this).
ctl() { # NAME CTL ARGS...
  local name=$1 c=$2 out t0 rc=0; shift 2
  t0=$(ms)
  out=$(timeout 180 "$c" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" | sed 's/^/    | /'
  echo "  $name ctl $* -> exit $rc ($(since "$t0"))"
  return $rc
}

outage() { # NAME CTL SQLFN
  local name=$1 c=$2 sqlfn=$3 rc
  step "$name: ctl stop, ${down}s down, ctl start"
  ctl "$name" "$c" stop
  rc=0; "$c" status >/dev/null || rc=$?
  expect "$name ctl status while down (exit)" "$rc" "3"
  if "$sqlfn" 'SELECT 1' >/dev/null 2>&1; then fail "$name still answers while stopped"; fi
  echo "ok  $name refuses connections while down"
  sleep "$down"
  ctl "$name" "$c" start
  expect "$name rows after ctl restart" "$("$sqlfn" 'SELECT COUNT(*) FROM t')" "3"

  step "$name: insert, ctl kill (crash), ctl start"
  "$sqlfn" 'INSERT INTO t VALUES (4, '"'four'"')' >/dev/null
  ctl "$name" "$c" kill
  ctl "$name" "$c" start
  expect "$name rows after crash" "$("$sqlfn" 'SELECT COUNT(*) FROM t')" "4"
  "$sqlfn" 'DELETE FROM t WHERE id = 4' >/dev/null
  ctl "$name" "$c" restart 1
  expect "$name rows after ctl restart 1" "$("$sqlfn" 'SELECT COUNT(*) FROM t')" "3"
}
outage mysql "$SLUICE_TEST_MYSQL_CTL" my_sql
outage postgres "$SLUICE_TEST_POSTGRES_CTL" pg_sql

step "mysql_restart 1 / pg_restart --kill 1 (library functions)"
t0=$(ms); mysql_restart 1; echo "mysql_restart 1 took $(since "$t0")"
t0=$(ms); pg_restart --kill 1; echo "pg_restart --kill 1 took $(since "$t0")"
expect "mysql rows after mysql_restart" "$(my_sql 'SELECT COUNT(*) FROM t')" "3"
expect "postgres rows after pg_restart" "$(pg_sql 'SELECT COUNT(*) FROM t')" "3"
report_rss "at end"

leftovers() { # DIR... -> processes whose command line names one of them
  local d
  for d in "$@"; do pgrep -a -f -- "$d" || true; done
}

step "sql_stop (twice)"
t0=$(ms)
sql_stop
sql_stop
echo "sql_stop took $(since "$t0")"
[ -z "$(leftovers "$my_dir" "$pg_dir")" ] || { leftovers "$my_dir" "$pg_dir"; fail "processes left"; }
if [ -e "$my_dir" ] || [ -e "$pg_dir" ]; then fail "dirs left: $my_dir $pg_dir"; fi
[ -z "${SLUICE_TEST_MYSQL:-}${SLUICE_TEST_POSTGRES:-}" ] || fail "SLUICE_TEST_* still set"
echo "ok  no processes, no dirs, no SLUICE_TEST_* left"

step "watchdog: a shell that started both is killed with SIGKILL"
tmp=$(mktemp -d)
t0=$(ms)
SQL_WATCHDOG=1 bash -c 'source .ci/lib/sql.sh; sql_start; echo "$_MY_DIR $_PG_DIR" >"$1/dirs"; exec sleep 600' _ "$tmp" \
  >"$tmp/out.log" 2>&1 &
child=$!
for _ in $(seq 600); do [ -s "$tmp/dirs" ] && break; kill -0 "$child" 2>/dev/null || break; sleep 0.2; done
[ -s "$tmp/dirs" ] || { cat "$tmp/out.log"; fail "child shell did not start the servers"; }
read -r wd_my wd_pg <"$tmp/dirs"
echo "child started both in $(since "$t0"); killing it (pid $child) with SIGKILL"
kill -KILL "$child"; wait "$child" 2>/dev/null || true
t0=$(ms)
for _ in $(seq 150); do
  if [ ! -e "$wd_my" ] && [ ! -e "$wd_pg" ] && [ -z "$(leftovers "$wd_my" "$wd_pg")" ]; then break; fi
  sleep 0.2
done
if [ -e "$wd_my" ] || [ -e "$wd_pg" ] || [ -n "$(leftovers "$wd_my" "$wd_pg")" ]; then
  leftovers "$wd_my" "$wd_pg"; fail "watchdog left $wd_my $wd_pg"
fi
echo "ok  watchdogs stopped both servers and removed their dirs $(since "$t0") after the kill"
rm -rf "$tmp"

echo
echo "selftest OK in $(since "$t_all")"
