"""Shopify orders (one row per line item, no customer id) and customer export snapshots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rightsend.demo import behaviour as bh
from rightsend.demo.catalog import Catalog
from rightsend.demo.clock import DAY, shopify
from rightsend.demo.population import DOMAINS, FIRST, LAST
from rightsend.demo.world import ORDER_CENTS, ORDER_COUNT, World

ORDER_RATE = np.array([1 / 12, 1 / 30, 1 / 18, 1 / 35, 1 / 40, 1 / 150])  # per day, by archetype
SOURCES = np.array(["web", "iphone", "pos", "shopify_draft_order"])
STATUSES = np.array(["paid", "pending", "authorized", "refunded", "partially_refunded", "voided"])
STATUS_P = [0.86, 0.03, 0.02, 0.035, 0.035, 0.02]
STREETS = np.array(
    ["Main St", "Oak Ave", "High Street", "Hauptstraße", "Rue de la Paix", "George St", "Elm Rd"]
)


def _money(cents: np.ndarray) -> np.ndarray:
    return np.char.mod("%.2f", np.asarray(cents) / 100)


def purchase_rate(world: World, day: int) -> np.ndarray:
    pop = world.pop
    rate = ORDER_RATE[pop.archetype] * bh.activity(day, pop.silent_day, pop.decline_day)
    return np.where(world.alive(day), rate, 0.0)


def orders_for_day(world: World, day: int, catalog: Catalog) -> pd.DataFrame:
    """Place the day's orders; return web orders (person, time, sku) for their sessions."""
    rng = world.rng(404, day)
    pop, cal = world.pop, world.cal
    who = np.flatnonzero(rng.random(pop.n) < purchase_rate(world, day))
    hour = np.clip(np.round(pop.peak_hour[who] + rng.normal(0, 3, len(who))), 6, 23).astype(np.int64)
    local = day * DAY + hour * 3600 + rng.integers(0, 3600, len(who))
    ts = cal.local_to_utc(pop.zone[who], local)
    conv_who, conv_ts = world.take_conversions(day)
    keep = world.alive(day)[conv_who] if len(conv_who) else np.array([], dtype=bool)
    who = np.concatenate([who, conv_who[keep]])
    ts = np.concatenate([ts, conv_ts[keep]])
    n_guest = rng.poisson(0.02 * len(who) + 0.05)
    who = np.concatenate([who, np.full(n_guest, -1)])
    ts = np.concatenate(
        [
            ts,
            cal.local_to_utc(
                np.full(n_guest, cal.shop_zone), day * DAY + rng.integers(8, 22, n_guest) * 3600
            ),
        ]
    )
    if not len(who):
        return pd.DataFrame()
    order = np.argsort(ts, kind="stable")
    who, ts = who[order], ts[order]
    n = len(who)
    cust = who >= 0
    w = np.where(cust, who, 0)

    email = np.where(cust, pop.email[w], "")
    phone = np.where(cust, pop.phone[w], "")
    by_phone = cust & (phone != "") & ((email == "") | (rng.random(n) < 0.04))
    email = np.where(by_phone, "", email)
    shout = rng.random(n) < 0.03  # people type their address with capitals at checkout
    email = np.where(shout, np.strings.capitalize(email.astype(str)), email)
    gf, gl = np.array(FIRST["US"].split()), np.array(LAST["US"].split())
    g_first, g_last = gf[rng.integers(0, len(gf), n)], gl[rng.integers(0, len(gl), n)]
    guest_email = np.strings.add(
        np.strings.add(np.strings.lower(g_first), np.strings.add(".", np.strings.lower(g_last))),
        np.strings.add(
            rng.integers(100, 999, n).astype(str), np.strings.add("@", DOMAINS[rng.integers(0, 3, n)])
        ),
    )
    email = np.where(cust, email, guest_email)
    name = np.where(
        cust,
        np.strings.add(np.strings.add(pop.first[w], " "), pop.last[w]),
        np.strings.add(np.strings.add(g_first, " "), g_last),
    )
    country = np.where(cust, pop.country[w], "US")

    source = SOURCES[rng.choice(4, n, p=[0.7, 0.12, 0.12, 0.06])]
    status = STATUSES[rng.choice(len(STATUSES), n, p=STATUS_P)]
    n_lines = 1 + rng.binomial(3, 0.25, n)
    pub = np.flatnonzero(catalog.published())
    weights = catalog.popularity[pub] / catalog.popularity[pub].sum()
    line_order = np.repeat(np.arange(n), n_lines)
    sku_i = pub[rng.choice(len(pub), len(line_order), p=weights)]
    price, _ = catalog.price_cents(day)
    qty = 1 + (rng.random(len(line_order)) < 0.15)
    line_cents = price[sku_i] * qty
    subtotal = np.bincount(line_order, weights=line_cents, minlength=n).astype(np.int64)
    has_code = rng.random(n) < 0.2
    discount = np.where(has_code, np.round(subtotal * 0.1), 0).astype(np.int64)
    shipping = np.where(subtotal - discount >= 7500, 0, 599)
    total = subtotal - discount + shipping
    refunded = np.select(
        [status == "refunded", status == "partially_refunded"],
        [total, np.round(total * rng.uniform(0.2, 0.6, n))],
        0,
    ).astype(np.int64)
    cancelled = (status == "voided") | ((status == "refunded") & (rng.random(n) < 0.5))
    cancel_ts = np.minimum(
        ts + rng.integers(600, 12 * 3600, n), (ts // DAY + 1) * DAY - 1
    )  # before the export
    counted = ~cancelled & (status != "voided")
    net = np.where(counted, total - refunded, 0)

    ids = 5_400_000_000_000 + (world.order_counter + np.arange(n)) * 37
    names = np.strings.add("#", (1001 + world.order_counter + np.arange(n)).astype(str))
    world.order_counter += n
    created = shopify(cal, ts)
    first = np.r_[True, line_order[1:] != line_order[:-1]]

    def head(values: np.ndarray) -> np.ndarray:  # order-level fields: first line item row only
        return np.where(first, np.asarray(values, dtype=object)[line_order], "")

    lo = line_order
    frame = pd.DataFrame(
        {
            "Name": names[lo],
            "Email": email[lo],
            "Financial Status": head(status),
            "Paid at": head(
                np.where(np.isin(status, ["paid", "refunded", "partially_refunded"]), created, "")
            ),
            "Fulfillment Status": head(np.where(counted, "fulfilled", "unfulfilled")),
            "Accepts Marketing": head(np.where(cust & world.email_ok[w], "yes", "no")),
            "Currency": head(np.full(n, "USD")),
            "Subtotal": head(_money(subtotal)),
            "Shipping": head(_money(shipping)),
            "Taxes": head(np.full(n, "0.00")),
            "Total": head(_money(total)),
            "Discount Code": head(np.where(has_code, "WELCOME10", "")),
            "Discount Amount": head(_money(discount)),
            "Created at": created[lo],
            "Lineitem quantity": qty,
            "Lineitem name": np.strings.add(
                np.strings.add(catalog.title[sku_i], " - "), catalog.option[sku_i]
            ),
            "Lineitem price": _money(price[sku_i]),
            "Lineitem sku": catalog.sku[sku_i],
            "Billing Name": head(name),
            "Billing Country": head(country),
            "Cancelled at": head(np.where(cancelled, shopify(cal, cancel_ts), "")),
            "Payment Method": head(np.full(n, "Shopify Payments")),
            "Refunded Amount": head(_money(refunded)),
            "Vendor": catalog.handles["vendor"].to_numpy()[catalog.handle_of[sku_i]],
            "Id": ids[lo],
            "Tags": "",
            "Source": head(source),
            "Phone": head(phone),
            "_ts": ts[lo],
        }
    )
    world.landing.emit("orders", frame)
    world.change(ORDER_COUNT, who[cust], ts[cust], counted[cust].astype(np.int64))
    world.change(ORDER_CENTS, who[cust], ts[cust], net[cust])
    first_sku = catalog.sku[sku_i[first]]
    web = cust & (source == "web")
    return pd.DataFrame({"who": who[web], "ts": ts[web], "sku": first_sku[web]})


def customers_frame(world: World, idx: np.ndarray, day: int) -> pd.DataFrame:
    """Customer export rows for `idx` as of the end of UTC `day`."""
    pop = world.pop
    idx = idx[~world.erased[idx]]
    n = len(idx)
    rng = world.rng(505, day)
    champion = pop.archetype[idx] == bh.CHAMPION
    tags = np.where(
        champion & (world.total_orders[idx] > 5), "VIP", np.where(pop.has_app[idx], "app-user", "")
    )
    phone = np.where(pop.national_in_export[idx], pop.phone_national[idx], pop.phone[idx])
    frame = pd.DataFrame(
        {
            "Customer ID": pop.cust_id[idx],
            "First Name": pop.first[idx],
            "Last Name": pop.last[idx],
            "Email": pop.email[idx],
            "Accepts Email Marketing": np.where(world.email_ok[idx], "yes", "no"),
            "Default Address Company": "",
            "Default Address Address1": np.strings.add(
                (idx % 180 + 1).astype(str), np.strings.add(" ", STREETS[idx % len(STREETS)])
            ),
            "Default Address City": pop.city[idx],
            "Default Address Province Code": pop.province[idx],
            "Default Address Country Code": pop.country[idx],
            "Default Address Zip": np.strings.zfill((idx * 7919 % 90000 + 10000).astype(str), 5),
            "Default Address Phone": np.where(rng.random(n) < 0.5, pop.phone_national[idx], ""),
            "Phone": phone,
            "Accepts SMS Marketing": np.where(world.sms_ok[idx] & (pop.phone[idx] != ""), "yes", "no"),
            "Total Spent": _money(world.total_spent[idx]),
            "Total Orders": world.total_orders[idx],
            "Note": "",
            "Tax Exempt": "no",
            "Tags": tags,
            "Created At": shopify(world.cal, pop.created_sec[idx]),
            "_ts": day * DAY + 23 * 3600,
            "_dt": day,
        }
    )
    return frame
