package stats

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/floats"
)

// model is a prepared regression problem. Rows are stored so that each block
// (a cluster for FitGLM, an absorbed group for FitPoissonAbsorbed) is a
// contiguous range, and each cluster a contiguous range of blocks.
type model struct {
	opt    Options
	n      int
	y, off []float64 // off is nil when there is no offset
	x      [][]float64
	icpt   bool
	p      int // dense parameters, including the intercept
	fac    [][]int32
	L      layout
	k      int
	names  []string
	scale  []float64 // a typical size of each parameter's regressor

	blocked  bool      // rows are grouped in blocks
	blo, bhi []int     // row range of each block
	bsum     []float64 // Σy of each block
	cb       []int     // cluster c holds blocks cb[c]..cb[c+1]−1
	robust   bool
	nUsed    int
	absorbed *Absorbed

	rowParts, blockParts, clusterParts [][2]int
	accs                               []*acc // one per partition, and one for the totals
	want                               wants
	eff                                []float64 // coefficients in flat form

	fam     Family
	llConst float64
	hist    countHist

	// Totals from the last pass, in k-parameter form.
	H, H2, meat, G, gba []float64
	ll, dev, pearson    float64
	lr, lrr             float64
}

// maxParams bounds the number of coefficients: each partition holds k×k
// matrices.
const maxParams = 2000

// nParts is the fixed number of partitions of every pass. Partial sums are
// added in partition order, so results do not depend on the number of cores.
const nParts = 16

// prepare validates d, orders its rows into blocks and clusters, and checks
// that every parameter is identified. absorb, if not nil, is the factor to be
// concentrated out (its groups become the blocks).
func prepare(d Data, absorb *Factor, opt Options) (*model, error) {
	n := len(d.Y)
	if n == 0 {
		return nil, notComputable("there are no rows")
	}
	if d.Offset != nil && len(d.Offset) != n {
		return nil, fmt.Errorf("len(Offset) = %d, want %d", len(d.Offset), n)
	}
	if d.Cluster != nil && len(d.Cluster) != n {
		return nil, fmt.Errorf("len(Cluster) = %d, want %d", len(d.Cluster), n)
	}
	for i, y := range d.Y {
		if !finiteNonNeg(y) {
			return nil, fmt.Errorf("outcome %v at row %d is not a non-negative number", y, i)
		}
		if d.Offset != nil && !allFinite(d.Offset[i]) {
			return nil, fmt.Errorf("offset at row %d is not finite", i)
		}
	}
	for _, c := range d.X {
		if len(c.Values) != n {
			return nil, fmt.Errorf("len(%s) = %d, want %d", c.Name, len(c.Values), n)
		}
		for i, v := range c.Values {
			if !allFinite(v) {
				return nil, fmt.Errorf("%s at row %d is not finite", c.Name, i)
			}
		}
	}
	facs := d.Factors
	if absorb != nil {
		facs = append(slices.Clip(facs), *absorb)
	}
	for _, f := range facs {
		if len(f.Codes) != n {
			return nil, fmt.Errorf("len(%s codes) = %d, want %d", f.Name, len(f.Codes), n)
		}
		if f.Levels < 1 || (f.Labels != nil && len(f.Labels) != f.Levels) {
			return nil, fmt.Errorf("factor %s: %d levels with %d labels", f.Name, f.Levels, len(f.Labels))
		}
		for i, c := range f.Codes {
			if c < 0 || int(c) >= f.Levels {
				return nil, fmt.Errorf("factor %s: code %d at row %d is outside 0..%d", f.Name, c, i, f.Levels-1)
			}
		}
	}
	maxCluster := int32(-1)
	for i, c := range d.Cluster {
		if c < 0 {
			return nil, fmt.Errorf("cluster code %d at row %d is negative", c, i)
		}
		maxCluster = max(maxCluster, c)
	}
	if maxCluster >= 1<<26 {
		return nil, fmt.Errorf("cluster codes reach %d: use dense codes 0..G−1", maxCluster)
	}

	m := &model{opt: opt, n: n, y: d.Y, off: d.Offset, icpt: absorb == nil, robust: d.Cluster != nil}
	for _, c := range d.X {
		m.x = append(m.x, c.Values)
	}
	for _, f := range d.Factors {
		m.fac = append(m.fac, f.Codes)
	}
	var gcodes []int32
	if absorb != nil {
		gcodes = absorb.Codes
	}
	ccodes := d.Cluster
	if err := m.order(gcodes, ccodes, absorb, maxCluster); err != nil {
		return nil, err
	}

	// Parameters: intercept, dense columns, then each factor's levels 1..L−1.
	if m.icpt {
		m.names = append(m.names, "Intercept")
	}
	for j, c := range d.X {
		name := c.Name
		if name == "" {
			name = "x" + strconv.Itoa(j+1)
		}
		m.names = append(m.names, name)
	}
	m.p = len(m.names)
	var lev []int
	for _, f := range d.Factors {
		lev = append(lev, f.Levels)
		for l := 1; l < f.Levels; l++ {
			label := strconv.Itoa(l)
			if f.Labels != nil {
				label = f.Labels[l]
			}
			m.names = append(m.names, f.Name+"["+label+"]")
		}
	}
	m.L = newLayout(m.p, lev)
	m.k = m.L.k
	if m.k > maxParams {
		return nil, fmt.Errorf("%d dummy-coded parameters exceed %d: absorb the largest factor with FitPoissonAbsorbed", m.k, maxParams)
	}
	if err := m.identified(d); err != nil {
		return nil, err
	}
	m.partition()
	return m, nil
}

