package schema

import "time"

// The datasets, one description each. Adding an export means declaring
// one more Dataset here and listing it in datasets: the stages read
// everything they need from the description.

var datasets = []*Dataset{
	HardwareFirmware,
	SoftwareVulnerabilities,
	VulnerabilityChanges,
	SecureConfiguration,
	SoftwareInventory,
	SoftwareInventoryNonCPE,
	BrowserExtensions,
	Certificates,
	SecurityBaselines,
}

// field declares a documented field whose column is its key in snake_case.
func field(key string, t Type, doc string, aliases ...string) Field {
	return Field{Key: key, Aliases: aliases, Column: Snake(key), Type: t, Doc: doc}
}

// groupID declares the RBAC group id, which lives in the partition path
// rather than in a column.
func groupID(t Type) Field {
	return Field{Key: "rbacGroupId", Type: t,
		Doc: "RBAC group id; partition value rbac_group_id, NULL when not an integer"}
}

// Fields most exports share.
var (
	fDeviceID      = field("deviceId", String, "unique identifier of the device in the service")
	fDeviceName    = field("deviceName", String, "fully qualified domain name of the device")
	fGroupName     = field("rbacGroupName", String, "RBAC group name, as received (\"Unassigned\", \"None\" included)")
	fOSPlatform    = field("osPlatform", String, "operating system of the device (Windows11, WindowsServer2022, Linux, macOS)")
	fOSVersion     = field("osVersion", String, "operating system version")
	fVendor        = field("softwareVendor", String, "vendor of the software")
	fSoftware      = field("softwareName", String, "name of the software product")
	fVersion       = field("softwareVersion", String, "version of the software")
	fDiskPaths     = field("diskPaths", StringList, "paths on disk where the product was found")
	fRegistryPaths = field("registryPaths", StringList, "registry paths where the product was found")
	fEOSStatus     = field("endOfSupportStatus", String, "end-of-support state of the software (EOS Version, EOS Software, Upcoming EOS Version)")
	fEOSDate       = field("endOfSupportDate", Timestamp, "date support for the software ends or ended (UTC)")
	fRecRef        = field("recommendationReference", String, "id of the related security recommendation")
)

// vulnerabilityFields are the fields of the software vulnerabilities
// export, which the changes export shares.
var vulnerabilityFields = []Field{
	field("id", String, "unique id of the record: device, software and CVE"),
	fDeviceID,
	groupID(Int64),
	fGroupName,
	fDeviceName,
	fOSPlatform,
	fOSVersion,
	field("osArchitecture", String, "architecture of the operating system (x64, x86, arm64)"),
	fVendor,
	fSoftware,
	fVersion,
	field("cveId", String, "CVE identifier of the vulnerability"),
	field("vulnerabilitySeverityLevel", String, "severity by CVSS score and threat context (Low, Medium, High, Critical)"),
	field("recommendedSecurityUpdate", String, "name or description of the update that fixes the vulnerability"),
	field("recommendedSecurityUpdateId", String, "identifier of the update, such as a KB number"),
	field("recommendedSecurityUpdateUrl", String, "link to the update"),
	fDiskPaths,
	fRegistryPaths,
	field("firstSeenTimestamp", Timestamp, "first time the CVE was seen on the device (UTC)"),
	field("lastSeenTimestamp", Timestamp, "last time the CVE was seen on the device (UTC)"),
	fEOSStatus,
	fEOSDate,
	field("exploitabilityLevel", String, "exploitability of the vulnerability (NoExploit, ExploitIsPublic, ExploitIsVerified, ExploitIsInKit)"),
	fRecRef,
	field("cvssScore", Double, "CVSS score of the CVE; NULL when the service has none"),
	field("securityUpdateAvailable", Bool, "whether a security update is available for the software"),
	field("cveMitigationStatus", String, "mitigation of the CVE on the device, when any"),
}

// SoftwareVulnerabilities is the software vulnerabilities assessment, one
// row per device, software and CVE: by far the largest export.
var SoftwareVulnerabilities = &Dataset{
	Name:         "software_vulnerabilities",
	Title:        "Software vulnerabilities per device: one row per device, software and CVE",
	JSONPath:     "/api/machines/SoftwareVulnerabilitiesByMachine",
	FilesPath:    "/api/machines/SoftwareVulnerabilitiesExport",
	Fields:       vulnerabilityFields,
	DeviceKey:    "deviceId",
	GroupIDKey:   "rbacGroupId",
	GroupNameKey: "rbacGroupName",
	Partitioning: BySnapshot,
	SortKeys:     []string{"deviceId", "softwareVendor", "softwareName", "softwareVersion", "cveId"},
}

