package pipeline

import (
	"context"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
	"github.com/mdvm-parquet/mdvm-parquet/sink/local"
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// benchLines returns about 8 MB of generated export lines, as the
// benchmark corpus holds them.
func benchLines(b testing.TB) []byte {
	return generate(b, sample.Config{Dataset: schema.HardwareFirmware, Records: 8000, Groups: 50, Unassigned: true,
		Seed: 1, Layout: sample.Mixed})
}

// BenchmarkDecodeChunk compares the one-pass scanner with fastjson, which
// decodes the lines the scanner leaves.
func BenchmarkDecodeChunk(b *testing.B) {
	data := benchLines(b)
	for _, mode := range []struct {
		name     string
		slowOnly bool
	}{{"scanner", false}, {"fastjson", true}} {
		b.Run(mode.name, func(b *testing.B) {
			reg := newKeyRegistry()
			d := newDecoder(schema.HardwareFirmware, reg, []string{""})
			d.slowOnly = mode.slowOnly
			r := newRows(len(schema.HardwareFirmware.Fields))
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.reset()
				d.decodeChunk(chunk{data: data, firstLine: 1}, r, nil)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*int64(r.len())), "ns/record")
		})
	}
}

func BenchmarkWriteRowGroup(b *testing.B) {
	data := benchLines(b)
	reg := newKeyRegistry()
	d := newDecoder(schema.HardwareFirmware, reg, []string{""})
	r := newRows(len(schema.HardwareFirmware.Fields))
	d.decodeChunk(chunk{data: data, firstLine: 1}, r, nil)
	bucket, err := local.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	codec, _ := schema.Codec("snappy")
	inputs := []Input{{Name: "x"}}
	spec := &fileSpec{ds: schema.HardwareFirmware, reg: reg, bucket: bucket, inputs: inputs,
		runID: "bench", maxFile: 1 << 30, codec: codec, inputNames: inputNames(inputs)}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := &partWriter{spec: spec}
		if err := w.flush(context.Background(), r); err != nil {
			b.Fatal(err)
		}
		if err := w.finish(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*int64(r.len())), "ns/record")
}
