package pipeline

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// Reasons a record is set aside.
const (
	reasonNotJSON   = "not valid JSON"
	reasonNotObject = "not a JSON object"
	reasonNoDevice  = "no device id"
	reasonNoEvent   = "no event time" // of a dataset partitioned by event
	reasonTooDeep   = "nested deeper than the 300 levels read"
)

// reject is a line set aside: where it came from, why, and its text.
type reject struct {
	input  int
	line   int64
	reason string
	raw    []byte
}

// decodeStats are a decoder's counts, summed into the run's Summary.
type decodeStats struct {
	records       int64 // non-blank lines
	rejected      int64
	invalidUTF8   int64 // records whose text had invalid UTF-8 replaced
	unflattenable int64 // flatten documents that were not an object or array of objects
	duplicateKeys int64 // flattened keys met twice in one record (first kept)
	unconverted   int64 // typed field values that did not convert, kept in extra_fields
}

// decoder turns lines of one dataset's records into rows. Each decode worker
// owns one; it is not safe for concurrent use.
type decoder struct {
	ds     *schema.Dataset
	fields map[string]int // lower-case key → index in ds.Fields
	device int            // index of the device id field
	group  int            // index of the group id field, or -1
	flat   int            // index of the field to flatten, or -1
	event  int            // index of the event time field, or -1
	hints  []string       // group hint per input

	parser   fastjson.Parser // lines the scanner leaves
	sc       objScanner
	nested   fastjson.Parser // objects and arrays the scanner meets
	slowOnly bool            // decode every line with fastjson (tests compare the two)
	scanning bool            // the line in hand is the scanner's
	bail     bool            // the line in hand is to be left to fastjson
	line     lineState
	prevKeys []prevField // the last record's keys, in order
	pos      int         // position in prevKeys of the next key
	fl       *flattener
	key      []byte     // scratch: lower-cased key
	lit      []byte     // scratch: a value as written
	unesc    []byte     // scratch: a string unescaped
	quotes   quoteIndex // where the flatten field's quotes are, read by stringInto
	extra    []byte     // scratch: the record's extra_fields object
	stats    decodeStats

	inputRecords  []int64 // records per input index
	inputRejected []int64 // rejects per input index
}

// prevField remembers a key of the last record and its field, -1 for none.
type prevField struct {
	key   []byte
	field int
}

// perInput adds records and rejects to input i's counts.
func (d *decoder) perInput(i int, records, rejected int64) {
	for len(d.inputRecords) <= i {
		d.inputRecords = append(d.inputRecords, 0)
		d.inputRejected = append(d.inputRejected, 0)
	}
	d.inputRecords[i] += records
	d.inputRejected[i] += rejected
}

func newDecoder(ds *schema.Dataset, reg *keyRegistry, hints []string) *decoder {
	d := &decoder{ds: ds, fields: map[string]int{}, group: -1, flat: -1, event: -1, hints: hints, fl: newFlattener(reg)}
	d.sc.nested = &d.nested
	for i, f := range ds.Fields {
		for _, k := range append([]string{f.Key}, f.Aliases...) {
			d.fields[string(lower(nil, []byte(k)))] = i
		}
		switch f.Key {
		case ds.DeviceKey:
			d.device = i
		case ds.GroupIDKey:
			d.group = i
		case ds.FlattenKey:
			d.flat = i
		}
		if ds.Partitioning == schema.ByEvent && f.Key == ds.EventTimeKey {
			d.event = i
		}
	}
	return d
}

// decodeChunk appends the records of c's lines to dst and the lines that are
// not records to rejects. Blank lines are skipped.
func (d *decoder) decodeChunk(c chunk, dst *rows, rejects []reject) []reject {
	line := c.firstLine
	for data := c.data; len(data) > 0; line++ {
		text := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			text, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		text = bytes.TrimPrefix(bytes.TrimRight(text, "\r"), []byte("\xef\xbb\xbf"))
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		d.stats.records++
		if reason := d.decodeLine(c.input, line, text, dst); reason != "" {
			d.stats.rejected++
			rejects = append(rejects, reject{input: c.input, line: line, reason: reason, raw: bytes.Clone(text)})
		}
	}
	return rejects
}

