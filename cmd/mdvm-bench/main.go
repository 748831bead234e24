// Command mdvm-bench measures `mdvm-parquet convert` against DuckDB doing the
// same job on a generated corpus of a snapshot dataset: wall time, throughput
// and peak resident memory, each side run as its own child process.
package main

import "os"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}
