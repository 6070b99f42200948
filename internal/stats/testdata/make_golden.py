#!/usr/bin/python3
"""Reference numbers for deesc/internal/stats, computed with Debian's
statsmodels, scipy and numpy (apt-get install python3-statsmodels).

Run from anywhere:  /usr/bin/python3 internal/stats/testdata/make_golden.py

It writes one *.ref.json per case beside itself. Each file carries the
fixture data (generated here from a fixed seed) and the reference results.
The Go tests only read these files; they never run Python.

statsmodels conventions that deesc follows, found while writing this:
- GLM(..., cov_type="cluster") multiplies the sandwich by
  G/(G-1) * (N-1)/(N-K), K = number of exog columns (use_correction=True);
  df_correction only changes t degrees of freedom, unused by GLM (normal).
- Its bread is the inverse *observed* Hessian (GLM.hessian, observed=True),
  while the non-robust covariance is the inverse *expected* information of
  the last IRLS step. For Poisson (canonical link) they agree; for NB2 with
  the log link they do not, and deesc reproduces both choices.
- The non-robust covariance comes from the weights of the last IRLS
  iteration, i.e. the previous iterate, and the default stop (|change in
  deviance| < 1e-8) leaves NB2 coefficients ~1e-7 SE short of the optimum:
  tight_glm() below polishes with Newton steps so the references are the MLE.
- discrete.NegativeBinomial(loglike_method="nb2").fit() defaults to bfgs with
  maxiter=35 and on glm_nb2 stops unconverged (alpha 0.57722 vs the MLE
  0.57779) with only a warning; the reference uses method="newton".
- With the high-dimensional group fitted as explicit dummies, K in the
  cluster correction includes every group dummy; groups whose outcomes are
  all zero must be dropped first (their MLE is -inf). deesc's absorbed fit
  counts them the same way and matches to rounding.
"""
import json
import os
import sys
import warnings

import numpy as np
import scipy
import scipy.stats as st
import statsmodels
import statsmodels.api as sm

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, obj):
    obj["generator"] = {
        "script": "make_golden.py",
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "statsmodels": statsmodels.__version__,
    }
    path = os.path.join(HERE, name + ".ref.json")
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, allow_nan=False)
        f.write("\n")
    print("wrote", path)


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=float).ravel()]


def ints(a):
    return [int(v) for v in np.asarray(a).ravel()]


# ---------------------------------------------------------------- Poisson CI

def poisson_ci():
    cases = []
    for level in (0.90, 0.95, 0.99):
        a = 1 - level
        for k in (0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 33, 50, 100, 250, 1000, 12345, 0.5, 2.5):
            lo = 0.0 if k == 0 else st.chi2.ppf(a / 2, 2 * k) / 2
            hi = st.chi2.ppf(1 - a / 2, 2 * k + 2) / 2
            cases.append({"k": k, "level": level, "lo": lo, "hi": hi})
    write("poisson_ci", {"cases": cases})


# ---------------------------------------------------------------- rate ratio

def rate_ratio():
    cases = []
    spec = [
        (10, 100.0, 5, 120.0, 0.95),
        (1, 20.0, 3, 25.0, 0.95),
        (0, 50.0, 7, 40.0, 0.95),
        (25, 1000.5, 40, 2000.25, 0.90),
        (120, 3.5e4, 95, 4.1e4, 0.99),
        (3, 1.0, 1, 1.0, 0.95),
        (500, 12000.0, 430, 11800.0, 0.95),
    ]
    for k1, t1, k0, t0, level in spec:
        a = 1 - level
        n = k1 + k0
        c = {"k1": k1, "t1": t1, "k0": k0, "t0": t0, "level": level}
        c["ratio"] = (k1 / t1) / (k0 / t0)
        if k1 > 0:
            se = np.sqrt(1 / k1 + 1 / k0)
            z = st.norm.ppf(1 - a / 2)
            lr = np.log(c["ratio"])
            c["wald"] = [np.exp(lr - z * se), np.exp(lr + z * se)]
        # Clopper-Pearson for p = k1/(k1+k0), two ways.
        plo = 0.0 if k1 == 0 else st.beta.ppf(a / 2, k1, k0 + 1)
        phi = 1.0 if k0 == 0 else st.beta.ppf(1 - a / 2, k1 + 1, k0)
        ci = st.binomtest(k1, n).proportion_ci(confidence_level=level, method="exact")
        assert abs(ci.low - plo) < 1e-12 and abs(ci.high - phi) < 1e-12
        c["exact"] = [plo / (1 - plo) * t0 / t1, phi / (1 - phi) * t0 / t1]
        cases.append(c)
    write("rate_ratio", {"cases": cases})


