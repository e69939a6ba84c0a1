"""Demo population: seeded, realistic Foshan/Guangzhou households, businesses, materials and events (pure, no I/O).

The same seed and `today` give the same population, and `chunks` slices that one stream at household boundaries, so a
large population can be written piece by piece without holding it all in memory.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from faker import Faker

from profiles.identifiers import USCC_ALPHABET, resident_id_check_digit, uscc_check_digit
from profiles.models import Entity, LifeEvent, Material, Person, Relation

CITIES = {"4406": "佛山市", "4401": "广州市"}
DISTRICTS = {
    "440604": "禅城区", "440605": "南海区", "440606": "顺德区", "440607": "三水区", "440608": "高明区",
    "440103": "荔湾区", "440104": "越秀区", "440105": "海珠区", "440106": "天河区", "440111": "白云区",
    "440112": "黄埔区", "440113": "番禺区", "440114": "花都区", "440115": "南沙区", "440117": "从化区",
    "440118": "增城区",
}
# Codes since abolished that residents still carry, because a number keeps the code in force when it was assigned:
# old code -> (today's district, born from, born before).
ABOLISHED = {
    "440603": ("440604", date(1900, 1, 1), date(2002, 12, 1)),  # 石湾区
    "440602": ("440604", date(1987, 1, 1), date(2002, 1, 1)),  # 城区
    "440682": ("440605", date(1992, 1, 1), date(2002, 12, 1)),  # 南海市
    "440681": ("440606", date(1992, 1, 1), date(2002, 12, 1)),  # 顺德市
    "440102": ("440104", date(1900, 1, 1), date(2005, 4, 1)),  # 东山区
    "440116": ("440112", date(2005, 4, 1), date(2014, 2, 1)),  # 萝岗区
    "440183": ("440118", date(1993, 1, 1), date(2014, 2, 1)),  # 增城市
}
# Sequence numbers a resident ID number has per region, birth date and sex (3 digits, odd for men, even for women).
# Wives' birth dates are clamped to 21 years ago, so at a million persons one date's 500 run out.
SEQUENCES_PER_DAY = 500
# A newborn is entered in the household register within a month of its birth (户口登记条例 第七条); until then it has
# no ID number. Of the children born in the last month, this share is not registered yet.
REGISTRATION_DAYS = 30
UNREGISTERED_SHARE = 0.7
# Recent life events, so a demo has them to show (rough shares, not statistics): a death in the last two months, a
# business deregistered in the last five, an employee hired in the last six weeks (the registrations are then owed).
RECENT_DEATH = ((85, 0.03), (70, 0.01))  # (from age, share)
CLOSED_SHARE = 0.03
RECENT_HIRE_SHARE = 0.1
OLD_CODE_SHARE = 0.3  # of those born in an abolished code's time who carry it
PROVENANCE = (("issued", 80), ("verified", 12), ("declared", 8))
ENTITY_MIX = (("limited_company", 45), ("individual_business", 30), ("branch", 7), ("sole_proprietorship", 6),
              ("partnership", 5), ("joint_stock_company", 4), ("farmer_cooperative", 3))
USCC_TYPE = {"individual_business": "92", "farmer_cooperative": "93"}  # everything else registers as '91'
SHOPS = ("餐饮店", "士多店", "五金店", "理发店", "茶餐厅", "服装店", "水果店", "便利店")
CROPS = ("蔬菜种植", "水产养殖", "花卉种植", "家禽养殖")
DRIVING_CLASSES = (("C1", 75), ("C2", 15), ("B2", 5), ("A2", 3), ("D", 2))


@dataclass
class Population:
    persons: list[Person] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    materials: list[Material] = field(default_factory=list)
    events: list[LifeEvent] = field(default_factory=list)

    def extend(self, other: Population) -> None:
        for name in ("persons", "entities", "relations", "materials", "events"):
            getattr(self, name).extend(getattr(other, name))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def id_card_years(age_at_issue: int) -> int | None:
    """Validity of a resident ID card by the holder's age when issued; None is long-term (长期)."""
    if age_at_issue < 16:
        return 5
    if age_at_issue <= 25:
        return 10
    if age_at_issue <= 45:
        return 20
    return None


def current_region(code: str) -> str:
    """The district a code belongs to today (abolished codes map to their successor)."""
    return ABOLISHED[code][0] if code in ABOLISHED else code


