"""The synthetic cohort: realistic `crlmboard.case/1` documents, deterministic per seed, written
through the real importer.

    python -m bench.cohort --patients N --seed S --db PATH [--batch 500]

Shapes (performance.md): per case 1–3 systemic lines, 4–24 chemotherapy cycles, 3–12
imaging timepoints × 1–12 lesions, 5–20 lab results, 0–3 procedures, 0–4 reviews.  Every
`HEAVY_EVERY`-th case (MRN ending in 0 modulo that) is a *heavy case*: 3 lines, 24 cycles,
12 timepoints × 12 lesions, 20 labs, 3 procedures, 4 reviews.  Signed reviews carry the
frozen evaluation the app stores when a review is signed (the engine's document as of the
meeting), as a real database would.

Cases go in through `board.cases.import_many` (the importer's validation, engine summary,
repository and audit trail, many cases per transaction) when the service has it, else one
`import_text` transaction per case.  Meetings (weekly, with an agenda of about 20 cases
each) are added so the case list's "next meeting" column has real work to do.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 2
TODAY = date(2026, 11, 24)  # the benchmark clock (as in the tests)
HEAVY_EVERY = 50  # case 0, 50, 100, … is heavy
MEETING_CASES = 20  # cases on each weekly agenda

FAMILY_NAMES = [
    "Testperson",
    "Demoson",
    "Placeholder",
    "Sample",
    "Example",
    "Fictive",
    "Mustermann",
    "Müller",
    "Schäfer",
    "Lefèvre",
    "García",
    "Núñez",
    "Øvergaard",
    "Kowalczyk",
    "Dvořák",
    "Nakamura",
    "Tanaka",
    "Okafor",
    "Mensah",
    "O'Brien",
    "MacLeod",
    "van der Berg",
    "De Luca",
    "Rossi",
    "Papadopoulos",
    "Παπαδόπουλος",
    "Ιωάννου",
    "Тестов",
    "Иванова",
    "Смирнов",
    "Петренко",
    "Коваленко",
    "حداد",
    "منصور",
    "כהן",
    "לוי",
    "王",
    "李",
    "張",
    "山田",
    "佐藤",
    "Kim",
    "Nguyễn",
    "Trần",
    "Singh",
    "Patel",
    "Haddad",
    "Yilmaz",
    "Öztürk",
    "Kaya",
    "Johansson",
    "Andersson",
    "Virtanen",
    "Korhonen",
    "Nagy",
    "Horváth",
    "Popescu",
    "Ionescu",
    "Silva",
    "Santos",
    "Ferreira",
    "Dubois",
    "Moreau",
    "Jansen",
    "De Vries",
    "Novak",
    "Horvat",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ten",
    "vo",
    "san",
    "del",
    "ber",
    "gu",
    "ni",
    "tor",
    "wel",
    "ha",
    "jo",
    "ric",
    "sten",
    "mar",
    "quin",
    "zel",
]
GIVEN_NAMES = [
    "Anna",
    "Clara",
    "Ivan",
    "Иван",
    "Мария",
    "Ελένη",
    "Γιώργος",
    "Fatima",
    "فاطمة",
    "Yosef",
    "יוסף",
    "Hiro",
    "花子",
    "Wei",
    "伟",
    "José",
    "María",
    "Zoë",
    "Søren",
    "Åsa",
    "Noël",
    "Pierre",
    "Élodie",
    "Jan",
    "Piotr",
    "Lars",
    "Ingrid",
    "Ahmed",
    "Amara",
    "Kofi",
    "Mei",
    "Priya",
    "Ravi",
    "Olga",
    "Dmitri",
    "Sven",
    "Lucía",
    "Marco",
    "Giulia",
    "Hannah",
    "Tom",
]
CLINICIANS = [
    "Dr Sample Oncologist",
    "Dr Demo Surgeon",
    "Dr Example Radiologist",
    "Dr Test Hepatologist",
    "Dr Placeholder",
    "Dr Fictive Gastro",
]
COMORBIDITIES = [
    "hypertension",
    "type 2 diabetes",
    "atrial fibrillation",
    "chronic obstructive pulmonary disease",
    "chronic kidney disease stage 3",
    "ischaemic heart disease",
    "obesity",
    "hypothyroidism",
]
ROLES = [
    "hepatobiliary_surgeon",
    "colorectal_surgeon",
    "medical_oncologist",
    "radiologist",
    "pathologist",
    "specialist_nurse",
    "coordinator",
]
SITES = [
    "caecum",
    "ascending",
    "hepatic_flexure",
    "transverse",
    "splenic_flexure",
    "descending",
    "sigmoid",
    "rectosigmoid",
    "rectum",
]
STRATEGIES = [
    "upfront_resection",
    "perioperative_chemotherapy",
    "conversion_chemotherapy",
    "two_stage_hepatectomy",
    "resection_plus_ablation",
    "palliative_systemic",
    "surveillance",
]
LINES = [  # (regimen, biologic, cycle length)
    ("folfox", "bevacizumab", 14),
    ("capox", "bevacizumab", 21),
    ("folfox", "panitumumab", 14),
    ("folfiri", "bevacizumab", 14),
    ("folfiri", "cetuximab", 14),
    ("folfoxiri", "bevacizumab", 14),
    ("capox", "none", 21),
    ("fluorouracil_leucovorin", "panitumumab", 14),
    ("trifluridine_tipiracil", "bevacizumab", 14),
    ("folfiri", "aflibercept", 14),
]
SETTINGS = ["neoadjuvant", "conversion", "palliative", "adjuvant"]
LIVER_PROCEDURES = [
    "hepatectomy",
    "portal_vein_embolization",
    "thermal_ablation",
    "two_stage_first",
    "tace",
    "fiducial_marking",
]


def family_name(rng: random.Random) -> str:
    """Mostly a common name; a third are made-up syllable names (thousands of distinct ones)."""
    if rng.random() < 0.67:
        return rng.choice(FAMILY_NAMES)
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def mrn_of(index: int) -> str:
    return f"BENCH-{index:06d}"


def is_heavy(index: int) -> bool:
    return index % HEAVY_EVERY == 0


def heavy_indexes(patients: int) -> list[int]:
    return list(range(0, patients, HEAVY_EVERY))


def _day(d: date) -> str:
    return d.isoformat()


class _Dates:
    """A patient's calendar: events move forward from the diagnosis and stay ≤ TODAY."""

    def __init__(self, rng: random.Random, start: date):
        self.rng = rng
        self.at = start

    def step(self, low: int, high: int) -> date:
        self.at = min(TODAY, self.at + timedelta(days=self.rng.randint(low, high)))
        return self.at


