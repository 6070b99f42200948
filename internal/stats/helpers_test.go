package stats

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current results")

// readJSON decodes testdata/name into v.
func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// fixture is a panel written by testdata/make_golden.py.
type fixture struct {
	Y       []float64 `json:"y"`
	Offset  []float64 `json:"offset"`
	Treated []float64 `json:"treated"`
	Hours8  []float64 `json:"hours8"`
	Unit    []int32   `json:"unit"`
	Month   []int32   `json:"month"`
	Officer []int32   `json:"officer"`
	Levels  struct {
		Officer, Unit, Month int
	} `json:"levels"`
}

// data is the design deesc fits: treated and hours8 as dense columns, unit
// and month as factors (unit omitted when absorbing officers).
func (f *fixture) data(withUnit bool, cluster []int32) Data {
	d := Data{
		Y: f.Y, Offset: f.Offset, Cluster: cluster,
		X: []Column{{Name: "treated", Values: f.Treated}, {Name: "hours8", Values: f.Hours8}},
	}
	if withUnit {
		d.Factors = append(d.Factors, Factor{Name: "unit", Codes: f.Unit, Levels: f.Levels.Unit})
	}
	d.Factors = append(d.Factors, Factor{Name: "month", Codes: f.Month, Levels: f.Levels.Month})
	return d
}

func (f *fixture) officers() Factor {
	return Factor{Name: "officer", Codes: f.Officer, Levels: f.Levels.Officer}
}

// glmRef is what make_golden.py records from a statsmodels GLM fit.
type glmRef struct {
	Names          []string  `json:"names"`
	Params         []float64 `json:"params"`
	Llf            float64   `json:"llf"`
	Deviance       float64   `json:"deviance"`
	PearsonChi2    float64   `json:"pearson_chi2"`
	DfResid        float64   `json:"df_resid"`
	PearsonChi2Df  float64   `json:"pearson_chi2_df"`
	Nobs           int       `json:"nobs"`
	BseModel       []float64 `json:"bse_model"`
	PvaluesModel   []float64 `json:"pvalues_model"`
	ConfIntModel   []float64 `json:"conf_int_model"`
	BseCluster     []float64 `json:"bse_cluster"`
	TvaluesCluster []float64 `json:"tvalues_cluster"`
	PvaluesCluster []float64 `json:"pvalues_cluster"`
	ConfIntCluster []float64 `json:"conf_int_cluster"`
	NGroups        int       `json:"n_groups"`
}

// relErr is |got−want| relative to |want|, or absolute below floor.
func relErr(got, want, floor float64) float64 {
	return math.Abs(got-want) / max(math.Abs(want), floor)
}

// tracker checks values against a tolerance and remembers the worst error.
type tracker struct {
	t     *testing.T
	tol   float64
	floor float64
	worst map[string]float64
}

func newTracker(t *testing.T, tol float64) *tracker {
	return &tracker{t: t, tol: tol, floor: 1e-12, worst: map[string]float64{}}
}

func (tr *tracker) check(kind, what string, got, want float64) {
	tr.t.Helper()
	e := relErr(got, want, tr.floor)
	tr.worst[kind] = max(tr.worst[kind], e)
	if !(e <= tr.tol) {
		tr.t.Errorf("%s %s = %.15g, want %.15g (relative error %.2g > %.0g)", kind, what, got, want, e, tr.tol)
	}
}

func (tr *tracker) report() {
	tr.t.Helper()
	s := ""
	for _, k := range sortedKeys(tr.worst) {
		s += fmt.Sprintf(" %s %.1e;", k, tr.worst[k])
	}
	tr.t.Logf("worst relative error:%s", s)
}

func sortedKeys(m map[string]float64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// compareGLM checks a Result against statsmodels' numbers.
func compareGLM(t *testing.T, r *Result, ref glmRef, robust bool) {
	t.Helper()
	tr := newTracker(t, 1e-6)
	if len(r.Coefs) != len(ref.Names) {
		t.Fatalf("%d coefficients, want %d", len(r.Coefs), len(ref.Names))
	}
	for j, c := range r.Coefs {
		if c.Name != ref.Names[j] {
			t.Fatalf("coefficient %d is %s, want %s", j, c.Name, ref.Names[j])
		}
		tr.check("coef", c.Name, c.Estimate, ref.Params[j])
		tr.check("se(model)", c.Name, c.Model.SE, ref.BseModel[j])
		tr.check("ci(model)", c.Name+" lo", c.Model.Lo, ref.ConfIntModel[2*j])
		tr.check("ci(model)", c.Name+" hi", c.Model.Hi, ref.ConfIntModel[2*j+1])
		tr.check("p(model)", c.Name, c.Model.P, ref.PvaluesModel[j])
		if robust {
			tr.check("se(cluster)", c.Name, c.Robust.SE, ref.BseCluster[j])
			tr.check("p(cluster)", c.Name, c.Robust.P, ref.PvaluesCluster[j])
			tr.check("ci(cluster)", c.Name+" lo", c.Robust.Lo, ref.ConfIntCluster[2*j])
			tr.check("ci(cluster)", c.Name+" hi", c.Robust.Hi, ref.ConfIntCluster[2*j+1])
		}
	}
	tr.check("fit", "loglik", r.LogLik, ref.Llf)
	tr.check("fit", "deviance", r.Deviance, ref.Deviance)
	tr.check("fit", "pearson", r.Pearson, ref.PearsonChi2)
	tr.check("fit", "pearson/df", r.PearsonDF, ref.PearsonChi2Df)
	if r.DFResid != int(ref.DfResid) || r.N != ref.Nobs {
		t.Errorf("N = %d, DFResid = %d; want %d, %v", r.N, r.DFResid, ref.Nobs, ref.DfResid)
	}
	if robust && r.Clusters != ref.NGroups {
		t.Errorf("Clusters = %d, want %d", r.Clusters, ref.NGroups)
	}
	if !r.Converged {
		t.Error("not converged")
	}
	tr.report()
}
