"""The shop's catalog: handles with variants, prices (incl. last-days price drops) and stock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rightsend.demo.clock import DAY, Calendar

KINDS = {  # Type: (nouns, option name, option values, price range)
    "Apparel": (
        ["Tee", "Hoodie", "Jacket", "Sweater", "Overshirt"],
        "Size",
        ["S", "M", "L", "XL"],
        (25, 180),
    ),
    "Shoes": (["Sneaker", "Boot", "Loafer", "Runner"], "Size", ["39", "40", "41", "42", "43"], (60, 220)),
    "Accessories": (
        ["Scarf", "Beanie", "Tote", "Wallet", "Cap"],
        "Color",
        ["Black", "Olive", "Sand"],
        (15, 90),
    ),
    "Home": (["Candle", "Mug", "Throw Blanket", "Vase"], "Color", ["Natural", "Charcoal"], (12, 120)),
    "Beauty": (["Face Serum", "Lip Balm", "Hand Cream", "Shampoo Bar"], "Title", ["Default Title"], (8, 60)),
}
ADJECTIVES = [
    "Classic",
    "Merino",
    "Alpine",
    "Coastal",
    "Everyday",
    "Organic",
    "Midnight",
    "Sage",
    "Harbor",
    "Field",
]
VENDORS = ["Rightsend Goods", "Northwind Supply", "Atelier Nord"]


@dataclass
class Catalog:
    handles: pd.DataFrame  # one row per handle
    sku: np.ndarray
    handle_of: np.ndarray  # sku -> handle row
    option: np.ndarray
    base_cents: np.ndarray
    popularity: np.ndarray
    sale_from: np.ndarray  # temporary sale window start day (or huge)
    drop_day: np.ndarray  # a lasting price drop from this day (one of the last 3 days), or huge
    low_stock: np.ndarray
    cap: np.ndarray
    rate: np.ndarray
    offset: np.ndarray
    end_day: int

    @property
    def category(self) -> np.ndarray:
        return self.handles["type"].to_numpy()[self.handle_of]

    @property
    def title(self) -> np.ndarray:
        return self.handles["title"].to_numpy()[self.handle_of]

    def published(self) -> np.ndarray:
        return self.handles["published"].to_numpy()[self.handle_of]

    def price_cents(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(price, compare-at price or 0) on `day`."""
        on_sale = (day >= self.sale_from) & (day < self.sale_from + 7)
        dropped = day >= self.drop_day
        sale = on_sale | dropped
        price = np.where(
            sale, np.round(self.base_cents * np.where(dropped, 0.75, 0.85) / 100) * 100 - 1, self.base_cents
        )
        return price.astype(np.int64), np.where(sale, self.base_cents, 0)

    def inventory(self, day: int) -> np.ndarray:
        inv = self.cap - (self.rate * day + self.offset) % self.cap
        return np.where(self.low_stock & (day >= self.end_day - 4), inv % 4, inv)

    def snapshot(self, day: int) -> pd.DataFrame:
        h = self.handles.iloc[self.handle_of].reset_index(drop=True)
        first = np.r_[True, self.handle_of[1:] != self.handle_of[:-1]]
        price, compare = self.price_cents(day)
        blank = np.where(first, None, "")

        def head(col: pd.Series) -> np.ndarray:  # later variant rows leave product fields blank
            return np.where(first, col.to_numpy(dtype=object), blank).astype(object)

        frame = pd.DataFrame(
            {
                "Handle": h["handle"],
                "Title": head(h["title"]),
                "Body (HTML)": head(h["body"]),
                "Vendor": head(h["vendor"]),
                "Type": head(h["type"]),
                "Tags": head(h["tags"]),
                "Published": head(h["published"].map({True: "TRUE", False: "FALSE"})),
                "Option1 Name": head(h["option_name"]),
                "Option1 Value": self.option,
                "Variant SKU": self.sku,
                "Variant Grams": 250,
                "Variant Inventory Qty": self.inventory(day),
                "Variant Price": np.char.mod("%.2f", price / 100),
                "Variant Compare At Price": np.where(compare > 0, np.char.mod("%.2f", compare / 100), ""),
                "Status": head(h["published"].map({True: "active", False: "draft"})),
            }
        )
        frame["_ts"] = day * DAY + 3 * 3600
        frame["_dt"] = day
        return frame


def build_catalog(rng: np.random.Generator, customers: int, cal: Calendar) -> Catalog:
    n_handles = int(np.clip(40 + customers // 2000, 40, 400))
    kinds = list(KINDS)
    rows, skus, handle_of, options, base = [], [], [], [], []
    for h in range(n_handles):
        kind = kinds[h % len(kinds)]
        nouns, opt_name, values, (lo, hi) = KINDS[kind]
        title = f"{ADJECTIVES[rng.integers(len(ADJECTIVES))]} {nouns[rng.integers(len(nouns))]}"
        handle = f"{title.lower().replace(' ', '-')}-{h:03d}"
        price = int(rng.integers(lo, hi)) * 100 - 1
        n_var = len(values) if len(values) == 1 else int(rng.integers(2, len(values) + 1))
        rows.append(
            {
                "handle": handle,
                "title": title,
                "type": kind,
                "vendor": VENDORS[h % len(VENDORS)],
                "tags": f"{kind.lower()}, fw26",
                "body": f"<p>The {title.lower()}, made to last.</p>",
                "option_name": opt_name,
                "published": bool(rng.random() > 0.06),
            }
        )
        for v in values[:n_var]:
            skus.append(f"RS-{h:04d}-{v.replace(' ', '').upper()[:3]}")
            handle_of.append(h)
            options.append(v)
            base.append(price)
    k = len(skus)
    sale_from = np.where(rng.random(k) < 0.12, cal.start_day + rng.integers(0, cal.days, k), 10**9)
    return Catalog(
        handles=pd.DataFrame(rows),
        sku=np.array(skus),
        handle_of=np.array(handle_of),
        option=np.array(options),
        base_cents=np.array(base, dtype=np.int64),
        popularity=rng.zipf(1.6, k).clip(1, 50).astype(float),
        sale_from=sale_from,
        drop_day=np.where(rng.random(k) < 0.12, cal.end_day - rng.integers(0, 3, k), 10**9),
        low_stock=rng.random(k) < 0.08,
        cap=rng.integers(40, 400, k),
        rate=rng.integers(1, 6, k),
        offset=rng.integers(0, 400, k),
        end_day=cal.end_day,
    )