# ---------------------------------------------------------------- correlations

def correlations():
    rng = np.random.default_rng(20240601)
    n = 400
    x = np.round(rng.normal(5, 2, n))  # integer-valued: many ties
    y = np.round(0.6 * x + rng.normal(0, 2, n), 1)
    y[::7] = np.round(y[::7])  # more ties in y
    w = rng.gamma(2.0, 50.0, n)  # exposure weights
    c = np.cov(x, y, aweights=w)
    wpearson = c[0, 1] / np.sqrt(c[0, 0] * c[1, 1])
    pearson = st.pearsonr(x, y)[0]
    spearman = st.spearmanr(x, y)[0]
    rx, ry = st.rankdata(x, method="average"), st.rankdata(y, method="average")
    cr = np.cov(rx, ry, aweights=w)
    wspearman = cr[0, 1] / np.sqrt(cr[0, 0] * cr[1, 1])
    write("correlations", {
        "x": floats(x), "y": floats(y), "w": floats(w),
        "weighted_pearson": float(wpearson), "pearson": float(pearson),
        "spearman": float(spearman), "weighted_spearman": float(wspearman),
    })


# ---------------------------------------------------------------- panels

def panel(seed, n_off, n_month, n_unit, base, officer_sd, nb_alpha=None):
    """An officer-by-month panel: officers nested in units, each observed for
    a contiguous run of months; a staggered binary treatment; hours/8; an
    exposure (person-months on duty) entering as ln offset."""
    rng = np.random.default_rng(seed)
    unit_eff = rng.normal(0, 0.3, n_unit)
    unit_eff[0] = 0
    month_eff = 0.2 * np.sin(np.arange(n_month) / 2.0)
    rows = []
    for o in range(n_off):
        u = rng.integers(n_unit)
        first = rng.integers(0, 3)
        last = n_month - rng.integers(0, 3)
        start = rng.integers(2, n_month + 4)  # >= n_month: never treated
        frail = rng.normal(0, officer_sd)
        for m in range(first, last):
            rows.append((o, u, m, float(m >= start), frail))
    off_, unit, month, treated, frail = (np.array(c) for c in zip(*rows))
    n = len(off_)
    hours8 = np.round(rng.uniform(0.5, 2.0, n), 3)
    exposure = np.round(rng.uniform(0.3, 1.0, n), 3)
    eta = (base - 0.35 * treated + 0.25 * hours8 + unit_eff[unit]
           + month_eff[month] + frail + np.log(exposure))
    mu = np.exp(eta)
    if nb_alpha is None:
        y = rng.poisson(mu)
    else:
        y = rng.poisson(mu * rng.gamma(1 / nb_alpha, nb_alpha, n))
    return {
        "officer": off_.astype(int), "unit": unit.astype(int),
        "month": month.astype(int), "treated": treated, "hours8": hours8,
        "offset": np.log(exposure), "y": y.astype(float),
        "levels": {"officer": n_off, "unit": n_unit, "month": n_month},
    }


def dummies(codes, levels, drop_first=True):
    d = np.zeros((len(codes), levels))
    d[np.arange(len(codes)), codes] = 1
    return d[:, 1:] if drop_first else d


