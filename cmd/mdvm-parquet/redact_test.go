package main

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"./lake", "./lake"},
		{"https://acct.blob.core.windows.net/c/p?sv=1&sig=SECRET", "https://acct.blob.core.windows.net/c/p?REDACTED"},
		{"https://user:SECRET@acct.blob.core.windows.net/c/p", "https://user:REDACTED@acct.blob.core.windows.net/c/p"},
		{"az://c/p?sig=SECRET#frag", "az://c/p?REDACTED"},
		{"abfss://c@a.dfs.core.windows.net/p", "abfss://c@a.dfs.core.windows.net/p"},
		{"%zz?sig=SECRET", "%zz?REDACTED"},
	}
	for _, tt := range tests {
		got := redactURL(tt.in)
		if got != tt.want || strings.Contains(got, "SECRET") {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
