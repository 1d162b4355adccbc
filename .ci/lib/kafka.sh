# shellcheck shell=bash
# .ci/lib/kafka.sh — a real, single-node Apache Kafka 4.x broker (KRaft,
# combined broker+controller) for the integration tests. No Docker: the broker
# jars come from Maven Central through .ci/kafka/pom.xml and run on the JDK.
#
#   source .ci/lib/kafka.sh
#   trap kafka_stop EXIT
#   kafka_start                       # exports SLUICE_TEST_KAFKA=127.0.0.1:PORT
#   kafka_topics_create orders 4      # optional: pre-create a topic
#   kafka_restart [--kill] [SECONDS]  # outage: stop (TERM, or KILL), stay down, start again, data kept
#   kafka_stop                        # idempotent; removes the data dir
#
# Also: kafka_tool CLASS ARGS... runs any Kafka tool class against the jars
# (e.g. org.apache.kafka.tools.ConsoleProducer); kafka_down / kafka_up are the
# two halves of kafka_restart.
#
# Settings (environment, all optional):
#   KAFKA_VERSION          Kafka version; default: 4.4.0, falling back to 4.3.1
#   KAFKA_PORT             client port (default: a free one)
#   KAFKA_CONTROLLER_PORT  controller port (default: a free one)
#   KAFKA_HEAP_OPTS        broker heap (default: -Xms128m -Xmx512m)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker (default: 90)
#   KAFKA_KEEP_LOG         copy the broker log here on kafka_stop
#                          (default: .ci/out/kafka-server.log when .ci/out exists)
#   KAFKA_WATCHDOG         1 (default): kill the broker if this shell dies
#                          without running kafka_stop (e.g. SIGKILL)
#
# Exports after kafka_start: SLUICE_TEST_KAFKA (host:port),
# SLUICE_TEST_KAFKA_LOG (the broker log), SLUICE_TEST_KAFKA_PID.
#
# Safe under `set -euo pipefail`. Call the functions directly, not in $(...):
# they keep the broker's state in shell variables.

_KAFKA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_KAFKA_FALLBACK_VERSIONS="4.4.0 4.3.1"
_KAFKA_LIBS=${_KAFKA_LIBS:-}
_KAFKA_VER=${_KAFKA_VER:-}
_KAFKA_DIR=${_KAFKA_DIR:-}
_KAFKA_PID=${_KAFKA_PID:-}
_KAFKA_WD_PID=${_KAFKA_WD_PID:-}
_KAFKA_PORT=${_KAFKA_PORT:-}
_KAFKA_CPORT=${_KAFKA_CPORT:-}

