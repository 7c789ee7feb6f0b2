"""Writes the unseen evaluation set (files/ + golden.yaml). Deterministic (fixed seed)."""
import csv, random, uuid, datetime as dt
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq

HERE = Path(__file__).parent
FILES = HERE / "files"
FILES.mkdir(exist_ok=True)
rng = random.Random(20250917)
D = dt.date

FIRST = ["anna", "bruno", "chloe", "david", "elena", "farid", "grace", "hugo", "ines", "jonas", "kofi",
         "lena", "marta", "nikhil", "olga", "pablo", "quentin", "rosa", "sven", "tariq", "ursula", "victor",
         "wen", "yara", "zoltan"]
LAST = ["alvarez", "berg", "costa", "dubois", "eriksen", "fischer", "garcia", "haddad", "ito", "jansen",
        "kowalski", "larsen", "mendes", "novak", "okafor", "petrov", "quinn", "rossi", "schmidt", "tanaka",
        "urban", "vidal", "weber"]
DOMAINS = ["example.org", "mail.example.com", "post.uni-example.de", "example.net", "corp-example.co.uk"]


def email(i):
    f, l = rng.choice(FIRST), rng.choice(LAST)
    return f"{f}.{l}{i}@{rng.choice(DOMAINS)}"


def rdate(a, b):
    return a + dt.timedelta(days=rng.randint(0, (b - a).days))


def write_csv(name, cols, rows):
    with open(FILES / name, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: ("" if r.get(c) is None else r[c]) for c in cols})


records = []

# 1. clinic appointments -- planted: patient_email nulls, slot_minutes out_of_range,
#    appointment_id duplicate_keys
rows = []
depts = ["cardiology", "dermatology", "general practice", "orthopedics", "pediatrics"]
for i in range(120):
    rows.append(dict(
        appointment_id=f"APT-{100001 + i:06d}", patient_id=f"P{rng.randint(10000, 99999)}",
        patient_email=email(i), clinician=f"Dr. {rng.choice(LAST).title()}", department=rng.choice(depts),
        appointment_date=rdate(D(2024, 1, 2), D(2025, 11, 28)).isoformat(),
        slot_minutes=rng.choice([5, 10, 15, 20, 30, 45, 60, 90, 120]),
        copay_amount=rng.choice(["0", "0", "0.00", "10.00", "15.00", "25.50", "40.00"]),
        referral_code=f"REF-{rng.randint(1000, 9999)}" if rng.random() < 0.25 else None,
        notes=rng.choice([None, None, None, "follow-up", "interpreter needed", "bring prior imaging"])))
rows[0]["slot_minutes"], rows[1]["slot_minutes"] = 5, 120          # boundaries: must pass
rows[2]["patient_email"] = "Maria.Lopez+clinic@Example.org"         # valid, mixed case + plus
for k in (17, 44, 78, 103):
    rows[k]["patient_email"] = None                                  # PLANTED nulls
rows[31]["slot_minutes"], rows[92]["slot_minutes"] = 480, 600       # PLANTED out_of_range
rows[57]["appointment_id"] = rows[12]["appointment_id"]             # PLANTED duplicate_keys
rows[96]["appointment_id"] = rows[13]["appointment_id"]
write_csv("clinic_appointments.csv", list(rows[0]), rows)
records.append(dict(
    inputs=dict(dataset_id="clinic_appointments", files={"appointments": "files/clinic_appointments.csv"},
                table="appointments", key_columns=["appointment_id"], columns={
                    "appointment_id": {"regex": "^APT-[0-9]{6}$", "not_null": True},
                    "patient_email": {"pattern": "email", "not_null": True},
                    "appointment_date": {"pattern": "date", "not_null": True, "not_future": True},
                    "slot_minutes": {"min": 5, "max": 120, "not_null": True},
                    "copay_amount": {"not_negative": True},
                    "referral_code": {"regex": "^REF-[0-9]{4}$"}}),
    expectations=dict(passed=False, issues=[["appointments", "patient_email", "nulls"],
                                            ["appointments", "slot_minutes", "out_of_range"],
                                            ["appointments", "appointment_id", "duplicate_keys"]])))

# 2. flight bookings -- CLEAN (future departure dates are legitimate: column not declared not_future)
rows, refs = [], set()
while len(refs) < 90:
    refs.add("".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6)))
