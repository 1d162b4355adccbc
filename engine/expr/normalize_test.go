package expr

import (
	"reflect"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	ts := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"int", 3, int64(3)},
		{"int32", int32(-3), int64(-3)},
		{"uint8", uint8(3), int64(3)},
		{"huge uint64 stays", uint64(1 << 63), uint64(1 << 63)},
		{"float32", float32(1.5), 1.5},
		{"string", "a", "a"},
		{"time", ts, ts},
		{"strings", []string{"a", "b"}, []any{"a", "b"}},
		{"ints", []int{1, 2}, []any{int64(1), int64(2)}},
		{"nested", []any{1, map[string]any{"a": []any{2}}}, []any{int64(1), map[string]any{"a": []any{int64(2)}}}},
		{"typed map", map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{"map with int keys stays", map[int]string{1: "a"}, map[int]string{1: "a"}},
		{"bytes stay", []byte("ab"), []byte("ab")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := normalize(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("normalize(%#v) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeDoesNotCopyOrModifyRecordValues(t *testing.T) {
	arr := []any{int64(1), "a", map[string]any{"b": 2.5}}
	if got := normalize(arr).([]any); &got[0] != &arr[0] {
		t.Error("a slice already in the record model was copied")
	}
	obj := map[string]any{"a": []any{int64(1)}}
	got := normalize(obj).(map[string]any)
	got["x"] = 1
	if _, ok := obj["x"]; !ok {
		t.Error("a map already in the record model was copied")
	}

	mixed := []any{int64(1), 2}
	out := normalize(mixed).([]any)
	if mixed[1] != 2 {
		t.Error("normalize modified its argument")
	}
	if out[1] != int64(2) || out[0] != int64(1) {
		t.Errorf("normalize(%v) = %v", mixed, out)
	}
}
