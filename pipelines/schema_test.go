package pipelines_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/engine"
)

// compileSchema compiles the JSON Schema that `sluice schema` prints.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := json.Marshal(engine.Schema(registry(t)))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sluice.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sluice.schema.json")
	if err != nil {
		t.Fatalf("the generated schema does not compile: %v", err)
	}
	return s
}

func yamlToJSONValue(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	// Round-trip through JSON so numbers and maps take JSON's types.
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemaAcceptsShippedPipelines checks every shipped pipeline against
// the generated JSON Schema, the one editors use.
func TestSchemaAcceptsShippedPipelines(t *testing.T) {
	s := compileSchema(t)
	for _, f := range files(t) {
		t.Run(f, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(yamlToJSONValue(t, src)); err != nil {
				t.Fatalf("schema rejects %s: %v", f, err)
			}
		})
	}
}

func TestSchemaRejectsMistakes(t *testing.T) {
	s := compileSchema(t)
	tests := []struct{ name, src string }{
		{"unknown top-level key", "name: x\nsourse: {generate: {}}\nsinks: {a: {drop: {}}}\n"},
		{"unknown component", "name: x\nsource: {kafkaa: {}}\nsinks: {a: {drop: {}}}\n"},
		{"unknown component key", "name: x\nsource: {generate: {cont: 1}}\nsinks: {a: {drop: {}}}\n"},
		{"two sink components", "name: x\nsource: {generate: {}}\nsinks: {a: {drop: {}, stdout: {}}}\n"},
		{"wrong type", "name: x\nsource: {generate: {count: many}}\nsinks: {a: {drop: {}}}\n"},
		{"when on dead letter", "name: x\nsource: {generate: {}}\nsinks: {a: {drop: {}}}\ndead_letter: {drop: {}, when: 'true'}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Validate(yamlToJSONValue(t, []byte(tc.src))); err == nil {
				t.Fatal("schema accepted it")
			}
		})
	}
}
