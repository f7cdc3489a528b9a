"""A scenario definition that cannot be right fails when it is constructed (at import)."""

from __future__ import annotations

import pytest

from pagerace.engine.program import Program
from pagerace.scenarios.base import Param, Scenario, ScenarioDefinitionError
from pagerace.scenarios.catalog import available, load_scenario


def _build(params: object) -> Program:
    raise AssertionError("never built")


def test_default_outside_choices() -> None:
    with pytest.raises(ScenarioDefinitionError, match="default 'G9' is not one of"):
        Param("gen", "G9", ("G0", "G1"))


def test_repeated_choice_and_matrix_axis_without_choices() -> None:
    with pytest.raises(ScenarioDefinitionError, match="repeats"):
        Param("gen", "G0", ("G0", "G0"))
    with pytest.raises(ScenarioDefinitionError, match="needs its choices"):
        Param("n", "1", None, matrix=True)
    Param("n", "1", None)  # a free-form parameter is fine


def test_duplicate_parameter_name() -> None:
    with pytest.raises(ScenarioDefinitionError, match="arch is declared twice"):
        Scenario("s", "t", _build, params=(Param("arch", "x86", ("x86",)),
                                           Param("arch", "llsc", ("llsc",))))


def test_matrix_rows_must_be_a_matrix_parameter() -> None:
    params = (Param("gen", "G0", ("G0", "G1"), matrix=True),
              Param("arch", "x86", ("x86", "llsc")))
    with pytest.raises(ScenarioDefinitionError, match="matrix_rows='arch' is not a matrix"):
        Scenario("s", "t", _build, params=params, matrix_rows="arch")
    with pytest.raises(ScenarioDefinitionError, match="matrix_rows='nope'"):
        Scenario("s", "t", _build, params=params, matrix_rows="nope")
    assert Scenario("s", "t", _build, params=params, matrix_rows="gen").matrix_rows == "gen"


def test_a_bad_scenario_file_fails_at_import_with_one_line(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "bad.py"
    path.write_text("from pagerace.scenarios.base import Param\n"
                    "P = Param('gen', 'G9', ('G0',))\n")
    with pytest.raises(ValueError, match="failed to import: ScenarioDefinitionError"):
        load_scenario(str(path))


def test_the_catalog_is_well_formed() -> None:
    assert available()
    for name in available():
        load_scenario(name)
