package stats

import (
	"fmt"
	"math"
)

// FitPoissonAbsorbed fits a Poisson regression with one high-dimensional
// fixed effect, absorb (e.g. 100,000 officers), concentrated out rather than
// dummy-coded: given the other coefficients, group g's effect is
// log(Σ_g y / Σ_g exp(xβ + offset)), and Newton steps use the Hessian of the
// concentrated likelihood (regressors demeaned within group, μ-weighted).
// There is no intercept; d.Factors (e.g. calendar month) are dummy-coded
// alongside. Groups whose rows all have zero events carry no information and
// are dropped (Result.Absorbed counts them). With d.Cluster, which must nest
// the groups (cluster on the absorbed factor itself, or on a coarser one),
// the cluster-robust covariance uses K = all parameters including the group
// effects in the small-sample factor, so that every number equals
// statsmodels' GLM with explicit group dummies on the rows of the groups
// kept. Errors are as for FitGLM.
func FitPoissonAbsorbed(d Data, absorb Factor, opt Options) (*Result, error) {
	r, err := fitPoissonAbsorbed(d, absorb, opt)
	if err != nil {
		return r, fmt.Errorf("stats.FitPoissonAbsorbed: %w", err)
	}
	return r, nil
}

func fitPoissonAbsorbed(d Data, absorb Factor, opt Options) (*Result, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := prepare(d, &absorb, opt)
	if err != nil {
		return nil, err
	}
	if m.k == 0 {
		return nil, fmt.Errorf("no coefficients to estimate besides the absorbed %s effects", absorb.Name)
	}
	m.setFamily(Poisson())
	f, err := m.newton(make([]float64, m.k), m.absorbIterPass)
	if f == nil {
		return nil, err
	}
	m.absorbFinalPass(f.beta)
	r, rerr := m.result(f)
	if rerr != nil {
		return nil, rerr
	}
	return r, err
}

func (m *model) absorbIterPass(beta []float64) float64 {
	m.L.expand(beta, m.eff)
	m.run(m.blockParts, func(a *acc, lo, hi int) {
		for b := lo; b < hi; b++ {
			m.absorbBlock(a, b, false)
		}
	})
	return m.ll
}

func (m *model) absorbFinalPass(beta []float64) {
	m.want = wants{h: true, meat: m.robust}
	m.L.expand(beta, m.eff)
	m.run(m.clusterParts, func(a *acc, lo, hi int) {
		for c := lo; c < hi; c++ {
			for b := m.cb[c]; b < m.cb[c+1]; b++ {
				m.absorbBlock(a, b, true)
			}
			if m.robust {
				a.sc.flushOuter(a.meat, m.k, 1)
			}
		}
	})
}

// absorbBlock adds group b's contribution to the concentrated log-likelihood,
// its score Σ x(y−μ), and its information Σ μxx' − m m'/Σy with m = Σ μx,
// the group effect set to its conditional maximum. In the final pass it also
// adds deviance, Pearson χ² and the cluster score.
func (m *model) absorbBlock(a *acc, b int, final bool) {
	lo, hi, sy := m.blo[b], m.bhi[b], m.bsum[b]
	if cap(a.eta) < hi-lo {
		a.eta, a.ex = make([]float64, hi-lo), make([]float64, hi-lo)
	}
	eta, ex := a.eta[:hi-lo], a.ex[:hi-lo]
	top := math.Inf(-1)
	for i := lo; i < hi; i++ {
		e := m.load(a, i, m.eff)
		eta[i-lo] = e
		top = max(top, e)
	}
	var se float64
	for r, e := range eta {
		ex[r] = math.Exp(e - top) // shifted so the largest is 1: no overflow
		se += ex[r]
	}
	scale := sy / se
	lscale := math.Log(scale) - top // log μ = η + lscale
	for i := lo; i < hi; i++ {
		m.load(a, i, m.eff)
		mu := ex[i-lo] * scale
		y := m.y[i]
		u := y - mu
		a.ll += y*(eta[i-lo]+lscale) - mu
		m.L.addRow(a.info, a.xv, a.cv, mu)
		m.L.addVec(a.grad, a.xv, a.cv, u)
		m.addSparse(a, &a.mg, mu)
		if final {
			if y > 0 {
				a.dev += 2 * (y*(math.Log(y)-eta[i-lo]-lscale) - u)
			} else {
				a.dev += 2 * mu
			}
			a.pearson += u * u / mu
			if m.robust {
				m.addSparse(a, &a.sc, u)
			}
		}
	}
	a.mg.flushOuter(a.h, m.k, -1/sy)
}
