package stats

import (
	"fmt"
	"math"
)

// setFamily fixes the family and the parts of the log-likelihood that depend
// only on y (and α).
func (m *model) setFamily(fam Family) {
	m.fam = fam
	if !m.hist.built {
		m.hist.build(m)
	}
	if fam.isNB2() {
		m.llConst = m.hist.nbConst(fam.Alpha)
	} else {
		m.llConst = m.hist.poissonConst()
	}
}

// startGLM returns starting values: the overall log rate as intercept.
func (m *model) startGLM() []float64 {
	beta := make([]float64, m.k)
	var sy, se float64
	m.forUsedRows(func(i int) {
		sy += m.y[i]
		se += math.Exp(m.offAt(i))
	})
	if m.icpt && se > 0 && !math.IsInf(se, 1) {
		beta[0] = math.Log(sy / se)
	}
	return beta
}

// fitState is where the Newton iterations stopped.
type fitState struct {
	beta      []float64
	iter      int
	converged bool
}

// newton maximises the log-likelihood from beta. pass(b) must return the
// log-likelihood at b (up to a constant) and leave the information matrix in
// m.H and the score in m.G. Steps are halved while they lower the
// log-likelihood. On non-convergence it returns the last iterate and an error.
func (m *model) newton(beta []float64, pass func([]float64) float64) (*fitState, error) {
	k := m.k
	ch := newChol(k)
	delta := make([]float64, k)
	trial := make([]float64, k)
	m.want = wants{h: m.absorbed != nil}
	ll := pass(beta)
	if !allFinite(ll) {
		return nil, notComputable("the likelihood is not finite at the starting values; check the offsets")
	}
	for it := 1; ; it++ {
		if bad := ch.factor(m.H); bad >= 0 {
			if it == 1 {
				return nil, m.singular(bad)
			}
			// The information was fine at the start and has degenerated:
			// fitted means are going to zero along some direction.
			return nil, m.diverges(bad)
		}
		ch.solve(m.G, delta)
		if lam := dot(m.G, delta); lam < m.opt.Tol {
			for j := range beta {
				beta[j] += delta[j]
			}
			return &fitState{beta: beta, iter: it, converged: true}, nil
		}
		if it > m.opt.MaxIter {
			return &fitState{beta: beta, iter: it - 1}, notComputable(fmt.Sprintf("the fit did not converge in %d iterations", m.opt.MaxIter))
		}
		for step := 1.0; ; step /= 2 {
			if step < 1e-10 {
				return nil, notComputable("the fit cannot improve the likelihood (step-halving failed)")
			}
			for j := range trial {
				trial[j] = beta[j] + step*delta[j]
			}
			llNew := pass(trial)
			if allFinite(llNew) && llNew >= ll-1e-13*(1+math.Abs(ll)) {
				ll = llNew
				break
			}
		}
		beta, trial = trial, beta
	}
}

func (m *model) diverges(col int) error {
	return notComputable(fmt.Sprintf("%s is not identified by the data (perfect separation: its estimate diverges)", m.names[col]))
}

func (m *model) singular(col int) error {
	what := "the intercept and the columns before it"
	if m.absorbed != nil {
		what = "the " + m.absorbed.Name + " effects and the columns before it"
	}
	return notComputable(fmt.Sprintf("the design is singular: %s is a linear combination of %s", m.names[col], what))
}

// glmIterPass computes the log-likelihood, score and observed information of
// the GLM at beta.
func (m *model) glmIterPass(beta []float64) float64 {
	nb, alpha := m.fam.isNB2(), m.fam.Alpha
	m.L.expand(beta, m.eff)
	m.run(m.rowParts, func(a *acc, lo, hi int) {
		for i := lo; i < hi; i++ {
			eta := m.load(a, i, m.eff)
			mu := math.Exp(eta)
			y := m.y[i]
			var u, w float64
			if nb {
				d := 1 + alpha*mu
				t := math.Log1p(alpha * mu)
				u = (y - mu) / d
				w = mu * (1 + alpha*y) / (d * d)
				a.ll += y*(eta-t) - t/alpha
			} else {
				u, w = y-mu, mu
				a.ll += y*eta - mu
			}
			m.L.addRow(a.info, a.xv, a.cv, w)
			m.L.addVec(a.grad, a.xv, a.cv, u)
		}
	})
	return m.ll
}

