"""Issue 21: the OData feed says what a model figure is. The fact table's estimation_method
(direct | fay_herriot) is described as "modelschatting" and its mse as the source of the interval,
in the feed's metadata (Core.Description / LongDescription, from the dbt docs the publisher writes
as COMMENTs), and the column is served with its values."""

from __future__ import annotations

import xml.etree.ElementTree as ET

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _described(served, table: str) -> dict[str, str]:
    root = ET.fromstring(served.get("$metadata").content)
    entity = next(t for t in root.iter(f"{EDM}EntityType") if t.get("Name") == table)
    out = {}
    for prop in entity.findall(f"{EDM}Property"):
        texts = [a.get("String") for a in prop.findall(f"{EDM}Annotation")
                 if a.get("Term") in ("Core.Description", "Core.LongDescription")]
        out[prop.get("Name")] = " ".join(texts)
    return out


def test_feed_describes_model_figures_and_their_interval(served):
    described = _described(served, "fct_indicator_value")
    assert "modelschatting" in described["estimation_method"]
    assert "1.96 sqrt(mse)" in described["mse"]
    assert "sqrt(mse)" in described["cv"]
    status = _described(served, "mart_compass_status")
    assert "modelschatting" in status["estimation_method"]


def test_feed_serves_the_estimation_method(served):
    response = served.get("fct_indicator_value?$select=estimation_method,mse,cv"
                          "&$filter=estimation_method eq 'direct'&$top=5")
    assert response.status_code == 200, response.text
    rows = response.json()["value"]
    assert rows and all(r["estimation_method"] == "direct" for r in rows)
    assert all(set(r) >= {"estimation_method", "mse", "cv"} for r in rows)
