package deploy

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sinks"
	"github.com/sluicehq/sluice/sources"
	"github.com/sluicehq/sluice/transforms"
)

func docs(t *testing.T, file string) []map[string]any {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	dec := yaml.NewDecoder(f)
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			break
		}
		out = append(out, d)
	}
	return out
}

func get(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

// TestManifestsAgree checks that the shipped manifests fit together: the
// ConfigMap's pipeline is valid, KEDA scales the Deployment that runs it on
// the group that pipeline uses, and the probes hit the endpoints sluice
// serves.
func TestManifestsAgree(t *testing.T) {
	dep := docs(t, "kubernetes/deployment.yaml")
	keda := docs(t, "kubernetes/keda-scaledobject.yaml")
	if len(dep) != 2 || len(keda) != 1 {
		t.Fatalf("got %d and %d documents", len(dep), len(keda))
	}
	pipeline := get(dep[0], "data", "pipeline.yaml").(string)
	reg := engine.NewRegistry()
	for _, r := range []func(*engine.Registry) error{sources.Register, transforms.Register, sinks.Register} {
		if err := r(reg); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func(string) (string, bool) { return "kafka:9092", true }
	if _, err := engine.Load("configmap pipeline.yaml", []byte(pipeline), engine.LoadOptions{Registry: reg, Lookup: lookup}); err != nil {
		t.Fatalf("the ConfigMap's pipeline is invalid: %v", err)
	}
	name := get(dep[1], "metadata", "name")
	if got := get(keda[0], "spec", "scaleTargetRef", "name"); got != name {
		t.Errorf("KEDA scales %v, the Deployment is %v", got, name)
	}
	trig := get(keda[0], "spec", "triggers").([]any)[0]
	if g := get(trig, "metadata", "consumerGroup"); !strings.Contains(pipeline, "group: "+g.(string)) {
		t.Errorf("KEDA watches group %v, which the pipeline does not use", g)
	}
	c := get(dep[1], "spec", "template", "spec", "containers").([]any)[0]
	args := strings.Join(toStrings(get(c, "args").([]any)), " ")
	if !strings.Contains(args, "run --http :9090") {
		t.Errorf("args %q", args)
	}
	if p := get(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
		t.Errorf("readiness probe %v", p)
	}
	if p := get(c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
		t.Errorf("liveness probe %v", p)
	}
}

func toStrings(v []any) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i], _ = x.(string)
	}
	return out
}
