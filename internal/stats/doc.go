// Package stats is deesc's numerics: exact Poisson intervals and rate ratios,
// Poisson and NB2 regression by IRLS with an offset, categorical fixed effects
// (dummy-coded or absorbed) and cluster-robust covariance, and weighted
// correlations. It knows nothing of the database.
//
// Every result is finite: when a number cannot be computed the functions
// return an ErrNotComputable carrying a reason meant for the user, never NaN
// or ±Inf. The conventions follow statsmodels (GLM with cov_type="cluster")
// and are tested against it; testdata/make_golden.py produced the reference
// numbers.
package stats
