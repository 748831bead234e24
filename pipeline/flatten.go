package pipeline

import (
	"bytes"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/valyala/fastjson"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// keyRegistry is the run-wide record of the flattened keys: the column each
// goes to, the kind its values have had so far, and the spellings seen. It
// only grows and widens; every change bumps its version.
type keyRegistry struct {
	mu        sync.RWMutex
	cols      []*keyCol
	byFold    map[string]*keyCol
	byName    map[string]*keyCol // every column by its name: names are unique
	contested map[string]bool    // ColumnNames two columns have asked for
	version   uint64
}

// keyCol is one flattened column: the keys that spell it, and its kind.
type keyCol struct {
	id        uint32
	fold      string // FoldKey of its keys
	name      string // the column name of the best spelling seen
	first     string // that spelling
	kind      schema.Kind
	spellings map[string]bool
}

func newKeyRegistry() *keyRegistry {
	return &keyRegistry{byFold: map[string]*keyCol{}, byName: map[string]*keyCol{}, contested: map[string]bool{}}
}

// lookup returns the column of key, adding it if it is new.
//
// Keys that differ only in letter case or punctuation ("SystemSKU",
// "SYSTEMSKU", "system_sku") are one column. Its name comes from the
// spelling namesBetter prefers, so it does not depend on the order records
// arrive in; a better spelling met later renames the column, and files
// written before are rewritten at the end like any other change.
func (r *keyRegistry) lookup(key string) *keyCol {
	fold := schema.FoldKey(key)
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.byFold[fold]
	if c == nil && len(r.cols) >= MaxFlattenedColumns {
		return nil
	}
	if c == nil {
		c = &keyCol{id: uint32(len(r.cols)), fold: fold, first: key, spellings: map[string]bool{}}
		r.cols = append(r.cols, c)
		r.byFold[fold] = c
		r.rename(c, schema.ColumnName(key))
		r.version++
	} else if key != c.first && namesBetter(key, c.first) {
		c.first = key
		if name := schema.ColumnName(key); name != c.name {
			r.rename(c, name)
			r.version++
		}
	}
	c.spellings[key] = true
	return c
}

// rename gives c the column name base, a ColumnName, or when another column
// has asked for the same name, a name made distinct by c's folded key; the
// other column is then renamed likewise (a rename, as any other, has files
// written before rewritten). Two columns never share a name: their values
// would be lost.
func (r *keyRegistry) rename(c *keyCol, base string) {
	if c.name != "" && r.byName[c.name] == c {
		delete(r.byName, c.name)
	}
	name := base
	if other := r.byName[base]; other != nil || r.contested[base] {
		r.contested[base] = true
		name = schema.DistinctColumnName(base, c.fold)
		if other != nil {
			delete(r.byName, base)
			other.name = schema.DistinctColumnName(base, other.fold)
			r.byName[other.name] = other
		}
	}
	c.name = name
	r.byName[name] = c
}

// widen merges k into the kind of column c.
func (r *keyRegistry) widen(c *keyCol, k schema.Kind) {
	r.mu.RLock()
	same := schema.Merge(c.kind, k) == c.kind
	r.mu.RUnlock()
	if same {
		return
	}
	r.mu.Lock()
	if m := schema.Merge(c.kind, k); m != c.kind {
		c.kind = m
		r.version++
	}
	r.mu.Unlock()
}

// MaxFlattenedColumns bounds the flattened columns of a snapshot. Keys met
// once that many columns exist get none: their values stay in the raw text
// of the flattened field, and are counted. (Parquet files hold at most 65,534
// columns, and every column costs each open file memory.)
const MaxFlattenedColumns = 1024

// regSnapshot is the registry as it was at one moment.
type regSnapshot struct {
	kinds map[string]schema.Kind // by column name
	byID  []schema.Kind          // by column id
	ids   map[string]uint32      // column id by name
}

// namesBetter reports whether spelling a names a column better than b: the
// one that shows more word boundaries ("SystemSKU" → af_system_sku, not
// "SYSTEMSKU" → af_systemsku), then the first in byte order.
func namesBetter(a, b string) bool {
	wa, wb := strings.Count(schema.Snake(a), "_"), strings.Count(schema.Snake(b), "_")
	if wa != wb {
		return wa > wb
	}
	return a < b
}

// snapshot returns the columns, their names and kinds as they are now.
func (r *keyRegistry) snapshot() regSnapshot {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := regSnapshot{
		kinds: make(map[string]schema.Kind, len(r.cols)),
		byID:  make([]schema.Kind, len(r.cols)),
		ids:   make(map[string]uint32, len(r.cols)),
	}
	for _, c := range r.cols {
		s.kinds[c.name] = c.kind
		s.byID[c.id] = c.kind
		s.ids[c.name] = c.id
	}
	return s
}

// mapping returns, for each column, the keys seen for it, sorted: the
// key → column mapping stored in every file's metadata.
func (r *keyRegistry) mapping() map[string][]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := make(map[string][]string, len(r.cols))
	for _, c := range r.cols {
		keys := make([]string, 0, len(c.spellings))
		for k := range c.spellings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m[c.name] = keys
	}
	return m
}

