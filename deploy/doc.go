// Package deploy holds the Dockerfile and the Kubernetes manifests that run
// Sluice pipelines: a Deployment per pipeline with health probes and
// metrics, and a KEDA ScaledObject that scales it on Kafka consumer lag down
// to zero. Its test checks that the manifests agree with each other and with
// the CLI.
package deploy
