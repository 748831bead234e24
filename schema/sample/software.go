package sample

import "time"

// The software exports: vulnerabilities (and their changes), inventory and
// inventory without a CPE. They share one device state: its system, and the
// software installed on it.

var softwareVulnerabilitiesProfile = &profile{
	exportName: "SoftwareVulnerabilitiesExport",
	perDevice:  12,
	quirks:     typedQuirks,
	nullable:   "RecommendedSecurityUpdate",
	timeKey:    "FirstSeenTimestamp",
	numberKey:  "CvssScore",
	escapesKey: "RecommendedSecurityUpdate",
	newState:   func() deviceState { return &softwareState{export: exportVulnerabilities} },
}

var vulnerabilityChangesProfile = &profile{
	exportName: "SoftwareVulnerabilityChanges",
	perDevice:  4,
	quirks:     typedQuirks,
	nullable:   "RecommendedSecurityUpdate",
	timeKey:    "FirstSeenTimestamp",
	numberKey:  "CvssScore",
	undocKey:   "CveBatchTitle",
	undocValue: `"2024-11 Cumulative Update"`,
	escapesKey: "RecommendedSecurityUpdate",
	newState:   func() deviceState { return &softwareState{export: exportChanges} },
}

var softwareInventoryProfile = &profile{
	exportName: "SoftwareInventoryExport",
	perDevice:  8,
	quirks:     typedQuirks,
	nullable:   "SoftwareVersion",
	timeKey:    "SoftwareFirstSeenTimestamp",
	numberKey:  "NumberOfWeaknesses",
	escapesKey: "SoftwareName",
	newState:   func() deviceState { return &softwareState{export: exportInventory} },
}

var softwareNonCPEProfile = &profile{
	exportName: "SoftwareInventoryNonCpeExport",
	perDevice:  5,
	quirks:     typedQuirks,
	nullable:   "SoftwareVersion",
	timeKey:    "SoftwareLastSeenTimestamp",
	undocKey:   "RegistryPath",
	undocValue: `"HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\Agent"`,
	escapesKey: "SoftwareName",
	newState:   func() deviceState { return &softwareState{export: exportNonCPE} },
}

// softwareExport says which export a softwareState writes.
type softwareExport uint8

const (
	exportVulnerabilities softwareExport = iota
	exportChanges
	exportInventory
	exportNonCPE
)

// installed is a product on a device.
type installed struct {
	p         *product
	version   string
	firstSeen time.Time
}

// finding is one CVE of one installed product.
type finding struct {
	sw  int // index in softwareState.installed
	cve int // index in the product's cves
}

var changeStatuses = []string{"New", "Fixed", "Updated"}

// softwareState is one device's system and software.
type softwareState struct {
	export    softwareExport
	os        osRelease
	arch      string
	seen      time.Time
	installed []installed // the system first
	findings  []finding
	nonCPE    []int       // indexes in nonCPEProducts
	versions  []string    // version of each nonCPE product
	events    []time.Time // event time of each change record
	statuses  []string    // status of each change record
	mitigated []bool      // per record, whether a mitigation is reported
	buf       []byte
}

func (s *softwareState) reset(r *rng, d *device) {
	s.os, s.arch = drawOS(r, d.kind)
	s.seen = d.seen

	// The system, then up to seven other products of its family.
	s.installed = s.installed[:0]
	s.installed = append(s.installed, installed{p: &products[s.os.product], version: s.os.version,
		firstSeen: d.seen.Add(-time.Duration(r.between(30, 400)) * 24 * time.Hour)})
	others := otherProducts[s.os.family]
	for _, i := range drawDistinct(r, min(7, len(others)), len(others)) {
		p := &products[others[i]]
		ago := time.Duration(r.between(1, 700))*24*time.Hour + time.Duration(r.intn(86400))*time.Second
		s.installed = append(s.installed, installed{p: p, version: pick(r, p.versions), firstSeen: d.seen.Add(-ago)})
	}
	s.findings = s.findings[:0]
	for i, sw := range s.installed {
		for j := range sw.p.cves {
			s.findings = append(s.findings, finding{sw: i, cve: j})
		}
	}

	s.nonCPE, s.versions = s.nonCPE[:0], s.versions[:0]
	var fam []int
	for i, p := range nonCPEProducts {
		if p.family == s.os.family {
			fam = append(fam, i)
		}
	}
	for _, i := range drawDistinct(r, min(5, len(fam)), len(fam)) {
		s.nonCPE = append(s.nonCPE, fam[i])
		s.versions = append(s.versions, pick(r, nonCPEProducts[fam[i]].versions))
	}

	// Per record: when a change happened (within three days before the
	// device's last report) and what it was; whether a mitigation shows.
	s.events, s.statuses, s.mitigated = s.events[:0], s.statuses[:0], s.mitigated[:0]
	for range 12 {
		ago := time.Duration(r.intn(72*3600))*time.Second + time.Duration(r.intn(1000))*time.Millisecond
		s.events = append(s.events, d.seen.Add(-ago))
		s.statuses = append(s.statuses, pick(r, changeStatuses))
		s.mitigated = append(s.mitigated, r.chance(30))
	}
}

