package sample

import (
	"strconv"
)

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendStringBytes is appendString for bytes that are known to be valid
// UTF-8, used to embed one JSON document in another as a string.
func appendStringBytes(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloat appends f so that it always reads as a double: 3 becomes 3.0.
func appendFloat(b []byte, f float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, '.', '0')
}

// appendKey appends "key": in the casing asked for; keys are written in
// PascalCase in the source. In camelCase a leading acronym is lowered
// whole: "OSPlatform" becomes "osPlatform".
func appendKey(b []byte, key string, c Casing) []byte {
	b = append(b, '"')
	if c == Camel {
		n := 0
		for n < len(key) && isUpper(key[n]) && (n == 0 || n+1 == len(key) || isUpper(key[n+1])) {
			b = append(b, key[n]+'a'-'A')
			n++
		}
		key = key[n:]
	}
	b = append(b, key...)
	return append(b, '"', ':')
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
