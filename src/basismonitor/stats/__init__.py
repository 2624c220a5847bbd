"""Survey statistics for the Basismonitor, reproducing R's ``survey`` package.

- :func:`survey_estimates` / :func:`survey_totals`: design-based means (proportions) and totals per
  domain (area) with Taylor-linearised SEs, 95% CIs and the domain-minus-total contrast, from
  moment sums aggregated by DuckDB (stratified design with fpc, or weights only).
- :func:`change_contrasts`: development between two independent waves, area against city.
- :func:`rake`: raking (iterative proportional fitting) of weights to population margins, per area.
- :func:`fit_fay_herriot` / :func:`fit_shares`: small-area estimation (Fay-Herriot EBLUP and its
  Prasad-Rao MSE, as R's ``sae``), in ``basismonitor.stats.fay_herriot``.
- ``basismonitor.stats.cli``: the ``basismonitor estimate`` analyst command.

See ``docs/STATISTICS.md`` for the method.
"""

from .estimates import (
    MOMENT_COLUMNS,
    Z95,
    change_contrasts,
    estimates_from_moments,
    logit_interval,
    moment_sums,
    survey_estimates,
    survey_totals,
)
from .fay_herriot import FHFit, ShareFit, fit_fay_herriot, fit_shares
from .raking import RakeResult, rake

__all__ = [
    "MOMENT_COLUMNS",
    "Z95",
    "FHFit",
    "RakeResult",
    "ShareFit",
    "change_contrasts",
    "estimates_from_moments",
    "logit_interval",
    "moment_sums",
    "fit_fay_herriot",
    "fit_shares",
    "rake",
    "survey_estimates",
    "survey_totals",
]
