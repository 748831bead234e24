package azure_test

import (
	"os"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azure"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
	"github.com/mdvm-parquet/mdvm-parquet/sink/sinktest"
)

func TestMain(m *testing.M) { os.Exit(azurite.Run(m)) }

// suite runs the acceptance suite on buckets made from configs that
// newConfig returns, each in a fresh container.
func suite(t *testing.T, newConfig func(t *testing.T, container string) azure.Config, opts ...sinktest.Option) {
	configs := map[sink.Bucket]azure.Config{}
	open := func(t *testing.T, cfg azure.Config) sink.Bucket {
		b, err := azure.New(t.Context(), cfg)
		if err != nil {
			t.Fatalf("new bucket: %v", err)
		}
		configs[b] = cfg
		return b
	}
	newBucket := func(t *testing.T) sink.Bucket {
		c := azurite.Start(t).NewContainer(t)
		return open(t, newConfig(t, c))
	}
	reopen := func(t *testing.T, b sink.Bucket) sink.Bucket {
		other := open(t, configs[b])
		t.Cleanup(func() { other.Close() })
		return other
	}
	sinktest.Run(t, newBucket, append(opts, sinktest.WithReopen(reopen))...)
}

func TestAcceptanceConnectionString(t *testing.T) {
	suite(t, func(t *testing.T, c string) azure.Config {
		return azure.Config{
			ConnectionString: azurite.Start(t).ConnectionString(),
			Container:        c,
			Prefix:           "lake/mdvm",
			BlockSize:        1 << 20,
		}
	})
}

func TestAcceptanceSASToken(t *testing.T) {
	suite(t, func(t *testing.T, c string) azure.Config {
		srv := azurite.Start(t)
		return azure.Config{
			StorageEndpoint: srv.Endpoint,
			SASToken:        srv.ContainerSAS(t, c, time.Hour),
			Container:       c,
			BlockSize:       256 << 10,
		}
	}, sinktest.WithLargeSize(16<<20))
}
