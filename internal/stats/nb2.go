package stats

import (
	"fmt"
	"math"
	"slices"
)

// NB2AlphaResult is the maximum likelihood estimate of the NB2 dispersion α.
type NB2AlphaResult struct {
	Alpha float64
	// SE is α's standard error from the inverse of the joint observed
	// information of (β, α), as statsmodels' NegativeBinomial reports it.
	SE         float64
	LogLik     float64 // maximised log-likelihood
	Iterations int     // Newton steps in log α
	// Fit is the NB2 GLM at Alpha: the same β as the joint maximum, with
	// the covariance conventions of FitGLM.
	Fit *Result
}

// EstimateNB2Alpha estimates α of the NB2 model (variance μ + αμ²) jointly
// with the coefficients by maximum likelihood, as statsmodels'
// discrete.NegativeBinomial(loglike_method="nb2"), by Newton steps on the
// profile likelihood in log α. The design is as FitGLM's. Outcomes must be
// integers. It returns ErrNotComputable, besides FitGLM's reasons, when the
// data show no overdispersion (the estimate of α is 0: use Poisson).
func EstimateNB2Alpha(d Data, opt Options) (*NB2AlphaResult, error) {
	r, err := estimateNB2Alpha(d, opt)
	if err != nil {
		return nil, fmt.Errorf("stats.EstimateNB2Alpha: %w", err)
	}
	return r, nil
}

const (
	minAlpha = 1e-8
	maxAlpha = 1e6
)

func estimateNB2Alpha(d Data, opt Options) (*NB2AlphaResult, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := prepare(d, nil, opt)
	if err != nil {
		return nil, err
	}
	m.setFamily(Poisson())
	if len(m.hist.other) > 0 {
		return nil, fmt.Errorf("outcomes must be integer counts")
	}
	f, err := m.newton(m.startGLM(), m.glmIterPass)
	if err != nil {
		return nil, err
	}
	beta := f.beta
	// Start from the Poisson fit's excess Pearson dispersion, as a rate.
	m.glmFinalPass(beta, false)
	alpha := (m.pearson/float64(m.nUsed-m.k) - 1) * float64(m.nUsed) / m.hist.sumY
	phi := math.Log(max(0.05, alpha))
	lo, hi := math.Inf(-1), math.Inf(1) // bracket: the score is > 0 at lo, < 0 at hi
	ch := newChol(m.k)
	x := make([]float64, m.k)
	// The cluster meat is needed only at the end.
	robust := m.robust
	m.robust = false
	for it := 1; it <= opt.MaxIter; it++ {
		alpha := math.Exp(phi)
		m.setFamily(NB2(alpha))
		f, err := m.newton(slices.Clone(beta), m.glmIterPass)
		if err != nil {
			return nil, err
		}
		beta = f.beta
		m.glmFinalPass(beta, true)
		// Profile score and information of α (envelope theorem): the
		// α-derivatives at β̂(α), less the part explained through β.
		d1, d2, _ := m.hist.digammaSums(alpha)
		r := 1 / alpha
		lr, lrr := d1+m.lr, d2+m.lrr
		score := -r * r * lr
		info := -(r*r*r*r*lrr + 2*r*r*r*lr)
		if bad := ch.factor(m.H2); bad >= 0 {
			return nil, m.singular(bad)
		}
		ch.solve(m.gba, x)
		info -= dot(m.gba, x)
		// Newton in φ = log α.
		g, h := alpha*score, -alpha*alpha*info+alpha*score
		if g > 0 {
			lo = phi
		} else {
			hi = phi
		}
		step := math.Copysign(1, g)
		if h < 0 {
			step = max(-2, min(2, -g/h))
		}
		if math.Abs(step) < 1e-10 || hi-lo < 1e-12 {
			if !(info > 0) {
				return nil, notComputable("the information about α is not positive")
			}
			if robust {
				m.robust = true
				m.glmFinalPass(beta, false)
			}
			res, err := m.result(f)
			if err != nil {
				return nil, err
			}
			out := &NB2AlphaResult{Alpha: alpha, SE: 1 / math.Sqrt(info), LogLik: res.LogLik, Iterations: it, Fit: res}
			if !allFinite(out.SE) {
				return nil, notComputable("the standard error of α overflows")
			}
			return out, nil
		}
		next := phi + step
		if !math.IsInf(lo, 0) && !math.IsInf(hi, 0) && (next <= lo || next >= hi) {
			next = (lo + hi) / 2
		}
		switch {
		case next < math.Log(minAlpha):
			if phi <= math.Log(minAlpha) {
				return nil, notComputable("the data show no overdispersion (the NB2 α estimate is 0): use the Poisson model")
			}
			next = math.Log(minAlpha)
		case next > math.Log(maxAlpha):
			if phi >= math.Log(maxAlpha) {
				return nil, notComputable("the NB2 α estimate diverges")
			}
			next = math.Log(maxAlpha)
		}
		phi = next
	}
	return nil, notComputable(fmt.Sprintf("the estimate of α did not converge in %d iterations", opt.MaxIter))
}
