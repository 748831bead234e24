// Command mdvm-parquet turns Microsoft Defender Vulnerability Management
// export assessments into a Hive-partitioned Parquet lake.
package main

import "os"

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
