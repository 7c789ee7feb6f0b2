"""Build the data-QA samples with planted problems (deterministic).

    python include/data_qa/build_samples.py

SQLite database ``shop.db``:

* ``products``: clean.
* ``customers``: null emails, malformed emails, impossible ages (-3, 212),
  signup dates in the future, a duplicated ``customer_id``; the ``loyalty_tier``
  column of the previous profile is gone (schema drift).
* ``orders``: orders whose ``customer_id`` has no customer (orphan foreign keys),
  negative amounts.

Files in ``files/`` (read through DuckDB):

* ``sku_catalog.csv``: clean.
* ``stock_levels.csv``: malformed warehouse codes, SKUs missing from the catalog.
* ``web_events.parquet``: malformed event ids (not UUIDs); the newest event is
  from the day before ``TODAY``, so the feed is stale.

``PLANTED`` lists every planted problem as (table, column, kind): the tests and
the detection numbers are measured against it.
"""

from __future__ import annotations

import csv
import random
import sqlite3
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DB = HERE / "shop.db"
TODAY = date(2026, 11, 1)

PLANTED = [
    ("customers", "email", "nulls"),
    ("customers", "email", "pattern"),
    ("customers", "age", "out_of_range"),
    ("customers", "signup_date", "future_dates"),
    ("customers", "customer_id", "duplicate_keys"),
    ("customers", "loyalty_tier", "dropped_column"),
    ("orders", "customer_id", "orphan_keys"),
    ("orders", "amount", "negative_values"),
    ("stock_levels", "warehouse", "pattern"),
    ("stock_levels", "sku", "orphan_keys"),
    ("web_events", "event_id", "pattern"),
    ("web_events", "occurred_at", "stale"),
]
FILES = HERE / "files"


def build(path: Path = DB, seed: int = 7) -> Path:
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE products (product_id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                               price REAL NOT NULL, added_on TEXT NOT NULL);
        CREATE TABLE customers (customer_id INTEGER, email TEXT, age INTEGER, signup_date TEXT);
        CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER, product_id INTEGER,
                             amount REAL, ordered_at TEXT);
        """
    )
    products = [(i, f"Product {i}", round(rng.uniform(5, 500), 2),
                 str(TODAY - timedelta(days=rng.randint(30, 900))))
                for i in range(1, 41)]
    con.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", products)

    customers = []
    for i in range(1, 201):
        email = f"user{i}@example.com"
        age = rng.randint(18, 90)
        signup = TODAY - timedelta(days=rng.randint(1, 1500))
        customers.append([i, email, age, str(signup)])
    for i in (5, 17, 42, 99, 150):
        customers[i][1] = None  # null emails
    for i, bad in ((8, "not-an-email"), (23, "jane.doe@"), (61, "bob at example.com")):
        customers[i][1] = bad  # malformed emails
    customers[30][2] = -3
    customers[77][2] = 212  # impossible ages
    customers[12][3] = "2206-03-14"
    customers[140][3] = "2099-12-31"  # future sign-ups (far ahead, so they stay in the future)
    customers.append([50, "dup50@example.com", 40, str(TODAY - timedelta(days=10))])  # duplicate key
    con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", customers)

    orders = []
    for i in range(1, 501):
        orders.append([i, rng.randint(1, 200), rng.randint(1, 40), round(rng.uniform(5, 800), 2),
                       str(TODAY - timedelta(days=rng.randint(0, 365)))])
    for i in (10, 200, 333):
        orders[i][1] = 9000 + i  # customers that do not exist
    orders[44][3] = -25.0
    orders[401][3] = -0.5  # negative amounts
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", orders)
    con.commit()
    con.close()
    return path


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def build_files(folder: Path = FILES, seed: int = 11) -> list[Path]:
    """CSV and Parquet samples (the Parquet file is written by DuckDB)."""
    import duckdb

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    catalog = [[f"SKU-{i:05d}", f"Item {i}", round(rng.uniform(1, 300), 2),
                rng.choice(["tools", "garden", "kitchen"])]
               for i in range(1, 61)]
    _write_csv(folder / "sku_catalog.csv", ["sku", "name", "unit_price", "category"], catalog)

    warehouses = ["WH-BER", "WH-MUC", "WH-HAM"]
    stock = [[i, f"SKU-{rng.randint(1, 60):05d}", rng.choice(warehouses), rng.randint(0, 500),
              str(TODAY - timedelta(days=rng.randint(0, 20)))] for i in range(1, 301)]
    stock[7][2], stock[150][2] = "wh-ber", "Berlin"  # malformed warehouse codes
    stock[20][1], stock[99][1], stock[260][1] = "SKU-09999", "SKU-00777", "SKU-00061"  # not in the catalog
    _write_csv(folder / "stock_levels.csv", ["stock_id", "sku", "warehouse", "quantity", "counted_at"], stock)

    events = []
    newest = datetime(TODAY.year, TODAY.month, TODAY.day) - timedelta(days=1)
    for i in range(1000):
        moment = newest - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        events.append([str(uuid.UUID(int=rng.getrandbits(128), version=4)), rng.randint(1, 200),
                       rng.choice(["view", "cart", "purchase"]), moment.isoformat(sep=" ")])
    events[0][3] = newest.isoformat(sep=" ")
    events[3][0], events[500][0] = "evt-3", "12345"  # not UUIDs
    staging = folder / "web_events.csv"
    _write_csv(staging, ["event_id", "user_id", "event_type", "occurred_at"], events)
    target = folder / "web_events.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{staging}', timestampformat='%Y-%m-%d %H:%M:%S') "
               "ORDER BY occurred_at) "
               f"TO '{target}' (FORMAT parquet)")
    staging.unlink()
    return [folder / "sku_catalog.csv", folder / "stock_levels.csv", target]


def write_baseline(path: Path = HERE / "baselines" / "shop_customers.json") -> Path:
    """The previous profile of ``customers``: it still had the ``loyalty_tier`` column."""
    import json

    column = {"nulls": 0, "null_rate": 0.0}
    previous = {
        "dataset_id": "shop_customers",
        "table": "customers",
        "row_count": 190,
        "columns": {
            "customer_id": {"name": "customer_id", "type": "INTEGER", "distinct": 190, **column},
            "email": {"name": "email", "type": "TEXT", "distinct": 190, **column},
            "age": {"name": "age", "type": "INTEGER", "distinct": 70, **column},
            "signup_date": {"name": "signup_date", "type": "TEXT", "distinct": 180, **column},
            "loyalty_tier": {"name": "loyalty_tier", "type": "TEXT", "distinct": 3, **column},
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(previous, indent=2) + "\n")
    return path


if __name__ == "__main__":
    print(f"wrote {build()}, {write_baseline()}, " + ", ".join(map(str, build_files())))
