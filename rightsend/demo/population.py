"""Who the simulated customers are: geography, contact points, habits and archetypes.

Everything is a numpy array indexed by person (0..n-1) so a million people stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rightsend.demo import behaviour as bh
from rightsend.demo.clock import DAY, Calendar

# country, province code, city, region zone, weight, phone area codes (US) / unused
REGIONS: list[tuple[str, str, str, str, float, tuple[int, ...]]] = [
    ("US", "NY", "New York", "America/New_York", 0.10, (212, 718, 917)),
    ("US", "MA", "Boston", "America/New_York", 0.04, (617,)),
    ("US", "FL", "Miami", "America/New_York", 0.05, (305, 786)),
    ("US", "GA", "Atlanta", "America/New_York", 0.03, (404,)),
    ("US", "IL", "Chicago", "America/Chicago", 0.06, (312, 773)),
    ("US", "TX", "Austin", "America/Chicago", 0.06, (512, 214)),
    ("US", "CO", "Denver", "America/Denver", 0.03, (303,)),
    ("US", "AZ", "Phoenix", "America/Phoenix", 0.02, (602,)),
    ("US", "CA", "Los Angeles", "America/Los_Angeles", 0.08, (213, 310, 415)),
    ("US", "WA", "Seattle", "America/Los_Angeles", 0.03, (206,)),
    ("GB", "", "London", "Europe/London", 0.09, ()),
    ("GB", "", "Manchester", "Europe/London", 0.04, ()),
    ("DE", "", "Berlin", "Europe/Berlin", 0.05, ()),
    ("DE", "", "München", "Europe/Berlin", 0.03, ()),
    ("DE", "", "Hamburg", "Europe/Berlin", 0.03, ()),
    ("FR", "", "Paris", "Europe/Paris", 0.06, ()),
    ("FR", "", "Lyon", "Europe/Paris", 0.03, ()),
    ("AU", "NSW", "Sydney", "Australia/Sydney", 0.05, ()),
    ("AU", "VIC", "Melbourne", "Australia/Melbourne", 0.04, ()),
    ("AU", "QLD", "Brisbane", "Australia/Brisbane", 0.02, ()),
    ("AU", "WA", "Perth", "Australia/Perth", 0.01, ()),
]
ZONES = sorted({r[3] for r in REGIONS})
ZONE_GROUPS = {  # where a person who moved away from their address may live
    "US": [z for z in ZONES if z.startswith("America/")],
    "AU": [z for z in ZONES if z.startswith("Australia/")],
    "EU": [z for z in ZONES if z.startswith("Europe/")],
}

FIRST = {
    "US": "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth Chris Ashley Daniel Emily Kevin Sofia Marcus Olivia Tyler Grace",
    "GB": "Oliver Amelia George Isla Harry Ava Jack Mia Charlie Poppy Thomas Freya Oscar Lily William Evie Alfie Ruby Henry Florence",
    "DE": "Lukas Anna Jonas Lea Felix Marie Paul Sophie Leon Emma Maximilian Hannah Jürgen Sabine Tobias Lena Niklas Jana Moritz Katrin",
    "FR": "Lucas Emma Hugo Léa Louis Chloé Gabriel Manon Arthur Camille Jules Inès Théo Zoé Raphaël Sarah Nathan Élodie Mathis Juliette",
    "AU": "Jack Charlotte William Olivia Noah Isla Thomas Mia Lachlan Chloe Cooper Ella Riley Zoe Harrison Sienna Lucas Matilda Liam Ruby",
}
LAST = {
    "US": "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Wilson Anderson Taylor Thomas Moore Jackson Lee Harris Clark Lewis",
    "GB": "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke",
    "DE": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Braun Zimmermann",
    "FR": "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier",
    "AU": "Smith Jones Williams Brown Wilson Taylor Johnson White Martin Anderson Thompson Nguyen Thomas Walker Harris Lee Ryan Robinson Kelly King",
}
DOMAINS = np.array(
    ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "proton.me", "gmx.de", "orange.fr"]
)
ARCHETYPE_WEIGHTS = np.array([0.08, 0.22, 0.10, 0.18, 0.17, 0.25])
BASE_BY_ARCHETYPE = np.array([0.75, 0.55, 0.5, 0.55, 0.5, 0.01])
PLATFORMS = np.array(["ios", "android", "web"])
ASCII = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "é": "e", "è": "e", "ë": "e", "É": "E", "ï": "i"})


@dataclass
class Population:
    n: int
    cust_id: np.ndarray
    first: np.ndarray
    last: np.ndarray
    email: np.ndarray  # "" when the person has no email
    phone: np.ndarray  # E.164, "" when none
    phone_national: np.ndarray
    national_in_export: np.ndarray
    country: np.ndarray
    province: np.ndarray
    city: np.ndarray
    region_zone: np.ndarray
    zone: np.ndarray  # where they really live: devices and browsers report it
    archetype: np.ndarray
    preferred: np.ndarray
    affinity: np.ndarray  # (n, 3) per channel
    peak_hour: np.ndarray
    peak_width: np.ndarray
    weekend_lift: np.ndarray
    base: np.ndarray
    silent_day: np.ndarray
    decline_day: np.ndarray
    created_sec: np.ndarray
    has_app: np.ndarray
    platform: np.ndarray
    apple_proxy: np.ndarray
    bad_email: np.ndarray
    accepts_email: np.ndarray
    accepts_sms: np.ndarray
    prior_orders: np.ndarray
    prior_spent: np.ndarray

    def p_engage(self, idx: np.ndarray, channel: np.ndarray | int, hour, weekday, day) -> np.ndarray:
        return bh.engage_probability(
            self.base[idx],
            self.affinity[idx, channel],
            self.peak_hour[idx],
            self.peak_width[idx],
            self.weekend_lift[idx],
            self.silent_day[idx],
            self.decline_day[idx],
            hour,
            weekday,
            day,
        )


def _join(*parts: np.ndarray | str) -> np.ndarray:
    out = parts[0]
    for p in parts[1:]:
        out = np.strings.add(out, p)
    return out


def _ascii_lower(names: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(names, return_inverse=True)
    return np.array([u.translate(ASCII).lower() for u in uniq])[inv]


def _digits(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.strings.zfill(rng.integers(0, 10**k, n).astype(str), k)


def _phones(
    rng: np.random.Generator, country: np.ndarray, region: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Valid-looking mobile numbers: (E.164, national form)."""
    n = len(country)
    e164 = np.full(n, "", dtype=object)
    nat = np.full(n, "", dtype=object)
    first_code = np.array([r[5][0] if r[5] else 0 for r in REGIONS])
    last_code = np.array([r[5][-1] if r[5] else 0 for r in REGIONS])
    m = country == "US"
    if m.any():
        k = int(m.sum())
        ac = np.where(rng.random(k) < 0.5, first_code[region[m]], last_code[region[m]]).astype(str)
        ex = rng.integers(200, 999, k)
        ex = np.where((ex % 100 == 11) | (ex == 555), ex + 1, ex).astype(str)
        line = _digits(rng, k, 4)
        e164[m] = _join("+1", ac, ex, line)
        nat[m] = _join("(", ac, ") ", ex, "-", line)
    specs = {  # country: (prefixes, digits after prefix, national grouping)
        "GB": (["074", "075", "077", "078", "079"], 8),
        "DE": (["0151", "0152", "0171", "0176"], 8),
        "FR": (["06"], 8),
        "AU": (["04"], 8),
    }
    cc = {"GB": "+44", "DE": "+49", "FR": "+33", "AU": "+61"}
    for c, (prefixes, k_digits) in specs.items():
        m = country == c
        k = int(m.sum())
        if not k:
            continue
        pre = np.array(prefixes)[rng.integers(0, len(prefixes), k)]
        rest = _digits(rng, k, k_digits)
        national = np.strings.add(pre, rest)
        e164[m] = np.strings.add(cc[c], np.strings.slice(national, 1, None))
        s = np.strings.slice
        if c == "GB":
            nat[m] = _join(s(national, 0, 5), " ", s(national, 5, None))
        elif c == "DE":
            nat[m] = _join(s(national, 0, 4), " ", s(national, 4, None))
        elif c == "FR":
            nat[m] = _join(*[x for i in range(0, 10, 2) for x in (s(national, i, i + 2), " ")][:-1])
        else:
            nat[m] = _join(s(national, 0, 4), " ", s(national, 4, 7), " ", s(national, 7, None))
    return e164.astype(str), nat.astype(str)


