"""The lists people choose languages and time zones from, shared by the forms and the server.

The page offers exactly these values and the server accepts exactly these values, so the browser's
own check (a `pattern` built from the same list) and the server's never disagree.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Final

# ISO 639 code -> (English name, the language's own name). The codes are what the API stores.
LANGUAGES: Final[dict[str, tuple[str, str]]] = {
    "en": ("English", "English"),
    "es": ("Spanish", "español"),
    "ase": ("American Sign Language", "ASL"),
    "zh": ("Chinese (Mandarin)", "中文"),
    "yue": ("Chinese (Cantonese)", "粵語"),
    "tl": ("Tagalog", "Tagalog"),
    "vi": ("Vietnamese", "Tiếng Việt"),
    "ar": ("Arabic", "العربية"),
    "fr": ("French", "français"),
    "ht": ("Haitian Creole", "Kreyòl ayisyen"),
    "ko": ("Korean", "한국어"),
    "ru": ("Russian", "русский"),
    "uk": ("Ukrainian", "українська"),
    "pt": ("Portuguese", "português"),
    "hi": ("Hindi", "हिन्दी"),
    "ur": ("Urdu", "اردو"),
    "bn": ("Bengali", "বাংলা"),
    "pa": ("Punjabi", "ਪੰਜਾਬੀ"),
    "gu": ("Gujarati", "ગુજરાતી"),
    "ne": ("Nepali", "नेपाली"),
    "ta": ("Tamil", "தமிழ்"),
    "te": ("Telugu", "తెలుగు"),
    "fa": ("Persian (Farsi)", "فارسی"),
    "prs": ("Dari", "دری"),
    "ps": ("Pashto", "پښتو"),
    "de": ("German", "Deutsch"),
    "it": ("Italian", "italiano"),
    "pl": ("Polish", "polski"),
    "el": ("Greek", "Ελληνικά"),
    "hy": ("Armenian", "Հայերեն"),
    "he": ("Hebrew", "עברית"),
    "tr": ("Turkish", "Türkçe"),
    "ro": ("Romanian", "română"),
    "hu": ("Hungarian", "magyar"),
    "cs": ("Czech", "čeština"),
    "nl": ("Dutch", "Nederlands"),
    "sv": ("Swedish", "svenska"),
    "sq": ("Albanian", "shqip"),
    "sr": ("Serbian", "српски"),
    "hr": ("Croatian", "hrvatski"),
    "bs": ("Bosnian", "bosanski"),
    "ja": ("Japanese", "日本語"),
    "th": ("Thai", "ไทย"),
    "km": ("Khmer", "ខ្មែរ"),
    "lo": ("Lao", "ລາວ"),
    "my": ("Burmese", "မြန်မာ"),
    "hmn": ("Hmong", "Hmoob"),
    "so": ("Somali", "Soomaali"),
    "am": ("Amharic", "አማርኛ"),
    "ti": ("Tigrinya", "ትግርኛ"),
    "om": ("Oromo", "Afaan Oromoo"),
    "sw": ("Swahili", "Kiswahili"),
    "yo": ("Yoruba", "Yorùbá"),
    "ig": ("Igbo", "Igbo"),
    "nv": ("Navajo", "Diné bizaad"),
    "sm": ("Samoan", "Gagana Sāmoa"),
    "mh": ("Marshallese", "Kajin M̧ajeļ"),
    "ga": ("Irish", "Gaeilge"),
    "cy": ("Welsh", "Cymraeg"),
}
LANGUAGE_BY_NAME: Final[dict[str, str]] = {name: code for code, (name, _) in LANGUAGES.items()}
# How many language boxes the forms show; the first one is required.
LANGUAGE_INPUTS: Final = 3

# Time zones by place (Region/City), not legacy aliases like "US/Eastern" or "EST5EDT".
_REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
            "Europe", "Indian", "Pacific")  # fmt: skip
TIME_ZONES: Final[tuple[str, ...]] = (
    *sorted(z for z in zoneinfo.available_timezones() if z.split("/")[0] in _REGIONS),
    "UTC",
)
_TIME_ZONE_SET: Final = frozenset(TIME_ZONES)


def is_time_zone(name: str) -> bool:
    """Whether `name` is one of the time zones the form offers."""
    return name in _TIME_ZONE_SET


def html_pattern(values: tuple[str, ...] | list[str]) -> str:
    """An HTML `pattern` accepting exactly `values` (browsers compile it with the `v` flag, so
    only regex syntax characters are escaped)."""
    return "|".join(re.sub(r"([\\^$.*+?()\[\]{}|/])", r"\\\1", value) for value in values)


def language_label(code: str) -> str:
    """The name shown in the form for a stored code (the code itself if it is not listed)."""
    return LANGUAGES[code][0] if code in LANGUAGES else code
