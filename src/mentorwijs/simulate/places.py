"""Where the synthetic register's people live: labour-market regions, municipalities and mergers.

Municipality codes are the real-looking four-digit CBS codes of the municipalities of each
labour-market region. Two mergers make the year-specific tables matter: West Betuwe (2019,
from Geldermalsen, Lingewaal and Neerijnen, in Rivierenland) and Land van Cuijk and Maashorst
(2022, in Noord-Oost Brabant): an address object keeps its place but its municipality code
changes from the merger year on, and the municipality-to-region table lists each code only in
the years it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

YEARS = tuple(range(2017, 2023))

#: municipality code, name, weight (relative population), per labour-market region (2017 codes)
MUNICIPALITIES: dict[str, tuple[tuple[str, str, float], ...]] = {
    "Rivierenland": (
        ("0214", "Buren", 2.6), ("0216", "Culemborg", 2.8), ("0236", "Geldermalsen", 2.7), ("0263", "Maasdriel", 2.4),
        ("0733", "Lingewaal", 1.1), ("0304", "Neerijnen", 1.2), ("1740", "Neder-Betuwe", 2.4), ("0281", "Tiel", 4.1),
        ("0668", "West Maas en Waal", 1.9), ("0297", "Zaltbommel", 2.8),
    ),
    "Helmond-De Peel": (
        ("0794", "Helmond", 9.2), ("0762", "Deurne", 3.2), ("0743", "Asten", 1.7), ("0847", "Someren", 1.9),
        ("1652", "Gemert-Bakel", 3.0), ("1659", "Laarbeek", 2.2), ("1771", "Geldrop-Mierlo", 3.9),
    ),
    "Foodvalley": (
        ("0228", "Ede", 11.6), ("0289", "Wageningen", 3.9), ("0203", "Barneveld", 5.8), ("0267", "Nijkerk", 4.3),
        ("0279", "Scherpenzeel", 1.0), ("0340", "Rhenen", 2.0), ("0345", "Veenendaal", 6.6), ("0274", "Renkum", 3.1),
    ),
    "Noord-Oost Brabant": (
        ("0796", "'s-Hertogenbosch", 15.4), ("0828", "Oss", 9.1), ("1721", "Bernheze", 3.1), ("0757", "Boxtel", 3.1),
        ("1948", "Meierijstad", 8.1), ("0856", "Uden", 4.2), ("1685", "Landerd", 1.6), ("1684", "Cuijk", 2.5),
        ("0756", "Boxmeer", 2.9), ("0786", "Grave", 1.3), ("0815", "Mill en Sint Hubert", 1.1),
        ("1702", "Sint Anthonis", 1.2), ("0845", "Sint-Michielsgestel", 2.9), ("0865", "Vught", 2.6),
    ),
    "Noord-Limburg": (
        ("0983", "Venlo", 10.1), ("0984", "Venray", 4.4), ("1507", "Horst aan de Maas", 4.2),
        ("1894", "Peel en Maas", 4.3), ("0889", "Beesel", 1.3), ("0893", "Bergen (L.)", 1.3), ("0907", "Gennep", 1.7),
    ),
    "Stedendriehoek en Noord-West Veluwe": (
        ("0200", "Apeldoorn", 16.2), ("0150", "Deventer", 10.0), ("0301", "Zutphen", 4.8), ("0262", "Lochem", 3.4),
        ("0285", "Voorst", 2.4), ("0213", "Brummen", 2.1), ("0232", "Epe", 3.3), ("0246", "Heerde", 1.9),
        ("0244", "Hattem", 1.2), ("0243", "Harderwijk", 4.7), ("0233", "Ermelo", 2.7), ("0302", "Nunspeet", 2.8),
        ("0230", "Elburg", 2.3), ("0269", "Oldebroek", 2.4), ("0273", "Putten", 2.4),
    ),
    # regions outside the study (people living there are not candidates)
    "Midden-Utrecht": (("0344", "Utrecht", 35.0), ("0310", "De Bilt", 4.3), ("0355", "Zeist", 6.4)),
    "Rijk van Nijmegen": (("0268", "Nijmegen", 17.7), ("0252", "Heumen", 1.7), ("1945", "Berg en Dal", 3.5)),
    "Midden-Gelderland": (("0202", "Arnhem", 15.9), ("0275", "Rheden", 4.3), ("0293", "Westervoort", 1.5)),
}

OTHER_REGIONS = ("Midden-Utrecht", "Rijk van Nijmegen", "Midden-Gelderland")

#: mergers: first year, new code, new name, old codes
MERGERS = (
    (2019, "1960", "West Betuwe", ("0236", "0733", "0304")),
    (2022, "1982", "Land van Cuijk", ("1684", "0756", "0786", "0815", "1702")),
    (2022, "1991", "Maashorst", ("0856", "1685")),
)


def code_in_year(code: str, year: int) -> str:
    """The municipality code an address in (2017) municipality ``code`` has in ``year``."""
    for first_year, new_code, _name, old in MERGERS:
        if code in old and year >= first_year:
            return new_code
    return code


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    region: str
    weight: float


def municipalities(regions: tuple[str, ...]) -> list[Municipality]:
    """The (2017) municipalities of ``regions`` with their population weights."""
    unknown = [r for r in regions if r not in MUNICIPALITIES]
    if unknown:
        raise KeyError(f"no municipalities known for region(s) {unknown}")
    return [Municipality(code, name, region, weight) for region in regions
            for code, name, weight in MUNICIPALITIES[region]]


def region_table(regions: tuple[str, ...]) -> pd.DataFrame:
    """The year-specific municipality -> labour-market region table (``jaar, gemeente, gemeentenaam,
    arbeidsmarktregio``)."""
    rows = []
    names = {m.code: m.name for m in municipalities(regions)}
    region_of = {m.code: m.region for m in municipalities(regions)}
    for first_year, new_code, new_name, old in MERGERS:
        if any(code in region_of for code in old):
            names[new_code] = new_name
            region_of[new_code] = region_of[old[0]]
    for year in YEARS:
        for code in sorted(region_of):
            if code_in_year(code, year) != code:
                continue  # merged away by this year
            if any(code == new_code and year < first_year for first_year, new_code, _n, _o in MERGERS):
                continue  # not yet formed
            rows.append({"jaar": str(year), "gemeente": code, "gemeentenaam": names[code],
                         "arbeidsmarktregio": region_of[code]})
    return pd.DataFrame(rows).sort_values(["jaar", "gemeente"], kind="stable").reset_index(drop=True)
