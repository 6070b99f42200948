#!/usr/bin/python3
"""Reference numbers for stats.Staggered (staggered.go): the Callaway &
Sant'Anna estimator with not-yet-treated comparisons as staggered_cs in Roth &
Sant'Anna's R package staggered computes it. R is not available here, so this
is a second, independent implementation in pandas/numpy written from the
specification, not from the Go code. It takes the other route to the
variance: per-unit scalars Z_i = A[g_i,.]·Y_i and their sample variance within
cohorts, where the Go code forms the cohort covariance matrices S_g.

Run from anywhere (Debian: apt-get install python3-pandas python3-numpy):

    /usr/bin/python3 internal/stats/testdata/staggered_reference.py

It writes beside itself
  staggered_fixtures.json  generated panels (fixed seed) with their results;
  staggered_chicago.json   results on the Chicago procedural-justice panel,
                           read from /work/shared/data/real/chicago-pj/ (the
                           data are not copied into the repository).

Conventions (from the package source, R/compute_efficient_estimator_and_se.R
and R/create_A0_lists.R):
- periods are 0..T-1 here; Chicago's `period` 1..72 and `first_trained` map to
  period-1. Units with first treated period <= 0 are dropped, then cohorts of
  one unit (never-treated included).
- comparison group of cell (g,t): cohorts first treated after max(g,t),
  never-treated as +inf; base period g-1 for every cell, placebos included.
- the package's "se" (se_refined here) subtracts b'.avg.b/N from the Neyman
  variance, b = sum_g ginv(S_g[pre,pre]) S_g[pre,.] A_theta_g', pre = periods
  before the earliest cohort with a nonzero A_theta row; ginv as MASS::ginv
  (singular values <= sqrt(eps)*max dropped), numpy's pinv with that rcond.
"""
import json
import math
import os
import re

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
CHICAGO = "/work/shared/data/real/chicago-pj/pj_officer_level_balanced.csv.gz"
Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975)


def prepare(y, cohort, never):
    """y: N x T array, cohort: length-N ints. Returns the units kept, their
    cohort keys (float, never = inf) and the exclusions."""
    n, T = y.shape
    s = pd.Series(cohort)
    key = s.astype(float).where(s != never, np.inf)
    early = (key <= 0)
    excluded = []
    if early.any():
        excluded.append({"cohorts": sorted(set(s[early])), "units": int(early.sum()),
                         "reason": "early"})
    key = key[~early]
    size = key.value_counts()
    single = size.index[size == 1]
    if len(single):
        codes = sorted(int(g) for g in single if np.isfinite(g))
        if np.inf in single:
            codes.append(never)
        excluded.append({"cohorts": codes, "units": len(single), "reason": "singleton"})
    key = key[~key.isin(single)]
    return key, excluded


