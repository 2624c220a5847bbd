"""The compass marts in plain pandas: what an analyst would write (read the tables, merge, groupby).

    python benchmarks/pandas_baseline.py WAREHOUSE [--edition 2024] [--base-period 2016]

Reads the landed sources (raw.*), the catalogue (catalogue.*) and, like the hand-written SQL, ONE
intermediate of the dbt build: intermediate.int_survey_estimates (the survey estimator, a dbt
Python model on basismonitor.stats). Returns fct_indicator_value, mart_compass_status and
mart_compass_development as DataFrames with dbt's columns; bench_marts.py compares them with dbt's.

Two details follow DuckDB so the numbers can agree exactly: round() rounds half away from zero,
and the compass's exact sums (dbt macro exact_sum) round each term to 12 decimals and add integers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


def sql_round(x, digits: int):
    """DuckDB's round(double, d): half away from zero."""
    m = 10.0 ** digits
    y = np.asarray(x, dtype=float) * m
    return np.sign(y) * np.floor(np.abs(y) + 0.5) / m


def exact_units(x: pd.Series) -> pd.Series:
    """A term as an integer count of 1e-12 (dbt's exact_sum casts it to decimal(38, 12))."""
    return pd.Series(np.rint(x.to_numpy(dtype=float) * 1e12), index=x.index).astype("Int64")


def round_ratio(u, w):
    """u / w (exact integer units) to one decimal, half away from zero, in integer arithmetic
    (dbt's round_ratio macro); NaN where w is 0 or missing."""
    u = pd.Series(u).astype("Int64")
    w = pd.Series(w).astype("Int64")
    ok = (u.notna() & w.notna() & (w != 0)).to_numpy()
    uu = u.fillna(0).to_numpy(np.int64)
    ww = w.fillna(1).to_numpy(np.int64)
    ww = np.where(ok, ww, 1)
    k = (20 * np.abs(uu) + np.abs(ww)) // (2 * np.abs(ww))
    return np.where(ok, np.sign(uu) * np.sign(ww) * k / 10.0, np.nan)


def bool_and(flags: pd.Series, keys) -> pd.Series:
    """SQL bool_and per group: nulls ignored, null when the group has no value."""
    f = pd.Series(flags).astype("boolean")
    g = pd.DataFrame({"known": f.notna(), "false": f.eq(False).fillna(False)}).groupby(keys, sort=False)
    known, false = g["known"].any(), g["false"].any()
    return (~false).astype("boolean").where(known)


def converged_and(a: pd.Series, b: pd.Series) -> pd.Series:
    """a and b for the weighting flag: null only when both are null (dbt's converged_and)."""
    a, b = pd.Series(a).astype("boolean"), pd.Series(b, index=a.index).astype("boolean")
    both = a.fillna(True) & b.fillna(True)
    return both.where(a.notna() | b.notna())


def _load_ids(series_of_lists) -> list:
    seen = []
    for ids in series_of_lists:
        for i in ids:
            if i is not None and i not in seen:
                seen.append(i)
    return seen


def _distinct(values) -> list:
    return list(dict.fromkeys(v for v in values if v is not None and v == v))


def group_lists(frame: pd.DataFrame, keys: list[str], col: str) -> pd.Series:
    """Per group the distinct non-null values of col (a scalar or list column) as a list."""
    part = frame[keys + [col]]
    if part[col].map(lambda x: isinstance(x, list | tuple | np.ndarray)).any():
        part = part.explode(col)
    part = part.dropna(subset=[col]).drop_duplicates()
    return part.groupby(keys, sort=False)[col].agg(list)


def read_inputs(con) -> dict[str, pd.DataFrame]:
    q = lambda sql: con.sql(sql).df()  # noqa: E731
    return {
        "areas": q("select edition, area_code, area_level, parent_code from raw.areas"),
        "population": q("select period, area_code, age_group, sex, population from raw.population"),
        "crosswalk": q("select from_edition, from_code, to_edition, to_code, share, method from raw.crosswalk"),
        "registry": q("select period, area_code, area_level, variable, value, missing_reason, _load_id as load_id "
                      "from raw.registry_values"),
        "crimes": q("select period, area_code, crime_type, crimes, missing_reason, _load_id as load_id "
                    "from raw.police_crimes"),
        "registrations": q("select programme, period, area_code, category, outcome, "
                           "cast(amount_granted as double) as amount_granted, _load_id as load_id "
                           "from raw.activity_registrations"),
        "respondents": q("select wave, area_code, _load_id as load_id from raw.survey_respondents"),
        "indicators": q("select * from catalogue.indicators"),
        "themes": q("select * from catalogue.themes"),
        "quadrants": q("select * from catalogue.quadrants"),
        "estimates": q("select * from intermediate.int_survey_estimates"),
        "weighting": q("select wave, gemeente_code, area_code, bool_and(converged) as converged "
                       "from intermediate.int_respondents_weighted group by all"),
        # issue 21: the Fay-Herriot buurt figures (used on a buurt compass)
        "small_area": q("select f.wave, f.indicator_code, f.gemeente_code, f.buurt_code, f.n, f.estimate, "
                        "f.mse, f.suppression_reason, c.use_at_buurt "
                        "from intermediate.int_survey_small_area_estimates as f "
                        "join catalogue.indicator_small_area as c using (indicator_code) "
                        "where f.estimation_method = 'fay_herriot'"),
    }


