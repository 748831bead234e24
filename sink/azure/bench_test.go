package azure_test

import (
	"fmt"
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/sink/azure"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

// BenchmarkWrite streams 64 MiB objects to Azurite in 64 KiB writes.
func BenchmarkWrite(b *testing.B) {
	for _, block := range []int{1 << 20, azure.DefaultBlockSize} {
		b.Run(fmt.Sprintf("block=%dKiB", block>>10), func(b *testing.B) {
			srv := azurite.Start(b)
			bk, err := azure.New(b.Context(), azure.Config{
				ConnectionString: srv.ConnectionString(),
				Container:        srv.NewContainer(b),
				BlockSize:        block,
			})
			if err != nil {
				b.Fatal(err)
			}
			const size = 64 << 20
			chunk := make([]byte, 64<<10)
			b.SetBytes(size)
			for b.Loop() {
				w, err := bk.Create(b.Context(), "bench.bin")
				if err != nil {
					b.Fatal(err)
				}
				for n := 0; n < size; n += len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
