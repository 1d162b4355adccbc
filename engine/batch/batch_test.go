package batch

import (
	"strings"
	"testing"
	"time"
)

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want []string // substrings the error must contain; none means valid
	}{
		{name: "zero", p: Policy{}},
		{name: "all set", p: Policy{Count: 10, Bytes: 1 << 20, Period: time.Second}},
		{name: "negative count", p: Policy{Count: -1}, want: []string{"count: must not be negative, got -1"}},
		{
			name: "every field negative",
			p:    Policy{Count: -1, Bytes: -2, Period: -time.Second},
			want: []string{"count:", "bytes: must not be negative, got -2", "period: must not be negative, got -1s"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}
