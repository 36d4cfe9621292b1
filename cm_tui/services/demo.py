"""A synthetic, believable care-management organisation for demos and benchmarks.

`generate_demo` fills an empty database with staff, community resources and
clients with a year of history: contacts with notes written the way people write
them, screenings (some answers declined), needs, referrals, follow-ups (some
overdue) and a few ED visits and admissions. Everything is drawn from one seeded
`random.Random` plus seeded Faker name pools, and every timestamp is anchored on
`now`, so a seed gives the same rows every time.

Speed: rows are built as tuples in Python and written in batches — on SQLite
with the driver's `executemany` and values pre-formatted the way the column
types store them (`sqlite_text` layout for timestamps, ISO dates, JSON text); on
PostgreSQL through SQLAlchemy Core bulk inserts. Ids are assigned here, so no
row needs a round trip to learn its id; PostgreSQL sequences are moved past them
at the end.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import string
import time as _time
import unicodedata
from bisect import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlmodel import Session

from cm_tui.services.demo_accounts import DEMO_DISPLAY_NAME, DEMO_PASSWORD, DEMO_USERNAME
from cm_tui.store import audit
from cm_tui.store.db import Store
from cm_tui.store.models import (
    Barrier,
    CarePlan,
    Client,
    Contact,
    FollowUp,
    Goal,
    GoalProgress,
    Intervention,
    Meta,
    Need,
    ProgramEnrollment,
    Referral,
    Resource,
    Screening,
    ScreeningAnswer,
    User,
    UtilizationEvent,
)
from cm_tui.store.types import utcnow

ORG_TIMEZONE = "America/Los_Angeles"  # business hours of the synthetic organisation

CHUNK_CLIENTS = 2000  # clients (and all their history) per transaction
MAX_BATCH_ROWS = 20_000  # rows per executemany / Core insert
BULK_CACHE_KIB = 64 * 1024  # SQLite page cache while a chunk is written

ProgressFn = Callable[[str, int, int], None]
Row = tuple[Any, ...]


@dataclass
class DemoSummary:
    users: int = 0
    clients: int = 0
    contacts: int = 0
    screenings: int = 0
    needs: int = 0
    followups: int = 0
    referrals: int = 0
    resources: int = 0
    utilization_events: int = 0
    care_plans: int = 0
    in_outreach: int = 0
    unable_to_reach: int = 0
    seconds: float = 0.0
    org_name: str = ""
    usernames: list[tuple[str, str]] = field(default_factory=list)  # (username, role)


# --------------------------------------------------------------------------------------
# Vocabulary of the synthetic world
# --------------------------------------------------------------------------------------

# fmt: off
ORG_NAMES = (
    "Riverbend Community Care", "Cascade Care Partners", "Willamette Health Connect",
    "Columbia Gorge Care Network", "Rose City Care Coordination", "Tualatin Valley Health Partners",
)

# (language, weight, name source)
LANGUAGES: tuple[tuple[str, float], ...] = (
    ("English", 67.0),
    ("Spanish", 19.0),
    ("Vietnamese", 4.0),
    ("Russian", 2.5),
    ("Cantonese", 2.0),
    ("Mandarin", 1.5),
    ("Arabic", 1.5),
    ("Somali", 1.0),
    ("Tagalog", 1.0),
    ("Ukrainian", 0.5),
)

# Romanised names as they appear in US records, for languages Faker would write
# in another script.  (female given, male given, family)
OTHER_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "Vietnamese": (
        (
            "Lan", "Mai", "Hoa", "Linh", "Thu", "Huong", "Ngoc", "Phuong", "Thanh", "Xuan", "Nga",
            "Trang", "Hanh", "Kim", "Tuyet",
        ),
        (
            "Minh", "Hung", "Tuan", "Dung", "Quang", "Long", "Khanh", "Duc", "Binh", "Hai", "Trung",
            "Son", "Vinh", "Phong", "Bao",
        ),
        (
            "Nguyen", "Tran", "Le", "Pham", "Hoang", "Huynh", "Phan", "Vu", "Vo", "Dang", "Bui",
            "Do", "Ho", "Ngo", "Duong", "Ly",
        ),
    ),
    "Cantonese": (
        ("Mei", "Siu Lan", "Wai Ling", "Yuk", "Ka Yee", "Suk Fong", "Lai", "Wing Yan"),
        ("Wing", "Kwok Wah", "Chun", "Ka Ming", "Siu Kei", "Wai Man", "Tak", "Kin"),
        ("Wong", "Chan", "Lee", "Cheung", "Lau", "Ng", "Ho", "Lam", "Leung", "Yip", "Tse"),
    ),
    "Mandarin": (
        ("Mei", "Li", "Hui", "Ying", "Xiu", "Fang", "Yan", "Hong", "Jing", "Xiaoling"),
        ("Wei", "Jun", "Ming", "Hao", "Jian", "Lei", "Qiang", "Yong", "Bo", "Zhiwei"),
        ("Chen", "Li", "Zhang", "Liu", "Wang", "Huang", "Lin", "Zhou", "Wu", "Yang", "Zhao"),
    ),
    "Arabic": (
        ("Fatima", "Aisha", "Mariam", "Layla", "Noor", "Huda", "Samira", "Rania", "Zainab", "Amal"),
        (
            "Ahmed", "Mohammed", "Omar", "Ali", "Hassan", "Khalid", "Yusuf", "Ibrahim", "Samir",
            "Tariq",
        ),
        (
            "Haddad", "Khalil", "Mansour", "Saleh", "Nasser", "Aziz", "Hamdan", "Farah", "Abboud",
            "Karam", "Al-Sayed",
        ),
    ),
    "Russian": (
        (
            "Olga", "Natalia", "Svetlana", "Tatiana", "Irina", "Galina", "Lyudmila", "Valentina",
            "Nina", "Zoya",
        ),
        (
            "Ivan", "Sergei", "Dmitri", "Nikolai", "Alexei", "Vladimir", "Yuri", "Mikhail",
            "Viktor", "Boris",
        ),
        (
            "Ivanov", "Petrov", "Smirnov", "Kuznetsov", "Popov", "Volkov", "Sokolov", "Morozov",
            "Kozlov", "Lebedev",
        ),
    ),
    "Ukrainian": (
        ("Oksana", "Olena", "Halyna", "Nadiya", "Iryna", "Larysa"),
        ("Oleksandr", "Mykola", "Petro", "Vasyl", "Taras", "Andriy"),
        ("Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Melnyk", "Kravchenko"),
    ),
    "Somali": (
        ("Hodan", "Amina", "Farhiya", "Ayaan", "Sahra", "Hawa", "Fadumo", "Ubah"),
        ("Abdi", "Mohamed", "Hassan", "Ismail", "Abdirahman", "Yusuf", "Ahmed", "Farah"),
        ("Ali", "Hassan", "Abdi", "Warsame", "Farah", "Osman", "Jama", "Aden", "Mohamud"),
    ),
    "Tagalog": (
        ("Maria", "Rosalinda", "Lourdes", "Marites", "Jocelyn", "Imelda", "Teresita", "Corazon"),
        ("Jose", "Ernesto", "Rodrigo", "Danilo", "Romeo", "Renato", "Rogelio", "Eduardo"),
        (
            "Santos", "Reyes", "Cruz", "Bautista", "Mendoza", "Dela Cruz", "Ramos", "Aquino",
            "Villanueva", "Castillo",
        ),
    ),
}

NICKNAMES = {
    "Robert": "Bob",
    "William": "Bill",
    "Margaret": "Peggy",
    "Elizabeth": "Betty",
    "James": "Jim",
    "Richard": "Dick",
    "Patricia": "Pat",
    "Barbara": "Barb",
    "Dorothy": "Dot",
    "Charles": "Charlie",
    "Joseph": "Joe",
    "Thomas": "Tom",
    "Katherine": "Kathy",
    "Deborah": "Debbie",
    "Susan": "Sue",
    "Michael": "Mike",
    "Edward": "Ed",
    "Jennifer": "Jen",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "Francisco": "Paco",
    "José": "Pepe",
    "Guadalupe": "Lupe",
    "Dolores": "Lola",
    "Concepción": "Conchita",
    "Alejandro": "Alex",
    "Ignacio": "Nacho",
    "Rosario": "Charo",
    "Mohammed": "Mo",
    "Aleksandr": "Sasha",
    "Alexei": "Lyosha",
    "Dmitri": "Dima",
    "Natalia": "Natasha",
    "Tatiana": "Tanya",
    "Rosalinda": "Linda",
    "Corazon": "Cora",
}

CITIES = (
    (
        "Portland", "OR",
        ("97202", "97206", "97211", "97216", "97220", "97230", "97233", "97236", "97266"),
    ),
    ("Gresham", "OR", ("97030", "97080")),
    ("Beaverton", "OR", ("97005", "97006")),
    ("Hillsboro", "OR", ("97123", "97124")),
    ("Milwaukie", "OR", ("97222",)),
    ("Tigard", "OR", ("97223",)),
    ("Vancouver", "WA", ("98661", "98662", "98664")),
)
CITY_WEIGHTS = (55.0, 12.0, 8.0, 8.0, 5.0, 5.0, 7.0)
STREET_BASES = (
    "Division", "Powell", "Burnside", "Stark", "Glisan", "Halsey", "Sandy", "Foster", "Holgate",
    "Woodstock", "Belmont", "Hawthorne", "Alberta", "Killingsworth", "Lombard", "Fremont",
    "Prescott", "Columbia", "Alder", "Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Birch",
    "Main", "Washington", "Lincoln", "Jefferson", "Park", "Lake", "River", "Sunset", "Hill", "Mill",
    "Church", "Broadway", "Baseline", "Walker", "Cornell", "Farmington", "Canyon", "King", "Flavel",
    "Duke", "Harold", "Rhone", "82nd", "92nd", "102nd", "122nd", "136th", "148th", "162nd", "181st",
    "39th", "52nd",
)
STREET_PREFIXES = ("SE ", "NE ", "N ", "SW ", "NW ", "", "", "")
STREET_SUFFIXES = ("St", "Ave", "Blvd", "Dr", "Ct", "Way", "Rd", "Ln", "Pl")
AREA_CODES = ("503", "503", "503", "971", "971", "360")
PHONE_AREA_BY_STATE = {"WA": ("360", "564")}

PRACTICES = (
    "Eastside Family Medicine", "Riverside Internal Medicine",
    "Outer Division Community Health Center", "Hillsboro Primary Care Clinic",
    "Northgate Family Health", "St. Brigid Medical Group", "Gateway Community Clinic",
    "Lents Neighborhood Health",
)
PCP_CREDENTIALS = ("MD", "MD", "MD", "DO", "NP", "NP", "PA-C")
HOSPITALS = (
    "Providence Eastside Medical Center", "Good Samaritan Hospital", "Legacy Mount Hood",
    "OHSU Hospital", "Adventist Health Portland",
)

BEST_TIMES = (
    "mornings", "mornings", "afternoons", "after 3pm", "before noon", "after 10am",
    "evenings after 5", "weekdays 10-2", "lunchtime", "not before 10am", "anytime",
    "Tue/Thu mornings", "not Mon/Wed/Fri (dialysis)", "after 11am, sleeps late",
    "after school pickup (3:30)", "late morning", "call daughter first", "before 9am",
)

WHAT_MATTERS_GENERAL = (
    "Walking my granddaughter to school", "Staying out of the hospital so I can keep my garden",
    "Being able to go to church on Sundays", "Keeping my apartment and not having to move",
    "Getting my sugar under control so I don't lose my feet like my dad",
    "Cooking for my family again", "Not being a burden to my kids", "Driving myself to the store",
    "Going back to work part time", "Sleeping through the night",
    "Being able to climb the stairs at home", "Seeing my grandson graduate next June",
    "Getting my teeth fixed", "Taking care of my husband at home",
    "Going fishing with my brother this summer", "Stay home, no nursing home",
    "Visiting my sister in Tacoma", "Having enough food at the end of the month",
    "Feeling less tired so I can play with the grandkids", "Keeping my dog",
    "Getting back to my walking group", "Understanding all these pills",
    "Paying my bills on time without help", "Not going back to the ER",
    "Breathing better so I can sing in the choir", "Finishing the quilt for my granddaughter",
    "Losing weight before my knee surgery", "Finding a place with no stairs",
    "Being around for my kids", "Getting my license back", "Less pain when I walk",
    "Keeping my independence", "Getting to dialysis without missing",
    "Making it to my daughter's wedding in the fall", "Staying sober", "Having someone to talk to",
)
WHAT_MATTERS_OLDER = (
    "Living in my own house as long as I can", "Gardening - my tomatoes are my pride",
    "Playing cards with my friends at the senior center on Tuesdays", "Not falling again",
    "Being there for my wife, she has dementia", "Making it to 90", "Going to mass every morning",
)
WHAT_MATTERS_MATERNITY = (
    "Having a healthy baby", "Breastfeeding for at least six months",
    "Finding a safe place to live before the baby comes", "Getting my GED after the baby is born",
    "Keeping my blood pressure down this time",
)
WHAT_MATTERS_BH = (
    "Feeling like myself again", "Getting out of the house more", "Keeping my job",
    "Staying clean for my kids", "Sleeping without nightmares",
)
WHAT_MATTERS_SPANISH = (
    "Estar sana para cuidar a mis nietos", "Poder trabajar otra vez", "No volver al hospital",
    "Ir a misa los domingos",
)

CAREGIVER_RELATIONS = (
    "daughter", "daughter", "daughter", "son", "son", "wife", "husband", "granddaughter",
    "grandson", "niece", "sister", "brother", "neighbor", "friend", "partner",
)

TOPICS = (
    "BP log", "med refill", "A1c results", "appt reminder", "discharge f/u", "insulin",
    "inhaler use", "ride to appt", "food box", "SNAP renewal", "weight log", "fall risk",
    "home health", "pharmacy issue", "specialist referral", "labs", "colonoscopy prep",
    "sugar readings", "pain meds", "CPAP", "oxygen supply", "Medicaid renewal", "copay assistance",
    "glucometer strips", "swelling in legs", "sleep", "mood", "new med list", "wound care", "diet",
    "smoking cessation", "energy assistance",
)
MEDS = (
    "metformin", "lisinopril", "Eliquis", "insulin glargine", "furosemide", "atorvastatin",
    "albuterol", "sertraline", "Entresto", "amlodipine", "carvedilol", "Jardiance", "levothyroxine",
    "gabapentin", "warfarin", "Trulicity", "tiotropium", "prednisone",
)
APPTS = (
    "cardiology", "nephrology", "PCP", "eye", "podiatry", "endo", "pulm", "wound clinic", "GI",
    "ortho", "PT", "neuro", "dental", "psych", "urology", "hearing",
)
PLACES = (
    "dialysis", "PT", "church", "daughter's house", "work", "the pharmacy", "a dr appt",
    "the senior center", "the store", "adult day program",
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
CLOCK_TIMES = (
    "9am", "9:30", "10am", "10:15", "10:30", "11am", "1pm", "1:30", "2pm", "2:45", "3pm", "3:30",
    "4pm",
)
OTHER_PARTIES = (
    "Walgreens pharmacy", "home health agency", "DME vendor", "Medicaid office",
    "Fred Meyer pharmacy", "hospice intake", "TriMet LIFT", "insurance plan",
)
PT_WORDS = ("Pt", "Pt", "pt")

# Contact note templates, keyed by (method, party, outcome); "*" is a wildcard.
# Fields: {pt} {cg} {cgn} {pcp} {day} {time} {topic} {med} {appt} {place} {bp} {bg}
# {wt} {res} {hosp} {vendor} {lang}
NOTE_TEMPLATES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("phone", "client", "reached"): (
        "{pt} reports taking {med} as prescribed. BP at home {bp}. No new concerns. F/u 2 wks.",
        "Reviewed {topic}. {pt} states feeling 'ok, just tired'. Reminded of {appt} appt {day}.",
        "Called re {topic}; {pt} confirmed {appt} appt {day} {time}, has ride.",
        "Med rec over phone. Out of {med} x3 days - called pharmacy, refill ready today.",
        "{pt} says 'I'm doing better since the new meds'. BG {bg}s fasting. "
        "Will send log to {pcp}.",
        "{pt} c/o swelling in ankles, wt up {wt} lb this wk. Advised to call {pcp} office "
        "today, I will notify PCP too.",
        "Brief call, {pt} busy, asked me to call back {day} after 3.",
        "Checked in. {pt} got the food box from {res}, still needs help w/ {topic}.",
        "Discussed {topic}. {pt} wants to try walking 10 min after dinner. Will check {day}.",
        "Post-discharge call: no new sx, has all meds incl {med}, f/u w/ {pcp} {day} {time}.",
        "Monthly check-in. BP {bp}, no dizziness. Using pillbox. No ED visits.",
        "{pt} worried about {topic}. Explained next steps, gave my direct line.",
        "Went over {appt} appt instructions. {pt} repeated back plan correctly.",
        "Reached {pt}. Still waiting on {res} callback re {topic}. Will call {res} {day}.",
        "{pt} reports fall last wk, no injury, didn't go to ER. Notified {pcp}, "
        "PT referral requested.",
        "{pt} upset about cost of {med}, skipping doses. Will look into copay assistance.",
        "Talked ~20 min, mostly about her grandson. Mood better. BG {bg}s.",
        "Confirmed ride for {appt} {day}. {pt} knows to be ready 30 min early.",
    ),
    ("phone", "client", "left_message"): (
        "LVM re: {topic}", "LVM re {appt} appt {day}, asked to call back.",
        "Left VM w/ callback #, 2nd attempt this wk.", "LVM (no PHI) asking pt to return call.",
        "LVM - reminder {appt} appt {day} {time}.", "Left msg, will try again {day}.",
        "LVM to call back re: {med} refill",
    ),
    ("phone", "client", "no_answer"): (
        "No answer, no VM set up.", "NA x2. Will try alt number next time.",
        "Phone rang out, will try {day}.", "No answer. VM full.",
        "No answer, will send letter if no contact by {day}.", "NA",
    ),
    ("phone", "client", "wrong_number"): (
        "Number not in service. Will ask {pcp} office for updated #.",
        "Wrong number - person who answered doesn't know pt. Need new phone #.",
        "Disconnected. Checked chart, no alt #. Will mail letter.",
    ),
    ("phone", "client", "declined"): (
        "{pt} declined call today - 'not a good time', asked to try next wk.",
        "{pt} declined to discuss {topic}, says her daughter is handling it.",
        "{pt} politely declined further outreach this month. Will respect, try again next mo.",
        "{pt} answered but said too busy, hung up.",
    ),
    ("phone", "caregiver", "reached"): (
        "Spoke with {cg} ({cgn}), pt at {place}, will call back {day}.",
        "{cg} reports pt doing ok, eating better. Pt sleeping, did not speak w/ pt directly.",
        "Spoke w/ {cg} {cgn}: pt admitted to {hosp} since {day}. Will follow for discharge.",
        "{cg} {cgn} asked about {topic}. Explained, {cg} will bring pt to {appt} appt {day}.",
        "Spoke with {cg}; she manages pt's meds now. Reviewed {med} dose change.",
        "{cg} says pt more confused this wk. Advised to call {pcp} today, I will also call.",
    ),
    ("phone", "caregiver", "left_message"): (
        "LVM for {cg} {cgn} re {topic}.", "LVM for {cg} to call back re pt's {appt} appt.",
    ),
    ("phone", "caregiver", "no_answer"): ("No answer at {cg}'s number.",),
    ("phone", "caregiver", "wrong_number"): ("{cg}'s number not in service.",),
    ("phone", "caregiver", "declined"): ("{cg} asked us to call pt directly from now on.",),
    ("phone", "pcp", "reached"): (
        "Called {pcp} office re {topic}, spoke with MA, faxed BP log.",
        "PCP office confirmed appt {day} {time}. Requested updated med list.",
        "Spoke w/ {pcp}'s RN re {med} dose, will call pt w/ plan.",
        "Updated {pcp} office: pt seen in ED at {hosp}, needs f/u within 7 days. Appt made {day}.",
        "{pcp} office sending new Rx for {med} to pharmacy.",
    ),
    ("phone", "pcp", "left_message"): (
        "LVM for {pcp}'s nurse re {topic}.",
        "Left msg w/ front desk at {pcp} office re appt for {topic}.",
    ),
    ("phone", "specialist", "reached"): (
        "Called {appt} clinic to reschedule, new appt {day} {time}.",
        "{appt} clinic confirmed referral received, pt on waitlist.",
    ),
    ("phone", "specialist", "left_message"): ("LVM w/ {appt} scheduling re pt's referral.",),
    ("phone", "community_org", "reached"): (
        "Called {res} to confirm referral received, intake scheduled {day}.",
        "{res} reports pt picked up food box.",
        "Spoke with {res} case worker, application pending docs (ID, proof of income).",
        "{res} says pt is on waitlist, ~6 wks.",
    ),
    ("phone", "community_org", "left_message"): ("LVM for {res} intake re pt's referral.",),
    ("phone", "other", "reached"): (
        "Called {vendor} re {topic}, resolved.", "{vendor}: delivery scheduled {day}.",
        "Spoke w/ {vendor}, pt's {med} on backorder, alternative sent to {pcp}.",
    ),
    ("phone", "other", "left_message"): ("LVM for {vendor} re {topic}.",),
    ("text", "*", "reached"): (
        "Texted appt reminder for {appt} {day} {time}, pt replied 'ok thanks'.",
        "Text re {topic}; pt replied, will bring med bottles to visit.",
        "Texted {pt}: BP log? Replied with readings {bp}.",
        "Text from {cg}: pt doing fine, appt {day} confirmed.",
    ),
    ("text", "*", "left_message"): (
        "Texted appt reminder for {appt} {day} {time}.",
        "Sent text asking pt to call me re {topic}.",
        "Text: reminder to bring med bottles to PCP visit.", "Texted {res} phone # and hours.",
    ),
    ("letter", "*", "*"): (
        "Mailed outreach letter (unable to reach x3).",
        "Mailed {res} info packet and appt calendar.",
        "Mailed letter w/ my direct line and office hours.",
        "Mailed welcome letter and program brochure.", "Mailed copy of care plan per pt request.",
    ),
    ("in_person", "*", "reached"): (
        "Home visit. Pillbox set up for the week, fridge has food. Reviewed {topic}.",
        "Met pt at {pcp} visit, helped fill out {res} application.",
        "Home visit: loose rugs in hallway, {cg} will remove. Discussed {topic}.",
        "Home visit w/ {cg} present. Med rec done, found 2 bottles of {med} - removed old one.",
        "Met at clinic after {appt} appt. Pt overwhelmed, went over plan step by step.",
        "Accompanied pt to {res} intake. Application submitted.",
    ),
    ("in_person", "*", "no_answer"): (
        "Home visit, no one home. Left door hanger w/ my number.",
        "Went for scheduled visit, pt not home. Will call.",
    ),
    ("video", "*", "reached"): (
        "Video visit w/ pt and {cg}. Reviewed {topic}, pt showed BP cuff reading {bp}.",
        "Video check-in. Pt showed me pill bottles, {med} refilled.",
        "Video visit, pt's {cg} helped with the tablet. Talked about {topic}.",
    ),
    ("video", "*", "no_answer"): ("Video visit: pt did not join. Called, no answer.",),
    ("portal", "*", "reached"): (
        "Portal msg from pt re {topic}; replied with info.",
        "Portal: pt asked about {med} side effects, routed to {pcp}'s nurse.",
        "Portal msg from pt, questions about {appt} appt. Answered.",
    ),
    ("portal", "*", "left_message"): (
        "Sent portal message re {appt} appt reminder.", "Portal msg sent w/ {res} info.",
    ),
    ("*", "*", "reached"): ("Contact re {topic}.",),
    ("*", "*", "left_message"): ("Left message re {topic}.",),
    ("*", "*", "no_answer"): ("No answer.",),
    ("*", "*", "wrong_number"): ("Wrong number.",),
    ("*", "*", "declined"): ("Declined.",),
}
INBOUND_TEMPLATES: dict[str, tuple[str, ...]] = {
    "reached": (
        "{pt} called asking about {topic}. Answered questions, will f/u w/ {pcp}.",
        "{pt} returned my call. Confirmed {appt} appt {day}.",
        "{pt} called upset about a hospital bill, gave # for financial counseling.",
        "{pt} called to report fall at home yesterday, no injury. Notified {pcp}.",
        "{pt} called, needs ride to {appt} {day}. Booked through {res}.",
        "{cg} called: pt discharged from {hosp} today. Scheduled TCM call.",
        "{pt} called re {med} refill, pharmacy says needs new Rx. Sent to {pcp}.",
    ),
    "left_message": (
        "{pt} left VM asking for call back re {topic}.",
        "VM from {cg} re pt's {appt} appt, please call back.",
        "{pt} left VM, sounded worried, wants call back today.",
    ),
}
INTERPRETER_NOTES = (
    " Via {lang} interpreter.", " Interpreter used ({lang}).", " ({lang} interpreter, phone line.)",
)

FOLLOWUP_TITLES: dict[str, tuple[str, ...]] = {
    "call": (
        "Check in re: {topic}", "Monthly check-in", "Call re BP log", "Med adherence check",
        "Post-visit call after {appt} appt", "Review {med} side effects", "Confirm {appt} appt",
        "Check weight log", "TCM call", "Check sugar readings",
    ),
    "callback": (
        "Call back: pt left VM re {topic}", "Return call from {cg}", "Callback re pharmacy refill",
        "Return call - question about {topic}",
    ),
    "visit": (
        "Home visit", "Home visit: med reconciliation", "Accompany to {appt} appt",
        "Home safety check",
    ),
    "pcp_coordination": (
        "Send BP log to {pcp}", "Ask {pcp} office about {med} dose",
        "Get updated med list from PCP", "Request PCP appt after ED visit",
    ),
    "referral_check": (
        "Check on {res} referral", "Confirm intake with {res}", "Did pt receive {res} services?",
    ),
    "screening": (
        "Repeat PHQ-9", "Annual social needs screening (AHC HRSN)", "Finish HRSN screening",
        "PHQ-2 at next contact",
    ),
    "other": (
        "Mail {res} info packet", "Update phone number", "Send appt calendar",
        "Fax ROI to {pcp} office",
    ),
}
RECURRENCES = ("FREQ=WEEKLY;INTERVAL=2", "FREQ=MONTHLY", "FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=4")

REFERRAL_NOTES = (
    "Faxed referral form.", "Warm handoff by phone, intake appt {day}.",
    "Online referral via 211 portal.", "Pt will call directly; gave # and hours.",
    "Emailed referral to intake coordinator.", "Referral sent, pt consented to share contact info.",
)

# (name, domains, hours, eligibility, languages) — phone and address are synthetic.
RESOURCES: tuple[tuple[str, tuple[str, ...], str, str, tuple[str, ...]], ...] = (
    (
        "Eastside Community Food Bank",
        ("food",),
        "Tue/Thu 10-2, Sat 9-12", "Anyone in the county",
        ("English", "Spanish"),
    ),
    (
        "Meals on Wheels - Metro",
        ("food",),
        "Mon-Fri 8-4:30", "60+ or homebound",
        ("English", "Spanish", "Russian"),
    ),
    (
        "St. Vincent de Paul Pantry",
        ("food", "utilities"),
        "Mon/Wed/Fri 9-1", "Low income, photo ID",
        ("English", "Spanish"),
    ),
    (
        "SNAP Application Assistance (DHS)",
        ("food", "benefits"),
        "Mon-Fri 8-5", "Income under 200% FPL",
        ("English", "Spanish", "Vietnamese", "Russian", "Somali"),
    ),
    (
        "WIC - County Health Dept",
        ("food",),
        "Mon-Fri 8-5", "Pregnant/postpartum, children under 5",
        ("English", "Spanish", "Vietnamese"),
    ),
    (
        "Village Gardens Produce Rx",
        ("food",),
        "Sat 10-2 (seasonal)", "Referral from clinic",
        ("English", "Spanish"),
    ),
    ("Urban League Senior Pantry", ("food",), "2nd & 4th Wed 11-2", "55+", ("English",)),
    (
        "Community Action Tenant Rights Hotline",
        ("housing",),
        "Mon-Thu 10-4", "Renters in the metro area",
        ("English", "Spanish"),
    ),
    (
        "Rent Assistance Program (Home Forward)",
        ("housing", "financial"),
        "Mon-Fri 9-4", "Eviction notice or past-due rent",
        ("English", "Spanish", "Russian"),
    ),
    (
        "Transition Projects Shelter Intake",
        ("housing",),
        "24/7 line", "Adults experiencing homelessness",
        ("English",),
    ),
    (
        "Legal Aid Services - Housing Unit",
        ("housing", "financial"),
        "Mon-Fri 9-5", "Low income; eviction defense",
        ("English", "Spanish", "Vietnamese"),
    ),
    (
        "Healthy Homes Repair Program",
        ("housing",),
        "Mon-Fri 8-4", "Homeowners 60+ or disabled, income limits",
        ("English", "Spanish"),
    ),
    (
        "Senior Housing Navigator (Area Agency on Aging)",
        ("housing",),
        "Mon-Fri 8:30-5", "60+ or adults with disabilities",
        ("English", "Spanish", "Cantonese"),
    ),
    (
        "Medical Respite Program",
        ("housing", "other"),
        "Referral line Mon-Fri 9-3", "Homeless, recent discharge",
        ("English",),
    ),
    (
        "Energy Assistance (LIHEAP) - Community Action",
        ("utilities",),
        "Mon-Fri 9-4", "Income under 60% SMI; shut-off notice prioritized",
        ("English", "Spanish", "Russian"),
    ),
    (
        "PGE Income-Qualified Bill Discount",
        ("utilities",),
        "Mon-Fri 7-7", "PGE customers, income limits",
        ("English", "Spanish"),
    ),
    (
        "Water Bill Discount Program",
        ("utilities",),
        "Mon-Fri 8-5", "Low-income account holders",
        ("English", "Spanish", "Vietnamese"),
    ),
    (
        "Lifeline Phone Program",
        ("utilities", "benefits"),
        "Online or phone, Mon-Sat", "On SNAP/Medicaid/SSI",
        ("English", "Spanish"),
    ),
    (
        "Weatherization Assistance Program",
        ("utilities", "housing"),
        "Mon-Thu 9-3", "Income-qualified homeowners and renters",
        ("English",),
    ),
    (
        "Ride to Care (Medicaid NEMT)",
        ("transportation",),
        "Mon-Sat 7-7, book 2 days ahead", "Medicaid members",
        ("English", "Spanish", "Vietnamese", "Russian", "Somali"),
    ),
    (
        "TriMet LIFT Paratransit",
        ("transportation",),
        "Daily 7-6", "Disability prevents fixed-route use",
        ("English", "Spanish"),
    ),
    (
        "Honored Citizen Reduced Fare",
        ("transportation",),
        "Mon-Fri 8-5", "65+, Medicare, or disability",
        ("English", "Spanish"),
    ),
    (
        "Volunteer Drivers - Faith in Action",
        ("transportation",),
        "Mon-Fri, 1 wk notice", "60+, non-emergency",
        ("English",),
    ),
    (
        "Gas Card Program (Catholic Charities)",
        ("transportation", "financial"),
        "Tue/Thu 10-2", "Medical appointments, once a quarter",
        ("English", "Spanish"),
    ),
    (
        "National Domestic Violence Hotline",
        ("safety",),
        "24/7 - 1-800-799-7233", "Anyone",
        ("English", "Spanish"),
    ),
    (
        "Raphael House Shelter & Advocacy",
        ("safety", "housing"),
        "24/7 crisis line", "Survivors of domestic violence",
        ("English", "Spanish"),
    ),
    (
        "Bradley Angle DV Services",
        ("safety",),
        "24/7 crisis line; office Mon-Fri 9-5", "Survivors of DV, all genders",
        ("English", "Spanish"),
    ),
    (
        "Adult Protective Services",
        ("safety",),
        "24/7 intake", "Adults 65+ or with disabilities",
        ("English", "Spanish", "Russian"),
    ),
    ("Elder Abuse Prevention Program", ("safety",), "Mon-Fri 9-5", "60+", ("English",)),
    (
        "Benefits Enrollment Center (NCOA)",
        ("benefits", "financial"),
        "Mon-Fri 9-4", "Medicare beneficiaries with limited income",
        ("English", "Spanish", "Mandarin"),
    ),
    (
        "SHIBA Medicare Counseling",
        ("benefits",),
        "By appointment", "Medicare beneficiaries",
        ("English", "Spanish", "Vietnamese"),
    ),
    (
        "Medicaid (OHP) Enrollment Assisters",
        ("benefits",),
        "Mon-Fri 9-5", "Uninsured or renewing",
        ("English", "Spanish", "Vietnamese", "Arabic", "Somali"),
    ),
    (
        "SSI/SSDI Advocacy Project",
        ("benefits", "financial"),
        "Mon-Thu 9-3", "Adults with disabilities, homeless priority",
        ("English",),
    ),
    (
        "Free Tax Prep (VITA)",
        ("financial",),
        "Jan-Apr, Sat 9-3", "Income under $67k",
        ("English", "Spanish", "Cantonese"),
    ),
    (
        "Financial Counseling - Hospital Charity Care",
        ("financial",),
        "Mon-Fri 8-4:30", "Patients with medical bills, income limits",
        ("English", "Spanish", "Russian"),
    ),
    ("Credit Counseling Services", ("financial",), "Mon-Fri 9-5", "Anyone", ("English",)),
    (
        "988 Suicide & Crisis Lifeline",
        ("mental_health", "depression", "safety"),
        "24/7 - call or text 988", "Anyone",
        ("English", "Spanish"),
    ),
    (
        "County Behavioral Health Call Center",
        ("mental_health", "depression"),
        "24/7", "County residents",
        ("English", "Spanish", "Vietnamese", "Russian"),
    ),
    (
        "NAMI Family & Peer Support",
        ("mental_health", "depression"),
        "Groups Tue/Thu 6-8pm", "People with mental illness and families",
        ("English", "Spanish"),
    ),
    (
        "Cascadia Walk-In Clinic",
        ("mental_health", "depression"),
        "Daily 7am-10:30pm", "Anyone, no insurance needed",
        ("English", "Spanish"),
    ),
    (
        "Senior Peer Counseling",
        ("mental_health", "depression"),
        "Mon-Fri 9-4", "60+",
        ("English", "Mandarin", "Cantonese"),
    ),
    ("Lines for Life Recovery Line", ("mental_health",), "24/7", "Anyone", ("English",)),
    (
        "IRCO Immigrant & Refugee Community Services",
        ("benefits", "food", "other"),
        "Mon-Fri 9-5", "Immigrants and refugees",
        ("English", "Vietnamese", "Russian", "Somali", "Arabic", "Ukrainian", "Mandarin"),
    ),
    (
        "211info",
        ("other", "food", "housing", "utilities", "transportation"),
        "24/7 - dial 211", "Anyone",
        ("English", "Spanish"),
    ),
    ("Loaves & Fishes Senior Center", ("food", "other"), "Mon-Fri 11-1 lunch", "60+", ("English",)),
    (
        "Dental Van (MultiCare)",
        ("other",),
        "Schedule varies", "Uninsured adults",
        ("English", "Spanish"),
    ),
    ("Durable Medical Equipment Loan Closet", ("other",), "Mon/Wed 10-2", "Anyone", ("English",)),
)

# fmt: on
# --------------------------------------------------------------------------------------
# Weighted choice helpers
# --------------------------------------------------------------------------------------


class _Weighted:
    """A fixed weighted choice: one `random()` and one bisect per draw."""

    __slots__ = ("cum", "values")

    def __init__(self, pairs: Iterable[tuple[Any, float]]) -> None:
        values: list[Any] = []
        cum: list[float] = []
        total = 0.0
        for value, weight in pairs:
            total += weight
            values.append(value)
            cum.append(total)
        self.values = values
        self.cum = [c / total for c in cum]
        self.cum[-1] = 1.0

    def pick(self, r: float) -> Any:
        return self.values[bisect(self.cum, r)]


def _w(**weights: float) -> _Weighted:
    return _Weighted(weights.items())


class _Template:
    """A note template split once into literals and fields (cheaper than str.format)."""

    __slots__ = ("parts",)

    def __init__(self, source: str) -> None:
        self.parts: list[tuple[str, str | None]] = [
            (literal, name) for literal, name, _spec, _conv in string.Formatter().parse(source)
        ]


# --------------------------------------------------------------------------------------
# Probability tables
# --------------------------------------------------------------------------------------

PROGRAM_W = _w(CCM=45, TCM=14, complex=20, **{"behavioural health": 13, "maternity": 8})
RISK_BY_PROGRAM: dict[str, _Weighted] = {
    "CCM": _w(low=45, rising=38, high=17),
    "TCM": _w(low=15, rising=40, high=45),
    "complex": _w(low=5, rising=30, high=65),
    "behavioural health": _w(low=30, rising=45, high=25),
    "maternity": _w(low=55, rising=30, high=15),
}
STATUS_W = _w(active=85, paused=6, discharged=9)
PREFERRED_W = _w(phone=71, text=17, letter=4, in_person=5, video=3)
METHOD_BY_PREF: dict[str, _Weighted] = {
    "phone": _w(phone=84, text=4, in_person=4, letter=2, video=1, portal=5),
    "text": _w(phone=48, text=42, in_person=3, letter=1, video=1, portal=5),
    "letter": _w(phone=55, letter=30, in_person=10, text=2, portal=3),
    "in_person": _w(phone=50, in_person=42, letter=3, text=3, video=2),
    "video": _w(phone=45, video=38, text=7, in_person=5, portal=5),
}
PARTY_PHONE = _w(client=71, caregiver=12, pcp=10, specialist=2, community_org=4, other=1)
OUTCOME_OUT_CLIENT = _w(reached=50, left_message=28, no_answer=15.5, wrong_number=2.5, declined=4)
OUTCOME_OUT_PROVIDER = _w(reached=66, left_message=34)
OUTCOME_IN_PHONE = _w(reached=80, left_message=20)
OUTCOME_TEXT = _w(reached=45, left_message=55)
OUTCOME_VISIT = _w(reached=91, no_answer=9)
FOLLOWUP_KIND_W = _w(
    call=44, callback=11, visit=7, pcp_coordination=12, referral_check=11, screening=8, other=7
)
PRIORITY_W = _w(normal=66, high=18, low=11, urgent=5)
NEED_STATUS_W = _w(identified=22, referred=24, in_progress=16, resolved=27, declined_help=11)
UTIL_KIND_W = _w(ed_visit=66, admission=34)

# Answer weights for the screening items we know by id; any other item is uniform.
ANSWER_WEIGHTS: dict[str, dict[str, float]] = {
    "living_situation": {"steady": 84, "worried_about_losing": 11, "not_steady": 5},
    "food_worry": {"never_true": 70, "sometimes_true": 22, "often_true": 8},
    "food_ran_out": {"never_true": 74, "sometimes_true": 19, "often_true": 7},
    "transportation": {"no": 78, "yes": 22},
    "utilities": {"no": 86, "yes": 11, "already_shut_off": 3},
    "safety_hurt": {
        "never": 95,
        "rarely": 3,
        "sometimes": 1.5,
        "fairly_often": 0.4,
        "frequently": 0.1,
    },
    "safety_insult": {
        "never": 82,
        "rarely": 10,
        "sometimes": 5,
        "fairly_often": 2,
        "frequently": 1,
    },
    "safety_threaten": {
        "never": 93,
        "rarely": 4,
        "sometimes": 2,
        "fairly_often": 0.7,
        "frequently": 0.3,
    },
    "safety_scream": {
        "never": 80,
        "rarely": 11,
        "sometimes": 6,
        "fairly_often": 2,
        "frequently": 1,
    },
    "phq_9": {"0": 92, "1": 5, "2": 2, "3": 1},
}
PHQ_WEIGHTS = {"0": 45.0, "1": 30.0, "2": 15.0, "3": 10.0}
HOUSING_PROBLEMS = ("pests", "mold", "lead", "heat", "oven", "smoke_detectors", "water_leaks")
DECLINE_P = {
    "safety_hurt": 0.1,
    "safety_insult": 0.1,
    "safety_threaten": 0.1,
    "safety_scream": 0.1,
    "phq_9": 0.08,
}
DEFAULT_DECLINE_P = 0.045


# --------------------------------------------------------------------------------------
# Writing rows
# --------------------------------------------------------------------------------------


def _sqlite_ts(value: datetime) -> str:
    """What UTCDateTime stores on SQLite (the `sqlite_text` layout), for naive UTC input."""
    out = value.isoformat(" ")
    return out if len(out) > 19 else out + ".000000"


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def _same(value: Any) -> Any:
    return value


class _Sink:
    """Writes batches of row tuples to one engine; also says how to encode values."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.raw = store.is_sqlite
        self.cache_size = -2000  # SQLite's default; replaced by the connection's own
        if self.raw:
            with store.engine.connect() as conn:
                self.cache_size = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
        self._sql: dict[str, str] = {}

        # Value encoders; the generator's timestamps are naive UTC datetimes.
        self.ts: Callable[[datetime], Any] = _sqlite_ts if self.raw else _aware
        self.day: Callable[[date], Any] = date.isoformat if self.raw else _same
        self.js: Callable[[Any], Any] = json.dumps if self.raw else _same
        # A missing JSON value as the ORM would write it: SQLAlchemy's JSON type stores
        # Python None as the JSON text 'null' unless the column says none_as_null.
        none_as_null = bool(getattr(_table(Screening).c.result_json.type, "none_as_null", False))
        self.json_none: Any = "null" if self.raw and not none_as_null else None

    def insert(
        self, session: Session, table: Table, columns: Sequence[str], rows: list[Row]
    ) -> None:
        if not rows:
            return
        columns, rows = _complete(table, columns, rows)
        for start in range(0, len(rows), MAX_BATCH_ROWS):
            batch = rows[start : start + MAX_BATCH_ROWS]
            if self.raw:
                key = table.name
                sql = self._sql.get(key)
                if sql is None:
                    names = ", ".join(f'"{c}"' for c in columns)
                    marks = ", ".join("?" for _ in columns)
                    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
                    self._sql[key] = sql
                cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
                try:
                    cursor.executemany(sql, batch)
                finally:
                    cursor.close()
            else:
                session.execute(table.insert(), [dict(zip(columns, r, strict=True)) for r in batch])


