package sample

import (
	"strconv"
	"time"
)

// The configuration exports: secure configuration assessment and security
// baselines compliance.

var secureConfigurationProfile = &profile{
	exportName: "SecureConfigurationsAssessmentExport",
	perDevice:  10,
	quirks:     typedQuirks,
	nullable:   "ConfigurationSubcategory",
	timeKey:    "Timestamp",
	numberKey:  "ConfigurationImpact",
	escapesKey: "ConfigurationName",
	newState:   func() deviceState { return &configState{} },
}

var securityBaselinesProfile = &profile{
	exportName: "BaselineComplianceAssessmentExport",
	perDevice:  6,
	quirks:     typedQuirks,
	nullable:   "ComplianceEvaluationDetails",
	timeKey:    "DataCollectionTimeOffset",
	escapesKey: "ComplianceEvaluationDetails",
	newState:   func() deviceState { return &configState{baselines: true} },
}

// configuration is one secure configuration the service assesses.
type configuration struct {
	family                 osFamily
	id, category, subcat   string
	name                   string
	impact                 float64
	userImpact, compliance bool // whether applying it affects users; whether most devices comply
}

var configurations = []configuration{
	{famWindows, "scid-2000", "Security controls", "Antivirus", "Turn on Microsoft Defender Antivirus", 9, false, true},
	{famWindows, "scid-2001", "Security controls", "Antivirus", "Turn on real-time protection", 8, false, true},
	{famWindows, "scid-2010", "Security controls", "Antivirus", "Update Microsoft Defender Antivirus definitions", 7, false, true},
	{famWindows, "scid-91", "Security controls", "BitLocker", "Encrypt all BitLocker-supported drives", 6, true, false},
	{famWindows, "scid-2070", "Network", "Firewall", "Turn on Microsoft Defender Firewall", 6, false, true},
	{famWindows, "scid-44", "OS", "Account Policies", "Set minimum password length to 14 or more characters", 5, true, false},
	{famWindows, "scid-59", "Accounts", "User Account Control", "Enable 'Run all administrators in Admin Approval Mode'", 4, false, true},
	{famWindows, "scid-3001", "OS", "SMB", "Disable SMBv1 client driver", 3, false, true},
	{famWindows, "scid-2503", "Application", "Office", "Block Win32 API calls from Office macros", 5, true, false},
	{famWindows, "scid-5001", "Security controls", "Attack Surface Reduction", "Block credential stealing from the Windows local security authority subsystem", 7.5, false, false},
	{famWindows, "scid-23", "OS", "Remote Desktop", "Require secure RPC communication for Remote Desktop Services", 2, false, true},
	{famWindows, "scid-1003", "Network", "TLS", "Disable TLS 1.0 for server communication", 3.5, true, false},
	{famLinux, "scid-6090", "Security controls", "Antivirus", "Turn on real-time protection of Microsoft Defender for Endpoint on Linux", 8, false, true},
	{famLinux, "scid-6095", "Network", "SSH", "Disable root login over SSH", 5, true, false},
	{famLinux, "scid-6101", "OS", "Updates", "Install security updates automatically", 4.5, false, true},
	{famLinux, "scid-6120", "Accounts", "Password Policies", "Set password expiration to 365 days or less", 2.5, true, false},
}

// baselineProfile is a security baseline and its checks.
type baselineProfile struct {
	family osFamily
	id     string
	checks []baselineCheck
}

type baselineCheck struct {
	id          string
	recommended []string
	compliant   []string // a compliant device's current values
	drift       []string // a non-compliant device's
	source      []string
	details     string
}

