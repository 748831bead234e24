package schema

import (
	"fmt"
	"reflect"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// Compression codecs by the name users give them.
var codecs = map[string]compress.Codec{
	"snappy": fastSnappy{},
	"zstd":   &parquet.Zstd,
	"gzip":   &parquet.Gzip,
	"none":   &parquet.Uncompressed,
}

// Codec returns the compression codec called name: snappy, zstd, gzip or
// none.
func Codec(name string) (compress.Codec, error) {
	c, ok := codecs[name]
	if !ok {
		return nil, fmt.Errorf("unknown compression %q: want snappy, zstd, gzip or none", name)
	}
	return c, nil
}

// fastSnappy writes the raw snappy block format that Parquet's SNAPPY codec
// is, with the fast encoder: parquet-go's own uses the "better" encoder,
// which costs about twice the time for a few percent of size.
type fastSnappy struct{}

func (fastSnappy) String() string                            { return "SNAPPY" }
func (fastSnappy) CompressionCodec() format.CompressionCodec { return format.Snappy }
func (fastSnappy) Decode(dst, src []byte) ([]byte, error)    { return s2.Decode(dst[:cap(dst)], src) }

func (fastSnappy) Encode(dst, src []byte) ([]byte, error) {
	if n := s2.MaxEncodedLen(len(src)); cap(dst) < n {
		dst = make([]byte, n)
	}
	return s2.EncodeSnappy(dst[:cap(dst)], src), nil
}

// plainColumns are text columns whose values are nearly all distinct, where a
// dictionary costs more than it saves.
var plainColumns = map[string]bool{
	"additional_fields": true,
	ExtraColumn:         true,
}

// Schema returns the Parquet schema of files with this layout. Every column
// is optional: documented non-null fields do arrive null. Columns keep the
// layout's order, which parquet.Group (sorted by name) would not.
//
// Text columns are dictionary-encoded, but those named in plain, whose
// values are mostly distinct: there a dictionary costs time and saves no
// space.
func (l *Layout) Schema(plain map[string]bool) *parquet.Schema {
	fields := make([]parquet.Field, len(l.Columns))
	for i, c := range l.Columns {
		fields[i] = orderedField{name: c.Name, Node: parquet.Optional(l.node(c, plain[c.Name]))}
	}
	return parquet.NewSchema(l.Dataset.Name, orderedGroup(fields))
}

func (l *Layout) node(c Column, plain bool) parquet.Node {
	switch c.Type {
	case Int64:
		return parquet.Int(64)
	case Int32:
		return parquet.Int(32)
	case Double:
		return parquet.Leaf(parquet.DoubleType)
	case Bool:
		return parquet.Leaf(parquet.BooleanType)
	case Timestamp:
		return parquet.TimestampAdjusted(parquet.Microsecond, true)
	case StringList:
		return parquet.List(parquet.String())
	}
	if plain || plainColumns[c.Name] {
		return parquet.Encoded(parquet.String(), &parquet.Plain)
	}
	return parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
}

// orderedGroup is a group node whose fields keep the order they are given.
type orderedGroup []parquet.Field

type orderedField struct {
	parquet.Node
	name string
}

func (f orderedField) Name() string { return f.name }
func (f orderedField) Value(base reflect.Value) reflect.Value {
	return base.MapIndex(reflect.ValueOf(f.name))
}

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return parquet.Group(g.asGroup()).String() }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []parquet.Field     { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return g.asGroup().GoType() }

func (g orderedGroup) asGroup() parquet.Group {
	m := make(parquet.Group, len(g))
	for _, f := range g {
		m[f.Name()] = f
	}
	return m
}
