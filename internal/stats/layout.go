package stats

// layout describes the compact form in which passes accumulate sums, so that
// no row touches the k×k information matrix directly. A row has p dense
// values and one level per factor; its contribution to the information is
// stored as
//
//	dense×dense         p×p (lower triangle used)
//	factor f × dense    L_f×p, by level
//	factor f diagonal   L_f
//	factor f × factor g L_f×L_g for f < g (a cross-tabulation)
//
// all in one flat slice, and vectors (score, coefficients) as the p dense
// entries followed by L_f entries per factor, level 0 included. Level 0 is
// the reference and is dropped when assembling the k-parameter form.
type layout struct {
	p, k     int
	lev      []int
	facCol   []int // parameter index of level 1 of factor f
	vecOff   []int // offset of level 0 of factor f in a flat vector
	vecLen   int
	fdOff    []int // offset of factor f × dense in the flat information
	diagOff  []int // offset of factor f's diagonal
	crossOff []int // offset of factor f × factor g at f*F+g, f < g
	infoLen  int
}

func newLayout(p int, lev []int) layout {
	F := len(lev)
	L := layout{p: p, lev: lev, k: p, vecLen: p, infoLen: p * p}
	L.crossOff = make([]int, F*F)
	for _, l := range lev {
		L.facCol = append(L.facCol, L.k)
		L.k += l - 1
		L.vecOff = append(L.vecOff, L.vecLen)
		L.vecLen += l
		L.fdOff = append(L.fdOff, L.infoLen)
		L.infoLen += l * p
		L.diagOff = append(L.diagOff, L.infoLen)
		L.infoLen += l
	}
	for f := range F {
		for g := f + 1; g < F; g++ {
			L.crossOff[f*F+g] = L.infoLen
			L.infoLen += lev[f] * lev[g]
		}
	}
	return L
}

// addRow adds w·x·x' for the row with dense values xv and factor levels cv.
func (L *layout) addRow(info, xv []float64, cv []int32, w float64) {
	p := L.p
	for a, xa := range xv {
		wa := w * xa
		row := info[a*p : a*p+a+1]
		for b := range row {
			row[b] += wa * xv[b]
		}
	}
	F := len(cv)
	for f, c := range cv {
		o := L.fdOff[f] + int(c)*p
		row := info[o : o+p]
		for a := range row {
			row[a] += w * xv[a]
		}
		info[L.diagOff[f]+int(c)] += w
		for g := f + 1; g < F; g++ {
			info[L.crossOff[f*F+g]+int(c)*L.lev[g]+int(cv[g])] += w
		}
	}
}

// addVec adds u·x to the flat vector v.
func (L *layout) addVec(v, xv []float64, cv []int32, u float64) {
	for a, xa := range xv {
		v[a] += u * xa
	}
	for f, c := range cv {
		v[L.vecOff[f]+int(c)] += u
	}
}

// expand writes the k coefficients beta in flat form, with 0 at level 0.
func (L *layout) expand(beta, flat []float64) {
	copy(flat, beta[:L.p])
	for f, l := range L.lev {
		flat[L.vecOff[f]] = 0
		copy(flat[L.vecOff[f]+1:L.vecOff[f]+l], beta[L.facCol[f]:])
	}
}

// collapse writes the flat vector in k-parameter form.
func (L *layout) collapse(flat, dst []float64) {
	copy(dst, flat[:L.p])
	for f, l := range L.lev {
		copy(dst[L.facCol[f]:L.facCol[f]+l-1], flat[L.vecOff[f]+1:])
	}
}

// assemble adds the flat information to the lower triangle of the k×k h.
func (L *layout) assemble(info, h []float64) {
	p, k, F := L.p, L.k, len(L.lev)
	for a := range p {
		for b := 0; b <= a; b++ {
			h[a*k+b] += info[a*p+b]
		}
	}
	for f, l := range L.lev {
		for c := 1; c < l; c++ {
			r := L.facCol[f] + c - 1
			for a := range p {
				h[r*k+a] += info[L.fdOff[f]+c*p+a]
			}
			h[r*k+r] += info[L.diagOff[f]+c]
			for g := f + 1; g < F; g++ {
				for d := 1; d < L.lev[g]; d++ {
					s := L.facCol[g] + d - 1 // s > r: lower triangle
					h[s*k+r] += info[L.crossOff[f*F+g]+c*L.lev[g]+d]
				}
			}
		}
	}
}
