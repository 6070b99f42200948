package stats

import "testing"

type glmPoissonRef struct {
	Data               fixture `json:"data"`
	Poisson            glmRef  `json:"poisson"`
	PoissonUnitCluster struct {
		BseCluster []float64 `json:"bse_cluster"`
	} `json:"poisson_unit_cluster"`
}

func TestFitGLMPoisson(t *testing.T) {
	var ref glmPoissonRef
	readJSON(t, "glm_poisson.ref.json", &ref)
	f := &ref.Data
	r, err := FitGLM(f.data(true, f.Officer), Poisson(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareGLM(t, r, ref.Poisson, true)
	t.Logf("iterations %d", r.Iterations)
}

type glmNB2Ref struct {
	Data     fixture `json:"data"`
	NB2Fixed struct {
		glmRef
		Alpha float64 `json:"alpha"`
	} `json:"nb2_fixed"`
	NB2MLE struct {
		Alpha   float64   `json:"alpha"`
		AlphaSE float64   `json:"alpha_se"`
		Llf     float64   `json:"llf"`
		Params  []float64 `json:"params"`
		Names   []string  `json:"names"`
	} `json:"nb2_mle"`
	NB2AtMLE struct {
		glmRef
		Alpha float64 `json:"alpha"`
	} `json:"nb2_at_mle"`
}

func TestFitGLMNB2(t *testing.T) {
	var ref glmNB2Ref
	readJSON(t, "glm_nb2.ref.json", &ref)
	f := &ref.Data
	r, err := FitGLM(f.data(true, f.Officer), NB2(ref.NB2Fixed.Alpha), Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareGLM(t, r, ref.NB2Fixed.glmRef, true)
}

func TestEstimateNB2Alpha(t *testing.T) {
	var ref glmNB2Ref
	readJSON(t, "glm_nb2.ref.json", &ref)
	f := &ref.Data
	a, err := EstimateNB2Alpha(f.data(true, f.Officer), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTracker(t, 1e-6)
	tr.check("alpha", "alpha", a.Alpha, ref.NB2MLE.Alpha)
	tr.check("alpha", "se", a.SE, ref.NB2MLE.AlphaSE)
	tr.check("alpha", "loglik", a.LogLik, ref.NB2MLE.Llf)
	for j, c := range a.Fit.Coefs {
		tr.check("coef", c.Name, c.Estimate, ref.NB2MLE.Params[j])
	}
	tr.report()
	t.Logf("alpha %.10g (%d iterations)", a.Alpha, a.Iterations)
	// The GLM at the estimated α, against statsmodels' GLM at its estimate.
	r, err := FitGLM(f.data(true, f.Officer), NB2(ref.NB2AtMLE.Alpha), Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareGLM(t, r, ref.NB2AtMLE.glmRef, true)
}
