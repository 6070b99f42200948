package stats

import "math"

// pivotTol is the smallest acceptable Cholesky pivot of a matrix scaled to
// unit diagonal: 1 − R² of a column regressed (in the weighted metric) on the
// columns before it. Below it the design is treated as singular.
const pivotTol = 1e-10

// chol is a Cholesky factorisation of a symmetric positive definite k×k
// matrix A, computed on D A D with D = diag(A)^(−1/2) so that the pivot test
// is scale free.
type chol struct {
	k int
	l []float64 // lower triangle, row-major
	s []float64 // D
}

func newChol(k int) *chol { return &chol{k: k, l: make([]float64, k*k), s: make([]float64, k)} }

// factor factorises a, reading only its lower triangle. It returns the index
// of the first column that is numerically a linear combination of earlier
// ones, or −1 when a is positive definite.
func (c *chol) factor(a []float64) int {
	k, l, s := c.k, c.l, c.s
	for i := 0; i < k; i++ {
		d := a[i*k+i]
		if !(d > 0) || math.IsInf(d, 1) {
			return i
		}
		s[i] = 1 / math.Sqrt(d)
	}
	for j := 0; j < k; j++ {
		lj := l[j*k : j*k+j]
		d := a[j*k+j]*s[j]*s[j] - dot(lj, lj)
		if !(d > pivotTol) {
			return j
		}
		ljj := math.Sqrt(d)
		l[j*k+j] = ljj
		for i := j + 1; i < k; i++ {
			l[i*k+j] = (a[i*k+j]*s[i]*s[j] - dot(l[i*k:i*k+j], lj)) / ljj
		}
	}
	return -1
}

// solve sets x = A⁻¹ b.
func (c *chol) solve(b, x []float64) {
	k, l, s := c.k, c.l, c.s
	for i := 0; i < k; i++ {
		x[i] = (b[i]*s[i] - dot(l[i*k:i*k+i], x[:i])) / l[i*k+i]
	}
	for i := k - 1; i >= 0; i-- {
		v := x[i]
		for j := i + 1; j < k; j++ {
			v -= l[j*k+i] * x[j]
		}
		x[i] = v / l[i*k+i]
	}
	for i := range x[:k] {
		x[i] *= s[i]
	}
}

// inverse returns A⁻¹ as a full row-major k×k matrix.
func (c *chol) inverse() []float64 {
	k, l, s := c.k, c.l, c.s
	// m = L⁻¹, lower triangular.
	m := make([]float64, k*k)
	for j := 0; j < k; j++ {
		m[j*k+j] = 1 / l[j*k+j]
		for i := j + 1; i < k; i++ {
			var v float64
			for t := j; t < i; t++ {
				v += l[i*k+t] * m[t*k+j]
			}
			m[i*k+j] = -v / l[i*k+i]
		}
	}
	inv := make([]float64, k*k)
	for i := 0; i < k; i++ {
		for j := 0; j <= i; j++ {
			var v float64
			for t := i; t < k; t++ {
				v += m[t*k+i] * m[t*k+j]
			}
			v *= s[i] * s[j]
			inv[i*k+j], inv[j*k+i] = v, v
		}
	}
	return inv
}

func dot(a, b []float64) float64 {
	var v float64
	for i := range a {
		v += a[i] * b[i]
	}
	return v
}

// symmetrize copies the lower triangle of the k×k matrix a onto its upper.
func symmetrize(a []float64, k int) {
	for i := 0; i < k; i++ {
		for j := 0; j < i; j++ {
			a[j*k+i] = a[i*k+j]
		}
	}
}

// sandwich returns B M B for symmetric k×k B and M, scaled by f.
func sandwich(b, m []float64, k int, f float64) []float64 {
	t := make([]float64, k*k)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			var v float64
			for q := 0; q < k; q++ {
				v += b[i*k+q] * m[q*k+j]
			}
			t[i*k+j] = v
		}
	}
	out := make([]float64, k*k)
	for i := 0; i < k; i++ {
		for j := 0; j <= i; j++ {
			var v float64
			for q := 0; q < k; q++ {
				v += t[i*k+q] * b[q*k+j]
			}
			v *= f
			out[i*k+j], out[j*k+i] = v, v
		}
	}
	return out
}
