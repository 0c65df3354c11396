"""What a page is: the record every page gets (``Page``) and the list of pages (``PAGES``), each defined once.

``PAGES`` is the one list of the dashboard's pages: the sidebar links, the tests, the screenshots and the benchmarks
all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.render.style import ModelLook, model_looks
from core.storage.records import Run
from core.storage.store import Store
from core.tau import TAU_STEP
from ui.settings import Settings

TAU_DECIMALS = len(f"{TAU_STEP:g}".split(".")[1])  # 2 for the slider's 0.01


@dataclass(frozen=True)
class PageLink:
    """One page of the dashboard: its key (``ui.page(title, key)``), script, link path, sidebar label and icon."""

    key: str
    script: str
    path: str  # the page's URL path ("" for Home), from Streamlit's pages/ discovery
    label: str
    icon: str


PAGES = (
    PageLink("home", "app.py", "", "Home", ":material/home:"),
    PageLink("domains", "pages/1_concept_domains.py", "concept_domains", "Concept domains", ":material/hub:"),
    PageLink("alignment", "pages/2_alignment.py", "alignment", "Alignment", ":material/show_chart:"),
    PageLink("stability", "pages/3_stability.py", "stability", "Stability", ":material/balance:"),
    PageLink("explorer", "pages/4_concept_explorer.py", "concept_explorer", "Concept explorer", ":material/search:"),
    PageLink("extract", "pages/5_extract.py", "extract", "Extract", ":material/play_circle:"),
)
EXTRACT_PAGE = next(p.script for p in PAGES if p.key == "extract")


@dataclass(frozen=True)
class Page:
    """What every page gets: settings, the store (or None), its runs, the chosen run and τ (rounded to the slider's
    step once, here, so every cache key and comparison sees the same value). Built whole by ``ui.page``.

    ``ui.page`` leaves τ unset: only ``ui.tau_section`` gives a page its τ (``tau_value``), so that everything
    reading ``p.tau`` is drawn inside the section that reruns when τ moves and never goes stale (``p.tau`` outside
    it is an error). ``tau_slot`` is the sidebar place ``ui.page`` keeps for the τ slider.
    """

    key: str
    settings: Settings
    path: str
    stamp: tuple
    store: Store | None
    runs: list[Run]
    run: Run | None
    tau_value: float | None
    error: str | None = None
    tau_slot: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.tau_value is not None:
            object.__setattr__(self, "tau_value", round(float(self.tau_value), TAU_DECIMALS))

    @property
    def tau(self) -> float:
        """The expert threshold this section is drawn at (only inside ``ui.tau_section``)."""
        if self.tau_value is None:
            raise RuntimeError("p.tau read outside ui.tau_section: draw what depends on τ inside it")
        return self.tau_value

    @property
    def ready(self) -> bool:
        return self.run is not None

    @property
    def run_id(self) -> str:
        assert self.run is not None, "no run chosen (check Page.ready first)"
        return self.run.run_id

    @property
    def looks(self) -> dict[str, ModelLook]:
        """Display name, size and colour of every model of the store (the same on every page)."""
        return model_looks((r.model, r.n_params) for r in self.runs)

    @property
    def named(self) -> str:
        """The chosen run as every section names it: display name, revision and short id."""
        if self.run is None:
            return "no run"
        look = self.looks.get(self.run.model)
        return f"{look.name if look else self.run.model} @ {self.run.rev} (run `{self.run.run_id[:8]}`)"
