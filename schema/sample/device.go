package sample

import (
	"strconv"
	"time"
)

// profile is what it takes to generate one dataset. Adding a dataset means
// writing its deviceState and registering a profile in profiles.
type profile struct {
	exportName   string            // folder in file paths ("FirmwareHardwareExport")
	perDevice    int               // records per device
	quirks       []quirk           // the record quirks, in turn
	nullable     string            // documented key that quirkFieldNull sets to null
	timeKey      string            // time key that quirkTimeBad spoils
	numberKey    string            // number key that quirkNullNumber and quirkBadNumber spoil
	undocKey     string            // undocumented key quirkUndocumented adds; defaults to IsOnboarded
	undocValue   string            // its JSON value; defaults to true
	escapesKey   string            // text key that quirkEscapes fills with quotes and backslashes
	docNames     map[string]string // key → the documentation example's name, for quirkDocNames
	noDeviceName bool              // records carry no DeviceName
	flattenKey   string            // key of the flattened document, PascalCase
	flattenKeys  []Key             // keys of the flattened document, with Quirks off
	newState     func() deviceState
}

// deviceState is one device's dataset-specific values. A generator keeps
// one and resets it for each device it reaches.
type deviceState interface {
	// reset draws the device's values from r, after the common ones.
	reset(r *rng, d *device)
	// record writes the dataset's keys of the device's k-th record, after
	// DeviceId, RbacGroupId, RbacGroupName and (unless the profile says
	// noDeviceName) DeviceName.
	record(w *recordWriter, d *device, k int)
}

var profiles = map[string]*profile{
	"hardware_firmware":          hardwareProfile,
	"software_vulnerabilities":   softwareVulnerabilitiesProfile,
	"vulnerability_changes":      vulnerabilityChangesProfile,
	"secure_configuration":       secureConfigurationProfile,
	"software_inventory":         softwareInventoryProfile,
	"software_inventory_non_cpe": softwareNonCPEProfile,
	"browser_extensions":         browserExtensionsProfile,
	"certificates":               certificatesProfile,
	"security_baselines":         securityBaselinesProfile,
}

// deviceKind is what a device is used as; it steers names and models.
type deviceKind uint8

const (
	kindLaptop deviceKind = iota
	kindDesktop
	kindServer
	kindVM
)

// groupForm is how a device's record carries its RBAC group id.
type groupForm uint8

const (
	formID         groupForm = iota // a number; 0 for unassigned devices
	formUnassigned                  // the string "Unassigned"
	formNone                        // the string "None", name "None"
)

// device holds the values every dataset's records share.
type device struct {
	index int
	id    []byte // 40 hex digits
	name  string
	kind  deviceKind
	group *group
	form  groupForm
	seen  time.Time // last time the device reported its inventory
}

var (
	domains   = []string{"corp.contoso.com", "emea.corp.contoso.com", "apac.corp.contoso.com", "contoso.local", "fabrikam.com"}
	sites     = []string{"ams", "sea", "ldn", "syd", "zrh", "nyc", "sin", "fra"}
	roles     = []string{"sql", "web", "app", "dc", "file", "print", "build", "k8s", "rds", "exch"}
	alnum     = "abcdefghijklmnopqrstuvwxyz0123456789"
	kindShare = [...]int{500, 250, 120, 130} // per mille, by deviceKind
)

// reset draws the common values of device index from r.
func (d *device) reset(r *rng, index int, g *group, generated time.Time) {
	d.index, d.group = index, g
	d.id = r.appendHex(d.id[:0], 40)
	d.kind = drawKind(r)
	d.name = drawName(r, d.kind)

	ago := time.Duration(r.between(300, 72*3600))*time.Second + time.Duration(r.intn(1000))*time.Millisecond
	d.seen = generated.Add(-ago)
}

// unassignedForm is how the n-th device of the unassigned group carries its
// group: one in twelve as "None", two in twelve as "Unassigned", the rest as
// 0. Counting rather than drawing puts every form in a small export.
func unassignedForm(n int) groupForm {
	switch n % 12 {
	case 5:
		return formNone
	case 2, 9:
		return formUnassigned
	}
	return formID
}

func drawKind(r *rng) deviceKind {
	n := r.intn(1000)
	for k, share := range kindShare {
		if n < share {
			return deviceKind(k)
		}
		n -= share
	}
	return kindLaptop
}

func drawName(r *rng, k deviceKind) string {
	b := make([]byte, 0, 48)
	switch k {
	case kindLaptop:
		if r.chance(300) {
			b = append(b, "desktop-"...)
			for i := 0; i < 7; i++ {
				b = append(b, alnum[r.intn(len(alnum))])
			}
		} else {
			b = append(b, "lt-"...)
			b = strconv.AppendInt(b, int64(r.between(10000, 99999)), 10)
		}
	case kindDesktop:
		b = append(b, "ws-"...)
		b = append(b, pick(r, sites)...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(r.between(1000, 9999)), 10)
	case kindServer:
		b = append(b, "srv-"...)
		b = append(b, pick(r, roles)...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(r.between(100, 999)), 10)
	case kindVM:
		b = append(b, "vm-"...)
		b = append(b, pick(r, roles)...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(r.between(1000, 9999)), 10)
	}
	if !r.chance(150) {
		b = append(b, '.')
		b = append(b, pick(r, domains)...)
	}
	return string(b)
}
