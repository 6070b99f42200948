"""The cohort analysis as an evaluator would run it without deesc.

Reads the officer-months that `deesc query cohort_inputs` exports (CSV with
officer_id, unit, division, month, treated_month, trained, events, exposure),
and fits
  - the crude rate ratio: events / officer-years of trained officer-months over
    those of untrained officer-months;
  - the adjusted rate ratio: a Poisson GLM of events on trained with unit and
    calendar-month fixed effects, offset log(exposure), and standard errors
    clustered by officer (statsmodels' cov_type="cluster", its default
    small-sample corrections),
and prints one JSON object with the estimates and the seconds each step took.

Usage: python3 cohort_glm.py cohort_inputs.csv
Needs Debian's python3-statsmodels and python3-pandas.
"""
import json
import math
import resource
import sys
import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import statsmodels  # noqa: E402
import statsmodels.api as sm  # noqa: E402
import statsmodels.formula.api as smf  # noqa: E402

import_s = time.perf_counter() - t0


def main(path):
    t = time.perf_counter()
    df = pd.read_csv(path, usecols=["officer_id", "unit", "month", "trained", "events", "exposure"],
                     dtype={"officer_id": str, "unit": str, "month": str})
    if df["trained"].dtype != bool:
        df["trained"] = df["trained"].astype(str).str.lower().eq("true")
    load_s = time.perf_counter() - t

    t = time.perf_counter()
    tr = df["trained"].to_numpy()
    ev, ex = df["events"].to_numpy(dtype=float), df["exposure"].to_numpy(dtype=float)
    crude = (ev[tr].sum() / ex[tr].sum()) / (ev[~tr].sum() / ex[~tr].sum())
    crude_s = time.perf_counter() - t

    t = time.perf_counter()
    data = pd.DataFrame({"events": ev, "trained": tr.astype(float), "unit": df["unit"], "month": df["month"]})
    model = smf.glm("events ~ trained + C(unit) + C(month)", data=data, family=sm.families.Poisson(),
                    offset=np.log(ex))
    groups = pd.factorize(df["officer_id"])[0]
    res = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
    fit_s = time.perf_counter() - t

    b, se = float(res.params["trained"]), float(res.bse["trained"])
    lo, hi = (float(v) for v in res.conf_int().loc["trained"])
    out = {
        "rows": int(len(df)),
        "officers": int(groups.max() + 1),
        "parameters": int(len(res.params)),
        "import_s": import_s,
        "load_s": load_s,
        "crude_s": crude_s,
        "fit_s": fit_s,
        "crude_rate_ratio": float(crude),
        "rate_ratio": math.exp(b),
        "ci_low": math.exp(lo),
        "ci_high": math.exp(hi),
        "se": se,
        "converged": bool(res.converged),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "statsmodels": statsmodels.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: cohort_glm.py cohort_inputs.csv")
    main(sys.argv[1])
