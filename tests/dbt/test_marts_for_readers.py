"""Issue 19 on the built warehouse of the session's small refresh: survey shares carry the logit
interval (inside 0..1), every survey figure says whether its weighting converged, and composite
indices are the exact weighted means of their parts rounded half away from zero."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist

import duckdb
import pytest

Z = NormalDist().inv_cdf(0.975)


@pytest.fixture(scope="module")
def con(refreshed):
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as connection:
        yield connection


def test_share_intervals_are_logit_intervals_inside_0_1(con):
    rows = con.sql(
        """
        select f.indicator_code, f.area_code, f.value, f.standard_error, f.ci_low, f.ci_high
        from marts.fct_indicator_value f
        join marts.dim_indicator i using (indicator_code)
        where i.kind = 'survey_share' and not f.suppressed and f.standard_error is not null
        """
    ).fetchall()
    assert len(rows) > 100
    near_edge = 0
    for code, area, p, se, low, high in rows:
        assert 0 <= low <= p <= high <= 1, (code, area, p, low, high)
        if 0 < p < 1:
            eta, s = math.log(p / (1 - p)), se / (p * (1 - p))
            expit = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
            # the mart rounds to 6 decimals; the interval was computed before rounding
            assert low == pytest.approx(expit(eta - Z * s), abs=2e-5), (code, area)
            assert high == pytest.approx(expit(eta + Z * s), abs=2e-5), (code, area)
            near_edge += p - Z * se < 0 or p + Z * se > 1  # where the Wald interval left 0..1
    assert near_edge > 0, "the demo should hold shares whose symmetric interval crossed 0 or 1"
    # means and scales keep the symmetric interval
    sym = con.sql(
        """
        select max(abs((f.ci_high - f.value) - (f.value - f.ci_low)))
        from marts.fct_indicator_value f join marts.dim_indicator i using (indicator_code)
        where i.kind in ('survey_mean', 'survey_scale') and not f.suppressed
        """
    ).fetchone()[0]
    assert sym is not None and sym < 3e-6


def test_no_published_interval_leaves_its_range(con):
    outside = con.sql(
        """
        select count(*) from marts.mart_compass_status s
        join marts.dim_indicator i on s.node_level = 'indicator' and i.indicator_code = s.node_code
        where i.unit = 'aandeel' and (s.ci_low < 0 or s.ci_high > 1)
        """
    ).fetchone()[0]
    assert outside == 0


def test_every_survey_figure_carries_its_weighting_flag(con):
    by_kind = dict(
        con.sql(
            """
            select i.source_kind = 'survey', count(*) filter (where f.weighting_converged is null)
            from marts.fct_indicator_value f join marts.dim_indicator i using (indicator_code)
            group by 1
            """
        ).fetchall()
    )
    assert by_kind[True] == 0  # every survey figure says whether its raking converged
    assert by_kind[False] == con.sql(
        "select count(*) from marts.fct_indicator_value f join marts.dim_indicator i "
        "using (indicator_code) where i.source_kind <> 'survey'"
    ).fetchone()[0]
    # an area's own figure on its own division: the weighting report's flag for its wave
    mismatched = con.sql(
        """
        select count(*)
        from marts.fct_indicator_value f
        join marts.dim_indicator i using (indicator_code)
        join intermediate.int_weighting_report w
            on w.wave = f.period and w.area_code = f.area_code
        where i.source_kind = 'survey' and not f.is_harmonised
            and f.weighting_converged is distinct from w.converged
        """
    ).fetchone()[0]
    assert mismatched == 0
    # a composite is flagged exactly when a part it averages is
    status = con.sql(
        """
        select count(*) from marts.mart_compass_status t
        where t.node_level = 'theme' and t.weighting_converged is distinct from (
            select bool_and(c.weighting_converged) filter (where c.index_value is not null)
            from marts.mart_compass_status c
            where c.edition = t.edition and c.area_code = t.area_code
              and c.node_level = 'indicator' and c.parent_node_code = t.node_code)
        """
    ).fetchone()[0]
    assert status == 0


def test_theme_indices_are_exact_means_rounded_half_away_from_zero(con):
    themes = con.sql(
        """
        select t.edition, t.area_code, t.node_code, t.index_value,
               list(c.index_value order by c.node_code) filter (where c.index_value is not null),
               list(i.theme_weight order by c.node_code) filter (where c.index_value is not null),
               list(c.is_judged order by c.node_code) filter (where c.index_value is not null)
        from marts.mart_compass_status t
        join marts.mart_compass_status c
            on c.edition = t.edition and c.area_code = t.area_code
            and c.node_level = 'indicator' and c.parent_node_code = t.node_code
        join marts.dim_indicator i on i.indicator_code = c.node_code
        where t.node_level = 'theme' and t.index_value is not null
        group by all
        """
    ).fetchall()
    assert len(themes) > 50
    for edition, area, theme, published, idx, weights, judged in themes:
        if any(judged):  # a judged theme averages its judged indicators only
            idx = [x for x, j in zip(idx, judged, strict=True) if j]
            weights = [w for w, j in zip(weights, judged, strict=True) if j]
        num = sum(Decimal(repr(x)) * Decimal(repr(w)) for x, w in zip(idx, weights, strict=True))
        mean = num / sum(Decimal(repr(w)) for w in weights)
        expected = float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
        assert published == expected, (edition, area, theme, str(mean))
