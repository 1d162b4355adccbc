// Package benchmarks holds Sluice's end-to-end benchmark scenarios, one
// directory each with a pipeline.yaml and a README saying what it measures.
// In-memory scenarios run with
//
//	go test -run '^$' -bench . -count 6 ./benchmarks/ | tee new.txt
//	benchstat old.txt new.txt
//
// and report records/s, MB/s and allocations per record. Results are not
// committed.
package benchmarks