// order arranges the rows in blocks and clusters, copying the data into that
// order only when the caller's order does not already have it.
func (m *model) order(gcodes, ccodes []int32, absorb *Factor, maxCluster int32) error {
	n := m.n
	var clusterOf []int32 // cluster of each absorbed group
	if gcodes != nil && ccodes != nil {
		clusterOf = make([]int32, absorb.Levels)
		for i := range clusterOf {
			clusterOf[i] = -1
		}
		for i, g := range gcodes {
			switch clusterOf[g] {
			case -1:
				clusterOf[g] = ccodes[i]
			case ccodes[i]:
			default:
				return fmt.Errorf("%s groups are not nested in clusters: cluster on %s or on a coarser grouping", absorb.Name, absorb.Name)
			}
		}
	}
	key := gcodes // the codes that define the blocks
	if key == nil {
		key = ccodes
	}
	if key == nil {
		m.nUsed = n
		return nil
	}
	m.blocked = true
	if absorb != nil {
		m.absorbed = &Absorbed{Name: absorb.Name}
	}
	sorted := contiguous(gcodes) && contiguous(ccodes)
	if !sorted {
		perm := m.permutation(gcodes, ccodes, absorb, clusterOf, maxCluster)
		m.y = gather(m.y, perm)
		m.off = gather(m.off, perm)
		for j := range m.x {
			m.x[j] = gather(m.x[j], perm)
		}
		for j := range m.fac {
			m.fac[j] = gather(m.fac[j], perm)
		}
		key = gather(key, perm)
		ccodes = gather(ccodes, perm)
	}
	// Blocks are runs of key; absorbed groups without events are left out.
	prevCluster := int32(-1)
	dropped := 0
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && key[hi] == key[lo] {
			hi++
		}
		var sy float64
		for _, y := range m.y[lo:hi] {
			sy += y
		}
		if gcodes != nil && sy == 0 {
			m.absorbed.DroppedGroups++
			dropped += hi - lo
		} else {
			if ccodes == nil || ccodes[lo] != prevCluster || len(m.cb) == 0 {
				m.cb = append(m.cb, len(m.blo))
			}
			if ccodes != nil {
				prevCluster = ccodes[lo]
			}
			m.blo = append(m.blo, lo)
			m.bhi = append(m.bhi, hi)
			m.bsum = append(m.bsum, sy)
		}
		lo = hi
	}
	m.cb = append(m.cb, len(m.blo))
	m.nUsed = n - dropped
	if m.absorbed != nil {
		m.absorbed.DroppedRows = dropped
		m.absorbed.Groups = len(m.blo)
	}
	return nil
}

