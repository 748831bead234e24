package sample

import (
	"strconv"
	"strings"
)

// valueKind is the JSON type of a flattened value.
type valueKind uint8

const (
	kindString valueKind = iota
	kindInt
	kindFloat
	kindBool
	kindRaw // JSON text written as is
)

// value is one key of a flattened document.
type value struct {
	key  string
	kind valueKind
	s    string
	i    int64
	f    float64
}

func (v value) append(b []byte) []byte {
	switch v.kind {
	case kindInt:
		return strconv.AppendInt(b, v.i, 10)
	case kindFloat:
		return appendFloat(b, v.f)
	case kindBool:
		return strconv.AppendBool(b, v.i != 0)
	case kindRaw:
		return append(b, v.s...)
	}
	return appendString(b, v.s)
}

// recordWriter builds one record. Generators call its methods in the order
// the keys should appear; it applies the record's quirk as they go.
type recordWriter struct {
	b      []byte
	casing Casing
	quirk  quirk
	prof   *profile
	n      int // keys written so far

	flat    []value // the flattened document being gathered
	scratch []byte  // the flattened document as JSON text
}

var longValue = strings.Repeat("0123456789abcdef", longLen/16)

func (w *recordWriter) begin(b []byte, q quirk, c Casing) {
	w.b, w.quirk, w.casing, w.n = append(b, '{'), q, c, 0
	if q == quirkOtherCasing {
		w.casing = 1 - c
	}
	w.flat = w.flat[:0]
}

func (w *recordWriter) end() []byte {
	if w.quirk == quirkUndocumented {
		k, v := w.prof.undocKey, w.prof.undocValue
		if k == "" {
			k, v = extraColumn, "true"
		}
		w.key(k)
		w.b = append(w.b, v...)
	}
	return append(w.b, '}')
}

func (w *recordWriter) key(k string) {
	if w.quirk == quirkDocNames && w.prof.docNames[k] != "" {
		k = w.prof.docNames[k]
	}
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = appendKey(w.b, k, w.casing)
}

// str writes a documented string field.
func (w *recordWriter) str(k, v string) {
	w.key(k)
	if w.quirk == quirkFieldNull && k == w.prof.nullable {
		w.b = append(w.b, "null"...)
		return
	}
	if w.quirk == quirkEscapes && k == w.prof.escapesKey {
		v = escapesValue
	}
	w.b = appendString(w.b, v)
}

// group writes the RBAC group id and name the way the device carries them.
func (w *recordWriter) group(g *group, form groupForm) {
	switch {
	case w.quirk == quirkGroupMissing:
	case form == formUnassigned:
		w.key("RbacGroupId")
		w.b = appendString(w.b, unassignedStr)
	case form == formNone:
		w.key("RbacGroupId")
		w.b = appendString(w.b, groupNoneName)
	case w.quirk == quirkGroupText:
		w.key("RbacGroupId")
		w.b = append(w.b, '"')
		w.b = strconv.AppendInt(w.b, int64(g.id), 10)
		w.b = append(w.b, '"')
	default:
		w.key("RbacGroupId")
		w.b = strconv.AppendInt(w.b, int64(g.id), 10)
	}
	name := g.name
	if form == formNone {
		name = groupNoneName
	}
	w.str("RbacGroupName", name)
}

// Flattened values, gathered until flatten writes them.
func (w *recordWriter) fStr(k, v string) { w.flat = append(w.flat, value{key: k, s: v}) }
func (w *recordWriter) fInt(k string, v int) {
	w.flat = append(w.flat, value{key: k, kind: kindInt, i: int64(v)})
}
func (w *recordWriter) fFloat(k string, v float64) {
	w.flat = append(w.flat, value{key: k, kind: kindFloat, f: v})
}
func (w *recordWriter) fBool(k string, v bool) {
	var i int64
	if v {
		i = 1
	}
	w.flat = append(w.flat, value{key: k, kind: kindBool, i: i})
}

// flatten writes the gathered values as a JSON document carried in the
// string field k, shaped by the record's quirk.
func (w *recordWriter) flatten(k string) {
	w.applyValueQuirk()
	switch w.quirk {
	case quirkFlattenAbsent:
		return
	case quirkFlattenNull:
		w.key(k)
		w.b = append(w.b, "null"...)
		return
	case quirkFlattenEmpty:
		w.key(k)
		w.b = append(w.b, `""`...)
		return
	}

	s := w.scratch[:0]
	switch w.quirk {
	case quirkFlattenPairs:
		s = appendPairs(s, w.flat)
	case quirkFlattenObjects:
		half := len(w.flat) / 2
		s = append(s, '[')
		s = appendObject(s, w.flat[:half])
		s = append(s, ',')
		s = appendObject(s, w.flat[half:])
		s = append(s, ']')
	default:
		s = appendObject(s, w.flat)
	}
	w.scratch = s
	w.key(k)
	w.b = appendStringBytes(w.b, s)
}

// applyValueQuirk changes or adds the flattened value the quirk is about.
func (w *recordWriter) applyValueQuirk() {
	switch w.quirk {
	case quirkMixedType:
		w.set(value{key: mixedKey, s: mixedValue})
	case quirkBigInt:
		w.set(value{key: bigIntKey, kind: kindRaw, s: bigInt})
	case quirkNested:
		w.set(value{key: nestedKey, kind: kindRaw, s: nestedValue})
	case quirkLongLine:
		w.set(value{key: longKey, s: longValue})
	case quirkEscapes:
		w.set(value{key: escapesKey, s: escapesValue})
	}
}

func (w *recordWriter) set(v value) {
	for i := range w.flat {
		if w.flat[i].key == v.key {
			w.flat[i] = v
			return
		}
	}
	w.flat = append(w.flat, v)
}

func appendObject(b []byte, vs []value) []byte {
	b = append(b, '{')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v.key)
		b = append(b, ':')
		b = v.append(b)
	}
	return append(b, '}')
}

func appendPairs(b []byte, vs []value) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Key":`...)
		b = appendString(b, v.key)
		b = append(b, `,"Value":`...)
		b = v.append(b)
		b = append(b, '}')
	}
	return append(b, ']')
}
