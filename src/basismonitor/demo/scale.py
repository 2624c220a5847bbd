"""How much demo data to generate."""

from __future__ import annotations

from dataclasses import asdict, dataclass

SURVEY_FORMATS = ("auto", "csv")
ACTIVITY_FORMATS = ("auto", "csv")
# A programme whose yearly file would exceed this many rows is written as CSV under "auto":
# XLSX is too slow (and too big for Excel's taste) at that size.
XLSX_MAX_ROWS = 200_000
ACTIVITY_FIRST_YEAR = 2012
EDITIONS = (2008, 2019)


@dataclass(frozen=True)
class DemoScale:
    """Size of the generated inbox.

    municipalities   >1 adds generic municipalities GM9001, GM9002, ... next to the Groningen-like
                     GM9014 (always the first) for national-scale benchmark data.
    wijken           wijken per municipality (GM9014 exactly; the others vary around it).
    buurten_per_wijk average buurten per wijk (tiny buurten included).
    respondents_per_wave  respondents of one survey wave over all municipalities.
    survey_items     questions per wave (30 core items; up to 40 named, more are generic).
    waves            survey waves; every wave must also be one of `years`.
    years            registry, population and police years; activities use the years >= 2012.
    activity_scale   multiplies the activity registration rates.
    survey_format    "auto" = contract (CSV <= 2014, SPSS >= 2016); "csv" = all waves CSV.
    activity_format  "auto" = contract (XLSX for buurtbemiddeling/buurtinitiatieven, unless a
                     yearly file of the programme exceeds 200,000 rows: then that programme is
                     CSV); "csv" = all programmes CSV.
    """

    municipalities: int = 1
    wijken: int = 30
    buurten_per_wijk: float = 4.0
    respondents_per_wave: int = 8000
    survey_items: int = 30
    waves: tuple[int, ...] = (2008, 2010, 2012, 2014, 2016, 2018, 2020, 2022, 2024)
    years: tuple[int, ...] = tuple(range(2008, 2025))
    activity_scale: float = 1.0
    survey_format: str = "auto"
    activity_format: str = "auto"

    def __post_init__(self) -> None:
        if not 1 <= self.municipalities <= 999:
            raise ValueError("municipalities must be 1..999")
        if not 1 <= self.wijken <= 100:
            raise ValueError("wijken must be 1..100 (two-digit wijk codes)")
        if not 1.0 <= self.buurten_per_wijk <= 60:
            raise ValueError("buurten_per_wijk must be 1..60")
        if self.respondents_per_wave < 1 or self.respondents_per_wave > 999_999:
            raise ValueError("respondents_per_wave must be 1..999,999")
        if not 1 <= self.survey_items <= 200:
            raise ValueError("survey_items must be 1..200")
        if not self.years or not self.waves:
            raise ValueError("years and waves must not be empty")
        missing = sorted(set(self.waves) - set(self.years))
        if missing:
            raise ValueError(f"waves {missing} are not in years (weighting needs their population)")
        if self.activity_scale < 0:
            raise ValueError("activity_scale must be >= 0")
        if self.survey_format not in SURVEY_FORMATS:
            raise ValueError(f"survey_format must be one of {SURVEY_FORMATS}")
        if self.activity_format not in ACTIVITY_FORMATS:
            raise ValueError(f"activity_format must be one of {ACTIVITY_FORMATS}")
        object.__setattr__(self, "waves", tuple(sorted(set(self.waves))))
        object.__setattr__(self, "years", tuple(sorted(set(self.years))))

    @classmethod
    def small(cls) -> DemoScale:
        """For tests: 6 wijken, ~20 buurten, 1,500 respondents, every kind of file, < 5 s."""
        return cls(
            wijken=6,
            buurten_per_wijk=3.4,
            respondents_per_wave=1500,
            survey_items=30,
            waves=(2012, 2014, 2016, 2018, 2020, 2022, 2024),
            years=tuple(range(2012, 2025)),
            activity_scale=0.25,
        )

    @classmethod
    def national(cls) -> DemoScale:
        """Benchmark size: ~340 municipalities, ~14,500 buurten, 150,000 respondents x 40 items,
        17 registry years, ~5 million activity registrations; every file CSV."""
        return cls(
            municipalities=340,
            wijken=10,
            buurten_per_wijk=4.25,
            respondents_per_wave=150_000,
            survey_items=40,
            activity_scale=0.33,
            survey_format="csv",
            activity_format="csv",
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["waves"] = list(self.waves)
        d["years"] = list(self.years)
        return d

    @property
    def activity_years(self) -> tuple[int, ...]:
        return tuple(y for y in self.years if y >= ACTIVITY_FIRST_YEAR)