def design(p, intercept=True):
    """Exog in deesc's column order: Intercept, dense, unit[1..], month[1..]."""
    cols = []
    names = []
    if intercept:
        cols.append(np.ones(len(p["y"])))
        names.append("Intercept")
    for c in ("treated", "hours8"):
        cols.append(p[c])
        names.append(c)
    X = np.column_stack(cols)
    for f in ("unit", "month"):
        L = p["levels"][f]
        X = np.column_stack([X, dummies(p[f], L)])
        names += ["%s[%d]" % (f, l) for l in range(1, L)]
    return X, names


def data_json(p):
    return {
        "y": floats(p["y"]), "offset": floats(p["offset"]),
        "treated": floats(p["treated"]), "hours8": floats(p["hours8"]),
        "unit": ints(p["unit"]), "month": ints(p["month"]),
        "officer": ints(p["officer"]), "levels": p["levels"],
    }


def glm_summary(res, names, groups=None):
    """Everything deesc reports, from a statsmodels GLM fit."""
    assert res.converged
    out = {
        "names": names,
        "params": floats(res.params),
        "llf": float(res.llf),
        "deviance": float(res.deviance),
        "pearson_chi2": float(res.pearson_chi2),
        "df_resid": float(res.df_resid),
        "pearson_chi2_df": float(res.pearson_chi2 / res.df_resid),
        "nobs": int(res.nobs),
        "bse_model": floats(res.bse),
        "pvalues_model": floats(res.pvalues),
        "conf_int_model": floats(res.conf_int()),
    }
    if groups is not None:
        rc = res.model.fit(start_params=res.params, tol=0, rtol=1e-14, maxiter=200,
                           cov_type="cluster", cov_kwds={"groups": groups})
        assert np.max(np.abs(rc.params - res.params)) < 1e-12
        out.update({
            "bse_cluster": floats(rc.bse),
            "tvalues_cluster": floats(rc.tvalues),
            "pvalues_cluster": floats(rc.pvalues),
            "conf_int_cluster": floats(rc.conf_int()),
            "n_groups": int(len(np.unique(groups))),
        })
    return out


def tight_glm(y, X, family, offset):
    # Tighter than statsmodels' default (|Δdeviance| < 1e-8), so the reference
    # is the MLE itself rather than an IRLS iterate one step short of it.
    # IRLS (Fisher scoring) creeps up on the NB2 optimum, so finish with
    # Newton steps on statsmodels' own score and observed Hessian, then let
    # IRLS restart at the optimum so its covariance uses weights there.
    mod = sm.GLM(y, X, family=family, offset=offset)
    params = mod.fit(tol=0, rtol=1e-14, maxiter=200).params
    for _ in range(20):
        step = np.linalg.solve(mod.hessian(params), mod.score(params))
        params = params - step
        if np.max(np.abs(step)) < 1e-13:
            break
    res = mod.fit(start_params=params, tol=0, rtol=1e-14, maxiter=200)
    assert np.max(np.abs(res.params - params)) < 1e-12
    return res


def glm_poisson():
    p = panel(seed=7, n_off=240, n_month=12, n_unit=8, base=0.4, officer_sd=0.35)
    X, names = design(p)
    res = tight_glm(p["y"], X, sm.families.Poisson(), p["offset"])
    out = {"data": data_json(p),
           "poisson": glm_summary(res, names, groups=p["officer"])}
    # Clustered on unit too (8 clusters: the G/(G-1) factor matters).
    rc = res.model.fit(start_params=res.params, tol=0, rtol=1e-14, maxiter=200,
                       cov_type="cluster", cov_kwds={"groups": p["unit"]})
    out["poisson_unit_cluster"] = {"bse_cluster": floats(rc.bse)}
    # statsmodels' default tolerance, for the record: how far is it from the MLE?
    dflt = sm.GLM(p["y"], X, family=sm.families.Poisson(), offset=p["offset"]).fit()
    out["poisson_default_tol_max_rel_diff"] = float(
        np.max(np.abs(dflt.params - res.params) / np.maximum(np.abs(res.params), 1e-3)))
    write("glm_poisson", out)