// VulnerabilityChanges is the delta of the software vulnerabilities
// assessment since a time at most 14 days back: one row per change of a
// device's vulnerability, partitioned by the day of the event.
var VulnerabilityChanges = &Dataset{
	Name:     "vulnerability_changes",
	Title:    "Changes of software vulnerabilities per device since a time (New, Fixed, Updated)",
	JSONPath: "/api/machines/SoftwareVulnerabilityChangesByMachine",
	Fields: append(append([]Field(nil), vulnerabilityFields...),
		field("status", String, "what changed: New, Fixed or Updated"),
		field("eventTimestamp", Timestamp, "when the change happened (UTC); its date is the event_date partition"),
		field("isOnboarded", Bool, "whether the device is onboarded to the service"),
	),
	DeviceKey:    "deviceId",
	GroupIDKey:   "rbacGroupId",
	GroupNameKey: "rbacGroupName",
	EventTimeKey: "eventTimestamp",
	Partitioning: ByEvent,
	SortKeys:     []string{"deviceId", "cveId", "eventTimestamp"},
	SinceParam:   "sinceTime",
	MaxSince:     14 * 24 * time.Hour,
}

// SecureConfiguration is the secure configuration assessment, one row per
// device and configuration.
var SecureConfiguration = &Dataset{
	Name:      "secure_configuration",
	Title:     "Secure configuration assessment per device: one row per device and configuration",
	JSONPath:  "/api/machines/SecureConfigurationsAssessmentByMachine",
	FilesPath: "/api/machines/SecureConfigurationsAssessmentExport",
	Fields: []Field{
		fDeviceID,
		groupID(Int64),
		fGroupName,
		fDeviceName,
		fOSPlatform,
		fOSVersion,
		field("timestamp", Timestamp, "last time the configuration was seen on the device (UTC)"),
		field("configurationId", String, "unique id of the configuration (scid-…)"),
		field("configurationCategory", String, "category of the configuration (Accounts, Application, Network, OS, Security controls)"),
		field("configurationSubcategory", String, "subcategory of the configuration"),
		field("configurationImpact", Double, "impact of the configuration on the exposure score, 1 to 10"),
		field("isCompliant", Bool, "whether the device is configured as recommended"),
		field("isApplicable", Bool, "whether the configuration applies to the device"),
		field("isExpectedUserImpact", Bool, "whether applying the configuration affects users"),
		field("configurationName", String, "name of the configuration"),
		fRecRef,
	},
	DeviceKey:    "deviceId",
	GroupIDKey:   "rbacGroupId",
	GroupNameKey: "rbacGroupName",
	Partitioning: BySnapshot,
	SortKeys:     []string{"deviceId", "configurationId"},
}

// SoftwareInventory is the software inventory assessment, one row per
// device and software product with a known CPE.
var SoftwareInventory = &Dataset{
	Name:      "software_inventory",
	Title:     "Software inventory per device: one row per device and product",
	JSONPath:  "/api/machines/SoftwareInventoryByMachine",
	FilesPath: "/api/machines/SoftwareInventoryExport",
	Fields: []Field{
		fDeviceID,
		groupID(Int64),
		fGroupName,
		fDeviceName,
		fOSPlatform,
		fVendor,
		fSoftware,
		fVersion,
		field("numberOfWeaknesses", Int32, "number of weaknesses (CVEs) of the software on the device"),
		fDiskPaths,
		fRegistryPaths,
		field("softwareFirstSeenTimestamp", Timestamp, "first time the software was seen on the device (UTC)"),
		fEOSStatus,
		fEOSDate,
	},
	DeviceKey:    "deviceId",
	GroupIDKey:   "rbacGroupId",
	GroupNameKey: "rbacGroupName",
	Partitioning: BySnapshot,
	SortKeys:     []string{"deviceId", "softwareVendor", "softwareName", "softwareVersion"},
}

// SoftwareInventoryNonCPE is the inventory of software with no CPE, which
// the service cannot assess for vulnerabilities.
var SoftwareInventoryNonCPE = &Dataset{
	Name:      "software_inventory_non_cpe",
	Title:     "Software inventory without a CPE per device: one row per device and product",
	JSONPath:  "/api/machines/SoftwareInventoryNoProductCodeByMachine",
	FilesPath: "/api/machines/SoftwareInventoryNonCpeExport",
	Fields: []Field{
		fDeviceID,
		groupID(Int64),
		fGroupName,
		fDeviceName,
		fOSPlatform,
		fVendor,
		fSoftware,
		fVersion,
		field("softwareLastSeenTimestamp", Timestamp, "last time the software was seen on the device (UTC)"),
	},
	DeviceKey:    "deviceId",
	GroupIDKey:   "rbacGroupId",
	GroupNameKey: "rbacGroupName",
	Partitioning: BySnapshot,
	SortKeys:     []string{"deviceId", "softwareVendor", "softwareName", "softwareVersion"},
}

