package objectstore

import (
	"hash/maphash"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Parquet writers dictionary-encode every column by default: a column
// chunk keeps a hash table of its distinct values and writes their
// indices. For columns of few distinct values (event names, regions,
// versions) that makes files small and fast to read. For columns whose
// values are all distinct (IDs, time stamps), it costs a hash and a copy of
// every value, and gives larger files than plain encoding under zstd (28%
// larger for the benchmark events, whose IDs and times are unique); the
// writer only gives up once the dictionary reaches 1MiB. So the sink looks
// at the first row group of each object: a column whose first
// dictionarySample non-null values are nearly all distinct is written
// plainly.
const (
	dictionarySample    = 1024
	minDictionarySample = 256 // fewer values: leave the column as the writer does
	distinctPercent     = 99  // at least this share of distinct values: no dictionary
)

// distinctColumns returns the Parquet paths of the columns of rec, a row
// group with schema sc, whose sampled values are nearly all distinct.
func distinctColumns(sc *arrow.Schema, rec arrow.RecordBatch) []string {
	psc, err := pqarrow.ToParquet(sc, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	if err != nil {
		return nil
	}
	var leaves []arrow.Array
	for _, col := range rec.Columns() {
		leaves = appendLeaves(leaves, col)
	}
	if len(leaves) != psc.NumColumns() {
		return nil // not the layout expected: leave every column as it is
	}
	var paths []string
	seen := make(map[uint64]struct{}, dictionarySample)
	for i, a := range leaves {
		key := sampleKey(a)
		if key == nil {
			continue
		}
		clear(seen)
		n := 0
		for j := 0; j < a.Len() && n < dictionarySample; j++ {
			if !a.IsNull(j) {
				seen[key(j)] = struct{}{}
				n++
			}
		}
		if n >= minDictionarySample && len(seen)*100 >= n*distinctPercent {
			paths = append(paths, psc.Column(i).Path())
		}
	}
	return paths
}

var sampleSeed = maphash.MakeSeed()

// sampleKey returns a function giving a key of the value at an index of
// a, equal for equal values, and nil for arrays written without a
// dictionary anyway (booleans, nulls).
func sampleKey(a arrow.Array) func(int) uint64 {
	switch x := a.(type) {
	case *array.String:
		return func(j int) uint64 { return maphash.String(sampleSeed, x.Value(j)) }
	case *array.Binary:
		return func(j int) uint64 { return maphash.Bytes(sampleSeed, x.Value(j)) }
	case *array.Int64:
		return func(j int) uint64 { return uint64(x.Value(j)) }
	case *array.Int32:
		return func(j int) uint64 { return uint64(x.Value(j)) }
	case *array.Timestamp:
		return func(j int) uint64 { return uint64(x.Value(j)) }
	case *array.Date32:
		return func(j int) uint64 { return uint64(x.Value(j)) }
	case *array.Float64:
		return func(j int) uint64 { return math.Float64bits(x.Value(j)) }
	case *array.Float32:
		return func(j int) uint64 { return uint64(math.Float32bits(x.Value(j))) }
	}
	return nil
}

// appendLeaves appends the leaf arrays of a, depth first, in the order of
// the Parquet columns pqarrow makes of them.
func appendLeaves(leaves []arrow.Array, a arrow.Array) []arrow.Array {
	switch x := a.(type) {
	case *array.Struct:
		for i := range x.NumField() {
			leaves = appendLeaves(leaves, x.Field(i))
		}
		return leaves
	case *array.List:
		return appendLeaves(leaves, x.ListValues())
	}
	return append(leaves, a)
}
