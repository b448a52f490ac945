"""Data layer: reading, validating, windowing, scaling and built-in datasets."""

from .builtin import BUILTINS, sines, sines_array
from .conditions import ConditionEncoder
from .io import Series, SeriesSpec, frame_from_array, is_array, is_npy, read_npy, read_table, restore_dtypes, to_series
from .scaler import MinMaxScaler
from .windows import Windows, WindowSampler, gather_windows, window_starts

__all__ = [
    "BUILTINS",
    "ConditionEncoder",
    "Series",
    "MinMaxScaler",
    "SeriesSpec",
    "WindowSampler",
    "Windows",
    "frame_from_array",
    "gather_windows",
    "is_array",
    "is_npy",
    "read_npy",
    "read_table",
    "restore_dtypes",
    "sines",
    "sines_array",
    "to_series",
    "window_starts",
]