_COMPLETIONS: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}


def _complete(
    table: Table, columns: Sequence[str], rows: list[Row]
) -> tuple[Sequence[str], list[Row]]:
    """Add constant defaults for NOT NULL columns the generator does not know about.

    Guards the raw insert path against columns added to the models later: a
    scalar default is filled in, anything else fails loudly here.
    """
    key = (table.name, tuple(columns))
    extra = _COMPLETIONS.get(key)
    if extra is None:
        missing: list[str] = []
        for column in table.columns:
            if column.name in columns or column.nullable or column.server_default is not None:
                continue
            if column.primary_key and column.autoincrement in (True, "auto"):
                continue
            default = column.default
            if default is None or not getattr(default, "is_scalar", False):
                raise RuntimeError(
                    f"demo data: {table.name}.{column.name} is NOT NULL without a constant "
                    "default; teach cm_tui/services/demo.py to fill it"
                )
            missing.append(column.name)
        extra = tuple(missing)
        _COMPLETIONS[key] = extra
    if not extra:
        return columns, rows
    values = tuple(table.columns[name].default.arg for name in extra)  # type: ignore[union-attr]
    return (*columns, *extra), [(*r, *values) for r in rows]


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------

USER_COLS = (
    "id",
    "username",
    "display_name",
    "role",
    "password_hash",
    "active",
    "created_at",
    "failed_logins",
)
RESOURCE_COLS = (
    "id",
    "name",
    "domains",
    "phone",
    "address",
    "hours",
    "eligibility",
    "languages",
    "notes",
)
CLIENT_COLS = (
    "id",
    "mrn",
    "given_name",
    "family_name",
    "preferred_name",
    "dob",
    "sex",
    "language",
    "phone",
    "alt_phone",
    "email",
    "address",
    "preferred_contact",
    "best_time",
    "risk_tier",
    "program",
    "status",
    "enrolled_on",
    "care_manager_id",
    "chw_id",
    "pcp_name",
    "pcp_practice",
    "pcp_phone",
    "what_matters",
    "consent_on",
    "last_contact_at",
    "last_reached_at",
    "created_at",
    "updated_at",
    "version",
)
ENROLLMENT_COLS = (
    "id",
    "client_id",
    "program",
    "start_on",
    "end_on",
    "entry_reason",
    "exit_reason",
    "consent_on",
)
CONTACT_COLS = (
    "id",
    "client_id",
    "user_id",
    "occurred_at",
    "method",
    "direction",
    "party",
    "outcome",
    "duration_min",
    "note",
    "created_at",
)
SCREENING_COLS = (
    "id",
    "client_id",
    "user_id",
    "script_id",
    "script_version",
    "status",
    "started_at",
    "completed_at",
    "opt_out_acknowledged",
    "result_json",
)
ANSWER_COLS = ("screening_id", "item_id", "option_ids", "free_text", "declined", "answered_at")
NEED_COLS = (
    "id",
    "client_id",
    "domain",
    "screening_id",
    "status",
    "note",
    "opened_at",
    "closed_at",
)
REFERRAL_COLS = ("id", "need_id", "resource_id", "status", "sent_at", "closed_at", "note")
UTIL_COLS = ("id", "client_id", "kind", "occurred_at", "facility", "source")
FOLLOWUP_COLS = (
    "id",
    "client_id",
    "assignee_id",
    "created_by_id",
    "title",
    "kind",
    "due_at",
    "priority",
    "status",
    "recurrence",
    "snoozed_until",
    "completed_at",
    "completed_contact_id",
    "source",
    "created_at",
    "version",
)

