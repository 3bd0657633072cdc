"""Session set-up shared by every test package."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def compiled_engines():
    """Compiles the engines over every model once (what install.sh's `evsim warmup` does; cached
    on disk), so that the suite does not compile an engine per combination of models."""
    from evsim.commands import warmup

    warmup.run(None)
