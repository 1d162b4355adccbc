# shellcheck shell=bash
# .ci/lib/s3.sh — a real S3-compatible server for the integration tests:
# Versity S3 Gateway (versitygw) with its posix backend in a temp dir, on
# 127.0.0.1. No Docker: versitygw is built from the Go module proxy once and
# cached in .ci/cache/bin (the Go build cache makes a rebuild quick).
#
#   source .ci/lib/s3.sh
#   trap s3_stop EXIT
#   s3_start                  # exports SLUICE_TEST_S3 (endpoint), SLUICE_TEST_S3_URL, ...
#   s3_bucket_create other    # optional: another bucket
#   py_parquet_tools          # optional: pyarrow (+ duckdb) for cross-checking Parquet files
#   s3_stop                   # idempotent; removes the temp dir
#
# Exports after s3_start:
#   SLUICE_TEST_S3             http://127.0.0.1:PORT (the endpoint)
#   SLUICE_TEST_S3_BUCKET      sluice-test (created, empty)
#   SLUICE_TEST_S3_URL         s3://sluice-test?endpoint=http://127.0.0.1:PORT&use_path_style=true&region=us-east-1
#   SLUICE_TEST_S3_ACCESS_KEY, SLUICE_TEST_S3_SECRET_KEY
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION=us-east-1 (for gocloud's s3blob)
#   SLUICE_TEST_S3_ROOT        the posix backend root: ROOT/BUCKET/KEY is each object's file
#   SLUICE_TEST_S3_LOG, SLUICE_TEST_S3_PID
# After py_parquet_tools: SLUICE_TEST_PYTHON (a python3 that imports pyarrow).
#
# Settings (environment, all optional):
#   S3_VERSITYGW_VERSION  module version to build (default: v1.8.0)
#   S3_PORT               port (default: a free one)
#   S3_BUCKET             the bucket s3_start creates (default: sluice-test)
#   S3_ACCESS_KEY         root access key (default: sluice-test-access)
#   S3_SECRET_KEY         root secret key (default: sluice-test-secret-key)
#   S3_START_TIMEOUT      seconds to wait for the server (default: 30)
#   S3_REQUEST_LOG        1: log every request to the server log (default: 0)
#   S3_SIDECAR            1: keep object metadata in a sidecar dir, not in user
#                         xattrs (default: only when the temp dir has no xattrs)
#   S3_KEEP_LOG           copy the server log here on s3_stop
#                         (default: .ci/out/s3-server.log when .ci/out exists)
#   S3_WATCHDOG           1 (default): kill the server if this shell dies
#                         without running s3_stop (e.g. SIGKILL)
#
# Safe under `set -euo pipefail`. Call the functions directly, not in $(...):
# they keep the server's state in shell variables. Signed requests from the
# shell (readiness, bucket creation) use python3's standard library; without
# python3 they fall back to `go run .ci/s3/s3check.go`.

_S3_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_S3_BIN=${_S3_BIN:-}
_S3_DIR=${_S3_DIR:-}
_S3_PID=${_S3_PID:-}
_S3_WD_PID=${_S3_WD_PID:-}
_S3_PORT=${_S3_PORT:-}

_s3_log() { printf 's3: %s\n' "$*" >&2; }
_s3_ms() { date +%s%3N; }
_s3_since() { # START_MS -> "1.23s"
  local d=$(( $(_s3_ms) - $1 ))
  printf '%d.%02ds' $(( d / 1000 )) $(( d % 1000 / 10 ))
}
_s3_has_python() { command -v python3 >/dev/null 2>&1; }
_s3_access() { echo "${S3_ACCESS_KEY:-sluice-test-access}"; }
_s3_secret() { echo "${S3_SECRET_KEY:-sluice-test-secret-key}"; }

# _s3_install: build versitygw into .ci/cache/bin unless the binary there is
# already the wanted version (read from its embedded build info); sets _S3_BIN.
_s3_install() {
  local ver=${S3_VERSITYGW_VERSION:-v1.8.0}
  local bindir="$_S3_ROOT/.ci/cache/bin" bin have t0 tmp log
  bin="$bindir/versitygw"
  if [ -x "$bin" ]; then
    have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/versity/versitygw" {print $3}') || have=
    if [ "$have" = "$ver" ]; then _S3_BIN=$bin; return 0; fi
    _s3_log "cached versitygw is ${have:-of unknown version}, want $ver"
  fi
  if ! command -v go >/dev/null 2>&1; then _s3_log "go not found: cannot build versitygw"; return 1; fi
  mkdir -p "$bindir"
  tmp=$(mktemp -d "$bindir/.install.XXXXXX")
  log="$tmp/install.log"
  t0=$(_s3_ms)
  _s3_log "building versitygw $ver (go install) ..."
  # GOFLAGS and GOWORK of the project must not leak into a module@version install.
  if (cd "$tmp" && GOBIN="$tmp" GOFLAGS='' GOWORK=off \
        go install "github.com/versity/versitygw/cmd/versitygw@$ver") >"$log" 2>&1 \
     && [ -x "$tmp/versitygw" ]; then
    mv -f "$tmp/versitygw" "$bin"
    rm -rf "$tmp"
    _S3_BIN=$bin
    _s3_log "built versitygw $ver: $(du -h "$bin" | cut -f1) ($(_s3_since "$t0"))"
    return 0
  fi
  _s3_log "go install of versitygw $ver failed ($(_s3_since "$t0")):"
  tail -n 20 "$log" | awk '{print "  | " $0}' >&2
  rm -rf "$tmp"
  return 1
}

_s3_port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

_s3_free_port() {
  if _s3_has_python && python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null; then
    return 0
  fi
  local p
  while :; do
    p=$(( 20000 + RANDOM % 10000 ))
    if ! _s3_port_open "$p"; then echo "$p"; return 0; fi
  done
}

_s3_alive() { # the server process exists and is not a zombie
  [ -n "$_S3_PID" ] && [ -r "/proc/$_S3_PID/stat" ] || return 1
  local st
  st=$(sed 's/.*) //' "/proc/$_S3_PID/stat" 2>/dev/null | cut -c1) || return 1
  [ "$st" != "Z" ] && [ -n "$st" ]
}

_s3_tail_log() {
  if [ -n "$_S3_DIR" ] && [ -s "$_S3_DIR/versitygw.log" ]; then
    _s3_log "--- last lines of $_S3_DIR/versitygw.log"
    tail -n 40 "$_S3_DIR/versitygw.log" | awk '{print "  | " $0}' >&2
  fi
}

# _s3_request METHOD PATH: a SigV4-signed request with an empty body to the
# server, with python3's standard library. Prints "STATUS" then the body;
# returns 0 on a 2xx answer, 1 otherwise (2: no answer at all).
_s3_request() {
  _S3_EP="http://127.0.0.1:$_S3_PORT" _S3_AK=$(_s3_access) _S3_SK=$(_s3_secret) \
    python3 - "$1" "$2" <<'PY'
import datetime, hashlib, hmac, os, sys, urllib.error, urllib.request
method, path = sys.argv[1], sys.argv[2]
ep, ak, sk, region = os.environ["_S3_EP"], os.environ["_S3_AK"], os.environ["_S3_SK"], "us-east-1"
amzdate = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
day, empty = amzdate[:8], hashlib.sha256(b"").hexdigest()
host = ep.split("://", 1)[1]
signed = "host;x-amz-content-sha256;x-amz-date"
creq = "\n".join([method, path, "", f"host:{host}\nx-amz-content-sha256:{empty}\nx-amz-date:{amzdate}\n", signed, empty])
scope = f"{day}/{region}/s3/aws4_request"
sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(creq.encode()).hexdigest()])
k = ("AWS4" + sk).encode()
for part in (day, region, "s3", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
req = urllib.request.Request(ep + path, method=method, data=b"" if method in ("PUT", "POST") else None, headers={
    "x-amz-date": amzdate, "x-amz-content-sha256": empty,
    "Authorization": f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, SignedHeaders={signed}, Signature={sig}"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
try:
    with opener.open(req, timeout=10) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except Exception as e:
    print(f"000\n{e}"); sys.exit(2)
print(status); print(body.decode(errors="replace"))
sys.exit(0 if 200 <= status < 300 else 1)
PY
}

# s3_bucket_create NAME: create a bucket (fine if this account has it already).
s3_bucket_create() {
  if [ $# -ne 1 ]; then _s3_log "usage: s3_bucket_create NAME"; return 2; fi
  if ! _s3_alive; then _s3_log "s3_bucket_create: no server (call s3_start)"; return 1; fi
  local name=$1 out t0; t0=$(_s3_ms)
  if _s3_has_python; then
    if ! out=$(_s3_request PUT "/$name"); then
      case $out in
        409*BucketAlreadyOwnedByYou*) ;;
        *) _s3_log "creating bucket $name failed:"; printf '%s\n' "$out" | head -n 5 | awk '{print "  | " $0}' >&2; return 1 ;;
      esac
    fi
  else
    (cd "$_S3_ROOT" && go run .ci/s3/s3check.go mkbucket "$name") || { _s3_log "creating bucket $name failed"; return 1; }
  fi
  _s3_log "bucket $name ready ($(_s3_since "$t0"))"
}

# _s3_watchdog: if the shell that started the server dies without calling
# s3_stop, kill the server and remove its directory.
_s3_watchdog() {
  [ "${S3_WATCHDOG:-1}" = 1 ] || return 0
  local owner=$$ dir=$_S3_DIR
  (
    set +e
    trap - EXIT INT TERM
    while kill -0 "$owner" 2>/dev/null && [ -d "$dir" ]; do sleep 2; done
    if [ -d "$dir" ]; then
      p=$(cat "$dir/versitygw.pid" 2>/dev/null)
      if [ -n "$p" ] && grep -qa -- "$dir/root" "/proc/$p/cmdline" 2>/dev/null; then
        kill -TERM "$p" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$p" 2>/dev/null
      fi
      rm -rf "$dir"
    fi
  ) </dev/null >/dev/null 2>&1 &
  _S3_WD_PID=$!
}

# _s3_launch PORT: start versitygw on PORT and wait until it answers a signed
# ListBuckets. Returns 3 if the port was taken meanwhile (worth a retry).
_s3_launch() {
  local port=$1 t0 deadline timeout=${S3_START_TIMEOUT:-30} out=
  local -a opts=(--port "127.0.0.1:$port" --region us-east-1 --health /health --keep-alive)
  local -a posix=()
  if [ "${S3_REQUEST_LOG:-0}" != 1 ]; then opts+=(--quiet); fi
  # The posix backend keeps object metadata in user xattrs; where the temp dir's
  # filesystem has none (older tmpfs), a sidecar directory holds it instead.
  if [ "${S3_SIDECAR:-0}" = 1 ] || { _s3_has_python &&
       ! python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.sluice", b"1")' "$_S3_DIR/root" 2>/dev/null; }; then
    mkdir -p "$_S3_DIR/meta"; posix=(--sidecar "$_S3_DIR/meta")
    _s3_log "object metadata in a sidecar dir (S3_SIDECAR=1, or no user xattrs in $_S3_DIR)"
  fi
  _S3_PORT=$port
  t0=$(_s3_ms)
  # From a subshell, so that the server is not a job of this shell.
  _S3_PID=$(
    ROOT_ACCESS_KEY_ID=$(_s3_access) ROOT_SECRET_ACCESS_KEY=$(_s3_secret) \
      "$_S3_BIN" "${opts[@]}" posix ${posix[@]+"${posix[@]}"} "$_S3_DIR/root" \
      </dev/null >"$_S3_DIR/versitygw.log" 2>&1 &
    echo $!
  )
  echo "$_S3_PID" >"$_S3_DIR/versitygw.pid"
  deadline=$(( $(date +%s) + timeout ))
  while :; do
    if ! _s3_alive; then
      if grep -q 'address already in use' "$_S3_DIR/versitygw.log" 2>/dev/null; then return 3; fi
      _s3_log "versitygw exited during startup"; _s3_tail_log; return 1
    fi
    if _s3_has_python; then
      if out=$(_s3_request GET / 2>&1); then break; fi
    elif _s3_port_open "$port"; then
      break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      _s3_log "versitygw does not answer after ${timeout}s; last attempt: $(printf '%s' "$out" | head -c 300)"
      _s3_tail_log; return 1
    fi
    sleep 0.1
  done
  _s3_log "versitygw pid $_S3_PID serving on 127.0.0.1:$port ($(_s3_since "$t0"))"
}

# s3_start: build (or reuse) versitygw, start it on a temp dir, create the test
# bucket and export the SLUICE_TEST_S3* variables.
s3_start() {
  if _s3_alive; then _s3_log "already running on 127.0.0.1:$_S3_PORT"; return 0; fi
  local t_all tries=0 rc port bucket=${S3_BUCKET:-sluice-test}
  t_all=$(_s3_ms)
  _s3_install || { _s3_log "could not get versitygw"; return 1; }

  _S3_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-s3.XXXXXX")
  mkdir -p "$_S3_DIR/root"
  _s3_watchdog
  while :; do
    port=${S3_PORT:-$(_s3_free_port)}
    if _s3_port_open "$port"; then _s3_log "port $port is already in use"; s3_stop; return 1; fi
    rc=0; _s3_launch "$port" || rc=$?
    if [ "$rc" = 0 ]; then break; fi
    tries=$(( tries + 1 ))
    if [ "$rc" = 3 ] && [ -z "${S3_PORT:-}" ] && [ "$tries" -lt 3 ]; then
      _s3_log "port $port was taken meanwhile; trying another"; continue
    fi
    if [ "$rc" = 3 ]; then _s3_log "port $port is already in use"; _s3_tail_log; fi
    s3_stop; return 1
  done
  s3_bucket_create "$bucket" || { s3_stop; return 1; }

  local ep="http://127.0.0.1:$_S3_PORT"
  export SLUICE_TEST_S3=$ep
  export SLUICE_TEST_S3_BUCKET=$bucket
  export SLUICE_TEST_S3_URL="s3://$bucket?endpoint=$ep&use_path_style=true&region=us-east-1"
  export SLUICE_TEST_S3_ACCESS_KEY; SLUICE_TEST_S3_ACCESS_KEY=$(_s3_access)
  export SLUICE_TEST_S3_SECRET_KEY; SLUICE_TEST_S3_SECRET_KEY=$(_s3_secret)
  export SLUICE_TEST_S3_ROOT="$_S3_DIR/root"
  export SLUICE_TEST_S3_LOG="$_S3_DIR/versitygw.log"
  export SLUICE_TEST_S3_PID=$_S3_PID
  export AWS_ACCESS_KEY_ID=$SLUICE_TEST_S3_ACCESS_KEY
  export AWS_SECRET_ACCESS_KEY=$SLUICE_TEST_S3_SECRET_KEY
  export AWS_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true
  _s3_log "started versitygw: SLUICE_TEST_S3=$ep, bucket $bucket (total $(_s3_since "$t_all"))"
}

# s3_stop: stop the server and delete its directory. Idempotent, never fails
# (errexit is off inside, so the cleanup runs to the end): fit for
# `trap s3_stop EXIT`, and the script's exit status is kept.
s3_stop() {
  _s3_stop || true
  return 0
}
_s3_stop() {
  if _s3_alive; then
    local t0 i=0; t0=$(_s3_ms)
    kill -TERM "$_S3_PID" 2>/dev/null || true
    while _s3_alive && [ "$i" -lt 100 ]; do sleep 0.1; i=$(( i + 1 )); done
    if _s3_alive; then
      _s3_log "versitygw did not stop after 10s; killing it"
      kill -KILL "$_S3_PID" 2>/dev/null || true
      i=0; while _s3_alive && [ "$i" -lt 50 ]; do sleep 0.1; i=$(( i + 1 )); done
    fi
    _s3_log "versitygw pid $_S3_PID stopped ($(_s3_since "$t0"))"
  fi
  _S3_PID=
  if [ -n "$_S3_WD_PID" ]; then
    kill "$_S3_WD_PID" 2>/dev/null || true
    wait "$_S3_WD_PID" 2>/dev/null || true
    _S3_WD_PID=
  fi
  if [ -n "$_S3_DIR" ] && [ -d "$_S3_DIR" ]; then
    local keep=${S3_KEEP_LOG:-}
    if [ -z "$keep" ] && [ -d "$_S3_ROOT/.ci/out" ]; then keep="$_S3_ROOT/.ci/out/s3-server.log"; fi
    if [ -n "$keep" ] && [ -s "$_S3_DIR/versitygw.log" ] && cp "$_S3_DIR/versitygw.log" "$keep" 2>/dev/null; then
      _s3_log "server log kept in $keep"
    fi
    rm -rf "$_S3_DIR" || true
    _s3_log "temp dir $_S3_DIR removed"
  fi
  _S3_DIR='' _S3_PORT=''
  # Unset the AWS_* variables only if they are still the ones s3_start set.
  if [ "${AWS_ACCESS_KEY_ID:-}" = "${SLUICE_TEST_S3_ACCESS_KEY:-}" ] && [ -n "${AWS_ACCESS_KEY_ID:-}" ]; then
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_EC2_METADATA_DISABLED
  fi
  unset SLUICE_TEST_S3 SLUICE_TEST_S3_BUCKET SLUICE_TEST_S3_URL SLUICE_TEST_S3_ACCESS_KEY \
    SLUICE_TEST_S3_SECRET_KEY SLUICE_TEST_S3_ROOT SLUICE_TEST_S3_LOG SLUICE_TEST_S3_PID
}

# py_parquet_tools: make pyarrow (and, best effort, duckdb) importable for
# tests that read Parquet files with another reader; exports
# SLUICE_TEST_PYTHON. Installs with pip from PyPI when missing (into the
# interpreter's site-packages; if that is refused, into .ci/cache/python on
# PYTHONPATH). Returns 1 if pyarrow cannot be had: `py_parquet_tools || true`
# to make it optional. PY_PARQUET_DUCKDB=0 skips duckdb.
py_parquet_tools() {
  local py=${SLUICE_TEST_PYTHON:-python3} t0 target="$_S3_ROOT/.ci/cache/python" log
  if ! command -v "$py" >/dev/null 2>&1; then _s3_log "py_parquet_tools: $py not found"; return 1; fi
  if [ -d "$target" ]; then export PYTHONPATH="$target${PYTHONPATH:+:$PYTHONPATH}"; fi
  local -a want=()
  "$py" -c 'import pyarrow' 2>/dev/null || want=(pyarrow)
  if [ "${PY_PARQUET_DUCKDB:-1}" = 1 ] && ! "$py" -c 'import duckdb' 2>/dev/null; then want+=(duckdb); fi
  if [ ${#want[@]} -gt 0 ]; then
    t0=$(_s3_ms); log=$(mktemp "${TMPDIR:-/tmp}/sluice-pip.XXXXXX")
    _s3_log "pip install ${want[*]} ..."
    local -a pip=("$py" -m pip install --quiet --disable-pip-version-check --no-input --progress-bar off)
    # A PIP_FIND_LINKS dir that does not exist only makes pip warn: drop it.
    if [ -n "${PIP_FIND_LINKS:-}" ] && [ ! -e "$PIP_FIND_LINKS" ]; then pip=(env -u PIP_FIND_LINKS "${pip[@]}"); fi
    if ! timeout 600 "${pip[@]}" "${want[@]}" >"$log" 2>&1; then
      if grep -q 'externally-managed-environment' "$log"; then
        _s3_log "site-packages is externally managed: installing into $target"
        mkdir -p "$target"
        timeout 600 "${pip[@]}" --target "$target" "${want[@]}" >"$log" 2>&1 || true
        export PYTHONPATH="$target${PYTHONPATH:+:$PYTHONPATH}"
      elif [ ${#want[@]} -gt 1 ]; then
        # Maybe only duckdb failed: pyarrow alone.
        timeout 600 "${pip[@]}" pyarrow >>"$log" 2>&1 || true
      fi
    fi
    if ! "$py" -c 'import pyarrow' 2>/dev/null; then
      _s3_log "pyarrow could not be installed ($(_s3_since "$t0")); pip said:"
      tail -n 15 "$log" | awk '{print "  | " $0}' >&2
      rm -f "$log"; return 1
    fi
    rm -f "$log"
    _s3_log "pip install done ($(_s3_since "$t0"))"
  fi
  export SLUICE_TEST_PYTHON=$py
  _s3_log "SLUICE_TEST_PYTHON=$py: $("$py" -c '
import pyarrow
try:
    import duckdb; d = "duckdb " + duckdb.__version__
except Exception:
    d = "no duckdb"
print("pyarrow", pyarrow.__version__ + ",", d)')"
}
