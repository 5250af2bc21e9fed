//go:build !unix

package store

import "os"

// lockDir does nothing where flock is missing; there, keeping two servers
// off one data folder is up to the operator.
func lockDir(string) (*os.File, error) { return nil, nil }