class CS:
    def __init__(self, y, cohort, never):
        self.T = y.shape[1]
        self.key, self.excluded = prepare(y, cohort, never)
        self.Y = pd.DataFrame(y[self.key.index.to_numpy()], index=self.key.index)
        self.gs = sorted(self.key.unique())                    # cohorts, inf last
        self.size = self.key.value_counts().reindex(self.gs)
        self.means = self.Y.groupby(self.key).mean().reindex(self.gs)  # cohort x period
        gmax = self.gs[-1]
        self.tend = self.T if gmax > self.T - 1 else int(gmax)
        self.treated = [g for g in self.gs if np.isfinite(g) and g < self.tend]
        assert self.treated, "no treated cohort"

    def controls(self, g, t):
        return [c for c in self.gs if c > max(g, t)]

    # --- cells (g, t, w) of each aggregate, straight from the definitions ---
    def cells_simple(self):
        rows = [(g, t, self.size[g]) for g in self.treated for t in range(int(g), self.tend)]
        tot = sum(r[2] for r in rows)
        return [(g, t, w / tot) for g, t, w in rows]

    def cells_cohort(self):
        tot = sum(self.size[g] for g in self.treated)
        rows = []
        for g in self.treated:
            ts = range(int(g), self.tend)
            rows += [(g, t, self.size[g] / tot / len(ts)) for t in ts]
        return rows

    def cells_calendar(self):
        ts = range(int(self.gs[0]), self.tend)
        rows = []
        for t in ts:
            by = [g for g in self.gs if g <= t]
            tot = sum(self.size[g] for g in by)
            rows += [(g, t, self.size[g] / tot / len(ts)) for g in by]
        return rows

    def cells_event(self, e):
        el = [g for g in self.treated if 0 <= g + e < self.tend]
        tot = sum(self.size[g] for g in el)
        return [(g, int(g + e), self.size[g] / tot) for g in el]

    # --- A matrices ---
    def amat(self, cells):
        """Returns (A, A_theta, A_mu) as cohort x period DataFrames."""
        A, Ath, Amu = (pd.DataFrame(0.0, index=self.gs, columns=range(self.T)) for _ in range(3))
        for g, t, w in cells:
            b = int(g) - 1
            A.loc[g, t] += w
            A.loc[g, b] -= w
            Ath.loc[g, t] += w
            if t >= g:
                Amu.loc[g, t] += w
            cs = self.controls(g, t)
            nc = sum(self.size[c] for c in cs)
            for c in cs:
                f = w * self.size[c] / nc
                A.loc[c, t] -= f
                A.loc[c, b] += f
                Ath.loc[c, t] -= f
        return A, Ath, Amu

    def zs(self, A):
        """Per-unit Z_i = A[g_i,.]·Y_i."""
        rows = A.reindex(self.key.to_numpy()).to_numpy()
        return pd.Series((rows * self.Y.to_numpy()).sum(axis=1), index=self.key.index)

    def neyman_cov(self, za, zb):
        df = pd.DataFrame({"a": za, "b": zb, "g": self.key})
        v = np.zeros((2, 2))
        for g, grp in df.groupby("g"):
            c = grp[["a", "b"]].cov(ddof=1).to_numpy()
            v += c / len(grp)
        return v

    def refined(self, Ath, var_neyman):
        se_n = math.sqrt(var_neyman) if var_neyman >= 0 else 0.0
        nz = [g for g in self.gs if (Ath.loc[g].abs() > 0).any()]
        gmin = nz[0]
        p = int(gmin)  # periods 0..gmin-1 precede it
        if p <= 0:
            return se_n
        zth = self.zs(Ath)
        beta = np.zeros(p)
        avg = np.zeros((p, p))
        later = [g for g in self.gs if g >= gmin]
        for g in later:
            idx = self.key.index[self.key == g]
            pre = self.Y.loc[idx, list(range(p))].to_numpy()
            z = zth.loc[idx].to_numpy()
            n = len(idx)
            pc = pre - pre.mean(axis=0)
            B = pc.T @ pc / (n - 1)
            c = pc.T @ (z - z.mean()) / (n - 1)
            beta += np.linalg.pinv(B, rcond=math.sqrt(np.finfo(float).eps)) @ c
            avg += B
        avg /= len(later)
        adj = beta @ avg @ beta / len(self.key)
        v = se_n ** 2 - adj
        return math.sqrt(v) if v > 0 else 0.0

    def att(self, g, t):
        b = int(g) - 1
        cs = self.controls(g, t)
        nc = sum(self.size[c] for c in cs)
        m = self.means
        ctrl = sum(self.size[c] / nc * (m.loc[c, t] - m.loc[c, b]) for c in cs)
        return (m.loc[g, t] - m.loc[g, b]) - ctrl, int(nc)

    def estimate(self, cells, with_relative):
        A, Ath, Amu = self.amat(cells)
        est = float((A * self.means).to_numpy().sum())
        # the same number cell by cell, as a check on the A matrix
        assert abs(est - sum(w * self.att(g, t)[0] for g, t, w in cells)) < 1e-12
        za = self.zs(A)
        assert abs(est - sum(za[self.key == g].mean() for g in self.gs)) < 1e-12
        zm = self.zs(Amu)
        v = self.neyman_cov(za, zm)
        se = math.sqrt(max(v[0, 0], 0.0))
        out = {"estimate": est, "se": se, "lo": est - Z95 * se, "hi": est + Z95 * se,
               "se_refined": self.refined(Ath, v[0, 0])}
        if with_relative:
            mu = float((Amu * self.means).to_numpy().sum())
            u = mu - est
            rel = {"ok": bool(u > 0), "treated_mean": mu, "untreated": u}
            if u > 0:
                r = est / u
                grad = np.array([mu / u ** 2, -est / u ** 2])
                rse = math.sqrt(max(grad @ v @ grad, 0.0))
                rel.update(estimate=r, se=rse, lo=r - Z95 * rse, hi=r + Z95 * rse)
            out["relative"] = rel
        return out

    def run(self, estimand):
        events = None
        if estimand == "event":
            g0 = int(self.gs[0])
            emax = self.tend - 1 - g0
            events, cells = [], []
            for e in range(-g0, emax + 1):
                ec = self.cells_event(e)
                r = self.estimate(ec, False)
                r.update(e=e, cohorts=len(ec))
                events.append(r)
                if e >= 0:
                    cells += [(g, t, w / (emax + 1)) for g, t, w in ec]
        else:
            cells = getattr(self, "cells_" + estimand)()
        out = self.estimate(cells, True)
        out["estimand"] = estimand
        out["units"] = int(len(self.key))
        out["cohorts"] = [{"cohort": (int(g) if np.isfinite(g) else None), "units": int(self.size[g]),
                           "treated": g in self.treated} for g in self.gs]
        out["excluded"] = self.excluded
        cl = []
        for g, t, w in sorted(cells):
            a, nc = self.att(g, t)
            cl.append({"cohort": int(g), "period": int(t), "att": a, "weight": w, "controls": nc})
        out["cells"] = cl
        if events is not None:
            out["events"] = events
        return out


