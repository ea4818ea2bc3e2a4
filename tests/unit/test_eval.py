"""The acta evaluation (`make eval`): cases load, references score perfectly, flaws are caught.

The shipped cases (eval/cases/) are checked as `make eval` checks them; the
checks themselves are checked on a small case written here and on hand-made
actas, each carrying one mistake a model makes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from voxcliente.acta.model import Acta
from voxcliente.settings import reset_settings
from voxlocal.evaluation import mentions
from voxlocal.evaluation.cases import CASES_DIR, Case, CaseError, load_case, load_cases
from voxlocal.evaluation.checks import score_acta
from voxlocal.evaluation.flaws import FLAWS, flaws
from voxlocal.evaluation.report import write_results
from voxlocal.evaluation.runner import evaluate_references, main
from voxlocal.evaluation.spanish import contains, words_to_digits

CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())
FLAWED = [(case.name, flaw.name) for case in load_cases() for flaw in flaws(case)]
TODAY = date(2027, 3, 10)

TRANSCRIPT = """\
# A small case of the tests' own.
[00:00] A: Buenos días. Soy Laura Méndez, jefa de cuentas de Logística Austral.
[00:06] B: Buenos días, Laura. Me acompaña la responsable de compras, Marta Ruiz.
[00:12] A: Nuestra oferta es de quince mil… perdón, dieciséis mil euros por el trimestre.
[00:20] C: Nos parece bien. Aceptamos los 16.000 euros.
[00:25] A: Entonces yo le envío el calendario la semana que viene.
[00:31] C: Y nos vemos el jueves 12 a las diez y media por videollamada.
"""
CASE_TOML = """\
title = "The tests' own case"
covers = ["self-correction", "next meeting"]
language = "es"
file_name = "reunion-prueba.mp3"
client = "Textiles Andinos"
meeting_date = 2027-03-03
duration_s = 40

[[participants]]
label = "A"
name = "Laura Méndez"
role = "jefa de cuentas"
organization = "Logística Austral"

[[participants]]
label = "B"
name = "Participante B"

[[participants]]
label = "C"
name = "Marta Ruiz"
role = "responsable de compras"

[[decisions]]
all = ["16.000 euros"]
none = ["15.000"]

[[action_items]]
task = ["calendario"]
owner = "Laura Méndez"
due_date = "la semana que viene"

[next_meeting]
date = "jueves 12"
time = "10:30"
modality = "videollamada"

