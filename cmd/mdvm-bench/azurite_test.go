package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

func TestBenchAzurite(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "mdvm-parquet")
	if out, err := exec.Command("go", "build", "-o", bin, "../mdvm-parquet").CombinedOutput(); err != nil {
		t.Fatalf("build mdvm-parquet: %v\n%s", err, out)
	}

	code, rep, stderr := benchJSON(t, dir, "--azurite", "--bin", bin)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if len(rep.Sides) != 2 || rep.Sides[0].Side != sideOurs || rep.Sides[1].Side != sideAzurite {
		t.Fatalf("sides %+v", rep.Sides)
	}
	for _, s := range rep.Sides {
		if s.Status != statusOK || len(s.Runs) != 1 || s.Runs[0].Rows != testRecords || s.PeakRSSMiB <= 0 {
			t.Errorf("side %+v", s)
		}
	}
	if rep.AzuriteRatio <= 0 || rep.AzuriteServerRSSMiB <= 0 || rep.Ratio != 0 {
		t.Errorf("ratio %v, server RSS %v, duckdb ratio %v", rep.AzuriteRatio, rep.AzuriteServerRSSMiB, rep.Ratio)
	}
	if _, err := os.Stat(filepath.Join(dir, "azurite")); !os.IsNotExist(err) {
		t.Errorf("Azurite's data left behind: %v", err)
	}

	code, _, stderr = benchJSON(t, dir, "--azurite", "--bin", bin, "--only", "duckdb")
	if code != exitUsage || !strings.Contains(stderr, "not with --azurite") {
		t.Errorf("--azurite --only duckdb: exit %d, %s", code, stderr)
	}
}

func TestAzuriteVersionPinned(t *testing.T) {
	if azuriteVersion != azurite.Version {
		t.Errorf("the bench installs azurite@%s, the tests %s", azuriteVersion, azurite.Version)
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "AZURITE_VERSION="+azuriteVersion) {
		t.Errorf(".ci/run does not install azurite %s", azuriteVersion)
	}
}