// glmFinalPass computes at beta everything reported: log-likelihood,
// deviance, Pearson χ², expected information (m.H), observed information
// (m.H2, NB2 only), the cluster meat (m.meat) and, with alphaDerivs, the
// derivatives with respect to α needed by EstimateNB2Alpha.
func (m *model) glmFinalPass(beta []float64, alphaDerivs bool) {
	nb, alpha := m.fam.isNB2(), m.fam.Alpha
	m.want = wants{info2: nb, meat: m.robust, gba: alphaDerivs}
	m.L.expand(beta, m.eff)
	rows := func(a *acc, lo, hi int, score bool) {
		for i := lo; i < hi; i++ {
			eta := m.load(a, i, m.eff)
			mu := math.Exp(eta)
			y := m.y[i]
			var u float64
			if nb {
				r := 1 / alpha
				d := 1 + alpha*mu
				t := math.Log1p(alpha * mu)
				u = (y - mu) / d
				a.ll += y*(eta-t) - t/alpha
				if y > 0 {
					a.dev += 2 * (y*(math.Log(y)-eta) - (y+r)*(math.Log1p(alpha*y)-t))
				} else {
					a.dev += 2 * r * t
				}
				a.pearson += (y - mu) * (y - mu) / (mu * d)
				m.L.addRow(a.info, a.xv, a.cv, mu/d)
				m.L.addRow(a.info2, a.xv, a.cv, mu*(1+alpha*y)/(d*d))
				if alphaDerivs {
					// Derivatives in r = 1/α, less the digamma terms that
					// depend on y alone (added from the histogram).
					a.lr += -t + alpha*(mu-y)/d
					a.lrr += alpha*alpha*mu/d - alpha*alpha*(mu-y)/(d*d)
					m.L.addVec(a.gba, a.xv, a.cv, (y-mu)*mu/(d*d))
				}
			} else {
				u = y - mu
				a.ll += y*eta - mu
				if y > 0 {
					a.dev += 2 * (y*(math.Log(y)-eta) - (y - mu))
				} else {
					a.dev += 2 * mu
				}
				a.pearson += (y - mu) * (y - mu) / mu
				m.L.addRow(a.info, a.xv, a.cv, mu)
			}
			m.L.addVec(a.grad, a.xv, a.cv, u)
			if score {
				m.addSparse(a, &a.sc, u)
			}
		}
	}
	if !m.robust {
		m.run(m.rowParts, func(a *acc, lo, hi int) { rows(a, lo, hi, false) })
		return
	}
	m.run(m.clusterParts, func(a *acc, lo, hi int) {
		for c := lo; c < hi; c++ {
			for b := m.cb[c]; b < m.cb[c+1]; b++ {
				rows(a, m.blo[b], m.bhi[b], true)
			}
			a.sc.flushOuter(a.meat, m.k, 1)
		}
	})
}

// result assembles the Result at the final pass's totals.
func (m *model) result(f *fitState) (*Result, error) {
	k := m.k
	ch := newChol(k)
	if bad := ch.factor(m.H); bad >= 0 {
		return nil, m.singular(bad)
	}
	covM := ch.inverse()
	K, N := k, m.nUsed
	if m.absorbed != nil {
		K += m.absorbed.Groups
	}
	if N <= K {
		return nil, notComputable(fmt.Sprintf("the model has %d parameters but only %d rows", K, N))
	}
	r := &Result{
		Family: m.fam, Level: m.opt.Level, N: N, K: K, DFResid: N - K,
		LogLik: m.ll + m.llConst, Deviance: m.dev, Pearson: m.pearson,
		PearsonDF: m.pearson / float64(N-K), Iterations: f.iter, Converged: f.converged,
		ModelCov: covM, Absorbed: m.absorbed,
	}
	if m.robust {
		g := len(m.cb) - 1
		if g < 2 {
			return nil, notComputable("cluster-robust standard errors need at least two clusters")
		}
		bread := covM
		if m.H2 != nil {
			ch2 := newChol(k)
			if bad := ch2.factor(m.H2); bad >= 0 {
				return nil, m.singular(bad)
			}
			bread = ch2.inverse()
		}
		symmetrize(m.meat, k)
		G, n, kk := float64(g), float64(N), float64(K)
		r.Robust, r.Clusters = true, g
		r.Correction = G / (G - 1) * (n - 1) / (n - kk)
		r.RobustCov = sandwich(bread, m.meat, k, r.Correction)
	}
	z := normalQuantile(1 - (1-m.opt.Level)/2)
	for j, name := range m.names {
		b := f.beta[j]
		c := Coef{Name: name, Estimate: b, RR: math.Exp(b), Model: inference(b, covM[j*k+j], z)}
		if c.Model.SE*m.scale[j] > 100 {
			return nil, notComputable(fmt.Sprintf("%s is not identified by the data (perfect separation or near-collinearity: its standard error is %.3g)", name, c.Model.SE))
		}
		if r.Robust {
			c.Robust = inference(b, r.RobustCov[j*k+j], z)
		}
		r.Coefs = append(r.Coefs, c)
	}
	if !r.finite() {
		return nil, notComputable("the estimates overflow floating point")
	}
	return r, nil
}

