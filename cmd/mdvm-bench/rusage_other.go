//go:build !unix

package main

import "os"

// peakRSS returns 0: this system does not report a child's peak memory.
func peakRSS(*os.ProcessState) int64 { return 0 }
