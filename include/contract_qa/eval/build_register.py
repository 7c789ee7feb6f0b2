"""(Re)create register.db: the contract register of the unseen evaluation set (stdlib only).

One row per contract in contracts/. value_eur is the total contract value in EUR; contracts written
in another currency are converted at the register's booking rate (GBP 1 = EUR 1.17, USD 1 = EUR 0.92).
"""
import sqlite3
from pathlib import Path

HERE = Path(__file__).resolve().parent
DB = HERE / "register.db"

ROWS = [
    # contract_id, document, counterparty, contract_type, value_eur, start_date, end_date,
    # auto_renewal, notice_days, governing_law
    ("lumen_saas_subscription", "contracts/lumen_saas_subscription.md", "Lumen Analytics Limited",
     "SaaS subscription", 264500.0,  # 3 x EUR 84,000 + EUR 12,500 implementation
     "2025-03-01", "2028-02-28", 1, 90, "Ireland"),
    ("calder_equipment_lease", "contracts/calder_equipment_lease.txt", "Calder Plant Finance Limited",
     "equipment lease", 551070.0,  # 60 x GBP 7,850 = GBP 471,000 at 1.17
     "2025-07-01", "2030-06-30", 1, 60, "England and Wales"),
    ("brightwater_resin_supply", "contracts/brightwater_resin_supply.md", "Brightwater Polymers Inc.",
     "raw materials supply", 9604800.0,  # 3 x 2,400 MT x USD 1,450 = USD 10,440,000 at 0.92
     "2025-02-01", "2028-01-31", 0, 180, "New York"),
    ("marchand_consulting_agreement", "contracts/marchand_consulting_agreement.txt",
     "Élodie Marchand (Marchand Lean Conseil)", "consulting", 114000.0,  # fee cap
     "2025-03-17", "2025-12-31", 0, 30, "France"),
]


def main() -> None:
    if DB.exists():
        DB.unlink()
    con = sqlite3.connect(DB)
    try:
        con.execute(
            "CREATE TABLE contracts(contract_id TEXT PRIMARY KEY, document TEXT, counterparty TEXT,"
            " contract_type TEXT, value_eur REAL, start_date TEXT, end_date TEXT, auto_renewal INTEGER,"
            " notice_days INTEGER, governing_law TEXT)"
        )
        con.executemany("INSERT INTO contracts VALUES (?,?,?,?,?,?,?,?,?,?)", ROWS)
        con.commit()
    finally:
        con.close()
    print(f"wrote {len(ROWS)} rows to {DB}")


if __name__ == "__main__":
    main()