def fixture(name, rng, T, sizes, never, dist):
    """sizes: {cohort code: units}; outcomes Poisson counts or normal, with a
    unit effect, a common trend and an effect growing with time since
    treatment."""
    cohort = np.concatenate([[g] * n for g, n in sizes.items()]).astype(int)
    rng.shuffle(cohort)
    n = len(cohort)
    unit = rng.normal(0, 0.4, n)
    trend = np.linspace(0, 0.5, T)
    t = np.arange(T)
    g = np.where(cohort == never, 10 ** 6, cohort)
    since = np.clip(t[None, :] - g[:, None] + 1, 0, None)
    lin = unit[:, None] + trend[None, :] + 0.15 * since
    if dist == "poisson":
        y = rng.poisson(np.exp(lin - 0.3)).astype(float)
    else:
        y = np.round(3 + 2 * lin + rng.normal(0, 1, (n, T)), 6)
    return {"name": name, "n": n, "t": T, "never": never,
            "y": y.ravel().tolist(), "cohort": cohort.tolist()}


def fixtures():
    rng = np.random.default_rng(20240611)
    cases = [
        # never-treated, treated after the window (9), in the first period (0)
        # and before it (-3), and a singleton cohort (4): all the exclusions
        fixture("mixed", rng, 8, {2: 10, 3: 8, 4: 1, 5: 9, 6: 7, 9: 6, -1: 12, 0: 4, -3: 2}, -1, "poisson"),
        # nobody never treated: the last cohort (5) is a comparison only
        fixture("no_never", rng, 6, {1: 8, 3: 9, 4: 7, 5: 6}, 99, "poisson"),
        # continuous outcomes, three pre-periods before the first cohort
        fixture("normal", rng, 9, {3: 15, 4: 12, 6: 14, 7: 11, 1000: 20}, 1000, "normal"),
    ]
    for c in cases:
        y = np.array(c["y"]).reshape(c["n"], c["t"])
        cs = CS(y, np.array(c["cohort"]), c["never"])
        c["results"] = {e: cs.run(e) for e in ("simple", "cohort", "calendar", "event")}
    return cases


def chicago():
    df = pd.read_csv(CHICAGO, usecols=["uid", "period", "first_trained", "complaints", "sustained", "force"])
    df = df.sort_values(["uid", "period"])
    first = df.groupby("uid")["first_trained"].first()
    assert (df.groupby("uid")["first_trained"].nunique() == 1).all()
    out = {"source": CHICAGO, "units": int(first.size), "periods": int(df.period.nunique()),
           "cohort": "first_trained - 1", "period": "period - 1", "outcomes": {}}
    for col in ("complaints", "sustained", "force"):
        wide = df.pivot(index="uid", columns="period", values=col)
        assert wide.notna().all().all()
        cs = CS(wide.to_numpy(dtype=float), (first.loc[wide.index] - 1).to_numpy(), -1)
        res = {}
        for e in ("simple", "cohort", "calendar", "event"):
            r = cs.run(e)
            r.pop("cells")
            res[e] = r
        out["outcomes"][col] = res
    return out


def dump(name, obj):
    text = json.dumps(obj, indent=1)
    # one line per list of numbers, so that the panels stay readable
    text = re.sub(r"\[\s+([-+.,0-9e\s]+?)\s+\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    dump("staggered_fixtures.json", {"generator": "staggered_reference.py", "pandas": pd.__version__,
                                     "numpy": np.__version__, "cases": fixtures()})
    if os.path.exists(CHICAGO):
        dump("staggered_chicago.json", chicago())
    else:
        print("skipping Chicago: %s not found" % CHICAGO)
