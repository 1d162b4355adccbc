package enginetest

import (
	"os"
	"testing"
)

// Env returns the value of the environment variable key, the address of a
// server an integration test needs (SLUICE_TEST_KAFKA, SLUICE_TEST_MYSQL,
// ...). When it is unset the test is skipped, except under CI=true, where
// it fails: CI must run every integration test.
func Env(t testing.TB, key string) string {
	t.Helper()
	v := os.Getenv(key)
	if v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: CI must start the server this test needs (see .ci/run)", key)
	}
	t.Skipf("%s is not set; start the server with .ci/run or export it to run this test", key)
	return ""
}
