"""The scenario catalog, and loading a scenario file from outside it.

`load_scenario("hvo-speculative-walker")` finds a catalog scenario by name;
`load_scenario("path/to/my_scenario.py")` imports that file and takes its `SCENARIO`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path

from pagerace.scenarios.base import Scenario

# name -> module under pagerace.scenarios
CATALOG: dict[str, str] = {
    "hvo-speculative-walker": "hvo_speculative_walker",
    "hvo-restore-vs-walker": "hvo_restore_vs_walker",
    "virtio-mem-going-offline": "virtio_mem_going_offline",
    "hot-remove-vs-walker": "hot_remove_vs_walker",
    "hvo-memory-failure": "hvo_memory_failure",
}


class ScenarioNotFound(ValueError):
    pass


def available() -> list[str]:
    """Names of the catalog scenarios whose module is present."""
    out = []
    for name, mod in CATALOG.items():
        if importlib.util.find_spec(f"pagerace.scenarios.{mod}") is not None:
            out.append(name)
    return out


def _from_file(path: Path) -> Scenario:
    if not path.is_file():
        raise ScenarioNotFound(f"no scenario file {str(path)!r}")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    mod_name = f"pagerace_user_scenario_{digest}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ScenarioNotFound(f"cannot import scenario file {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise ScenarioNotFound(
            f"scenario file {str(path)!r} failed to import: {type(e).__name__}: {e}") from None
    scenario = getattr(module, "SCENARIO", None)
    if not isinstance(scenario, Scenario):
        raise ScenarioNotFound(f"scenario file {str(path)!r} defines no SCENARIO = Scenario(...)")
    return scenario


def load_scenario(name_or_path: str) -> Scenario:
    """A catalog scenario by name, or the `SCENARIO` of a .py file."""
    if name_or_path.endswith(".py") or "/" in name_or_path:
        return _from_file(Path(name_or_path))
    mod = CATALOG.get(name_or_path)
    if mod is None or importlib.util.find_spec(f"pagerace.scenarios.{mod}") is None:
        raise ScenarioNotFound(f"unknown scenario {name_or_path!r} "
                               f"(known: {', '.join(available()) or 'none'})")
    module = importlib.import_module(f"pagerace.scenarios.{mod}")
    scenario = module.SCENARIO
    assert isinstance(scenario, Scenario)
    return scenario
