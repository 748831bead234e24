package local_test

import (
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
	"github.com/mdvm-parquet/mdvm-parquet/sink/local"
	"github.com/mdvm-parquet/mdvm-parquet/sink/sinktest"
)

func TestAcceptance(t *testing.T) {
	roots := map[sink.Bucket]string{}
	newBucket := func(t *testing.T) sink.Bucket {
		root := t.TempDir()
		b, err := local.New(root)
		if err != nil {
			t.Fatal(err)
		}
		roots[b] = root
		return b
	}
	reopen := func(t *testing.T, b sink.Bucket) sink.Bucket {
		other, err := local.New(roots[b])
		if err != nil {
			t.Fatal(err)
		}
		return other
	}
	sinktest.Run(t, newBucket, sinktest.WithReopen(reopen))
}