func inference(b, v, z float64) Inference {
	se := math.Sqrt(v)
	in := Inference{SE: se, Z: b / se, Lo: b - z*se, Hi: b + z*se}
	in.P = normalTwoSided(in.Z)
	in.RRLo, in.RRHi = math.Exp(in.Lo), math.Exp(in.Hi)
	return in
}

func (r *Result) finite() bool {
	if !allFinite(r.LogLik, r.Deviance, r.Pearson, r.PearsonDF, r.Correction, r.Family.Alpha) {
		return false
	}
	for _, c := range r.Coefs {
		if !allFinite(c.Estimate, c.RR) || !c.Model.finite() || !c.Robust.finite() {
			return false
		}
	}
	return allFinite(r.ModelCov...) && allFinite(r.RobustCov...)
}

func (in Inference) finite() bool {
	return allFinite(in.SE, in.Z, in.P, in.Lo, in.Hi, in.RRLo, in.RRHi)
}

// countHist tallies the outcome values, so that sums over rows of functions
// of y alone (log-gamma, digamma) cost one evaluation per distinct count.
type countHist struct {
	built bool
	ints  []float64 // ints[v]: rows with y = v
	other []float64 // non-integer or very large outcomes
	sumY  float64
}

const maxHist = 1 << 20

func (h *countHist) build(m *model) {
	h.built = true
	m.forUsedRows(func(i int) {
		y := m.y[i]
		h.sumY += y
		if y == math.Trunc(y) && y < maxHist {
			v := int(y)
			for len(h.ints) <= v {
				h.ints = append(h.ints, 0)
			}
			h.ints[v]++
		} else {
			h.other = append(h.other, y)
		}
	})
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// poissonConst returns −Σ log y!.
func (h *countHist) poissonConst() float64 {
	var s, logFact float64
	for v, c := range h.ints {
		if v > 0 {
			logFact += math.Log(float64(v))
		}
		s -= c * logFact
	}
	for _, y := range h.other {
		s -= lgamma(y + 1)
	}
	return s
}

// nbConst returns Σ [lgamma(y+r) − lgamma(r) − log y!] + log α·Σy, r = 1/α:
// the NB2 log-likelihood less its μ-dependent part.
func (h *countHist) nbConst(alpha float64) float64 {
	r := 1 / alpha
	var s, logRise, logFact float64 // logRise = Σ_{j<v} log(r+j)
	for v, c := range h.ints {
		if v > 0 {
			logRise += math.Log(r + float64(v-1))
			logFact += math.Log(float64(v))
		}
		s += c * (logRise - logFact)
	}
	for _, y := range h.other {
		s += lgamma(y+r) - lgamma(r) - lgamma(y+1)
	}
	return s + math.Log(alpha)*h.sumY
}

// digammaSums returns Σ_rows [ψ(y+r) − ψ(r)] and Σ_rows [ψ'(y+r) − ψ'(r)]
// for r = 1/α, which for integer y are Σ_{j<y} 1/(r+j) and −Σ_{j<y} 1/(r+j)².
// ok is false if some outcome is not an integer.
func (h *countHist) digammaSums(alpha float64) (d1, d2 float64, ok bool) {
	if len(h.other) > 0 {
		return 0, 0, false
	}
	r := 1 / alpha
	var s1, s2 float64
	for v, c := range h.ints {
		if v > 0 {
			q := 1 / (r + float64(v-1))
			s1 += q
			s2 += q * q
		}
		d1 += c * s1
		d2 -= c * s2
	}
	return d1, d2, true
}
