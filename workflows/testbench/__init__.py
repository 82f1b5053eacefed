"""The test bench: run a procedure's model (a draft, or the shipped files) against its
scenarios in a sandbox, through the real engine, before it may be deployed.

- `scenarios`: the scenario files (workflows/scenarios/<procedure>/*.yaml), their fields
  and the relative dates (`today-80d+3m`) they may use;
- `world`: the one world of organisations and users, built in the sandbox and in the tests;
- `sandbox`: the in-memory database a scenario runs in, the world in it, what is deployed;
- `runner`: a scenario run start to end (start, the human steps), a model over its scenarios;
- `report`: a scenario's result, a model's report, the first difference from what is expected.
"""

from .report import Report, ScenarioResult
from .runner import run, run_shipped, run_variant
from .sandbox import placeholder_upload, sandbox
from .scenarios import (
    SCENARIO_DIR,
    Scenario,
    ScenarioError,
    _read,
    load,
    procedures_with_scenarios,
    resolve,
)

__all__ = [
    "SCENARIO_DIR",
    "Report",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "_read",
    "load",
    "placeholder_upload",
    "procedures_with_scenarios",
    "resolve",
    "run",
    "run_shipped",
    "run_variant",
    "sandbox",
]
