"""Where the repository is: worked out from a file's location in one place, and every default folder hangs off it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # this file is kd/paths.py
