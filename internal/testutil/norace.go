//go:build !race

package testutil

// RaceEnabled says the race detector is on.
const RaceEnabled = false
