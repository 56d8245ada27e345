// Package testenv starts the real parts tests run against: a throwaway PostgreSQL database,
// the pinned Temporal dev server on free ports, and the Entra emulator. Nothing here is a mock.
package testenv
