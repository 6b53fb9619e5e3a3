"""Notes as they arrive from corporation systems, and the keys that stand in for a household.

Pure code: the HMAC secret is passed in, nothing is read from the environment here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Address:
    postcode: str
    house_number: int
    suffix: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Address:
        return cls(
            postcode=str(data["postcode"]),
            house_number=int(data["house_number"]),  # type: ignore[call-overload]
            suffix=str(data.get("suffix") or ""),
        )

    def normalised(self) -> str:
        """'1234 ab', 12, '-A ' -> '1234AB|12|A': one household, however it was typed."""
        postcode = _SPACES.sub("", self.postcode).upper()
        suffix = re.sub(r"[\s-]+", "", self.suffix).upper()
        return f"{postcode}|{self.house_number}|{suffix}"

    @property
    def postcode_area(self) -> str:
        """The 4-digit postcode area (PC4): coarse enough for area signals."""
        return _SPACES.sub("", self.postcode)[:4]


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256, truncated to 128 bits, domain-separated by purpose."""
    digest = hmac.new(secret.encode(), f"{purpose}\x1f{value}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def subject_key(secret: str, address: Address) -> str:
    """The household key: the same address always maps to the same key, and back to nothing."""
    return keyed_hash(secret, "household", address.normalised())


def area_key(secret: str, municipality_code: str, postcode_area: str) -> str:
    return keyed_hash(secret, "area", f"{municipality_code}|{postcode_area}")


@dataclass(frozen=True, slots=True)
class IncomingNote:
    """A validated note, before it is stored."""

    tenant: str
    external_id: str
    occurred_at: datetime
    text: str
    author_role: str
    address: Address
    municipality_code: str
    category: str | None
    source: str  # "http" | "kafka"
