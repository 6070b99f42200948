#!/usr/bin/python3
"""Reference numbers for the cluster-robust standard error of stats.Staggered
(ClusteredSE in staggered.go), made by other routes than the Go code.

1. statsmodels. With one treated cohort g and never-treated comparisons over
   the periods g-1 and g, the Callaway & Sant'Anna estimate has a single cell,
   ATT(g,g): a difference in differences of means, the coefficient on D in
   the OLS regression of dY_i = Y_i,g - Y_i,g-1 on a constant and D_i. Whole
   clusters are assigned (half treated), so clusters lie within the two
   cohorts and deesc's variance is the stratified one,
   sum_g k_g/(k_g-1) * sum_c S_c^2 with k_g = k clusters in each cohort,
   i.e. k/(k-1) times statsmodels' cluster-robust variance without
   small-sample correction (sum_c S_c^2). Both statsmodels figures are
   recorded; the test expects se_plain * sqrt(k/(k-1)).

2. From scratch (numpy, written from the specification, not from the Go
   code): a roll-out with three treated cohorts, a cohort treated after the
   window, never-treated units, units treated before the window (dropped) and
   a single-unit cohort (dropped), 40 clusters that each mostly, not wholly,
   share a cohort. It builds every ATT(g,t) with not-yet-treated comparisons,
   aggregates them (simple: cohort-size weights; event: each event time's
   size-weighted mean, equally weighted), forms each unit's influence with
   the comparison weights N_c/N_C held fixed (centred within each cohort),
   scales it by sqrt(k_g/(k_g-1)) for its cohort's k_g clusters, and sums
   per cluster.

Units are assigned by cluster and share cluster-by-period shocks, as
officers of one police unit do. Run from anywhere (Debian: apt-get install
python3-statsmodels):

    /usr/bin/python3 internal/stats/testdata/staggered_cluster_reference.py

It writes staggered_cluster.json beside itself.
"""
import json
import os

import numpy as np
import statsmodels.api as sm

HERE = os.path.dirname(os.path.abspath(__file__))
NEVER = -1


def did_case(seed, clusters, per, periods, g):
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
    k = clusters // 2
    return {
        "n": int(n), "t": periods, "g": g,
        "y": [float(v) for v in y.reshape(-1)],
        "cohort": [g if t else NEVER for t in d],
        "cluster": [int(c) for c in cluster],
        "estimate": float(plain.params[1]),
        "se_statsmodels_plain": float(plain.bse[1]),
        "se_statsmodels_default": float(corrected.bse[1]),
        "clusters": clusters,
        "se_expected": float(plain.bse[1] * np.sqrt(k / (k - 1))),
    }


def multi_case():
    rng = np.random.default_rng(7)
    T, n_clusters = 6, 40
    units = []  # (cluster, cohort)
    for c in range(n_clusters):
        per = int(rng.integers(4, 12))
        if c == 39:  # a cluster of units treated before the window: all dropped
            coh = [0] * per
        else:
            main = [2, 3, 4, NEVER, 7][c % 5]
            coh = [main if rng.random() < 0.7 else int(rng.choice([2, 3, 4, NEVER, 7])) for _ in range(per)]
        units += [(c, g) for g in coh]
    units += [(38, 5), (37, 0)]  # a single-unit cohort (dropped) and another early unit
    N = len(units)
    cl = np.array([u[0] for u in units])
    coh = np.array([u[1] for u in units])
    shock = rng.normal(0, 1, (n_clusters, T))
    alpha = rng.normal(0, 1, N)
    eff = np.array([[(-0.4 - 0.1 * (t - g)) if (g > 0 and g != NEVER and t >= g) else 0 for t in range(T)] for g in coh])
    Y = np.round(3 + alpha[:, None] + shock[cl] + rng.normal(0, 0.8, (N, T)) + eff, 3)

    vals, cnt = np.unique(coh, return_counts=True)
    size = dict(zip(vals.tolist(), cnt.tolist()))
    keep = np.array([(g == NEVER or g > 0) and size[g] >= 2 for g in coh])
    K = np.where(keep)[0]

    def untreated_at(g, t):
        return (g == NEVER) | (g > t)

    tEnd = T  # some units are never treated
    treated = sorted({int(g) for g in coh[K] if g != NEVER and 0 < g < tEnd})
    Ng = {g: int(np.sum(coh[K] == g)) for g in treated}

    def cell(g, t):
        psi = np.zeros(N)
        b = g - 1
        d = Y[:, t] - Y[:, b]
        tr = K[coh[K] == g]
        C = K[untreated_at(coh[K], max(g, t))]
        att = d[tr].mean() - d[C].mean()
        psi[tr] = (d[tr] - d[tr].mean()) / len(tr)
        for c in np.unique(coh[C]):  # weights N_c/N_C fixed: centred within each cohort
            m = C[coh[C] == c]
            psi[m] -= (d[m] - d[m].mean()) / len(C)
        return att, psi

    def clustered(psi):
        f = np.zeros(N)
        for g in np.unique(coh[K]):
            m = K[coh[K] == g]
            k = len(np.unique(cl[m]))
            f[m] = np.sqrt(k / (k - 1)) if k > 1 else 1.0
        S = np.array([(f * psi)[K][cl[K] == c].sum() for c in np.unique(cl[K])])
        return float(np.sqrt(np.sum(S ** 2))), int(len(S))

    simple = [(g, t, Ng[g]) for g in treated for t in range(g, tEnd)]
    tot = sum(w for _, _, w in simple)
    simple = [(g, t, w / tot) for g, t, w in simple]
    eMax = tEnd - 1 - treated[0]
    event = []
    for e in range(0, eMax + 1):
        cs = [(g, g + e, Ng[g]) for g in treated if g + e < tEnd]
        tot = sum(w for *_, w in cs)
        event += [(g, t, w / tot / (eMax + 1)) for g, t, w in cs]
    out = {"n": N, "t": T, "y": [float(v) for v in Y.reshape(-1)], "cohort": [int(g) for g in coh],
           "cluster": [int(c) for c in cl], "results": {}}
    for name, cells in [("simple", simple), ("event", event)]:
        est, psi = 0.0, np.zeros(N)
        for g, t, w in cells:
            a, p = cell(g, t)
            est += w * a
            psi += w * p
        se, G = clustered(psi)
        out["results"][name] = {"estimate": float(est), "se": se, "clusters": G}
    return out


def main():
    ref = {"statsmodels": sm.__version__, "cases": [did_case(1, 12, 5, 3, 2), did_case(2, 30, 7, 4, 3), did_case(3, 6, 20, 2, 1)],
           "multi": multi_case()}
    with open(os.path.join(HERE, "staggered_cluster.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