// contiguous reports whether every code occupies a single run.
func contiguous(codes []int32) bool {
	seen := map[int32]bool{}
	for i, c := range codes {
		if i > 0 && c == codes[i-1] {
			continue
		}
		if seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// permutation returns a row order in which clusters are contiguous and, for
// an absorbed fit, each group is contiguous inside its cluster.
func (m *model) permutation(gcodes, ccodes []int32, absorb *Factor, clusterOf []int32, maxCluster int32) []int32 {
	byCode := func(codes []int32, levels int) (start []int32, rows []int32) {
		start = make([]int32, levels+1)
		for _, c := range codes {
			start[c+1]++
		}
		for l := 0; l < levels; l++ {
			start[l+1] += start[l]
		}
		rows = make([]int32, len(codes))
		next := slices.Clone(start[:levels])
		for i, c := range codes {
			rows[next[c]] = int32(i)
			next[c]++
		}
		return start, rows
	}
	if gcodes == nil {
		_, rows := byCode(ccodes, int(maxCluster)+1)
		return rows
	}
	start, rows := byCode(gcodes, absorb.Levels)
	if clusterOf == nil {
		return rows
	}
	// Order the groups by cluster, then lay their rows out in that order.
	groups := make([]int32, 0, absorb.Levels)
	for g := range absorb.Levels {
		if start[g+1] > start[g] {
			groups = append(groups, int32(g))
		}
	}
	slices.SortStableFunc(groups, func(a, b int32) int { return int(clusterOf[a]) - int(clusterOf[b]) })
	perm := make([]int32, 0, len(rows))
	for _, g := range groups {
		perm = append(perm, rows[start[g]:start[g+1]]...)
	}
	return perm
}

func gather[T any](v []T, perm []int32) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(perm))
	for i, j := range perm {
		out[i] = v[j]
	}
	return out
}

// usedRanges returns the row ranges in the fit: all rows, or the kept blocks.
func (m *model) usedRanges() [][2]int {
	if !m.blocked {
		return [][2]int{{0, m.n}}
	}
	r := make([][2]int, len(m.blo))
	for b := range m.blo {
		r[b] = [2]int{m.blo[b], m.bhi[b]}
	}
	return r
}

// forUsedRows calls fn for every row in the fit.
func (m *model) forUsedRows(fn func(i int)) {
	for _, r := range m.usedRanges() {
		for i := r[0]; i < r[1]; i++ {
			fn(i)
		}
	}
}

// identified rejects data where some parameter has no finite maximum
// likelihood estimate that simple counting can detect: no events at all, a
// factor level without rows or without events, or a regressor whose events
// all sit at one end of its range (perfect separation). It also records
// the scale of each regressor for the divergence check after the fit.
func (m *model) identified(d Data) error {
	ranges := m.usedRanges()
	nx := len(m.x)
	var total float64
	rows := make([][]int, len(m.fac))
	events := make([][]float64, len(m.fac))
	for f, fd := range d.Factors {
		rows[f], events[f] = make([]int, fd.Levels), make([]float64, fd.Levels)
	}
	lo, hi, sum := make([]float64, nx), make([]float64, nx), make([]float64, nx)
	for j := range nx {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
	}
	for _, r := range ranges {
		for i := r[0]; i < r[1]; i++ {
			y := m.y[i]
			total += y
			for f, codes := range m.fac {
				rows[f][codes[i]]++
				events[f][codes[i]] += y
			}
			for j, x := range m.x {
				v := x[i]
				lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
				sum[j] += v
			}
		}
	}
	if total == 0 {
		return notComputable("there are no events")
	}
	for f, fd := range d.Factors {
		for l := range fd.Levels {
			label := strconv.Itoa(l)
			if fd.Labels != nil {
				label = fd.Labels[l]
			}
			if rows[f][l] == 0 {
				return notComputable(fmt.Sprintf("%s %s has no rows, so its effect cannot be estimated", fd.Name, label))
			}
			if events[f][l] == 0 {
				return notComputable(fmt.Sprintf("perfect separation: %s %s has no events, so its rate is estimated as zero", fd.Name, label))
			}
		}
	}
	m.scale = make([]float64, m.k)
	for j := range m.scale {
		m.scale[j] = 1
	}
	if nx == 0 {
		return nil
	}
	// above: events where x is above its minimum; below: under its maximum.
	above, below, ss := make([]float64, nx), make([]float64, nx), make([]float64, nx)
	for _, r := range ranges {
		for i := r[0]; i < r[1]; i++ {
			y := m.y[i]
			for j, x := range m.x {
				v := x[i]
				if v > lo[j] {
					above[j] += y
				}
				if v < hi[j] {
					below[j] += y
				}
				dv := v - sum[j]/float64(m.nUsed)
				ss[j] += dv * dv
			}
		}
	}
	for j := range nx {
		col := m.p - nx + j
		name := m.names[col]
		switch {
		case lo[j] == hi[j]:
			return notComputable(fmt.Sprintf("%s is constant, so its effect cannot be estimated", name))
		case above[j] == 0:
			return notComputable(fmt.Sprintf("perfect separation: there are no events where %s > %g", name, lo[j]))
		case below[j] == 0:
			return notComputable(fmt.Sprintf("perfect separation: there are no events where %s < %g", name, hi[j]))
		}
		m.scale[col] = math.Sqrt(ss[j] / float64(m.nUsed))
	}
	return nil
}

