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
    # --- round 2 (written after the code of round 2, measured once)
    # value_eur: Minimum Monthly Charge EUR 38,000 x 36 months (initial term);
    # notice_days = non-renewal notice before end of the Initial Term (clause 3.2)
    ("brightwater_logistics", "contracts/brightwater_logistics.md", "Brightwater Fulfilment B.V.",
     "warehousing and logistics services agreement", 1368000.0, "2026-04-01", "2029-03-31", 1, 180,
     "Netherlands"),
    # value_eur: passing rent GBP 186,000 x 10 years = GBP 1,860,000 converted at 1.17 EUR/GBP;
    # no renewal (1954 Act excluded); notice_days = tenant break notice of 6 months (clause 15.1)
    ("calder_house_lease", "contracts/calder_house_lease.txt", "Calder Estates Limited",
     "commercial office lease", 2176200.0, "2026-06-01", "2036-05-31", 0, 180,
     "England and Wales"),
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
