package schema

import "testing"

func TestMerge(t *testing.T) {
	tests := []struct{ a, b, want Kind }{
		{KindNull, KindInt, KindInt},
		{KindInt, KindInt, KindInt},
		{KindInt, KindFloat, KindFloat},
		{KindInt, KindWideInt, KindWideInt},
		{KindWideInt, KindFloat, KindText},
		{KindInt, KindBigNum, KindBigNum},
		{KindFloat, KindBigNum, KindText},
		{KindInt, KindString, KindText},
		{KindBool, KindInt, KindText},
		{KindString, KindJSON, KindText},
		{KindJSON, KindJSON, KindJSON},
		{KindText, KindNull, KindText},
	}
	for _, tt := range tests {
		if got := Merge(tt.a, tt.b); got != tt.want {
			t.Errorf("Merge(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestMergeLaws checks that the order values arrive in never changes a
// column's type: Merge is commutative, associative and idempotent, with
// KindNull as identity.
func TestMergeLaws(t *testing.T) {
	for a := KindNull; a <= KindText; a++ {
		if Merge(a, KindNull) != a || Merge(KindNull, a) != a || Merge(a, a) != a {
			t.Errorf("%v: null is not an identity or merge is not idempotent", a)
		}
		for b := KindNull; b <= KindText; b++ {
			if Merge(a, b) != Merge(b, a) {
				t.Errorf("Merge(%v, %v) != Merge(%v, %v)", a, b, b, a)
			}
			for c := KindNull; c <= KindText; c++ {
				if Merge(Merge(a, b), c) != Merge(a, Merge(b, c)) {
					t.Errorf("Merge is not associative on %v, %v, %v", a, b, c)
				}
			}
		}
	}
}

func TestParseKind(t *testing.T) {
	for k := KindNull; k <= KindText; k++ {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseKind("nope"); err == nil {
		t.Error("ParseKind(nope) did not fail")
	}
}
