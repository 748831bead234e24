package sample

import (
	"strconv"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// hardwareProfile generates the hardware and firmware assessment: per device
// one Hardware, one Bios and one Processor record.
var hardwareProfile = &profile{
	exportName: "FirmwareHardwareExport",
	perDevice:  3,
	quirks:     hardwareQuirks,
	nullable:   "ComponentVersion",
	flattenKey: "AdditionalFields",
	flattenKeys: []Key{
		{"SystemSKU", schema.String},
		{"SystemFamily", schema.String},
		{"BaseBoardManufacturer", schema.String},
		{"BaseBoardProduct", schema.String},
		{"BaseBoardVersion", schema.String},
		{"DeviceFamily", schema.String},
		{"ChassisType", schema.String},
		{"FirmwareType", schema.String},
		{"SecureBootEnabled", schema.Bool},
		{"TpmVersion", schema.String},
		{"MemoryGB", schema.Int64},
		{"IsVirtualMachine", schema.Bool},
		{"LastInventoryTime", schema.String},
		{"SystemProductName", schema.String},
		{"BoardRevision", schema.Int64},
		{"TotalPhysicalMemoryBytes", schema.Int64},
		{"DiskCount", schema.Int64},
		{"TotalDiskGB", schema.Int64},
		{"NetworkAdapterCount", schema.Int64},
		{"AssetTag", schema.String},
		{"BiosReleaseDate", schema.String},
		{"SmbiosVersion", schema.String},
		{"EmbeddedControllerVersion", schema.String},
		{"UefiSecureBootCapable", schema.Bool},
		{"TpmManufacturer", schema.String},
		{"TpmSpecVersion", schema.String},
		{"VirtualizationBasedSecurity", schema.Bool},
		{"NumberOfCores", schema.Int64},
		{"NumberOfLogicalProcessors", schema.Int64},
		{"ClockSpeedGHz", schema.Double},
		{"L2CacheKB", schema.Int64},
		{"L3CacheKB", schema.Int64},
		{"ProcessorFamily", schema.String},
		{"Architecture", schema.String},
		{"VirtualizationFirmwareEnabled", schema.Bool},
		{"MicrocodeRevision", schema.String},
	},
	newState: func() deviceState { return &hardwareState{} },
}

var componentTypes = [...]string{"Hardware", "Bios", "Processor"}

// hardwareState is one device's hardware, firmware and processor.
type hardwareState struct {
	m          *hwModel
	cpu        *cpuModel
	cores      int
	threads    int
	version    string
	bios       biosRelease
	sku        string
	boardVer   string
	boardRev   int
	secureBoot bool
	vbs        bool
	virtFW     bool
	tpm        tpmChip
	memGB      int
	memBytes   int64
	disks      int
	diskGB     int
	nics       int
	assetTag   string
	ec         string
	microcode  string
	seen       string
	buf        []byte
}

type tpmChip struct{ version, maker, spec string }

var (
	tpmChips = []tpmChip{
		{"2.0", "IFX", "1.38"}, {"2.0", "NTC", "1.38"}, {"2.0", "STM", "1.16"},
		{"2.0", "INTC", "1.38"}, {"2.0", "AMD", "1.59"}, {"1.2", "IFX", "1.2"},
	}
	virtualTPM = tpmChip{"2.0", "MSFT", "1.38"}
	vmCores    = []int{2, 4, 8, 16}
	vmMemory   = []int{4, 8, 16, 32, 64}
)

func (s *hardwareState) reset(r *rng, d *device) {
	s.m = pickModel(r, d.kind)
	s.cpu = &cpuModels[pick(r, s.m.cpus)]
	s.cores, s.threads = s.cpu.cores, s.cpu.threads
	s.memGB = pick(r, s.m.memGB)
	if d.kind == kindVM {
		s.cores = pick(r, vmCores)
		s.threads = s.cores
		s.memGB = pick(r, vmMemory)
	}
	s.version = pick(r, s.m.versions)
	s.bios = pick(r, s.m.bios)
	s.sku = pick(r, s.m.skus)
	s.boardVer = pick(r, s.m.boardVersions)
	s.boardRev = r.between(1, 9)

	s.secureBoot = d.kind == kindVM && r.chance(600) || d.kind != kindVM && r.chance(930)
	s.vbs = s.secureBoot && r.chance(700)
	s.virtFW = d.kind != kindVM && r.chance(950)
	s.tpm = pick(r, tpmChips)
	if d.kind == kindVM {
		s.tpm = virtualTPM
	}

	reserved := int64(r.between(64, 900)) << 20
	s.memBytes = int64(s.memGB)<<30 - reserved
	s.disks = r.between(1, s.m.maxDisks)
	s.diskGB = s.disks * pick(r, s.m.diskGB)
	s.nics = r.between(1, s.m.maxNICs)
	s.assetTag = "No Asset Tag"
	if r.chance(400) {
		s.assetTag = "CON-" + strconv.Itoa(r.between(100000, 999999))
	}
	s.ec = strconv.Itoa(r.between(1, 3)) + "." + strconv.Itoa(r.between(0, 60))
	s.microcode = "0x" + string(r.appendHex(nil, 8))

	s.buf = d.seen.AppendFormat(s.buf[:0], "2006-01-02 15:04:05.000")
	s.seen = string(s.buf)
}

func (s *hardwareState) record(w *recordWriter, d *device, k int) {
	w.str("ComponentType", componentTypes[k])
	switch k {
	case 0:
		w.str("Manufacturer", s.m.vendor)
		w.str("ComponentName", s.m.product)
		w.str("ComponentVersion", s.version)
	case 1:
		w.str("Manufacturer", s.m.biosVendor)
		w.str("ComponentName", s.m.biosName)
		w.str("ComponentVersion", s.bios.version)
	default:
		w.str("Manufacturer", s.cpu.vendor)
		w.str("ComponentName", s.cpu.name)
		w.str("ComponentVersion", s.cpu.version)
	}

	s.common(w, d)
	switch k {
	case 0:
		s.hardware(w)
	case 1:
		s.firmware(w)
	default:
		s.processor(w)
	}
	w.flatten("AdditionalFields")
}

func (s *hardwareState) common(w *recordWriter, d *device) {
	w.fStr("SystemSKU", s.sku)
	w.fStr("SystemFamily", s.m.systemFamily)
	w.fStr("BaseBoardManufacturer", s.m.board)
	w.fStr("BaseBoardProduct", s.m.boardProduct)
	w.fStr("BaseBoardVersion", s.boardVer)
	w.fStr("DeviceFamily", s.m.deviceFamily)
	w.fStr("ChassisType", s.m.chassis)
	w.fStr("FirmwareType", "UEFI")
	w.fBool("SecureBootEnabled", s.secureBoot)
	w.fStr("TpmVersion", s.tpm.version)
	w.fInt("MemoryGB", s.memGB)
	w.fBool("IsVirtualMachine", d.kind == kindVM)
	w.fStr("LastInventoryTime", s.seen)
}

func (s *hardwareState) hardware(w *recordWriter) {
	w.fStr("SystemProductName", s.m.display)
	w.fInt("BoardRevision", s.boardRev)
	w.flat = append(w.flat, value{key: "TotalPhysicalMemoryBytes", kind: kindInt, i: s.memBytes})
	w.fInt("DiskCount", s.disks)
	w.fInt("TotalDiskGB", s.diskGB)
	w.fInt("NetworkAdapterCount", s.nics)
	w.fStr("AssetTag", s.assetTag)
}

func (s *hardwareState) firmware(w *recordWriter) {
	w.fStr("BiosReleaseDate", s.bios.date)
	w.fStr("SmbiosVersion", s.m.smbios)
	w.fStr("EmbeddedControllerVersion", s.ec)
	w.fBool("UefiSecureBootCapable", true)
	w.fStr("TpmManufacturer", s.tpm.maker)
	w.fStr("TpmSpecVersion", s.tpm.spec)
	w.fBool("VirtualizationBasedSecurity", s.vbs)
}

func (s *hardwareState) processor(w *recordWriter) {
	w.fInt("NumberOfCores", s.cores)
	w.fInt("NumberOfLogicalProcessors", s.threads)
	w.fFloat("ClockSpeedGHz", s.cpu.ghz)
	w.fInt("L2CacheKB", s.cpu.l2KB)
	w.fInt("L3CacheKB", s.cpu.l3KB)
	w.fStr("ProcessorFamily", s.cpu.family)
	w.fStr("Architecture", s.cpu.arch)
	w.fBool("VirtualizationFirmwareEnabled", s.virtFW)
	w.fStr("MicrocodeRevision", s.microcode)
}

// pickModel draws a model made for devices of kind k.
func pickModel(r *rng, k deviceKind) *hwModel {
	ms := modelsByKind[k]
	return ms[r.intn(len(ms))]
}

var modelsByKind = func() [4][]*hwModel {
	var by [4][]*hwModel
	for i := range hwModels {
		m := &hwModels[i]
		by[m.kind] = append(by[m.kind], m)
	}
	return by
}()
