"""Build the data-QA sample database ``shop.db`` with planted problems (deterministic).

    python include/data_qa/build_samples.py

Tables:

* ``products``: clean.
* ``customers``: null emails, malformed emails, impossible ages (-3, 212),
  signup dates in the future, a duplicated ``customer_id``; the ``loyalty_tier``
  column of the previous profile is gone (schema drift).
* ``orders``: orders whose ``customer_id`` has no customer (orphan foreign keys),
  negative amounts.

``PLANTED`` lists every planted problem as (table, column, kind): the tests and
the detection numbers are measured against it.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta
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
]


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
    products = [(i, f"Product {i}", round(rng.uniform(5, 500), 2), str(TODAY - timedelta(days=rng.randint(30, 900))))
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
    customers[12][3] = str(TODAY + timedelta(days=400))
    customers[140][3] = str(TODAY + timedelta(days=30))  # future sign-ups
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
    print(f"wrote {build()} and {write_baseline()}")