const policies = `HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\`

var baselineProfiles = []baselineProfile{
	{famWindows, "0f3c4b5e-6a1d-4c8e-9f2b-7d1e3a5c9b21", []baselineCheck{
		{"1.1.1", []string{"24"}, []string{"24"}, []string{"0"}, []string{"SecEdit: PasswordHistorySize"}, "Password history is enforced"},
		{"1.1.4", []string{"14"}, []string{"14"}, []string{"8"}, []string{"SecEdit: MinimumPasswordLength"}, "Minimum password length"},
		{"2.3.1.1", []string{"0"}, []string{"0"}, []string{}, []string{`HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Lsa\NoConnectedUser`}, "Block Microsoft accounts"},
		{"18.9.47.5.1", []string{"1"}, []string{"1"}, []string{"0"}, []string{policies + `Windows Defender\Real-Time Protection\DisableRealtimeMonitoring`}, "Real-time protection stays on"},
		{"18.10.57.3.9.1", []string{"1", "2"}, []string{"2"}, []string{"0"}, []string{policies + `Windows NT\Terminal Services\fPromptForPassword`, policies + `Windows NT\Terminal Services\MinEncryptionLevel`}, "Remote Desktop asks for a password"},
		{"19.7.8.1", []string{"1"}, []string{"1"}, []string{}, []string{`HKEY_USERS\S-1-5-21\SOFTWARE\Policies\Microsoft\Windows\CloudContent\DisableWindowsSpotlightFeatures`}, "Windows Spotlight is off"},
	}},
	{famLinux, "7b2e9d41-3f6a-4e0b-8c5d-2a9f1e4b6c83", []baselineCheck{
		{"1.1.1.1", []string{"install cramfs /bin/true"}, []string{"install cramfs /bin/true"}, []string{}, []string{"/etc/modprobe.d/cramfs.conf"}, "cramfs is disabled"},
		{"5.2.10", []string{"no"}, []string{"no"}, []string{"yes"}, []string{"/etc/ssh/sshd_config"}, "PermitRootLogin"},
		{"5.3.1", []string{"5"}, []string{"5"}, []string{"3"}, []string{"/etc/security/pwquality.conf"}, "Password retries"},
		{"1.5.1", []string{"2"}, []string{"2"}, []string{"0"}, []string{"/proc/sys/kernel/randomize_va_space", "/etc/sysctl.conf"}, "Address space layout randomization"},
		{"4.1.1.1", []string{"active"}, []string{"active"}, []string{"inactive"}, []string{"systemctl is-active auditd"}, "auditd runs"},
		{"6.1.2", []string{"0644"}, []string{"0644"}, []string{"0666"}, []string{"/etc/passwd"}, "Permissions of /etc/passwd"},
	}},
}

// configState is one device's configuration and its assessment.
type configState struct {
	baselines bool
	os        osRelease
	seen      time.Time
	configs   []int  // indexes in configurations of the device's family
	comply    []bool // per record
	buf       []byte
}

func (s *configState) reset(r *rng, d *device) {
	s.os, _ = drawOS(r, d.kind)
	s.seen = d.seen
	s.configs = s.configs[:0]
	for i, c := range configurations {
		if c.family == s.os.family {
			s.configs = append(s.configs, i)
		}
	}
	s.comply = s.comply[:0]
	for range 10 {
		s.comply = append(s.comply, r.chance(700))
	}
}

func (s *configState) record(w *recordWriter, d *device, k int) {
	if s.baselines {
		s.baseline(w, d, k)
		return
	}
	c := &configurations[s.configs[k%len(s.configs)]]
	w.str("OsPlatform", s.os.platform)
	w.str("OsVersion", s.os.version)
	w.time("Timestamp", s.seen.Add(-time.Duration(k)*time.Minute), textTime)
	w.str("ConfigurationId", c.id)
	w.str("ConfigurationCategory", c.category)
	w.str("ConfigurationSubcategory", c.subcat)
	w.double("ConfigurationImpact", c.impact, true)
	w.boolean("IsCompliant", c.compliance == s.comply[k%len(s.comply)])
	w.boolean("IsApplicable", true)
	w.boolean("IsExpectedUserImpact", c.userImpact)
	w.str("ConfigurationName", c.name)
	w.str("RecommendationReference", "sca-_-"+c.id)
}

func (s *configState) baseline(w *recordWriter, d *device, k int) {
	p := &baselineProfiles[s.os.family]
	c := &p.checks[k%len(p.checks)]
	ok := s.comply[k%len(s.comply)]
	current := c.compliant
	if !ok {
		current = c.drift
	}

	s.buf = append(append(append(s.buf[:0], d.id...), '_'), p.id...)
	s.buf = append(append(s.buf, '_'), c.id...)
	w.key("Id")
	w.b = appendStringBytes(w.b, s.buf)
	w.str("ConfigurationId", c.id)
	w.str("ProfileId", p.id)
	w.str("OsPlatform", s.os.platform)
	w.str("OsVersion", s.os.version)
	w.boolean("IsApplicable", true)
	w.boolean("IsCompliant", ok)
	w.time("DataCollectionTimeOffset", s.seen, isoTime)
	w.time("ComplianceCalculationTimeOffset", s.seen.Add(17*time.Minute+time.Duration(k)*time.Second), isoTime)
	w.list("RecommendedValue", c.recommended)
	w.list("CurrentValue", current)
	w.list("RawValue", current)
	w.list("Source", c.source)
	w.boolean("IsExempt", false)
	w.str("ComplianceEvaluationDetails", c.details+": "+strconv.Itoa(len(current))+" value(s) read")
}
