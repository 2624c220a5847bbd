"""Survey statistics for the Basismonitor, reproducing R's ``survey`` package.

- :func:`survey_estimates` / :func:`survey_totals`: design-based means (proportions) and totals per
  domain (area) with Taylor-linearised SEs, 95% CIs and the domain-minus-total contrast, from
  moment sums aggregated by DuckDB (stratified design with fpc, or weights only).
- :func:`change_contrasts`: development between two independent waves, area against city.
- :func:`rake`: raking (iterative proportional fitting) of weights to population margins, per area.
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
from .raking import RakeResult, rake

__all__ = [
    "MOMENT_COLUMNS",
    "Z95",
    "RakeResult",
    "change_contrasts",
    "estimates_from_moments",
    "logit_interval",
    "moment_sums",
    "rake",
    "survey_estimates",
    "survey_totals",
]
