"""The pure decision core: inputs (DataFrames) + campaigns + rules -> outbox + suppressions.

No I/O, no wall clock. In order: (1) erasure and consent/reachability per channel, (2) no
marketing to people on the site or in a checkout right now, or about a product they bought,
win-back pauses other promotions, per-campaign limits, (3) frequency caps, (4) priority: the
highest-priority message first, one channel per person per day, (5) channel and local time
(quiet hours, per-country SMS rules, trigger times, throughput), (6) holdout and variant.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rightsend.decide import hashing, timing
from rightsend.decide.audience import candidates
from rightsend.decide.campaigns import Campaign
from rightsend.decide.caps import CapBook, local_days
from rightsend.decide.guards import (
    DESTINATION,
    active_now,
    bought_pairs,
    erased,
    saturated,
    unreachable_reasons,
)
from rightsend.decide.inputs import DecisionInputs
from rightsend.decide.rules import Rules

CONTRACT_COLUMNS = [
    "message_id", "customer_id", "source_customer_id", "campaign_id", "use_case", "channel", "destination",
    "send_at_utc", "timezone", "send_at_local", "priority", "variant", "is_holdout", "model_version",
    "p_engage", "reason",
]  # fmt: skip
EXTRA_COLUMNS = ["sku", "trigger_at", "tags", "counts_toward_caps"]  # outbox only (caps, series, audit)
OUTBOX_COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS  # a message's fields, in this order
SUPPRESSION_COLUMNS = ["customer_id", "campaign_id", "channel", "rule", "detail"]
# Counted in the summary but never written per person: an erased person's id is not logged.
UNLOGGED_RULES = ("erased", "unknown_customer")


@dataclass
class Decision:
    outbox: pd.DataFrame
    suppressions: pd.DataFrame
    unlogged: Counter = field(default_factory=Counter)  # (campaign_id, rule) -> count


@dataclass(frozen=True, slots=True)  # slots: no __dict__ on each of ~1.6M scores at 1M people
class _Score:
    best_hour: int | None
    p_engage: float | None
    p_by_hour: np.ndarray | None  # NaN for missing hours
    rank: int | None
    reason: str | None
    model_version: str | None


def _column(df: pd.DataFrame, name: str, convert: Any) -> list[Any]:
    """A column as plain Python values (None where missing), read at once, not row by row."""
    values = df[name].astype(object)
    return [None if v is None else convert(v) for v in values.where(values.notna(), None)]


def _by_hour(p: Any) -> np.ndarray | None:
    """p_by_hour as float64 with NaN for missing hours: 24 Python floats in a list cost ~0.8 KB
    a score (1.3 GB at 1M people). DuckDB hands lists with nulls over as masked arrays, whose
    masked elements are neither None nor NaN: they are filled with NaN."""
    if p is None or (not hasattr(p, "__len__") and pd.isna(p)):
        return None
    if isinstance(p, np.ma.MaskedArray):
        return np.ma.filled(p.astype("float64"), np.nan)
    return np.asarray(p, dtype="float64")


def _scores(df: pd.DataFrame) -> dict[tuple[str, str], _Score]:
    by_hour = [_by_hour(p) for p in df["p_by_hour"]]
    columns = zip(
        _column(df, "best_local_hour", int),
        _column(df, "p_engage", float),
        by_hour,
        _column(df, "channel_rank", int),
        _column(df, "reason", str),
        _column(df, "model_version", str),
        strict=True,
    )
    keys = zip(df["customer_id"], df["channel"], strict=True)
    return {key: _Score(*values) for key, values in zip(keys, columns, strict=True)}


def _past_sends(history: pd.DataFrame, limited: list[Campaign]) -> dict[tuple[str, str], tuple[int, dt.date]]:
    """(customer, campaign) -> (times queued, last local send day) for campaigns with limits:
    one pass over the history instead of a lookup per candidate. The day is the local one
    where known (send_at_local), else the UTC one."""
    h = history[history["campaign_id"].isin({c.id for c in limited})]
    if h.empty:
        return {}
    grouped = pd.DataFrame(
        {"customer_id": h["customer_id"], "campaign_id": h["campaign_id"], "day": local_days(h)}
    )
    stats = grouped.groupby(["customer_id", "campaign_id"], sort=False)["day"].agg(["size", "max"])
    return {
        key: (int(n), last.date())
        for key, n, last in zip(stats.index, stats["size"], stats["max"], strict=True)
    }


def _p_at(score: _Score | None, hour: int) -> float | None:
    if score is None:
        return None
    if score.p_by_hour is not None and hour < len(score.p_by_hour):
        v = score.p_by_hour[hour]
        if not np.isnan(v):
            return float(v)
    return score.p_engage


class _Decider:
    def __init__(self, inp: DecisionInputs, campaigns: list[Campaign], rules: Rules):
        self.inp, self.rules = inp, rules
        self.run_date = inp.run_date.isoformat()
        self.send_day = inp.send_day
        self.now = inp.now.to_pydatetime()
        self.campaigns = {c.id: c for c in campaigns if c.is_active(self.send_day)}
        cust = inp.customers.drop_duplicates("customer_id").reset_index(drop=True)
        self.inp = inp = dataclasses.replace(inp, customers=cust)  # the caller's stay as they were
        # Only what a message needs: a dict of all 20 columns costs ~1 KB a person (1 GB at 1M).
        wanted = ["customer_id", "timezone", "country_code", "source_customer_id", *DESTINATION.values()]
        self.people = {r["customer_id"]: r for r in cust[wanted].to_dict("records")}
        self.erased = set(cust.loc[erased(inp), "customer_id"])
        # only who cannot get each channel (most people can: a None per person costs ~100 MB at 1M)
        self.unreachable = {
            ch: {cid: r for cid, r in zip(cust["customer_id"], s, strict=True) if isinstance(r, str)}
            for ch, s in unreachable_reasons(inp).items()
        }
        self.session, self.checkout = active_now(inp, rules)
        self.bought = bought_pairs(inp, rules)
        self.saturated = saturated(inp, rules)
        self.scores = _scores(inp.scores)
        self.caps = CapBook(rules, inp.history, self.campaigns, self.saturated)
        self.throughput = timing.Throughput(dict(rules.throughput_per_minute))
        self.past = _past_sends(inp.history, [c for c in self.campaigns.values() if c.has_limits])
        self.windows: dict[tuple[str, str, str | None], str | timing.Window] = {}
        self.pausers: dict[str, str] = {}
        self.channel_of: dict[str, str] = {}
        # one tuple per message (OUTBOX_COLUMNS): a dict of 20 keys costs ~1 KB more (~1 GB at 1M)
        self.messages: list[tuple[Any, ...]] = []
        self.suppressed: list[tuple] = []
        self.unlogged: Counter = Counter()

    # -- helpers -------------------------------------------------------------------------
    def _window(self, tz: timing.ZoneInfo, channel: str, country: str | None) -> str | timing.Window:
        key = (tz.key, channel, country)
        if key not in self.windows:
            hours = timing.allowed_hours(self.rules, channel, country, self.send_day)
            if isinstance(hours, str):
                self.windows[key] = hours
            else:
                w = timing.make_window(self.send_day, tz, hours[0], hours[1], self.now)
                self.windows[key] = w if w else f"no {channel} hours left on {self.send_day} local"
        return self.windows[key]

    def _campaign_limit(self, c: Campaign, cid: str) -> str | None:
        if not c.has_limits:
            return None
        past = self.past.get((cid, c.id))
        if past is None:
            return None
        count, last = past
        if c.max_sends_per_person and count >= c.max_sends_per_person:
            return f"already queued {count} time(s), at most {c.max_sends_per_person} per person"
        if c.min_days_between_sends and (self.send_day - last).days < c.min_days_between_sends:
            return f"last queued for {last}, at least {c.min_days_between_sends} days apart"
        return None

    def _order(self, c: Campaign, cid: str, reach: list[str]) -> list[str]:
        if c.channels.selection != "model":
            return reach
        pref = c.channels.preference()

        def key(ch: str) -> tuple[int, int]:
            s = self.scores.get((cid, ch))
            return (s.rank if s and s.rank is not None else 99, pref.index(ch))

        return sorted(reach, key=key)

    def _suppress(self, cid: str, c: Campaign, channel: str | None, rule: str, detail: str) -> None:
        if rule in UNLOGGED_RULES:
            self.unlogged[(c.id, rule)] += 1
        else:
            self.suppressed.append((cid, c.id, channel, rule, detail))

    # -- one candidate -------------------------------------------------------------------
    def consider(self, row: Any) -> None:
        c: Campaign = self.campaigns[row.campaign_id]
        cid = row.customer_id
        person = self.people.get(cid)
        if person is None:
            return self._suppress(cid, c, None, "unknown_customer", "not in marts.dim_customers")
        if cid in self.erased:
            return self._suppress(cid, c, None, "erased", "identifier in ops.erasure_tombstones")
        pref = c.channels.preference()
        why_not = {ch: self.unreachable[ch].get(cid) for ch in pref}
        reach = [ch for ch in pref if why_not[ch] is None]
        if not reach:
            detail = "; ".join(f"{ch}: {why_not[ch]}" for ch in pref)
            return self._suppress(cid, c, pref[0], why_not[pref[0]], detail)
        if not c.is_transactional:
            if cid in self.checkout:
                return self._suppress(cid, c, None, "in_checkout", "checkout started and no order yet")
            if cid in self.session:
                return self._suppress(cid, c, None, "active_session", "on the storefront right now")
            pauser = self.pausers.get(cid)
            if pauser and pauser != c.id:
                return self._suppress(cid, c, None, "paused_by_win_back", f"in the audience of {pauser}")
        if isinstance(row.sku, str) and (cid, row.sku) in self.bought:
            return self._suppress(cid, c, None, "already_bought", f"bought {row.sku} recently")
        limit = self._campaign_limit(c, cid)
        if limit:
            return self._suppress(cid, c, None, "campaign_limit", limit)
        order = self._order(c, cid, reach)
        forced = self.channel_of.get(cid)
        failures: list[tuple[str, str, str]] = []
        for ch in order:
            if self._try(row, c, person, ch, order, failures, why_not, forced):
                return None
        ch, rule, detail = failures[0]
        self._suppress(cid, c, ch, rule, "; ".join(f"{f[0]}: {f[1]} ({f[2]})" for f in failures))
        return None

    def _try(self, row, c, person, ch, order, failures, why_not, forced) -> bool:  # noqa: ANN001
        cid = row.customer_id
        tz = timing.zone(person["timezone"], self.rules.default_timezone)
        country = person["country_code"] if isinstance(person["country_code"], str) else None
        window = self._window(tz, ch, country)
        if isinstance(window, str):
            failures.append((ch, "sms_country_rule" if "SMS" in window else "no_send_time", window))
            return False
        blocked = self.caps.blocked(cid, c, ch, self.send_day)
        if blocked:
            failures.append((ch, *blocked))
            return False
        if forced and ch != forced:  # one channel per person per day, whatever the campaign
            failures.append((ch, "one_channel_per_day", f"already messaged by {forced} today"))
            return False
        score = self.scores.get((cid, ch))
        trig = c.audience.trigger
        if (
            trig is not None
            and trig.send_at_trigger_time
            and row.due_at is not None
            and not pd.isna(row.due_at)
        ):
            at = timing.trigger_time(window, row.due_at.to_pydatetime())
            if at is None:
                failures.append(
                    (ch, "outside_send_window", f"due {row.due_at:%Y-%m-%d %H:%M} UTC, after allowed hours")
                )
                return False
            when = (
                "the trigger's time"
                if at == timing.ceil_minute(row.due_at.to_pydatetime())
                else ("the trigger was due earlier, so the first allowed time")
            )
        else:
            picked = timing.model_hour(
                window, self.send_day, score.best_hour if score else None, score.p_by_hour if score else None,
                self.rules.default_local_hour,
            )  # fmt: skip
            if picked is None:
                failures.append((ch, "no_send_time", "no allowed hour left"))
                return False
            hour, when = picked
            at = timing.hour_start(window, self.send_day, hour)
        holdout = hashing.is_holdout(c.id, cid, c.holdout(self.rules.default_holdout_share))
        wanted = at
        if not holdout:  # the control group is never sent, so it takes no throughput
            at = self.throughput.take(ch, at, window)
            if at is None:
                failures.append((ch, "throughput_limit", f"{ch} sends per minute exhausted in the window"))
                return False
        self._accept(
            row, c, person, ch, at, wanted, when, holdout, order, failures, why_not, forced, score, tz
        )
        return True

    def _channel_reason(self, c: Campaign, ch: str, order, failures, why_not, forced, score) -> str:  # noqa: ANN001
        skipped = [f"{ch2} {why}" for ch2, why in why_not.items() if why is not None]
        skipped += [f"{f[0]} {f[1]}: {f[2]}" for f in failures]
        tail = f" ({'; '.join(skipped)})" if skipped else ""
        if forced:
            return f"{ch}: same channel as this person's higher-priority message today{tail}"
        if c.channels.selection == "fixed":
            return f"{ch}: the campaign's only channel"
        if c.channels.selection == "fallback":
            first = c.channels.preference()[0]
            return f"{ch}: the campaign's first choice" if ch == first else f"{ch}: fallback{tail}"
        if score and score.rank is not None:
            return f"{ch}: the model's best reachable channel (rank {score.rank}){tail}"
        return f"{ch}: campaign default order, no model score{tail}"

    def _accept(
        self, row, c, person, ch, at, wanted, when, holdout, order, failures, why_not, forced, score, tz
    ) -> None:  # noqa: ANN001
        cid = row.customer_id
        local = at.astimezone(tz)
        self.caps.add(cid, c, ch, self.send_day)
        self.channel_of[cid] = ch
        shift = int((at - wanted).total_seconds() // 60)
        time_reason = f"{local:%H:%M} local ({tz.key}): {when}"
        if shift:
            time_reason += f", moved {shift:+d} min by the {ch} throughput limit"
        reason = f"{c.label} ({c.use_case}, priority {c.priority}): {row.detail}"
        if c.incentive:
            reason += f"; offer {c.incentive.describe()}"
        reason += f". Channel {self._channel_reason(c, ch, order, failures, why_not, forced, score)}."
        reason += f" Time {time_reason}."
        if score and score.reason:
            reason += f" Model: {score.reason}."
        if holdout:
            reason += (
                f" Held out: control group ({c.holdout(self.rules.default_holdout_share):.0%}), never sent."
            )
        p = _p_at(score, local.hour)
        self.messages.append(
            (
                hashing.message_id(self.run_date, c.id, cid, ch),  # message_id
                cid,  # customer_id
                person["source_customer_id"] if pd.notna(person["source_customer_id"]) else None,
                c.id,  # campaign_id
                c.use_case,
                ch,  # channel
                str(person[DESTINATION[ch]]).strip(),  # destination
                pd.Timestamp(at),  # send_at_utc
                tz.key,  # timezone
                local.isoformat(timespec="seconds"),  # send_at_local
                c.priority,
                hashing.pick_variant(c.id, cid, [(v.id, v.split) for v in c.variants]),  # variant
                holdout,  # is_holdout
                score.model_version if score else None,
                p,  # p_engage
                reason,
                row.sku if isinstance(row.sku, str) else None,  # sku
                row.trigger_at if pd.notna(row.trigger_at) else None,  # trigger_at
                ",".join(c.tags),  # tags
                c.counts,  # counts_toward_caps
            )
        )

    def run(self) -> Decision:
        cands = candidates(self.inp, list(self.campaigns.values()), self.rules)
        cands["_priority"] = cands["campaign_id"].map(lambda x: self.campaigns[x].priority)
        # Win-back pauses its audience's other promotions, whether or not it sends today.
        pausing = {c.id for c in self.campaigns.values() if c.pauses_other_promotions}
        paused = cands[cands["campaign_id"].isin(pausing)].sort_values(
            ["_priority", "campaign_id"], ascending=[False, True]
        )
        self.pausers = dict(zip(paused["customer_id"][::-1], paused["campaign_id"][::-1], strict=True))
        # Highest priority first (globally, so each person's messages come in priority order).
        cands = cands.sort_values(["_priority", "campaign_id", "customer_id"], ascending=[False, True, True])
        for row in cands.itertuples(index=False):
            self.consider(row)
        del cands
        outbox = pd.DataFrame.from_records(self.messages, columns=OUTBOX_COLUMNS)
        self.messages = []  # each list is freed once its frame exists: they peak one at a time
        outbox = outbox.sort_values(["send_at_utc", "message_id"]).reset_index(drop=True)
        supp = pd.DataFrame.from_records(self.suppressed, columns=SUPPRESSION_COLUMNS)
        self.suppressed = []
        supp = supp.sort_values(["campaign_id", "customer_id"]).reset_index(drop=True)
        return Decision(outbox, supp, self.unlogged)


def decide(inputs: DecisionInputs, campaigns: list[Campaign], rules: Rules) -> Decision:
    return _Decider(inputs.normalise(), campaigns, rules).run()


def summarize(decision: Decision, campaigns: list[Campaign]) -> dict[str, Any]:
    """The summary dict: queued (to send), held_out, suppressed by rule, per campaign."""
    out, supp = decision.outbox, decision.suppressions
    suppressed: Counter = Counter(supp["rule"])
    for (_, rule), n in decision.unlogged.items():
        suppressed[rule] += n
    by_campaign: dict[str, Any] = {}
    for c in campaigns:
        mine = out[out["campaign_id"] == c.id]
        sent = mine[~mine["is_holdout"].astype(bool)]
        rules = Counter(supp.loc[supp["campaign_id"] == c.id, "rule"])
        for (cid, rule), n in decision.unlogged.items():
            if cid == c.id:
                rules[rule] += n
        if mine.empty and not rules:
            continue
        by_campaign[c.id] = {
            "channel": {k: int(v) for k, v in sorted(Counter(sent["channel"]).items())},
            "queued": len(sent),
            "held_out": len(mine) - len(sent),
            "suppressed": dict(sorted(rules.items())),
        }
    n_hold = int(out["is_holdout"].astype(bool).sum()) if len(out) else 0
    return {
        "queued": len(out) - n_hold,
        "held_out": n_hold,
        "suppressed": dict(sorted(suppressed.items())),
        "by_campaign": by_campaign,
    }
