"""How money and times are shown: fen as yuan with exact integer arithmetic (never a float),
instants in the business calendar's UTC offset (the engine's business_utc_offset, +08:00 by
default), as the library's docs say."""

from __future__ import annotations

import datetime
import re
from typing import Optional


def yuan(fen: Optional[int], symbol: bool = True) -> str:
    """12345 -> "¥123.45", -5 -> "-¥0.05"; integer division only."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{'¥' if symbol else ''}{whole:,}.{cents:02d}"


_YUAN = re.compile(r"^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$")


def parse_yuan(text: str) -> int:
    """"123.4" -> 12340 fen. Refuses negatives, more than two decimals, exponents and
    anything that is not a plain decimal number (ValueError with a message to show)."""
    match = _YUAN.match(text or "")
    if not match:
        raise ValueError("amount")
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    fen = int(whole) * 100 + int(cents)
    if fen <= 0:
        raise ValueError("amount")
    return fen


def parse_offset(text: str) -> datetime.timezone:
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", text or "+08:00")
    if not match:
        return datetime.timezone(datetime.timedelta(hours=8))
    sign = 1 if match.group(1) == "+" else -1
    return datetime.timezone(sign * datetime.timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def local_time(instant: Optional[int], zone: datetime.timezone, with_seconds: bool = False) -> str:
    if instant is None:
        return "—"
    moment = datetime.datetime.fromtimestamp(int(instant), tz=zone)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def local_date_to_instant(text: str, zone: datetime.timezone, end_of_day: bool = False) -> Optional[int]:
    """"2024-05-01" in the business calendar -> Unix seconds (start or end of that day)."""
    if not text:
        return None
    day = datetime.date.fromisoformat(text)
    moment = datetime.datetime.combine(day, datetime.time(23, 59, 59) if end_of_day else datetime.time(0, 0), tzinfo=zone)
    return int(moment.timestamp())