// decodeLine appends the record in text to dst, or returns why it cannot.
func (d *decoder) decodeLine(input int, line int64, text []byte, dst *rows) string {
	if !utf8.Valid(text) {
		text = bytes.ToValidUTF8(text, []byte("\uFFFD"))
		d.stats.invalidUTF8++
	}
	if !d.slowOnly {
		if reason, ok := d.scanLine(input, line, text, dst); ok {
			return reason
		}
	}
	return d.parseLine(input, line, text, dst)
}

// scanLine decodes text with the one-pass scanner. It reports false, having
// undone what it did, when the line is for fastjson to decode.
func (d *decoder) scanLine(input int, line int64, text []byte, dst *rows) (string, bool) {
	d.scanning = true
	defer func() { d.scanning = false }()
	if !d.sc.open(text, -1) {
		return "", false
	}
	st := d.begin(input, line, dst)
	for {
		k, state := d.sc.key()
		if state == scanEnd {
			break
		}
		if state == scanBail {
			d.undo(st, dst)
			return "", false
		}
		i, known := d.fieldIndex(k)
		var v jval
		var ok bool
		if known && i == d.flat && st.vals[i].kind == schema.KindNull {
			v, ok = d.sc.stringInto(dst, &d.quotes)
		}
		if !ok {
			v, ok = d.sc.value()
		}
		if !ok || !d.sc.sep() {
			d.undo(st, dst)
			return "", false
		}
		if d.field(dst, st, k, i, known, v); d.bail {
			d.undo(st, dst)
			return "", false
		}
	}
	return d.finish(st, dst), true
}

// parseLine decodes text with fastjson.
func (d *decoder) parseLine(input int, line int64, text []byte, dst *rows) string {
	v, err := d.parser.ParseBytes(text)
	if err != nil {
		if strings.Contains(err.Error(), "too big depth") {
			// fastjson.MaxDepth; its message, repeated once a level, says
			// why only at the end.
			return reasonTooDeep
		}
		return reasonNotJSON + ": " + err.Error()
	}
	// fastjson takes numbers such as 1-2, .5 or NaN, and control characters
	// in strings; they would reach extra_fields as invalid JSON.
	if err := json.Unmarshal(text, new(json.RawMessage)); err != nil {
		return reasonNotJSON + ": " + err.Error()
	}
	obj, err := v.Object()
	if err != nil {
		return reasonNotObject
	}
	st := d.begin(input, line, dst)
	obj.Visit(func(k []byte, v *fastjson.Value) {
		i, known := d.fieldIndex(k)
		d.field(dst, st, k, i, known, fjval(v))
	})
	return d.finish(st, dst)
}

// lineState is one record's decoding in progress. Its values are appended
// to the rows in place, and undone when the record is rejected.
type lineState struct {
	start       rowsMark
	unconverted int64 // the count before this record
	m           rowMeta
	vals        []span
	seenGroup   bool
	flat        jval // the value of the field to flatten
	hasFlat     bool
}

func (d *decoder) begin(input int, line int64, dst *rows) *lineState {
	st := &d.line
	*st = lineState{
		start:       dst.mark(),
		unconverted: d.stats.unconverted,
		m:           rowMeta{input: int32(input), line: line, lo: uint32(len(dst.arena)), afLo: uint32(len(dst.afs))},
	}
	base := len(dst.vals)
	for range d.ds.Fields {
		dst.vals = append(dst.vals, span{})
	}
	st.vals = dst.vals[base:]
	// Only a document this line's stringInto unescaped may use the index.
	d.quotes.usable = false
	d.extra = append(d.extra[:0], '{')
	d.pos, d.bail = 0, false
	return st
}

// undo takes back a record begun.
func (d *decoder) undo(st *lineState, dst *rows) {
	dst.rollback(st.start)
	d.stats.unconverted = st.unconverted
}

