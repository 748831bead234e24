// Command mdvm-gen writes a deterministic, realistic MDVM export: gzip
// JSON-lines part files laid out as the service's blobs, and the saved
// export response export.json beside them.
package main

import "os"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}