def generate(n_persons: int, *, seed: int, today: date) -> Population:
    population = Population()
    for chunk in chunks(n_persons, seed=seed, today=today):
        population.extend(chunk)
    return population


def chunks(n_persons: int, *, seed: int, today: date, size: int = 5000) -> Iterator[Population]:
    """The population of `generate`, in pieces of about `size` persons (whole households)."""
    gen = _Generator(seed, today)
    chunk = Population()
    while gen.n_persons < n_persons:
        gen.household(n_persons - gen.n_persons, chunk)
        while (gen.n_entities + 1) * 10 <= gen.n_persons and gen.adults:
            gen.entity(chunk)
        if len(chunk.persons) >= size:
            yield chunk
            chunk = Population()
    if chunk.persons:
        yield chunk


class _Generator:
    def __init__(self, seed: int, today: date):
        self.rng, self.today = random.Random(seed), today
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.used: set[str] = set()
        self.given: Counter[tuple[str, date, str]] = Counter()  # ID numbers given per region, birth date and sex
        self.adults: deque[Person] = deque(maxlen=400)  # recent adults: legal representatives, staff, shareholders
        self.n_persons = self.n_entities = 0

    # --- small helpers --------------------------------------------------------------------------------------------
    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def between(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=self.rng.randint(0, max(0, (hi - lo).days)))

    def born_aged(self, lo: int, hi: int) -> date:
        return self.between(add_years(self.today, -hi - 1) + timedelta(days=1), add_years(self.today, -lo))

    def pick(self, weighted: tuple[tuple[str, int], ...]) -> str:
        return self.rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]

    def clamp(self, day: date) -> date:
        return min(day, self.today)

    # --- households -----------------------------------------------------------------------------------------------
    def household(self, room: int, out: Population) -> None:
        rng = self.rng
        shape = rng.choices(("family", "couple", "single"), weights=(55, 20, 25))[0] if room >= 2 else "single"
        home = rng.choice(list(DISTRICTS))
        city = CITIES[home[:4]]
        address = f"广东省{city}{DISTRICTS[home]}{self.fake.street_name()}{rng.randint(1, 388)}号" \
                  f"{rng.randint(1, 32)}{rng.randint(1, 8):02d}房"
        hh = {"home": home, "address": address, "hukou": f"{rng.randrange(10**8, 10**9)}", "head": ""}
        if shape == "single":
            band = rng.choices(((18, 35), (36, 60), (61, 95)), weights=(45, 30, 25))[0]
            head = self.person(self.fake.last_name(), rng.choice("MF"), self.born_aged(*band), hh, out, head=True)
            self.hukou(head, self.between(add_years(head.birth_date, 18), self.today), hh, "户主", out)
            return
        if shape == "family":
            h_born = self.born_aged(*rng.choices(((24, 34), (35, 50), (51, 68)), weights=(30, 45, 25))[0])
        else:
            h_born = self.born_aged(*rng.choices(((22, 34), (55, 92)), weights=(40, 60))[0])
        w_born = self.between(h_born - timedelta(days=730), h_born + timedelta(days=6 * 365))
        w_born = min(w_born, add_years(self.today, -21))
        surname = self.fake.last_name()
        husband = self.person(surname, "M", h_born, hh, out, head=True)
        wife = self.person(self.fake.last_name(), "F", w_born, hh, out)
        start = max(add_years(h_born, 22), add_years(w_born, 20))
        married = self.between(start, self.clamp(add_years(start, 8)))
        out.relations.append(Relation(husband.pid, wife.pid, "SPOUSE_OF"))
        for me, other, role in ((husband, wife, "户主"), (wife, husband, "配偶")):
            self.hukou(me, married, hh, role, out)
            number = f"J{home}-{married.year}-{rng.randint(1, 9999):06d}"
            out.materials.append(self.material(me.pid, "marriage_certificate", number, married, None,
                                               f"{city}{DISTRICTS[home]}民政局", {"spouse_name": other.name}))
            out.events.append(LifeEvent(self.uid(), me.pid, "marriage", married, {"spouse_pid": other.pid}))
        n_children = rng.choices((0, 1, 2, 3), weights=(10, 40, 40, 10))[0] if shape == "family" else 0
        # Each child is born on a day drawn from the whole fertile span, and those that fall after today are not born
        # yet: so births spread evenly over the recent past instead of piling up on the days before today.
        lo = married + timedelta(days=300)
        hi = min(add_years(h_born, 40), add_years(w_born, 40))
        births = sorted(self.between(lo, hi) for _ in range(min(n_children, room - 2))) if lo <= hi else []
        for born in (b for b in births if b <= self.today):
            sex = rng.choice("MF")
            registered = (self.today - born).days > REGISTRATION_DAYS or rng.random() > UNREGISTERED_SHARE
            child = self.person(surname, sex, born, hh, out, parents=(husband, wife), registered=registered)
            if registered:
                self.hukou(child, born + timedelta(days=rng.randint(7, 30)), hh, "子" if sex == "M" else "女", out)
            for parent in (husband, wife):
                out.relations.append(Relation(parent.pid, child.pid, "PARENT_OF"))
                if age_on(born, self.today) < 18:
                    out.relations.append(Relation(parent.pid, child.pid, "GUARDIAN_OF"))

    def person(self, surname: str, sex: str, born: date, hh: dict, out: Population, *, head: bool = False,
               parents: tuple[Person, Person] | None = None, registered: bool = True) -> Person:
        """A person with a resident ID number; a newborn not yet `registered` in the household register has none
        and is known by its birth certificate number (its birth event is written with it: graph/bulk.py)."""
        rng, age = self.rng, age_on(born, self.today)
        given = self.fake.first_name_male() if sex == "M" else self.fake.first_name_female()
        if not registered:
            p = Person(self.uid(), None, surname + given, born, sex, None,
                       birth_certificate_number=f"{rng.choice('MNOPQR')}{rng.randrange(10**9):09d}")
            out.persons.append(p)
            self.n_persons += 1
            self.person_materials(p, hh, parents, out)
            return p
        region = hh["home"]
        for old, (successor, born_from, born_before) in ABOLISHED.items():
            if successor == region and born_from <= born < born_before and rng.random() < OLD_CODE_SHARE:
                region = old
                break
        while True:
            if self.given[(region, born, sex)] >= SEQUENCES_PER_DAY:  # every number of the day given: the day before
                born -= timedelta(days=1)
                continue
            first17 = f"{region}{born:%Y%m%d}{rng.randrange(SEQUENCES_PER_DAY) * 2 + (sex == 'M'):03d}"
            number = first17 + resident_id_check_digit(first17)
            if number not in self.used:
                self.used.add(number)
                self.given[(region, born, sex)] += 1
                break
        phone_share, email_share = (0.95, 0.36) if age >= 18 else (0.6, 0.15) if age >= 12 else (0.0, 0.0)
        phone = f"+861{rng.choice('3456789')}{rng.randrange(10**9):09d}" if rng.random() < phone_share else None
        email = self.fake.email() if rng.random() < email_share else None
        share = next((s for from_age, s in RECENT_DEATH if age >= from_age), 0.0)
        died = self.between(self.today - timedelta(days=60), self.today) if rng.random() < share else None
        p = Person(self.uid(), number, surname + given, born, sex, region, phone, email, deceased_on=died)
        out.persons.append(p)
        self.n_persons += 1
        if head:
            hh["head"] = p.name
        if 18 <= age <= 75 and died is None:
            self.adults.append(p)
        if born.year >= 2000:
            out.events.append(LifeEvent(self.uid(), p.pid, "birth", born, {"region": DISTRICTS[hh["home"]]}))
        if died is not None:
            out.events.append(LifeEvent(self.uid(), p.pid, "death", died, {}))
        self.person_materials(p, hh, parents, out)
        return p

    # --- materials ------------------------------------------------------------------------------------------------
    def material(self, holder: str, kind: str, number: str, issued: date, expires: date | None, issuer: str,
                 fields: dict) -> Material:
        return Material(self.uid(), holder, kind, number, issued, expires, issuer, self.pick(PROVENANCE), fields)

    def hukou(self, p: Person, issued: date, hh: dict, role: str, out: Population) -> None:
        issued = self.clamp(max(issued, p.birth_date))
        out.materials.append(self.material(
            p.pid, "hukou", hh["hukou"], issued, None, self.police(hh["home"]),
            {"address": hh["address"], "household_head": hh["head"], "relationship": role}))

    def police(self, home: str) -> str:
        return f"{CITIES[home[:4]]}公安局{DISTRICTS[home][:-1]}分局"

    def renewals(self, first: date, validity) -> list[tuple[date, date | None]]:
        """A chain of documents renewed around each expiry (up to 90 days early, 60 late) until today."""
        chain, issued = [], first
        while True:
            expires = validity(issued, len(chain))
            chain.append((issued, expires))
            if expires is None:
                return chain
            issued = expires + timedelta(days=self.rng.randint(-90, 60))
            if issued > self.today:
                return chain

    def person_materials(self, p: Person, hh: dict, parents, out: Population) -> None:
        rng, today, born, home = self.rng, self.today, p.birth_date, hh["home"]
        age, city = age_on(born, today), CITIES[home[:4]]
        if p.id_number is not None and (age >= 16 or rng.random() < 0.2):
            first = self.clamp(self.between(add_years(born, 16), add_years(born, 17)) if age >= 16
                               else self.between(born + timedelta(days=30), today))

            def card_expiry(issued: date, _n: int) -> date | None:
                years = id_card_years(age_on(born, issued))
                return None if years is None else add_years(issued, years)

            chain = self.renewals(max(first, born), card_expiry)
            if len(chain) > 1 and chain[-1][0] > today - timedelta(days=730) and rng.random() < 0.05:
                chain.pop()  # never renewed: the card on file has expired
            cards = chain[-2:] if len(chain) > 1 and rng.random() < 0.1 else chain[-1:]  # the previous one, too
            for n, (issued, expires) in enumerate(cards, start=1):
                card = self.material(p.pid, "id_card", p.id_number, issued, expires, self.police(home),
                                     {"address": hh["address"]})
                out.materials.append(replace(card, version=n, superseded=n < len(cards)))
        if born.year >= 1996:
            fields = {"place_of_birth": f"广东省{city}{DISTRICTS[home]}"}
            if parents:
                fields.update(father=parents[0].name, mother=parents[1].name)
            number = p.birth_certificate_number or f"{rng.choice('MNOPQR')}{rng.randrange(10**9):09d}"
            out.materials.append(self.material(p.pid, "birth_certificate", number,
                                               self.clamp(born + timedelta(days=rng.randint(0, 3))), None,
                                               f"{city}妇幼保健院", fields))
        if age >= 18 and rng.random() < 0.25:
            issued = self.between(max(born + timedelta(days=365), today - timedelta(days=11 * 365)), today)
            expires = add_years(issued, 5 if age_on(born, issued) < 16 else 10)
            issuer = "国家移民管理局" if issued >= date(2018, 4, 10) else "公安部出入境管理局"
            out.materials.append(self.material(p.pid, "passport", f"E{rng.randrange(10**8):08d}", issued, expires,
                                               issuer, {"place_of_issue": "广东"}))
        if age >= 18 and rng.random() < 0.4:
            first = self.between(add_years(born, 18), self.clamp(add_years(born, 45)))
            term = rng.choice((10, None, None))  # after the first ten years, most become long-term

            def licence_expiry(issued: date, n: int) -> date | None:
                years = (6, 10, term)[min(n, 2)]
                return None if years is None else add_years(issued, years)

            issued, expires = self.renewals(first, licence_expiry)[-1]
            out.materials.append(self.material(
                p.pid, "driving_licence", p.id_number, issued, expires, f"广东省{city}公安局交通警察支队",
                {"class": self.pick(DRIVING_CLASSES), "first_issued_on": first.isoformat()}))
        if age >= 16 and rng.random() < 0.12:
            issued = self.between(max(born, today - timedelta(days=420)), today)
            out.materials.append(self.material(
                p.pid, "residence_permit", f"{home}{issued.year}{rng.randrange(10**8):08d}", issued,
                add_years(issued, 1), self.police(home), {"address": hh["address"]}))

    # --- entities -------------------------------------------------------------------------------------------------
    def entity(self, out: Population) -> None:
        rng, today = self.rng, self.today
        rep = rng.choice(self.adults)
        kind = self.pick(ENTITY_MIX)
        region = current_region(rep.region)
        city, district = CITIES[region[:4]], DISTRICTS[region]
        while True:
            org = "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
            first17 = USCC_TYPE.get(kind, "91") + region + org
            code = first17 + uscc_check_digit(first17)
            if code not in self.used:
                self.used.add(code)
                break
        prefix, suffix = self.fake.company_prefix(), self.fake.company_suffix()
        name = {
            "limited_company": f"{city}{prefix}{suffix}",
            "joint_stock_company": f"广东{prefix}{suffix.replace('有限公司', '股份有限公司')}",
            "branch": f"广东{prefix}{suffix}{district}分公司",
            "sole_proprietorship": f"{city}{district}{prefix}商行（个人独资）",
            "partnership": f"{city}{prefix}投资合伙企业（有限合伙）",
            "individual_business": f"{district}{prefix}{rng.choice(SHOPS)}",
            "farmer_cooperative": f"{city}{district}{prefix}{rng.choice(CROPS)}专业合作社",
        }[kind]
        lo = max(add_years(rep.birth_date, 18), date(1995, 1, 1))
        established = self.between(lo, today) if rng.random() < 0.5 else self.between(self.between(lo, today), today)
        closed = None
        if established < today - timedelta(days=2 * 365) and rng.random() < CLOSED_SHARE:
            closed = self.between(today - timedelta(days=150), today)
        e = Entity(self.uid(), code, name, kind, established, region, status="closed" if closed else "active",
                   closed_on=closed)
        out.entities.append(e)
        self.n_entities += 1
        out.relations.append(Relation(rep.pid, e.eid, "LEGAL_REP_OF"))
        others = [a for a in rng.sample(list(self.adults), min(6, len(self.adults))) if a.pid != rep.pid]
        if kind in ("limited_company", "joint_stock_company", "partnership"):
            for holder in [rep, *others[: rng.randint(0, 2)]]:
                out.relations.append(Relation(holder.pid, e.eid, "SHAREHOLDER_OF"))
        for staff in others[2: 2 + rng.randint(0, 4)]:
            if age_on(staff.birth_date, today) <= 60:
                out.relations.append(Relation(staff.pid, e.eid, "EMPLOYED_BY"))
                hired = max(established, today - timedelta(days=42))
                if closed is None and rng.random() < RECENT_HIRE_SHARE:  # the employer now owes the registrations
                    out.events.append(LifeEvent(self.uid(), e.eid, "hiring", self.between(hired, today),
                                                {"employee_pid": staff.pid}))
        issued = established if rng.random() < 0.8 else self.between(established, today)
        expires = None if rng.random() < 0.85 else add_years(established, rng.choice((20, 30)))
        if expires is not None and expires <= max(issued, today):
            expires = None
        market = f"{city}{district}市场监督管理局"
        capital = rng.choice((3, 5, 10, 50, 100, 500, 1000))  # 万元
        out.materials.append(self.material(e.eid, "business_licence", code, issued, expires, market,
                                           {"legal_representative": rep.name,
                                            "registered_capital": f"{capital}万元人民币"}))
        if rng.random() < 0.2:
            issued = self.between(max(established, today - timedelta(days=5 * 365 + 180)), today)
            number = f"JY{rng.randint(1, 2)}{region}{rng.randrange(10**7):07d}"
            out.materials.append(self.material(e.eid, "food_business_permit", number, issued, add_years(issued, 5),
                                               market, {"premises": f"{city}{district}{self.fake.street_name()}"}))
        out.events.append(LifeEvent(self.uid(), e.eid, "founding", established,
                                    {"registered_capital": capital * 10_000}))  # yuan, as events.yaml declares it
        window_open = date(today.year, 1, 1)
        if established < window_open and today > window_open and rng.random() < 0.5:
            filed = self.between(window_open, min(today, date(today.year, 6, 30)))
            if closed is None or filed <= closed:
                out.events.append(LifeEvent(self.uid(), e.eid, "annual_report", filed, {"year": today.year - 1}))
        if closed is not None:
            out.events.append(LifeEvent(self.uid(), e.eid, "closure", closed, {}))


def showcase(population: Population, today: date) -> tuple[list[Person], Entity | None]:
    """Two citizens and a business worth signing in as: a guardian of a minor (best with an ID card expiring soon),
    another adult with a passport or driving licence, and a business holding a food permit."""
    guardians = {r.from_id for r in population.relations if r.type == "GUARDIAN_OF"}
    expiring = {m.holder_id for m in population.materials if m.kind == "id_card" and m.status(today) == "expiring"}
    travellers = {m.holder_id for m in population.materials if m.kind in ("passport", "driving_licence")}
    food = {m.holder_id for m in population.materials if m.kind == "food_business_permit"}
    adults = [p for p in population.persons if age_on(p.birth_date, today) >= 18]
    if not adults:
        return population.persons[:2], None
    first = max(adults, key=lambda p: (p.pid in guardians) * 2 + (p.pid in expiring))
    others = [p for p in adults if p.pid != first.pid]
    citizens = [first, max(others, key=lambda p: p.pid in travellers)] if others else [first]
    business = max(population.entities, key=lambda e: e.eid in food, default=None)
    return citizens, business
