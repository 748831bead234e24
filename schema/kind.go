package schema

import "fmt"

// Kind is what the values seen under one flattened key have been so far. A
// key's kind only ever widens, as values of other kinds arrive; Merge is the
// one place that decides how.
type Kind uint8

// The kinds, from narrowest to widest.
const (
	KindNull    Kind = iota // only nulls seen
	KindBool                // true/false
	KindInt                 // integers within ±2^53, exact in a double too
	KindWideInt             // integers that fit int64 but not exactly a double
	KindFloat               // numbers with a fraction or exponent
	KindBigNum              // numbers beyond int64 or double: kept as their digits
	KindString              // JSON strings
	KindJSON                // objects and arrays: kept as JSON text
	KindText                // a mix of the above: each value as written
)

var kindNames = [...]string{"null", "bool", "int", "wide_int", "float", "bignum", "string", "json", "text"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown kind %q", s)
}

// Merge returns the narrowest kind that holds values of both a and b
// without losing any of them.
//
// Integers and fractions merge into a double only while every integer is
// exact in one; integers beyond int64 keep their digits as text; everything
// else that mixes becomes text, each value as it was written.
func Merge(a, b Kind) Kind {
	if a == b || b == KindNull {
		return a
	}
	if a == KindNull {
		return b
	}
	if a > b {
		a, b = b, a
	}
	switch {
	case a == KindInt && b == KindWideInt:
		return KindWideInt
	case a == KindInt && b == KindFloat:
		return KindFloat
	case (a == KindInt || a == KindWideInt) && b == KindBigNum:
		return KindBigNum
	}
	return KindText
}

// Type returns the Parquet-facing type of a column of kind k.
func (k Kind) Type() Type {
	switch k {
	case KindBool:
		return Bool
	case KindInt, KindWideInt:
		return Int64
	case KindFloat:
		return Double
	}
	return String
}
