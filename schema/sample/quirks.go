package sample

// quirk is one oddity of a record that readers of real exports must survive.
type quirk int

const (
	quirkNone quirk = iota

	quirkFlattenPairs   // additionalFields is an array of {"Key":..,"Value":..}
	quirkFlattenObjects // additionalFields is an array of objects
	quirkFlattenEmpty   // additionalFields is ""
	quirkFlattenNull    // additionalFields is null
	quirkFlattenAbsent  // additionalFields is missing
	quirkMixedType      // a key that holds integers elsewhere holds "v3"
	quirkBigInt         // an integer beyond int64 and float64 precision
	quirkNested         // a value that is itself an object
	quirkLongLine       // a value long enough to outgrow a 64 KiB line buffer
	quirkEscapes        // quotes, backslashes, tabs and non-ASCII text
	quirkUndocumented   // an undocumented top-level column
	quirkOtherCasing    // top-level keys in the other casing
	quirkGroupMissing   // no rbacGroupId key at all
	quirkGroupText      // rbacGroupId as a string of digits ("39")
	quirkFieldNull      // a documented field is null

	// The quirks of the exports with typed fields.
	quirkTimeISO    // times in ISO 8601 with Z ("2026-11-29T10:11:12.345Z")
	quirkTimeSeven  // times with seven fraction digits ("2026-11-29 10:11:12.3450000")
	quirkTimeOffset // times in ISO 8601 with an offset ("…T12:11:12.345+02:00")
	quirkTimeBad    // the profile's timeKey holds text that is no time
	quirkEmptyList  // every list is []
	quirkListText   // lists are strings holding a JSON array
	quirkNullNumber // the profile's numberKey is null
	quirkBadNumber  // the profile's numberKey holds "n/a"
	quirkBoolText   // booleans are the strings "True" and "False"
	quirkDocNames   // the field names of the documentation's example (aliases)
)

// hardwareQuirks are the quirks of the hardware export, in turn.
var hardwareQuirks = []quirk{
	quirkFlattenPairs, quirkFlattenObjects, quirkFlattenEmpty, quirkFlattenNull, quirkFlattenAbsent,
	quirkMixedType, quirkBigInt, quirkNested, quirkLongLine, quirkEscapes, quirkUndocumented,
	quirkOtherCasing, quirkGroupMissing, quirkGroupText, quirkFieldNull,
}

// typedQuirks are the quirks of the exports with typed fields, in turn.
var typedQuirks = []quirk{
	quirkTimeISO, quirkEmptyList, quirkNullNumber, quirkUndocumented, quirkTimeSeven,
	quirkOtherCasing, quirkTimeBad, quirkListText, quirkGroupText, quirkTimeOffset,
	quirkEscapes, quirkBadNumber, quirkFieldNull, quirkBoolText, quirkGroupMissing,
}

// quirkEvery is the spacing of quirky records: one in quirkEvery records
// carries a quirk, taking each of the profile's in turn, so that an export
// of quirkEvery*len(quirks) records or more holds every one of them.
const quirkEvery = 20

// recordQuirk returns the quirk of the j-th record of an export whose
// profile has the quirks cycle.
func recordQuirk(cycle []quirk, quirks bool, j int) quirk {
	if !quirks || j%quirkEvery != quirkEvery-1 {
		return quirkNone
	}
	return cycle[(j/quirkEvery)%len(cycle)]
}

// Values the quirks write.
const (
	bigInt        = "18446744073709551616123"
	mixedKey      = "BoardRevision"
	mixedValue    = "v3"
	bigIntKey     = "TotalPhysicalMemoryBytes"
	nestedKey     = "MemorySlots"
	nestedValue   = `{"Used":2,"Total":4,"Labels":["DIMM1","DIMM2"]}`
	longKey       = "InventoryNotes"
	longLen       = 80 << 10
	escapesKey    = "Description"
	escapesValue  = "Intel(R) Core(TM) \"vPro\" \u2014 C:\\Windows\\System32\tZ\u00fcrich \u2713"
	extraColumn   = "IsOnboarded"
	badTime       = "0000-00-00 00:00:00"
	badNumber     = "n/a"
	groupNoneName = "None"
	unassignedStr = "Unassigned"
)

// fileQuirks are the oddities of a whole file. Each goes to one file of the
// export, the first four files taking one each when there are that many.
type fileQuirks struct {
	bom       bool // starts with a UTF-8 byte order mark
	crlf      bool // lines end in CR LF
	blankTail bool // ends with blank lines
	members   int  // gzip members; 1 unless multi-member
}

func fileQuirksOf(quirks bool, index, files int) fileQuirks {
	fq := fileQuirks{members: 1}
	if !quirks {
		return fq
	}
	fq.bom = index == 0
	fq.crlf = index == 1%files
	fq.blankTail = index == 2%files
	if index == 3%files {
		fq.members = 3
	}
	return fq
}
