"""Deterministic, seeded demo municipality: writes an inbox as docs/SOURCES.md describes.

from basismonitor.demo import DemoScale, generate
manifest = generate(Path("inbox"), scale=DemoScale.small(), seed=2024)
"""

from .generator import MANIFEST_NAME, GeneratedManifest, generate
from .io import GeneratedFile
from .scale import DemoScale

__all__ = ["MANIFEST_NAME", "DemoScale", "GeneratedFile", "GeneratedManifest", "generate"]
