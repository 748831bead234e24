package schema

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// FlattenPrefix starts the name of every column made from a flattened key,
// so those columns never collide with the documented ones.
const FlattenPrefix = "af_"

// maxColumnName bounds a column name's length in bytes; Spark and Synapse
// accept far more, but a key of kilobytes is noise, not a name.
const maxColumnName = 96

// Snake turns a key as the service writes it into snake_case of the letters
// a-z, digits and underscores only: "SystemSKU" → "system_sku",
// "BaseBoardManufacturer" → "base_board_manufacturer", "OSPlatform" →
// "os_platform". Characters outside ASCII letters and digits separate words.
// It returns "" when nothing is left.
func Snake(key string) string {
	var b strings.Builder
	b.Grow(len(key) + 4)
	pendingSep := false
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case isUpper(c):
			if i > 0 && startsWord(key, i) {
				pendingSep = true
			}
			c += 'a' - 'A'
		case isLower(c) || isDigit(c):
		default:
			pendingSep = true
			continue
		}
		if pendingSep && b.Len() > 0 {
			b.WriteByte('_')
		}
		pendingSep = false
		b.WriteByte(c)
	}
	return b.String()
}

// startsWord reports whether the upper-case letter at key[i] begins a new
// word: after a lower-case letter or digit ("deviceId"), or as the last
// capital of an acronym followed by a lower-case letter ("OSPlatform").
func startsWord(key string, i int) bool {
	prev := key[i-1]
	if isLower(prev) || isDigit(prev) {
		return true
	}
	// An acronym ends before a capital that starts a lower-case word of two
	// letters or more: "OSPlatform", but "IPv4".
	return isUpper(prev) && i+2 < len(key) && isLower(key[i+1]) && isLower(key[i+2])
}

// ColumnName returns the column a flattened key is stored in: FlattenPrefix
// and the key in snake_case. It is a pure function of the key, so the same
// key gets the same column in every file and every run, and keys that differ
// only in letter case or punctuation ("SystemSKU", "systemSku",
// "system_sku") share one column. A key with nothing usable in it, or a
// very long one, is named by a hash of its bytes instead.
//
// Names hold only [a-z0-9_], so they are unique even when compared without
// regard to case, as Spark and Synapse compare them.
func ColumnName(key string) string {
	s := Snake(key)
	if s == "" {
		return fmt.Sprintf("%skey_%08x", FlattenPrefix, hash32(key))
	}
	name := FlattenPrefix + s
	if len(name) > maxColumnName {
		name = fmt.Sprintf("%s_%08x", strings.TrimRight(name[:maxColumnName-9], "_"), hash32(key))
	}
	return name
}

// DistinctColumnName returns name, a ColumnName, made distinct by a hash of
// fold, its key's FoldKey. It names the columns of keys that ColumnName
// names alike although they are different columns: a key with nothing
// usable in it and a key spelled "key_811c9dc5", or two long keys cut to
// the same prefix.
func DistinctColumnName(name, fold string) string {
	suffix := fmt.Sprintf("_%08x", hash32(fold))
	if len(name)+len(suffix) > maxColumnName {
		name = strings.TrimRight(name[:maxColumnName-len(suffix)], "_")
	}
	return name + suffix
}

// FoldKey returns what identifies a flattened key's column: its ASCII letters
// and digits in lower case, so that spellings differing only in letter case
// or punctuation share a column. A key with none of those is its own.
func FoldKey(key string) string {
	b := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case isUpper(c):
			b = append(b, c+'a'-'A')
		case isLower(c) || isDigit(c):
			b = append(b, c)
		}
	}
	if len(b) == 0 || len(FlattenPrefix)+len(Snake(key)) > maxColumnName {
		return "\x00" + key
	}
	return string(b)
}

func hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
