"""One benchmark measurement, as written to build/bench/<area>.json (see DESIGN.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Unit = Literal["s", "MB", "ms"]


@dataclass(frozen=True)
class Record:
    """Ours against a peer (another tool doing the same job), lower is better.

    `goal` is the ratio ours/peer the issue asks for, or an absolute bound in `unit` when
    there is no peer.
    """

    name: str
    unit: Unit
    ours: float
    peer_name: str | None = None
    peer: float | None = None
    goal: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.unit not in ("s", "MB", "ms"):
            raise ValueError(f"{self.name}: unit must be s, MB or ms, not {self.unit!r}")
        if (self.peer is None) != (self.peer_name is None):
            raise ValueError(f"{self.name}: give both peer_name and peer, or neither")

    @property
    def ratio(self) -> float | None:
        if self.peer is None or self.peer == 0:
            return None
        return self.ours / self.peer

    @property
    def met(self) -> bool | None:
        """Whether the goal is reached (None when there is no goal)."""
        if self.goal is None:
            return None
        measured = self.ratio if self.peer is not None else self.ours
        return measured is not None and measured <= self.goal

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "ours": self.ours,
            "peer_name": self.peer_name,
            "peer": self.peer,
            "ratio": self.ratio,
            "goal": self.goal,
            "params": dict(self.params),
        }
