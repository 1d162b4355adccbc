package autoscale

import (
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type step struct {
		o    Observation
		at   time.Duration
		want Decision
	}
	tests := []struct {
		name  string
		lim   Limits
		steps []step
	}{
		{"grows to min", Limits{Min: 2, Max: 4}, []step{{Observation{Workers: 0}, 0, Grow}, {Observation{Workers: 1}, 0, Grow}, {Observation{Workers: 2}, 0, Hold}}},
		{"grows when queue backs up and all busy", Limits{Min: 1, Max: 3}, []step{
			{Observation{Workers: 1, Busy: 1, Queued: 2}, 0, Grow},
			{Observation{Workers: 2, Busy: 2, Queued: 1}, 0, Grow},
			{Observation{Workers: 3, Busy: 3, Queued: 5}, 0, Hold},
		}},
		{"no growth while a worker is free", Limits{Min: 1, Max: 3}, []step{{Observation{Workers: 2, Busy: 1, Queued: 1}, 0, Hold}}},
		{"shrinks after idle period", Limits{Min: 1, Max: 4, IdleAfter: time.Second}, []step{
			{Observation{Workers: 3, Busy: 1}, 0, Hold},
			{Observation{Workers: 3, Busy: 1}, 500 * time.Millisecond, Hold},
			{Observation{Workers: 3, Busy: 1}, 1100 * time.Millisecond, Shrink},
			{Observation{Workers: 2, Busy: 1}, 1500 * time.Millisecond, Hold},
			{Observation{Workers: 2, Busy: 1}, 2200 * time.Millisecond, Shrink},
			{Observation{Workers: 1, Busy: 0}, 9 * time.Second, Hold},
		}},
		{"busy spell resets idle timer", Limits{Min: 1, Max: 4, IdleAfter: time.Second}, []step{
			{Observation{Workers: 2, Busy: 1}, 0, Hold},
			{Observation{Workers: 2, Busy: 2}, 900 * time.Millisecond, Hold},
			{Observation{Workers: 2, Busy: 1}, 1200 * time.Millisecond, Hold},
			{Observation{Workers: 2, Busy: 1}, 2300 * time.Millisecond, Shrink},
		}},
		{"scales to zero", Limits{Min: 0, Max: 2, IdleAfter: time.Second}, []step{
			{Observation{Workers: 1}, 0, Hold},
			{Observation{Workers: 1}, 2 * time.Second, Shrink},
			{Observation{Workers: 0, Queued: 1}, 3 * time.Second, Grow},
		}},
		{"above max shrinks", Limits{Min: 1, Max: 2}, []step{{Observation{Workers: 3, Busy: 3, Queued: 9}, 0, Shrink}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewController(tc.lim)
			for i, s := range tc.steps {
				if got := c.Decide(s.o, t0.Add(s.at)); got != s.want {
					t.Fatalf("step %d (%+v at %v): got %v, want %v", i, s.o, s.at, got, s.want)
				}
			}
		})
	}
}