// flattener turns one record's JSON document into flattened values. Each
// decode worker has its own; they share the registry.
type flattener struct {
	reg      *keyRegistry
	cache    map[string]*keyCol // by key as spelled
	kinds    []schema.Kind      // this flattener's view of each column's kind
	prev     []prevKey          // the keys of the last record, in order
	pos      int                // position in prev of the next key
	overflow int64              // values of keys past MaxFlattenedColumns
	stamp    []uint32           // by column id: gen of the last record that set it
	gen      uint32             // the current record's stamp
	scanning bool               // the scanner's document is in hand
	parser   fastjson.Parser    // documents the scanner leaves
	sc       objScanner
	nested   fastjson.Parser // objects and arrays the scanner meets
	bail     bool            // the document in hand is to be left to fastjson
	lit      []byte
}

// prevKey remembers a key of the last record: records of one export spell
// the same keys in the same order, so the column of the key at each position
// is found by one comparison rather than a map lookup.
type prevKey struct {
	key []byte
	col *keyCol
}

func newFlattener(reg *keyRegistry) *flattener {
	f := &flattener{reg: reg, cache: map[string]*keyCol{}}
	f.sc.nested = &f.nested
	return f
}

// scan flattens the document in raw, text in dst's arena, with the one-pass
// scanner: values without escapes are not copied but spanned where they lie
// in the document. It reports done false, having undone what it did, when
// the document is for fastjson to read: not an object, beyond the scanner,
// or about to change the registry (a key or spelling this flattener has not
// met, a kind widening). The registry must not change for a document
// fastjson may then refuse; such changes are rare. When done, ok and dups
// are as flatten's. q, when it indexes raw, tells where its strings end.
func (f *flattener) scan(dst *rows, raw span, q *quoteIndex) (ok bool, dups int, done bool) {
	if !f.sc.openIndexed(dst.text(raw), int(raw.off), q) {
		return false, 0, false
	}
	mark := dst.mark()
	f.newRecord()
	f.bail, f.scanning = false, true
	defer func() { f.scanning = false }()
	for {
		k, v, st := f.sc.next()
		if st == scanEnd {
			return true, dups, true
		}
		if st == scanBail {
			break
		}
		if dups += f.add(dst, k, v); f.bail {
			break
		}
	}
	dst.rollback(mark)
	return false, 0, false
}

// newRecord starts the keys of a record.
func (f *flattener) newRecord() {
	f.gen++
	if f.gen == 0 { // wrapped: stamps of old records could match
		clear(f.stamp)
		f.gen = 1
	}
	f.pos = 0
}

// flatten appends the values of doc, a JSON object or an array of objects or
// of key/value pairs, to dst. It reports false when doc holds nothing that
// flattens (a scalar, or an array of scalars); the raw text is kept anyway.
// A key met twice in one record keeps its first value; the count of such
// duplicates is returned.
func (f *flattener) flatten(dst *rows, doc *fastjson.Value) (ok bool, dups int) {
	f.newRecord()
	switch doc.Type() {
	case fastjson.TypeObject:
		o, _ := doc.Object()
		o.Visit(func(k []byte, v *fastjson.Value) { dups += f.add(dst, k, fjval(v)) })
		return true, dups
	case fastjson.TypeArray:
		items, _ := doc.Array()
		ok = len(items) == 0
		for _, it := range items {
			o, err := it.Object()
			if err != nil {
				continue
			}
			ok = true
			if k, v, isPair := keyValuePair(o); isPair {
				dups += f.add(dst, k, fjval(v))
				continue
			}
			o.Visit(func(k []byte, v *fastjson.Value) { dups += f.add(dst, k, fjval(v)) })
		}
		return ok, dups
	}
	return false, 0
}

// keyValuePair recognises {"Key": "k", "Value": v} (or "Name" for "Key"),
// in any letter case, as the array-of-pairs form of additionalFields.
func keyValuePair(o *fastjson.Object) ([]byte, *fastjson.Value, bool) {
	if o.Len() != 2 {
		return nil, nil, false
	}
	var key []byte
	var val *fastjson.Value
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch {
		case bytes.EqualFold(k, []byte("key")) || bytes.EqualFold(k, []byte("name")):
			if s, err := v.StringBytes(); err == nil {
				key = s
			}
		case bytes.EqualFold(k, []byte("value")):
			val = v
		}
	})
	return key, val, key != nil && val != nil
}

