"""Where the week rests: each country's weekend, read from an IANA time zone.

A store that states ``send_days`` or ``business_days`` gets exactly those; otherwise they
follow the local week.  Customers are messaged on their own zone's days (an Israeli customer
of a Greek store is not texted on Shabbat), support's SLA hours are counted on the store's.
Weekdays are Python's: Monday 0 … Sunday 6.
"""

from __future__ import annotations

from dataclasses import dataclass

THU, FRI, SAT, SUN = 3, 4, 5, 6


@dataclass(frozen=True)
class Week:
    weekend: frozenset[int]
    rest_day: int  # the one day nothing is sent

    @property
    def business_days(self) -> list[int]:
        return [d for d in range(7) if d not in self.weekend]

    @property
    def send_days(self) -> list[int]:
        return [d for d in range(7) if d != self.rest_day]


SAT_SUN = Week(frozenset({SAT, SUN}), SUN)  # Europe, the Americas, most of the world; the UAE since 2022
FRI_SAT_SHABBAT = Week(frozenset({FRI, SAT}), SAT)  # Israel
FRI_SAT = Week(frozenset({FRI, SAT}), FRI)  # Saudi Arabia, Qatar, Kuwait, Bahrain, Oman, Egypt, Jordan, Iraq…
THU_FRI = Week(frozenset({THU, FRI}), FRI)  # Iran, Afghanistan

BY_ZONE: dict[str, Week] = {
    **dict.fromkeys(("Asia/Jerusalem", "Asia/Tel_Aviv", "Israel"), FRI_SAT_SHABBAT),
    **dict.fromkeys(
        (
            "Asia/Riyadh",
            "Asia/Qatar",
            "Asia/Kuwait",
            "Asia/Bahrain",
            "Asia/Muscat",
            "Asia/Aden",
            "Asia/Baghdad",
            "Asia/Amman",
            "Asia/Damascus",
            "Asia/Gaza",
            "Asia/Hebron",
            "Africa/Cairo",
            "Egypt",
            "Africa/Algiers",
            "Africa/Tripoli",
            "Libya",
            "Africa/Khartoum",
        ),
        FRI_SAT,
    ),
    **dict.fromkeys(("Asia/Tehran", "Iran", "Asia/Kabul"), THU_FRI),
}


def week_of(zone: str | None) -> Week:
    return BY_ZONE.get(zone or "", SAT_SUN)
