// Command benchmarks is Sluice's benchmark harness: it runs the end-to-end
// scenarios, one directory each with a pipeline.yaml and a README saying
// what it measures, plus two reference points (a hand-written Go program
// doing scenario a, in package benchmarks/reference, and a bare sarama
// consumer), and prints one table of records/s, MB/s, CPU seconds per
// million records, ack latency p50/p99, peak RSS and allocations per record,
// with the ratios of Sluice to the references. It writes the same as JSON
// and a PNG chart to benchmarks/out (not committed), so that a run can be
// compared with an earlier one. It is not a load generator for a deployed
// pipeline, and its figures are only comparable on the same machine.
//
// Each measurement runs in a child process of its own (the harness run
// again with a hidden -child flag) that does the run and nothing else: the
// input files, the Kafka topic and the tables are prepared beforehand by the
// harness. The child reports the run's records, bytes, wall time,
// allocations and the pipeline's ack latency; the harness takes the child's
// CPU time and peak RSS from the operating system.
//
//	go run ./benchmarks                          # every scenario; those without servers are skipped
//	go run ./benchmarks -scenarios a,b,f -records 200000 -runs 1
//	go run ./benchmarks -compare benchmarks/out/latest.json
//	.ci/bench                                    # starts Kafka, MariaDB and S3 first, then the same
//
// The scenarios also run as testing.B benchmarks, in-process:
//
//	go test -run '^$' -bench . -count 6 ./benchmarks/ | tee new.txt
//	go test -tags integration -run '^$' -bench Broker ./benchmarks/   # with SLUICE_TEST_* servers
//	benchstat old.txt new.txt
package main