def glm_nb2():
    p = panel(seed=11, n_off=220, n_month=12, n_unit=6, base=0.6, officer_sd=0.0, nb_alpha=0.6)
    X, names = design(p)
    y, off = p["y"], p["offset"]
    out = {"data": data_json(p)}
    # Fixed alpha.
    res = tight_glm(y, X, sm.families.NegativeBinomial(alpha=0.5), off)
    out["nb2_fixed"] = glm_summary(res, names, groups=p["officer"])
    out["nb2_fixed"]["alpha"] = 0.5
    # Alpha by maximum likelihood, as discrete.NegativeBinomial(nb2) does.
    mod = sm.NegativeBinomial(y, X, loglike_method="nb2", offset=off)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dflt = mod.fit(disp=0)  # statsmodels' default: bfgs, maxiter=35
    nb = mod.fit(method="newton", maxiter=200, tol=1e-14, disp=0)
    assert nb.mle_retvals["converged"]
    a = float(nb.params[-1])
    out["nb2_mle"] = {
        "alpha": a, "alpha_se": float(nb.bse[-1]), "llf": float(nb.llf),
        "params": floats(nb.params[:-1]), "names": names,
        "default_fit_alpha": float(dflt.params[-1]),
        "default_fit_converged": bool(dflt.mle_retvals["converged"]),
    }
    # GLM at the ML alpha: same beta as the joint MLE.
    res = tight_glm(y, X, sm.families.NegativeBinomial(alpha=a), off)
    out["nb2_at_mle"] = glm_summary(res, names, groups=p["officer"])
    out["nb2_at_mle"]["alpha"] = a
    write("glm_nb2", out)


def absorbed():
    p = panel(seed=3, n_off=150, n_month=14, n_unit=5, base=-1.6, officer_sd=0.9)
    y = p["y"]
    tot = np.bincount(p["officer"], weights=y, minlength=p["levels"]["officer"])
    keep_off = np.flatnonzero(tot > 0)
    keep = tot[p["officer"]] > 0
    # statsmodels with explicit officer dummies on the rows of officers with
    # at least one event: treated, hours8, month[1..], officer[each kept].
    idx = np.flatnonzero(keep)
    off_codes = np.searchsorted(keep_off, p["officer"][idx])
    Xd = np.column_stack([p["treated"][idx], p["hours8"][idx],
                          dummies(p["month"][idx], p["levels"]["month"]),
                          dummies(off_codes, len(keep_off), drop_first=False)])
    L = p["levels"]["month"]
    names = ["treated", "hours8"] + ["month[%d]" % l for l in range(1, L)]
    res = tight_glm(y[idx], Xd, sm.families.Poisson(), p["offset"][idx])
    k = len(names)
    out = glm_summary(res, names + ["officer_%d" % o for o in keep_off],
                      groups=p["officer"][idx])
    for key in ("params", "bse_model", "bse_cluster", "pvalues_model", "pvalues_cluster"):
        out[key] = out[key][:k]
    for key in ("conf_int_model", "conf_int_cluster"):
        out[key] = out[key][:2 * k]
    out["names"] = names
    out["k_total"] = int(Xd.shape[1])
    out["dropped_groups"] = int(p["levels"]["officer"] - len(keep_off))
    out["dropped_rows"] = int((~keep).sum())
    rc = res.model.fit(start_params=res.params, tol=0, rtol=1e-14, maxiter=200,
                       cov_type="cluster", cov_kwds={"groups": p["unit"][idx]})
    out["bse_cluster_unit"] = floats(rc.bse[:k])
    # Rows shuffled so the Go side must group them itself.
    perm = np.random.default_rng(99).permutation(len(y))
    q = {key: (v[perm] if isinstance(v, np.ndarray) else v) for key, v in p.items()}
    write("absorbed", {"data": data_json(q), "poisson": out})


if __name__ == "__main__":
    poisson_ci()
    rate_ratio()
    correlations()
    glm_poisson()
    glm_nb2()
    absorbed()
