"""What counts as a map point in what residents (or the simulator) send: two finite numbers, a latitude in
-90..90 and a longitude in -180..180. Anything else (a string, a boolean, null, NaN, a number off the globe)
is treated as no point at all, the same way wherever a location is read."""

from __future__ import annotations

from typing import Any

MAX_LATITUDE = 90.0
MAX_LONGITUDE = 180.0


def point(latitude: Any, longitude: Any) -> tuple[float, float] | None:
    """(latitude, longitude) as floats, or None when either is not a coordinate."""
    for value, limit in ((latitude, MAX_LATITUDE), (longitude, MAX_LONGITUDE)):
        # bool is an int to Python, not a number to anyone else. The range test is made before float(),
        # which a JSON integer of 400 digits would overflow; NaN fails every comparison.
        if isinstance(value, bool) or not isinstance(value, int | float) or not -limit <= value <= limit:
            return None
    return float(latitude), float(longitude)


# Where staff open a point: OpenStreetMap's own page with a marker. A link only, so the workspace itself never
# fetches map tiles (nothing reaches the internet at run time); the staff member's browser opens it.
MAP_URL_PREFIX = "https://www.openstreetmap.org/?mlat="


def map_url(latitude: float, longitude: float) -> str:
    """The map link of a point; the exports build the very same text in SQL (bot/staff/exports.py)."""
    lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
    return f"{MAP_URL_PREFIX}{lat}&mlon={lon}#map=17/{lat}/{lon}"


def map_label(latitude: float, longitude: float) -> str:
    """The point as a link's text: five decimals (about a metre), latitude first."""
    return f"{latitude:.5f}, {longitude:.5f}"
