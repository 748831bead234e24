package sample

import (
	"fmt"
	"math"
	"sort"
	"strconv"
)

// group is an RBAC group of the export.
type group struct {
	id         int // 0 for the unassigned devices
	name       string
	unassigned bool
	weight     float64 // share of the devices, relative
}

// plan is an export laid out: its groups, its devices and which records go
// in which file. Record j of the export belongs to device j/perDevice.
type plan struct {
	cfg     Config
	prof    *profile
	devices int
	groups  []group   // ordered by id
	cum     []float64 // cumulative weights, for Mixed
	files   []File
	root    string // "<date>/<hhmm>/<ExportName>/json/OrgId=<uuid>"
	job     string // the uuid every part file name carries
	fileGrp []int  // group index of each file, -1 with Mixed
	start   []int  // first device of each group, with ByGroup
}

// Plan returns the files an export of cfg consists of, with their paths,
// groups and record counts; the byte counts are left zero.
func Plan(cfg Config) ([]File, error) {
	p, err := newPlan(cfg)
	if err != nil {
		return nil, err
	}
	return append([]File(nil), p.files...), nil
}

func newPlan(cfg Config) (*plan, error) {
	cfg, prof, err := cfg.normalize()
	if err != nil {
		return nil, fmt.Errorf("sample config: %w", err)
	}
	p := &plan{cfg: cfg, prof: prof}
	p.devices = (cfg.Records + prof.perDevice - 1) / prof.perDevice

	r := newRNG(cfg.Seed, streamExport, 0)
	org := r.uuid()
	p.job = r.uuid()
	p.root = cfg.GeneratedTime.Format("2006-01-02/1504") + "/" + prof.exportName + "/json/OrgId=" + org
	p.groups = makeGroups(&r, cfg.Groups, cfg.Unassigned)

	if cfg.Layout == Mixed {
		p.planMixed()
	} else {
		p.planByGroup()
	}
	return p, nil
}

// makeGroups draws n named groups with distinct ids and names, plus the
// unassigned group if asked. Sizes fall off with rank, so a few groups are
// large and many small; ids are drawn apart from rank.
func makeGroups(r *rng, n int, unassigned bool) []group {
	ids := drawDistinct(r, n, max(64, 3*n))
	names := drawDistinct(r, n, max(len(groupRoles)*len(groupPlaces), n))
	gs := make([]group, 0, n+1)
	var total float64
	for i := 0; i < n; i++ {
		w := 1 / math.Pow(float64(i+1), 0.8)
		total += w
		gs = append(gs, group{id: ids[i] + 1, name: groupName(names[i]), weight: w})
	}
	if unassigned {
		w := 1.0
		if n > 0 {
			w = total * 0.06 / 0.94
		}
		gs = append(gs, group{id: 0, name: unassignedStr, unassigned: true, weight: w})
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].id < gs[j].id })
	return gs
}

// drawDistinct returns n distinct numbers below limit (limit >= n).
func drawDistinct(r *rng, n, limit int) []int {
	perm := make([]int, limit)
	for i := range perm {
		perm[i] = i
	}
	for i := 0; i < n; i++ {
		j := i + r.intn(limit-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm[:n]
}

var (
	groupRoles = []string{
		"Workstations", "Laptops", "Servers - Production", "Servers - Test", "Kiosks",
		"Finance", "R&D Labs", "Executives", "Contractors", "Call Center",
		"Domain Controllers", "VDI Pool", "Build Agents", "Point of Sale",
	}
	groupPlaces = []string{"EMEA", "NA", "APAC", "LATAM", "Zürich", "Seattle", "London", "Sydney"}
)

func groupName(i int) string {
	combos := len(groupRoles) * len(groupPlaces)
	name := groupRoles[i%len(groupRoles)] + " " + groupPlaces[(i/len(groupRoles))%len(groupPlaces)]
	if i >= combos {
		name += " " + strconv.Itoa(i/combos+1)
	}
	return name
}

// planByGroup lays devices out group after group, in id order, and gives
// every non-empty group one file, then spreads the extra files over the
// groups with the most devices per file.
func (p *plan) planByGroup() {
	counts := p.groupDevices()
	files := make([]int, len(counts))
	nonEmpty := 0
	for i, c := range counts {
		if c > 0 {
			files[i] = 1
			nonEmpty++
		}
	}
	for extra := p.cfg.Files - nonEmpty; extra > 0; extra-- {
		best := -1
		for i, c := range counts {
			if files[i] > 0 && files[i] < c && (best < 0 || c*files[best] > counts[best]*files[i]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		files[best]++
	}

	start := 0
	p.start = make([]int, len(counts))
	for gi, c := range counts {
		p.start[gi] = start
		for k := 0; k < files[gi]; k++ {
			lo, hi := start+c*k/files[gi], start+c*(k+1)/files[gi]
			p.addFile(gi, lo, hi)
		}
		start += c
	}
}

// groupDevices splits the devices over the groups by weight: one each
// first, as far as they go, then the rest by largest remainder.
func (p *plan) groupDevices() []int {
	n := len(p.groups)
	counts := make([]int, n)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return p.groups[order[a]].weight > p.groups[order[b]].weight })

	left := p.devices
	for _, i := range order {
		if left == 0 {
			break
		}
		counts[i]++
		left--
	}
	var total float64
	for _, g := range p.groups {
		total += g.weight
	}
	rem := make([]float64, n)
	base := left
	for i, g := range p.groups {
		share := float64(base) * g.weight / total
		whole := int(share)
		counts[i] += whole
		left -= whole
		rem[i] = share - float64(whole)
	}
	sort.SliceStable(order, func(a, b int) bool { return rem[order[a]] > rem[order[b]] })
	for k := 0; left > 0; k++ {
		counts[order[k%n]]++
		left--
	}
	return counts
}

// planMixed cuts the devices into equal runs, one per file; each device
// draws its group by weight.
func (p *plan) planMixed() {
	var sum float64
	p.cum = make([]float64, len(p.groups))
	for i, g := range p.groups {
		sum += g.weight
		p.cum[i] = sum
	}
	n := min(max(p.cfg.Files, 1), p.devices)
	for k := 0; k < n; k++ {
		p.addFile(-1, p.devices*k/n, p.devices*(k+1)/n)
	}
}

// addFile adds the file holding devices [lo, hi) of group gi (-1: mixed).
func (p *plan) addFile(gi, lo, hi int) {
	per := p.prof.perDevice
	first, last := lo*per, min(hi*per, p.cfg.Records)
	index := len(p.files)

	path := p.root + "/"
	f := File{Records: last - first, first: first, index: index}
	if gi >= 0 {
		f.Group = strconv.Itoa(p.groups[gi].id)
		path += "_RbacGroupId=" + f.Group + "/"
	}
	f.Path = fmt.Sprintf("%spart-%05d-%s.c000.json.gz", path, index, p.job)
	p.files = append(p.files, f)
	p.fileGrp = append(p.fileGrp, gi)
}

// firstDevice returns the first device of group gi, or 0 when devices are
// not laid out by group (gi < 0).
func (p *plan) firstDevice(gi int) int {
	if gi < 0 {
		return 0
	}
	return p.start[gi]
}

// groupOf returns the group of device d in a Mixed export.
func (p *plan) groupOf(d int) *group {
	r := newRNG(p.cfg.Seed, streamGroup, uint64(d))
	x := r.float() * p.cum[len(p.cum)-1]
	i := sort.SearchFloat64s(p.cum, x)
	if i >= len(p.groups) {
		i = len(p.groups) - 1
	}
	return &p.groups[i]
}
