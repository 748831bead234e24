package pipeline

// parseTimestamp reads the time text forms the exports write and returns
// microseconds since 1970-01-01 UTC:
//
//	2021-01-11                          a date: its midnight
//	2021-01-11 09:47:58.854             a space or a T between date and time
//	2021-01-11T09:47:58.8540000         1 to 9 fraction digits; beyond µs cut off
//	2021-01-11T09:47:58Z                seconds optional too ("09:47")
//	2021-01-11T09:47:58.854+02:00       or -0530, +02: the offset is applied
//
// A time without a zone is UTC, whatever the machine's time zone: the
// service writes UTC. Years run from 0001 to 9999, after the offset too;
// fields out of range (month 13, 24:00, February 30) do not parse.
func parseTimestamp(b []byte) (int64, bool) {
	p := tsParser{b: b}
	year, ok1 := p.digits(4)
	ok2 := p.byte('-')
	month, ok3 := p.digits(2)
	ok4 := p.byte('-')
	day, ok5 := p.digits(2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, false
	}
	us := daysFromCivil(year, month, day) * microsPerDay
	if p.done() {
		return us, true
	}
	if !p.byte('T') && !p.byte('t') && !p.byte(' ') {
		return 0, false
	}
	clock, ok := p.clock()
	if !ok {
		return 0, false
	}
	us += clock
	if p.done() {
		return us, true
	}
	offset, ok := p.zone()
	if !ok || !p.done() {
		return 0, false
	}
	// An offset must not carry the instant out of the years 0001 to 9999.
	if us -= offset; us < minMicros || us > maxMicros {
		return 0, false
	}
	return us, true
}

// The instants of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.
const (
	minMicros = -62135596800_000000
	maxMicros = 253402300799_999999
)

// tsParser walks a timestamp's text.
type tsParser struct {
	b []byte
	i int
}

func (p *tsParser) done() bool { return p.i == len(p.b) }

// byte consumes c if it comes next.
func (p *tsParser) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// digits reads exactly n decimal digits.
func (p *tsParser) digits(n int) (int64, bool) {
	if p.i+n > len(p.b) {
		return 0, false
	}
	var v int64
	for _, c := range p.b[p.i : p.i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	p.i += n
	return v, true
}

// clock reads hh:mm[:ss[.fffffffff]] as microseconds since midnight.
func (p *tsParser) clock() (int64, bool) {
	h, ok1 := p.digits(2)
	ok2 := p.byte(':')
	m, ok3 := p.digits(2)
	if !(ok1 && ok2 && ok3) || h > 23 || m > 59 {
		return 0, false
	}
	us := (h*3600 + m*60) * 1_000_000
	if !p.byte(':') {
		return us, true
	}
	s, ok := p.digits(2)
	if !ok || s > 59 {
		return 0, false
	}
	us += s * 1_000_000
	if !p.byte('.') && !p.byte(',') {
		return us, true
	}
	start := p.i
	var frac int64
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		if p.i-start < 6 {
			frac = frac*10 + int64(p.b[p.i]-'0')
		}
		p.i++
	}
	n := p.i - start
	if n == 0 || n > 9 {
		return 0, false
	}
	for k := n; k < 6; k++ {
		frac *= 10
	}
	return us + frac, true
}

// zone reads Z, or an offset ±hh, ±hhmm or ±hh:mm, as microseconds east
// of UTC.
func (p *tsParser) zone() (int64, bool) {
	if p.byte('Z') || p.byte('z') {
		return 0, true
	}
	sign := int64(1)
	switch {
	case p.byte('+'):
	case p.byte('-'):
		sign = -1
	default:
		return 0, false
	}
	h, ok := p.digits(2)
	if !ok || h > 23 {
		return 0, false
	}
	var m int64
	if !p.done() {
		p.byte(':')
		if m, ok = p.digits(2); !ok || m > 59 {
			return 0, false
		}
	}
	return sign * (h*3600 + m*60) * 1_000_000, true
}

// daysIn returns the number of days of a month.
func daysIn(year, month int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days from 1970-01-01 to a date of the
// proleptic Gregorian calendar (the algorithm of H. Hinnant's
// "chrono-Compatible Low-Level Date Algorithms").
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
