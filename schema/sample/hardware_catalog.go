package sample

// hwModel is a computer model as the hardware inventory reports it.
type hwModel struct {
	kind          deviceKind
	vendor        string // Hardware manufacturer, lowercase as exports carry it
	product       string // Hardware component name
	display       string // SystemProductName
	versions      []string
	systemFamily  string
	skus          []string
	board         string
	boardProduct  string
	boardVersions []string
	deviceFamily  string
	chassis       string
	biosVendor    string
	biosName      string
	bios          []biosRelease
	smbios        string
	cpus          []int // indexes into cpuModels
	memGB         []int
	diskGB        []int
	maxDisks      int
	maxNICs       int
}

type biosRelease struct{ version, date string }

// cpuModel is a processor as the inventory reports it.
type cpuModel struct {
	vendor  string
	name    string
	version string // family.model.stepping
	family  string
	cores   int
	threads int
	ghz     float64
	l2KB    int
	l3KB    int
	arch    string
}

var cpuModels = []cpuModel{
	{"intel", "core_i7-1185g7", "6.140.1", "Intel Core i7", 4, 8, 3.0, 5120, 12288, "x64"},
	{"intel", "core_i5-1145g7", "6.140.1", "Intel Core i5", 4, 8, 2.6, 5120, 8192, "x64"},
	{"intel", "core_i7-1265u", "6.154.4", "Intel Core i7", 10, 12, 1.8, 6656, 12288, "x64"},
	{"intel", "core_i5-1245u", "6.154.4", "Intel Core i5", 10, 12, 1.6, 6656, 12288, "x64"},
	{"intel", "core_i7-12800h", "6.154.3", "Intel Core i7", 14, 20, 2.4, 11776, 24576, "x64"},
	{"intel", "core_i5-10500", "6.165.3", "Intel Core i5", 6, 12, 3.1, 1536, 12288, "x64"},
	{"intel", "core_i7-10700", "6.165.5", "Intel Core i7", 8, 16, 2.9, 2048, 16384, "x64"},
	{"intel", "xeon_gold_6338", "6.106.6", "Intel Xeon", 32, 64, 2.0, 40960, 49152, "x64"},
	{"intel", "xeon_silver_4314", "6.106.6", "Intel Xeon", 16, 32, 2.4, 20480, 24576, "x64"},
	{"intel", "xeon_platinum_8272cl", "6.85.7", "Intel Xeon", 26, 52, 2.6, 26624, 36608, "x64"},
	{"amd", "ryzen_7_4980u", "23.96.1", "AMD Ryzen 7", 8, 16, 2.0, 4096, 8192, "x64"},
	{"amd", "epyc_7763", "25.1.1", "AMD EPYC", 64, 128, 2.45, 32768, 262144, "x64"},
	{"amd", "ryzen_7_pro_5850u", "25.80.0", "AMD Ryzen 7 PRO", 8, 16, 1.9, 4096, 16384, "x64"},
	{"intel", "core_i7-11850h", "6.141.1", "Intel Core i7", 8, 16, 2.5, 10240, 24576, "x64"},
	{"qualcomm", "snapdragon_8cx_gen_3", "8.1.0", "Qualcomm Snapdragon", 8, 8, 2.69, 6144, 8192, "arm64"},
}

