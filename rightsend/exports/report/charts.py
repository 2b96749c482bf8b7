"""Which chart shows which section: data dicts (report.data) in, SVG markup (report.svg) out."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from rightsend.exports.report import svg

HOURS = [f"{h:02d}" for h in range(24)]


def _share(values: list[int]) -> list[float]:
    total = sum(values)
    return [v / total if total else 0.0 for v in values]


def build_all(ctx: dict[str, Any]) -> dict[str, Markup]:
    q, seg, ch, hrs, sup, mdl = (
        ctx[k] for k in ("queue", "segments", "channels", "hours", "suppression", "model")
    )
    out: dict[str, Markup] = {}
    campaigns = q["campaigns"]
    out["queue_campaign"] = svg.hbar_chart(
        "queue-by-campaign",
        "Messages to send tomorrow, by campaign and channel",
        campaigns,
        [(c, [q["by_campaign"][k][c] for k in campaigns]) for c in ("email", "sms", "push")],
        "Messages (count)",
    )
    out["queue_hour"] = svg.bar_chart(
        "queue-by-hour",
        "Messages to send by local hour and channel",
        HOURS,
        [(c, q["hours"][c]) for c in ("email", "sms", "push")],
        "Local send hour (00-23, recipient's time zone)",
        "Messages (count)",
        stacked=True,
        label_every=2,
    )
    sizes = seg["sizes"]
    out["segment_sizes"] = svg.hbar_chart(
        "segment-sizes",
        "People per RFM segment today",
        [s["segment"] for s in sizes],
        [("people", [s["n"] for s in sizes])],
        "People (count)",
    )
    out["lifecycle_sizes"] = svg.bar_chart(
        "lifecycle-sizes",
        "People per lifecycle state today",
        [s["state"] for s in seg["lifecycle"]],
        [("people", [s["n"] for s in seg["lifecycle"]])],
        "Lifecycle state",
        "People (count)",
    )
    out["segment_trend"] = svg.line_chart(
        "segment-trend",
        f"RFM segment sizes, last {len(seg['trend_dates'])} daily snapshots",
        [d[5:] for d in seg["trend_dates"]],
        list(seg["trend"].items()),
        "Snapshot date (MM-DD)",
        "People (count)",
    )
    out["rfm_grid"] = svg.heatmap(
        "rfm-grid",
        "RFM grid: people by recency and frequency score",
        ["1", "2", "3", "4", "5"],
        ["5", "4", "3", "2", "1"],
        seg["grid"],
        "Frequency score (F, 5 = most orders)",
        "Recency score (R, 5 = most recent)",
    )
    day = ctx["movement"].get("since_yesterday")
    out["movement"] = (
        svg.heatmap(
            "segment-movement",
            f"RFM segment movement since {day['base_date']}",
            day["labels"],
            day["labels"],
            day["matrix"],
            "Segment today (to)",
            "Segment before (from)",
        )
        if day
        else svg.empty("RFM segment movement", "no snapshot from yesterday to compare with")
    )
    rows = ch["rows"]
    out["channel_mix"] = svg.bar_chart(
        "channel-mix",
        "Channel mix: reachable people and preferred channel",
        [r["channel"] for r in rows],
        [
            ("reachable (consent and working contact)", [r["reachable"] for r in rows]),
            ("preferred channel", [r["preferred"] for r in rows]),
        ],
        "Channel",
        "People (count)",
    )
    out["channel_rates"] = svg.bar_chart(
        "channel-engagement",
        "Engagement rate per message sent, by channel",
        [r["channel"] for r in rows],
        [
            ("last 30 days", [r["rate_30d"] or 0 for r in rows]),
            ("last 90 days", [r["rate_90d"] or 0 for r in rows]),
        ],
        "Channel",
        "Human engagements per send (%)",
        fmt=svg.pct,
    )
    out["send_hours"] = svg.bar_chart(
        "send-hours",
        "Send hour chosen by the model vs the legacy schedule",
        HOURS,
        [
            ("model: best hour (rank-1 channel)", _share(hrs["model"])),
            ("queued today", _share(hrs["queued"])),
            ("legacy sends (history)", _share(hrs["legacy"])),
        ],
        "Local hour of day (recipient's time zone)",
        "Share of messages (%)",
        fmt=svg.pct,
        label_every=2,
    )
    pers = hrs["personal"]
    out["personal"] = svg.hbar_chart(
        "personal-vs-fallback",
        "Personal time and channel vs fallback, by best channel",
        [p["channel"] for p in pers],
        [
            ("personal (own history)", [p["personal"] for p in pers]),
            ("fallback (population/segment)", [p["fallback"] for p in pers]),
        ],
        "People scored (count)",
    )
    rules = sup["rules"]
    out["suppression"] = svg.hbar_chart(
        "suppression-rules",
        "Messages suppressed today, by rule",
        [r["rule"] for r in rules],
        [("suppressed", [r["n"] for r in rules])],
        "Suppressed messages (count)",
    )
    out["calibration"] = (
        svg.calibration_chart("calibration", "Model calibration: predicted vs observed", mdl["calibration"])
        if mdl.get("available")
        else svg.empty("Model calibration", mdl.get("why", "no model"))
    )
    pol = mdl.get("policies") or []
    out["policy"] = (
        svg.hbar_chart(
            "policy-replay",
            "Offline replay: engagement rate by send policy",
            [f"{p['policy']}" for p in pol],
            [("engagement rate", [p["rate"] for p in pol])],
            "Engagement rate of matched held-out sends (%)",
            fmt=svg.pct,
        )
        if pol
        else svg.empty("Offline policy replay", "not in the model's metadata")
    )
    out["lift"] = svg.interval_chart(
        "campaign-lift",
        "Conversion lift over holdout, with 95% intervals",
        [
            (f"{c['campaign_id']} {c['variant']}".strip(), c["lift_abs"], c["lift_ci_low"], c["lift_ci_high"])
            for c in ctx["campaigns"]
            if c["lift_abs"] is not None
        ],
        "Conversion rate, treated minus holdout (percentage points)",
        fmt=lambda v: f"{v * 100:+.1f} pp",
    )
    dq = ctx["quality"]["quarantine"]
    out["quarantine"] = (
        svg.hbar_chart(
            "quarantine",
            "Quarantined rows today, by source and reason",
            [f"{r['source']}: {r['reason']}"[:60] for r in dq],
            [("rows", [r["n"] for r in dq])],
            "Quarantined rows (count)",
        )
        if dq
        else svg.empty("Quarantined rows", "none today")
    )
    return out
