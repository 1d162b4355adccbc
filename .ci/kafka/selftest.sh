#!/usr/bin/env bash
# Self-test of .ci/lib/kafka.sh: start a broker, create a 4-partition topic,
# produce keyed messages, consume them all back, restart the broker (data
# kept), consume again, stop. Usage: .ci/kafka/selftest.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/kafka.sh
trap kafka_stop EXIT

t0=$(date +%s%3N)
kafka_start
echo "SLUICE_TEST_KAFKA=$SLUICE_TEST_KAFKA"
echo "broker RSS after start: $(awk '/VmRSS/{print $2/1024 " MiB"}' "/proc/$SLUICE_TEST_KAFKA_PID/status")"

topic=selftest
kafka_topics_create "$topic" 4
kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$SLUICE_TEST_KAFKA" --describe --topic "$topic"

n=20
seq 1 $n | sed 's/.*/key-&:value-&/' |
  kafka_tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$SLUICE_TEST_KAFKA" \
    --topic "$topic" --reader-property parse.key=true --reader-property key.separator=: \
    --command-property acks=all
echo "produced $n messages"

consume() {
  kafka_tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$SLUICE_TEST_KAFKA" \
    --topic "$topic" --from-beginning --max-messages "$n" --timeout-ms 30000 \
    --formatter-property print.key=true --formatter-property print.partition=true "$@"
}
out=$(consume --group selftest-group)
got=$(printf '%s\n' "$out" | grep -c 'value-' || true)
parts=$(printf '%s\n' "$out" | awk '{print $1}' | sort -u | tr '\n' ' ')
echo "consumed $got messages via group selftest-group; partitions seen: $parts"
[ "$got" -eq "$n" ] || { echo "FAIL: expected $n messages"; printf '%s\n' "$out"; exit 1; }

kafka_restart
out=$(consume)
got=$(printf '%s\n' "$out" | grep -c 'value-' || true)
echo "after restart: consumed $got messages (data kept)"
[ "$got" -eq "$n" ] || { echo "FAIL after restart"; exit 1; }

kafka_restart --kill 2
out=$(consume)
got=$(printf '%s\n' "$out" | grep -c 'value-' || true)
echo "after kill -9 + 2s outage: consumed $got messages"
[ "$got" -eq "$n" ] || { echo "FAIL after kill"; exit 1; }

echo "broker RSS at end: $(awk '/VmRSS/{print $2/1024 " MiB"}' "/proc/$SLUICE_TEST_KAFKA_PID/status")"
kafka_stop
kafka_stop   # idempotent
echo "selftest OK in $(( ($(date +%s%3N) - t0) / 1000 ))s"
