package sample

// rng is SplitMix64: tiny, fast, and defined here so that the output never
// changes with the Go release. Every device and file draws from its own
// stream, derived from the seed and its index, so that any of them can be
// generated alone and in any order.
type rng struct{ s uint64 }

// Streams keep the draws of unrelated things apart.
const (
	streamExport uint64 = iota + 1 // groups, ids and names of the export
	streamDevice                   // one device's values
	streamGroup                    // a device's group in a Mixed export
)

func newRNG(seed int64, stream, index uint64) rng {
	return rng{s: mix64(uint64(seed) ^ mix64(stream<<56^index))}
}

func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n must be positive and below 2^32.
func (r *rng) intn(n int) int {
	return int((r.next() >> 32) * uint64(n) >> 32)
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// chance reports true with probability per/1000.
func (r *rng) chance(per int) bool { return r.intn(1000) < per }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

const hexDigits = "0123456789abcdef"

// appendHex appends n random lowercase hex digits.
func (r *rng) appendHex(b []byte, n int) []byte {
	var v uint64
	for i := 0; i < n; i++ {
		if i%16 == 0 {
			v = r.next()
		}
		b = append(b, hexDigits[v&15])
		v >>= 4
	}
	return b
}

// uuid returns a random version 4 UUID in its text form.
func (r *rng) uuid() string {
	b := r.appendHex(make([]byte, 0, 36), 32)
	b[12] = '4'
	b[16] = "89ab"[r.intn(4)]
	out := make([]byte, 0, 36)
	out = append(out, b[0:8]...)
	out = append(out, '-')
	out = append(out, b[8:12]...)
	out = append(out, '-')
	out = append(out, b[12:16]...)
	out = append(out, '-')
	out = append(out, b[16:20]...)
	out = append(out, '-')
	out = append(out, b[20:32]...)
	return string(out)
}