flights = ["LH1234", "BA117", "AF023", "KL1602", "IB3170", "SK4521", "OS88"]
for i, ref in enumerate(sorted(refs)):
    booked = rdate(D(2024, 2, 1), D(2025, 11, 30))
    rows.append(dict(
        booking_ref=ref, flight_no=rng.choice(flights), passenger_email=email(i),
        cabin=rng.choice(["economy", "economy", "premium", "business"]),
        booked_on=booked.isoformat(),
        departure_date=(booked + dt.timedelta(days=rng.randint(2, 400))).isoformat(),
        fare_eur=f"{rng.uniform(39, 1890):.2f}", bags=rng.choice([0, 0, 1, 1, 2, 3]),
        seat=f"{rng.randint(1, 42)}{rng.choice('ABCDEF')}" if rng.random() < 0.6 else None,
        frequent_flyer_no=f"FF{rng.randint(1000000, 9999999)}" if rng.random() < 0.3 else None))
rows[3]["fare_eur"] = "0.00"                                          # award ticket, min 0: must pass
rows[4]["fare_eur"] = "5000.00"                                       # boundary
rows[5]["passenger_email"] = "J.OKAFOR@Example.com"
rows[6]["passenger_email"] = "wen.ito+trips@post.uni-example.de"
rows[7]["departure_date"] = "2027-01-04"                              # future but not declared not_future
write_csv("flight_bookings.csv", list(rows[0]), rows)
records.append(dict(
    inputs=dict(dataset_id="flight_bookings", files={"bookings": "files/flight_bookings.csv"},
                table="bookings", key_columns=["booking_ref"], columns={
                    "booking_ref": {"regex": "^[A-Z0-9]{6}$", "not_null": True},
                    "flight_no": {"regex": "^[A-Z]{2}[0-9]{2,4}$", "not_null": True},
                    "passenger_email": {"pattern": "email", "not_null": True},
                    "booked_on": {"pattern": "date", "not_null": True, "not_future": True},
                    "departure_date": {"pattern": "date", "not_null": True},
                    "fare_eur": {"min": 0, "max": 5000, "not_null": True},
                    "bags": {"not_negative": True, "min": 0, "max": 5}}),
    expectations=dict(passed=True, issues=[])))

