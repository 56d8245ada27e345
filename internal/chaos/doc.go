// Package chaos holds the chaos suite (chaos_test.go): many concurrent short grants run on
// the real product — `jitaccess serve` and `jitaccess worker` as subprocesses of the built
// binary, a private PostgreSQL instance, a restartable Temporal dev server and the Entra
// emulator with faults — while the suite SIGKILLs the worker mid-provisioning and mid-disable
// and restarts the Temporal server, the API and PostgreSQL. Afterwards it checks the product's
// promises against the emulator's directory itself. See docs/reliability.md for the figures.
//
// `go test ./chaos/` runs the bounded form (CI); `make chaos` the full one
// (JIT_CHAOS_GRANTS=N sets the number of grants, JIT_CHAOS_OUT=file.json writes the figures).
package chaos
