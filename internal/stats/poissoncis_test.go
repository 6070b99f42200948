package stats

import (
	"math"
	"sync"
	"testing"
)

// TestPoissonCIsRemembers: the memo answers exactly what PoissonCI does,
// the first time and from memory, from many goroutines at once, and past
// its limit.
func TestPoissonCIsRemembers(t *testing.T) {
	c := NewPoissonCIs(0.95, 50)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 2; round++ {
				for k := int64(0); k < 120; k++ {
					lo, hi := c.CI(k * 7)
					wlo, whi := PoissonCI(float64(k*7), 0.95)
					if lo != wlo || hi != whi {
						t.Errorf("CI(%d) = (%v, %v), want (%v, %v)", k*7, lo, hi, wlo, whi)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := len(c.seen); n > 50 {
		t.Errorf("holds %d counts, limit 50", n)
	}
	// The level is the memo's own: scipy's chi2.ppf(0.05, 10)/2 and chi2.ppf(0.95, 12)/2.
	if lo, hi := NewPoissonCIs(0.9, 10).CI(5); math.Abs(lo-1.9701495680595302) > 1e-8 || math.Abs(hi-10.513034908741535) > 1e-8 {
		t.Errorf("90%% CI of 5 = (%v, %v)", lo, hi)
	}
}
