"""Name templates for the demo municipalities: the Groningen-like GM9014 and generic others.

The names are invented in the style of Groningen and other Dutch places; they are not copied from
any data set. Types drive the latent model (age profile, density, household size, tenure).
"""

from __future__ import annotations

from dataclasses import dataclass

# Area types: drive age profile, density, household size, tenure and some survey contrasts.
TYPES = ("binnenstad", "student", "volkswijk", "naoorlogs", "gezin", "villa", "dorp", "nieuwbouw")


@dataclass(frozen=True)
class WijkTemplate:
    name: str
    stadsdeel: str
    type: str
    pop2024: int  # inhabitants on 1 January 2024
    d2008: float  # latent deprivation in 2008 (0 = city-typical, + = more deprived)
    d2024: float  # ... and in 2024: the trend is linear in between
    ratio2008: float  # inhabitants 2008 / inhabitants 2024 (new-build areas grow)
    buurten: tuple[str, ...]


# Template order = code order (WK901400, WK901401, ...) among the wijken selected.
GRONINGEN: tuple[WijkTemplate, ...] = (
    # Centrum
    WijkTemplate(
        "Binnenstad",
        "Centrum",
        "binnenstad",
        20500,
        0.3,
        0.2,
        0.93,
        (
            "Binnenstad-Noord",
            "Binnenstad-Zuid",
            "Binnenstad-Oost",
            "Binnenstad-West",
            "Ebbingekwartier",
            "Stationsgebied",
        ),
    ),
    WijkTemplate(
        "Oranjewijk",
        "Centrum",
        "volkswijk",
        6300,
        0.3,
        -0.4,
        0.97,
        ("Oranjebuurt", "Kostverloren", "Prinsessenbuurt", "Tuinwijk"),
    ),
    WijkTemplate(
        "Schildersbuurt",
        "Centrum",
        "volkswijk",
        5900,
        0.7,
        -0.2,
        0.98,
        ("Schildersbuurt-Noord", "Schildersbuurt-Zuid", "Vermeerbuurt", "Rubensbuurt"),
    ),
    WijkTemplate(
        "Oosterpoort",
        "Centrum",
        "volkswijk",
        7300,
        0.2,
        -0.5,
        0.96,
        ("Oosterpoort-Noord", "Oosterpoort-Zuid", "Meeuwerderbaan", "Zeeheldenbuurt"),
    ),
    WijkTemplate(
        "Rivierenbuurt",
        "Centrum",
        "volkswijk",
        5400,
        0.1,
        -0.3,
        0.97,
        ("Rivierenbuurt-Noord", "Rivierenbuurt-Zuid", "Maaskade", "IJsselbuurt"),
    ),
    WijkTemplate(
        "Herewegwijk",
        "Centrum",
        "villa",
        6400,
        -0.7,
        -0.8,
        0.99,
        ("Herewegbuurt", "Grunobuurt", "Laanhuizen", "Badstratenbuurt"),
    ),
    WijkTemplate(
        "Hortusbuurt",
        "Centrum",
        "binnenstad",
        4400,
        -0.2,
        -0.4,
        0.95,
        ("Hortusbuurt", "Noorderplantsoen", "Kruitenbuurt"),
    ),
    # Noord
    WijkTemplate(
        "Korrewegwijk",
        "Noord",
        "naoorlogs",
        12300,
        1.0,
        0.4,
        0.98,
        ("Gorechtbuurt", "Vogelbuurt", "Bloemenbuurt", "Florabuurt", "Damsterbuurt"),
    ),
    WijkTemplate(
        "De Hoogte",
        "Noord",
        "volkswijk",
        5400,
        1.6,
        1.1,
        1.0,
        ("De Hoogte-Noord", "De Hoogte-Zuid", "Indische Buurt", "Bedumerweg"),
    ),
    WijkTemplate(
        "Selwerd",
        "Noord",
        "naoorlogs",
        7900,
        0.9,
        1.4,
        1.02,
        ("Selwerd-Noord", "Selwerd-Zuid", "Selwerderhof", "Tuinbouwbuurt"),
    ),
    WijkTemplate(
        "Paddepoel",
        "Noord",
        "naoorlogs",
        9300,
        0.5,
        1.0,
        1.03,
        ("Paddepoel-Noord", "Paddepoel-Zuid", "Paddepoel-Oost", "Zonnelaan"),
    ),
    WijkTemplate(
        "Zernike",
        "Noord",
        "student",
        2200,
        0.4,
        0.3,
        0.8,
        ("Zernike Campus", "Zernike-Zuid", "Plutolaan"),
    ),
    WijkTemplate(
        "Beijum",
        "Noord",
        "naoorlogs",
        12800,
        0.8,
        1.4,
        1.04,
        ("Beijum-West", "Beijum-Oost", "De Hunze", "Hunzeboord", "Koningslaagte"),
    ),
    # Oost
    WijkTemplate(
        "Oosterparkwijk",
        "Oost",
        "volkswijk",
        11300,
        1.5,
        0.4,
        0.97,
        (
            "Oosterparkwijk-Noord",
            "Oosterparkwijk-Zuid",
            "Oosterparkwijk-Oost",
            "Oosterhamrikkade",
            "Gorecht-Oost",
        ),
    ),
    WijkTemplate(
        "Lewenborg",
        "Oost",
        "naoorlogs",
        9300,
        0.7,
        1.2,
        1.05,
        ("Lewenborg-Noord", "Lewenborg-Zuid", "Lewenborg-West", "Ulgersmaborg"),
    ),
    WijkTemplate(
        "Noorddijk",
        "Oost",
        "dorp",
        4900,
        -0.9,
        -1.0,
        0.9,
        ("Noorddijk", "Ruischerbrug", "Ruischerwaard", "Engelbert", "Middelbert"),
    ),
    WijkTemplate(
        "Meerstad",
        "Oost",
        "nieuwbouw",
        4900,
        -0.6,
        -1.2,
        0.1,
        ("Meerstad-Noord", "Meerstad-Midden", "Meerstad-Zuid", "Middelberterpolder"),
    ),
    # Zuid
    WijkTemplate(
        "Helpman",
        "Zuid",
        "villa",
        10800,
        -0.8,
        -0.9,
        0.97,
        (
            "Helpman-Noord",
            "Helpman-Zuid",
            "Villabuurt",
            "Coendersborg",
            "Sterrebosbuurt",
            "Klein Martijn",
        ),
    ),
    WijkTemplate(
        "De Wijert",
        "Zuid",
        "gezin",
        7800,
        0.5,
        0.3,
        1.0,
        ("De Wijert-Noord", "De Wijert-Zuid", "Wijert-Oost"),
    ),
    WijkTemplate(
        "Corpus den Hoorn",
        "Zuid",
        "naoorlogs",
        6900,
        0.6,
        0.8,
        1.01,
        ("Corpus den Hoorn-Noord", "Corpus den Hoorn-Zuid", "Van Swieten", "Piccardthof"),
    ),
    WijkTemplate(
        "Hoornse Meer",
        "Zuid",
        "gezin",
        5400,
        -0.3,
        -0.2,
        1.0,
        ("Hoornse Meer", "Hoornse Park", "Bruilweering"),
    ),
    WijkTemplate(
        "Europapark",
        "Zuid",
        "nieuwbouw",
        3900,
        0.0,
        -0.5,
        0.18,
        ("Europapark-Noord", "Europapark-Zuid", "Kempkensberg", "De Linie"),
    ),
    # West
    WijkTemplate(
        "Vinkhuizen",
        "West",
        "naoorlogs",
        12300,
        1.1,
        1.6,
        1.02,
        ("Vinkhuizen-Noord", "Vinkhuizen-Zuid", "Vinkhuizen-Oost", "Friesestraatweg"),
    ),
    WijkTemplate(
        "Hoogkerk",
        "West",
        "dorp",
        10800,
        -0.2,
        0.0,
        0.95,
        ("Hoogkerk-Dorp", "Hoogkerk-Zuid", "Leegkerk", "De Buitenhof", "Kranenburg"),
    ),
    WijkTemplate(
        "Reitdiep",
        "West",
        "nieuwbouw",
        5900,
        -0.9,
        -1.0,
        0.35,
        ("Reitdiephaven", "Reitdiep-Noord", "Reitdiep-Zuid", "Dorkwerd"),
    ),
    WijkTemplate(
        "Gravenburg",
        "West",
        "gezin",
        4900,
        -0.6,
        -0.5,
        0.75,
        ("Gravenburg-Noord", "Gravenburg-Zuid", "Gravenburg-Oost"),
    ),
    WijkTemplate(
        "De Held",
        "West",
        "gezin",
        6400,
        -0.3,
        -0.1,
        0.98,
        ("De Held-Noord", "De Held-Zuid", "Westpark"),
    ),
    # Haren
    WijkTemplate(
        "Haren",
        "Haren",
        "villa",
        14600,
        -1.5,
        -1.5,
        0.96,
        ("Haren-Centrum", "Haren-Noord", "Haren-Zuid", "Essen", "Hemmen"),
    ),
    WijkTemplate(
        "Glimmen-Onnen", "Haren", "dorp", 3400, -1.6, -1.5, 0.97, ("Glimmen", "Onnen", "Noordlaren")
    ),
    # Ten Boer
    WijkTemplate(
        "Ten Boer",
        "Ten Boer",
        "dorp",
        5400,
        -0.2,
        0.5,
        1.02,
        ("Ten Boer-Dorp", "Ten Boer-Noord", "Ten Post", "Woltersum"),
    ),
    WijkTemplate(
        "Garmerwolde-Thesinge",
        "Ten Boer",
        "dorp",
        1900,
        -0.5,
        0.0,
        1.03,
        ("Garmerwolde", "Thesinge", "Winneweer"),
    ),
)

