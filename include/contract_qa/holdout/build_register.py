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
    # --- round 3 (written after the code of round 2, measured once at fb47413)
    # value_eur: Platform Fee USD 180,000 (clause 4.1) + Minimum Annual Royalty USD 250,000 x 3 Contract Years
    # (clause 4.3) + Support Fee USD 40,000 x 3 Contract Years (clause 6.3) = USD 1,050,000 over the Initial
    # Term, converted at 0.92 EUR/USD = EUR 966,000. Counterparty = the licensor (we are the licensee,
    # Mareld). notice_days = non-renewal notice of ninety (90) days (clause 3.2); renews by itself for
    # 12-month periods.
    ("tessaract_oem_licence", "contracts/tessaract_oem_licence.md", "Tessaract Vision, Inc.",
     "OEM software licence", 966000.0, "2026-07-01", "2029-06-30", 1, 90, "State of New York"),
    # value_eur: Subcontract Sum EUR 4,860,000 excl. VAT (clause 4.1), no conversion. Counterparty = the
    # subcontractor (we are the contractor, Corrib). start_date = date of the Subcontract (9 February 2026;
    # works start on site 2 March 2026, clause 3.1); end_date = Completion Date (clause 3.2); no renewal;
    # notice_days = termination for convenience on twenty-eight (28) days' notice (clause 11.2).
    ("kilbride_subcontract", "contracts/kilbride_subcontract.txt", "Kilbride M&E Services Limited",
     "construction subcontract", 4860000.0, "2026-02-09", "2026-11-27", 0, 28, "Ireland"),
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
