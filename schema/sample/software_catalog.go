package sample

import "time"

// product is a piece of software as the software exports report it.
type product struct {
	family   osFamily
	vendor   string
	name     string
	versions []string
	disk     []string  // paths on disk; none for the system itself
	registry []string  // registry paths; none on Linux
	eos      string    // endOfSupportStatus, "" for none
	eosDate  time.Time // endOfSupportDate; zero for none
	update   string    // recommendedSecurityUpdate
	updateID string    // recommendedSecurityUpdateId
	cves     []cve
}

// cve is a vulnerability of a product.
type cve struct {
	id       string
	score    float64 // CVSS; 0 when the service has none yet
	severity string
	exploit  string
}

const (
	noExploit = "NoExploit"
	public    = "ExploitIsPublic"
	verified  = "ExploitIsVerified"
	inKit     = "ExploitIsInKit"
)

// Indexes of the systems in products.
const (
	prodWindows11 = iota
	prodWindows10
	prodServer2022
	prodServer2019
	prodUbuntu
)

const uninstall = `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\`

var products = []product{
	{famWindows, "microsoft", "windows_11", []string{"10.0.22631.4317", "10.0.26100.2161"}, nil, nil, "", time.Time{},
		"November 2024 Security Updates", "5046633", []cve{
			{"CVE-2024-43451", 6.5, "Medium", verified}, {"CVE-2024-49039", 8.8, "High", verified},
			{"CVE-2024-38193", 7.8, "High", verified}, {"CVE-2024-43625", 8.1, "High", noExploit},
		}},
	{famWindows, "microsoft", "windows_10", []string{"10.0.19045.4894"}, nil, nil, "Upcoming EOS Version", mustDate("2025-10-14"),
		"November 2024 Security Updates", "5046613", []cve{
			{"CVE-2024-43451", 6.5, "Medium", verified}, {"CVE-2024-49039", 8.8, "High", verified},
			{"CVE-2024-38063", 9.8, "Critical", public},
		}},
	{famWindows, "microsoft", "windows_server_2022", []string{"10.0.20348.2762"}, nil, nil, "", time.Time{},
		"November 2024 Security Updates", "5046616", []cve{
			{"CVE-2024-43639", 9.8, "Critical", noExploit}, {"CVE-2024-49019", 7.8, "High", public},
			{"CVE-2024-43451", 6.5, "Medium", verified},
		}},
	{famWindows, "microsoft", "windows_server_2019", []string{"10.0.17763.6414"}, nil, nil, "Upcoming EOS Version", mustDate("2029-01-09"),
		"November 2024 Security Updates", "5046615", []cve{
			{"CVE-2024-43639", 9.8, "Critical", noExploit}, {"CVE-2024-38063", 9.8, "Critical", public},
			{"CVE-2024-49019", 7.8, "High", public},
		}},
	{famLinux, "canonical", "ubuntu_linux", []string{"22.04", "24.04"}, nil, nil, "", time.Time{},
		"Update Ubuntu packages", "", []cve{
			{"CVE-2024-1086", 7.8, "High", inKit}, {"CVE-2024-26925", 5.5, "Medium", noExploit},
			{"CVE-2024-50264", 0, "Medium", noExploit},
		}},
	{famWindows, "google", "chrome", []string{"130.0.6723.117", "129.0.6668.101", "131.0.6778.69"},
		[]string{`C:\Program Files\Google\Chrome\Application\chrome.exe`}, []string{uninstall + "Google Chrome"}, "", time.Time{},
		"Update Chrome to version 131.0.6778.86", "", []cve{
			{"CVE-2024-10487", 9.8, "Critical", noExploit}, {"CVE-2024-10488", 8.8, "High", noExploit},
			{"CVE-2024-7971", 8.8, "High", verified}, {"CVE-2024-11110", 0, "High", noExploit},
		}},
	{famWindows, "microsoft", "edge_chromium-based", []string{"130.0.2849.80", "131.0.2903.51"},
		[]string{`C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`}, []string{uninstall + "Microsoft Edge"}, "", time.Time{},
		"Update Microsoft Edge to version 131.0.2903.70", "", []cve{
			{"CVE-2024-49025", 5.4, "Medium", noExploit}, {"CVE-2024-43577", 4.3, "Medium", noExploit},
		}},
	{famWindows, "mozilla", "firefox", []string{"131.0.3", "128.4.0"},
		[]string{`C:\Program Files\Mozilla Firefox\firefox.exe`, `C:\Users\Public\Desktop\Firefox.lnk`},
		[]string{uninstall + "Mozilla Firefox 131.0.3 (x64 en-US)"}, "", time.Time{},
		"Update Firefox to version 132.0.2", "", []cve{
			{"CVE-2024-9680", 9.8, "Critical", verified}, {"CVE-2024-10458", 8.8, "High", noExploit},
			{"CVE-2024-10459", 8.8, "High", noExploit},
		}},
	{famWindows, "microsoft", "office", []string{"16.0.17928.20216", "16.0.18025.20104"},
		[]string{`C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`}, []string{uninstall + "O365ProPlusRetail - en-us"}, "", time.Time{},
		"November 2024 Security Updates", "5002651", []cve{
			{"CVE-2024-49026", 7.8, "High", noExploit}, {"CVE-2024-43505", 7.8, "High", noExploit},
		}},
	{famWindows, "oracle", "jre", []string{"8.0.4310.10", "8.0.4210.9"},
		[]string{`C:\Program Files\Java\jre-1.8\bin\java.exe`}, []string{uninstall + "{26A24AE4-039D-4CA4-87B4-2F64180431F0}"},
		"EOS Version", mustDate("2022-03-31"), "Update JRE to version 8.0.4320.9", "", []cve{
			{"CVE-2024-21147", 7.4, "High", noExploit}, {"CVE-2024-21145", 4.8, "Medium", noExploit},
		}},
	{famWindows, "adobe", "acrobat_reader_dc", []string{"24.003.20180", "24.002.21005"},
		[]string{`C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe`}, []string{uninstall + "{AC76BA86-1033-FFFF-7760-0C0F074E4100}"}, "", time.Time{},
		"Update Acrobat Reader DC to version 24.004.20220", "", []cve{
			{"CVE-2024-41869", 7.8, "High", public}, {"CVE-2024-45112", 8.6, "High", noExploit},
		}},
	{famWindows, "7-zip", "7-zip", []string{"23.01", "22.01"},
		[]string{`C:\Program Files\7-Zip\7z.exe`}, []string{uninstall + "7-Zip"}, "", time.Time{},
		"Update 7-Zip to version 24.07", "", []cve{
			{"CVE-2024-11477", 7.8, "High", noExploit}, {"CVE-2023-31102", 7.8, "High", noExploit},
		}},
	{famWindows, "notepad-plus-plus", "notepad++", []string{"8.6.9", "8.5.8"},
		[]string{`C:\Program Files\Notepad++\notepad++.exe`}, []string{uninstall + "Notepad++"}, "", time.Time{},
		"Update Notepad++ to version 8.7.1", "", []cve{
			{"CVE-2023-40031", 7.8, "High", public}, {"CVE-2024-41120", 0, "Medium", noExploit},
		}},
	{famWindows, "videolan", "vlc_media_player", []string{"3.0.20", "3.0.18"},
		[]string{`C:\Program Files\VideoLAN\VLC\vlc.exe`}, []string{uninstall + "VLC media player"}, "", time.Time{},
		"Update VLC media player to version 3.0.21", "", []cve{
			{"CVE-2024-46461", 8.1, "High", noExploit}, {"CVE-2023-47360", 5.5, "Medium", noExploit},
		}},
	{famWindows, "microsoft", ".net_framework", []string{"4.8.9181.0"},
		[]string{`C:\Windows\Microsoft.NET\Framework64\v4.0.30319\clr.dll`, `C:\Windows\Microsoft.NET\Framework\v4.0.30319\clr.dll`},
		[]string{`HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full`}, "", time.Time{},
		"October 2024 Security Updates", "5044020", []cve{
			{"CVE-2024-43483", 7.5, "High", noExploit}, {"CVE-2024-43484", 7.5, "High", noExploit},
		}},
	{famWindows, "zoom", "zoom", []string{"6.1.5", "5.17.11"},
		[]string{`C:\Users\Default\AppData\Roaming\Zoom\bin\Zoom.exe`}, []string{`HKEY_CURRENT_USER\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\ZoomUMX`}, "", time.Time{},
		"Update Zoom to version 6.2.5", "", []cve{
			{"CVE-2024-45421", 8.5, "High", noExploit}, {"CVE-2024-24691", 9.6, "Critical", noExploit},
		}},
	{famLinux, "openbsd", "openssh", []string{"8.9p1", "9.6p1"},
		[]string{"/usr/bin/ssh", "/usr/sbin/sshd"}, nil, "", time.Time{},
		"Update OpenSSH to version 9.8p1", "", []cve{
			{"CVE-2024-6387", 8.1, "High", public}, {"CVE-2023-51385", 6.5, "Medium", noExploit},
		}},
	{famLinux, "openssl", "openssl", []string{"3.0.2", "3.0.13"},
		[]string{"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/bin/openssl"}, nil, "", time.Time{},
		"Update OpenSSL to version 3.0.15", "", []cve{
			{"CVE-2024-5535", 9.1, "Critical", noExploit}, {"CVE-2024-2511", 5.9, "Medium", noExploit},
		}},
	{famLinux, "haxx", "curl", []string{"7.81.0", "8.5.0"},
		[]string{"/usr/bin/curl"}, nil, "", time.Time{},
		"Update curl to version 8.11.0", "", []cve{
			{"CVE-2024-2398", 8.6, "High", noExploit}, {"CVE-2023-38545", 9.8, "Critical", public},
		}},
	{famLinux, "sudo_project", "sudo", []string{"1.9.9", "1.9.15p5"},
		[]string{"/usr/bin/sudo"}, nil, "", time.Time{},
		"Update sudo to version 1.9.16", "", []cve{
			{"CVE-2023-22809", 7.8, "High", public}, {"CVE-2021-3156", 7.8, "High", verified},
		}},
	{famLinux, "gnu", "glibc", []string{"2.35", "2.39"},
		[]string{"/usr/lib/x86_64-linux-gnu/libc.so.6"}, nil, "", time.Time{},
		"Update glibc to version 2.40", "", []cve{
			{"CVE-2023-4911", 7.8, "High", verified}, {"CVE-2024-2961", 7.3, "High", public},
		}},
	{famLinux, "python", "python", []string{"3.10.12", "3.12.3"},
		[]string{"/usr/bin/python3", "/usr/lib/python3/dist-packages"}, nil, "Upcoming EOS Version", mustDate("2026-10-04"),
		"Update Python to version 3.12.7", "", []cve{
			{"CVE-2024-6232", 7.5, "High", noExploit}, {"CVE-2024-7592", 7.5, "High", noExploit},
		}},
	{famLinux, "git-scm", "git", []string{"2.34.1", "2.43.0"},
		[]string{"/usr/bin/git"}, nil, "", time.Time{},
		"Update Git to version 2.47.1", "", []cve{
			{"CVE-2024-32002", 9.0, "Critical", public}, {"CVE-2024-32004", 8.1, "High", noExploit},
		}},
	{famLinux, "f5", "nginx", []string{"1.18.0", "1.24.0"},
		[]string{"/usr/sbin/nginx"}, nil, "", time.Time{},
		"Update nginx to version 1.26.2", "", []cve{
			{"CVE-2024-7347", 4.7, "Medium", noExploit}, {"CVE-2023-44487", 7.5, "High", verified},
		}},
}

// otherProducts are the products of each family but the systems.
var otherProducts = func() [2][]int {
	var by [2][]int
	for i, p := range products {
		if i > prodUbuntu {
			by[p.family] = append(by[p.family], i)
		}
	}
	return by
}()

// nonCPEProduct is software the service finds but cannot match to a CPE.
type nonCPEProduct struct {
	family   osFamily
	vendor   string
	name     string
	versions []string
	registry string
}

var nonCPEProducts = []nonCPEProduct{
	{famWindows, "contoso", "contoso payroll client", []string{"4.2.1", "4.3.0"}, uninstall + "Contoso Payroll Client"},
	{famWindows, "hp", "hp support assistant", []string{"9.26.34.0"}, uninstall + "{8C9F1A2B-HPSA-0926}"},
	{famWindows, "dell", "dell command | update", []string{"5.4.0", "5.2.0"}, uninstall + "{5669AB71-1302-4412-8DA1-CB69CD7B7324}"},
	{famWindows, "lenovo", "lenovo system update", []string{"5.08.02.25"}, uninstall + "TVSU_is1"},
	{famWindows, "realtek semiconductor corp.", "realtek audio driver", []string{"6.0.9549.1", "6.0.9273.1"}, uninstall + "{F132AF7F-7BCA-4EDE-8A7C-958108FE7DBC}"},
	{famWindows, "fabrikam", "fabrikam vpn agent", []string{"2.3.0", "2.4.1"}, uninstall + "Fabrikam VPN Agent"},
	{famWindows, "intel corporation", "intel® graphics command center", []string{"1.100.5688.0"}, uninstall + "IGCC"},
	{famWindows, "contoso it", "contoso asset tagger", []string{"1.0.7"}, uninstall + "Contoso Asset Tagger"},
	{famLinux, "contoso", "contoso-backup-agent", []string{"3.1.4-1", "3.2.0-2"}, ""},
	{famLinux, "fabrikam", "fabrikam-monitoring", []string{"0.9.12"}, ""},
	{famLinux, "ubuntu developers", "ubuntu-advantage-tools", []string{"32.3.1~22.04"}, ""},
	{famLinux, "debian", "apt-transport-internal", []string{"1.4.2"}, ""},
}