# Which wijken a smaller Groningen-demo keeps, most contrasting first.
GRONINGEN_PRIORITY: tuple[str, ...] = (
    "Binnenstad",
    "Oosterparkwijk",
    "Selwerd",
    "Helpman",
    "Beijum",
    "Haren",
    "Vinkhuizen",
    "Korrewegwijk",
    "Zernike",
    "Meerstad",
    "Hoogkerk",
    "Ten Boer",
    "De Hoogte",
    "Paddepoel",
    "Lewenborg",
    "Corpus den Hoorn",
    "De Wijert",
    "Oranjewijk",
    "Schildersbuurt",
    "Oosterpoort",
    "Reitdiep",
    "Europapark",
    "Herewegwijk",
    "Noorddijk",
    "Rivierenbuurt",
    "Gravenburg",
    "De Held",
    "Glimmen-Onnen",
    "Hortusbuurt",
    "Hoornse Meer",
    "Garmerwolde-Thesinge",
)

# Tiny buurten (CBS hides their figures): name, kind, preferred wijk.
GRONINGEN_TINY: tuple[tuple[str, str, str], ...] = (
    ("Bedrijventerrein Euvelgunne", "industrie", "Oosterparkwijk"),
    ("Stadspark", "park", "Helpman"),
    ("Bedrijventerrein Westpoort", "industrie", "Hoogkerk"),
)

