package expr_test

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/engine/expr"
)

func ExampleCompile() {
	keep, err := expr.Compile(`event != "heartbeat" && latency_ms < 5000`, expr.AsBool())
	if err != nil {
		panic(err)
	}
	for _, rec := range []map[string]any{
		{"event": "kill", "latency_ms": int64(40)},
		{"event": "heartbeat", "latency_ms": int64(3)},
		{"event": "kill", "latency_ms": int64(9000)},
	} {
		ok, err := keep.EvalBool(rec)
		fmt.Println(ok, err)
	}
	// Output:
	// true <nil>
	// false <nil>
	// false <nil>
}

func ExampleProgram_Eval() {
	day, err := expr.Compile(`date(ts).Format("2006-01-02")`)
	if err != nil {
		panic(err)
	}
	v, err := day.Eval(map[string]any{"ts": "2024-05-01T10:11:12.345Z"})
	fmt.Println(v, err)
	// Output: 2024-05-01 <nil>
}

func ExampleCompileError() {
	_, err := expr.Compile(`event == "kill" && uper(region) == "EU"`)
	var ce *expr.CompileError
	if errors.As(err, &ce) {
		fmt.Println(ce.Line, ce.Column)
		fmt.Println(ce)
	}
	// Output:
	// 1 20
	// unknown function "uper" (did you mean "upper"?) (1:20)
}

func ExampleTemplate_Render() {
	path, err := expr.CompileTemplate(`events/dt={{ day }}/hour={{ format_time(ts, "15") }}/`)
	if err != nil {
		panic(err)
	}
	s, err := path.Render(map[string]any{"day": "2024-05-01", "ts": int64(1714558272345)})
	fmt.Println(s, err)
	_, err = path.Render(map[string]any{"ts": int64(1714558272345)})
	fmt.Println(err)
	// Output:
	// events/dt=2024-05-01/hour=10/ <nil>
	// render "events/dt={{ day }}/hour={{ format_time(ts, \"15\") }}/": {{ day }} is nil
}
