"""Which ADV region serves which municipality (config/regions.yaml). Many municipalities, one ADV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    municipalities: frozenset[str]


@dataclass(frozen=True)
class RegionMap:
    regions: dict[str, Region]

    def region_of(self, municipality_code: str) -> str:
        for region in self.regions.values():
            if municipality_code in region.municipalities:
                return region.code
        return UNROUTED

    @classmethod
    def from_dict(cls, data: dict) -> RegionMap:  # type: ignore[type-arg]
        regions: dict[str, Region] = {}
        seen: dict[str, str] = {}
        for code, spec in (data.get("regions") or {}).items():
            municipalities = frozenset(spec.get("municipalities") or [])
            for m in municipalities:
                if m in seen:
                    raise ValueError(f"municipality {m} is in two regions: {seen[m]} and {code}")
                seen[m] = code
            regions[code] = Region(code, spec.get("name", code), municipalities)
        return cls(regions)

    @classmethod
    def load(cls, path: Path) -> RegionMap:
        return cls.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


# Cases from municipalities not in the map land here, visible to admins, so nothing is lost.
UNROUTED = "niet-gerouteerd"
