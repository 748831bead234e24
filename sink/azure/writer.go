package azure

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// writer streams an object as a block blob. It fills one buffer while the
// previous block is being staged, so it holds at most two blocks, and
// commits the block list on Close. An object smaller than a block goes up
// in a single Put Blob instead.
type writer struct {
	b      *bucket
	name   string
	blob   *blockblob.Client
	ctx    context.Context // canceled by Abort
	cancel context.CancelFunc
	id     [16]byte // random, so concurrent writers of one name never share block IDs

	mu        sync.Mutex
	buf       []byte // the block being filled
	spare     []byte // the buffer of the block in flight, free once it is staged
	blockSize int
	ids       []string   // staged and in-flight block IDs, in order
	flight    chan error // result of the block in flight, nil when none
	whole     hash.Hash  // MD5 of the whole object
	size      int64
	err       error // first failure; every later call reports it
	done      bool  // Close or Abort was called
}

func newWriter(ctx context.Context, b *bucket, name string) *writer {
	ctx, cancel := context.WithCancel(ctx)
	w := &writer{
		b:         b,
		name:      name,
		blob:      b.client.NewBlockBlobClient(b.full(name)),
		ctx:       ctx,
		cancel:    cancel,
		blockSize: b.blockSize,
		whole:     md5.New(),
	}
	rand.Read(w.id[:])
	return w
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, fmt.Errorf("write %s: %w", w.name, errClosed)
	}
	if w.err != nil {
		return 0, w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.name, err)
		return 0, w.err
	}

	n := 0
	for len(p) > 0 {
		if len(w.buf) == w.blockSize {
			if err := w.flush(); err != nil {
				return n, err
			}
		}
		w.grow(len(p))
		k := copy(w.buf[len(w.buf):min(cap(w.buf), w.blockSize)], p)
		w.buf = w.buf[:len(w.buf)+k]
		w.whole.Write(p[:k])
		w.size += int64(k)
		n += k
		p = p[k:]
	}
	return n, nil
}

// grow makes room in buf for up to need more bytes, without going past the
// block size. The first buffer grows by doubling, so a small object costs
// little memory; later ones are allocated whole by flush.
func (w *writer) grow(need int) {
	want := min(len(w.buf)+need, w.blockSize)
	if want <= cap(w.buf) {
		return
	}
	size := min(max(2*cap(w.buf), want, 64<<10), w.blockSize)
	buf := make([]byte, len(w.buf), size)
	copy(buf, w.buf)
	w.buf = buf
}

// flush waits for the block in flight, then sends the full buffer on its
// way and takes the freed one to fill.
func (w *writer) flush() error {
	if err := w.wait(); err != nil {
		return err
	}
	if len(w.ids) == maxBlocks-1 {
		w.err = fmt.Errorf("write %s: object exceeds %d blocks", w.name, maxBlocks)
		return w.err
	}
	block, id := w.buf, w.blockID(len(w.ids))
	w.ids = append(w.ids, id)
	w.flight = make(chan error, 1)
	go func() { w.flight <- w.stage(id, block) }()

	// Blocks grow as the object does; a buffer of the old size is dropped.
	if len(w.ids)%growEvery == 0 {
		w.blockSize = min(2*w.blockSize, MaxBlockSize)
	}
	w.buf, w.spare = w.spare[:0], block
	if cap(w.buf) < w.blockSize {
		w.buf = make([]byte, 0, w.blockSize)
	}
	return nil
}

// wait waits for the block in flight, if any, and records its failure.
func (w *writer) wait() error {
	if w.flight == nil {
		return w.err
	}
	err := <-w.flight
	w.flight = nil
	if err != nil && w.err == nil {
		w.err = w.b.wrap("stage block for", w.name, err)
	}
	return w.err
}

// blockID returns the ID of block i: the writer's random ID and i, in
// base64. All IDs of a blob must have the same length; these do.
func (w *writer) blockID(i int) string {
	var raw [24]byte
	copy(raw[:], w.id[:])
	binary.BigEndian.PutUint64(raw[16:], uint64(i))
	return base64.StdEncoding.EncodeToString(raw[:])
}

// stage uploads one block with its MD5, which the service checks.
func (w *writer) stage(id string, block []byte) error {
	sum := md5.Sum(block)
	_, err := w.blob.StageBlock(w.ctx, id, streaming.NopCloser(bytes.NewReader(block)), &blockblob.StageBlockOptions{
		TransactionalValidation: blob.TransferValidationTypeMD5(sum[:]),
	})
	return err
}

// Close stages the last block and commits the list. Until the commit
// returns, readers see the object as it was before, or not at all.
func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return fmt.Errorf("close %s: %w", w.name, errClosed)
	}
	w.done = true
	defer w.release()

	if err := w.wait(); err != nil {
		return err
	}
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("close %s: %w", w.name, err)
	}
	if len(w.ids) == 0 {
		return w.putWhole()
	}
	if len(w.buf) > 0 {
		id := w.blockID(len(w.ids))
		if err := w.stage(id, w.buf); err != nil {
			return w.b.wrap("stage block for", w.name, err)
		}
		w.ids = append(w.ids, id)
	}
	_, err := w.blob.CommitBlockList(w.ctx, w.ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentMD5: w.whole.Sum(nil)},
	})
	if err != nil {
		return w.b.wrap("commit", w.name, err)
	}
	w.b.log.Debug("wrote blob", "blob", w.b.full(w.name), "bytes", w.size, "blocks", len(w.ids))
	return nil
}

// putWhole uploads an object that fits in one block in a single request.
func (w *writer) putWhole() error {
	sum := md5.Sum(w.buf)
	_, err := w.blob.Upload(w.ctx, streaming.NopCloser(bytes.NewReader(w.buf)), &blockblob.UploadOptions{
		TransactionalValidation: blob.TransferValidationTypeMD5(sum[:]),
	})
	if err != nil {
		return w.b.wrap("upload", w.name, err)
	}
	w.b.log.Debug("wrote blob", "blob", w.b.full(w.name), "bytes", w.size, "blocks", 0)
	return nil
}

// release frees the buffers and ends the writer's context.
func (w *writer) release() {
	w.cancel()
	w.buf, w.spare = nil, nil
}

// Abort drops the writer. Blocks already staged stay uncommitted, invisible
// to readers, until the service discards them (after a week, or at the
// next commit of that blob).
func (w *writer) Abort() error {
	w.cancel() // first, so a Write blocked on a staging block returns soon
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	w.wait()
	w.release()
	return nil
}