// BrowserExtensions is the browser extensions inventory, one row per device,
// browser and extension.
var BrowserExtensions = &Dataset{
	Name:      "browser_extensions",
	Title:     "Browser extensions per device: one row per device, browser and extension",
	JSONPath:  "/api/machines/BrowserExtensionsInventoryByMachine",
	FilesPath: "/api/machines/BrowserExtensionsInventoryExport",
	Fields: []Field{
		fDeviceID,
		groupID(Int64),
		fGroupName,
		field("installationTime", Timestamp, "when the extension was installed (UTC)"),
		field("browserName", String, "browser the extension is installed in (Edge, Chrome, Firefox)"),
		field("extensionId", String, "id of the extension in its browser's store"),
		field("extensionName", String, "name of the extension"),
		field("extensionDescription", String, "description of the extension"),
		field("extensionVersion", String, "version of the extension"),
		field("extensionRisk", String, "risk of the extension's permissions (Low, Medium, High, Critical)"),
		field("extensionVendor", String, "publisher of the extension"),
		field("isActivated", Bool, "whether the extension is turned on"),
	},
	DeviceKey:    "deviceId",
	GroupIDKey:   "rbacGroupId",
	GroupNameKey: "rbacGroupName",
	Partitioning: BySnapshot,
	SortKeys:     []string{"deviceId", "browserName", "extensionId"},
}

// Certificates is the certificate inventory, one row per device and
// certificate. The documentation's example names some fields otherwise
// than the service's metadata; both are accepted.
var Certificates = &Dataset{
	Name:      "certificates",
	Title:     "Certificate inventory per device: one row per device and certificate",
	JSONPath:  "/api/machines/certificateAssessmentByMachine",
	FilesPath: "/api/machines/certificateAssessmentExport",
	Fields: []Field{
		fDeviceID,
		fDeviceName,
		field("thumbprint", String, "SHA-1 thumbprint of the certificate"),
		field("path", String, "where the certificate is stored (store and location)"),
		field("signatureAlgorithm", String, "algorithm the certificate is signed with"),
		field("keySize", Int32, "size of the key in bits (also keyLength)", "keyLength"),
		field("expirationDate", Timestamp, "end of the certificate's validity (UTC; also notAfter)", "notAfter"),
		field("issueDate", Timestamp, "start of the certificate's validity (UTC; also notBefore)", "notBefore"),
		field("subjectType", String, "whether the subject is an end entity or a certificate authority"),
		field("serialNumber", String, "serial number of the certificate"),
		field("issuedTo", String, "subject of the certificate"),
		field("issuedBy", String, "issuer of the certificate"),
		field("keyUsage", String, "what the key may be used for"),
		field("extendedKeyUsage", String, "extended key usages, as received"),
		field("isSelfSigned", Bool, "whether the certificate is self-signed (in the documentation's example only)"),
		groupID(Int32),
		fGroupName,
	},
	DeviceKey:    "deviceId",
	GroupIDKey:   "rbacGroupId",
	GroupNameKey: "rbacGroupName",
	Partitioning: BySnapshot,
	SortKeys:     []string{"deviceId", "thumbprint", "path"},
}

// SecurityBaselines is the security baselines assessment, one row per
// device, baseline profile and configuration.
var SecurityBaselines = &Dataset{
	Name:      "security_baselines",
	Title:     "Security baselines compliance per device: one row per device, profile and configuration",
	JSONPath:  "/api/machines/baselineComplianceAssessmentByMachine",
	FilesPath: "/api/machines/BaselineComplianceAssessmentExport",
	Fields: []Field{
		field("id", String, "unique id of the record"),
		field("configurationId", String, "unique id of the configuration"),
		fDeviceID,
		fDeviceName,
		field("profileId", String, "unique id of the baseline profile"),
		fOSPlatform,
		fOSVersion,
		groupID(Int64),
		fGroupName,
		field("isApplicable", Bool, "whether the configuration applies to the device"),
		field("isCompliant", Bool, "whether the device complies with the configuration; NULL when unknown"),
		field("dataCollectionTimeOffset", Timestamp, "when the device's data was collected (UTC)"),
		field("complianceCalculationTimeOffset", Timestamp, "when compliance was last calculated (UTC)"),
		field("recommendedValue", StringList, "values the profile recommends"),
		field("currentValue", StringList, "values the device has"),
		field("rawValue", StringList, "values as the device reported them"),
		field("source", StringList, "where the values were read (registry paths, policies)"),
		field("isExempt", Bool, "whether the device is exempt from the configuration"),
		field("complianceEvaluationDetails", String, "how compliance was evaluated, as received"),
	},
	DeviceKey:    "deviceId",
	GroupIDKey:   "rbacGroupId",
	GroupNameKey: "rbacGroupName",
	Partitioning: BySnapshot,
	SortKeys:     []string{"deviceId", "profileId", "configurationId"},
}
