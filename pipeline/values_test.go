package pipeline

import (
	"encoding/binary"
	"math"

	"github.com/parquet-go/parquet-go"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// The Parquet values of stored cells, as parquet-go's own writer takes them:
// the reference the tests hold writeRowGroup to.

// fieldValue returns a documented field's Parquet value. Lists take
// appendList.
func fieldValue(buf *rows, s span, t schema.Type) parquet.Value {
	if s.kind == schema.KindNull {
		return parquet.Value{}
	}
	if t == schema.String {
		return parquet.ByteArrayValue(buf.text(s))
	}
	return typedValue(buf.text(s), t)
}

// flatValue converts a flattened value to t, its column's type.
func flatValue(buf *rows, a *afVal, t schema.Type) parquet.Value {
	switch t {
	case schema.Bool:
		return parquet.BooleanValue(a.num == 1)
	case schema.Int64:
		return parquet.Int64Value(int64(a.num))
	case schema.Double:
		if a.kind == schema.KindFloat {
			return parquet.DoubleValue(math.Float64frombits(a.num))
		}
		return parquet.DoubleValue(float64(int64(a.num)))
	}
	return parquet.ByteArrayValue(buf.text(a.text))
}

// typedValue converts the stored form of a value of type t, which is
// neither String nor StringList, to its Parquet value.
func typedValue(text []byte, t schema.Type) parquet.Value {
	switch t {
	case schema.Int32:
		return parquet.Int32Value(int32(storedInt(text)))
	case schema.Int64, schema.Timestamp:
		return parquet.Int64Value(storedInt(text))
	case schema.Double:
		return parquet.DoubleValue(doubleFromKey(binary.BigEndian.Uint64(text)))
	case schema.Bool:
		return parquet.BooleanValue(text[0] == 1)
	}
	return parquet.ByteArrayValue(text)
}

// appendList appends the Parquet values of one row's list in column ci:
// NULL at definition level 0, an empty list at 1, each element at 2, the
// elements after the first repeating at level 1.
func appendList(values []parquet.Value, buf *rows, s span, ci int) []parquet.Value {
	if s.kind == schema.KindNull {
		return append(values, parquet.Value{}.Level(0, 0, ci))
	}
	text := buf.text(s)
	if len(text) == 0 {
		return append(values, parquet.Value{}.Level(0, 1, ci))
	}
	rep := 0
	for len(text) > 0 {
		n, w := binary.Uvarint(text)
		elem := text[w : w+int(n)]
		text = text[w+int(n):]
		values = append(values, parquet.ByteArrayValue(elem).Level(rep, 2, ci))
		rep = 1
	}
	return values
}
