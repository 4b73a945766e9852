"""Files datagen reads at run time, found through ``importlib.resources`` so that an installed
wheel works outside the repository exactly as the checkout does."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "schemas"


def data_file(*parts: str) -> Path:
    """A file shipped in the ``schemas`` package, e.g. ``data_file("examples", "shop.yaml")``.

    The package is always installed as plain files (never zipped), so this is a real path."""
    return Path(str(resources.files(PACKAGE).joinpath(*parts)))


def example_schemas() -> dict[str, Path]:
    """The example schemas shipped with datagen, by name."""
    folder = data_file("examples")
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}