// add appends one key's value. It returns 1 when the key's column was
// already set in this record, and then adds nothing.
func (f *flattener) add(dst *rows, k []byte, v jval) int {
	c := f.column(k)
	if c == nil {
		if !f.scanning {
			f.overflow++
		}
		return 0
	}
	for int(c.id) >= len(f.kinds) {
		f.kinds = append(f.kinds, schema.KindNull)
		f.stamp = append(f.stamp, 0)
	}
	if f.stamp[c.id] == f.gen {
		return 1
	}
	f.stamp[c.id] = f.gen

	a := afVal{col: uint16(c.id)}
	a.kind, a.num, a.text = f.value(dst, v)
	// The registry is only asked when this flattener has not seen the
	// column's kind widen to a's: kinds rarely change, so decoders seldom
	// contend for its lock.
	if m := schema.Merge(f.kinds[c.id], a.kind); m != f.kinds[c.id] {
		if f.scanning {
			f.bail = true
			return 0
		}
		f.kinds[c.id] = m
		f.reg.widen(c, a.kind)
	}
	if a.kind != schema.KindNull {
		dst.afs = append(dst.afs, a)
	}
	return 0
}

// column returns the column of key k.
func (f *flattener) column(k []byte) *keyCol {
	if f.pos < len(f.prev) && bytes.Equal(f.prev[f.pos].key, k) {
		f.pos++
		return f.prev[f.pos-1].col
	}
	c := f.cache[string(k)]
	if c == nil {
		if f.scanning {
			f.bail = true
			return nil
		}
		if c = f.reg.lookup(string(k)); c == nil {
			return nil
		}
		f.cache[string(k)] = c
	}
	if f.pos < len(f.prev) {
		f.prev[f.pos] = prevKey{key: append(f.prev[f.pos].key[:0], k...), col: c}
	} else if len(f.prev) < 256 {
		f.prev = append(f.prev, prevKey{key: bytes.Clone(k), col: c})
	}
	f.pos++
	return c
}

// value classifies v and stores its text: a string unescaped, anything else
// as written. Text that already lies in the arena (a value the scanner found
// in the document, without escapes) is spanned where it is.
func (f *flattener) value(dst *rows, v jval) (schema.Kind, uint64, span) {
	var k schema.Kind
	var num uint64
	switch v.t {
	case fastjson.TypeNull:
		return schema.KindNull, 0, span{}
	case fastjson.TypeString:
		k = schema.KindString
		if v.esc {
			s, ok := dst.putUnescaped(v.text)
			f.bail = !ok
			return s.kind, 0, s
		}
	case fastjson.TypeTrue:
		k, num = schema.KindBool, 1
	case fastjson.TypeFalse:
		k = schema.KindBool
	case fastjson.TypeNumber:
		k, num = classifyNumber(v.text)
	default:
		f.lit = appendJSON(f.lit[:0], v.node)
		return schema.KindJSON, 0, dst.put(validUTF8(f.lit), schema.KindJSON)
	}
	if v.at >= 0 {
		return k, num, span{off: uint32(v.at), n: uint32(len(v.text)), kind: k}
	}
	return k, num, dst.put(validUTF8(v.text), k)
}

// shortInt reads an integer of at most 15 digits, the common case, which
// fits a KindInt whatever its digits; it reports false for anything else.
func shortInt(lit []byte) (int64, bool) {
	digits := lit
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) < len(lit) {
		n = -n
	}
	return n, true
}

// classifyNumber tells what a JSON number literal is and returns its value as
// int64 or float64 bits.
func classifyNumber(lit []byte) (schema.Kind, uint64) {
	if n, ok := shortInt(lit); ok {
		return schema.KindInt, uint64(n)
	}
	if bytes.ContainsAny(lit, ".eE") {
		x, err := strconv.ParseFloat(string(lit), 64)
		if err != nil || math.IsInf(x, 0) {
			return schema.KindBigNum, 0
		}
		return schema.KindFloat, math.Float64bits(x)
	}
	n, err := strconv.ParseInt(string(lit), 10, 64)
	if err != nil {
		return schema.KindBigNum, 0
	}
	if n > 1<<53 || n < -(1<<53) {
		return schema.KindWideInt, uint64(n)
	}
	return schema.KindInt, uint64(n)
}
