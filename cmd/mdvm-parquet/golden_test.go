package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Golden files: the schema as the command prints it, and as the Parquet
// files of the bundled sample declare it. Regenerate with
// `go test ./cmd/mdvm-parquet -run Golden -update`.

const goldenDir = "../../testdata/golden"

// golden compares got with the golden file name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is meant):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestSchemaGolden(t *testing.T) {
	res := runCLI(t, nil, "schema")
	if res.code != 0 {
		t.Fatalf("schema: %v", res)
	}
	golden(t, "schema-hardware_firmware.txt", res.stdout)
}

func TestParquetSchemaGolden(t *testing.T) {
	lake := t.TempDir()
	convertOK(t, nil, "--output", lake, sampleExport)
	paths := parquetFiles(t, lake)
	schemas, _ := fileSchemas(t, paths)
	if len(schemas) == 0 {
		t.Fatal("no Parquet files")
	}
	for i := range schemas {
		if schemas[i] != schemas[0] {
			t.Errorf("%s declares another schema than %s", paths[i], paths[0])
		}
	}
	golden(t, "parquet-schema-hardware_firmware.txt", schemas[0]+"\n")
}
