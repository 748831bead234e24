package sample

import (
	"strconv"
	"time"
)

// Writers of the typed fields of the sibling exports. Each writes its value
// as the service does, or in the form the record's quirk asks for.

// Time text forms the service writes.
const (
	textTime    = "2006-01-02 15:04:05.000"       // most text time fields
	sevenTime   = "2006-01-02 15:04:05.0000000"   // …and with seven fraction digits
	isoTime     = "2006-01-02T15:04:05.000Z"      // DateTimeOffset fields
	offsetTime  = "2006-01-02T15:04:05.000-07:00" // ISO 8601 with an offset
	dateOnlyISO = "2006-01-02T00:00:00Z"          // dates such as endOfSupportDate
)

// plusTwo is the zone quirkTimeOffset writes times in.
var plusTwo = time.FixedZone("+02:00", 2*3600)

// time writes a time field in layout, or as the quirk asks.
func (w *recordWriter) time(k string, t time.Time, layout string) {
	w.key(k)
	switch {
	case w.quirk == quirkTimeBad && k == w.prof.timeKey:
		w.b = appendString(w.b, badTime)
		return
	case w.quirk == quirkFieldNull && k == w.prof.nullable:
		w.b = append(w.b, "null"...)
		return
	case w.quirk == quirkTimeISO:
		layout = isoTime
	case w.quirk == quirkTimeSeven:
		layout = sevenTime
	case w.quirk == quirkTimeOffset:
		t, layout = t.In(plusTwo), offsetTime
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, layout)
	w.b = append(w.b, '"')
}

// optTime writes a time field, or null when t is zero.
func (w *recordWriter) optTime(k string, t time.Time, layout string) {
	if t.IsZero() {
		w.null(k)
		return
	}
	w.time(k, t, layout)
}

// list writes a list of strings as a JSON array, or as the quirk asks.
func (w *recordWriter) list(k string, vs []string) {
	w.key(k)
	switch w.quirk {
	case quirkEmptyList:
		w.b = append(w.b, "[]"...)
		return
	case quirkListText:
		w.scratch = appendArray(w.scratch[:0], vs)
		w.b = appendStringBytes(w.b, w.scratch)
		return
	}
	w.b = appendArray(w.b, vs)
}

func appendArray(b []byte, vs []string) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

// double writes a number; null when ok is false.
func (w *recordWriter) double(k string, f float64, ok bool) {
	if w.spoilNumber(k) {
		return
	}
	if !ok {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = appendFloat(w.b, f)
}

// integer writes an integer.
func (w *recordWriter) integer(k string, n int) {
	if w.spoilNumber(k) {
		return
	}
	w.b = strconv.AppendInt(w.b, int64(n), 10)
}

// spoilNumber writes the key, and the spoilt value when the quirk is about
// this number, reporting whether it did.
func (w *recordWriter) spoilNumber(k string) bool {
	w.key(k)
	if k != w.prof.numberKey {
		return false
	}
	switch w.quirk {
	case quirkNullNumber:
		w.b = append(w.b, "null"...)
		return true
	case quirkBadNumber:
		w.b = appendString(w.b, badNumber)
		return true
	}
	return false
}

// boolean writes true or false, or their text when the quirk asks.
func (w *recordWriter) boolean(k string, v bool) {
	w.key(k)
	switch {
	case w.quirk == quirkBoolText && v:
		w.b = append(w.b, `"True"`...)
	case w.quirk == quirkBoolText:
		w.b = append(w.b, `"False"`...)
	default:
		w.b = strconv.AppendBool(w.b, v)
	}
}

// null writes a key whose value is null.
func (w *recordWriter) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

// optStr writes a text field, or null when v is empty.
func (w *recordWriter) optStr(k, v string) {
	if v == "" {
		w.null(k)
		return
	}
	w.str(k, v)
}

// mustDate parses a YYYY-MM-DD date of a catalog.
func mustDate(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic("BUG: catalog date " + s)
	}
	return t
}
