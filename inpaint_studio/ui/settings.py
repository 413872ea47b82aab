"""Persistent preferences: a QSettings ini file in `user_config_dir()` (tests redirect it by env var)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings

from inpaint_studio.core.paths import user_config_dir

DEFAULTS: dict[str, Any] = {
    "device": "auto",
    "hd_strategy": "auto",
    "hd_resize_limit": 1024,
    "brush_size": 40,
    "brush_hardness": 1.0,
    "edge_width": 1,
    "jpeg_quality": 92,
    "model": "",  # empty until the user picks one: the best measured method (engine/defaults.py)
    "model_checkpoint": "",  # the picked checkpoint row of that model, by name ("" = its own row)
    "recent_files": [],
    "geometry": None,
    "blind_ab_tally": "{}",  # JSON: wins per pair of methods in blind A/B (ui/model/blind_ab.py)
}
MAX_RECENT = 10


class Settings:
    def __init__(self) -> None:
        self._qs = QSettings(str(user_config_dir() / "settings.ini"), QSettings.Format.IniFormat)

    @property
    def path(self) -> str:
        return self._qs.fileName()

    def get(self, key: str) -> Any:
        default = DEFAULTS.get(key)
        value = self._qs.value(key, default)
        # An ini file stores text: convert back to the default's type.
        if value is None:
            return default
        if isinstance(default, bool):
            return value in (True, "true", "1", 1)
        if isinstance(default, int):
            try:
                return int(value)
            except (TypeError, ValueError):
                return default
        if isinstance(default, float):
            try:
                return float(value)
            except (TypeError, ValueError):
                return default
        if isinstance(default, list):
            if isinstance(value, str):
                return [value] if value else []
            return list(value)
        return value

    def set(self, key: str, value: Any) -> None:
        self._qs.setValue(key, value)

    def sync(self) -> None:
        self._qs.sync()

    def recent_files(self) -> list[str]:
        return [p for p in self.get("recent_files") if p]

    def add_recent(self, path: str) -> list[str]:
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT]
        self.set("recent_files", files)
        return files
