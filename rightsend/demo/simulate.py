"""`generate`: run the day-by-day behavioural simulation and write the landing zone."""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

import numpy as np

from rightsend.config import usable_cores
from rightsend.demo.catalog import build_catalog
from rightsend.demo.clock import DAY, Calendar
from rightsend.demo.commerce import customers_frame, orders_for_day
from rightsend.demo.consent import consent_day, consent_schedule
from rightsend.demo.email import email_campaign
from rightsend.demo.landing import Landing
from rightsend.demo.mobile import push_campaign, push_devices, push_schedule, sms_campaign
from rightsend.demo.population import ZONES, build_population
from rightsend.demo.specs import SPECS
from rightsend.demo.truth import DemoTruth, people_frame
from rightsend.demo.web import build_web_people, web_day
from rightsend.demo.world import World

# Share of days with a legacy campaign per channel.
CAMPAIGN_DAYS = {"email": 0.5, "sms": 0.15, "push": 0.3}
# From this size on, files are written by worker processes while the simulation goes on (writing
# is ~2/3 of the time); below it, starting them costs more than it saves.
WRITERS_MIN_CUSTOMER_DAYS = 2_000_000


def default_writers(customers: int, days: int) -> int:
    cores = usable_cores()
    return min(cores, 4) if cores > 1 and customers * days >= WRITERS_MIN_CUSTOMER_DAYS else 0


def generate(
    landing_dir: Path,
    customers: int = 3000,
    days: int = 120,
    end_date: str = "2026-11-20",
    seed: int = 7,
    truth_path: Path | None = None,
    bad_rows: bool = True,
    activity: float = 1.0,
    gzip_all: bool = False,
    writers: int | None = None,
) -> DemoTruth:
    """Write `<landing_dir>/<source>/dt=YYYY-MM-DD/*` for the `days` days up to `end_date`.

    ``activity`` scales the marketing cadence (campaign days per channel) and browsing: 1.0 is
    the demo's busy list (~210 message events per customer a year); the benchmark's large
    presets use less, a list where most people hear from the brand weekly. Orders, consent
    and profiles keep their rates. The same draws are made whatever the value, and 1.0 is
    the demo's own bytes. ``gzip_all`` gzips every file (a fifth of the disk; the contract
    accepts .gz for every source). The 9 source folders under landing_dir are replaced, so a seed
    always gives the same bytes, whatever the number of ``writers`` (worker processes writing
    the files; default: one per core for large runs, see ``default_writers``).
    """
    if not 0 < activity <= 1:
        raise ValueError(f"activity must be in (0, 1], not {activity}")
    started = time.perf_counter()
    landing_dir = Path(landing_dir)
    for source in SPECS:
        shutil.rmtree(landing_dir / source, ignore_errors=True)
    cal = Calendar(end=date.fromisoformat(end_date), days=days, zones=ZONES)
    pop = build_population(np.random.default_rng([seed, 1]), customers, cal)
    writers = default_writers(customers, days) if writers is None else writers
    with Landing(
        landing_dir, cal, seed, SPECS, bad_rows=bad_rows, gzip_all=gzip_all, writers=writers
    ) as landing:
        world = World(cal, pop, landing, seed)
        catalog = build_catalog(np.random.default_rng([seed, 2]), customers, cal)
        devices = push_schedule(world)
        requests = consent_schedule(world)
        web_people = build_web_people(world)
        plan = world.rng(808).random((days, 3)) < np.array(list(CAMPAIGN_DAYS.values())) * activity

        created_day = pop.created_sec // DAY
        world.mark_dirty(cal.start_day, np.flatnonzero(created_day < cal.start_day))  # the first full export
        for day in np.unique(created_day[created_day >= cal.start_day]):
            world.mark_dirty(int(day), np.flatnonzero(created_day == day))

        def close_day(day: int) -> None:
            touched = world.finalise(day)
            if day < cal.start_day:
                world.mark_dirty(cal.start_day, touched)
            elif len(touched):
                landing.emit("customers", customers_frame(world, touched, day))

        for k, day in enumerate(int(d) for d in cal.day_range):
            consent_day(world, requests, day)
            push_devices(world, day, devices)
            if plan[k, 0]:
                email_campaign(world, day)
            if plan[k, 1]:
                sms_campaign(world, day)
            if plan[k, 2]:
                push_campaign(world, day)
            purchases = orders_for_day(world, day, catalog)
            web_day(world, web_people, day, catalog, purchases, activity)
            landing.emit("catalog", catalog.snapshot(day))
            # Local day `day` is done: no later day can add events to UTC day-1 any more.
            close_day(day - 1)
            landing.flush(day - 1)
        close_day(cal.end_day)
        landing.flush(cal.end_day)

    truth = DemoTruth(people_frame(pop, cal.zones, world.erased, end_date))
    truth.stats = {
        "rows": dict(sorted(landing.rows.items())),
        "files": dict(sorted(landing.files.items())),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if truth_path is not None:
        truth.write(Path(truth_path))
    return truth
