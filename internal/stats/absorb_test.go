package stats

import "testing"

type absorbedRef struct {
	Data    fixture `json:"data"`
	Poisson struct {
		glmRef
		KTotal         int       `json:"k_total"`
		DroppedGroups  int       `json:"dropped_groups"`
		DroppedRows    int       `json:"dropped_rows"`
		BseClusterUnit []float64 `json:"bse_cluster_unit"`
	} `json:"poisson"`
}

func TestFitPoissonAbsorbed(t *testing.T) {
	var ref absorbedRef
	readJSON(t, "absorbed.ref.json", &ref)
	f := &ref.Data
	r, err := FitPoissonAbsorbed(f.data(false, f.Officer), f.officers(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareGLM(t, r, ref.Poisson.glmRef, true)
	if r.K != ref.Poisson.KTotal || r.Absorbed.DroppedGroups != ref.Poisson.DroppedGroups || r.Absorbed.DroppedRows != ref.Poisson.DroppedRows {
		t.Errorf("K %d, dropped %d groups / %d rows; want %d, %d, %d", r.K, r.Absorbed.DroppedGroups, r.Absorbed.DroppedRows,
			ref.Poisson.KTotal, ref.Poisson.DroppedGroups, ref.Poisson.DroppedRows)
	}
	t.Logf("iterations %d, %+v", r.Iterations, *r.Absorbed)
	// statsmodels' small-sample factor counts every exog column, the
	// officer dummies included; counting only the reported coefficients
	// would give SEs too small by several percent here.
	G, N, K := float64(ref.Poisson.NGroups), float64(ref.Poisson.Nobs), float64(ref.Poisson.KTotal)
	if want := G / (G - 1) * (N - 1) / (N - K); relErr(r.Correction, want, 1e-12) > 1e-14 {
		t.Errorf("Correction = %v, want %v", r.Correction, want)
	}
	short := G / (G - 1) * (N - 1) / (N - float64(len(r.Coefs)))
	t.Logf("correction %.6f with K = %d (all parameters); %.6f with K = %d", r.Correction, r.K, short, len(r.Coefs))
	// Clustered on unit, in which officers are nested.
	ru, err := FitPoissonAbsorbed(f.data(false, f.Unit), f.officers(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTracker(t, 1e-6)
	for j, c := range ru.Coefs {
		tr.check("se(unit cluster)", c.Name, c.Robust.SE, ref.Poisson.BseClusterUnit[j])
	}
	tr.report()
}
