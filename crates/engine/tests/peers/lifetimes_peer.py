"""Fits BG/NBD and Gamma-Gamma with the lifetimes package to a summary CSV
(frequency, recency, T, monetary_value) and prints the parameters as JSON."""
import json
import sys

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

summary = pd.read_csv(sys.argv[1])
bgf = BetaGeoFitter(penalizer_coef=0.0)
bgf.fit(summary["frequency"], summary["recency"], summary["T"])
repeat = summary[summary["frequency"] > 0]
ggf = GammaGammaFitter(penalizer_coef=0.0)
ggf.fit(repeat["frequency"], repeat["monetary_value"])
b, g = bgf.params_, ggf.params_
print(json.dumps({
    "r": b["r"], "alpha": b["alpha"], "a": b["a"], "b": b["b"],
    "p": g["p"], "q": g["q"], "v": g["v"],
}))
