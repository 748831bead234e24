package pipeline

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// jval is one JSON value as the decode stage handles it, whichever reader
// met it: a scalar's text, or an object's or array's parsed form.
type jval struct {
	t    fastjson.Type
	text []byte          // a string's text; a number, true, false or null as written
	esc  bool            // text is a string's raw contents, escapes still in it
	at   int             // where text lies in the rows' arena (read there by stringInto, or part of a document already there), or -1
	node *fastjson.Value // an object or array (the scanner's: its text too)
}

// fjval returns v, parsed by fastjson, as a jval.
func fjval(v *fastjson.Value) jval {
	switch t := v.Type(); t {
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return jval{t: t, text: s, at: -1}
	case fastjson.TypeObject, fastjson.TypeArray:
		return jval{t: t, node: v, at: -1}
	default:
		return jval{t: t, text: v.MarshalTo(nil), at: -1}
	}
}

// objScanner reads a JSON object one key at a time, in one pass over its
// text and without building a tree: the shape of nearly every export line
// and additionalFields document. It reads only well-formed JSON, and gives
// up on what is rare or odd (escapes in keys, escapes it does not decode
// exactly as fastjson does, control characters, depth): the caller then
// decodes the text with fastjson, checked by encoding/json, which also say
// what is wrong with it. Objects and arrays met as values are handed to
// fastjson whole, and checked the same way.
type objScanner struct {
	src    []byte
	i      int
	base   int  // arena offset of src, or -1 when src is not in the arena
	done   bool // the closing brace was read
	nested *fastjson.Parser
	quotes *quoteIndex // where src's quotes are, or nil to look for them
	qi     int         // the next of quotes.at not yet passed
}

// quoteIndex records where the quotes of an unescaped string landed, when
// that string is a document: stringInto meets every one of them, each an
// escape, so the flattener need not search the document for its strings'
// ends. It is usable only when nothing else unescaped was a backslash or a
// control character: then every quote in the document bounds a string.
type quoteIndex struct {
	at     []int32 // offsets of the quotes in the unescaped text
	usable bool
	off, n uint32 // the unescaped text's place in the arena
}

// record notes the byte an escape was unescaped to, at out[j].
func (q *quoteIndex) record(out []byte, j int) {
	switch c := out[j]; {
	case c == '"':
		q.at = append(q.at, int32(j))
	case c == '\\' || c < 0x20:
		q.usable = false
	}
}

// scanState is what objScanner.next found.
type scanState uint8

const (
	scanPair scanState = iota // a key and its value
	scanEnd                   // the end of the object, and nothing but space after it
	scanBail                  // something the scanner leaves to fastjson
)

// maxScanDepth bounds the nesting of values the scanner hands to fastjson,
// well inside fastjson's own limit on the whole text.
const maxScanDepth = 64

// open starts reading src, which must hold one object and nothing but
// space around it. It reports false when src does not begin like one.
func (s *objScanner) open(src []byte, base int) bool {
	return s.openIndexed(src, base, nil)
}

// openIndexed is open, finding the ends of src's strings in q, when it is
// usable and indexes src; in step with the scan, or the scan looks for
// them again from where they part.
func (s *objScanner) openIndexed(src []byte, base int, q *quoteIndex) bool {
	if q != nil && (!q.usable || base < 0 || uint32(base) != q.off || uint32(len(src)) != q.n) {
		q = nil
	}
	*s = objScanner{src: src, base: base, nested: s.nested, quotes: q}
	s.ws()
	if s.i >= len(s.src) || s.src[s.i] != '{' {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.src) && s.src[s.i] == '}' {
		s.i++
		return s.end()
	}
	return true
}

// next returns the next key and its value.
func (s *objScanner) next() (key []byte, v jval, st scanState) {
	if key, st = s.key(); st != scanPair {
		return nil, jval{}, st
	}
	v, ok := s.value()
	if !ok || !s.sep() {
		return nil, jval{}, scanBail
	}
	return key, v, scanPair
}

