"""Role-play training: scenarios, the scripted customer, and the scorecard.

- ``scenario``: the TOML scenario files, their validation (``file:line: problem``) and loading.
- ``engine``: the scripted customer: which turn the customer says next, given the transcript
  and the time.
- ``scoring``: the scorecard for a session, a transcript file or a real conversation.

Plain Python over plain values: no Textual, no database. The store keeps sessions
(``cs_tui.data.training_store``); the screens show them (``cs_tui.screens.roleplay``).
"""

from __future__ import annotations

from cs_tui.roleplay.engine import (
    Line,
    TurnState,
    customer_done,
    due_turn,
    lines_from_messages,
    said_turns,
    time_left,
    turn_states,
    waiting_since,
)
from cs_tui.roleplay.scenario import (
    CRITERIA,
    CRITERION_LABELS,
    DEFAULT_WEIGHTS,
    Persona,
    Problem,
    Scenario,
    ScenarioError,
    Turn,
    check_paths,
    find_scenario,
    load_scenarios,
    parse_scenario,
    read_scenario_file,
    shipped_scenarios,
)
from cs_tui.roleplay.scoring import (
    Evidence,
    Item,
    ResponseTime,
    Rubric,
    Scorecard,
    element_spans,
    has_element,
    render_markdown,
    score,
)

__all__ = [
    "CRITERIA",
    "CRITERION_LABELS",
    "DEFAULT_WEIGHTS",
    "Evidence",
    "Item",
    "Line",
    "Persona",
    "Problem",
    "ResponseTime",
    "Rubric",
    "Scenario",
    "ScenarioError",
    "Scorecard",
    "Turn",
    "TurnState",
    "check_paths",
    "customer_done",
    "due_turn",
    "element_spans",
    "find_scenario",
    "has_element",
    "lines_from_messages",
    "load_scenarios",
    "parse_scenario",
    "read_scenario_file",
    "render_markdown",
    "said_turns",
    "score",
    "shipped_scenarios",
    "time_left",
    "turn_states",
    "waiting_since",
]