func (s *softwareState) record(w *recordWriter, d *device, k int) {
	switch s.export {
	case exportInventory:
		s.inventory(w, k)
	case exportNonCPE:
		s.nonCPERecord(w, k)
	default:
		s.vulnerability(w, d, k)
	}
}

func (s *softwareState) vulnerability(w *recordWriter, d *device, k int) {
	f := s.findings[k%len(s.findings)]
	sw := s.installed[f.sw]
	c := sw.p.cves[f.cve]

	s.buf = append(append(s.buf[:0], d.id...), '_')
	s.buf = append(append(append(s.buf, sw.p.vendor...), '_'), sw.p.name...)
	s.buf = append(append(append(append(s.buf, '_'), sw.version...), '_'), c.id...)
	w.key("Id")
	w.b = appendStringBytes(w.b, s.buf)
	w.str("OSPlatform", s.os.platform)
	w.str("OSVersion", s.os.version)
	w.str("OSArchitecture", s.arch)
	w.str("SoftwareVendor", sw.p.vendor)
	w.str("SoftwareName", sw.p.name)
	w.str("SoftwareVersion", sw.version)
	w.str("CveId", c.id)
	w.str("VulnerabilitySeverityLevel", c.severity)
	w.optStr("RecommendedSecurityUpdate", sw.p.update)
	w.optStr("RecommendedSecurityUpdateId", sw.p.updateID)
	if sw.p.updateID != "" {
		w.str("RecommendedSecurityUpdateUrl", "https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB"+sw.p.updateID)
	} else {
		w.null("RecommendedSecurityUpdateUrl")
	}
	w.list("DiskPaths", sw.p.disk)
	w.list("RegistryPaths", sw.p.registry)
	w.time("FirstSeenTimestamp", sw.firstSeen, textTime)
	w.time("LastSeenTimestamp", s.seen, textTime)
	w.optStr("EndOfSupportStatus", sw.p.eos)
	w.optTime("EndOfSupportDate", sw.p.eosDate, dateOnlyISO)
	w.str("ExploitabilityLevel", c.exploit)
	w.str("RecommendationReference", "va-_-"+sw.p.vendor+"-_-"+sw.p.name)
	w.double("CvssScore", c.score, c.score > 0)
	w.boolean("SecurityUpdateAvailable", c.score > 0)
	if s.mitigated[k%len(s.mitigated)] {
		w.str("CveMitigationStatus", "Mitigated")
	} else {
		w.null("CveMitigationStatus")
	}
	if s.export == exportChanges {
		w.str("Status", s.statuses[k%len(s.statuses)])
		w.time("EventTimestamp", s.events[k%len(s.events)], isoTime)
		w.boolean("IsOnboarded", true)
	}
}

func (s *softwareState) inventory(w *recordWriter, k int) {
	sw := s.installed[k%len(s.installed)]
	weak := len(sw.p.cves)
	if sw.version == sw.p.versions[len(sw.p.versions)-1] && len(sw.p.versions) > 1 {
		weak = 0 // the latest release is patched
	}
	w.str("OSPlatform", s.os.platform)
	w.str("SoftwareVendor", sw.p.vendor)
	w.str("SoftwareName", sw.p.name)
	w.str("SoftwareVersion", sw.version)
	w.integer("NumberOfWeaknesses", weak)
	w.list("DiskPaths", sw.p.disk)
	w.list("RegistryPaths", sw.p.registry)
	w.time("SoftwareFirstSeenTimestamp", sw.firstSeen, textTime)
	w.optStr("EndOfSupportStatus", sw.p.eos)
	w.optTime("EndOfSupportDate", sw.p.eosDate, dateOnlyISO)
}

func (s *softwareState) nonCPERecord(w *recordWriter, k int) {
	i := k % len(s.nonCPE)
	p := &nonCPEProducts[s.nonCPE[i]]
	w.str("OsPlatform", s.os.platform)
	w.str("SoftwareVendor", p.vendor)
	w.str("SoftwareName", p.name)
	w.str("SoftwareVersion", s.versions[i])
	w.time("SoftwareLastSeenTimestamp", s.seen.Add(-time.Duration(i)*time.Hour), textTime)
}