ENROLL_REASONS = {
    "CCM": ("PCP referral", "2+ chronic conditions", "health plan outreach list"),
    "TCM": ("hospital discharge", "ED discharge", "SNF discharge"),
    "complex": ("high utilizer list", "PCP referral", "health plan outreach list"),
    "behavioural health": ("positive PHQ-9", "PCP referral", "ED visit for crisis"),
    "maternity": ("prenatal intake", "OB referral", "health plan outreach list"),
}
EXIT_REASONS = (
    "goals met",
    "moved out of area",
    "declined further services",
    "unable to reach",
    "transferred to hospice",
    "deceased",
    "lost coverage",
)


@dataclass
class _Staff:
    id: int
    username: str
    display: str
    role: str
    weight: float


@dataclass
class _Practice:
    name: str
    phone: str
    doctors: list[str]


@dataclass
class _Proposed:
    """A follow-up that a screening proposed and the worker accepted."""

    title: str
    kind: str
    priority: str
    due: datetime
    created: datetime
    done: bool


@dataclass
class _Chunk:
    clients: list[Row] = field(default_factory=list)
    enrollments: list[Row] = field(default_factory=list)
    contacts: list[Row] = field(default_factory=list)
    screenings: list[Row] = field(default_factory=list)
    answers: list[Row] = field(default_factory=list)
    needs: list[Row] = field(default_factory=list)
    referrals: list[Row] = field(default_factory=list)
    utilization: list[Row] = field(default_factory=list)
    followups: list[Row] = field(default_factory=list)


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalpha())


