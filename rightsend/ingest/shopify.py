"""Shopify exports: customers, orders (one row per line item), catalog (products/variants)."""

from __future__ import annotations

from typing import Any

from rightsend.ingest import normalize as n
from rightsend.ingest.source import Source

FINANCIAL_STATUSES = frozenset({"paid", "pending", "refunded", "partially_refunded", "voided", "authorized"})


def _customer(f: dict[str, Any], state: dict[str, Any]) -> tuple[Any, ...]:
    country = n.text(f.get("default address country code"))
    raw_phone = n.text(f.get("phone"))
    phone = n.phone(raw_phone, country)
    if raw_phone and not phone:
        state.setdefault("_invalid", {})["Phone"] = raw_phone
    return (
        n.require(f.get("customer id"), "Customer ID"),
        n.text(f.get("first name")),
        n.text(f.get("last name")),
        n.email(f.get("email")),
        n.boolean(f.get("accepts email marketing"), "Accepts Email Marketing"),
        phone,
        n.boolean(f.get("accepts sms marketing"), "Accepts SMS Marketing"),
        n.text(f.get("default address city")),
        n.text(f.get("default address province code")),
        country.upper() if country else None,
        n.amount(f.get("total spent"), "Total Spent"),
        n.integer(f.get("total orders"), "Total Orders", allow_negative=False),
        n.text(f.get("tags")),
        n.timestamp(f.get("created at"), "Created At"),
        n.timestamp(f.get("updated at"), "Updated At"),
    )


def _order(f: dict[str, Any], state: dict[str, Any]) -> tuple[Any, ...]:
    order_id = n.require(f.get("id"), "Id")
    seen: set[str] = state.setdefault("orders", set())
    first_row = order_id not in seen
    status = n.text(f.get("financial status"))
    created = n.timestamp(f.get("created at"), "Created at")
    if first_row:
        # Order-level fields live on an order's first row; later rows may leave them blank
        # (kept null here, dbt fills them from the first row).
        if created is None:
            raise n.Reject("missing required field Created at")
        if status is None:
            raise n.Reject("missing required field Financial Status")
    if status is not None:
        status = n.one_of(status, FINANCIAL_STATUSES, "Financial Status", "unknown financial status")
    raw_phone = n.text(f.get("phone"))
    phone = n.phone(raw_phone)
    if raw_phone and not phone:
        state.setdefault("_invalid", {})["Phone"] = raw_phone
    row = (
        order_id,
        n.text(f.get("name")),
        n.email(f.get("email")),
        phone,
        status,
        created,
        n.timestamp(f.get("cancelled at"), "Cancelled at"),
        n.text(f.get("currency")),
        n.amount(f.get("subtotal"), "Subtotal"),
        n.amount(f.get("discount amount"), "Discount Amount"),
        n.amount(f.get("total"), "Total"),
        n.amount(f.get("refunded amount"), "Refunded Amount"),
        n.integer(f.get("lineitem quantity"), "Lineitem quantity", allow_negative=False),
        n.text(f.get("lineitem name")),
        n.amount(f.get("lineitem price"), "Lineitem price"),
        n.text(f.get("lineitem sku")),
        n.text(f.get("vendor")),
        n.text(f.get("source")),
    )
    seen.add(order_id)  # only once the row is good: a bad first row leaves the next one first
    return row


def _product(f: dict[str, Any], state: dict[str, Any]) -> tuple[Any, ...]:
    handle = n.require(f.get("handle"), "Handle")
    title = n.text(f.get("title"))
    product_type = n.text(f.get("type"))
    published = n.boolean(f.get("published"), "Published")
    row = (
        n.text(f.get("variant sku")),
        n.amount(f.get("variant price"), "Variant Price"),
        n.amount(f.get("variant compare at price"), "Variant Compare At Price"),
        n.integer(f.get("variant inventory qty"), "Variant Inventory Qty"),  # oversold stock is negative
    )
    # Rows after a handle's first may leave Title/Type/Published blank: they inherit.
    first = state.setdefault("handles", {}).setdefault(handle, (title, product_type, published))
    title = title if title is not None else first[0]
    product_type = product_type if product_type is not None else first[1]
    published = published if published is not None else first[2]
    return (handle, title, product_type, *row, published)


CUSTOMERS = Source(
    name="customers",
    table="customers",
    fmt="csv",
    columns=(
        "customer_id", "first_name", "last_name", "email", "accepts_email_marketing", "phone",
        "accepts_sms_marketing", "city", "province_code", "country_code", "total_spent",
        "total_orders", "tags", "created_at", "updated_at",
    ),
    fields=(
        "Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing", "Phone",
        "Accepts SMS Marketing", "Default Address City", "Default Address Province Code",
        "Default Address Country Code", "Total Spent", "Total Orders", "Tags", "Created At", "Updated At",
    ),
    required=(
        "Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing", "Phone",
        "Accepts SMS Marketing", "Default Address City", "Default Address Province Code",
        "Default Address Country Code", "Total Spent", "Total Orders", "Tags",
    ),
    parse=_customer,
    identifiers=(("customer_id", "customer_id"), ("email", "email"), ("phone", "phone")),
    links_identities=True,
)  # fmt: skip

ORDERS = Source(
    name="orders",
    table="orders",
    fmt="csv",
    columns=(
        "order_id", "order_name", "email", "phone", "financial_status", "created_at", "cancelled_at",
        "currency", "subtotal", "discount_amount", "total", "refunded_amount", "lineitem_quantity",
        "lineitem_name", "lineitem_price", "lineitem_sku", "vendor", "source",
    ),
    fields=(
        "Id", "Name", "Email", "Phone", "Financial Status", "Created at", "Cancelled at", "Currency",
        "Subtotal", "Discount Amount", "Total", "Refunded Amount", "Lineitem quantity", "Lineitem name",
        "Lineitem price", "Lineitem sku", "Vendor", "Source",
    ),
    required=(
        "Id", "Name", "Email", "Phone", "Financial Status", "Created at", "Cancelled at", "Currency",
        "Subtotal", "Discount Amount", "Total", "Refunded Amount", "Lineitem quantity", "Lineitem name",
        "Lineitem price", "Lineitem sku", "Vendor", "Source",
    ),
    parse=_order,
    identifiers=(("email", "email"), ("phone", "phone")),
    links_identities=True,
)  # fmt: skip

CATALOG = Source(
    name="catalog",
    table="catalog",
    fmt="csv",
    columns=(
        "handle", "title", "product_type", "variant_sku", "variant_price", "variant_compare_at_price",
        "variant_inventory_qty", "published",
    ),
    fields=(
        "Handle", "Title", "Type", "Variant SKU", "Variant Price", "Variant Compare At Price",
        "Variant Inventory Qty", "Published",
    ),
    required=(
        "Handle", "Title", "Type", "Variant SKU", "Variant Price", "Variant Compare At Price",
        "Variant Inventory Qty", "Published",
    ),
    parse=_product,
)  # fmt: skip
