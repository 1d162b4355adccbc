package engine_test

import "github.com/sluicehq/sluice/engine/spec"

func specErr(path, msg string) error { return spec.Errorf(path, "%s", msg) }
