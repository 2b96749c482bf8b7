"""How each of the 9 landing sources is written (see docs/landing-contract.md)."""

from __future__ import annotations

from rightsend.demo.landing import SourceSpec

CUSTOMER_COLUMNS = (
    "Customer ID",
    "First Name",
    "Last Name",
    "Email",
    "Accepts Email Marketing",
    "Default Address Company",
    "Default Address Address1",
    "Default Address City",
    "Default Address Province Code",
    "Default Address Country Code",
    "Default Address Zip",
    "Default Address Phone",
    "Phone",
    "Accepts SMS Marketing",
    "Total Spent",
    "Total Orders",
    "Note",
    "Tax Exempt",
    "Tags",
    "Created At",
)
ORDER_COLUMNS = (
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Billing Name",
    "Billing Country",
    "Cancelled at",
    "Payment Method",
    "Refunded Amount",
    "Vendor",
    "Id",
    "Tags",
    "Source",
    "Phone",
)
CATALOG_COLUMNS = (
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Qty",
    "Variant Price",
    "Variant Compare At Price",
    "Status",
)
SMS_COLUMNS = (
    "Sid",
    "From",
    "To",
    "Body",
    "Status",
    "SentDate",
    "ApiVersion",
    "Direction",
    "NumSegments",
    "ErrorCode",
    "Price",
    "PriceUnit",
    "AccountSid",
)

SPECS: dict[str, SourceSpec] = {
    s.name: s
    for s in (
        SourceSpec("customers", "csv", "customers_export", CUSTOMER_COLUMNS),
        SourceSpec("orders", "csv", "orders_export", ORDER_COLUMNS),
        SourceSpec("catalog", "csv", "products_export", CATALOG_COLUMNS, gzip_share=0.1),
        SourceSpec("email", "email", "sendgrid-events", type_field="event", ts_field="timestamp", messy=True),
        SourceSpec("sms", "csv", "twilio-messages", SMS_COLUMNS, ts_field="SentDate"),
        SourceSpec(
            "sms_clicks", "ndjson", "link-clicks", type_field="event_type", ts_field="click_time", messy=True
        ),
        SourceSpec(
            "push", "ndjson", "push-events", type_field="event_type", ts_field="occurred_at", messy=True
        ),
        SourceSpec(
            "web", "ndjson", "storefront-events", type_field="event_type", ts_field="occurred_at", messy=True
        ),
        SourceSpec("consent", "ndjson", "requests", type_field="type", ts_field="occurred_at"),
    )
}