[forbidden]
anywhere = ["15.000 euros"]
decisions = ["jueves 12"]
"""
REFERENCE: dict[str, Any] = {
    "language": "es",
    "meeting_date": "3 de marzo de 2027",
    "start_time": None,
    "end_time": None,
    "modality": None,
    "place": None,
    "client": "Textiles Andinos",
    "participants": [
        {
            "speaker_label": "A",
            "name": "Laura Méndez",
            "role": "jefa de cuentas",
            "organization": "Logística Austral",
        },
        {"speaker_label": "B", "name": "Participante B", "role": None, "organization": None},
        {
            "speaker_label": "C",
            "name": "Marta Ruiz",
            "role": "responsable de compras",
            "organization": None,
        },
    ],
    "topics": [
        {
            "title": "Precio del trimestre",
            "summary": "Laura Méndez ofreció 16.000 euros por el trimestre. Participante B "
            "presentó a Marta Ruiz, responsable de compras, que aceptó la oferta.",
        }
    ],
    "decisions": ["Se acuerda un precio de 16.000 euros por el trimestre."],
    "action_items": [
        {
            "task": "Enviarle el calendario.",
            "owner": "Laura Méndez",
            "due_date": "la semana que viene",
        }
    ],
    "open_questions": [],
    "next_meeting": {
        "date": "jueves 12",
        "time": "10:30",
        "modality": "videollamada",
        "purpose": None,
    },
    "title": "Precio del trimestre con Textiles Andinos",
    "summary": "Se acordó un precio de 16.000 euros por el trimestre.",
}


def write_case(root: Path, name: str = "01-prueba", **files: str) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    contents = {
        "transcript.txt": TRANSCRIPT,
        "case.toml": CASE_TOML,
        "reference.acta.json": json.dumps(REFERENCE, ensure_ascii=False),
    }
    contents.update({key.replace("_", "."): value for key, value in files.items()})
    for file, text in contents.items():
        (directory / file).write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def case(tmp_path: Path) -> Case:
    return load_case(write_case(tmp_path))


def edited(case: Case, change: Callable[[dict[str, Any]], None]) -> Acta:
    data = case.reference.model_dump(mode="json")
    change(data)
    return Acta.model_validate(data)


def problems(case: Case, acta: Acta) -> list[tuple[str, str]]:
    return [(f.check, f.found) for f in score_acta(case, acta).problems()]


# --- the shipped cases ------------------------------------------------------------------


def test_there_are_enough_cases_covering_the_issue() -> None:
    cases = load_cases()
    covered = {topic for case in cases for topic in case.covers}
    assert len(cases) >= 8
    wanted = {"self-correction", "vague dates", "unattributed tasks", "interruptions"}
    wanted |= {"three or more speakers", "English words", "numbers and currencies"}
    assert wanted | {"no decisions"} <= covered


@pytest.mark.parametrize("name", CASES)
def test_every_case_loads(name: str) -> None:
    case = load_case(CASES_DIR / name)
    transcript = case.transcript_input()
    assert transcript.utterances and transcript.text == case.text
    assert transcript.language_code == "es" and transcript.original_filename == case.file_name
    assert {p.label for p in case.participants if p.label} <= {u.speaker for u in case.utterances}


@pytest.mark.parametrize("name", CASES)
def test_every_reference_scores_perfectly(name: str) -> None:
    case = load_case(CASES_DIR / name)
    score = score_acta(case, case.reference)
    assert [f.line() for f in score.problems()] == []
    assert score.found == score.total > 0


@pytest.mark.parametrize(("name", "flaw"), FLAWED)
def test_every_flaw_is_caught_by_the_check_it_targets(name: str, flaw: str) -> None:
    case = load_case(CASES_DIR / name)
    flawed = next(f for f in flaws(case) if f.name == flaw)
    assert flawed.acta != case.reference
    caught = score_acta(case, flawed.acta).caught_by(flawed.check)
    assert caught, f"{flaw} ({flawed.description}) not reported by {flawed.check!r}"


@pytest.mark.parametrize("name", CASES)
def test_the_three_named_flaws_apply_wherever_they_can(name: str) -> None:
    """An invented date, a task given to the wrong person, a missing decision."""
    case = load_case(CASES_DIR / name)
    made = {f.name for f in flaws(case)}
    assert "invented_date" in made
    if any(task.owner for task in case.action_items) and len(case.participants) > 1:
        assert "wrong_owner" in made
    if case.decisions:
        assert "missing_decision" in made
    else:
        assert "decision_added" in made


# --- loading ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"transcript_txt": "[00:00] A Buenos días\n"}, "line 1 is not a turn"),
        ({"transcript_txt": "[00:09] A: Hola.\n[00:03] B: Hola.\n"}, "starts before"),
        ({"case_toml": "extra = 1\n" + CASE_TOML}, "unknown keys ['extra']"),
        ({"case_toml": CASE_TOML.replace('owner = "Laura Méndez"', 'owner = "Laura"')}, "owner"),
        ({"case_toml": CASE_TOML.replace("2027-03-03", '"3 de marzo"')}, "meeting_date"),
        ({"case_toml": CASE_TOML.replace('label = "C"', 'label = "D"')}, "never speaks"),
        ({"case_toml": CASE_TOML.replace("duration_s = 40", "")}, "duration_s"),
        ({"case_toml": "title = \n"}, "not valid TOML"),
        ({"reference_acta_json": '{"language": "es"}'}, "not an acta of the current schema"),
        ({"case_toml": CASE_TOML + "[meeting]\nmodality = 1\n"}, "meeting.modality"),
        ({"case_toml": CASE_TOML + '[meeting]\nlugar = "sala"\n'}, "unknown keys ['lugar']"),
        (
            {"case_toml": CASE_TOML.replace("[next_meeting]", "[next_meeting]\nplace = 'a'")},
            "place",
        ),
        ({"case_toml": CASE_TOML + "[[mentions]]\nall = []\n"}, "mentions[0].all"),
    ],
)
def test_a_malformed_case_is_refused_naming_the_file_and_problem(
    tmp_path: Path, files: dict[str, str], problem: str
) -> None:
    directory = write_case(tmp_path, **files)
    with pytest.raises(CaseError) as refused:
        load_case(directory)
    file = next(iter(files)).replace("_", ".")
    assert str(directory / file) in str(refused.value)
    assert problem in str(refused.value)


def test_the_turns_become_utterances_with_offsets(case: Case) -> None:
    assert [(u.speaker, u.start_ms) for u in case.utterances][:3] == [
        ("A", 0),
        ("B", 6000),
        ("A", 12000),
    ]
    assert case.utterances[0].end_ms == 6000
    assert case.text.startswith("Buenos días. Soy Laura Méndez")


# --- the checks on hand-made actas ---------------------------------------------------------


def test_the_case_of_the_tests_scores_perfectly(case: Case) -> None:
    score = score_acta(case, case.reference)
    assert (score.found, score.total, score.invented, score.violations) == (8, 8, (), ())


def test_an_invented_name_is_reported(case: Case) -> None:
    def change(data: dict[str, Any]) -> None:
        data["topics"][0]["summary"] += " Según Pedro Gómez, el precio es razonable."

    assert ("name", "topics[0].summary: 'Pedro Gómez' (pedro, gomez never said)") in problems(
        case, edited(case, change)
    )


def test_sentence_capitals_and_known_names_are_not_inventions(case: Case) -> None:
    def change(data: dict[str, Any]) -> None:
        data["summary"] = "Enviar. Quedó claro. Logística Austral y Textiles Andinos acordaron."

    assert problems(case, edited(case, change)) == []


@pytest.mark.parametrize(
    ("date_written", "why"),
    [
        ("jueves 12 de marzo", "a month added"),
        ("12 de marzo de 2027", "a month and year added"),
        ("viernes 12", "another weekday"),
    ],
)
def test_a_completed_partial_date_is_invented(case: Case, date_written: str, why: str) -> None:
    def change(data: dict[str, Any]) -> None:
        data["next_meeting"]["date"] = date_written

    found = problems(case, edited(case, change))
    assert ("date", f"next_meeting.date: {date_written!r}") in found, why


def test_el_participante_is_a_format_violation(case: Case) -> None:
    def change(data: dict[str, Any]) -> None:
        data["topics"][0]["summary"] = data["topics"][0]["summary"].replace(
            "Participante B", "El Participante B"
        )

    assert problems(case, edited(case, change)) == [
        ("participant_article", "topics[0].summary: 'El Participante B'")
    ]


def test_a_decision_not_starting_with_se_acuerda_is_a_violation(case: Case) -> None:
    def change(data: dict[str, Any]) -> None:
        data["decisions"] = ["Las partes acordaron un precio de 16.000 euros por el trimestre."]

    found = problems(case, edited(case, change))
    assert [check for check, _ in found] == ["decision_phrase"]


def test_the_amount_before_a_self_correction_is_caught(case: Case) -> None:
    def change(data: dict[str, Any]) -> None:
        data["decisions"] = ["Se acuerda un precio de 15.000 euros por el trimestre."]

    checks = {check for check, _ in problems(case, edited(case, change))}
    # The decision lacks the agreed figure, holds an amount never agreed, and a forbidden one.
    assert {"decision", "amount", "forbidden"} <= checks


@pytest.mark.parametrize(
    ("summary", "invented"),
    [
        ("El precio es de dieciséis mil euros.", []),
        ("El precio es de 16.000 €.", []),
        ("La reunión será a las diez y media.", []),
        ("La reunión será a las 11:00.", [("time", "summary: '11:00'")]),
        ("El precio es de 17.500 euros.", [("amount", "summary: '17.500 euros'")]),
    ],
)
def test_figures_and_words_are_one_fact(
    case: Case, summary: str, invented: list[tuple[str, str]]
) -> None:
    def change(data: dict[str, Any]) -> None:
        data["summary"] = summary

    found = [p for p in problems(case, edited(case, change)) if p[0] != "time_format"]
    assert found == invented


@pytest.mark.parametrize(
    ("change", "check"),
    [
        (lambda d: d["topics"][0].update(summary="La Sra. Méndez ofreció un precio."), "honorific"),
        (lambda d: d["action_items"][0].update(task="El calendario se envía."), "task_infinitive"),
        (lambda d: d["action_items"][0].update(owner="Laura"), "owner_name"),
        (lambda d: d["next_meeting"].update(time="10.30 h"), "time_format"),
        (lambda d: d.update(meeting_date="03/03/2027"), "date_format"),
    ],
)
def test_format_rules(case: Case, change: Callable[[dict[str, Any]], None], check: str) -> None:
    assert check in {c for c, _ in problems(case, edited(case, change))}


def test_a_task_given_to_the_wrong_person_is_a_missed_fact(case: Case) -> None:
    def change(data: dict[str, Any]) -> None:
        data["action_items"][0]["owner"] = "Marta Ruiz"

    assert problems(case, edited(case, change)) == [
        (
            "action_item",
            "'Enviarle el calendario.': owner 'Marta Ruiz', expected 'Laura Méndez'",
        )
    ]


def test_numbers_in_words_become_digits() -> None:
    assert (
        words_to_digits("quince mil… perdón, dieciséis mil euros") == "15000… perdón, 16000 euros"
    )
    assert words_to_digits("treinta y cinco") == "35"
    assert words_to_digits("una reunión y 1,5 millones") == "una reunión y 1500000"
    assert contains("Se acuerda 16.000 euros", "16.000 EUROS")
    assert not contains("hasta el 11 de abril", "1 de abril")
    assert [m.value for m in mentions.times("a las doce menos cuarto de la noche")] == [(23, 45)]


# --- this meeting's details, passages of the running text -----------------------------------

MEETING = (
    '[meeting]\nmodality = ""\nstart_time = ""\n\n[[mentions]]\nall = ["Marta Ruiz", "compras"]\n'
)


@pytest.fixture
def checked(tmp_path: Path) -> Case:
    """The tests' case, also checking this meeting's modality and start and one passage."""
    return load_case(
        write_case(
            tmp_path, case_toml=CASE_TOML.replace("[[decisions]]", MEETING + "\n[[decisions]]", 1)
        )
    )


def test_this_meetings_details_and_passages_are_facts(checked: Case) -> None:
    assert checked.meeting is not None and checked.meeting.modality == ""
    assert checked.meeting.place is None  # absent: not checked
    assert checked.mentions == (("Marta Ruiz", "compras"),)
    score = score_acta(checked, checked.reference)
    assert (score.found, score.total, score.problems()) == (11, 11, [])


@pytest.mark.parametrize(
    ("change", "found"),
    [
        # The next meeting's modality and time written into this meeting's fields.
        (lambda d: d.update(modality="videollamada"), ("meeting", "'videollamada'")),
        (lambda d: d.update(start_time="10:30"), ("meeting", "'10:30'")),
        # Said only in a field (the role), not in the running text.
        (
            lambda d: d["topics"][0].update(summary="Laura Méndez ofreció 16.000 euros."),
            ("mention", "no passage holds them all (none of them)"),
        ),
    ],
)
def test_a_detail_of_the_next_meeting_here_or_a_missing_passage_is_caught(
    checked: Case, change: Callable[[dict[str, Any]], None], found: tuple[str, str]
) -> None:
    assert problems(checked, edited(checked, change)) == [found]


def test_a_detail_absent_from_the_meeting_table_is_not_checked(case: Case) -> None:
    assert case.meeting is None
    acta = edited(case, lambda d: d.update(modality="videollamada", place="Sala 2"))
    assert problems(case, acta) == []


def test_the_shipped_cases_check_this_meeting_and_unclear_dates() -> None:
    cases = {case.name[:2]: case for case in load_cases()}
    assert cases["02"].meeting is not None and cases["02"].meeting.modality == "llamada"
    assert (
        cases["02"].next_meeting is not None and cases["02"].next_meeting.modality == "presencial"
    )
    assert cases["07"].meeting is not None and cases["07"].meeting.start_time == "09:00"
    for name in ("02", "08"):
        assert any("fecha no precisada" in strings for strings in cases[name].mentions)
        assert "unclear_date_dropped" in {f.name for f in flaws(cases[name])}
    for name in ("02", "06", "07"):  # a next meeting with a modality and a time
        made = {f.name for f in flaws(cases[name])}
        assert {"next_modality_as_this", "next_time_as_start", "invented_start_time"} <= made


@pytest.mark.parametrize(
    ("said", "written", "invented"),
    [
        ("Son las nueve en punto, empecemos.", "09:00", False),
        ("Son las nueve.", "09:00", False),
        ("Empezamos a las nueve y cuarto.", "09:15", False),
        ("Quedamos a las nueve menos cuarto.", "08:45", False),
        ("Quedamos al mediodía.", "12:00", False),
        ("Quedamos a las doce del mediodía.", "12:00", False),
        ("Son las nueve en punto.", "09:30", True),
        ("Empezamos a las nueve menos cuarto.", "09:15", True),
    ],
)
def test_times_said_in_words_support_the_clock_time(
    tmp_path: Path, said: str, written: str, invented: bool
) -> None:
    case = load_case(write_case(tmp_path, transcript_txt=TRANSCRIPT + f"[00:35] B: {said}\n"))
    found = problems(case, edited(case, lambda d: d.update(start_time=written)))
    assert (("time", f"start_time: {written!r}") in found) is invented


@pytest.mark.parametrize(
    ("said", "values"),
    [
        ("entre 10 y 12 mil euros", [10_000, 12_000]),
        ("entre diez y doce mil euros", [10_000, 12_000]),
        ("de 10 a 12 mil euros", [10_000, 12_000]),
        ("entre 1 y 2 millones de euros", [1_000_000, 2_000_000]),
        ("entre 10.000 y 12.000 euros", [10_000, 12_000]),
        ("treinta y cinco mil euros", [35_000]),
    ],
)
def test_a_range_said_with_one_scale_scales_both_ends(said: str, values: list[int]) -> None:
    assert sorted(m.value for m in mentions.amounts(said)) == [(v, "EUR") for v in values]


# --- the command and RESULTS.md ---------------------------------------------------------------


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No OpenAI key, as on a fresh clone."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    reset_settings()
    yield
    reset_settings()


@pytest.mark.usefixtures("no_key")
def test_the_command_scores_references_and_writes_the_table(tmp_path: Path) -> None:
    write_case(tmp_path / "cases")
    said: list[str] = []
    results = tmp_path / "RESULTS.md"
    status = main(
        ["--cases", str(tmp_path / "cases"), "--results", str(results)],
        today=TODAY,
        say=said.append,
    )
    assert status == 0
    output = "\n".join(said)
    assert "| 01-prueba | self-correction, next meeting | 8/8 | 0 | 0 |" in output
    assert "OPENAI_API_KEY is not set" in output
    written = results.read_text(encoding="utf-8")
    assert "Date: 2027-03-10. Model: reference actas (no model)." in written
    assert "| 01-prueba |" in written and "Not measured yet" in written


def test_a_failing_reference_fails_the_command_and_says_why(tmp_path: Path) -> None:
    wrong = dict(REFERENCE, decisions=["Se acuerda un precio de 15.000 euros."])
    write_case(tmp_path / "cases", reference_acta_json=json.dumps(wrong, ensure_ascii=False))
    said: list[str] = []
    status = main(
        ["--cases", str(tmp_path / "cases"), "--results", str(tmp_path / "R.md"), "--no-models"],
        say=said.append,
    )
    assert status == 1
    assert any("01-prueba: reference: !! [decision]" in line for line in said)
    assert "FAILED" in said[-1]


def test_a_malformed_case_stops_the_command(tmp_path: Path) -> None:
    write_case(tmp_path / "cases", transcript_txt="hola\n")
    said: list[str] = []
    assert main(["--cases", str(tmp_path / "cases"), "--no-models"], say=said.append) == 2
    assert "transcript.txt: line 1 is not a turn" in said[0]


def test_results_keep_the_models_section_when_no_model_ran(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    write_results(path, "## Reference actas\n\nfirst\n", "## Models\n\ngpt-4.1-mini: 92%\n")
    write_results(path, "## Reference actas\n\nsecond\n", None)
    text = path.read_text(encoding="utf-8")
    assert "second" in text and "first" not in text
    assert "gpt-4.1-mini: 92%" in text


def test_flaw_names_are_documented() -> None:
    readme = (CASES_DIR.parent / "README.md").read_text(encoding="utf-8")
    assert [name for name in FLAWS if f"`{name}`" not in readme] == []


def test_references_of_the_shipped_cases_pass_as_make_eval_sees_them() -> None:
    results = evaluate_references(load_cases())
    assert [r.case.name for r in results if not r.passed] == []
