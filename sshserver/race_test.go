//go:build race

package sshserver

// raceEnabled: the race detector multiplies CPU cost many times over, so
// timing bounds are reported rather than asserted under it.
const raceEnabled = true
