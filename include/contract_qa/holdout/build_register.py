#!/usr/bin/env python3
"""Build register.db for the held-out contract QA set (stdlib only)."""
import os
import sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))
DB = os.path.join(HERE, "register.db")

ROWS = [
    # value_eur: minimum purchase commitment EUR 1,200,000 x 3 contract years (initial term)
    ("nordlys_distribution", "contracts/nordlys_distribution.md", "Halden & Crane Vertrieb GmbH",
     "distribution agreement", 3600000.0, "2025-03-01", "2028-02-29", 1, 120, "Sweden"),
    # value_eur: GBP 2,500,000 facility converted at 1.17 EUR/GBP; notice_days = prepayment notice
    ("kestrel_term_loan", "contracts/kestrel_term_loan.md", "Harbourline Capital Partners LLP",
     "loan agreement", 2925000.0, "2025-06-02", "2030-09-30", 0, 20, "England and Wales"),
]

def main():
    if os.path.exists(DB):
        os.remove(DB)
    con = sqlite3.connect(DB)
    con.execute(
        "CREATE TABLE contracts(contract_id TEXT PRIMARY KEY, document TEXT, counterparty TEXT, "
        "contract_type TEXT, value_eur REAL, start_date TEXT, end_date TEXT, auto_renewal INTEGER, "
        "notice_days INTEGER, governing_law TEXT)"
    )
    con.executemany("INSERT INTO contracts VALUES (?,?,?,?,?,?,?,?,?,?)", ROWS)
    con.commit()
    con.close()
    print(f"wrote {len(ROWS)} rows to {DB}")

if __name__ == "__main__":
    main()
