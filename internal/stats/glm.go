package stats

import (
	"fmt"
	"math"
	"runtime"
)

// Column is a dense regressor, e.g. a treatment indicator or hours/8.
type Column struct {
	Name   string
	Values []float64
}

// Factor is a categorical variable given as level codes 0..Levels−1, one per
// row. In a regression it is dummy-coded with level 0 as the reference;
// coefficients are named Name[label], the label being Labels[level] or, when
// Labels is nil, the level number.
type Factor struct {
	Name   string
	Codes  []int32
	Levels int
	Labels []string
}

// Data is a count regression problem: outcome Y (non-negative counts), an
// optional Offset (ln exposure; nil means 0), dense regressors X, categorical
// fixed effects, and optional Cluster codes (non-negative, ideally 0..G−1) for
// cluster-robust covariance. Rows may come in any order; grouping by cluster
// is cheapest when each cluster's rows are already contiguous.
type Data struct {
	Y       []float64
	Offset  []float64
	X       []Column
	Factors []Factor
	Cluster []int32
}

// Family is the error distribution of a GLM with log link: Name "poisson", or
// "nb2" (negative binomial, variance μ + Alpha·μ²) with a fixed Alpha > 0.
type Family struct {
	Name  string
	Alpha float64
}

// Poisson returns the Poisson family.
func Poisson() Family { return Family{Name: "poisson"} }

// NB2 returns the NB2 negative binomial family with dispersion alpha.
func NB2(alpha float64) Family { return Family{Name: "nb2", Alpha: alpha} }

func (f Family) isNB2() bool { return f.Name == "nb2" }

// Options tunes a fit; the zero value gives the defaults.
type Options struct {
	Level   float64 // confidence level of the intervals; 0 means 0.95
	MaxIter int     // Newton/IRLS iterations; 0 means 100
	// Tol stops the iterations when the squared Newton decrement g'H⁻¹g
	// (the squared length of the next step in standard errors, twice the
	// predicted log-likelihood gain) falls below it; 0 means 1e-10. The
	// step is still taken, and convergence is quadratic, so the estimates
	// end far closer to the maximum than √Tol standard errors.
	Tol     float64
	Workers int // goroutines; 0 means GOMAXPROCS
}

func (o Options) withDefaults() (Options, error) {
	if o.Level == 0 {
		o.Level = 0.95
	}
	if !(o.Level > 0 && o.Level < 1) {
		return o, fmt.Errorf("confidence level %v is not in (0, 1)", o.Level)
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 100
	}
	if o.Tol <= 0 {
		o.Tol = 1e-10
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o, nil
}

// Inference is a coefficient's standard error, z statistic, two-sided normal
// p-value, and confidence interval on the log scale and as rate ratios.
type Inference struct {
	SE, Z, P   float64
	Lo, Hi     float64 // Estimate ∓ z·SE
	RRLo, RRHi float64 // exp(Lo), exp(Hi)
}

// Coef is one estimated coefficient (log rate ratio) with its rate ratio
// exp(Estimate), model-based inference, and cluster-robust inference (zero
// unless the Result is Robust).
type Coef struct {
	Name     string
	Estimate float64
	RR       float64
	Model    Inference
	Robust   Inference
}

// Absorbed describes a fixed effect that was concentrated out of the fit.
type Absorbed struct {
	Name          string
	Groups        int // groups with at least one event, each with its own effect
	DroppedGroups int // groups whose rows all had zero events: they carry no information
	DroppedRows   int
}

// Result is a fitted count regression. Its numbers are all finite.
type Result struct {
	Family Family
	Level  float64
	Coefs  []Coef
	N      int // rows used
	// K counts all estimated parameters, including absorbed group effects.
	K          int
	DFResid    int // N − K
	LogLik     float64
	Deviance   float64
	Pearson    float64 // Pearson χ² = Σ (y−μ)²/V(μ)
	PearsonDF  float64 // Pearson / DFResid: about 1 when the variance function fits
	Iterations int
	Converged  bool
	// Robust tells whether Coef.Robust and RobustCov hold the cluster-robust
	// covariance, computed over Clusters clusters and multiplied by the small
	// sample factor Correction = G/(G−1)·(N−1)/(N−K).
	Robust     bool
	Clusters   int
	Correction float64
	// ModelCov and RobustCov are row-major len(Coefs)² covariance matrices.
	ModelCov  []float64
	RobustCov []float64
	Absorbed  *Absorbed // non-nil for FitPoissonAbsorbed
}

// Coef returns the coefficient called name, or an error if there is none.
func (r *Result) Coef(name string) (Coef, error) {
	for _, c := range r.Coefs {
		if c.Name == name {
			return c, nil
		}
	}
	return Coef{}, fmt.Errorf("stats: no coefficient %q in the model", name)
}

// FitGLM fits a log-link GLM of family fam (Poisson, or NB2 with fixed α) to
// d: an intercept, the dense columns of d.X, and the factors of d.Factors
// dummy-coded without forming the design matrix. Model-based covariance is
// the inverse expected information; with d.Cluster it also returns the
// cluster-robust sandwich with observed-information bread, as statsmodels'
// GLM(...).fit(cov_type="cluster"). It returns ErrNotComputable when the data
// do not identify the model (no events, a level without rows or events, a
// singular design, separation); on non-convergence it returns the last
// iterate with Converged false together with ErrNotComputable.
func FitGLM(d Data, fam Family, opt Options) (*Result, error) {
	r, err := fitGLM(d, fam, opt)
	if err != nil {
		return r, fmt.Errorf("stats.FitGLM: %w", err)
	}
	return r, nil
}

func fitGLM(d Data, fam Family, opt Options) (*Result, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	switch {
	case fam.Name == "poisson":
	case fam.isNB2():
		if !(fam.Alpha > 0) || math.IsInf(fam.Alpha, 1) {
			return nil, fmt.Errorf("NB2 alpha %v is not positive and finite", fam.Alpha)
		}
	default:
		return nil, fmt.Errorf("unknown family %q", fam.Name)
	}
	m, err := prepare(d, nil, opt)
	if err != nil {
		return nil, err
	}
	m.setFamily(fam)
	beta := m.startGLM()
	f, err := m.newton(beta, m.glmIterPass)
	if f == nil {
		return nil, err
	}
	m.glmFinalPass(f.beta, false)
	r, rerr := m.result(f)
	if rerr != nil {
		return nil, rerr
	}
	return r, err
}
