"""A synthetic but realistic bike-sharing history, generated deterministically (no download).

Each row is one day. Demand follows the shape of the classic bike-sharing data: it peaks in warm,
dry weather and falls in the cold, the heat, rain, high humidity and strong wind; working days
bring commuters, weekends and holidays fewer riders; long summer days bring more riders than the
temperature alone explains; multiplicative noise on top.
The weather itself follows the seasons, so the inputs are as correlated as real ones.
"""

from __future__ import annotations

import datetime

import numpy as np

from bike_demand_model.features import COLUMNS, SEASONS, WEATHER, calendar_features

HOLIDAYS = {(1, 1), (5, 1), (7, 4), (11, 11), (12, 25), (12, 26)}
"""Fixed-date public holidays (month, day) of the imaginary city."""

WEATHER_EFFECT = {"clear": 1.0, "mist": 0.86, "light_rain": 0.55, "heavy_rain": 0.22}


def season_of(date: datetime.date) -> str:
    """Meteorological season: winter is December to February, and so on."""
    return SEASONS[(date.month % 12) // 3]


def generate_days(
    seed: int, first_day: str = "2021-04-01", days: int = 1095
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(rows, rentals)``: input rows in :data:`COLUMNS` order and rentals per day."""
    random = np.random.default_rng(seed)
    start = datetime.date.fromisoformat(first_day)
    dates = [start + datetime.timedelta(days=offset) for offset in range(days)]
    iso_dates = np.array([date.isoformat() for date in dates], dtype=object)
    day_of_year, weekday = calendar_features(iso_dates).T
    warmth = np.sin(2 * np.pi * (day_of_year - 110) / 365.25)
    temperature = np.clip(13 + 11 * warmth + random.normal(0, 3.5, days), -15, 42).round(1)
    humidity = np.clip(62 - 8 * warmth + random.normal(0, 14, days), 15, 100).round(0)
    wind_speed = np.clip(random.gamma(4.0, 3.2, days) + 3 * (1 - warmth), 0, 70).round(1)
    weather = _draw_weather(random, humidity)
    holiday = np.array([(date.month, date.day) in HOLIDAYS for date in dates])
    working_day = (weekday < 5) & ~holiday
    daylight = 1 + 0.18 * np.cos(2 * np.pi * (day_of_year - 172) / 365.25)
    demand = _demand(random, temperature, humidity, wind_speed, weather, working_day)
    rentals = (demand * daylight).round(0)
    columns = {
        "date": iso_dates,
        "season": [season_of(date) for date in dates],
        "weather": weather,
        "holiday": holiday,
        "working_day": working_day,
        "temperature": temperature,
        "humidity": humidity,
        "wind_speed": wind_speed,
    }
    rows = np.empty((days, len(COLUMNS)), dtype=object)
    for index, name in enumerate(COLUMNS):
        rows[:, index] = np.asarray(columns[name]).astype(object)  # plain Python values
    return rows, rentals


def _draw_weather(random: np.random.Generator, humidity: np.ndarray) -> np.ndarray:
    wetness = (humidity - 15) / 85
    chances = np.column_stack(
        [1.2 - wetness, 0.5 + 0.3 * wetness, 0.05 + 0.45 * wetness**2, 0.01 + 0.1 * wetness**3]
    )
    chances /= chances.sum(axis=1, keepdims=True)
    picks = (random.random(len(humidity))[:, None] > chances.cumsum(axis=1)).sum(axis=1)
    return np.array(WEATHER, dtype=object)[np.minimum(picks, len(WEATHER) - 1)]


def _demand(
    random: np.random.Generator,
    temperature: np.ndarray,
    humidity: np.ndarray,
    wind_speed: np.ndarray,
    weather: np.ndarray,
    working_day: np.ndarray,
) -> np.ndarray:
    comfort = np.exp(-(((temperature - 24) / 13) ** 2))
    sky = np.array([WEATHER_EFFECT[name] for name in weather])
    damp = 1 - 0.006 * np.maximum(humidity - 65, 0)
    gusts = 1 - 0.012 * np.maximum(wind_speed - 18, 0)
    commuters = np.where(working_day, 1.0, 0.82)
    noise = random.lognormal(0.0, 0.09, len(temperature))
    return 220 + 6000 * comfort * sky * damp * np.maximum(gusts, 0.3) * commuters * noise