// field takes one key of the record and its value; i is the key's field,
// when ok.
func (d *decoder) field(dst *rows, st *lineState, k []byte, i int, ok bool, v jval) {
	vals := st.vals
	switch {
	case !ok:
		d.addExtra(k, v) // undocumented key
	case vals[i].kind != schema.KindNull || (i == d.group && st.seenGroup):
		if v.t != fastjson.TypeNull {
			d.addExtra(k, v) // the same key again, in other letter case
		}
	case i == d.group:
		st.seenGroup = v.t != fastjson.TypeNull
		if d.groupValue(&st.m, v) {
			d.addExtra(k, v)
		}
	case d.ds.Fields[i].Type != schema.String:
		// A value that does not convert stays NULL; its text is kept.
		var ok bool
		if vals[i], ok = d.convert(dst, d.ds.Fields[i].Type, v); !ok {
			d.stats.unconverted++
			d.addExtra(k, v)
		}
	default:
		vals[i] = d.fieldValue(dst, v)
		if i == d.flat && vals[i].kind != schema.KindNull {
			st.flat, st.hasFlat = v, true
		}
	}
}

// fieldIndex returns the index of the documented field key k names.
// Records of one export spell the same keys in the same order, so the key
// at each position is first compared with the last record's.
func (d *decoder) fieldIndex(k []byte) (int, bool) {
	if d.pos < len(d.prevKeys) && bytes.Equal(d.prevKeys[d.pos].key, k) {
		i := d.prevKeys[d.pos].field
		d.pos++
		return i, i >= 0
	}
	d.key = lower(d.key[:0], k)
	i, ok := d.fields[string(d.key)]
	if !ok {
		i = -1
	}
	if d.pos < len(d.prevKeys) {
		d.prevKeys[d.pos] = prevField{key: append(d.prevKeys[d.pos].key[:0], k...), field: i}
	} else if len(d.prevKeys) < 256 {
		d.prevKeys = append(d.prevKeys, prevField{key: bytes.Clone(k), field: i})
	}
	d.pos++
	return i, ok
}

// finish completes the record begun, or undoes it and returns why it is
// rejected.
func (d *decoder) finish(st *lineState, dst *rows) string {
	vals, m := st.vals, &st.m
	if dev := vals[d.device]; dev.kind == schema.KindNull || len(bytes.TrimSpace(dst.text(dev))) == 0 {
		d.undo(st, dst)
		return reasonNoDevice
	}
	if d.event >= 0 {
		ev := vals[d.event]
		if ev.kind == schema.KindNull {
			d.undo(st, dst)
			return reasonNoEvent
		}
		m.date = eventDay(dst.text(ev))
	}
	if !st.seenGroup {
		// Only a record with no group of its own takes its file's.
		if g, err := strconv.ParseInt(d.hints[m.input], 10, 64); err == nil {
			m.group, m.hasGroup = g, true
		}
	}
	if st.hasFlat {
		d.flattenField(dst, st.flat, vals[d.flat])
	}
	if len(d.extra) > 1 {
		d.extra = append(d.extra, '}')
		m.extra = dst.put(d.extra, schema.KindJSON)
	}
	m.hi = uint32(len(dst.arena))
	m.afHi = uint32(len(dst.afs))
	dst.meta = append(dst.meta, *m)
	return ""
}

// groupValue reads the group id into m. It reports whether the value must
// also be kept in extra_fields: a group that is not an integer ("Unassigned",
// "None") goes to the NULL partition, and its text is not lost.
func (d *decoder) groupValue(m *rowMeta, v jval) bool {
	var s []byte
	switch v.t {
	case fastjson.TypeNull:
		return false
	case fastjson.TypeNumber:
		s = v.text
	case fastjson.TypeString:
		s = d.str(v)
	default:
		return true
	}
	bits := 64
	if d.ds.Fields[d.group].Type == schema.Int32 {
		bits = 32
	}
	g, err := strconv.ParseInt(string(bytes.TrimSpace(s)), 10, bits)
	if err != nil {
		return true
	}
	m.group, m.hasGroup = g, true
	return false
}

