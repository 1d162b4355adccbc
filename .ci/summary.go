//go:build ignore

// Command summary reads `go test -json` output, prints the output of every
// failed test and package, and ends with one line: N passed, N failed,
// N skipped. It exits 1 when anything failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	output := map[string]*strings.Builder{}
	var passed, failed, skipped int
	var failures, skips []string
	pkgFailed := map[string]bool{}
	pkgTime := map[string]float64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			b := output[key]
			if b == nil {
				b = &strings.Builder{}
				output[key] = b
			}
			b.WriteString(e.Output)
		case "pass":
			if e.Test != "" {
				passed++
			} else {
				pkgTime[e.Package] = e.Elapsed
			}
		case "fail":
			if e.Test != "" {
				failed++
				failures = append(failures, key)
			} else {
				pkgFailed[e.Package] = true
				pkgTime[e.Package] = e.Elapsed
			}
		case "skip":
			if e.Test != "" {
				skipped++
				skips = append(skips, key)
			}
		}
	}
	for _, k := range failures {
		fmt.Printf("--- FAIL %s\n%s\n", k, output[k])
	}
	pkgs := make([]string, 0, len(pkgTime))
	for p := range pkgTime {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		status := "ok  "
		if pkgFailed[p] {
			status = "FAIL"
			// A package can fail without a failing test (build error, panic).
			if b := output[p+" "]; b != nil {
				fmt.Printf("--- package %s\n%s\n", p, b)
			}
		}
		fmt.Printf("%s %-60s %6.1fs\n", status, p, pkgTime[p])
	}
	for _, k := range skips {
		fmt.Printf("skipped: %s\n", k)
	}
	nPkgFail := 0
	for range pkgFailed {
		nPkgFail++
	}
	if nPkgFail > 0 && failed == 0 {
		failed = nPkgFail
	}
	fmt.Printf("\n%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || nPkgFail > 0 {
		os.Exit(1)
	}
}