// key reads the next key and the colon after it, leaving the scanner at
// the key's value: value or stringInto reads it, then sep what follows.
func (s *objScanner) key() ([]byte, scanState) {
	if s.done {
		return nil, scanEnd
	}
	if s.i >= len(s.src) || s.src[s.i] != '"' {
		return nil, scanBail
	}
	end, esc, ok := s.stringEnd(s.i)
	if !ok || esc {
		return nil, scanBail
	}
	key := s.src[s.i+1 : end]
	s.i = end + 1
	s.ws()
	if s.i >= len(s.src) || s.src[s.i] != ':' {
		return nil, scanBail
	}
	s.i++
	s.ws()
	return key, scanPair
}

// sep reads what follows a value: a comma, or the closing brace and
// nothing but space after it.
func (s *objScanner) sep() bool {
	s.ws()
	if s.i >= len(s.src) {
		return false
	}
	switch s.src[s.i] {
	case ',':
		s.i++
		s.ws()
		return true
	case '}':
		s.i++
		return s.end()
	}
	return false
}

// stringEnd is scanString for the string whose opening quote is at
// src[open]: from the quote index when there is one in step, else by
// looking.
func (s *objScanner) stringEnd(open int) (end int, esc bool, ok bool) {
	if q := s.quotes; q != nil {
		for s.qi < len(q.at) && int(q.at[s.qi]) < open {
			s.qi++ // inside a nested value fastjson read
		}
		if s.qi+1 < len(q.at) && int(q.at[s.qi]) == open {
			if end = int(q.at[s.qi+1]); end < len(s.src) && s.src[end] == '"' {
				s.qi += 2
				return end, false, true
			}
		}
		s.quotes = nil
	}
	return scanString(s.src, open+1)
}

// stringInto reads the value, when it is a string, straight into dst's
// arena, unescaped in the same pass that finds its end: for a long string
// full of escapes (a document held as a string), one pass instead of two.
// It reports false for a value that is not a string or a string for
// fastjson (see appendUnescaped).
//
// q, when not nil, is filled with where the string's quotes landed.
func (s *objScanner) stringInto(dst *rows, q *quoteIndex) (jval, bool) {
	if s.i >= len(s.src) || s.src[s.i] != '"' {
		return jval{}, false
	}
	start := len(dst.arena)
	if q != nil {
		q.at, q.usable = q.at[:0], true
	}
	arena, end, ok := appendString(dst.arena, s.src, s.i+1, q)
	if !ok {
		dst.arena = arena[:start]
		if q != nil {
			q.usable = false
		}
		return jval{}, false
	}
	dst.arena = arena
	if q != nil {
		q.off, q.n = uint32(start), uint32(len(arena)-start)
	}
	s.i = end + 1
	return jval{t: fastjson.TypeString, text: dst.arena[start:], at: start}, true
}

// end marks the object read, and reports whether only space follows it.
func (s *objScanner) end() bool {
	s.done = true
	s.ws()
	return s.i == len(s.src)
}