def compute(d: dict[str, pd.DataFrame], v: dict) -> dict[str, pd.DataFrame]:
    edition, base_period = int(v["edition"]), int(v["base_period"])
    level = v["compass_level"]
    ind = d["indicators"]

    # --- areas ------------------------------------------------------------------------------------
    areas = d["areas"].copy()
    areas["area_code"] = areas["area_code"].str.strip()
    areas["parent_code"] = areas["parent_code"].str.strip().replace("", None)
    editions = pd.DataFrame({"edition": sorted(areas.loc[areas.area_level == "buurt", "edition"].unique())})
    editions["valid_from"] = editions["edition"]
    editions["valid_to"] = (editions["edition"].shift(-1) - 1).fillna(9999).astype(int)
    current = int(editions["edition"].max())

    def edition_of(periods: pd.Series) -> pd.Series:
        idx = np.searchsorted(editions["edition"].to_numpy(), periods.to_numpy(), side="right") - 1
        out = pd.Series(editions["edition"].to_numpy()[np.clip(idx, 0, None)], index=periods.index)
        return out.where(idx >= 0)

    # ancestors: walk the parent chain (depth < 10, as the recursive model)
    lvl = areas.set_index(["edition", "area_code"])["area_level"]
    parent = areas.set_index(["edition", "area_code"])["parent_code"]
    rows = []
    cur = areas[["edition", "area_code", "area_level"]].assign(ancestor_code=areas["area_code"], depth=0)
    while len(cur):
        rows.append(cur)
        if cur["depth"].iloc[0] >= 10:
            break
        keys = pd.MultiIndex.from_arrays([cur["edition"], cur["ancestor_code"]])
        nxt = cur.assign(ancestor_code=parent.reindex(keys).to_numpy(), depth=cur["depth"] + 1)
        cur = nxt[nxt["ancestor_code"].notna()]
    anc = pd.concat(rows, ignore_index=True)
    anc["ancestor_level"] = lvl.reindex(pd.MultiIndex.from_arrays([anc["edition"], anc["ancestor_code"]])).to_numpy()
    anc = anc[anc["ancestor_level"].notna()]
    area_gemeente = anc[anc.ancestor_level == "gemeente"][["edition", "area_code", "area_level", "ancestor_code"]] \
        .rename(columns={"ancestor_code": "gemeente_code"})
    area_levels = anc[anc.depth == 0][["edition", "area_code", "area_level"]]
    buurten = area_gemeente[area_gemeente.area_level == "buurt"].merge(
        anc[anc.ancestor_level == level][["edition", "area_code", "ancestor_code"]], on=["edition", "area_code"])
    buurten = buurten.rename(columns={"area_code": "buurt_code", "ancestor_code": "area_code"})[
        ["edition", "buurt_code", "area_code", "gemeente_code"]]

    # --- population -------------------------------------------------------------------------------
    pop = d["population"].copy()
    pop["buurt_code"] = pop["area_code"].str.strip()
    pop["edition"] = edition_of(pop["period"])
    pop_located = pop.drop(columns="area_code").merge(buurten, on=["edition", "buurt_code"])
    area_population = pop_located.groupby(["period", "edition", "gemeente_code", "area_code"], as_index=False)[
        "population"].sum()

    # --- crosswalk --------------------------------------------------------------------------------
    last_period = pop["period"].max()
    ed_pop = editions.assign(period=np.minimum(editions["valid_to"], last_period))[["edition", "period"]]
    buurt_pop = pop.merge(ed_pop, on="period", suffixes=("_p", "")).groupby(["edition", "buurt_code"], as_index=False)[
        "population"].sum()
    cw = d["crosswalk"].copy()
    cw["from_code"] = cw["from_code"].str.strip()
    cw["to_code"] = cw["to_code"].str.strip()
    cw = cw[cw.to_edition == current]
    cw = cw.merge(buurten[["edition", "buurt_code", "area_code"]].rename(
        columns={"edition": "from_edition", "buurt_code": "from_code", "area_code": "from_area_code"}),
        on=["from_edition", "from_code"])
    cw = cw.merge(buurten[["edition", "buurt_code", "area_code"]].rename(
        columns={"edition": "to_edition", "buurt_code": "to_code", "area_code": "to_area_code"}),
        on=["to_edition", "to_code"])
    cw = cw.merge(buurt_pop.rename(columns={"edition": "from_edition", "buurt_code": "from_code"}),
                  on=["from_edition", "from_code"], how="left")
    cw["moved"] = cw["share"] * cw["population"].fillna(0)
    old_to_new = cw.groupby(["from_edition", "from_area_code", "to_area_code", "method"], as_index=False,
                            dropna=False)[["moved", "share"]].sum()
    by_old = old_to_new.groupby(["from_edition", "from_area_code"])
    total, share_total = by_old["moved"].transform("sum"), by_old["share"].transform("sum")
    # an old area without inhabitants: by the crosswalk's own shares (as dbt)
    inhabited = total > 0
    old_to_new["share"] = np.where(inhabited, old_to_new["moved"] / total.where(inhabited, 1.0),
                                   old_to_new["share"] / share_total.where(share_total != 0))
    old_to_new["method"] = np.where(inhabited, "crosswalk buurten, weighted by " + old_to_new["method"],
                                    "crosswalk buurten, by share (no inhabitants)")
    crosswalk = old_to_new[old_to_new["share"] > 0][["from_edition", "from_area_code", "to_area_code", "share", "method"]]
    identity = buurten[buurten.edition == current][["edition", "area_code"]].drop_duplicates()
    identity = pd.DataFrame({"from_edition": identity["edition"], "from_area_code": identity["area_code"],
                             "to_area_code": identity["area_code"], "share": 1.0, "method": "identity"})
    crosswalk = pd.concat([crosswalk, identity], ignore_index=True)

    # --- registry: kwb ----------------------------------------------------------------------------
    reg = d["registry"].copy()
    reg = reg[reg.area_level.isin(["gemeente", level])]
    reg["area_code"] = reg["area_code"].str.strip()
    reg["variable"] = reg["variable"].str.lower()
    reg["edition"] = edition_of(reg["period"])
    reg = reg.merge(area_gemeente[["edition", "area_code", "gemeente_code"]], on=["edition", "area_code"])
    reg["is_city"] = reg["area_level"] == "gemeente"
    kwb_ind = ind[(ind.source_kind == "registry") & (ind.source == "kwb")]
    num = kwb_ind[["indicator_code", "kind", "item", "denominator", "min_count", "min_population"]].merge(
        reg, left_on="item", right_on="variable")
    den = reg[["period", "area_code", "variable", "value", "missing_reason", "load_id"]].rename(
        columns={"variable": "denominator", "value": "den_value", "missing_reason": "den_missing",
                 "load_id": "den_load_id"})
    num = num.merge(den, on=["denominator", "period", "area_code"], how="left")
    inw = reg[reg.variable == "a_inw"][["period", "area_code", "value"]].rename(columns={"value": "population"})
    num = num.merge(inw, on=["period", "area_code"], how="left")
    kwb = pd.DataFrame({
        "indicator_code": num["indicator_code"], "kind": num["kind"], "period": num["period"],
        "edition": num["edition"], "gemeente_code": num["gemeente_code"], "area_code": num["area_code"],
        "is_city": num["is_city"],
        "numerator": num["value"].where(~num["kind"].isin(["registry_value", "registry_count"])),
        "denominator": num["den_value"],
        "value": np.select([num["kind"] == "registry_share", num["kind"] == "registry_rate"],
                           [num["value"] / num["den_value"].where(num["den_value"] != 0),
                            1000 * num["value"] / num["den_value"].where(num["den_value"] != 0)],
                           num["value"]),
        "missing_reason": num["missing_reason"].fillna(num["den_missing"]),
        "population": num["population"], "min_count": num["min_count"], "min_population": num["min_population"],
        "load_ids": [_distinct(p) for p in zip(num["load_id"], num["den_load_id"], strict=True)],
        "city_value_source": "published",
    })

    # --- registry: police -------------------------------------------------------------------------
    crimes = d["crimes"].copy()
    crimes["area_code"] = crimes["area_code"].str.strip()
    crimes["edition"] = edition_of(crimes["period"])
    crimes = crimes.merge(area_levels, on=["edition", "area_code"])
    published = crimes[crimes.area_level.isin(["gemeente", level])].merge(
        area_gemeente[["edition", "area_code", "gemeente_code"]], on=["edition", "area_code"])
    published = published.assign(is_city=published.area_level == "gemeente",
                                 load_ids=[[x] for x in published["load_id"]], city_value_source="published")
    by_buurt = crimes[crimes.area_level == "buurt"].merge(
        buurten.rename(columns={"buurt_code": "area_code", "area_code": "compass_area_code"}),
        on=["edition", "area_code"])
    blocking = by_buurt["missing_reason"].isin(["hidden", "unknown", "invalid"])
    by_buurt = by_buurt.assign(block=blocking, block_reason=by_buurt["missing_reason"].where(blocking))
    rolled = []
    for keys, is_city in ((["period", "edition", "gemeente_code", "compass_area_code", "crime_type"], False),
                          (["period", "edition", "gemeente_code", "crime_type"], True)):
        grouped = by_buurt.groupby(keys)
        g = grouped.agg(n_block=("block", "sum"), missing_reason=("block_reason", "min"))
        g["crimes"] = grouped["crimes"].sum(min_count=1)
        g["load_ids"] = group_lists(by_buurt, keys, "load_id")
        g = g.reset_index()
        g["crimes"] = g["crimes"].where(g["n_block"] == 0)
        g["area_code"] = g["compass_area_code"] if not is_city else g["gemeente_code"]
        g["is_city"] = is_city
        rolled.append(g.drop(columns=["n_block"] + (["compass_area_code"] if not is_city else [])))
    rolled = pd.concat(rolled, ignore_index=True).assign(city_value_source="computed from buurten")
    pub_keys = published[["period", "area_code", "crime_type"]].drop_duplicates()
    rolled = rolled.merge(pub_keys, on=["period", "area_code", "crime_type"], how="left", indicator=True)
    rolled = rolled[rolled["_merge"] == "left_only"].drop(columns="_merge")
    all_crimes = pd.concat([published.drop(columns=["area_level", "load_id"]), rolled], ignore_index=True)
    police_ind = ind[(ind.source_kind == "registry") & (ind.source == "police")]
    pc = police_ind[["indicator_code", "kind", "item", "min_count", "min_population"]].merge(
        all_crimes, left_on="item", right_on="crime_type")
    ap = area_population[["period", "area_code", "population"]].rename(columns={"population": "area_pop"})
    cp = area_population.groupby(["period", "gemeente_code"], as_index=False)["population"].sum().rename(
        columns={"population": "city_pop"})
    pc = pc.merge(ap, on=["period", "area_code"], how="left").merge(cp, on=["period", "gemeente_code"], how="left")
    popn = pc["area_pop"].where(~pc["is_city"]).fillna(pc["city_pop"].where(pc["is_city"])).astype(float)
    police = pd.DataFrame({
        "indicator_code": pc["indicator_code"], "kind": pc["kind"], "period": pc["period"], "edition": pc["edition"],
        "gemeente_code": pc["gemeente_code"], "area_code": pc["area_code"], "is_city": pc["is_city"],
        "numerator": pc["crimes"].astype(float), "denominator": popn,
        "value": 1000 * pc["crimes"].astype(float) / popn.where(popn != 0),
        "missing_reason": pc["missing_reason"], "population": popn,
        "min_count": pc["min_count"], "min_population": pc["min_population"],
        "load_ids": pc["load_ids"], "city_value_source": pc["city_value_source"],
    })
    registry = pd.concat([kwb, police], ignore_index=True)
    min_pop = registry["min_population"].astype(float).fillna(0)
    min_cnt = registry["min_count"].astype(float).fillna(0)
    registry["suppression_reason"] = np.select(
        [registry["missing_reason"].notna(),
         registry["population"] < min_pop,
         registry["kind"].isin(["registry_share", "registry_rate"]) & (registry["numerator"] < min_cnt),
         (registry["kind"] == "registry_count") & (registry["value"] < min_cnt),
         registry["value"].isna()],
        ["source: " + registry["missing_reason"].astype(str),
         "population below " + registry["min_population"].astype("Int64").astype(str),
         "count below " + registry["min_count"].astype("Int64").astype(str),
         "count below " + registry["min_count"].astype("Int64").astype(str),
         "no value"], None)
    registry = registry.drop(columns=["kind", "missing_reason", "population", "min_count", "min_population"])

    # --- activities -------------------------------------------------------------------------------
    regs = d["registrations"].copy()
    regs["buurt_code"] = regs["area_code"].str.strip()
    programme_years = group_lists(regs, ["programme", "period"], "load_id").rename("programme_load_ids").reset_index()
    regs["edition"] = edition_of(regs["period"])
    located = regs.drop(columns="area_code").merge(buurten, on=["edition", "buurt_code"])
    act_ind = ind[ind.source_kind == "activity"]
    counted = []
    for _, i in act_ind.iterrows():
        rows = located[located.programme == i["item"]]
        codes = i["answer_codes"].split("|") if isinstance(i["answer_codes"], str) else []
        base = i["denominator"].split("|") if isinstance(i["denominator"], str) else []
        rows = rows.assign(
            is_reg=rows["category"] == i["numerator"] if isinstance(i["numerator"], str) else True,
            is_out=rows["outcome"].isin(codes), is_base=rows["outcome"].isin(base))
        for keys, is_city in ((["period", "gemeente_code", "area_code"], False), (["period", "gemeente_code"], True)):
            grouped = rows.groupby(keys)
            g = grouped.agg(n_registrations=("is_reg", "sum"), n_outcome=("is_out", "sum"),
                            n_outcome_base=("is_base", "sum"))
            g["amount_granted"] = grouped["amount_granted"].sum(min_count=1)
            g["load_ids"] = group_lists(rows, keys, "load_id")
            g = g.reset_index()
            if is_city:
                g["area_code"] = g["gemeente_code"]
            g["is_city"] = is_city
            g["indicator_code"] = i["indicator_code"]
            counted.append(g)
    counted = pd.concat(counted, ignore_index=True)
    grid_pop = pd.concat([
        area_population.assign(is_city=False),
        area_population.groupby(["period", "edition", "gemeente_code"], as_index=False)["population"].sum()
        .assign(area_code=lambda f: f["gemeente_code"], is_city=True)], ignore_index=True)
    grid = act_ind[["indicator_code", "kind", "item", "min_count", "min_population"]].merge(
        programme_years, left_on="item", right_on="programme").merge(grid_pop, on="period")
    m = grid.merge(counted, on=["indicator_code", "period", "gemeente_code", "area_code", "is_city"], how="left")
    kind = m["kind"]
    numer = np.select([kind == "activity_rate", kind == "activity_share", kind == "activity_amount"],
                      [m["n_registrations"].fillna(0), m["n_outcome"].fillna(0), m["amount_granted"].fillna(0)],
                      np.nan).astype(float)
    denom = np.select([kind == "activity_rate", kind == "activity_share", kind == "activity_amount"],
                      [m["population"], m["n_outcome_base"].fillna(0), m["population"]], np.nan).astype(float)
    min_pop = m["min_population"].astype(float).fillna(0)
    min_cnt = m["min_count"].astype(float).fillna(0)
    count_below = "count below " + m["min_count"].astype("Int64").astype(str)
    safe_den = np.where(denom != 0, denom, np.nan)
    activities = pd.DataFrame({
        "indicator_code": m["indicator_code"], "period": m["period"], "edition": m["edition"],
        "gemeente_code": m["gemeente_code"], "area_code": m["area_code"], "is_city": m["is_city"],
        "numerator": numer, "denominator": denom,
        "suppression_reason": np.select(
            [m["population"] < min_pop,
             (kind == "activity_rate") & (numer < min_cnt),
             (kind == "activity_share") & (denom < min_cnt),
             (kind == "activity_share") & (numer < min_cnt),
             np.isnan(denom) | (denom == 0)],
            ["population below " + m["min_population"].astype("Int64").astype(str), count_below, count_below,
             count_below, "no denominator"], None),
        "value": np.where(kind == "activity_rate", 1000 * numer / safe_den, numer / safe_den),
        "city_value_source": "computed from buurten",
        "load_ids": [x if isinstance(x, list) else y for x, y in zip(m["load_ids"], m["programme_load_ids"], strict=True)],
    })

    # --- survey (the dbt build's estimates) -------------------------------------------------------
    resp = d["respondents"].copy()
    resp["buurt_code"] = resp["area_code"].str.strip()
    resp["edition"] = edition_of(resp["wave"])
    located_waves = resp.merge(buurten[["edition", "buurt_code"]], on=["edition", "buurt_code"])[
        ["wave", "edition"]].drop_duplicates()
    wave_loads = resp.groupby("wave")["load_id"].agg(_distinct).rename("load_ids").reset_index()
    est = d["estimates"]
    est = est[est["n"] > 0].merge(ind[["indicator_code", "min_n"]], on="indicator_code")
    est = est.merge(located_waves, on="wave").merge(wave_loads, on="wave", how="left")
    wt = d["weighting"]
    wt_city = wt.groupby(["wave", "gemeente_code"], as_index=False)["converged"].all()
    est = est.merge(wt.rename(columns={"converged": "wc_area"}), on=["wave", "gemeente_code", "area_code"],
                    how="left").merge(wt_city.rename(columns={"converged": "wc_city"}),
                                      on=["wave", "gemeente_code"], how="left")
    wc = est["wc_city"].where(est["is_city"], est["wc_area"]).astype("boolean").fillna(False)
    min_n = est["min_n"].astype(float).fillna(float(v["survey_min_n_default"]))
    survey = pd.DataFrame({
        "indicator_code": est["indicator_code"], "period": est["wave"], "edition": est["edition"],
        "gemeente_code": est["gemeente_code"], "area_code": est["area_code"], "is_city": est["is_city"],
        "numerator": np.nan, "denominator": np.nan, "value": est["estimate"], "n": est["n"],
        "weighted_n": est["weighted_n"], "se": est["se"], "ci_low": est["ci_low"], "ci_high": est["ci_high"],
        "contrast": est["contrast"], "contrast_se": est["contrast_se"],
        "significant": est["significant"].astype("boolean").where(~est["is_city"]),
        "suppression_reason": np.where(est["n"] < min_n, "n below " + min_n.astype(int).astype(str), None),
        "city_value_source": "estimated from respondents", "load_ids": est["load_ids"],
        "weighting_converged": wc, "estimation_method": "direct", "mse": est["se"] ** 2,
    })
    # issue 21: on a buurt compass, use_at_buurt indicators take the Fay-Herriot buurt figures of a
    # wave in place of the direct ones (interval value +- 1.96 sqrt(mse), shares clipped to [0, 1])
    fh = d["small_area"]
    fh = fh[fh["use_at_buurt"].astype(bool)] if level == "buurt" else fh.iloc[0:0]
    if len(fh):
        modelled = fh[["wave", "indicator_code", "buurt_code"]].rename(
            columns={"wave": "period", "buurt_code": "area_code"})
        drop = survey.merge(modelled, on=["period", "indicator_code", "area_code"], how="left",
                            indicator=True)["_merge"]
        survey = survey[((drop == "left_only").to_numpy()) | survey["is_city"].to_numpy()]
        city = survey[survey["is_city"]][["period", "indicator_code", "gemeente_code", "value", "se",
                                          "edition", "load_ids"]]
        fh = fh.merge(ind[["indicator_code", "kind"]], on="indicator_code").merge(
            city.rename(columns={"period": "wave", "value": "city_value", "se": "city_se"}),
            on=["wave", "indicator_code", "gemeente_code"], how="left")
        fh = fh.merge(wt.rename(columns={"converged": "wc_area", "area_code": "buurt_code"}),
                      on=["wave", "gemeente_code", "buurt_code"], how="left")
        fse = np.sqrt(fh["mse"])
        share = fh["kind"] == "survey_share"
        lo, hi = fh["estimate"] - Z95 * fse, fh["estimate"] + Z95 * fse
        cse2 = fh["mse"] + fh["city_se"] ** 2
        model = pd.DataFrame({
            "indicator_code": fh["indicator_code"], "period": fh["wave"], "edition": fh["edition"],
            "gemeente_code": fh["gemeente_code"], "area_code": fh["buurt_code"], "is_city": False,
            "numerator": np.nan, "denominator": np.nan, "value": fh["estimate"], "n": fh["n"],
            "weighted_n": np.nan, "se": fse, "ci_low": np.where(share, np.maximum(0.0, lo), lo),
            "ci_high": np.where(share, np.minimum(1.0, hi), hi),
            "contrast": fh["estimate"] - fh["city_value"], "contrast_se": np.sqrt(cse2),
            "significant": pd.Series(np.abs(fh["estimate"] - fh["city_value"]) / np.sqrt(cse2) > Z95,
                                     dtype="boolean").where(cse2 > 0),
            "suppression_reason": fh["suppression_reason"], "city_value_source": "estimated from respondents",
            "load_ids": fh["load_ids"], "weighting_converged": fh["wc_area"].astype("boolean").fillna(False),
            "estimation_method": "fay_herriot", "mse": fh["mse"],
        })
        # a compass buurt of a modelled wave x indicator with neither figure: a suppressed row
        pairs = fh[["wave", "indicator_code", "edition", "load_ids"]].drop_duplicates(
            ["wave", "indicator_code"])
        compass_buurten = buurten[buurten["buurt_code"] == buurten["area_code"]]
        empty = pairs.merge(compass_buurten[["edition", "buurt_code", "gemeente_code"]], on="edition")
        have = pd.concat([model[["period", "indicator_code", "area_code"]],
                          survey[["period", "indicator_code", "area_code"]]]).rename(
            columns={"period": "wave", "area_code": "buurt_code"}).drop_duplicates()
        flag = empty.merge(have, on=["wave", "indicator_code", "buurt_code"], how="left",
                           indicator=True)["_merge"]
        empty = empty[(flag == "left_only").to_numpy()]
        placeholder = pd.DataFrame({
            "indicator_code": empty["indicator_code"], "period": empty["wave"],
            "edition": empty["edition"], "gemeente_code": empty["gemeente_code"],
            "area_code": empty["buurt_code"], "is_city": False, "n": 0,
            "suppression_reason": "no respondents and no covariates",
            "city_value_source": "estimated from respondents", "load_ids": empty["load_ids"],
            "weighting_converged": pd.array([pd.NA] * len(empty), dtype="boolean"),
            "estimation_method": "fay_herriot", "mse": np.nan,
        })
        survey = pd.concat([survey, model, placeholder], ignore_index=True)
    registry["weighting_converged"] = pd.array([pd.NA] * len(registry), dtype="boolean")
    activities["weighting_converged"] = pd.array([pd.NA] * len(activities), dtype="boolean")
    values = pd.concat([survey, registry, activities], ignore_index=True)

    # --- harmonised onto the current edition --------------------------------------------------------
    old_pop = area_population.groupby(["period", "area_code"], as_index=False)["population"].sum()
    c = values[~values["is_city"]].merge(ind[["indicator_code", "kind"]], on="indicator_code")
    c = c.merge(crosswalk.rename(columns={"from_edition": "edition", "from_area_code": "area_code"}),
                on=["edition", "area_code"])
    c = c.merge(old_pop.rename(columns={"population": "old_population"}), on=["period", "area_code"], how="left")
    c["mass"] = c["share"] * c["old_population"].fillna(1)
    by = c.groupby(["indicator_code", "period", "to_area_code"])
    mass_sum = by["mass"].transform("sum")
    # old areas without inhabitants: weighted by their shares, not 0/0 (as dbt, issue 21)
    c["a"] = np.where(mass_sum > 0, c["mass"] / mass_sum.where(mass_sum > 0, 1.0),
                      c["share"] / by["share"].transform("sum"))
    c["amse"] = c["a"] ** 2 * c["mse"]
    c["is_model"] = c["estimation_method"] == "fay_herriot"
    c["sn"] = c["share"] * c["numerator"]
    c["sd"] = c["share"] * c["denominator"]
    c["sv"] = c["share"] * c["value"]
    c["av"] = c["a"] * c["value"]
    c["swn"] = c["share"] * c["weighted_n"]
    c["ase2"] = c["a"] ** 2 * c["se"] ** 2
    c["ac"] = c["a"] * c["contrast"]
    c["acse2"] = c["a"] ** 2 * c["contrast_se"] ** 2
    c["is_identity"] = c["method"] == "identity"
    keys = ["indicator_code", "period", "to_area_code"]
    g = c.groupby(keys, sort=False)
    h = g[["sn", "sd", "sv", "av", "n", "swn", "ase2", "ac", "acse2", "amse"]].sum(min_count=1).rename(
        columns={"sn": "numerator", "sd": "denominator", "swn": "weighted_n", "ac": "contrast"})
    h = h.join(g[["gemeente_code", "kind", "city_value_source"]].first())
    h = h.join(g.agg(any_model=("is_model", "any"), min_method=("estimation_method", "min")))
    h["estimation_method"] = h.pop("min_method").where(~h.pop("any_model"), "fay_herriot")
    h["mse"] = h.pop("amse")
    h = h.join(g.agg(n_rows=("kind", "size"), n_suppressed=("suppression_reason", "count"),
                     min_reason=("suppression_reason", "min"), is_native=("is_identity", "all"),
                     n_methods=("method", "nunique"), harmonisation_method=("method", "first")))
    mixed = h["n_methods"] > 1
    if mixed.any():  # string_agg(distinct method, '; ')
        methods = c.merge(h[mixed].reset_index()[keys], on=keys).groupby(keys)["method"].agg(
            lambda m: "; ".join(sorted(set(m))))
        h.loc[methods.index, "harmonisation_method"] = methods
    h["weighting_converged"] = bool_and(c["weighting_converged"], [c[k] for k in keys])
    h["load_ids"] = group_lists(c, keys, "load_ids")
    h["load_ids"] = [x if isinstance(x, list) else [] for x in h["load_ids"]]
    h = h.drop(columns="n_methods").reset_index()
    h = h.rename(columns={"to_area_code": "area_code"})
    h["value"] = np.where(h["kind"] == "registry_count", h["sv"], h["av"])
    h["se"] = np.sqrt(h["ase2"])
    h["contrast_se"] = np.sqrt(h["acse2"])
    h["suppression_reason"] = np.select(
        [(h["n_suppressed"] > 0) & (h["n_rows"] == 1), h["n_suppressed"] > 0],
        [h["min_reason"], "derived from suppressed: " + h["min_reason"].astype(str)], None)
    h["ci_low"] = h["value"] - Z95 * h["se"]
    h["ci_high"] = h["value"] + Z95 * h["se"]
    # a survey share: the logit interval (R's svyciprop(method = "logit"), issue 19)
    p, se = h["value"].to_numpy(float), h["se"].to_numpy(float)
    is_share = (h["kind"] == "survey_share").to_numpy()
    inside = is_share & (p > 0) & (p < 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # model shares near 0
        eta, half = np.log(p / (1 - p)), Z95 * se / (p * (1 - p))
        h["ci_low"] = np.where(inside, 1 / (1 + np.exp(-(eta - half))), np.where(is_share, p + 0 * se, h["ci_low"]))
        h["ci_high"] = np.where(inside, 1 / (1 + np.exp(-(eta + half))), np.where(is_share, p + 0 * se, h["ci_high"]))
    model = (h["estimation_method"] == "fay_herriot").to_numpy()
    lo, hi = p - Z95 * se, p + Z95 * se
    h["ci_low"] = np.where(model, np.where(is_share, np.maximum(0.0, lo), lo), h["ci_low"])
    h["ci_high"] = np.where(model, np.where(is_share, np.minimum(1.0, hi), hi), h["ci_high"])
    h["significant"] = pd.Series(np.abs(h["contrast"]) / h["contrast_se"] > Z95, dtype="boolean").where(
        h["contrast_se"] > 0)
    # a count apportioned onto the new division below 5: suppressed (as dbt)
    counted = h["kind"].isin(["registry_share", "registry_rate", "activity_rate", "activity_share"])
    small = (counted & (h["numerator"] < 5)) | ((h["kind"] == "registry_count") & (h["value"] < 5))
    h["suppression_reason"] = h["suppression_reason"].where(
        h["suppression_reason"].notna() | ~small, "count below 5 after harmonisation")
    h = h.assign(edition=current, is_city=False).drop(
        columns=["sv", "av", "kind", "ase2", "acse2", "n_rows", "n_suppressed", "min_reason"])
    cities = values[values["is_city"]].assign(edition=current, is_native=True, harmonisation_method="identity")
    old = values[values["edition"] != current].assign(is_native=True)
    old["harmonisation_method"] = "as published on edition " + old["edition"].astype(int).astype(str)
    combined = pd.concat([h, cities, old], ignore_index=True)
    combined = combined[combined["period"] <= edition]

    shown = combined["suppression_reason"].isna()

    def pub(col):
        return pd.Series(sql_round(combined[col].where(shown).astype(float), 6), index=combined.index)

    fct = pd.DataFrame({
        "area_edition": combined["edition"].astype("int32"), "gemeente_code": combined["gemeente_code"],
        "area_code": combined["area_code"], "is_city": combined["is_city"].astype(bool),
        "period": combined["period"].astype("int32"), "indicator_code": combined["indicator_code"],
        "value": pub("value"), "numerator": pub("numerator"), "denominator": pub("denominator"),
        "n_unweighted": combined["n"].where(shown).astype("Int64"), "n_weighted": pub("weighted_n"),
        "standard_error": pub("se"), "ci_low": pub("ci_low"), "ci_high": pub("ci_high"),
        "contrast_with_city": pub("contrast"), "contrast_se": pub("contrast_se"),
        "significant": combined["significant"].astype("boolean").where(shown),
        "suppressed": ~shown, "suppression_reason": combined["suppression_reason"],
        "city_value_source": combined["city_value_source"], "is_harmonised": ~combined["is_native"].astype(bool),
        "harmonisation_method": combined["harmonisation_method"], "load_ids": combined["load_ids"],
        "weighting_converged": combined["weighting_converged"].astype("boolean"),
        "estimation_method": combined["estimation_method"],
        "mse": pd.Series(sql_round(combined["mse"].where(shown).astype(float), 12), index=combined.index),
        "cv": pd.Series(sql_round((np.sqrt(combined["mse"].astype(float)) / combined["value"].astype(float).abs())
                                  .where(shown & (combined["value"] != 0)), 6), index=combined.index),
    }).reset_index(drop=True)

    # --- the compasses ----------------------------------------------------------------------------
    # counts and surfaces are descriptive (dbt macro is_additive_total): not in the status compass,
    # and their change in the development compass is relative
    additive = set(ind.loc[(ind["kind"] == "registry_count") | (ind["unit"] == "ha"), "indicator_code"])
    dim = ind[["indicator_code", "source_kind", "polarity", "theme_code", "weight"]].merge(
        d["themes"][["theme_code", "quadrant_code"]], on="theme_code").merge(
        d["quadrants"][["quadrant_code", "is_judged"]], on="quadrant_code")
    dim["theme_weight"] = dim.pop("weight").fillna(1.0).astype(float)
    dim["is_judged_node"] = dim["is_judged"].astype(bool) & (dim["polarity"] != 0)
    facts = fct[fct["area_edition"] == current]
    cur = facts[facts["period"] == edition]
    scale, lo, hi = float(v["index_scale"]), float(v["index_min"]), float(v["index_max"])

    def index(frame, x, ref):
        both = frame[x].notna() & frame[ref].notna()
        dev = (frame[x] - frame[ref]).abs()
        s = frame[both].assign(u=exact_units(dev[both])).groupby(["gemeente_code", "indicator_code"]).agg(
            u=("u", "sum"), k=("u", "count"))
        s["spread"] = (s["u"].astype(float) / 1e12) / s["k"]
        spread = frame[["gemeente_code", "indicator_code"]].merge(
            s["spread"].reset_index(), on=["gemeente_code", "indicator_code"], how="left")["spread"].to_numpy()
        pol = np.where(frame["polarity"] == 0, 1, frame["polarity"])
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = 100 + scale * pol * (frame[x] - frame[ref]).to_numpy() / spread
        idx = sql_round(np.minimum(np.maximum(raw, lo), hi), 1)
        idx = np.where(np.nan_to_num(spread, nan=0.0) == 0, 100.0, idx)
        return np.where(both, idx, np.nan)

    status = cur[~cur["is_city"] & ~cur["indicator_code"].isin(additive)].merge(dim, on="indicator_code").merge(
        cur[cur["is_city"]][["gemeente_code", "indicator_code", "value", "weighting_converged"]].rename(
            columns={"value": "city_value", "weighting_converged": "city_wc"}),
        on=["gemeente_code", "indicator_code"], how="left")
    status["weighting_converged"] = converged_and(status["weighting_converged"], status["city_wc"])
    status["idx"] = index(status, "value", "city_value")

    base = facts[facts["period"] == base_period]
    paired = cur.merge(base[["area_code", "indicator_code", "value", "contrast_with_city", "contrast_se",
                             "suppression_reason", "weighting_converged"]], on=["area_code", "indicator_code"],
                       how="left", suffixes=("", "_base"))
    paired["weighting_converged"] = converged_and(paired["weighting_converged"],
                                                  paired["weighting_converged_base"])
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = 100 * (paired["value"] / paired["value_base"].where(paired["value_base"] != 0) - 1)
    paired["change"] = np.where(paired["indicator_code"].isin(additive), relative,
                                paired["value"] - paired["value_base"])
    paired["contrast_change"] = paired["contrast_with_city"] - paired["contrast_with_city_base"]
    paired["contrast_change_se"] = np.sqrt(paired["contrast_se"] ** 2 + paired["contrast_se_base"] ** 2)
    paired["suppression_reason"] = paired["suppression_reason"].fillna(paired["suppression_reason_base"]).fillna(
        pd.Series(np.where(paired["value_base"].isna(), f"no value in base period {base_period}", None),
                  index=paired.index))
    dev = paired[~paired["is_city"]].merge(dim, on="indicator_code").merge(
        paired[paired["is_city"]][["gemeente_code", "indicator_code", "change", "weighting_converged"]].rename(
            columns={"change": "city_change", "weighting_converged": "city_wc"}),
        on=["gemeente_code", "indicator_code"], how="left")
    dev["weighting_converged"] = converged_and(dev["weighting_converged"], dev["city_wc"])
    dev["significant"] = pd.Series(
        np.abs(dev["contrast_change"]) / dev["contrast_change_se"] > Z95, dtype="boolean").where(
        (dev["source_kind"] == "survey") & (dev["contrast_change_se"] > 0))
    dev["idx"] = np.where(dev["suppression_reason"].isna(), index(dev, "change", "city_change"), np.nan)

    share = float(v["min_children_share"])
    themes_w = d["themes"].set_index("theme_code")["weight"].astype(float)
    in_centre = set(d["quadrants"].loc[d["quadrants"]["in_centre"].astype(bool), "quadrant_code"])

    def classify(idx, judged):
        idx = pd.Series(idx, dtype=float)
        judged = pd.Series(judged).astype(bool).to_numpy()
        out = np.select(
            [idx.isna().to_numpy(),
             ~judged & (idx < v["worse_below"]), ~judged & (idx > v["better_above"]), ~judged,
             idx < v["much_worse_below"], idx < v["worse_below"], idx <= v["better_above"],
             idx <= v["much_better_above"]],
            [None, "minder", "meer", "gemiddeld", "veel slechter", "slechter", "gemiddeld", "beter"], "veel beter")
        return np.where(idx.isna(), None, out)

    def rings(ring: pd.DataFrame) -> pd.DataFrame:
        r = ring.assign(
            shown_idx=ring["idx"].notna(), j=ring["is_judged_node"],
            u_all=exact_units((ring["idx"] * ring["theme_weight"]).where(ring["idx"].notna())),
            w_all=exact_units(ring["theme_weight"].where(ring["idx"].notna())))
        r["sj"] = r["shown_idx"] & r["j"]
        r["u_j"] = r["u_all"].where(r["j"])
        r["w_j"] = r["w_all"].where(r["j"])
        t = r.groupby(["gemeente_code", "area_code", "theme_code"], as_index=False).agg(
            quadrant_code=("quadrant_code", "first"), is_judged=("j", "any"), n_all=("j", "size"),
            n_j=("j", "sum"), shown_all=("shown_idx", "sum"),
            shown_j=("sj", "sum"),
            u_all=("u_all", "sum"), w_all=("w_all", "sum"), u_j=("u_j", "sum"), w_j=("w_j", "sum"))
        t["n_children"] = np.where(t["is_judged"], t["n_j"], t["n_all"])
        t["n_children_shown"] = np.where(t["is_judged"], t["shown_j"], t["shown_all"])
        u = np.where(t["is_judged"], t["u_j"], t["u_all"]).astype(float)
        w = np.where(t["is_judged"], t["w_j"], t["w_all"]).astype(float)
        t["raw_idx"] = (u / 1e12) / np.where(w != 0, w / 1e12, np.nan)
        t["u_exact"] = np.where(t["is_judged"], t["u_j"], t["u_all"])
        t["w_exact"] = np.where(t["is_judged"], t["w_j"], t["w_all"])
        shown_flags = ring["weighting_converged"].astype("boolean").where(ring["idx"].notna())
        t["weighting_converged"] = bool_and(
            shown_flags, [ring["gemeente_code"], ring["area_code"], ring["theme_code"]]).reindex(
            pd.MultiIndex.from_frame(t[["gemeente_code", "area_code", "theme_code"]])).to_numpy()
        t = t.rename(columns={"theme_code": "node_code"})
        t["parent_node_code"] = t["quadrant_code"]
        t["ok"] = t["n_children_shown"] >= share * t["n_children"]
        tw = t["node_code"].map(themes_w)
        t["u"] = exact_units((t["raw_idx"] * tw).where(t["ok"]))
        t["w"] = exact_units(tw.where(t["ok"] & t["raw_idx"].notna()))
        t["ok_shown"] = t["ok"] & t["raw_idx"].notna()
        q = t.groupby(["gemeente_code", "area_code", "quadrant_code"], as_index=False).agg(
            is_judged=("is_judged", "any"), n_children=("ok", "size"), n_children_shown=("ok_shown", "sum"),
            u=("u", "sum"), w=("w", "sum"))
        q["raw_idx"] = (q["u"].astype(float) / 1e12) / np.where(q["w"] != 0, q["w"].astype(float) / 1e12, np.nan)
        q["u_exact"], q["w_exact"] = q["u"], q["w"]
        q["weighting_converged"] = bool_and(
            t["weighting_converged"], [t["gemeente_code"], t["area_code"], t["quadrant_code"]]).reindex(
            pd.MultiIndex.from_frame(q[["gemeente_code", "area_code", "quadrant_code"]])).to_numpy()
        q["node_code"] = q["quadrant_code"]
        q["parent_node_code"] = "centrum"
        q["ok"] = q["n_children_shown"] >= share * q["n_children"]
        qc = q[q["node_code"].isin(in_centre)].copy()
        qc["u"] = exact_units(qc["raw_idx"].where(qc["ok"]))
        qc["k"] = qc["raw_idx"].where(qc["ok"]).notna()
        qc["ok_shown"] = qc["ok"] & qc["raw_idx"].notna()
        c = qc.groupby(["gemeente_code", "area_code"], as_index=False).agg(
            n_children=("ok", "size"), n_children_shown=("ok_shown", "sum"), u=("u", "sum"), k=("k", "sum"))
        c["raw_idx"] = (c["u"].astype(float) / 1e12) / np.where(c["k"] != 0, c["k"], np.nan)
        c["u_exact"], c["w_exact"] = c["u"], c["k"].astype("Int64") * 10**12
        c["weighting_converged"] = bool_and(
            qc["weighting_converged"], [qc["gemeente_code"], qc["area_code"]]).reindex(
            pd.MultiIndex.from_frame(c[["gemeente_code", "area_code"]])).to_numpy()
        c = c.assign(node_code="centrum", quadrant_code=None, parent_node_code=None, is_judged=True)
        out = pd.concat([t.assign(node_level="theme"), q.assign(node_level="quadrant"),
                         c.assign(node_level="centre")], ignore_index=True)
        ok = out["n_children_shown"] >= share * out["n_children"]
        out["shown"] = ok & out["raw_idx"].notna()
        out["idx"] = np.where(ok, round_ratio(out["u_exact"], out["w_exact"]), np.nan)
        out["class"] = classify(out["idx"], out["is_judged"])
        out["suppressed"] = ~out["shown"]
        out["suppression_reason"] = np.where(
            out["shown"], None, "too few parts shown (" + out["n_children_shown"].astype(int).astype(str) + " of "
            + out["n_children"].astype(int).astype(str) + ")")
        return out

    def indicator_class(frame):
        cls = classify(frame["idx"], frame["is_judged_node"])
        damped = ((frame["source_kind"] == "survey") & frame["is_judged_node"]
                  & ~frame["significant"].fillna(False).astype(bool)).to_numpy()
        return np.where(frame["idx"].isna(), None, np.where(damped, "gemiddeld", cls))

    labels = pd.concat([
        pd.DataFrame({"node_level": "indicator", "node_code": ind["indicator_code"], "node_label_nl": ind["label_nl"]}),
        pd.DataFrame({"node_level": "theme", "node_code": d["themes"]["theme_code"],
                      "node_label_nl": d["themes"]["label_nl"]}),
        pd.DataFrame({"node_level": "quadrant", "node_code": d["quadrants"]["quadrant_code"],
                      "node_label_nl": d["quadrants"]["label_nl"]}),
        pd.DataFrame({"node_level": ["centre"], "node_code": ["centrum"], "node_label_nl": ["Centrum"]}),
    ], ignore_index=True)

    def labelled(mart: pd.DataFrame) -> pd.DataFrame:
        mart = mart.merge(labels, on=["node_level", "node_code"], how="left")
        mart["node_key"] = mart["node_level"] + ":" + mart["node_code"]
        return mart

    s_comp = rings(status)
    status_mart = pd.concat([
        pd.DataFrame({
            "edition": edition, "area_edition": status["area_edition"], "gemeente_code": status["gemeente_code"],
            "area_code": status["area_code"], "node_level": "indicator", "node_code": status["indicator_code"],
            "parent_node_code": status["theme_code"], "quadrant_code": status["quadrant_code"],
            "is_judged": status["is_judged_node"], "value": status["value"].where(status["idx"].notna()),
            "city_value": status["city_value"],
            "index_value": status["idx"], "class": indicator_class(status), "significant": status["significant"],
            "suppressed": status["suppressed"] | status["idx"].isna(),
            "suppression_reason": status["suppression_reason"].fillna(pd.Series(
                np.where(status["city_value"].isna(), "no city value", None), index=status.index)),
            "n_unweighted": status["n_unweighted"], "standard_error": status["standard_error"],
            "ci_low": status["ci_low"].where(status["idx"].notna()),
            "ci_high": status["ci_high"].where(status["idx"].notna()), "n_children": None, "n_children_shown": None,
            "weighting_converged": status["weighting_converged"],
            "estimation_method": status["estimation_method"]}),
        pd.DataFrame({
            "edition": edition, "area_edition": current, "gemeente_code": s_comp["gemeente_code"],
            "area_code": s_comp["area_code"], "node_level": s_comp["node_level"], "node_code": s_comp["node_code"],
            "parent_node_code": s_comp["parent_node_code"], "quadrant_code": s_comp["quadrant_code"],
            "is_judged": s_comp["is_judged"], "value": np.nan, "city_value": np.nan, "index_value": s_comp["idx"],
            "class": s_comp["class"], "significant": None, "suppressed": s_comp["suppressed"],
            "suppression_reason": s_comp["suppression_reason"], "n_unweighted": None, "standard_error": np.nan,
            "ci_low": np.nan, "ci_high": np.nan, "n_children": s_comp["n_children"],
            "n_children_shown": s_comp["n_children_shown"], "weighting_converged": s_comp["weighting_converged"],
            "estimation_method": None}),
    ], ignore_index=True)
    status_mart = labelled(status_mart)

    d_comp = rings(dev)
    development_mart = pd.concat([
        pd.DataFrame({
            "edition": edition, "base_period": base_period, "current_period": edition,
            "area_edition": dev["area_edition"],
            "gemeente_code": dev["gemeente_code"], "area_code": dev["area_code"], "node_level": "indicator",
            "node_code": dev["indicator_code"], "parent_node_code": dev["theme_code"],
            "quadrant_code": dev["quadrant_code"], "is_judged": dev["is_judged_node"],
            "base_value": dev["value_base"], "current_value": dev["value"], "change": dev["change"],
            "city_change": dev["city_change"], "index_value": dev["idx"], "class": indicator_class(dev),
            "significant": dev["significant"], "suppressed": dev["idx"].isna(),
            "suppression_reason": dev["suppression_reason"].fillna(pd.Series(
                np.where(dev["idx"].isna(), "no city change", None), index=dev.index)),
            "n_children": None, "n_children_shown": None, "weighting_converged": dev["weighting_converged"]}),
        pd.DataFrame({
            "edition": edition, "base_period": base_period, "current_period": edition,
            "area_edition": current,
            "gemeente_code": d_comp["gemeente_code"], "area_code": d_comp["area_code"],
            "node_level": d_comp["node_level"], "node_code": d_comp["node_code"],
            "parent_node_code": d_comp["parent_node_code"], "quadrant_code": d_comp["quadrant_code"],
            "is_judged": d_comp["is_judged"], "base_value": np.nan, "current_value": np.nan, "change": np.nan,
            "city_change": np.nan, "index_value": d_comp["idx"], "class": d_comp["class"], "significant": None,
            "suppressed": d_comp["suppressed"], "suppression_reason": d_comp["suppression_reason"],
            "n_children": d_comp["n_children"], "n_children_shown": d_comp["n_children_shown"],
            "weighting_converged": d_comp["weighting_converged"]}),
    ], ignore_index=True)
    development_mart = labelled(development_mart)
    return {"fct_indicator_value": fct, "mart_compass_status": status_mart,
            "mart_compass_development": development_mart}


def run(warehouse: Path, *, edition: int | None = None, base_period: int | None = None):
    """Read the inputs and compute the marts; returns (marts, seconds) with reading included."""
    import duckdb

    sys.path.insert(0, str(Path(__file__).resolve().parent / "handwritten"))
    from run_marts import dbt_vars

    values = dbt_vars(edition=edition, base_period=base_period)
    start = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        inputs = read_inputs(con)
    marts = compute(inputs, values)
    return marts, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--edition", "--current-period", type=int)
    parser.add_argument("--base-period", type=int)
    parser.add_argument("--out", type=Path, help="write the marts as Parquet files into this folder")
    args = parser.parse_args(argv)
    marts, seconds = run(args.warehouse, edition=args.edition, base_period=args.base_period)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, frame in marts.items():
            frame.to_parquet(args.out / f"{name}.parquet")
    print(f"pandas marts: {seconds:.2f}s ({', '.join(f'{k} {len(v):,}' for k, v in marts.items())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