var hwModels = []hwModel{
	{
		kind: kindLaptop, vendor: "dell", product: "latitude_7420", display: "Latitude 7420",
		versions: []string{"1.0", "a01"}, systemFamily: "Latitude", skus: []string{"0A6E"},
		board: "Dell Inc.", boardProduct: "07MHG4", boardVersions: []string{"A00", "A01"},
		deviceFamily: "Workstation", chassis: "Notebook",
		biosVendor: "dell", biosName: "latitude_7420_system_firmware",
		bios:   []biosRelease{{"1.14.1", "2021-11-09"}, {"1.21.0", "2022-09-13"}, {"1.31.1", "2023-11-21"}, {"1.38.0", "2024-08-20"}},
		smbios: "3.3", cpus: []int{0, 1, 13}, memGB: []int{16, 32}, diskGB: []int{256, 512}, maxDisks: 1, maxNICs: 3,
	},
	{
		kind: kindLaptop, vendor: "dell", product: "precision_5570", display: "Precision 5570",
		versions: []string{"1.0"}, systemFamily: "Precision", skus: []string{"0AFF"},
		board: "Dell Inc.", boardProduct: "0HJ2JP", boardVersions: []string{"A00"},
		deviceFamily: "Workstation", chassis: "Notebook",
		biosVendor: "dell", biosName: "precision_5570_system_firmware",
		bios:   []biosRelease{{"1.12.0", "2023-01-10"}, {"1.19.0", "2023-10-17"}, {"1.25.0", "2024-07-09"}},
		smbios: "3.4", cpus: []int{4}, memGB: []int{32, 64}, diskGB: []int{512, 1024}, maxDisks: 1, maxNICs: 2,
	},
	{
		kind: kindLaptop, vendor: "hp", product: "elitebook_840_g8_notebook_pc", display: "HP EliteBook 840 G8 Notebook PC",
		versions: []string{"sbkpf", "sbkpfv3"}, systemFamily: "103C_5336AN HP EliteBook",
		skus:  []string{"3C6C1EA#ABD", "358P6EA#UUG", "4L0L0EA#ABU"},
		board: "HP", boardProduct: "880D", boardVersions: []string{"KBC Version 30.55.00", "KBC Version 30.63.00"},
		deviceFamily: "Workstation", chassis: "Notebook",
		biosVendor: "hp", biosName: "t37_firmware",
		bios:   []biosRelease{{"01.11.00", "2022-07-13"}, {"01.14.20", "2023-08-02"}, {"01.17.00", "2024-05-21"}},
		smbios: "3.3", cpus: []int{0, 1}, memGB: []int{8, 16, 32}, diskGB: []int{256, 512}, maxDisks: 1, maxNICs: 3,
	},
	{
		kind: kindLaptop, vendor: "lenovo", product: "thinkpad_t14_gen_3", display: "ThinkPad T14 Gen 3",
		versions: []string{"thinkpad_t14_gen_3"}, systemFamily: "ThinkPad T14 Gen 3",
		skus:  []string{"LENOVO_MT_21AH_BU_Think_FM_ThinkPad T14 Gen 3"},
		board: "LENOVO", boardProduct: "21AHCTO1WW", boardVersions: []string{"SDK0T76530 WIN"},
		deviceFamily: "Workstation", chassis: "Notebook",
		biosVendor: "lenovo", biosName: "thinkpad_t14_gen_3_firmware",
		bios:   []biosRelease{{"1.34", "2023-03-28"}, {"1.48", "2024-01-16"}, {"1.55", "2024-09-03"}},
		smbios: "3.4", cpus: []int{2, 3}, memGB: []int{16, 32}, diskGB: []int{512}, maxDisks: 1, maxNICs: 3,
	},
	{
		kind: kindLaptop, vendor: "lenovo", product: "thinkpad_x1_carbon_gen_10", display: "ThinkPad X1 Carbon Gen 10",
		versions: []string{"thinkpad_x1_carbon_gen_10"}, systemFamily: "ThinkPad X1 Carbon Gen 10",
		skus:  []string{"LENOVO_MT_21CB_BU_Think_FM_ThinkPad X1 Carbon Gen 10"},
		board: "LENOVO", boardProduct: "21CBCTO1WW", boardVersions: []string{"SDK0T76463 WIN"},
		deviceFamily: "Workstation", chassis: "Notebook",
		biosVendor: "lenovo", biosName: "thinkpad_x1_carbon_gen_10_firmware",
		bios:   []biosRelease{{"1.52", "2023-06-20"}, {"1.61", "2024-04-09"}},
		smbios: "3.4", cpus: []int{2, 3}, memGB: []int{16, 32}, diskGB: []int{512, 1024}, maxDisks: 1, maxNICs: 2,
	},
	{
		kind: kindLaptop, vendor: "microsoft", product: "surface_laptop_4", display: "Surface Laptop 4",
		versions: []string{"124i:00071t:000m:0300000d:0b:07f:0c:00p:48s:01e:0y:0"}, systemFamily: "Surface",
		skus:  []string{"Surface_Laptop_4_1950:1951", "Surface_Laptop_4_1952:1953"},
		board: "Microsoft Corporation", boardProduct: "Surface Laptop 4", boardVersions: []string{""},
		deviceFamily: "Workstation", chassis: "Notebook",
		biosVendor: "microsoft", biosName: "surface_laptop_4_uefi",
		bios:   []biosRelease{{"19.101.140", "2022-10-11"}, {"19.104.141", "2023-09-12"}},
		smbios: "3.3", cpus: []int{0, 10}, memGB: []int{8, 16, 32}, diskGB: []int{256, 512}, maxDisks: 1, maxNICs: 1,
	},
	{
		kind: kindLaptop, vendor: "microsoft", product: "surface_pro_9_with_5g", display: "Surface Pro 9 with 5G",
		versions: []string{"124i:00071t:000m:0300000d:0b:07f:0c:00p:48s:01e:0y:0"}, systemFamily: "Surface",
		skus:  []string{"Surface_Pro_9_With_5G_1997"},
		board: "Microsoft Corporation", boardProduct: "Surface Pro 9 with 5G", boardVersions: []string{""},
		deviceFamily: "Workstation", chassis: "Tablet",
		biosVendor: "microsoft", biosName: "surface_pro_9_with_5g_uefi",
		bios:   []biosRelease{{"12.602.140", "2023-05-09"}},
		smbios: "3.4", cpus: []int{14}, memGB: []int{8, 16}, diskGB: []int{256}, maxDisks: 1, maxNICs: 2,
	},
	{
		kind: kindLaptop, vendor: "razer", product: "blade_15_advanced_model_(mid_2021)_-_rz09-0409", display: "Blade 15 Advanced Model (Mid 2021) - RZ09-0409",
		versions: []string{"7.04"}, systemFamily: "1A586752",
		skus:  []string{"RZ09-0409CE53", "RZ09-0409BE53"},
		board: "Razer", boardProduct: "CH570", boardVersions: []string{"4"},
		deviceFamily: "Workstation", chassis: "Notebook",
		biosVendor: "razer", biosName: "blade_15_firmware",
		bios:   []biosRelease{{"1.04", "2021-08-30"}, {"1.06", "2022-06-14"}},
		smbios: "3.2", cpus: []int{13}, memGB: []int{16, 32}, diskGB: []int{1024}, maxDisks: 2, maxNICs: 2,
	},
	{
		kind: kindDesktop, vendor: "dell", product: "optiplex_7090", display: "OptiPlex 7090",
		versions: []string{"1.0"}, systemFamily: "OptiPlex", skus: []string{"0A5B"},
		board: "Dell Inc.", boardProduct: "0W0CHX", boardVersions: []string{"A00", "A02"},
		deviceFamily: "Workstation", chassis: "Desktop",
		biosVendor: "dell", biosName: "optiplex_7090_system_firmware",
		bios:   []biosRelease{{"1.10.0", "2022-06-14"}, {"1.17.0", "2023-07-11"}, {"1.24.0", "2024-06-11"}},
		smbios: "3.3", cpus: []int{5, 6}, memGB: []int{8, 16, 32}, diskGB: []int{256, 512}, maxDisks: 2, maxNICs: 2,
	},
	{
		kind: kindDesktop, vendor: "hp", product: "elitedesk_800_g6_small_form_factor_pc", display: "HP EliteDesk 800 G6 Small Form Factor PC",
		versions: []string{"sbkpf"}, systemFamily: "103C_53307F HP EliteDesk",
		skus:  []string{"1D2V0EA#ABD", "9VA54UT#ABA"},
		board: "HP", boardProduct: "870C", boardVersions: []string{"KBC Version 08.E5.00"},
		deviceFamily: "Workstation", chassis: "Small Form Factor",
		biosVendor: "hp", biosName: "s01_firmware",
		bios:   []biosRelease{{"02.12.00", "2022-11-03"}, {"02.16.01", "2024-01-29"}},
		smbios: "3.2", cpus: []int{5, 6}, memGB: []int{8, 16}, diskGB: []int{256, 512}, maxDisks: 2, maxNICs: 2,
	},
	{
		kind: kindDesktop, vendor: "lenovo", product: "thinkcentre_m70q_gen_2", display: "ThinkCentre M70q Gen 2",
		versions: []string{"thinkcentre_m70q_gen_2"}, systemFamily: "ThinkCentre M70q Gen 2",
		skus:  []string{"LENOVO_MT_11MY_BU_Think_FM_ThinkCentre M70q Gen 2"},
		board: "LENOVO", boardProduct: "3147", boardVersions: []string{"SDK0J40697 WIN"},
		deviceFamily: "Workstation", chassis: "Mini PC",
		biosVendor: "lenovo", biosName: "thinkcentre_m70q_gen_2_firmware",
		bios:   []biosRelease{{"M3FKT3AA", "2023-02-15"}, {"M3FKT3FA", "2024-03-26"}},
		smbios: "3.3", cpus: []int{1, 5}, memGB: []int{8, 16}, diskGB: []int{256}, maxDisks: 1, maxNICs: 2,
	},
	{
		kind: kindDesktop, vendor: "asus", product: "expertcenter_d7_sff", display: "ExpertCenter D7 SFF",
		versions: []string{"1.0"}, systemFamily: "ExpertCenter", skus: []string{"D700SD"},
		board: "ASUSTeK COMPUTER INC.", boardProduct: "D700SD", boardVersions: []string{"Rev 1.xx"},
		deviceFamily: "Workstation", chassis: "Desktop",
		biosVendor: "american_megatrends", biosName: "aptio_v",
		bios:   []biosRelease{{"0412", "2023-04-17"}, {"0705", "2024-02-06"}},
		smbios: "3.4", cpus: []int{6}, memGB: []int{16}, diskGB: []int{512}, maxDisks: 2, maxNICs: 1,
	},
	{
		kind: kindServer, vendor: "dell", product: "poweredge_r750", display: "PowerEdge R750",
		versions: []string{"1.0"}, systemFamily: "PowerEdge", skus: []string{"SKU=090F;ModelName=PowerEdge R750"},
		board: "Dell Inc.", boardProduct: "0PJ7YJ", boardVersions: []string{"A03", "A05"},
		deviceFamily: "Server", chassis: "Rack Mount Chassis",
		biosVendor: "dell", biosName: "poweredge_r750_bios",
		bios:   []biosRelease{{"1.8.2", "2022-10-31"}, {"1.10.2", "2023-05-22"}, {"1.13.2", "2024-05-13"}},
		smbios: "3.3", cpus: []int{7, 8}, memGB: []int{128, 256, 512}, diskGB: []int{960, 1920}, maxDisks: 8, maxNICs: 6,
	},
	{
		kind: kindServer, vendor: "hpe", product: "proliant_dl380_gen10", display: "ProLiant DL380 Gen10",
		versions: []string{"u30"}, systemFamily: "ProLiant", skus: []string{"868703-B21", "P20174-B21"},
		board: "HPE", boardProduct: "ProLiant DL380 Gen10", boardVersions: []string{"A"},
		deviceFamily: "Server", chassis: "Rack Mount Chassis",
		biosVendor: "hpe", biosName: "u30_firmware",
		bios:   []biosRelease{{"2.68", "2022-07-14"}, {"2.76", "2023-02-09"}, {"3.10", "2024-01-16"}},
		smbios: "3.2", cpus: []int{8, 9}, memGB: []int{64, 128, 256}, diskGB: []int{600, 1200}, maxDisks: 12, maxNICs: 4,
	},
	{
		kind: kindServer, vendor: "lenovo", product: "thinksystem_sr650_v2", display: "ThinkSystem SR650 V2",
		versions: []string{"07"}, systemFamily: "ThinkSystem", skus: []string{"7Z73CTO1WW"},
		board: "Lenovo", boardProduct: "SB27B09914", boardVersions: []string{"01"},
		deviceFamily: "Server", chassis: "Rack Mount Chassis",
		biosVendor: "lenovo", biosName: "thinksystem_sr650_v2_uefi",
		bios:   []biosRelease{{"AFE128B-3.10", "2023-03-01"}, {"AFE132F-3.22", "2024-04-10"}},
		smbios: "3.4", cpus: []int{7, 11}, memGB: []int{128, 256, 768}, diskGB: []int{960, 3840}, maxDisks: 10, maxNICs: 4,
	},
	{
		kind: kindVM, vendor: "microsoft", product: "virtual_machine", display: "Virtual Machine",
		versions: []string{"7.0", "hyper-v_uefi_release_v4.1"}, systemFamily: "Virtual Machine",
		skus:  []string{"None", "Standard_D4s_v5", "Standard_B2ms", "Standard_E8s_v5"},
		board: "Microsoft Corporation", boardProduct: "Virtual Machine", boardVersions: []string{"Hyper-V UEFI Release v4.1"},
		deviceFamily: "Server", chassis: "Desktop",
		biosVendor: "microsoft", biosName: "hyper-v_uefi",
		bios:   []biosRelease{{"4.1", "2023-01-24"}, {"4.1", "2024-05-03"}},
		smbios: "3.1", cpus: []int{9, 11}, memGB: []int{8}, diskGB: []int{128, 256}, maxDisks: 2, maxNICs: 1,
	},
	{
		kind: kindVM, vendor: "vmware", product: "vmware7,1", display: "VMware7,1",
		versions: []string{"none"}, systemFamily: "", skus: []string{""},
		board: "Intel Corporation", boardProduct: "440BX Desktop Reference Platform", boardVersions: []string{"None"},
		deviceFamily: "Server", chassis: "Other",
		biosVendor: "vmware", biosName: "vmware_efi",
		bios:   []biosRelease{{"vmw71.00v.21805430.b64.2305221830", "2023-05-22"}, {"vmw71.00v.18227214.b64.2106252220", "2021-06-25"}},
		smbios: "2.7", cpus: []int{7, 8, 11}, memGB: []int{8}, diskGB: []int{100, 200}, maxDisks: 3, maxNICs: 2,
	},
}