// ws skips JSON white space.
func (s *objScanner) ws() {
	if s.i < len(s.src) && s.src[s.i] > ' ' {
		return // the usual case: no space at all
	}
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value reads the value at the scanner's position; the caller reads what
// follows it with sep.
func (s *objScanner) value() (jval, bool) {
	if s.i >= len(s.src) {
		return jval{}, false
	}
	start := s.i
	at := func(i int) int {
		if s.base < 0 {
			return -1
		}
		return s.base + i
	}
	switch c := s.src[start]; {
	case c == '"':
		end, esc, ok := s.stringEnd(start)
		if !ok {
			return jval{}, false
		}
		s.i = end + 1
		return jval{t: fastjson.TypeString, text: s.src[start+1 : end], esc: esc, at: at(start + 1)}, true
	case c == '-' || '0' <= c && c <= '9':
		n := numberLen(s.src[start:])
		if n == 0 {
			return jval{}, false
		}
		s.i += n
		return jval{t: fastjson.TypeNumber, text: s.src[start:s.i], at: at(start)}, true
	case c == 't':
		return s.literal("true", fastjson.TypeTrue, at(start))
	case c == 'f':
		return s.literal("false", fastjson.TypeFalse, at(start))
	case c == 'n':
		return s.literal("null", fastjson.TypeNull, at(start))
	case c == '{' || c == '[':
		end, ok := skipNested(s.src, start)
		if !ok || s.nested == nil {
			return jval{}, false
		}
		node, err := s.nested.ParseBytes(s.src[start:end])
		if err != nil || !json.Valid(s.src[start:end]) {
			return jval{}, false
		}
		s.i = end
		return jval{t: node.Type(), text: s.src[start:end], node: node, at: -1}, true
	}
	return jval{}, false
}

// literal reads the literal lit (true, false or null).
func (s *objScanner) literal(lit string, t fastjson.Type, at int) (jval, bool) {
	end := s.i + len(lit)
	if end > len(s.src) || string(s.src[s.i:end]) != lit {
		return jval{}, false
	}
	v := jval{t: t, text: s.src[s.i:end], at: at}
	s.i = end
	return v, true
}

// scanString finds the closing quote of the string whose contents begin at
// src[i], and tells whether the contents hold escapes. It looks at eight
// bytes at a time for a quote or a backslash: strings here are short, or
// full of escapes (a document held as a string), where searching from quote
// to quote would cost a call for every few bytes.
//
// A control character, which JSON allows only escaped, ends the scan as a
// string never closed would.
func scanString(src []byte, i int) (end int, esc bool, ok bool) {
	for {
		i = skipPlain(src, i)
		if i >= len(src) || src[i] < 0x20 {
			return 0, false, false
		}
		if src[i] == '"' {
			return i, esc, true
		}
		esc = true
		i += 2 // the backslash and the byte it escapes
		if i <= len(src) && src[i-1] < 0x20 {
			return 0, false, false
		}
	}
}

// skipPlain returns the index of the first quote, backslash or control
// character in src from i on, or len(src).
func skipPlain(src []byte, i int) int {
	for ; i+8 <= len(src); i += 8 {
		if m := specialBytes(binary.LittleEndian.Uint64(src[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(src); i++ {
		if c := src[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

const ones, highs = 0x0101010101010101, 0x8080808080808080

// zeroBytes returns a mask whose lowest set bit is the high bit of the
// lowest zero byte of w, or 0 when w has none. (Bits above it may be set
// falsely; only the lowest is exact.)
func zeroBytes(w uint64) uint64 { return (w - ones) &^ w & highs }

// specialBytes is zeroBytes for the bytes that end a run of plain string
// contents: a quote, a backslash or a control character.
func specialBytes(w uint64) uint64 {
	return zeroBytes(w^(ones*'"')) | zeroBytes(w^(ones*'\\')) | (w-ones*0x20)&^w&highs
}

// numberLen returns the length of the JSON number at the start of b, or 0
// when b does not start with one as the JSON grammar spells it.
func numberLen(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); i == 0 {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(b, i); i == 0 {
			return 0
		}
	}
	// A number runs into the next token only through a character fastjson
	// would read as part of it.
	if i < len(b) {
		switch b[i] {
		case '.', '-', '+', 'e', 'E':
			return 0
		}
		if '0' <= b[i] && b[i] <= '9' {
			return 0
		}
	}
	return i
}

// digits returns the end of the digits starting at b[i], or 0 when there
// are none.
func digits(b []byte, i int) int {
	start := i
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	if i == start {
		return 0
	}
	return i
}

// skipNested returns the end of the object or array starting at src[i],
// found by counting brackets outside strings.
func skipNested(src []byte, i int) (int, bool) {
	depth := 0
	for i < len(src) {
		switch src[i] {
		case '{', '[':
			depth++
			if depth > maxScanDepth {
				return 0, false
			}
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		case '"':
			end, _, ok := scanString(src, i+1)
			if !ok {
				return 0, false
			}
			i = end
		}
		i++
	}
	return 0, false
}

// appendUnescaped appends the string contents raw, escapes decoded, to dst.
// It reports false, for the caller to leave the string to fastjson, on an
// escape fastjson would keep as written or pair oddly: an unknown one, a
// short or malformed \u, or a surrogate that is not half of a pair; and on
// a quote or control character, which no string's raw contents hold.
func appendUnescaped(dst, raw []byte) ([]byte, bool) {
	out, stop, ok := unescapeUntil(dst, raw, 0, nil)
	if !ok || stop != len(raw) { // a quote or control character: not raw contents
		return dst, false
	}
	return out, true
}

// unescapeAt decodes the escape at raw[i] into out[j:], and returns where
// each continues.
func unescapeAt(raw []byte, i int, out []byte, j int) (int, int, bool) {
	if i+1 >= len(raw) {
		return 0, 0, false
	}
	var c byte
	switch raw[i+1] {
	case '"', '\\', '/':
		c = raw[i+1]
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	case 'u':
		r, ok := hex4(raw[i+2:])
		if !ok {
			return 0, 0, false
		}
		if utf16.IsSurrogate(r) {
			// A pair, high then low, is one character, as fastjson reads
			// it; what fastjson reads otherwise is left to it.
			if r < 0xDC00 && i+12 <= len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if r2, ok := hex4(raw[i+8:]); ok && 0xDC00 <= r2 && r2 <= 0xDFFF {
					return i + 12, j + utf8.EncodeRune(out[j:], utf16.DecodeRune(r, r2)), true
				}
			}
			return 0, 0, false
		}
		return i + 6, j + utf8.EncodeRune(out[j:], r), true
	default:
		return 0, 0, false
	}
	out[j] = c
	return i + 2, j + 1, true
}

// appendString appends to dst the contents of the string that begin at
// src[i], escapes decoded, and returns where its closing quote is. It
// reports false where scanString or appendUnescaped would. q, when not nil,
// records the unescaped quotes.
func appendString(dst, src []byte, i int, q *quoteIndex) ([]byte, int, bool) {
	out, stop, ok := unescapeUntil(dst, src, i, q)
	if !ok || stop == len(src) || src[stop] != '"' {
		return dst, 0, false
	}
	return out, stop, true
}

// unescapeUntil appends to dst the string contents that begin at src[i],
// escapes decoded, up to a quote, a control character or the end of src,
// and returns where it stopped. It reports false on an escape it leaves to
// fastjson (see appendUnescaped); dst then holds what it held. q, when not
// nil, records every byte an escape became (see quoteIndex).
func unescapeUntil(dst, src []byte, i int, q *quoteIndex) ([]byte, int, bool) {
	// The text only shrinks: write it in place in dst's spare room, eight
	// bytes at a time up to the next byte to look at.
	n := len(dst)
	dst = slices.Grow(dst, len(src)-i)[:n+len(src)-i]
	out := dst[n:]
	j := 0
	for {
		if i+8 <= len(src) {
			w := binary.LittleEndian.Uint64(src[i:])
			binary.LittleEndian.PutUint64(out[j:], w) // j is at most i less where src began
			m := specialBytes(w)
			if m == 0 {
				i, j = i+8, j+8
				continue
			}
			k := bits.TrailingZeros64(m) / 8
			i, j = i+k, j+k
		} else if i >= len(src) {
			return dst[:n+j], i, true
		}
		switch c := src[i]; {
		case c == '"' || c < 0x20:
			return dst[:n+j], i, true
		case c == '\\' && i+1 < len(src) && src[i+1] == '"':
			// The escape of a document's every quote, taken without a call.
			out[j] = '"'
			if q != nil {
				q.at = append(q.at, int32(j))
			}
			i, j = i+2, j+1
		case c == '\\':
			var ok bool
			if i, j, ok = unescapeAt(src, i, out, j); !ok {
				return dst[:n], 0, false
			}
			if q != nil {
				q.record(out, j-1)
			}
		default:
			out[j] = c
			i, j = i+1, j+1
		}
	}
}

// putUnescaped appends a string's raw contents to the arena, escapes
// decoded, and returns its span. It reports false, storing nothing, where
// appendUnescaped does. A valid line with only the escapes appendUnescaped
// takes makes valid UTF-8.
func (r *rows) putUnescaped(raw []byte) (span, bool) {
	start := len(r.arena)
	var ok bool
	if r.arena, ok = appendUnescaped(r.arena, raw); !ok {
		r.arena = r.arena[:start]
		return span{}, false
	}
	return span{off: uint32(start), n: uint32(len(r.arena) - start), kind: schema.KindString}, true
}

// hex4 reads four hexadecimal digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
