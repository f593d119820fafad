"""Helpers shared by every rules file: raw paths from the config, nothing else.

Functions here derive literal file lists from config values; they never hand the whole config
to a rule.
"""

from pathlib import Path

SYNTHETIC = bool(config["study"]["synthetic"])


def raw_files():
    """Every raw input file the config names (study sources and register extracts), sorted."""
    paths = set()
    for source in config["sources"].values():
        if "file" in source:
            paths.add(source["file"])
        paths.update(source.get("waves", {}).values())
    register = config["register"]
    paths.add(register["key"]["path"])
    for value in register["files"].values():
        paths.update(value if isinstance(value, list) else [value])
    return sorted(paths)


def synthetic_outputs():
    """What the rule `simulate` writes that the workflow uses, plus truth and marker."""
    if not SYNTHETIC:
        return []
    out = config["synthetic"]["out"].rstrip("/")
    files = [p for p in raw_files() if p.startswith(f"{out}/")]
    return files + [f"{out}/truth.json", f"{out}/MENTORWIJS_SYNTHETIC.txt"]


def codebooks():
    """The codebook files the config names."""
    return sorted({source["codebook"] for source in config["sources"].values()})
