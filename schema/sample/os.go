package sample

// osFamily groups the platforms whose software looks alike.
type osFamily uint8

const (
	famWindows osFamily = iota
	famLinux
)

// osRelease is an operating system as the exports name it.
type osRelease struct {
	family   osFamily
	platform string // osPlatform
	version  string // osVersion
	product  int    // index in products of the system itself
}

var (
	osWindows11 = []osRelease{
		{famWindows, "Windows11", "10.0.22631.4460", prodWindows11},
		{famWindows, "Windows11", "10.0.26100.2314", prodWindows11},
	}
	osWindows10 = []osRelease{{famWindows, "Windows10", "10.0.19045.5131", prodWindows10}}
	osServer    = []osRelease{
		{famWindows, "WindowsServer2022", "10.0.20348.2849", prodServer2022},
		{famWindows, "WindowsServer2019", "10.0.17763.6532", prodServer2019},
	}
	osLinux = []osRelease{
		{famLinux, "Linux", "22.04", prodUbuntu},
		{famLinux, "Linux", "24.04", prodUbuntu},
	}
)

// drawOS picks the system of a device of kind k, and its architecture.
func drawOS(r *rng, k deviceKind) (osRelease, string) {
	var rel osRelease
	switch n := r.intn(100); k {
	case kindLaptop, kindDesktop:
		rel = pick(r, osWindows11)
		if n < 20 {
			rel = osWindows10[0]
		}
	case kindServer:
		rel = pick(r, osServer)
		if n < 25 {
			rel = pick(r, osLinux)
		}
	default:
		rel = pick(r, osServer)
		if n < 50 {
			rel = pick(r, osLinux)
		}
	}
	arch := "x64"
	if k == kindLaptop && r.chance(40) {
		arch = "arm64"
	}
	return rel, arch
}