// partition splits rows, blocks and clusters into at most nParts pieces of
// similar row counts.
func (m *model) partition() {
	m.rowParts = split(m.n, func(i int) int { return 1 })
	if m.blocked {
		m.blockParts = split(len(m.blo), func(b int) int { return m.bhi[b] - m.blo[b] })
		m.clusterParts = split(len(m.cb)-1, func(c int) int { return m.bhi[m.cb[c+1]-1] - m.blo[m.cb[c]] })
	}
	m.accs = make([]*acc, nParts+1)
	for i := range m.accs {
		m.accs[i] = newAcc(&m.L)
	}
	m.eff = make([]float64, m.L.vecLen)
}

func split(n int, size func(int) int) [][2]int {
	total := 0
	for i := range n {
		total += size(i)
	}
	var parts [][2]int
	lo, acc := 0, 0
	for i := range n {
		acc += size(i)
		if acc*nParts >= total*(len(parts)+1) || i == n-1 {
			parts = append(parts, [2]int{lo, i + 1})
			lo = i + 1
		}
	}
	return parts
}

// run calls fn on every partition, spread over the worker goroutines, each
// partition with its own freshly zeroed accumulator, then adds the partial
// sums in partition order and assembles them in k-parameter form.
func (m *model) run(parts [][2]int, fn func(a *acc, lo, hi int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(m.opt.Workers, len(parts)) {
		wg.Go(func() {
			for {
				p := int(next.Add(1) - 1)
				if p >= len(parts) {
					return
				}
				a := m.accs[p]
				a.reset(m.want)
				fn(a, parts[p][0], parts[p][1])
			}
		})
	}
	wg.Wait()
	sum := m.accs[nParts]
	sum.reset(m.want)
	for _, a := range m.accs[:len(parts)] {
		addTo(sum.info, a.info)
		addTo(sum.grad, a.grad)
		addTo(sum.info2, a.info2)
		addTo(sum.gba, a.gba)
		addTo(sum.h, a.h)
		addTo(sum.meat, a.meat)
		sum.ll += a.ll
		sum.dev += a.dev
		sum.pearson += a.pearson
		sum.lr += a.lr
		sum.lrr += a.lrr
	}
	k := m.k
	m.H = resize(m.H, k*k)
	copy(m.H, sum.h) // sum.h is nil or the absorbed correction
	m.L.assemble(sum.info, m.H)
	m.G = resize(m.G, k)
	m.L.collapse(sum.grad, m.G)
	m.H2, m.meat, m.gba = nil, sum.meat, nil
	if sum.info2 != nil {
		m.H2 = make([]float64, k*k)
		m.L.assemble(sum.info2, m.H2)
	}
	if sum.gba != nil {
		m.gba = make([]float64, k)
		m.L.collapse(sum.gba, m.gba)
	}
	m.ll, m.dev, m.pearson, m.lr, m.lrr = sum.ll, sum.dev, sum.pearson, sum.lr, sum.lrr
}

func resize(v []float64, n int) []float64 {
	if len(v) != n {
		return make([]float64, n)
	}
	clear(v)
	return v
}

func addTo(dst, src []float64) {
	for i, v := range src {
		dst[i] += v
	}
}

// wants says which optional sums a pass accumulates.
type wants struct {
	h     bool // k×k matrix for the absorbed correction
	info2 bool // observed information (NB2)
	meat  bool // cluster meat
	gba   bool // NB2 cross-derivatives in β and α
}

// acc holds one partition's partial sums and scratch space.
type acc struct {
	L                         *layout
	info, grad                []float64 // flat
	info2, gba                []float64 // flat, on demand
	h, meat                   []float64 // k×k, on demand
	ll, dev, pearson, lr, lrr float64
	xv                        []float64 // the current row's dense values
	cv                        []int32   // the current row's factor levels
	mg, sc                    sparseVec
	eta, ex                   []float64
}

func newAcc(L *layout) *acc {
	return &acc{
		L: L, info: make([]float64, L.infoLen), grad: make([]float64, L.vecLen),
		xv: make([]float64, L.p), cv: make([]int32, len(L.lev)),
		mg: newSparse(L.k), sc: newSparse(L.k),
	}
}

func (a *acc) reset(w wants) {
	clear(a.info)
	clear(a.grad)
	a.ll, a.dev, a.pearson, a.lr, a.lrr = 0, 0, 0, 0, 0
	a.info2 = resetOpt(a.info2, w.info2, a.L.infoLen)
	a.gba = resetOpt(a.gba, w.gba, a.L.vecLen)
	a.h = resetOpt(a.h, w.h, a.L.k*a.L.k)
	a.meat = resetOpt(a.meat, w.meat, a.L.k*a.L.k)
}

func resetOpt(v []float64, want bool, n int) []float64 {
	if !want {
		return nil
	}
	if v == nil {
		return make([]float64, n)
	}
	clear(v)
	return v
}

// load reads row i into a.xv and a.cv and returns its linear predictor for
// the coefficients eff in flat form.
func (m *model) load(a *acc, i int, eff []float64) float64 {
	var eta float64
	if m.off != nil {
		eta = m.off[i]
	}
	xv, j := a.xv, 0
	if m.icpt {
		xv[0] = 1
		eta += eff[0]
		j = 1
	}
	for _, c := range m.x {
		v := c[i]
		xv[j] = v
		eta += eff[j] * v
		j++
	}
	for f, codes := range m.fac {
		c := codes[i]
		a.cv[f] = c
		eta += eff[m.L.vecOff[f]+int(c)]
	}
	return eta
}

// addSparse adds u·x for the current row to s, indexed by parameter.
func (m *model) addSparse(a *acc, s *sparseVec, u float64) {
	for j, v := range a.xv {
		s.add(int32(j), u*v)
	}
	for f, c := range a.cv {
		if c > 0 {
			s.add(int32(m.L.facCol[f]+int(c)-1), u)
		}
	}
}

// sparseVec accumulates a length-k vector that has few nonzeros.
type sparseVec struct {
	v     []float64
	on    []bool
	touch []int32
	tv    []float64
	runs  []int
}

func newSparse(k int) sparseVec {
	return sparseVec{v: make([]float64, k), on: make([]bool, k), tv: make([]float64, k)}
}

func (s *sparseVec) add(j int32, x float64) {
	if !s.on[j] {
		s.on[j] = true
		s.touch = append(s.touch, j)
	}
	s.v[j] += x
}

// flushOuter adds w·v·v' to the lower triangle of the k×k matrix h and
// clears v. Touched indices are sorted and cut into runs of consecutive
// parameters (a month range, say), so the inner loops are plain axpys.
func (s *sparseVec) flushOuter(h []float64, k int, w float64) {
	t := s.touch
	if !slices.IsSorted(t) {
		slices.Sort(t)
	}
	tv := s.tv[:len(t)]
	runs := s.runs[:0] // start positions in t, closed by len(t)
	for a, j := range t {
		tv[a] = s.v[j]
		s.v[j] = 0
		s.on[j] = false
		if a == 0 || j != t[a-1]+1 {
			runs = append(runs, a)
		}
	}
	runs = append(runs, len(t))
	for a, i := range t {
		row := h[int(i)*k:]
		wa := w * tv[a]
		for r := 0; runs[r] <= a; r++ {
			lo, hi := runs[r], min(runs[r+1], a+1)
			floats.AddScaled(row[t[lo]:int(t[lo])+hi-lo], wa, tv[lo:hi])
		}
	}
	s.touch, s.runs = t[:0], runs
}

func (m *model) offAt(i int) float64 {
	if m.off == nil {
		return 0
	}
	return m.off[i]
}