def _mc(name: str) -> str:
    """Faker writes "Mcintyre"; records say "McIntyre"."""
    if name.startswith("Mc") and len(name) > 2:
        return "Mc" + name[2].upper() + name[3:]
    return name


def _org_tz() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(ORG_TIMEZONE)
    except Exception:  # no tz database on this system: Pacific standard time
        from datetime import timezone

        return timezone(timedelta(hours=-8))


class _Generator:
    PAST_DAYS = 3 * 365 + 40  # enrolments reach back about three years
    FUTURE_DAYS = 60

    def __init__(
        self,
        sink: _Sink,
        *,
        seed: int,
        clients: int,
        now: datetime,
        contacts_per_client: float,
        followups_per_client: float,
        ids: dict[str, int],
    ) -> None:
        self.sink = sink
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_clients = clients
        self.contacts_mean = max(0.0, contacts_per_client)
        self.followups_mean = max(0.0, followups_per_client)
        self.ids = ids  # next free id per table
        self.now = now.astimezone(UTC).replace(tzinfo=None)
        self.today = now.astimezone(_org_tz()).date()
        self._days()
        self._pools(seed)
        self._scripts()
        self._weight_sum = 0.0
        self._weight_n = 0
        self._fu_weight_sum = 0.0
        self.summary = DemoSummary()

    # --- time -----------------------------------------------------------------------

    def _days(self) -> None:
        tz = _org_tz()
        starts: list[datetime] = []
        weekdays: list[int] = []
        for d in range(-self.FUTURE_DAYS, self.PAST_DAYS + 1):
            local = self.today - timedelta(days=d)
            midnight = datetime.combine(local, time(0), tz).astimezone(UTC)
            starts.append(midnight.replace(tzinfo=None))
            weekdays.append(local.weekday())
        self._day_start = starts
        # index of the working day used for each day: a weekend moves to the Friday
        # before (past) or the Monday after (future)
        index: list[int] = []
        for i, wd in enumerate(weekdays):
            if wd < 5:
                index.append(i)
            elif i - self.FUTURE_DAYS >= 0:
                index.append(min(len(weekdays) - 1, i + (wd - 4)))
            else:
                index.append(max(0, i - (7 - wd)))
        self._work_index = index

    def work_time(self, d: int) -> datetime:
        """A business-hours moment `d` days ago (negative: in the future), never a weekend."""
        last = len(self._work_index) - 1
        i = self._work_index[min(last, max(0, d + self.FUTURE_DAYS))]
        at = self._day_start[i] + timedelta(seconds=30_600.0 + self.rng.random() * 30_600.0)
        if at >= self.now and d >= 0:  # later today has not happened yet: the day before
            i = self._work_index[self.FUTURE_DAYS + 1]
            at = self._day_start[i] + timedelta(seconds=30_600.0 + self.rng.random() * 30_600.0)
        return at

    def day_ago(self, d: int) -> date:
        return self.today - timedelta(days=d)

    # --- pools ----------------------------------------------------------------------

    def _pools(self, seed: int) -> None:
        from faker import Faker

        en = Faker("en_US")
        en.seed_instance(seed)
        es = Faker("es_MX")
        es.seed_instance(seed + 1)

        def uniq(make: Callable[[], str], n: int) -> list[str]:
            seen: dict[str, None] = {}
            for _ in range(n * 3):
                seen.setdefault(_mc(make()), None)
                if len(seen) >= n:
                    break
            return list(seen)

        self.names: dict[str, tuple[list[str], list[str], list[str]]] = {
            "English": (
                uniq(en.first_name_female, 350),
                uniq(en.first_name_male, 350),
                uniq(en.last_name, 700),
            ),
            "Spanish": (
                uniq(es.first_name_female, 160),
                uniq(es.first_name_male, 160),
                uniq(es.last_name, 260),
            ),
        }
        for language, (female, male, family) in OTHER_NAMES.items():
            self.names[language] = (list(female), list(male), list(family))
        self.staff_names = [(en.first_name(), _mc(en.last_name())) for _ in range(40)] + [
            (es.first_name(), es.last_name()) for _ in range(12)
        ]
        self.doctor_names = [(en.first_name(), _mc(en.last_name())) for _ in range(60)]
        self.language_w = _Weighted(LANGUAGES)
        self.city_w = _Weighted(zip(CITIES, CITY_WEIGHTS, strict=True))
        r = self.rng
        self.org_name = ORG_NAMES[r.randrange(len(ORG_NAMES))]
        self.streets = [
            f"{STREET_PREFIXES[r.randrange(len(STREET_PREFIXES))]}{base} "
            f"{STREET_SUFFIXES[r.randrange(len(STREET_SUFFIXES))]}"
            for base in STREET_BASES
        ]
        self.templates = {
            key: [_Template(t) for t in values] for key, values in NOTE_TEMPLATES.items()
        }
        self.inbound = {k: [_Template(t) for t in v] for k, v in INBOUND_TEMPLATES.items()}
        self.interp = [_Template(t) for t in INTERPRETER_NOTES]
        self.fu_titles = {k: [_Template(t) for t in v] for k, v in FOLLOWUP_TITLES.items()}
        self.ref_notes = [_Template(t) for t in REFERRAL_NOTES]
        self.note_pools: dict[str, Sequence[str]] = {
            "day": WEEKDAYS,
            "time": CLOCK_TIMES,
            "topic": TOPICS,
            "med": MEDS,
            "appt": APPTS,
            "place": PLACES,
            "hosp": HOSPITALS,
            "vendor": OTHER_PARTIES,
            "bp": [f"{s}/{d}" for s in range(112, 172, 4) for d in range(68, 98, 6)],
            "bg": ["110", "120", "130", "140", "150", "160", "180", "200", "220", "250"],
            "wt": ["2", "3", "4", "5", "6"],
        }

    def pick(self, pool: Sequence[Any]) -> Any:
        return pool[int(self.rng.random() * len(pool))]

    def phone(self, state: str = "OR") -> str:
        r = self.rng.random
        areas = PHONE_AREA_BY_STATE.get(state, AREA_CODES)
        area = areas[int(r() * len(areas))]
        return f"({area}) {200 + int(r() * 799)}-{int(r() * 10000):04d}"

    def render(self, template: _Template, ctx: dict[str, str]) -> str:
        out: list[str] = []
        pools = self.note_pools
        for literal, name in template.parts:
            out.append(literal)
            if name is not None:
                value = ctx.get(name)
                if value is None:
                    pool = pools.get(name)
                    value = self.pick(pool) if pool else name
                out.append(value)
        return "".join(out)

    # --- screening scripts ------------------------------------------------------------

    def _scripts(self) -> None:
        from cm_tui.screening import evaluate, load_builtin

        self._evaluate = evaluate
        self.scripts = {sid: load_builtin(sid) for sid in ("ahc-hrsn", "phq-2", "phq-9")}
        self._eval_cache: dict[Any, dict[str, Any]] = {}
        self._answer_w: dict[tuple[str, str], _Weighted] = {}
        for script in self.scripts.values():
            for item in script.items:
                ids = [o.id for o in item.options]
                if not ids:
                    continue
                known = ANSWER_WEIGHTS.get(item.id)
                if known is None and item.id.startswith("phq_"):
                    known = PHQ_WEIGHTS
                pairs = [(i, (known or {}).get(i, 0.0 if known else 1.0)) for i in ids]
                if sum(w for _, w in pairs) <= 0:
                    pairs = [(i, 1.0) for i in ids]
                self._answer_w[(script.id, item.id)] = _Weighted(pairs)

    # --- ids --------------------------------------------------------------------------

    def next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    # --- staff and the directory ------------------------------------------------------

    def staff(self, password_hash: str) -> list[Row]:
        r = self.rng
        # One person per ~150 clients, at most 50: the size of team DESIGN §8 times the
        # team's follow-up queue for (a 100k-client demo has 50 people).
        total = max(5, min(50, 5 + self.n_clients // 150))
        rest = total - 3
        chws = max(1, round(rest * 0.4))
        cms = rest - chws
        taken = {DEMO_USERNAME, "supervisor", "admin"}
        names = list(self.staff_names)
        r.shuffle(names)
        people: list[tuple[str, str, str, float]] = []  # username, display, role, weight

        def username(given: str, family: str) -> str:
            base = (_ascii(given)[:1] + _ascii(family))[:12] or "user"
            candidate, n = base, 1
            while candidate in taken:
                n += 1
                candidate = f"{base}{n}"
            taken.add(candidate)
            return candidate

        sup = names.pop()
        people.append(("supervisor", f"{sup[0]} {sup[1]}, RN", "supervisor", 0.12))
        adm = names.pop()
        people.append(("admin", f"{adm[0]} {adm[1]}", "admin", 0.0))
        people.append((DEMO_USERNAME, DEMO_DISPLAY_NAME, "care_manager", 1.0))
        for _ in range(cms):
            given, family = names.pop()
            cred = ("RN", "RN", "RN", "LCSW", "MSW", "RN, CCM")[r.randrange(6)]
            people.append(
                (
                    username(given, family),
                    f"{given} {family}, {cred}",
                    "care_manager",
                    r.uniform(0.45, 1.5),
                )
            )
        for _ in range(chws):
            given, family = names.pop()
            people.append(
                (username(given, family), f"{given} {family}, CHW", "chw", r.uniform(0.5, 1.5))
            )
        rows: list[Row] = []
        self.all_staff: list[_Staff] = []
        for name, display, role, weight in people:
            uid = self.next_id("users")
            created = self.work_time(400 + r.randrange(1100))
            rows.append((uid, name, display, role, password_hash, True, self.sink.ts(created), 0))
            self.all_staff.append(_Staff(uid, name, display, role, weight))
        self.cms = [s for s in self.all_staff if s.role in ("care_manager", "supervisor")]
        self.chws = [s for s in self.all_staff if s.role == "chw"]
        self.cm_w = _Weighted((s, s.weight) for s in self.cms)
        self.chw_w = _Weighted((s, s.weight) for s in self.chws)
        self.supervisor = self.all_staff[0]
        self.summary.usernames = [(s.username, s.role) for s in self.all_staff]
        self.summary.users = len(rows)
        return rows

    def practices(self) -> None:
        r = self.rng
        n = r.randint(5, 8)
        chosen = r.sample(PRACTICES, n)
        doctors = list(self.doctor_names)
        r.shuffle(doctors)
        self.practice_list: list[_Practice] = []
        for name in chosen:
            docs: list[str] = []
            for _ in range(r.randint(2, 5)):
                given, family = doctors.pop()
                cred = PCP_CREDENTIALS[r.randrange(len(PCP_CREDENTIALS))]
                docs.append(
                    f"Dr. {given} {family}" if cred in ("MD", "DO") else f"{given} {family}, {cred}"
                )
            self.practice_list.append(_Practice(name, self.phone(), docs))
        self.practice_w = _Weighted((p, r.uniform(0.5, 2.0)) for p in self.practice_list)

    def resources(self) -> list[Row]:
        r = self.rng
        rows: list[Row] = []
        self.res_by_domain: dict[str, list[tuple[int, str]]] = {}
        self.res_all: list[tuple[int, str]] = []
        for name, domains, hours, eligibility, languages in RESOURCES:
            rid = self.next_id("resources")
            city, state, zips = CITIES[r.randrange(3)]
            address: str | None = (
                f"{r.randint(100, 9999)} {self.pick(self.streets)}, {city}, {state} "
                f"{self.pick(zips)}"
            )
            phone = self.phone(state)
            if name.startswith(("988", "211", "National")):
                address = None  # a line, not a place
                phone = {"988": "988", "211": "211"}.get(name[:3], "1-800-799-7233")
            rows.append(
                (
                    rid,
                    name,
                    self.sink.js(list(domains)),
                    phone,
                    address,
                    hours,
                    eligibility,
                    self.sink.js(list(languages)),
                    None,
                )
            )
            short = name.split(" (")[0].split(" - ")[0]
            self.res_all.append((rid, short))
            for domain in domains:
                self.res_by_domain.setdefault(domain, []).append((rid, short))
        self.summary.resources = len(rows)
        return rows

    # --- clients ----------------------------------------------------------------------

    def chunk(self, count: int, mrns: list[int]) -> _Chunk:
        out = _Chunk()
        for mrn in mrns[:count]:
            self.client(out, mrn)
        return out

    def client(self, out: _Chunk, mrn: int) -> None:
        rng = self.rng
        r = rng.random
        sink = self.sink
        ts = sink.ts
        cid = self.next_id("clients")

        program: str = PROGRAM_W.pick(r())
        risk: str = RISK_BY_PROGRAM[program].pick(r())
        language: str = self.language_w.pick(r())
        # Age: mostly older adults; maternity clients are of child-bearing age.
        if program == "maternity":
            sex = "female"
            age = 18 + int(r() * 24)
        else:
            sex = "female" if r() < 0.56 else "male"
            u = r()
            if u < 0.58:
                age = 65 + int(rng.triangular(0, 32, 6))
            elif u < 0.9:
                age = 40 + int(r() * 25)
            else:
                age = 19 + int(r() * 21)
        dob = self.today - timedelta(days=age * 365 + int(r() * 365) + age // 4)
        female, male, family_pool = self.names.get(language) or self.names["English"]
        given = self.pick(female if sex == "female" else male)
        family = self.pick(family_pool)
        if language == "Spanish" and r() < 0.25:
            family = f"{family} {self.pick(family_pool)}"
        elif (
            language in ("Russian", "Ukrainian")
            and sex == "female"
            and family.endswith(("ov", "ev", "in"))
        ):
            family += "a"
        preferred = NICKNAMES.get(given) if r() < 0.5 else None
        city, state, zips = self.city_w.pick(r())
        apt = f" Apt {1 + int(r() * 40)}" if r() < 0.3 else ""
        address = (
            f"{100 + int(r() * 19800)} {self.pick(self.streets)}{apt}, {city}, {state} "
            f"{self.pick(zips)}"
        )
        phone = self.phone(state)
        alt_phone = self.phone(state) if r() < 0.3 else None
        email = None
        if r() < (0.55 if age < 65 else 0.2):
            email = (
                f"{_ascii(given)}.{_ascii(family)}{int(r() * 100)}@"
                f"{('example.com', 'example.org', 'example.net')[int(r() * 3)]}"
            )
        pref: str = PREFERRED_W.pick(r())
        if age >= 80 and pref == "text" and r() < 0.6:
            pref = "phone"
        best_time = self.pick(BEST_TIMES) if r() < 0.85 else None
        status: str = STATUS_W.pick(r())

        cm: _Staff = self.cm_w.pick(r())
        chw: _Staff | None = None
        if self.chws and r() < (0.55 if language != "English" else 0.3):
            chw = self.chw_w.pick(r())
        practice: _Practice | None = self.practice_w.pick(r()) if r() < 0.98 else None

        # Enrolment: TCM is recent by nature; others up to three years back.
        if program == "TCM":
            enrolled_d = 3 + int(r() * 80)
        elif program == "maternity":
            enrolled_d = 3 + int(r() * 250)
        else:
            enrolled_d = 3 + int(r() ** 1.3 * (self.PAST_DAYS - 60))
        enrolled_on = self.day_ago(enrolled_d)
        consent_on = self.day_ago(max(0, enrolled_d - int(r() * 8))) if r() < 0.93 else None
        # Contacts happen from enrolment (at most a year back) until now or discharge.
        start_d = min(enrolled_d, 365)
        end_d = 0
        if status == "discharged":
            end_d = max(1, int(start_d * r() * 0.8))
        span = max(1, start_d - end_d)

        caregiver = None
        if r() < (0.6 if age >= 75 else 0.25):
            relation = self.pick(CAREGIVER_RELATIONS)
            cg_female = relation in ("daughter", "wife", "granddaughter", "niece", "sister")
            cg_given = self.pick(female if cg_female else male)
            caregiver = (relation, cg_given)
        pcp_short = "PCP"
        pcp_name: str | None = None
        if practice is not None:
            pcp_name = self.pick(practice.doctors)
            if pcp_name.startswith("Dr."):
                pcp_short = "Dr. " + pcp_name.rsplit(" ", 1)[-1]
            else:  # "Emily Ford, NP" -> "NP Ford"
                person, cred = pcp_name.split(", ")
                pcp_short = f"{cred.split('-')[0]} {person.rsplit(' ', 1)[-1]}"
        ctx = {
            "pt": PT_WORDS[int(r() * 3)],
            "cg": caregiver[0] if caregiver else "son",
            "cgn": caregiver[1] if caregiver else self.pick(male),
            "pcp": pcp_short,
            "lang": language,
        }
        if program == "maternity":
            ctx["appt"] = "OB"

        # --- contacts --------------------------------------------------------------
        weight = {"low": 0.6, "rising": 1.0, "high": 1.7}[risk] * (span / 365) ** 0.6
        if status == "paused":
            weight *= 0.5
        self._weight_sum += weight
        self._weight_n += 1
        mean_w = self._weight_sum / self._weight_n
        expected = self.contacts_mean * weight / mean_w if mean_w > 0 else 0.0
        n_contacts = int(expected * (0.5 + r()) + r())
        if enrolled_d > 10 and n_contacts == 0 and self.contacts_mean >= 1:
            n_contacts = 1
        days = sorted((end_d + int(r() ** 1.25 * span) for _ in range(n_contacts)), reverse=True)
        contact_rows: list[tuple[int, datetime, int, str]] = []  # id, at, user, outcome
        last_contact: datetime | None = None
        last_reached: datetime | None = None
        method_w = METHOD_BY_PREF[pref]
        for i, d in enumerate(days):
            at = self.work_time(d)
            if i == 0 and enrolled_d <= 365:  # the intake call
                method, direction, party, outcome = "phone", "outbound", "client", "reached"
            else:
                method = method_w.pick(r())
                direction = "outbound"
                party = "client"
                if method == "phone":
                    party = PARTY_PHONE.pick(r())
                    if party == "caregiver" and caregiver is None:
                        party = "client"
                    if party in ("client", "caregiver") and r() < 0.18:
                        direction = "inbound"
                        outcome = OUTCOME_IN_PHONE.pick(r())
                    elif party in ("client", "caregiver"):
                        outcome = OUTCOME_OUT_CLIENT.pick(r())
                    else:
                        outcome = OUTCOME_OUT_PROVIDER.pick(r())
                elif method == "text":
                    outcome = OUTCOME_TEXT.pick(r())
                    if caregiver is not None and r() < 0.1:
                        party = "caregiver"
                elif method == "letter":
                    outcome = "left_message"
                elif method == "portal":
                    direction = "inbound" if r() < 0.5 else "outbound"
                    outcome = "reached" if direction == "inbound" else "left_message"
                else:  # in_person, video
                    outcome = OUTCOME_VISIT.pick(r())
                    if caregiver is not None and r() < 0.15:
                        party = "caregiver"
            # who
            user = cm
            if chw is not None and (
                method == "in_person" or party == "community_org" or r() < 0.15
            ):
                user = chw
            elif r() < 0.04:
                user = self.cm_w.pick(r())  # covering for a colleague
            # how long
            if outcome == "reached":
                if method == "in_person":
                    duration: int | None = 30 + int(r() * 60)
                elif method == "video":
                    duration = 15 + int(r() * 30)
                elif method in ("text", "portal"):
                    duration = None if r() < 0.6 else 2 + int(r() * 5)
                else:
                    duration = 3 + int(-math.log(1.0 - r() * 0.999) * 9)
            elif method == "letter":
                duration = None if r() < 0.5 else 5 + int(r() * 10)
            elif method in ("text", "portal"):
                duration = None
            else:
                duration = 1 + int(r() * 3)
            # what was written
            if direction == "inbound" and method == "phone":
                choices = self.inbound[outcome]
            else:
                choices = (
                    self.templates.get((method, party, outcome))
                    or self.templates.get((method, "*", outcome))
                    or self.templates.get((method, "*", "*"))
                    or self.templates[("*", "*", outcome)]
                )
            ctx["res"] = self.pick(self.res_all)[1]
            note = self.render(choices[int(r() * len(choices))], ctx)
            if (
                language != "English"
                and outcome == "reached"
                and party == "client"
                and (method in ("phone", "in_person", "video") and r() < 0.6)
            ):
                note += self.render(self.interp[int(r() * len(self.interp))], ctx)
            contact_id = self.next_id("contacts")
            at_s = ts(at)
            out.contacts.append(
                (
                    contact_id,
                    cid,
                    user.id,
                    at_s,
                    method,
                    direction,
                    party,
                    outcome,
                    duration,
                    note,
                    at_s,
                )
            )
            contact_rows.append((contact_id, at, user.id, outcome))
            if last_contact is None or at > last_contact:
                last_contact = at
            if (
                outcome == "reached"
                and party in ("client", "caregiver")
                and (last_reached is None or at > last_reached)
            ):
                last_reached = at

        what = None
        if r() < 0.88:
            if program == "maternity" and r() < 0.6:
                what = self.pick(WHAT_MATTERS_MATERNITY)
            elif program == "behavioural health" and r() < 0.5:
                what = self.pick(WHAT_MATTERS_BH)
            elif language == "Spanish" and r() < 0.25:
                what = self.pick(WHAT_MATTERS_SPANISH)
            elif age >= 70 and r() < 0.3:
                what = self.pick(WHAT_MATTERS_OLDER)
            else:
                what = self.pick(WHAT_MATTERS_GENERAL)
        created = self.work_time(enrolled_d)
        updated = max(created, last_contact) if last_contact else created
        out.clients.append(
            (
                cid,
                f"MRN{mrn:07d}",
                given,
                family,
                preferred,
                sink.day(dob),
                sex,
                language,
                phone,
                alt_phone,
                email,
                address,
                pref,
                best_time,
                risk,
                program,
                status,
                sink.day(enrolled_on),
                cm.id,
                chw.id if chw else None,
                pcp_name,
                practice.name if practice else None,
                practice.phone if practice else None,
                what,
                sink.day(consent_on) if consent_on else None,
                ts(last_contact) if last_contact else None,
                ts(last_reached) if last_reached else None,
                ts(created),
                ts(updated),
                1,
            )
        )
        out.enrollments.append(
            (
                self.next_id("program_enrollments"),
                cid,
                program,
                sink.day(enrolled_on),
                sink.day(self.day_ago(end_d)) if status == "discharged" else None,
                self.pick(ENROLL_REASONS[program]),
                self.pick(EXIT_REASONS) if status == "discharged" else None,
                sink.day(consent_on) if consent_on else None,
            )
        )

        worker = chw or cm
        proposed = self.screenings(out, cid, worker, start_d, end_d, program)
        self.utilization(out, cid, risk, program, enrolled_d)
        self.followups(out, cid, cm, chw, status, risk, contact_rows, ctx, proposed)
        self.manual_need(out, cid, start_d, end_d)

    # --- screenings, needs, referrals ----------------------------------------------------

    def screenings(
        self, out: _Chunk, cid: int, worker: _Staff, start_d: int, end_d: int, program: str
    ) -> list[_Proposed]:
        """Screenings of one client; returns the follow-ups their proposals asked for."""
        r = self.rng.random
        plan: list[str] = []
        if r() < (0.55 if worker.role == "chw" else 0.3):
            plan.append("ahc-hrsn")
        if program == "behavioural health" and r() < 0.8:
            plan.append("phq-9")
        elif r() < 0.28:
            plan.append("phq-2")
        proposed: list[_Proposed] = []
        for script_id in plan:
            d = end_d + int(r() * max(1, start_d - end_d))
            proposed.extend(self.screening(out, cid, worker, script_id, d))
        return proposed

    def screening(
        self, out: _Chunk, cid: int, worker: _Staff, script_id: str, d: int
    ) -> list[_Proposed]:
        r = self.rng.random
        sink = self.sink
        ts = sink.ts
        script = self.scripts[script_id]
        sid = self.next_id("screenings")
        started = self.work_time(d)
        u = r()
        status = "completed" if u < 0.86 else ("in_progress" if u < 0.93 else "declined")
        if status == "in_progress" and d > 30:
            status = "completed"  # old drafts were finished; the open ones are recent
        answers: dict[str, list[str]] = {}
        declined: set[str] = set()
        stop = len(script.items)
        if status == "in_progress":
            stop = 1 + int(r() * max(1, len(script.items) - 2))
        elif status == "declined":
            stop = 0  # declined as a whole at the opt-out prompt: no answers
        at = started
        for item in script.items[:stop]:
            if item.show_if is not None and not self._visible(script, item, answers):
                continue
            at = at + timedelta(seconds=20 + int(r() * 70))
            if r() < DECLINE_P.get(item.id, DEFAULT_DECLINE_P):
                declined.add(item.id)
                out.answers.append((sid, item.id, sink.json_none, None, True, ts(at)))
                continue
            chosen = self.answer(script_id, item)
            if chosen is None:
                continue
            answers[item.id] = chosen
            out.answers.append((sid, item.id, sink.js(chosen), None, False, ts(at)))
        completed = None if status == "in_progress" else at + timedelta(seconds=30 + int(r() * 90))
        result: dict[str, Any] | None = None
        if status == "completed":
            result = self.result(script_id, answers, declined)
        out.screenings.append(
            (
                sid,
                cid,
                worker.id,
                script.id,
                script.version,
                status,
                ts(started),
                ts(completed) if completed else None,
                True,
                sink.js(result) if result is not None else sink.json_none,
            )
        )
        self.summary.screenings += 1
        if result is None or completed is None:
            return []
        # What the summary screen proposes, as the worker accepted it.
        proposed: list[_Proposed] = []
        opened: set[str] = set()
        for proposal in result.get("proposals") or ():
            need_domain = proposal.get("need_domain")
            if need_domain and need_domain not in opened:
                opened.add(need_domain)
                self.need(out, cid, need_domain, sid, completed)
            next_script = proposal.get("script_id")
            due = completed + timedelta(days=int(proposal.get("due_days") or 0), hours=2)
            if next_script in self.scripts and r() < 0.7 and d > 3:
                # e.g. PHQ-2 positive -> the PHQ-9 was given a few days later
                proposed.extend(
                    self.screening(out, cid, worker, next_script, max(0, d - 1 - int(r() * 3)))
                )
                continue
            if proposal.get("source") == "flag" or r() < 0.6:
                proposed.append(
                    _Proposed(
                        title=str(proposal.get("title") or "Follow up on screening"),
                        kind=str(proposal.get("kind") or "call"),
                        priority=str(proposal.get("priority") or "normal"),
                        due=due,
                        created=completed,
                        done=due < self.now - timedelta(days=1) or r() < 0.3,
                    )
                )
        return proposed

    def _visible(self, script: Any, item: Any, answers: dict[str, list[str]]) -> bool:
        """The engine's skip logic: `show_if` sees the answers given so far."""
        from cm_tui.screening.conditions import Context, holds

        ctx = Context(script, {k: tuple(v) for k, v in answers.items()})
        return bool(holds(item.show_if, ctx))

    def answer(self, script_id: str, item: Any) -> list[str] | None:
        r = self.rng.random
        weights = self._answer_w.get((script_id, item.id))
        if weights is None:
            if item.kind == "number":
                low = int(item.min if item.min is not None else 0)
                high = int(item.max if item.max is not None else 10)
                return [str(low + int(r() * (high - low + 1)))]
            return None  # free text: left empty
        if item.kind == "multi":
            ids = [o.id for o in item.options]
            exclusive = [o.id for o in item.options if o.exclusive] or (
                ["none"] if "none" in ids else []
            )
            if exclusive and r() < 0.8:
                return [exclusive[0]]
            pool = [i for i in ids if i not in exclusive] or ids
            picked = {pool[int(r() * len(pool))] for _ in range(1 + int(r() * 2))}
            return sorted(picked, key=ids.index)
        return [weights.pick(r())]

    def result(
        self, script_id: str, answers: dict[str, list[str]], declined: set[str]
    ) -> dict[str, Any]:
        key = (
            script_id,
            tuple(sorted((k, tuple(v)) for k, v in answers.items())),
            frozenset(declined),
        )
        cached = self._eval_cache.get(key)
        if cached is None:
            outcome = self._evaluate(self.scripts[script_id], answers, declined=declined)
            raw: Any = outcome.to_json()
            cached = json.loads(raw) if isinstance(raw, str) else dict(raw)
            if len(self._eval_cache) < 100_000:
                self._eval_cache[key] = cached
        return cached

    def need(
        self, out: _Chunk, cid: int, domain: str, screening_id: int | None, opened: datetime
    ) -> None:
        r = self.rng.random
        ts = self.sink.ts
        nid = self.next_id("needs")
        status: str = NEED_STATUS_W.pick(r())
        age_days = (self.now - opened).days
        closed: datetime | None = None
        if status in ("resolved", "declined_help"):
            if age_days < 10:
                status = "in_progress" if status == "resolved" else "identified"
            else:
                closed = opened + timedelta(
                    days=3 + int(r() * min(120, age_days - 3)), minutes=int(r() * 480)
                )
        note = None
        if status == "declined_help":
            note = (
                "Pt says family is helping",
                "Not interested right now",
                "Already working with another agency",
            )[int(r() * 3)]
        out.needs.append(
            (
                nid,
                cid,
                domain,
                screening_id,
                status,
                note,
                ts(opened),
                ts(closed) if closed else None,
            )
        )
        self.summary.needs += 1
        if status in ("identified", "declined_help"):
            return
        candidates = self.res_by_domain.get(domain) or self.res_all
        sent = opened + timedelta(days=int(r() * 5), minutes=int(r() * 300))
        if sent >= self.now:
            sent = opened
        ref_status = {"referred": "sent", "in_progress": "accepted"}.get(status, "completed")
        if status == "resolved" and r() < 0.2:
            # the first place could not help; the second one did
            first = candidates[int(r() * len(candidates))]
            bad_close = sent + (closed - sent) / 2 if closed else sent
            self._referral(out, nid, first[0], "closed_unmet", sent, bad_close)
            sent = bad_close
        rid = candidates[int(r() * len(candidates))][0]
        self._referral(
            out, nid, rid, ref_status, sent, closed if ref_status == "completed" else None
        )

    def _referral(
        self,
        out: _Chunk,
        need_id: int,
        resource_id: int,
        status: str,
        sent: datetime,
        closed: datetime | None,
    ) -> None:
        ts = self.sink.ts
        note = self.render(self.pick(self.ref_notes), {})
        out.referrals.append(
            (
                self.next_id("referrals"),
                need_id,
                resource_id,
                status,
                ts(sent),
                ts(closed) if closed else None,
                note,
            )
        )
        self.summary.referrals += 1

    def manual_need(self, out: _Chunk, cid: int, start_d: int, end_d: int) -> None:
        r = self.rng.random
        if r() >= 0.08:
            return
        domain = ("financial", "benefits", "transportation", "food", "mental_health", "other")[
            int(r() * 6)
        ]
        d = end_d + int(r() * max(1, start_d - end_d))
        self.need(out, cid, domain, None, self.work_time(d))

    # --- utilization --------------------------------------------------------------------

    def utilization(self, out: _Chunk, cid: int, risk: str, program: str, enrolled_d: int) -> None:
        r = self.rng.random
        ts = self.sink.ts
        events: list[tuple[str, datetime]] = []
        if program == "TCM":  # enrolled after a discharge
            events.append(("admission", self.work_time(enrolled_d + 2 + int(r() * 8))))
        p = {"low": 0.05, "rising": 0.14, "high": 0.35}[risk]
        if r() < p:
            for _ in range(1 + int(r() * 3 if risk == "high" else r() * 1.5)):
                events.append((UTIL_KIND_W.pick(r()), self.work_time(int(r() ** 1.5 * 365))))
        events.sort(key=lambda e: e[1])
        last_admission: datetime | None = None
        for kind, at in events:
            if kind == "admission":
                if last_admission is not None and (at - last_admission).days <= 30:
                    kind = "readmission"
                last_admission = at
            out.utilization.append(
                (
                    self.next_id("utilization_events"),
                    cid,
                    kind,
                    ts(at),
                    self.pick(HOSPITALS),
                    "import" if r() < 0.8 else "manual",
                )
            )
            self.summary.utilization_events += 1

    # --- follow-ups ----------------------------------------------------------------------

    def followups(
        self,
        out: _Chunk,
        cid: int,
        cm: _Staff,
        chw: _Staff | None,
        status: str,
        risk: str,
        contacts: list[tuple[int, datetime, int, str]],
        ctx: dict[str, str],
        proposed: list[_Proposed],
    ) -> None:
        r = self.rng.random
        ts = self.sink.ts
        weight = {"low": 0.7, "rising": 1.0, "high": 1.45}[risk]
        self._fu_weight_sum += weight
        mean_w = self._fu_weight_sum / self._weight_n
        expected = self.followups_mean * weight / mean_w if mean_w > 0 else 0.0
        n = max(0, int(expected * (0.5 + r()) + r()) - len(proposed))
        rows = out.followups

        for p in proposed:  # accepted screening proposals (flags: always, urgent)
            fid = self.next_id("follow_ups")
            closed = p.due - timedelta(minutes=40 + int(r() * 600)) if p.done else None
            if closed is not None and closed < p.created:
                closed = p.created + timedelta(minutes=30)
            assignee = chw if chw is not None and p.kind == "referral_check" else cm
            rows.append(
                (
                    fid,
                    cid,
                    assignee.id,
                    assignee.id,
                    p.title,
                    p.kind,
                    ts(p.due),
                    p.priority,
                    "done" if p.done else "open",
                    None,
                    None,
                    ts(closed) if closed else None,
                    None,
                    "screening",
                    ts(p.created),
                    1,
                )
            )
            self.summary.followups += 1

        for _ in range(n):
            fid = self.next_id("follow_ups")
            kind: str = FOLLOWUP_KIND_W.pick(r())
            priority: str = PRIORITY_W.pick(r())
            assignee = chw if chw is not None and kind in ("visit", "referral_check") else cm
            if chw is not None and r() < 0.1:
                assignee = chw
            creator = assignee if r() < 0.9 else self.supervisor
            source = "manual"
            if kind == "callback":
                source = "inbound_call"
            elif kind == "screening" and r() < 0.5:
                source = "screening"
            ctx["res"] = self.pick(self.res_all)[1]
            titles = self.fu_titles[kind]
            title = self.render(titles[int(r() * len(titles))], ctx)
            recurrence = self.pick(RECURRENCES) if kind == "call" and r() < 0.08 else None
            u = r()
            completed_contact: int | None = None
            completed: datetime | None = None
            snoozed: datetime | None = None
            if u < 0.62 and contacts:
                state = "done"
                contact_id, at, user_id, _outcome = contacts[int(r() * len(contacts))]
                completed_contact, completed = contact_id, at + timedelta(minutes=2)
                assignee = next((s for s in self.all_staff if s.id == user_id), assignee)
                due = at - timedelta(days=int(r() * 4), hours=int(r() * 4))
                created = due - timedelta(days=1 + int(r() * 20))
            elif u < 0.69 or status == "discharged":
                state = "cancelled"
                d = 2 + int(r() * 300)
                due = self.work_time(d)
                created = due - timedelta(days=1 + int(r() * 20))
                completed = None
            else:
                state = "open"
                if kind == "callback":  # the callback queue: hours old, due within a day
                    created = self.now - timedelta(minutes=10 + int(r() ** 2 * 60 * 30))
                    due = created + timedelta(hours=24)
                    priority = "high" if priority in ("low", "normal") and r() < 0.4 else priority
                elif r() < 0.17:  # overdue
                    due = self.work_time(1 + int(r() ** 1.6 * 30))
                    created = due - timedelta(days=1 + int(r() * 20))
                else:
                    due = self.work_time(-int(r() ** 1.3 * 35))
                    created = self.now - timedelta(days=int(r() * 20), minutes=int(r() * 600))
                    if r() < 0.04:
                        snoozed = due
                        due = due + timedelta(days=1 + int(r() * 6))
            rows.append(
                (
                    fid,
                    cid,
                    assignee.id,
                    creator.id,
                    title,
                    kind,
                    ts(due),
                    priority,
                    state,
                    recurrence,
                    ts(snoozed) if snoozed else None,
                    ts(completed) if completed else None,
                    completed_contact,
                    source,
                    ts(created),
                    1,
                )
            )
            self.summary.followups += 1


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------

_TABLES: dict[str, Any] = {
    "users": User,
    "resources": Resource,
    "clients": Client,
    "program_enrollments": ProgramEnrollment,
    "contacts": Contact,
    "screenings": Screening,
    "needs": Need,
    "referrals": Referral,
    "utilization_events": UtilizationEvent,
    "follow_ups": FollowUp,
    # Care plans (demo_careplans), written after everything above.
    "care_plans": CarePlan,
    "goals": Goal,
    "goal_progress": GoalProgress,
    "interventions": Intervention,
    "barriers": Barrier,
}


def _write_chunk(store: Store, sink: _Sink, chunk: _Chunk) -> None:
    """One transaction per chunk of clients with all their history."""
    with store.write() as session:
        if sink.raw:  # a bigger page cache for this bulk transaction only
            session.connection().exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        sink.insert(session, _table(Client), CLIENT_COLS, chunk.clients)
        sink.insert(session, _table(ProgramEnrollment), ENROLLMENT_COLS, chunk.enrollments)
        sink.insert(session, _table(Contact), CONTACT_COLS, chunk.contacts)
        sink.insert(session, _table(Screening), SCREENING_COLS, chunk.screenings)
        sink.insert(session, _table(ScreeningAnswer), ANSWER_COLS, chunk.answers)
        sink.insert(session, _table(Need), NEED_COLS, chunk.needs)
        sink.insert(session, _table(Referral), REFERRAL_COLS, chunk.referrals)
        sink.insert(session, _table(UtilizationEvent), UTIL_COLS, chunk.utilization)
        sink.insert(session, _table(FollowUp), FOLLOWUP_COLS, chunk.followups)
        if sink.raw:
            session.connection().exec_driver_sql(f"PRAGMA cache_size={sink.cache_size}")


def demo_password_hash(seed: int) -> str:
    """The argon2 hash of DEMO_PASSWORD, computed once, with a salt derived from the seed.

    The password is public ("demo"), so a derived salt costs nothing and keeps the
    users table identical for a seed like every other table.
    """
    from argon2 import PasswordHasher

    salt = hashlib.sha256(f"cm-tui demo {seed}".encode()).digest()[:16]
    return PasswordHasher().hash(DEMO_PASSWORD, salt=salt)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def generate_demo(
    store: Store,
    *,
    clients: int = 300,
    seed: int = 1,
    contacts_per_client: float = 10.0,
    followups_per_client: float = 3.0,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> DemoSummary:
    """Fill an empty database with a synthetic organisation; see the module docstring.

    Raises ValueError when the database already holds clients or one of the demo
    usernames, or when `clients` is negative.
    """
    started = _time.perf_counter()
    if clients < 0:
        raise ValueError("the number of clients cannot be negative")
    if now is None:
        now = utcnow()
    elif now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    report: ProgressFn = progress or (lambda _stage, _done, _total: None)

    with store.read() as session:
        existing = session.execute(select(func.count()).select_from(_table(Client))).scalar_one()
        if existing:
            raise ValueError(
                f"{store.describe()} already holds {existing} clients; demo data goes into an "
                "empty database only (use a new --db file)."
            )
        users = _table(User)
        clash = (
            session.execute(
                select(users.c.username).where(
                    users.c.username.in_([DEMO_USERNAME, "supervisor", "admin"])
                )
            )
            .scalars()
            .all()
        )
        if clash:
            raise ValueError(
                f"{store.describe()} already has user(s) {', '.join(sorted(clash))}; demo data "
                "goes into an empty database only (use a new --db file)."
            )
        ids = {
            name: int(session.execute(select(func.max(_table(model).c.id))).scalar() or 0) + 1
            for name, model in _TABLES.items()
        }

    sink = _Sink(store)
    gen = _Generator(
        sink,
        seed=seed,
        clients=clients,
        now=now,
        contacts_per_client=contacts_per_client,
        followups_per_client=followups_per_client,
        ids=ids,
    )
    summary = gen.summary
    summary.org_name = gen.org_name

    report("staff", 0, 1)
    staff_rows = gen.staff(demo_password_hash(seed))
    gen.practices()
    resource_rows = gen.resources()
    with store.write() as session:
        sink.insert(session, _table(User), USER_COLS, staff_rows)
        sink.insert(session, _table(Resource), RESOURCE_COLS, resource_rows)
        # Marked as demo first, so a run that is interrupted still leaves a database
        # that says what it is.
        session.merge(Meta(key="demo", value="1"))
        session.merge(Meta(key="org_name", value=gen.org_name))
    report("staff", 1, 1)

    mrns = gen.rng.sample(range(1_000_000, 10_000_000), clients) if clients else []
    done = 0
    report("clients", 0, clients)
    while done < clients:
        n = min(CHUNK_CLIENTS, clients - done)
        chunk = gen.chunk(n, mrns[done : done + n])
        _write_chunk(store, sink, chunk)
        summary.clients += len(chunk.clients)
        summary.contacts += len(chunk.contacts)
        done += n
        report("clients", done, clients)

    # Care plans and programme states: their own random stream, after every other
    # row, so the rows above stay the same for a seed.
    from cm_tui.services import demo_careplans

    report("care plans", 0, 1)
    summary.care_plans = demo_careplans.add_care_plans(
        store, sink, seed=seed, now=gen.now, today=gen.today, next_id=gen.next_id
    )
    summary.in_outreach, summary.unable_to_reach = demo_careplans.add_programme_states(
        store, seed=seed, now=now.astimezone(UTC), today=gen.today, demo_username=DEMO_USERNAME
    )
    report("care plans", 1, 1)

    report("finishing", 0, 1)
    with store.write() as session:
        if store.dialect == "postgresql":
            for name in _TABLES:
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
                    )
                )
        audit.record(
            session,
            action="create",
            entity="demo",
            detail=(
                f"demo organisation {gen.org_name!r}: seed {seed}, {summary.clients} "
                f"clients, {summary.contacts} contacts, {summary.followups} follow-ups"
            ),
        )
    _optimise(store)
    summary.seconds = _time.perf_counter() - started
    report("finishing", 1, 1)
    return summary


def _optimise(store: Store) -> None:
    """Planner statistics for the new rows, and a compact file for the next cold start."""
    with store.engine.connect() as conn:
        if store.is_sqlite:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        elif store.dialect == "postgresql":
            conn.commit()
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
