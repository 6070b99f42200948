package stats

import (
	"errors"
	"math"
	"testing"
)

func TestCorrelations(t *testing.T) {
	var ref struct {
		X, Y, W          []float64
		WeightedPearson  float64 `json:"weighted_pearson"`
		Pearson          float64
		Spearman         float64
		WeightedSpearman float64 `json:"weighted_spearman"`
	}
	readJSON(t, "correlations.ref.json", &ref)
	tests := []struct {
		name string
		fn   func(x, y, w []float64) (float64, error)
		w    []float64
		want float64
	}{
		{"pearson weighted (np.cov aweights)", WeightedPearson, ref.W, ref.WeightedPearson},
		{"pearson unweighted (scipy pearsonr)", WeightedPearson, nil, ref.Pearson},
		{"spearman unweighted (scipy spearmanr)", WeightedSpearman, nil, ref.Spearman},
		{"spearman weighted (np.cov of rankdata)", WeightedSpearman, ref.W, ref.WeightedSpearman},
	}
	for _, tt := range tests {
		got, err := tt.fn(ref.X, ref.Y, tt.w)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if e := relErr(got, tt.want, 1e-12); e > 1e-12 {
			t.Errorf("%s = %.16g, want %.16g (relative error %.1e)", tt.name, got, tt.want, e)
		}
	}
}

func TestMidRanks(t *testing.T) {
	got := midRanks([]float64{3, 1, 3, 2, 3, -1})
	want := []float64{5, 2, 5, 3, 5, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("midRanks = %v, want %v", got, want)
		}
	}
}

func TestCorrelationErrors(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	tests := []struct {
		name          string
		x, y, w       []float64
		notComputable bool
	}{
		{"constant x", []float64{2, 2, 2, 2}, x, nil, true},
		{"zero weights", x, x, []float64{0, 0, 0, 0}, true},
		{"one weighted point", x, x, []float64{0, 3, 0, 0}, true},
		{"lengths", x, x[:3], nil, false},
		{"negative weight", x, x, []float64{1, -1, 1, 1}, false},
		{"NaN", []float64{1, math.NaN(), 3, 4}, x, nil, false},
	}
	for _, tt := range tests {
		for _, fn := range []func(x, y, w []float64) (float64, error){WeightedPearson, WeightedSpearman} {
			_, err := fn(tt.x, tt.y, tt.w)
			var nc ErrNotComputable
			if err == nil || errors.As(err, &nc) != tt.notComputable {
				t.Errorf("%s: err = %v, want not computable %v", tt.name, err, tt.notComputable)
			}
		}
	}
}
