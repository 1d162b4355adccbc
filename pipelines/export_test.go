package pipelines_test

import "github.com/sluicehq/sluice/pipelines"

func demo() []byte { return pipelines.Demo }