_kafka_log() { printf 'kafka: %s\n' "$*" >&2; }
_kafka_ms() { date +%s%3N; }
_kafka_since() { # START_MS -> "1.23s"
  local d=$(( $(_kafka_ms) - $1 ))
  printf '%d.%02ds' $(( d / 1000 )) $(( d % 1000 / 10 ))
}
_kafka_java() { if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"; else echo java; fi; }

# _kafka_fetch: make sure the jars of a Kafka version are in the cache; sets
# _KAFKA_LIBS and _KAFKA_VER.
_kafka_fetch() {
  if [ -n "$_KAFKA_LIBS" ] && [ -f "$_KAFKA_LIBS/.complete" ]; then return 0; fi
  local versions=${KAFKA_VERSION:-$_KAFKA_FALLBACK_VERSIONS} v cache tmp t0 mvnlog
  for v in $versions; do
    cache="$_KAFKA_ROOT/.ci/cache/kafka-$v"
    if [ -f "$cache/libs/.complete" ]; then
      _KAFKA_LIBS="$cache/libs" _KAFKA_VER=$v
      _kafka_log "using cached jars of Kafka $v ($(find "$cache/libs" -name '*.jar' | wc -l) jars)"
      return 0
    fi
  done
  if ! command -v mvn >/dev/null 2>&1; then
    _kafka_log "mvn not found: cannot fetch Kafka jars"; return 1
  fi
  for v in $versions; do
    cache="$_KAFKA_ROOT/.ci/cache/kafka-$v"
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/libs.tmp.XXXXXX")
    mvnlog="$cache/mvn.log"
    t0=$(_kafka_ms)
    _kafka_log "fetching Kafka $v jars from Maven Central ..."
    if mvn -q -B -ntp -Dstyle.color=never -f "$_KAFKA_ROOT/.ci/kafka/pom.xml" \
         -Dkafka.version="$v" dependency:copy-dependencies \
         -DoutputDirectory="$tmp" >"$mvnlog" 2>&1 \
       && [ -f "$tmp/kafka_2.13-$v.jar" ]; then
      touch "$tmp/.complete"
      if [ -f "$cache/libs/.complete" ]; then
        rm -rf "$tmp"   # a concurrent run got there first
      else
        rm -rf "$cache/libs"
        mv -T "$tmp" "$cache/libs"
      fi
      _KAFKA_LIBS="$cache/libs" _KAFKA_VER=$v
      _kafka_log "fetched Kafka $v: $(find "$cache/libs" -name '*.jar' | wc -l) jars, $(du -sh "$cache/libs" | cut -f1) ($(_kafka_since "$t0"))"
      return 0
    fi
    rm -rf "$tmp"
    _kafka_log "fetching Kafka $v failed ($(_kafka_since "$t0")); maven said:"
    tail -n 20 "$mvnlog" | awk '{print "  | " $0}' >&2
    if [ ! -d "$cache/libs" ]; then rm -rf "$cache"; fi
  done
  return 1
}

# _kafka_free_ports N: print N free TCP ports on 127.0.0.1, one a line.
_kafka_free_ports() {
  local n=$1
  if command -v python3 >/dev/null 2>&1 && python3 - "$n" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
for s in socks: print(s.getsockname()[1])
for s in socks: s.close()
PY
  # No python: random ports in 20000-29999 that nobody answers on.
  local got=0 p
  while [ "$got" -lt "$n" ]; do
    p=$(( 20000 + RANDOM % 10000 ))
    if ! _kafka_port_open "$p"; then echo "$p"; got=$(( got + 1 )); fi
  done
}

_kafka_port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

_kafka_alive() { # the broker process exists and is not a zombie
  [ -n "$_KAFKA_PID" ] && [ -r "/proc/$_KAFKA_PID/stat" ] || return 1
  local st
  st=$(sed 's/.*) //' "/proc/$_KAFKA_PID/stat" 2>/dev/null | cut -c1) || return 1
  [ "$st" != "Z" ] && [ -n "$st" ]
}

_kafka_tail_log() {
  local f
  for f in "$_KAFKA_DIR/logs/server.log" "$_KAFKA_DIR/logs/stdout.log"; do
    if [ -s "$f" ]; then
      _kafka_log "--- last lines of $f"
      tail -n "${1:-60}" "$f" | awk '{print "  | " $0}' >&2
    fi
  done
}

_kafka_write_config() {
  local d=$_KAFKA_DIR
  mkdir -p "$d/data" "$d/logs"
  cat >"$d/server.properties" <<EOF
# Single-node KRaft broker for Sluice's integration tests (.ci/lib/kafka.sh).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$_KAFKA_CPORT
listeners=PLAINTEXT://127.0.0.1:$_KAFKA_PORT,CONTROLLER://127.0.0.1:$_KAFKA_CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$_KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$d/data

num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

# Quick recovery after kafka_restart --kill: the restarted broker cannot
# register until the controller expires the dead one's session (default 9 s).
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000

# Keep it small: few threads, a small log-cleaner buffer (default 128 MiB of heap).
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
EOF
  # Broker log: everything at INFO into one file (the CI prints its tail on failure).
  cat >"$d/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $d/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.zstd.name = org.apache.kafka.common.utils.AppInfoParser
logger.zstd.level = WARN
EOF
}

# Tools (kafka_tool): warnings and errors only, on stderr.
_kafka_tools_log4j() {
  local f="$_KAFKA_LIBS/../tools-log4j2.properties"
  if [ ! -f "$f" ]; then
    cat >"$f" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
  fi
  echo "$f"
}

# _kafka_tool_argv CLASS ARGS...: the command line of a Kafka tool, in _KAFKA_CMD.
_kafka_tool_argv() {
  local log4j; log4j=$(_kafka_tools_log4j)
  local cls=$1; shift
  local -a opts=()
  # shellcheck disable=SC2206
  if [ -n "${KAFKA_TOOL_OPTS:-}" ]; then opts=($KAFKA_TOOL_OPTS); fi
  _KAFKA_CMD=("$(_kafka_java)" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$log4j" -Dlog4j.shutdownHookEnabled=false ${opts[@]+"${opts[@]}"}
    -cp "$_KAFKA_LIBS/*" "$cls" "$@")
}

# kafka_tool CLASS ARGS...: run a Kafka tool class on the broker's classpath
# with a small, quick-starting JVM; stdin/stdout pass through. E.g.
#   kafka_tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$SLUICE_TEST_KAFKA" --topic t
kafka_tool() {
  if [ $# -lt 1 ]; then _kafka_log "usage: kafka_tool CLASS [ARGS...]"; return 2; fi
  _kafka_fetch || return 1
  local -a _KAFKA_CMD
  _kafka_tool_argv "$@"
  "${_KAFKA_CMD[@]}"
}

# The client config the tools use: fail fast rather than retry for minutes.
_kafka_client_config() {
  local f="$_KAFKA_DIR/client.properties"
  if [ ! -f "$f" ]; then
    printf '%s\n' 'request.timeout.ms=5000' 'default.api.timeout.ms=10000' \
      'retry.backoff.ms=200' >"$f"
  fi
  echo "$f"
}

# kafka_topics_create NAME PARTITIONS [EXTRA TopicCommand ARGS...]
# e.g. kafka_topics_create events 4 --config retention.ms=3600000
kafka_topics_create() {
  if [ $# -lt 2 ]; then _kafka_log "usage: kafka_topics_create NAME PARTITIONS [ARGS...]"; return 2; fi
  if [ -z "$_KAFKA_PORT" ]; then _kafka_log "kafka_topics_create: no broker (call kafka_start)"; return 1; fi
  local name=$1 parts=$2; shift 2
  local t0; t0=$(_kafka_ms)
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$_KAFKA_PORT" \
    --command-config "$(_kafka_client_config)" --create --if-not-exists \
    --topic "$name" --partitions "$parts" --replication-factor 1 "$@" >/dev/null || {
    _kafka_log "creating topic $name failed"; return 1; }
  _kafka_log "topic $name ($parts partitions) created ($(_kafka_since "$t0"))"
}

# _kafka_launch: start the JVM on the existing config and wait until it serves.
_kafka_launch() {
  local t0 deadline timeout=${KAFKA_START_TIMEOUT:-90}
  local heap=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
  t0=$(_kafka_ms)
  # Started from a subshell, so that the JVM is not a job of this shell (no
  # "Killed" notices, no zombie to reap); init or a subreaper reaps it.
  # shellcheck disable=SC2086
  _KAFKA_PID=$(
    "$(_kafka_java)" $heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
      -XX:MaxDirectMemorySize=256m -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$_KAFKA_DIR/log4j2.properties" \
      -Dkafka.logs.dir="$_KAFKA_DIR/logs" ${KAFKA_JVM_OPTS:-} \
      -cp "$_KAFKA_LIBS/*" kafka.Kafka "$_KAFKA_DIR/server.properties" \
      </dev/null >>"$_KAFKA_DIR/logs/stdout.log" 2>&1 &
    echo $!
  )
  echo "$_KAFKA_PID" >"$_KAFKA_DIR/broker.pid"
  export SLUICE_TEST_KAFKA_PID=$_KAFKA_PID
  _kafka_log "broker pid $_KAFKA_PID starting on 127.0.0.1:$_KAFKA_PORT (controller :$_KAFKA_CPORT) ..."

  deadline=$(( $(date +%s) + timeout ))
  # 1) the client port accepts connections.
  while ! _kafka_port_open "$_KAFKA_PORT"; do
    if ! _kafka_alive; then
      _kafka_log "broker exited during startup"; _kafka_tail_log 60; return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      _kafka_log "broker port not open after ${timeout}s"; _kafka_tail_log 60; return 1
    fi
    sleep 0.25
  done
  _kafka_log "port open ($(_kafka_since "$t0"))"
  # 2) it answers a metadata request with itself as a live broker
  #    (listing topics needs a registered, unfenced broker in the metadata).
  local out
  local -a _KAFKA_CMD
  _kafka_tool_argv org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "127.0.0.1:$_KAFKA_PORT" --command-config "$(_kafka_client_config)" --list
  while :; do
    if out=$(timeout 30 "${_KAFKA_CMD[@]}" 2>&1); then
      break
    fi
    if ! _kafka_alive; then
      _kafka_log "broker exited during startup"; _kafka_tail_log 60; return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      _kafka_log "broker does not answer metadata requests after ${timeout}s; last attempt said:"
      printf '%s\n' "$out" | tail -n 10 | awk '{print "  | " $0}' >&2
      _kafka_tail_log 60; return 1
    fi
    sleep 0.5
  done
  _kafka_log "broker ready on 127.0.0.1:$_KAFKA_PORT ($(_kafka_since "$t0"))"
}

# _kafka_watchdog: if the shell that started the broker dies without calling
# kafka_stop, kill the broker and remove its directory.
_kafka_watchdog() {
  [ "${KAFKA_WATCHDOG:-1}" = 1 ] || return 0
  local owner=$$ dir=$_KAFKA_DIR
  (
    set +e
    trap - EXIT INT TERM
    while kill -0 "$owner" 2>/dev/null && [ -d "$dir" ]; do sleep 2; done
    if [ -d "$dir" ]; then
      p=$(cat "$dir/broker.pid" 2>/dev/null)
      if [ -n "$p" ] && grep -qa -- "$dir/server.properties" "/proc/$p/cmdline" 2>/dev/null; then
        kill -TERM "$p" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
          kill -0 "$p" 2>/dev/null || break
          sleep 0.5
        done
        kill -KILL "$p" 2>/dev/null
      fi
      rm -rf "$dir"
    fi
  ) </dev/null >/dev/null 2>&1 &
  _KAFKA_WD_PID=$!
}

# kafka_start: fetch (or reuse) the jars, write a KRaft config, format the
# storage, start the broker and wait until it serves; exports SLUICE_TEST_KAFKA.
kafka_start() {
  if _kafka_alive; then
    _kafka_log "already running on 127.0.0.1:$_KAFKA_PORT"; return 0
  fi
  local t_all t0 jv ports cid
  t_all=$(_kafka_ms)
  jv=$("$(_kafka_java)" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  if [ -z "$jv" ] || [ "$jv" -lt 17 ]; then
    _kafka_log "Kafka 4 needs Java 17 or newer (found: ${jv:-none})"; return 1
  fi

  _kafka_fetch || { _kafka_log "could not get the Kafka jars"; return 1; }

  if [ -n "${KAFKA_PORT:-}" ] && [ -n "${KAFKA_CONTROLLER_PORT:-}" ]; then
    _KAFKA_PORT=$KAFKA_PORT _KAFKA_CPORT=$KAFKA_CONTROLLER_PORT
  else
    ports=$(_kafka_free_ports 2) || { _kafka_log "no free ports"; return 1; }
    _KAFKA_PORT=${KAFKA_PORT:-$(echo "$ports" | sed -n 1p)}
    _KAFKA_CPORT=${KAFKA_CONTROLLER_PORT:-$(echo "$ports" | sed -n 2p)}
  fi
  local p
  for p in "$_KAFKA_PORT" "$_KAFKA_CPORT"; do
    if _kafka_port_open "$p"; then _kafka_log "port $p is already in use"; return 1; fi
  done

  _KAFKA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-kafka.XXXXXX")
  _kafka_write_config

  t0=$(_kafka_ms)
  cid=$(kafka_tool kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1) || cid=
  if [ -z "$cid" ]; then _kafka_log "StorageTool random-uuid failed"; kafka_stop; return 1; fi
  if ! kafka_tool kafka.tools.StorageTool format -t "$cid" -c "$_KAFKA_DIR/server.properties" \
         >"$_KAFKA_DIR/logs/format.log" 2>&1; then
    _kafka_log "formatting the storage failed:"; awk '{print "  | " $0}' "$_KAFKA_DIR/logs/format.log" >&2
    kafka_stop; return 1
  fi
  _kafka_log "Kafka $_KAFKA_VER storage formatted in $_KAFKA_DIR (cluster $cid, $(_kafka_since "$t0"))"

  _kafka_watchdog
  # On failure, do not leave a half-started broker behind (its log is kept).
  _kafka_launch || { kafka_stop; return 1; }
  export SLUICE_TEST_KAFKA="127.0.0.1:$_KAFKA_PORT"
  export SLUICE_TEST_KAFKA_LOG="$_KAFKA_DIR/logs/server.log"
  _kafka_log "started Kafka $_KAFKA_VER: SLUICE_TEST_KAFKA=$SLUICE_TEST_KAFKA (total $(_kafka_since "$t_all"))"
}

# kafka_down [--kill]: stop the broker process (TERM, then KILL after 30 s;
# --kill: KILL at once, like a crash) but keep its data and ports for kafka_up.
kafka_down() {
  local sig=TERM
  if [ "${1:-}" = --kill ]; then sig=KILL; fi
  [ -n "$_KAFKA_PID" ] || return 0
  if _kafka_alive; then
    local t0 i=0; t0=$(_kafka_ms)
    kill -"$sig" "$_KAFKA_PID" 2>/dev/null || true
    while _kafka_alive && [ "$i" -lt 300 ]; do sleep 0.1; i=$(( i + 1 )); done
    if _kafka_alive; then
      _kafka_log "broker did not stop after 30s; killing it"
      kill -KILL "$_KAFKA_PID" 2>/dev/null || true
      i=0; while _kafka_alive && [ "$i" -lt 50 ]; do sleep 0.1; i=$(( i + 1 )); done
    fi
    _kafka_log "broker pid $_KAFKA_PID stopped (SIG$sig, $(_kafka_since "$t0"))"
  fi
  _KAFKA_PID=
}

# kafka_up: start the broker again on the same ports and data.
kafka_up() {
  if [ -z "$_KAFKA_DIR" ] || [ ! -f "$_KAFKA_DIR/server.properties" ]; then
    _kafka_log "kafka_up: no broker to bring back (call kafka_start)"; return 1
  fi
  if _kafka_alive; then return 0; fi
  _kafka_launch
}

# kafka_restart [--kill] [DOWN_SECONDS]: stop the broker (gracefully, or KILL
# with --kill), stay down DOWN_SECONDS (default 0), start it again; same port,
# same data.
kafka_restart() {
  local kill_flag='' down=0
  while [ $# -gt 0 ]; do
    case $1 in
      --kill) kill_flag=--kill ;;
      *) down=$1 ;;
    esac
    shift
  done
  kafka_down $kill_flag
  if [ "$down" != 0 ]; then _kafka_log "staying down ${down}s"; sleep "$down"; fi
  kafka_up
}

# kafka_stop: stop the broker and delete its data. Idempotent, never fails
# (errexit is off inside, so the cleanup runs to the end): fit for
# `trap kafka_stop EXIT`, and the script's exit status is kept.
kafka_stop() {
  _kafka_stop || true
  return 0
}
_kafka_stop() {
  kafka_down
  if [ -n "$_KAFKA_WD_PID" ]; then
    kill "$_KAFKA_WD_PID" 2>/dev/null || true
    wait "$_KAFKA_WD_PID" 2>/dev/null || true
    _KAFKA_WD_PID=
  fi
  if [ -n "$_KAFKA_DIR" ] && [ -d "$_KAFKA_DIR" ]; then
    local keep=${KAFKA_KEEP_LOG:-}
    if [ -z "$keep" ] && [ -d "$_KAFKA_ROOT/.ci/out" ]; then keep="$_KAFKA_ROOT/.ci/out/kafka-server.log"; fi
    if [ -n "$keep" ] && [ -f "$_KAFKA_DIR/logs/server.log" ] &&
       cp "$_KAFKA_DIR/logs/server.log" "$keep" 2>/dev/null; then
      _kafka_log "broker log kept in $keep"
    fi
    rm -rf "$_KAFKA_DIR" || true
    _kafka_log "data dir $_KAFKA_DIR removed"
  fi
  _KAFKA_DIR='' _KAFKA_PORT='' _KAFKA_CPORT=''
  unset SLUICE_TEST_KAFKA SLUICE_TEST_KAFKA_LOG SLUICE_TEST_KAFKA_PID
}
