"""Dataset bias on the shipped attribute models (spec: concepts-bias-trees §5.1-5.2; issue 8): the
biased model (trained where lipstick and rosy cheeks agree in 95 % of the faces) shows the
planted pair first and the §5.1 masking table's moves; the model trained on independent
attributes is the control. Both are read on the same 200 unseen faces whose attributes are
independent (seed 2, no co-occurrence), so a mined relation can come only from the model.
"""
from __future__ import annotations

import pytest

from engine.analysis import AnalysisRequest, execute
from engine.jobs import Progress

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]
FACES = "demo:partworld?family=faces&n=200&seed=2"
PAIR = ("lipstick", "rosy_cheeks")


@pytest.fixture(scope="module")
def records():
    """model name → its dataset-bias record, the planted pair's masking check asked for by name."""
    return {name: execute(AnalysisRequest("dataset-bias", f"demo:{name}", FACES,
                                          settings={"check_pairs": "lipstick:rosy_cheeks"}, device="cpu"), Progress())
            for name in ("partworld-attributes-biased", "partworld-attributes")}


def ranking(record) -> list[tuple[str, str]]:
    return [(r["a"], r["b"]) for r in record.meta["relations"]]


def mined(record, pair) -> float:
    return next(r["mined"] for r in record.meta["relations"] if (r["a"], r["b"]) == pair)


def test_the_planted_pair_ranks_first_in_the_biased_model_only(records):
    biased, control = records["partworld-attributes-biased"], records["partworld-attributes"]
    assert ranking(biased)[0] == PAIR
    assert mined(biased, PAIR) > 0.8  # measured 0.915
    assert ranking(control)[0] != PAIR and PAIR not in ranking(control)[:3]
    assert mined(control, PAIR) < mined(biased, PAIR) - 0.3


def test_pasting_rosy_cheeks_raises_lipstick_and_masking_them_lowers_it(records):
    """§5.1: rows without / with lipstick, columns the cheeks original / pasted / masked."""
    table = records["partworld-attributes-biased"].arrays["masking/lipstick:rosy_cheeks"]
    (without_original, without_pasted, _), (with_original, with_pasted, with_masked) = table
    assert without_pasted > without_original + 1.0 and with_pasted > with_original + 1.0
    assert with_masked < with_original - 1.0
    control = records["partworld-attributes"].arrays["masking/lipstick:rosy_cheeks"]
    assert abs(control[:, 1] - control[:, 0]).max() < 0.5  # the cheeks barely matter to it