def build_population(rng: np.random.Generator, n: int, cal: Calendar) -> Population:
    weights = np.array([r[4] for r in REGIONS])
    region = rng.choice(len(REGIONS), size=n, p=weights / weights.sum())
    country = np.array([r[0] for r in REGIONS])[region]
    region_zone = np.array([cal.zone_index(r[3]) for r in REGIONS])[region]
    zone = region_zone.copy()
    moved = np.flatnonzero(rng.random(n) < 0.05)  # device/browser zone differs from the address
    for i in moved:
        group = ZONE_GROUPS["EU" if country[i] in ("GB", "DE", "FR") else country[i]]
        zone[i] = cal.zone_index(group[rng.integers(len(group))])

    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    for c in FIRST:
        m = country == c
        names_f, names_l = np.array(FIRST[c].split()), np.array(LAST[c].split())
        first[m] = names_f[rng.integers(0, len(names_f), m.sum())]
        last[m] = names_l[rng.integers(0, len(names_l), m.sum())]
    first, last = first.astype(str), last.astype(str)
    lf, ll = _ascii_lower(first), _ascii_lower(last)
    idx = np.arange(n)
    domain = DOMAINS[rng.integers(0, len(DOMAINS), n)]
    email = _join(lf, np.where(rng.random(n) < 0.5, ".", "_"), ll, (idx + 11).astype(str), "@", domain)
    phone, phone_nat = _phones(rng, country, region)

    archetype = rng.choice(len(bh.ARCHETYPES), size=n, p=ARCHETYPE_WEIGHTS)
    has_phone = rng.random(n) < 0.75
    preferred = rng.choice(3, size=n, p=[0.70, 0.15, 0.15])
    preferred = np.where((preferred == 1) & ~has_phone, 0, preferred)
    has_email = (rng.random(n) > 0.03) | (preferred != 1)  # a few SMS-only people have no email
    email = np.where(has_email, email, "")
    phone = np.where(has_phone, phone, "")
    phone_nat = np.where(has_phone, phone_nat, "")

    affinity = rng.uniform(0.05, 0.5, size=(n, 3))
    exclusive = rng.random(n) < 0.3  # "only answers SMS/push/email"
    affinity[exclusive] = rng.uniform(0.0, 0.04, size=(int(exclusive.sum()), 3))
    affinity[idx, preferred] = rng.uniform(0.8, 1.0, n)

    mode = rng.choice(3, size=n, p=[0.3, 0.25, 0.45])
    peak_hour = np.choose(mode, [rng.integers(7, 10, n), rng.integers(11, 14, n), rng.integers(18, 22, n)])
    peak_width = rng.uniform(1.2, 2.6, n)
    weekend_lift = np.clip(rng.normal(0.0, 0.3, n), -0.5, 0.8)
    base = BASE_BY_ARCHETYPE[archetype] * rng.lognormal(0.0, 0.25, n)

    silent_day = np.full(n, bh.NO_DAY, dtype=np.int64)
    gs = archetype == bh.GONE_SILENT
    silent_day[gs] = cal.end_day - rng.integers(60, 101, int(gs.sum()))
    decline_day = np.full(n, bh.NO_DAY, dtype=np.int64)
    ar = archetype == bh.AT_RISK
    decline_day[ar] = cal.end_day - rng.integers(35, 61, int(ar.sum()))

    start = cal.start_day * DAY
    created = start - rng.integers(1, 1100, n) * DAY - rng.integers(0, DAY, n)
    new = archetype == bh.NEW
    created[new] = (cal.end_day - rng.integers(0, min(28, cal.days), int(new.sum()))) * DAY + rng.integers(
        0, DAY, int(new.sum())
    )

    has_app = (preferred == 2) | (rng.random(n) < 0.3)
    platform = PLATFORMS[rng.choice(3, size=n, p=[0.55, 0.40, 0.05])]
    accepts_email = has_email & ((rng.random(n) < 0.78) | ((preferred == 0) & (rng.random(n) < 0.9)))
    accepts_sms = has_phone & ((rng.random(n) < 0.45) | (preferred == 1))
    prior = np.array([6.0, 3.0, 0.0, 2.5, 2.0, 0.4])[archetype]
    prior_orders = np.where(new, 0, rng.poisson(prior))
    prior_spent = np.round(prior_orders * rng.uniform(35, 140, n), 2)

    return Population(
        n=n,
        cust_id=7_100_000_000_000 + idx.astype(np.int64) * 7919 + rng.integers(0, 7919, n),
        first=first,
        last=last,
        email=email,
        phone=phone,
        phone_national=phone_nat,
        national_in_export=rng.random(n) < 0.35,
        country=country,
        province=np.array([r[1] for r in REGIONS])[region],
        city=np.array([r[2] for r in REGIONS])[region],
        region_zone=region_zone,
        zone=zone,
        archetype=archetype,
        preferred=preferred,
        affinity=np.round(affinity, 6),
        peak_hour=peak_hour,
        peak_width=np.round(peak_width, 6),
        weekend_lift=np.round(weekend_lift, 6),
        base=np.round(base, 6),
        silent_day=silent_day,
        decline_day=decline_day,
        created_sec=created,
        has_app=has_app,
        platform=platform,
        apple_proxy=rng.random(n) < 0.035,
        bad_email=has_email & (rng.random(n) < 0.015),
        accepts_email=accepts_email,
        accepts_sms=accepts_sms,
        prior_orders=prior_orders,
        prior_spent=prior_spent,
    )
