#!/usr/bin/python3
"""Reference numbers for the cluster-robust standard error of stats.Staggered
(ClusteredSE in staggered.go), made with statsmodels by another route.

With one treated cohort g and never-treated comparisons over the periods g-1
and g, the Callaway & Sant'Anna estimate has a single cell, ATT(g,g): a
difference in differences of means. That is the coefficient on D in the OLS
regression of dY_i = Y_i,g - Y_i,g-1 on a constant and D_i (treated), and the
cluster-robust (sandwich) variance of that coefficient without small-sample
correction is sum over clusters of (sum of the units' influence)^2 — the
quantity deesc computes from the cohort means. deesc multiplies it by
G/(G-1); statsmodels' default correction is G/(G-1)*(N-1)/(N-K), so both
statsmodels figures are recorded and the test expects
se_plain * sqrt(G/(G-1)).

Units are assigned by cluster (whole units trained together) and share
cluster-by-period shocks, as officers of one unit do; the outcomes are
rounded to 0.01 so the JSON holds them exactly.

Run from anywhere (Debian: apt-get install python3-statsmodels):

    /usr/bin/python3 internal/stats/testdata/staggered_cluster_reference.py

It writes staggered_cluster.json beside itself.
"""
import json
import os

import numpy as np
import statsmodels.api as sm

HERE = os.path.dirname(os.path.abspath(__file__))


def case(seed, clusters, per, periods, g):
    rng = np.random.default_rng(seed)
    n = clusters * per
    cluster = np.repeat(np.arange(clusters), per)
    treated_cluster = rng.permutation(clusters) < clusters // 2
    d = treated_cluster[cluster]
    shock = rng.normal(0, 1.0, size=(clusters, periods))
    y = (2.0 + shock[cluster] + rng.normal(0, 0.7, size=(n, periods))
         + np.where(d[:, None] & (np.arange(periods)[None, :] >= g), -0.5, 0.0))
    y = np.round(y, 2)
    dy = y[:, g] - y[:, g - 1]
    x = sm.add_constant(d.astype(float))
    plain = sm.OLS(dy, x).fit(cov_type="cluster", cov_kwds={"groups": cluster, "use_correction": False})
    corrected = sm.OLS(dy, x).fit(cov_type="cluster", cov_kwds={"groups": cluster})
    G = clusters
    return {
        "seed": seed,
        "n": int(n),
        "t": periods,
        "g": g,
        "y": [float(v) for v in y.reshape(-1)],
        "cohort": [g if t else -1 for t in d],
        "cluster": [int(c) for c in cluster],
        "estimate": float(plain.params[1]),
        "se_statsmodels_plain": float(plain.bse[1]),
        "se_statsmodels_default": float(corrected.bse[1]),
        "clusters": G,
        "se_expected": float(plain.bse[1] * np.sqrt(G / (G - 1))),
    }


def main():
    cases = [case(1, 12, 5, 3, 2), case(2, 30, 7, 4, 3), case(3, 6, 20, 2, 1)]
    with open(os.path.join(HERE, "staggered_cluster.json"), "w") as f:
        json.dump({"statsmodels": sm.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
