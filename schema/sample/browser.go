package sample

import "time"

// The browser extensions inventory.

var browserExtensionsProfile = &profile{
	exportName:   "BrowserExtensionsInventoryExport",
	perDevice:    4,
	noDeviceName: true,
	quirks:       typedQuirks,
	nullable:     "ExtensionDescription",
	timeKey:      "InstallationTime",
	undocKey:     "Permissions",
	undocValue:   `["tabs","storage","<all_urls>"]`,
	escapesKey:   "ExtensionDescription",
	newState:     func() deviceState { return &browserState{} },
}

// extension is a browser extension as the inventory reports it.
type extension struct {
	browser, id, name, vendor, risk string
	description                     string
	versions                        []string
}

var extensions = []extension{
	{"Edge", "odfafepnkmbhccpbejgmiehpchacaeak", "uBlock Origin", "Raymond Hill", "Medium", "Finally, an efficient blocker. Easy on CPU and memory.", []string{"1.60.0", "1.61.2"}},
	{"Edge", "jmjflgjpcpepeafmmgdpfkogkghcpiha", "Microsoft Editor: Spelling & Grammar Checker", "Microsoft Corporation", "High", "Write with confidence across the web.", []string{"1.45.1"}},
	{"Edge", "kbfnbcaeplbcioakkpcpgfkobkghlhen", "Grammarly: AI Writing and Grammar Checker App", "Grammarly", "High", "Improve your writing with Grammarly's communication assistance.", []string{"14.1200.0"}},
	{"Edge", "ldgfbffkinooeloadekpmfoklnobpien", "Microsoft Power Automate", "Microsoft Corporation", "Critical", "Automate tasks with Power Automate for desktop.", []string{"2.50.0.0"}},
	{"Chrome", "cjpalhdlnbpafiamejdnhcphjbkeiagm", "uBlock Origin", "Raymond Hill", "Medium", "Finally, an efficient blocker. Easy on CPU and memory.", []string{"1.60.0"}},
	{"Chrome", "ghbmnnjooekpmoecnnnilnnbdlolhkhi", "Google Docs Offline", "Google", "Low", "Edit, create and view your documents without internet access.", []string{"1.83.1", "1.84.0"}},
	{"Chrome", "nmmhkkegccagdldgiimedpiccmgmieda", "Chrome Web Store Payments", "Google", "Low", "", []string{"1.0.0.6"}},
	{"Chrome", "nngceckbapebfimnlniiiahkandclblb", "Bitwarden Password Manager", "Bitwarden Inc.", "High", "A secure and free password manager for all of your devices.", []string{"2024.10.1"}},
	{"Chrome", "hdokiejnpimakedhajhdlcegeplioahd", "LastPass: Free Password Manager", "LastPass", "High", "LastPass, an award-winning password manager.", []string{"4.136.0"}},
	{"Chrome", "aapbdbdomjkkjkaonfhkkikfgjllcleb", "Google Translate", "Google", "Medium", "View translations easily as you browse the web.", []string{"2.0.16"}},
	{"Firefox", "uBlock0@raymondhill.net", "uBlock Origin", "Raymond Hill", "Medium", "Finally, an efficient wide-spectrum content blocker.", []string{"1.60.0"}},
	{"Firefox", "{446900e4-71c2-419f-a6a7-df9c091e268b}", "Bitwarden Password Manager", "Bitwarden Inc.", "High", "A secure and free password manager for all of your devices.", []string{"2024.10.1"}},
}

// browserState is one device's extensions.
type browserState struct {
	exts      []int
	versions  []string
	installed []time.Time
	active    []bool
}

func (s *browserState) reset(r *rng, d *device) {
	s.exts, s.versions, s.installed, s.active = s.exts[:0], s.versions[:0], s.installed[:0], s.active[:0]
	for _, i := range drawDistinct(r, 4, len(extensions)) {
		s.exts = append(s.exts, i)
		s.versions = append(s.versions, pick(r, extensions[i].versions))
		ago := time.Duration(r.between(1, 900))*24*time.Hour + time.Duration(r.intn(86400))*time.Second
		s.installed = append(s.installed, d.seen.Add(-ago))
		s.active = append(s.active, r.chance(850))
	}
}

func (s *browserState) record(w *recordWriter, d *device, k int) {
	i := k % len(s.exts)
	e := &extensions[s.exts[i]]
	w.time("InstallationTime", s.installed[i], isoTime)
	w.str("BrowserName", e.browser)
	w.str("ExtensionId", e.id)
	w.str("ExtensionName", e.name)
	w.optStr("ExtensionDescription", e.description)
	w.str("ExtensionVersion", s.versions[i])
	w.str("ExtensionRisk", e.risk)
	w.str("ExtensionVendor", e.vendor)
	w.boolean("IsActivated", s.active[i])
}
