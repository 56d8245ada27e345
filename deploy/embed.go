// Package deploy holds deployment files: docker-compose.yml's companions, the Temporal server
// configuration of the production-shaped stack (internal/stack) and the Grafana dashboard. Its
// tests keep them honest, since Docker and Grafana do not run where the suite runs.
package deploy

import _ "embed"

// TemporalConfig is the Go template of the stack's Temporal server configuration.
//
//go:embed temporal/config.yaml.tmpl
var TemporalConfig string

// TemporalDynamicConfig is the stack's Temporal dynamic configuration.
//
//go:embed temporal/dynamicconfig.yaml
var TemporalDynamicConfig []byte