# Generic names for the other (national-scale) municipalities.
GM_PREFIXES = (
    "Ooster",
    "Wester",
    "Noorder",
    "Zuider",
    "Hooge",
    "Lage",
    "Nieuwe",
    "Oude",
    "Groot",
    "Klein",
    "Midden",
    "Hoog",
    "Veen",
    "Sint ",
    "Ter ",
    "Bergen",
    "Dijk",
    "Wolde",
    "Zand",
    "Haven",
)
GM_STEMS = (
    "wolde",
    "veen",
    "dam",
    "horst",
    "broek",
    "hoven",
    "dijk",
    "meer",
    "zijl",
    "loo",
    "berg",
    "wijk",
    "stede",
    "burg",
    "hem",
    "mond",
    "dorp",
    "wierde",
    "brug",
    "land",
)
WIJK_NAMES = (
    "Centrum",
    "Oude Dorp",
    "Stationsbuurt",
    "Noord",
    "Oost",
    "Zuid",
    "West",
    "Bloemenbuurt",
    "Vogelwijk",
    "Bomenbuurt",
    "Schildersbuurt",
    "Componistenbuurt",
    "Rivierenbuurt",
    "Havenkwartier",
    "Parkwijk",
    "Molenwijk",
    "Kerkbuurt",
    "Dijkwijk",
    "Hoogveld",
    "Buitengebied",
    "Sterrenwijk",
    "Vruchtenbuurt",
    "Waterwijk",
    "De Akkers",
    "De Velden",
    "Het Hof",
    "De Es",
    "Kloosterveen",
    "Zeeheldenbuurt",
    "Professorenwijk",
    "Nieuw-West",
    "Oud-Zuid",
    "De Meent",
    "Brinkwijk",
    "Weteringbuurt",
    "Veenwijk",
    "Esdorp",
    "Lindenhof",
    "De Kamp",
    "Heidewijk",
)
COMPASS = (
    "Noord",
    "Zuid",
    "Oost",
    "West",
    "Midden",
    "Noordwest",
    "Zuidoost",
    "Noordoost",
    "Zuidwest",
)
STADSDEEL_NAMES = (
    "Centrum",
    "Noord",
    "Oost",
    "Zuid",
    "West",
    "Noordoost",
    "Zuidwest",
    "Zuidoost",
    "Noordwest",
    "Buitengebied",
)
TINY_GENERIC = (
    ("Bedrijventerrein", "industrie"),
    ("Stadspark", "park"),
    ("Industrieterrein", "industrie"),
)


def roman(n: int) -> str:
    vals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out


def extend_names(base: str, given: tuple[str, ...], k: int) -> list[str]:
    """k buurt names for a wijk: the given ones first, then compass suffixes, then numerals."""
    names = list(given[:k])
    i = 0
    while len(names) < k:
        cand = (
            f"{base}-{COMPASS[i]}" if i < len(COMPASS) else f"{base} {roman(i - len(COMPASS) + 1)}"
        )
        i += 1
        if cand not in names:
            names.append(cand)
    return names