def case_document(index: int, seed: int, *, heavy: bool | None = None) -> dict[str, Any]:
    """The case file of patient `index` (deterministic for `seed`); `heavy` forces the
    heavy shape on or off (default: every `HEAVY_EVERY`-th patient)."""
    rng = random.Random(seed * 1_000_003 + index)
    heavy = is_heavy(index) if heavy is None else heavy

    def pick(low: int, high: int, heavy_value: int) -> int:
        return heavy_value if heavy else rng.randint(low, high)

    n_lines = pick(1, 3, 3)
    n_cycles = max(n_lines, pick(4, 24, 24))
    n_timepoints = pick(3, 12, 12)
    n_lesions = pick(1, 12, 12)
    n_labs = pick(5, 20, 20)
    n_procedures = pick(0, 3, 3)
    n_reviews = pick(0, 4, 4)

    birth = date(1935, 1, 1) + timedelta(days=rng.randint(0, 365 * 55))
    # the whole history has to fit before TODAY: about 3 weeks per cycle and per timepoint
    span = 60 + 21 * n_cycles + 14 * n_timepoints + 30 * n_procedures
    diagnosis = TODAY - timedelta(days=span + rng.randint(0, 900))
    calendar = _Dates(rng, diagnosis)
    mrn = mrn_of(index)
    patient: dict[str, Any] = {
        "mrn": mrn,
        "family_name": family_name(rng),
        "given_name": rng.choice(GIVEN_NAMES),
        "birth_date": _day(birth),
        "sex": rng.choice(["female", "male"]),
        "ecog": rng.choice([0, 0, 1, 1, 2]),
        "height_cm": rng.randint(150, 195),
        "weight_kg": rng.randint(48, 120),
        "liver_background": rng.choice(["normal", "normal", "steatosis", "steatohepatitis"]),
        "comorbidities": rng.sample(COMORBIDITIES, rng.randint(0, 3)),
        "referring_clinician": rng.choice(CLINICIANS),
        "referral_date": _day(diagnosis + timedelta(days=rng.randint(1, 20))),
    }
    resected = rng.random() < 0.7
    primary: dict[str, Any] = {
        "site": rng.choice(SITES),
        "diagnosis_date": _day(diagnosis),
        "histology": rng.choice(["adenocarcinoma"] * 5 + ["mucinous"]),
        "grade": rng.choice(["g1", "g2", "g2", "g3"]),
        "t": rng.choice(["t2", "t3", "t4a"]),
        "n": rng.choice(["n0", "n1a", "n1b", "n2a"]),
        "staging_basis": "pathological" if resected else "clinical",
    }
    if resected:
        primary["resection_date"] = _day(diagnosis + timedelta(days=rng.randint(10, 40)))
    ras = rng.choice(["wild_type", "wild_type", "mutant"])
    molecular: dict[str, Any] = {
        "kras": ras,
        "nras": "wild_type",
        "braf": rng.choice(["wild_type"] * 8 + ["v600e"]),
        "mmr": rng.choice(["proficient"] * 9 + ["deficient"]),
        "msi": "mss",
        "her2": "not_amplified",
        "tested_on": _day(diagnosis + timedelta(days=rng.randint(5, 30))),
    }
    if ras == "mutant":
        molecular["kras_variant"] = rng.choice(["G12V", "G12D", "G13D"])
    if molecular["mmr"] == "deficient":
        molecular["msi"] = "msi_high"

    labs_dates = sorted(diagnosis + timedelta(days=rng.randint(0, span)) for _ in range(n_labs))
    cea = rng.uniform(5, 400)
    labs = []
    for when in labs_dates:
        cea = max(0.5, cea * rng.uniform(0.55, 1.25))
        lab: dict[str, Any] = {"date": _day(min(when, TODAY)), "cea_ng_ml": round(cea, 1)}
        if rng.random() < 0.5:
            lab.update(
                ast_u_l=rng.randint(15, 80),
                ast_uln_u_l=40,
                platelets_10e9_l=rng.randint(90, 400),
                bilirubin_umol_l=rng.randint(4, 30),
                albumin_g_l=rng.randint(28, 48),
            )
        labs.append(lab)

    lesion_ids = [f"L{j + 1}" for j in range(n_lesions)]
    segments = {lid: rng.randint(1, 8) for lid in lesion_ids}
    depth = {lid: rng.randint(2, 60) for lid in lesion_ids}
    size = {lid: rng.uniform(8, 90) for lid in lesion_ids}
    targets = set(lesion_ids[:2])

    treatments: list[dict[str, Any]] = []
    imaging: list[dict[str, Any]] = []
    per_line = [n_cycles // n_lines + (1 if k < n_cycles % n_lines else 0) for k in range(n_lines)]
    timepoints_left = n_timepoints

    def scan(when: date, modality: str | None = None) -> None:
        nonlocal timepoints_left
        if timepoints_left <= 0:
            return
        timepoints_left -= 1
        lesions = []
        for lid in lesion_ids:
            size[lid] = min(390.0, max(0.0, size[lid] * rng.uniform(0.7, 1.12)))
            lesion: dict[str, Any] = {
                "id": lid,
                "segment": segments[lid],
                "longest_diameter_mm": round(size[lid]),
                "depth_mm": depth[lid],
                "target": lid in targets,
                "status": "present" if size[lid] >= 1 else "disappeared",
            }
            if rng.random() < 0.3:
                lesion["morphology_group"] = rng.randint(1, 3)
            lesions.append(lesion)
        point: dict[str, Any] = {
            "date": _day(when),
            "modality": modality or rng.choice(["ct", "mri", "ct", "pet_ct"]),
            "lesions": lesions,
            "new_lesions": rng.random() < 0.08,
            "non_target_progression": rng.random() < 0.05,
        }
        if rng.random() < 0.25:
            total = rng.randint(1300, 2100)
            point.update(
                total_liver_volume_ml=total, flr_volume_ml=round(total * rng.uniform(0.18, 0.55))
            )
        if rng.random() < 0.2:
            point["extrahepatic_findings"] = rng.choice(
                [
                    "No extrahepatic disease.",
                    "Stable 4 mm lung nodule, likely benign.",
                    "Postoperative changes only.",
                ]
            )
        imaging.append(point)

    scan(calendar.step(3, 15), "mri")  # baseline
    procedures_left = n_procedures
    for line, cycles in enumerate(per_line):
        regimen, biologic, length = LINES[(index + line * 3) % len(LINES)]
        setting = SETTINGS[min(line, 2)] if line < 3 else "palliative"
        calendar.step(7, 30)
        for cycle in range(1, cycles + 1):
            treatments.append(
                {
                    "kind": "chemotherapy",
                    "date": _day(calendar.at),
                    "regimen": regimen,
                    "biologic": biologic,
                    "cycle": cycle,
                    "cycle_length_days": length,
                    "setting": setting,
                    "dose_percent": rng.choice([100, 100, 100, 80, 75]),
                    "toxicity_grade": rng.choice([0, 1, 1, 2, 3]),
                }
            )
            calendar.step(length, length)
            if cycle % 4 == 0 and timepoints_left > 1:
                scan(calendar.step(1, 6))
        scan(calendar.step(3, 14))
        if procedures_left > 0 and rng.random() < 0.7:
            procedures_left -= 1
            _procedure(rng, calendar, treatments, lesion_ids, segments)
    while procedures_left > 0:
        procedures_left -= 1
        _procedure(rng, calendar, treatments, lesion_ids, segments)
    while timepoints_left > 0:
        scan(calendar.step(30, 90))

    outcomes = []
    for treatment in treatments:
        if treatment["kind"] == "procedure" and treatment["procedure"] == "hepatectomy":
            outcomes.append(
                {
                    "date": treatment["date"],
                    "procedure": "hepatectomy",
                    "margin_mm": rng.randint(0, 15),
                    "margin_status": rng.choice(["r0", "r0", "r1"]),
                    "pathological_response": rng.choice(["complete", "major", "partial", "none"]),
                    "clavien_dindo": rng.choice(["i", "ii", "iiia"]),
                }
            )

    plan: dict[str, Any] = {
        "resectability": rng.choice(["resectable", "borderline", "unresectable", "unknown"]),
        "intent": rng.choice(["curative", "curative", "palliative"]),
        "strategy": rng.choice(STRATEGIES),
        "sequence": rng.choice(["not_applicable", "colon_first", "liver_first"]),
        "surgeon": rng.choice(CLINICIANS),
    }
    if rng.random() < 0.4:
        plan["segments_to_resect"] = sorted(rng.sample(range(1, 9), rng.randint(1, 4)))
        plan["planned_surgery_date"] = _day(TODAY + timedelta(days=rng.randint(3, 60)))

    extrahepatic = []
    if rng.random() < 0.15:
        extrahepatic.append(
            {
                "site": rng.choice(["lung", "peritoneum", "para_aortic_nodes"]),
                "detected_on": _day(diagnosis + timedelta(days=rng.randint(0, 60))),
                "resectable": rng.random() < 0.5,
            }
        )

    document: dict[str, Any] = {
        "format": "crlmboard.case/1",
        "patient": patient,
        "primary": primary,
        "liver_metastases_diagnosis_date": _day(diagnosis + timedelta(days=rng.randint(0, 10))),
        "extrahepatic_disease": extrahepatic,
        "molecular": molecular,
        "labs": sorted(labs, key=lambda x: x["date"]),
        "treatments": treatments,
        "imaging": imaging,
        "plan": plan,
        "surgery_outcomes": outcomes,
        "reviews": [],
    }
    document["reviews"] = _reviews(rng, document, n_reviews, diagnosis)
    return document


def _procedure(
    rng: random.Random,
    calendar: _Dates,
    treatments: list[dict[str, Any]],
    lesion_ids: list[str],
    segments: dict[str, int],
) -> None:
    kind = rng.choice(LIVER_PROCEDURES)
    when = calendar.step(14, 35)
    item: dict[str, Any] = {"kind": "procedure", "date": _day(when), "procedure": kind}
    if kind in ("hepatectomy", "two_stage_first", "thermal_ablation"):
        chosen = rng.sample(lesion_ids, max(1, len(lesion_ids) // 2))
        item["lesion_ids"] = chosen
        item["segments"] = sorted({segments[lid] for lid in chosen})
    item["note"] = rng.choice(
        [
            "Uneventful.",
            "Discussed at the board beforehand.",
            "Intraoperative ultrasound confirmed the lesions.",
        ]
    )
    treatments.append(item)
    calendar.step(10, 30)


# The frozen evaluations of the signed reviews: the engine's documents as of their meetings
# (`_freeze(document, dates)`); None leaves reviews without one.
_freeze: Callable[[dict[str, Any], list[date]], list[dict[str, Any]]] | None = None


def _reviews(
    rng: random.Random, document: dict[str, Any], count: int, diagnosis: date
) -> list[dict[str, Any]]:
    reviews: list[dict[str, Any]] = []
    first = diagnosis + timedelta(days=14)
    gap = max(7, (TODAY - first).days // (count + 1)) if count else 0
    for k in range(count):
        meeting = first + timedelta(days=gap * (k + 1) - (gap * (k + 1)) % 7)
        meeting = min(meeting, TODAY)
        signed = k < count - 1 or rng.random() < 0.5  # the newest one may be a draft
        review: dict[str, Any] = {
            "meeting_date": _day(meeting),
            "question": rng.choice(
                [
                    "Resectable now?",
                    "Next line of treatment?",
                    "Is the FLR sufficient for an extended hepatectomy?",
                    "Restaging after conversion chemotherapy: surgery?",
                ]
            ),
            "recommendation": rng.choice(STRATEGIES),
            "decision": rng.choice(
                [
                    "Proceed to surgery after restaging MRI; stop bevacizumab six weeks before.",
                    "Continue the current line for four more cycles and restage.",
                    "Refer for portal vein embolization; re-measure the FLR after four weeks.",
                    "Palliative systemic treatment; rediscuss on progression.",
                ]
            ),
            "next_review_date": _day(meeting + timedelta(days=rng.choice([28, 56, 84]))),
            "attendees": [
                {"name": rng.choice(CLINICIANS), "role": role}
                for role in rng.sample(ROLES, rng.randint(3, 6))
            ],
            "actions": [
                {
                    "text": "Book restaging MRI",
                    "owner": rng.choice(CLINICIANS),
                    "due": _day(meeting + timedelta(days=21)),
                }
            ],
        }
        if k > 0 and rng.random() < 0.15:
            review["amends"] = k - 1
        if signed:
            review["signed_by"] = rng.choice(CLINICIANS)
            review["signed_at"] = (
                f"{_day(meeting)}T{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}:00Z"
            )
            if k < count - 1:  # an older recommendation: whether it was carried out
                status = rng.choice(["done", "done", "done", "changed"])
                review["follow_up"] = {
                    "status": status,
                    "recorded_on": _day(min(TODAY, meeting + timedelta(days=rng.randint(20, 60)))),
                }
                if status == "changed":
                    review["follow_up"].update(
                        reason="clinical_change", note="Plan changed after restaging."
                    )
        reviews.append(review)
    to_freeze = [r for r in reviews if "signed_at" in r]
    if to_freeze and _freeze is not None:
        dates = [date.fromisoformat(r["meeting_date"]) for r in to_freeze]
        for review, evaluation in zip(to_freeze, _freeze(document, dates), strict=True):
            review["evaluation"] = evaluation
    return reviews


def case_text(index: int, seed: int, *, heavy: bool | None = None) -> str:
    """The case file's text, as the app exports it (2-space indent, UTF-8)."""
    _ensure_freezing()
    return json.dumps(case_document(index, seed, heavy=heavy), ensure_ascii=False, indent=2) + "\n"


def _ensure_freezing() -> None:
    global _freeze
    if _freeze is None:
        _freeze = freezing_engine()


def freezing_engine() -> Callable[[dict[str, Any], list[date]], list[dict[str, Any]]]:
    """The engine as the app uses it when a review is signed (default profile)."""
    from crlmboard.domain.caseformat import case_from_dict
    from crlmboard.domain.engine import evaluation_to_dict
    from crlmboard.services.evaluation import default_profile, evaluate_case

    profile = default_profile()

    def freeze(document: dict[str, Any], dates: list[date]) -> list[dict[str, Any]]:
        case = case_from_dict({**document, "reviews": []}, TODAY)
        return [evaluation_to_dict(evaluate_case(case, as_of, profile)) for as_of in dates]

    return freeze


def texts(patients: int, seed: int, start: int = 0) -> Iterator[str]:
    """The case files of patients `start`…`patients - 1`, in order."""
    for index in range(start, patients):
        yield case_text(index, seed)


def _chunk(job: tuple[int, int, int]) -> list[str]:
    start, stop, seed = job
    return [case_text(index, seed) for index in range(start, stop)]


def parallel_texts(
    patients: int, seed: int, *, chunk: int = 250, workers: int = 1
) -> Iterator[list[str]]:
    """The case files in order, in chunks, generated by `workers` other processes (so the
    importer in this one keeps the other core busy)."""
    jobs = [(start, min(start + chunk, patients), seed) for start in range(0, patients, chunk)]
    if workers <= 0 or len(jobs) <= 1:
        yield from (_chunk(job) for job in jobs)
        return
    import multiprocessing
    from collections import deque

    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pending: deque[Any] = deque()
        for job in jobs:  # a few chunks ahead, not the whole cohort in memory
            pending.append(pool.apply_async(_chunk, (job,)))
            if len(pending) > 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


# -- building a database ------------------------------------------------------------------


def build(
    db: Path,
    patients: int,
    seed: int,
    *,
    batch: int = 250,
    workers: int = 1,
    progress: Callable[[int, int, float], None] | None = None,
    meetings: bool = True,
) -> dict[str, Any]:
    """Write the cohort into a new database at `db`; returns what it took."""
    from crlmboard.services import Board

    if db.exists():
        raise SystemExit(f"{db} exists; the cohort is written to a new database only")
    started = time.perf_counter()
    board = Board.open(db, clock=lambda: TODAY)
    bulk = hasattr(board.cases, "import_many")
    imported = agenda = 0
    try:
        for chunk in parallel_texts(patients, seed, chunk=batch, workers=workers):
            if bulk:
                board.cases.import_many(chunk)
            else:
                for text in chunk:
                    board.cases.import_text(text)
            imported += len(chunk)
            if progress is not None:
                progress(imported, patients, time.perf_counter() - started)
        imported_after = time.perf_counter() - started
        if meetings:
            agenda = add_meetings(board, seed)
    finally:
        board.close()
    summaries = finish_summaries(db)
    return {
        "patients": patients,
        "seed": seed,
        "generator": GENERATOR_VERSION,
        "import_many": bulk,
        "agenda_items": agenda,
        "import_seconds": round(imported_after, 1),
        "summaries": summaries,
        "total_seconds": round(time.perf_counter() - started, 1),
        "bytes": db.stat().st_size,
    }


def finish_summaries(db: Path, *, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the day's recompute of the case list's summaries (as of `TODAY`, the engine and
    the default profile) to its end, as an editing user's app does in the background.
    Done once per cohort, so the window probes (B2, B3, B8) find it done as on any day
    after the first, instead of measuring beside it; resumes where a pass stopped."""
    from crlmboard.services import Board

    started, cpu = time.perf_counter(), time.process_time()
    steps = changed = 0
    with Board.open(db, clock=lambda: TODAY) as board:
        after: str | None = None
        while True:
            step = board.cases.refresh_summaries(after, limit=1000)
            steps += 1
            changed += len(step.changes.cases)
            after = step.next_after
            if after is None:
                break
            if log is not None:
                log(f"summaries: up to {after}, {time.perf_counter() - started:.0f} s")
    return {
        "steps": steps,
        "changed": changed,
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
    }


UPCOMING_MEETINGS = 4
UPCOMING_CASES = 25


def add_meetings(board: Any, seed: int) -> int:
    """A meeting on every date a review was held, with each reviewed case on its agenda,
    and four weekly meetings ahead with 25 cases each; returns the agenda items written.

    The meetings service is not in the product yet: this writes the rows and their audit
    rows as a repository would, in transactions of 5,000 items."""
    import sqlalchemy as sa

    from crlmboard.store import tables as t
    from crlmboard.store.audit import AuditLog
    from crlmboard.store.database import read_session

    with read_session(board.database.engine) as session:
        held = session.execute(
            sa.select(t.ReviewRow.meeting_date, t.ReviewRow.case_id).order_by(  # type: ignore[call-overload]
                t.ReviewRow.meeting_date, t.ReviewRow.case_id
            )
        ).all()
        case_ids = list(
            session.execute(sa.select(t.CaseRow.id).order_by(t.CaseRow.id)).scalars()  # type: ignore[call-overload]
        )
    rng = random.Random(seed * 7919 + 1)
    agenda: dict[date, list[int]] = {}
    for day, case_id in held:
        agenda.setdefault(day, []).append(case_id)
    first = TODAY + timedelta(days=3)
    for week in range(UPCOMING_MEETINGS):
        chosen = rng.sample(case_ids, min(UPCOMING_CASES, len(case_ids)))
        agenda.setdefault(first + timedelta(days=7 * week), []).extend(sorted(chosen))
    items = [(day, cases) for day, cases in sorted(agenda.items())]
    written = 0
    while items:
        part: list[tuple[date, list[int]]] = []
        size = 0
        while items and size < 5000:
            part.append(items.pop(0))
            size += len(part[-1][1])
        with board.database.write() as session:
            log = AuditLog.of(session)
            meetings = [
                t.MeetingRow(date=day, time="16:00", location="Seminar room 2") for day, _ in part
            ]
            session.add_all(meetings)
            session.flush()
            rows = []
            for meeting, (_day, cases) in zip(meetings, part, strict=True):
                assert meeting.id is not None
                log.inserted(t.MeetingRow, meeting, None)
                rows += [
                    t.AgendaItemRow(
                        meeting_id=meeting.id,
                        case_id=case_id,
                        position=position,
                        question="Next step?",
                    )
                    for position, case_id in enumerate(cases)
                ]
            session.add_all(rows)
            session.flush()
            for row in rows:
                log.inserted(t.AgendaItemRow, row, row.case_id)
            log.flush()
            written += len(rows)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cohort", description="Write a synthetic cohort through the importer."
    )
    parser.add_argument(
        "--finish-summaries",
        action="store_true",
        help="only run the day's recompute of the list's summaries of the database to its end",
    )
    parser.add_argument("--patients", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument(
        "--batch",
        type=int,
        default=250,
        help="cases per transaction with import_many (default 250)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes generating case files (0: none; default 1)",
    )
    parser.add_argument("--no-meetings", action="store_true")
    parser.add_argument("--dump", type=Path, help="also write the case files to this folder")
    args = parser.parse_args(argv)
    if args.finish_summaries:
        done = finish_summaries(args.db, log=lambda text: print(text, file=sys.stderr))
        print(json.dumps(done))
        return 0
    if args.patients is None:
        parser.error("--patients is required")
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        for index, text in enumerate(texts(args.patients, args.seed)):
            (args.dump / f"{mrn_of(index)}.json").write_text(text, encoding="utf-8")

    def show(done: int, total: int, seconds: float) -> None:
        print(f"\r{done}/{total} cases, {seconds:.0f} s", end="", file=sys.stderr, flush=True)

    result = build(
        args.db,
        args.patients,
        args.seed,
        batch=args.batch,
        workers=args.workers,
        progress=show,
        meetings=not args.no_meetings,
    )
    print(file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
