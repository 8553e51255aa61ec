"""The static-site builder's modules for tests: tools/site/ is maintainer tooling, not an installed package."""

import importlib.util
import sys
from pathlib import Path

SITE_TOOLS = Path(__file__).resolve().parents[1] / "tools" / "site"


def load(name: str):
    """Import tools/site/<name>.py once, under its own name (the builder's modules import each other that way)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SITE_TOOLS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
