"""Durations and sizes in the words Docker uses (go-units), for the API and the CLI alike."""

from __future__ import annotations


def human_duration(seconds: float) -> str:
    """go-units HumanDuration: "Less than a second", "2 minutes", "About an hour"..."""
    whole = int(seconds)
    minutes = int(seconds / 60)
    hours = round(seconds / 3600)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def human_size(size: float) -> str:
    """go-units HumanSizeWithPrecision(size, 3): decimal units, "1.99MB"."""
    units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    index = 0
    while size >= 1000 and index < len(units) - 1:
        size /= 1000
        index += 1
    return f"{size:.3g}{units[index]}"
