package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  []string
	}{
		{"writes", []string{"--records", "30", "--groups", "2", "--seed", "3"}, exitOK, "wrote 30 records in 3 files", nil},
		{"mixed camel quirks", []string{"--records", "90", "--files", "2", "--layout", "mixed", "--casing", "camel", "--quirks"}, exitOK, "in 2 files", nil},
		{"bad flags together", []string{"--records", "0", "--layout", "round", "--casing", "kebab", "--generated-time", "noon", "--dataset", "x"},
			exitUsage, "", []string{"--records 0", "--layout \"round\"", "--casing \"kebab\"", "--generated-time", "unknown dataset"}},
		{"unknown flag", []string{"--nope"}, exitUsage, "", []string{"flag provided but not defined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			args := append([]string{"mdvm-gen", "--out", dir}, tt.args...)
			if code := run(args, &stdout, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.out) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tt.out)
			}
			for _, e := range tt.err {
				if !strings.Contains(stderr.String(), e) {
					t.Errorf("stderr %q lacks %q", stderr.String(), e)
				}
			}
			if tt.code == exitOK {
				if _, err := os.Stat(filepath.Join(dir, "export.json")); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
