package main

import (
	"os"
	"path/filepath"
	"strings"
)

// pipelineFiles turns command-line arguments into pipeline files: a
// directory stands for the .yaml files in it, and a NAME.test.yaml file
// stands for its pipeline NAME.yaml (whose tests it holds), which is listed
// once.
func pipelineFiles(args []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		if strings.HasSuffix(f, ".test.yaml") {
			f = strings.TrimSuffix(f, ".test.yaml") + ".yaml"
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, a := range args {
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			matches, _ := filepath.Glob(filepath.Join(a, "*.yaml"))
			for _, m := range matches {
				add(m)
			}
			continue
		}
		add(a)
	}
	return out
}