# 3. energy meter readings (Parquet) -- planted: kwh_consumed negative_values, reading_date future_dates,
#    meter_id pattern
meters = [f"MTR-{rng.randint(100000, 999999)}" for _ in range(15)]
solar = set(meters[:5])
rows = []
for i in range(150):
    m = meters[i % 15]
    rows.append(dict(
        reading_id=500001 + i, meter_id=m, reading_date=D(2025, 3, 1) + dt.timedelta(days=i // 15),
        kwh_consumed=round(rng.uniform(0.5, 58.0), 2),
        export_kwh=(round(rng.choice([0.0, rng.uniform(0, 22)]), 2) if m in solar else None),
        voltage=round(rng.uniform(221, 239), 1), tariff_code=rng.choice(["T1-STD", "T2-ECO", "T3-EV"])))
rows[8]["kwh_consumed"] = 0.0                                        # vacant property: must pass
rows[9]["voltage"], rows[10]["voltage"] = 200.0, 250.0              # boundaries
for k, v in ((22, -12.4), (67, -3.75), (131, -0.8)):
    rows[k]["kwh_consumed"] = v                                      # PLANTED negative_values
rows[40]["reading_date"], rows[118]["reading_date"] = D(2031, 4, 17), D(2031, 5, 2)  # PLANTED future_dates
for k, v in ((14, "MTR-12A456"), (75, "meter-004512"), (142, "MTR-0045")):
    rows[k]["meter_id"] = v                                          # PLANTED pattern
schema = pa.schema([("reading_id", pa.int64()), ("meter_id", pa.string()), ("reading_date", pa.date32()),
                    ("kwh_consumed", pa.float64()), ("export_kwh", pa.float64()), ("voltage", pa.float64()),
                    ("tariff_code", pa.string())])
pq.write_table(pa.Table.from_pylist(rows, schema=schema), FILES / "energy_meter_readings.parquet")
records.append(dict(
    inputs=dict(dataset_id="energy_meter_readings", files={"readings": "files/energy_meter_readings.parquet"},
                table="readings", key_columns=["reading_id"], columns={
                    "reading_id": {"not_null": True},
                    "meter_id": {"regex": "^MTR-[0-9]{6}$", "not_null": True},
                    "reading_date": {"not_null": True, "not_future": True},
                    "kwh_consumed": {"not_negative": True, "not_null": True},
                    "export_kwh": {"not_negative": True},
                    "voltage": {"min": 200, "max": 250}}),
    expectations=dict(passed=False, issues=[["readings", "kwh_consumed", "negative_values"],
                                            ["readings", "reading_date", "future_dates"],
                                            ["readings", "meter_id", "pattern"]])))

# 4. school grades -- CLEAN (composite key: student_id repeats across courses legitimately)
courses = ["MAT101", "PHY110", "CHE120", "HIS205", "LIT150", "BIO130"]
teachers = {c: email(900 + n) for n, c in enumerate(courses)}
rows = []
for s in range(25):
    sid = f"S{240100 + s:06d}"
    for c in rng.sample(courses, 4):
        score = rng.randint(38, 99)
        rows.append(dict(student_id=sid, course_code=c, term=rng.choice(["2024-FALL", "2025-SPRING"]),
                         score=score,
                         grade_letter="A" if score >= 90 else "B" if score >= 80 else "C" if score >= 70
                         else "D" if score >= 60 else "F",
                         graded_on=rdate(D(2024, 12, 10), D(2025, 6, 30)).isoformat(),
                         teacher_email=teachers[c],
                         remarks=rng.choice([None, None, None, "excellent lab work",
                                             "late submission, marked down"])))
rows[0].update(score=100, grade_letter="A")                        # boundary
rows[1].update(score=0, grade_letter="F", remarks="did not sit exam")  # boundary, min 0
write_csv("school_grades.csv", list(rows[0]), rows)
records.append(dict(
    inputs=dict(dataset_id="school_grades", files={"grades": "files/school_grades.csv"},
                table="grades", key_columns=["student_id", "course_code"], columns={
                    "student_id": {"regex": "^S[0-9]{6}$", "not_null": True},
                    "course_code": {"regex": "^[A-Z]{3}[0-9]{3}$", "not_null": True},
                    "score": {"min": 0, "max": 100, "not_null": True},
                    "graded_on": {"pattern": "date", "not_future": True},
                    "teacher_email": {"pattern": "email", "not_null": True}}),
    expectations=dict(passed=True, issues=[])))

# 5. payroll -- planted: gross_pay nulls, tax_withheld negative_values, employee_email pattern,
#    hours_worked out_of_range
periods = ["2025-07-31", "2025-08-31", "2025-09-30", "2025-10-31"]
emps = [(f"E{10200 + n:05d}", f"{rng.choice(FIRST)}.{rng.choice(LAST)}@payroll.example-corp.com")
        for n in range(20)]
rows = []
for p in periods:
    for eid, em in emps:
        hours = rng.choice([160, 152, 168, 80, 120, 172.5]) / 4
        gross = round(hours * rng.uniform(18, 55) * 4.33, 2)
        rows.append(dict(employee_id=eid, employee_email=em, pay_period_end=p, hours_worked=hours,
                         gross_pay=f"{gross:.2f}", tax_withheld=f"{gross * 0.22:.2f}",
                         bonus=rng.choice([None, None, "0.00", "250.00"]),
                         adjustment=rng.choice(["0.00", "0.00", "-45.00", "120.00", "-310.50"]),
                         cost_center=rng.choice(["CC-OPS", "CC-FIN", "CC-ENG"])))
rows[5].update(hours_worked=0, gross_pay="0.00", tax_withheld="0.00")   # unpaid leave: must pass
rows[6]["hours_worked"] = 80                                            # boundary
for k in (11, 47, 70):
    rows[k]["gross_pay"] = None                                          # PLANTED nulls
rows[23]["tax_withheld"], rows[58]["tax_withheld"] = "-120.50", "-42.00"  # PLANTED negative_values
for k, v in ((9, "l.nakamura.payroll.example-corp.com"), (36, "r.osei@"), (63, "@payroll.example-corp.com")):
    rows[k]["employee_email"] = v                                        # PLANTED pattern
rows[30]["hours_worked"], rows[77]["hours_worked"] = 168, 96.5           # PLANTED out_of_range
write_csv("payroll_runs.csv", list(rows[0]), rows)
records.append(dict(
    inputs=dict(dataset_id="payroll_runs", files={"payslips": "files/payroll_runs.csv"},
                table="payslips", key_columns=["employee_id", "pay_period_end"], columns={
                    "employee_id": {"regex": "^E[0-9]{5}$", "not_null": True},
                    "employee_email": {"pattern": "email", "not_null": True},
                    "pay_period_end": {"pattern": "date", "not_null": True, "not_future": True},
                    "hours_worked": {"min": 0, "max": 80},
                    "gross_pay": {"not_null": True, "not_negative": True},
                    "tax_withheld": {"not_negative": True},
                    "bonus": {"not_negative": True},
                    "adjustment": {"min": -500, "max": 500}}),
    expectations=dict(passed=False, issues=[["payslips", "gross_pay", "nulls"],
                                            ["payslips", "tax_withheld", "negative_values"],
                                            ["payslips", "employee_email", "pattern"],
                                            ["payslips", "hours_worked", "out_of_range"]])))

# 6. library loans -- planted: loan_id pattern, loan_date future_dates, branch_code missing_column
rows = []
for i in range(110):
    loan = rdate(D(2024, 9, 1), D(2025, 11, 20))
    returned = loan + dt.timedelta(days=rng.randint(3, 35))
    ret = returned.isoformat() if rng.random() < 0.7 and returned <= D(2025, 11, 25) else None
    late = max(0, (returned - loan).days - 21) * 0.25 if ret else 0
    rows.append(dict(loan_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                     member_id=f"M-{rng.randint(10000, 99999)}",
                     isbn=f"{rng.choice(['978', '979'])}{rng.randint(0, 9999999999):010d}",
                     loan_date=loan.isoformat(), due_date=(loan + dt.timedelta(days=21)).isoformat(),
                     return_date=ret, renewals=rng.choice([0, 0, 0, 1, 2]), late_fee=f"{late:.2f}"))
rows[2]["renewals"] = 3                                                  # boundary
rows[3].update(loan_id="3f2b9c1e-7a4d-4e8b-9c2f")                        # PLANTED pattern (truncated uuid)
rows[88].update(loan_id="LN-2025-000871")                                # PLANTED pattern
for k, d in ((27, D(2031, 2, 14)), (64, D(2031, 3, 3))):                 # PLANTED future_dates
    rows[k].update(loan_date=d.isoformat(), due_date=(d + dt.timedelta(days=21)).isoformat(),
                   return_date=None, late_fee="0.00")
write_csv("library_loans.csv", list(rows[0]), rows)
records.append(dict(
    inputs=dict(dataset_id="library_loans", files={"loans": "files/library_loans.csv"},
                table="loans", key_columns=["loan_id"], columns={
                    "loan_id": {"pattern": "uuid", "not_null": True},
                    "isbn": {"regex": "^97[89][0-9]{10}$", "not_null": True},
                    "loan_date": {"pattern": "date", "not_null": True, "not_future": True},
                    "due_date": {"pattern": "date"},
                    "return_date": {"pattern": "date", "not_future": True},
                    "renewals": {"min": 0, "max": 3},
                    "late_fee": {"not_negative": True},
                    "branch_code": {"not_null": True}}),
    expectations=dict(passed=False, issues=[["loans", "loan_id", "pattern"],
                                            ["loans", "loan_date", "future_dates"],
                                            ["loans", "branch_code", "missing_column"]])))

# 7. restaurant orders -- planted: order_id duplicate_keys, covers out_of_range, order_date pattern
rows = []
servers = ["Amira", "Ben", "Carla", "Dmitri", "Esther"]
for i in range(140):
    sub = round(rng.uniform(8, 240), 2)
    walk_in = rng.random() < 0.55
    rows.append(dict(order_id=70001 + i, order_date=rdate(D(2025, 1, 5), D(2025, 11, 29)).isoformat(),
                     table_no=rng.randint(1, 40), covers=rng.randint(1, 8), server_name=rng.choice(servers),
                     subtotal=f"{sub:.2f}",
                     tip_amount=rng.choice(["0.00", f"{sub * 0.1:.2f}", f"{sub * 0.15:.2f}"]),
                     discount_code=rng.choice([None, None, None, "LUNCH10", "STAFF"]),
                     customer_email=None if walk_in else email(i),
                     payment_method=rng.choice(["card", "cash", "mobile"])))
rows[0]["covers"], rows[1]["covers"] = 1, 12                             # boundaries
rows[2]["table_no"], rows[3]["table_no"] = 1, 40
# PLANTED duplicate_keys
rows[50]["order_id"], rows[121]["order_id"] = rows[49]["order_id"], rows[7]["order_id"]
rows[18]["covers"], rows[99]["covers"] = 0, 45                           # PLANTED out_of_range
for k, v in ((33, "12/03/2025"), (84, "2025.04.09"), (126, "5 March 2025")):
    rows[k]["order_date"] = v                                            # PLANTED pattern
write_csv("restaurant_orders.csv", list(rows[0]), rows)
records.append(dict(
    inputs=dict(dataset_id="restaurant_orders", files={"orders": "files/restaurant_orders.csv"},
                table="orders", key_columns=["order_id"], columns={
                    "order_id": {"not_null": True},
                    "order_date": {"pattern": "date", "not_null": True, "not_future": True},
                    "table_no": {"min": 1, "max": 40},
                    "covers": {"min": 1, "max": 12, "not_null": True},
                    "subtotal": {"not_negative": True, "not_null": True},
                    "tip_amount": {"not_negative": True},
                    "customer_email": {"pattern": "email"}}),
    expectations=dict(passed=False, issues=[["orders", "order_id", "duplicate_keys"],
                                            ["orders", "covers", "out_of_range"],
                                            ["orders", "order_date", "pattern"]])))

# 8. sensor telemetry -- planted: humidity_pct nulls, temperature_c out_of_range, recorded_on future_dates,
#    calibration_offset missing_column (negative temperatures are legitimate)
devices = [f"DEV-{rng.randint(0, 0xFFFF):04X}" for _ in range(10)]
rows = []
for i in range(200):
    rows.append(dict(reading_id=900001 + i, device_id=devices[i % 10],
                     recorded_on=(D(2025, 1, 1) + dt.timedelta(days=i // 2)).isoformat(),
                     temperature_c=round(rng.uniform(-25, 38), 1), humidity_pct=round(rng.uniform(15, 95), 1),
                     battery_mv=rng.randint(2900, 3600), status=rng.choice(["ok", "ok", "ok", "low_battery"]),
                     firmware=rng.choice([None, "1.4.2", "1.5.0"])))
rows[4]["temperature_c"], rows[5]["temperature_c"] = -40.0, 85.0       # boundaries
rows[6]["humidity_pct"], rows[7]["humidity_pct"] = 0.0, 100.0
for k in (19, 73, 140, 188):
    rows[k]["humidity_pct"] = None                                       # PLANTED nulls
rows[58]["temperature_c"], rows[161]["temperature_c"] = 412.5, 999.0    # PLANTED out_of_range
rows[96]["recorded_on"], rows[97]["recorded_on"] = "2031-08-09", "2031-08-10"  # PLANTED future_dates
write_csv("sensor_telemetry.csv", list(rows[0]), rows)
records.append(dict(
    inputs=dict(dataset_id="sensor_telemetry", files={"telemetry": "files/sensor_telemetry.csv"},
                table="telemetry", key_columns=["reading_id"], columns={
                    "device_id": {"regex": "^DEV-[0-9A-F]{4}$", "not_null": True},
                    "recorded_on": {"pattern": "date", "not_null": True, "not_future": True},
                    "temperature_c": {"min": -40, "max": 85},
                    "humidity_pct": {"min": 0, "max": 100, "not_null": True},
                    "battery_mv": {"not_negative": True},
                    "calibration_offset": {"min": -5, "max": 5}}),
    expectations=dict(passed=False, issues=[["telemetry", "humidity_pct", "nulls"],
                                            ["telemetry", "temperature_c", "out_of_range"],
                                            ["telemetry", "recorded_on", "future_dates"],
                                            ["telemetry", "calibration_offset", "missing_column"]])))


# ---- golden.yaml (flow style for short maps/lists, like the sample golden file)
def flow(v):
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and any(ch in v for ch in "^$[]{}:,#*&!|>'\"%@`"):
        return "'" + v.replace("'", "''") + "'"
    return str(v)


out = ["# Unseen evaluation set of the data-QA crew: written independently of the samples and of the code.",
       "records:"]
for r in records:
    i, e = r["inputs"], r["expectations"]
    out += ["- inputs:", f"    dataset_id: {i['dataset_id']}", f"    files: {flow(i['files'])}",
            f"    table: {i['table']}", f"    key_columns: {flow(i['key_columns'])}", "    columns:"]
    out += [f"      {c}: {flow(rule)}" for c, rule in i["columns"].items()]
    out += ["  expectations:", f"    passed: {flow(e['passed'])}"]
    out += (["    issues: []"] if not e["issues"]
            else ["    issues:"] + [f"    - {flow(x)}" for x in e["issues"]])
(HERE / "golden.yaml").write_text("\n".join(out) + "\n")
