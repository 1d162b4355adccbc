#!/usr/bin/env bash
# Self-test of .ci/lib/s3.sh: start versitygw, round-trip objects through
# gocloud's s3blob (small, range, conditional, copy, list, 20 MiB multipart,
# cancelled upload, delete), write and read a Parquet file with pyarrow (and
# duckdb), stop, and check that no process or temp dir is left; then the
# watchdog: a shell that dies by SIGKILL must not leave a server behind.
#   bash .ci/s3/selftest.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/s3.sh
tmp=
trap 'rm -rf "${tmp:-}"; s3_stop' EXIT

ms() { date +%s%3N; }
secs() { local d=$(( $(ms) - $1 )); printf '%d.%02ds' $(( d / 1000 )) $(( d % 1000 / 10 )); }
rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %d MiB  ", $1, $2/1024}' "/proc/$1/status" 2>/dev/null; }
step() { printf '\n==> %s\n' "$*"; }
t_all=$(ms)

step "s3_start"
t=$(ms); s3_start; t_start=$(secs "$t")
s3_start   # a second call is a no-op
pid=$SLUICE_TEST_S3_PID dir=$(dirname "$SLUICE_TEST_S3_ROOT")
echo "SLUICE_TEST_S3=$SLUICE_TEST_S3"
echo "SLUICE_TEST_S3_URL=$SLUICE_TEST_S3_URL"
echo "versitygw: $(rss "$pid")"

step "gocloud s3blob round trips (go run .ci/s3/s3check.go selftest)"
t=$(ms); go run .ci/s3/s3check.go selftest; t_go=$(secs "$t")
echo "versitygw after: $(rss "$pid")"

step "s3_bucket_create (new, then again)"
s3_bucket_create extra-bucket
s3_bucket_create extra-bucket
test -d "$SLUICE_TEST_S3_ROOT/extra-bucket"

step "py_parquet_tools"
t=$(ms); py_parquet_tools; t_py=$(secs "$t")
t=$(ms)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-parquet.XXXXXX")
"$SLUICE_TEST_PYTHON" - "$tmp/t.parquet" <<'PY'
import os, sys, pyarrow as pa, pyarrow.parquet as pq
path = sys.argv[1]
t = pa.table({"id": pa.array(range(1000), pa.int64()),
              "name": [f"n{i}" for i in range(1000)],
              "ok": [i % 2 == 0 for i in range(1000)]})
pq.write_table(t, path, compression="zstd", row_group_size=256)
back = pq.read_table(path)
assert back.equals(t), "pyarrow read back differs"
md = pq.ParquetFile(path).metadata
print(f"  pyarrow: {md.num_rows} rows, {md.num_row_groups} row groups, {os.path.getsize(path)} bytes, schema {back.schema.names}")
try:
    import duckdb
except ImportError:
    print("  duckdb: not installed")
else:
    n, s = duckdb.sql(f"select count(*), sum(id) from read_parquet('{path}')").fetchall()[0]
    assert (n, s) == (1000, 499500), (n, s)
    print(f"  duckdb {duckdb.__version__}: count {n}, sum {s}")
# The same file through the S3 server, with pyarrow's own S3 client.
from pyarrow import fs
ep = os.environ["SLUICE_TEST_S3"]
s3 = fs.S3FileSystem(access_key=os.environ["SLUICE_TEST_S3_ACCESS_KEY"], secret_key=os.environ["SLUICE_TEST_S3_SECRET_KEY"],
                     region="us-east-1", scheme="http", endpoint_override=ep.split("://", 1)[1])
key = os.environ["SLUICE_TEST_S3_BUCKET"] + "/pyarrow/t.parquet"
pq.write_table(t, key, filesystem=s3)
assert pq.read_table(key, filesystem=s3).equals(t), "pyarrow via S3 differs"
s3.delete_file(key)
print("  pyarrow S3FileSystem: write + read back through versitygw ok")
PY
rm -rf "$tmp"
t_parquet=$(secs "$t")

step "s3_stop (twice)"
s3_stop
s3_stop
left=0
if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then echo "LEFT: versitygw pid $pid"; left=1; fi
if [ -e "$dir" ]; then echo "LEFT: $dir"; left=1; fi
if [ -n "${SLUICE_TEST_S3:-}${AWS_ACCESS_KEY_ID:-}" ]; then echo "LEFT: exported variables"; left=1; fi
[ "$left" = 0 ] && echo "no process, temp dir or variable left"

step "watchdog: the starting shell dies by SIGKILL"
info=$(mktemp "${TMPDIR:-/tmp}/sluice-s3wd.XXXXXX")
bash -c 'source .ci/lib/s3.sh; s3_start 2>/dev/null; echo "$SLUICE_TEST_S3_PID $(dirname "$SLUICE_TEST_S3_ROOT")" >"$1"; exec sleep 600' _ "$info" &
child=$!
for _ in $(seq 1 300); do [ -s "$info" ] && break; sleep 0.1; done
read -r wpid wdir <"$info"; rm -f "$info"
kill -KILL "$child"; wait "$child" 2>/dev/null || true
t=$(ms)
for _ in $(seq 1 100); do
  if ! kill -0 "$wpid" 2>/dev/null && [ ! -e "$wdir" ]; then break; fi
  sleep 0.1
done
if kill -0 "$wpid" 2>/dev/null || [ -e "$wdir" ]; then echo "LEFT after watchdog: pid $wpid / $wdir"; left=1
else echo "watchdog removed server $wpid and $wdir ($(secs "$t") after the kill)"; fi

step "summary"
echo "s3_start $t_start, gocloud round trips $t_go (incl. go run build), py_parquet_tools $t_py, parquet $t_parquet, total $(secs "$t_all")"
exit "$left"