// fieldValue stores a documented field's value: a string unescaped, anything
// else as written.
func (d *decoder) fieldValue(dst *rows, v jval) span {
	switch v.t {
	case fastjson.TypeNull:
		return span{}
	case fastjson.TypeString:
		if v.at >= 0 { // read into the arena already (stringInto)
			return span{off: uint32(v.at), n: uint32(len(v.text)), kind: schema.KindString}
		}
		if v.esc {
			s, ok := dst.putUnescaped(v.text)
			d.bail = !ok
			return s
		}
		return dst.put(validUTF8(v.text), schema.KindString)
	}
	lit := v.text
	k := schema.KindJSON
	switch v.t {
	case fastjson.TypeNumber:
		k, _ = classifyNumber(lit)
	case fastjson.TypeTrue, fastjson.TypeFalse:
		k = schema.KindBool
	case fastjson.TypeObject, fastjson.TypeArray:
		d.lit = appendJSON(d.lit[:0], v.node)
		lit = d.lit
	}
	return dst.put(validUTF8(lit), k)
}

// str returns a string value's text, unescaped. An escape the scanner
// leaves to fastjson marks the line for it.
func (d *decoder) str(v jval) []byte {
	if !v.esc {
		return v.text
	}
	var ok bool
	if d.unesc, ok = appendUnescaped(d.unesc[:0], v.text); !ok {
		d.bail = true
	}
	return d.unesc
}

// flattenField flattens the document held by the flatten field: the text of
// a string, or the object or array itself.
func (d *decoder) flattenField(dst *rows, v jval, raw span) {
	doc := v.node
	if doc != nil && v.text != nil {
		// The scanner's: its parser has read other values since, so the
		// document is read again from its text, which was valid JSON.
		doc, _ = d.fl.parser.ParseBytes(v.text)
	}
	if v.t == fastjson.TypeString {
		text := dst.text(raw)
		if len(bytes.TrimSpace(text)) == 0 {
			return
		}
		if !d.slowOnly {
			if ok, dups, done := d.fl.scan(dst, raw, &d.quotes); done {
				if !ok {
					d.stats.unflattenable++
				}
				d.stats.duplicateKeys += int64(dups)
				return
			}
		}
		var err error
		if doc, err = d.fl.parser.ParseBytes(text); err != nil || !json.Valid(text) {
			d.stats.unflattenable++
			return
		}
	}
	if doc == nil { // a number or boolean: nothing to flatten
		d.stats.unflattenable++
		return
	}
	ok, dups := d.fl.flatten(dst, doc)
	if !ok {
		d.stats.unflattenable++
	}
	d.stats.duplicateKeys += int64(dups)
}

// addExtra adds "key": value to the record's extra_fields object.
func (d *decoder) addExtra(k []byte, v jval) {
	if len(d.extra) > 1 {
		d.extra = append(d.extra, ',')
	}
	d.extra = appendJSONString(d.extra, k)
	d.extra = append(d.extra, ':')
	switch v.t {
	case fastjson.TypeString:
		d.extra = appendJSONString(d.extra, validUTF8(d.str(v)))
	case fastjson.TypeObject, fastjson.TypeArray:
		d.extra = appendJSON(d.extra, v.node)
	default:
		d.extra = append(d.extra, v.text...) // numbers as written, true, false, null
	}
}

// lower appends b in ASCII lower case to dst.
func lower(dst, b []byte) []byte {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// validUTF8 returns b, or a copy with invalid sequences replaced by U+FFFD.
// Escapes such as a lone surrogate can decode to invalid UTF-8 even in a
// valid line.
func validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD"))
}

// appendJSON appends v as JSON text. fastjson's own MarshalTo quotes
// strings the Go way (\x00, \a), which is not JSON.
func appendJSON(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return appendJSONString(dst, validUTF8(s))
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		first := true
		o.Visit(func(k []byte, e *fastjson.Value) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, validUTF8(k))
			dst = append(dst, ':')
			dst = appendJSON(dst, e)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		items, _ := v.Array()
		dst = append(dst, '[')
		for i, e := range items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, e)
		}
		return append(dst, ']')
	}
	return v.MarshalTo(dst) // numbers as written, true, false, null
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// mark and rollback undo a partly appended row.
type rowsMark struct{ arena, vals, afs int }

func (r *rows) mark() rowsMark {
	return rowsMark{len(r.arena), len(r.vals), len(r.afs)}
}

func (r *rows) rollback(m rowsMark) {
	r.arena, r.vals, r.afs = r.arena[:m.arena], r.vals[:m.vals], r.afs[:m.afs]
}
