package pipeline

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"

	"github.com/parquet-go/parquet-go"
	"github.com/valyala/fastjson"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// Documented fields of a type other than String are converted when a record
// is decoded, so that a value that does not convert can still go to the
// row's extra_fields. The arena then holds each converted value in a stored
// form whose bytes sort as the values do, since rows are sorted by comparing
// bytes:
//
//	Int32, Int64, Timestamp  8 bytes big-endian, sign bit flipped (Timestamp: µs since 1970, UTC)
//	Double                   8 bytes big-endian, ordered as IEEE 754 totalOrder
//	Bool                     1 byte, 0 or 1
//	StringList               per element, its length as a uvarint and its bytes; no bytes for []
//
// The span's kind tells a value (even an empty list) from NULL.

// typedKind is the span kind a converted value of type t is stored with.
func typedKind(t schema.Type) schema.Kind {
	switch t {
	case schema.Double:
		return schema.KindFloat
	case schema.Bool:
		return schema.KindBool
	case schema.StringList:
		return schema.KindJSON
	}
	return schema.KindInt
}

// convert stores v as a value of type t, which is not String. It reports
// false when v does not convert; nothing is stored then.
func (d *decoder) convert(dst *rows, t schema.Type, v jval) (span, bool) {
	if v.t == fastjson.TypeNull {
		return span{}, true
	}
	if t == schema.StringList {
		return d.convertList(dst, v)
	}
	var text []byte
	switch v.t {
	case fastjson.TypeString:
		text = bytes.TrimSpace(d.str(v))
	case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
		if t == schema.Timestamp {
			return span{}, false // epoch numbers are not a documented form
		}
		text = v.text
	default:
		return span{}, false
	}
	var b [8]byte
	switch t {
	case schema.Int32, schema.Int64:
		bits := 64
		if t == schema.Int32 {
			bits = 32
		}
		n, err := strconv.ParseInt(string(text), 10, bits)
		if err != nil {
			return span{}, false
		}
		binary.BigEndian.PutUint64(b[:], uint64(n)^(1<<63))
	case schema.Timestamp:
		us, ok := parseTimestamp(text)
		if !ok {
			return span{}, false
		}
		binary.BigEndian.PutUint64(b[:], uint64(us)^(1<<63))
	case schema.Double:
		x, ok := parseDouble(text)
		if !ok {
			return span{}, false
		}
		binary.BigEndian.PutUint64(b[:], doubleKey(x))
	case schema.Bool:
		x, err := strconv.ParseBool(string(text))
		if err != nil {
			return span{}, false
		}
		if x {
			b[0] = 1
		}
		return dst.put(b[:1], schema.KindBool), true
	default:
		return span{}, false
	}
	return dst.put(b[:], typedKind(t)), true
}

// parseDouble reads a finite decimal number; "NaN", "Inf" and hexadecimal
// forms, which strconv also reads, are not numbers the service writes.
func parseDouble(text []byte) (float64, bool) {
	if len(text) == 0 {
		return 0, false
	}
	for _, c := range text {
		if !('0' <= c && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	x, err := strconv.ParseFloat(string(text), 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, false
	}
	return x, true
}

// convertList stores a JSON array, or a string holding one, as a list of
// strings: string elements unescaped, numbers and booleans as written,
// objects and arrays as JSON text. A null element, or anything but an
// array, does not convert.
func (d *decoder) convertList(dst *rows, v jval) (span, bool) {
	node := v.node
	if v.t == fastjson.TypeString {
		text := bytes.TrimSpace(d.str(v))
		if len(text) == 0 || text[0] != '[' {
			return span{}, false
		}
		var err error
		if node, err = d.fl.parser.ParseBytes(text); err != nil {
			return span{}, false
		}
	}
	if node == nil {
		return span{}, false
	}
	elems, err := node.Array()
	if err != nil {
		return span{}, false
	}
	start := len(dst.arena)
	for _, e := range elems {
		var text []byte
		switch e.Type() {
		case fastjson.TypeNull:
			dst.arena = dst.arena[:start]
			return span{}, false
		case fastjson.TypeString:
			text, _ = e.StringBytes()
		default:
			d.lit = appendJSON(d.lit[:0], e)
			text = d.lit
		}
		text = validUTF8(text)
		dst.arena = binary.AppendUvarint(dst.arena, uint64(len(text)))
		dst.arena = append(dst.arena, text...)
	}
	return span{off: uint32(start), n: uint32(len(dst.arena) - start), kind: schema.KindJSON}, true
}

// doubleKey maps a double to bits that sort as the doubles do.
func doubleKey(x float64) uint64 {
	b := math.Float64bits(x)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func doubleFromKey(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// storedInt reads the stored form of an Int32, Int64 or Timestamp value.
func storedInt(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
}

// storeParquet appends the stored form of a non-null Parquet value of a
// field of type t, the inverse of writeField, for rows read back from a
// file. A list element is appended as one element of a list.
func storeParquet(arena []byte, v parquet.Value, t schema.Type) []byte {
	var b [8]byte
	switch t {
	case schema.Int32:
		binary.BigEndian.PutUint64(b[:], uint64(int64(v.Int32()))^(1<<63))
	case schema.Int64, schema.Timestamp:
		binary.BigEndian.PutUint64(b[:], uint64(v.Int64())^(1<<63))
	case schema.Double:
		binary.BigEndian.PutUint64(b[:], doubleKey(v.Double()))
	case schema.Bool:
		if v.Boolean() {
			return append(arena, 1)
		}
		return append(arena, 0)
	case schema.StringList:
		arena = binary.AppendUvarint(arena, uint64(len(v.ByteArray())))
		return append(arena, v.ByteArray()...)
	default:
		return append(arena, v.ByteArray()...)
	}
	return append(arena, b[:]...)
}

// microsPerDay is the length of a UTC day in microseconds.
const microsPerDay = 86_400_000_000

// eventDay returns the day, counted from 1970-01-01, of a stored timestamp.
func eventDay(stored []byte) int32 {
	us := storedInt(stored)
	day := us / microsPerDay
	if us%microsPerDay < 0 {
		day--
	}
	return int32(day)
}
