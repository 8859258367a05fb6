"""Voucher import: JSON and CSV, every voucher or none, every problem reported where it is."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting.models import (
    EntryChannel,
    LedgerEntry,
    Voucher,
    VoucherLine,
    VoucherSequence,
    VoucherStatus,
)
from accounting.services import facts
from accounting.services.drafts import voucher_cancel, voucher_draft_create
from accounting.services.imports import ImportRejected, vouchers_import
from accounting.services.organizations import period_set_closed
from tests.factories import PartyFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def jv(day: str = "2026-03-15", amount: str = "10.00", **header) -> dict:
    return {
        "type": "JV",
        "date": day,
        "reference": header.pop("reference", "REF"),
        "narration": "Test entry",
        "lines": [{"account": "5200", "debit": amount}, {"account": "1120", "credit": amount}],
        **header,
    }


def write_json(tmp_path: Path, vouchers: list, name: str = "vouchers.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"vouchers": vouchers}), encoding="utf-8")
    return path


def import_rejected(books, path, *, post: bool = True, dry_run: bool = False) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        vouchers_import(organization=books.organization, source=path, post=post, dry_run=dry_run)
    return caught.value


def nothing_written() -> bool:
    return (
        not Voucher.objects.exists()
        and not VoucherLine.objects.exists()
        and not LedgerEntry.objects.exists()
        and not VoucherSequence.objects.filter(last_value__gt=0).exists()
    )


@pytest.fixture
def customer(books):
    return PartyFactory(organization=books.organization, code="C001")


def test_json_sample_imports_as_drafts_through_the_import_channel(books, customer):
    result = vouchers_import(
        organization=books.organization,
        source=FIXTURES / "vouchers.json",
        post=False,
        dry_run=False,
    )

    assert (result.format, result.count, result.lines) == ("json", 3, 7)
    vouchers = list(Voucher.objects.order_by("id"))
    assert [v.status for v in vouchers] == [VoucherStatus.DRAFT] * 3
    assert {v.entry_channel for v in vouchers} == {EntryChannel.IMPORT}
    assert [v.number for v in vouchers] == [None, None, None]
    sale = vouchers[1]
    assert (sale.voucher_type.code, sale.reference, sale.party) == ("SV", "INV-1001", customer)
    assert [(line.account.code, line.debit, line.credit) for line in sale.lines.all()] == [
        ("1200", Decimal("1100.00"), Decimal("0.00")),
        ("4100", Decimal("0.00"), Decimal("1000.00")),
        ("2200", Decimal("0.00"), Decimal("100.00")),
    ]
    assert sale.lines.all()[0].party == customer
    assert sale.lines.all()[2].description == "Output tax 10%"
    assert not LedgerEntry.objects.exists()


def test_json_sample_posts_with_numbers_per_voucher_type(books, customer):
    result = vouchers_import(
        organization=books.organization,
        source=FIXTURES / "vouchers.json",
        post=True,
        dry_run=False,
    )

    assert [v.number for v in result.vouchers] == [
        "PV-2026-00001",
        "SV-2026-00001",
        "JV-2026-00001",
    ]
    assert Voucher.objects.filter(status=VoucherStatus.POSTED).count() == 3
    assert LedgerEntry.objects.count() == 7


def test_a_thousand_vouchers_import_and_post_with_gapless_numbers(books, tmp_path):
    vouchers = [
        jv(day=f"2026-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}", amount=f"{i}.{i % 100:02d}")
        for i in range(1, 1001)
    ]
    path = write_json(tmp_path, [{**v, "reference": f"BULK-{i}"} for i, v in enumerate(vouchers)])

    result = vouchers_import(organization=books.organization, source=path, post=True, dry_run=False)

    assert result.count == 1000
    numbers = list(
        Voucher.objects.filter(status=VoucherStatus.POSTED)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert numbers == list(range(1, 1001))
    assert result.number_ranges() == ["JV-2026-00001 … JV-2026-01000 (1000)"]
    assert LedgerEntry.objects.count() == 2000


@pytest.mark.parametrize("post", [True, False])
def test_import_queries_do_not_grow_with_lines(books, tmp_path, post):
    """Codes are looked up once per file; what remains is a fixed number of queries a voucher."""

    def queries_for(lines_per_side: int) -> int:
        voucher = jv()
        voucher["lines"] = [{"account": "5200", "debit": "1.00"}] * lines_per_side + [
            {"account": "1120", "credit": "1.00"}
        ] * lines_per_side
        vouchers = [{**voucher, "reference": f"Q-{i}"} for i in range(20)]
        path = write_json(tmp_path, vouchers, name=f"{lines_per_side}.json")
        facts.entry_facts_forget(books.organization.pk)  # each run reads the facts once
        with CaptureQueriesContext(connection) as context:
            vouchers_import(organization=books.organization, source=path, post=post, dry_run=True)
        return len(context.captured_queries)

    two_lines, twelve_lines = queries_for(1), queries_for(6)
    assert two_lines == twelve_lines
    assert two_lines <= 15 * 20


def test_three_bad_vouchers_among_fifty_import_nothing_and_are_all_reported(books, tmp_path):
    vouchers = [jv(reference=f"OK-{i}") for i in range(1, 51)]
    vouchers[6]["lines"][1]["credit"] = "9.99"  # voucher 7: unbalanced
    vouchers[19]["lines"][0]["account"] = "7777"  # voucher 20: unknown account on line 1
    vouchers[41]["date"] = "2025-06-30"  # voucher 42: in no fiscal year
    path = write_json(tmp_path, vouchers)

    rejected = import_rejected(books, path)

    assert nothing_written()
    assert rejected.rejected_vouchers == 3
    assert rejected.vouchers_in_file == 50
    assert [(p.voucher, p.line) for p in rejected.problems] == [(7, None), (20, 1), (42, None)]
    messages = [str(p) for p in rejected.problems]
    assert "voucher 7 (reference OK-7): is not balanced" in messages[0]
    assert messages[1] == (
        "voucher 20 (reference OK-20) line 1: account '7777' is not an account of this organization"
    )
    assert "voucher 42 (reference OK-42): date 2025-06-30 is in no fiscal year" in messages[2]


def test_rejected_drafts_import_leaves_nothing_behind(books, tmp_path):
    vouchers = [jv(reference="GOOD"), jv(reference="BAD", amount="1.001")]
    rejected = import_rejected(books, write_json(tmp_path, vouchers), post=False)

    assert nothing_written()
    assert [(p.voucher, p.line) for p in rejected.problems] == [(2, 1), (2, 2)]
    assert "more than 2 decimal places" in rejected.problems[0].message


def test_draft_import_checks_the_posting_rules_too(books, tmp_path):
    period = books.fiscal_year.periods.get(number=3)
    period_set_closed(period=period, closed=True)
    vouchers = [
        jv(day="2026-03-10", reference="R1"),
        {**jv(reference="R2"), "lines": [{"account": "5200", "debit": "5.00"}]},
        {
            **jv(reference="R3"),
            "lines": [{"account": "5200", "debit": "5.00"}, {"account": "1120"}],
        },
        {
            **jv(reference="R4"),
            "lines": [{"account": "1000", "debit": "5.00"}, {"account": "1120", "credit": "5.00"}],
        },
    ]
    rejected = import_rejected(books, write_json(tmp_path, vouchers), post=False)

    by_voucher = {}
    for problem in rejected.problems:
        by_voucher.setdefault(problem.voucher, []).append(problem.message)
    assert "closed period" in by_voucher[1][0]
    assert any("at least 2" in m for m in by_voucher[2])
    assert any("neither a debit nor a credit" in m for m in by_voucher[3])
    assert any("group account" in m for m in by_voucher[4])
    assert nothing_written()


def test_dry_run_reports_the_numbers_but_writes_nothing(books, customer):
    result = vouchers_import(
        organization=books.organization,
        source=FIXTURES / "vouchers.json",
        post=True,
        dry_run=True,
    )

    assert result.dry_run and result.count == 3
    assert result.number_ranges() == ["PV-2026-00001", "SV-2026-00001", "JV-2026-00001"]
    assert [v.pk for v in result.vouchers] == [None, None, None]
    assert nothing_written()


def test_dry_run_with_problems_reports_them(books, tmp_path):
    rejected = import_rejected(
        books, write_json(tmp_path, [jv(), {**jv(), "type": "XX"}]), dry_run=True
    )

    assert [str(p) for p in rejected.problems] == [
        "voucher 2 (reference REF): voucher type 'XX' is not one of CN, CV, DN, JV, PU, PV, RV, SV"
    ]
    assert nothing_written()


def test_csv_rows_sharing_a_reference_form_one_voucher(books, customer):
    result = vouchers_import(
        organization=books.organization,
        source=FIXTURES / "vouchers.csv",
        post=True,
        dry_run=False,
    )

    assert (result.format, result.count, result.lines) == ("csv", 3, 7)
    sale = Voucher.objects.get(reference="INV-1001")
    assert (sale.voucher_type.code, str(sale.date), sale.narration) == (
        "SV",
        "2026-02-14",
        "Goods sold on credit",
    )
    assert [line.account.code for line in sale.lines.all()] == ["1200", "4100", "2200"]
    assert sale.lines.all()[2].description == "Output tax 10%"
    assert Voucher.objects.get(reference="ACR-02").lines.count() == 2


def test_csv_problems_name_the_file_rows(books, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "reference,type,date,narration,account,debit,credit,description\n"
        "A,JV,2026-03-01,Fine,5200,10.00,,\n"
        "A,JV,2026-03-01,Fine,1120,,10.00,\n"
        "B,JV,2026-03-02,Unbalanced,5200,10.00,,\n"
        "B,JV,2026-03-02,Unbalanced,1120,,9.00,\n"
        "C,JV,31/03/2026,Bad date,5200,1.00,,\n"
        "C,JV,31/03/2026,Bad date,1120,,1.00,\n"
        "D,JV,2026-03-04,Bad amount,5200,ten,,\n"
        "D,PV,2026-03-04,Bad amount,1120,,10.00,\n"
        ",JV,2026-03-04,No reference,1120,,10.00,\n",
        encoding="utf-8",
    )

    rejected = import_rejected(books, path)

    assert [str(p) for p in rejected.problems] == [
        "rows 4–5 (reference B): is not balanced: debits 10.00 ≠ credits 9.00 (difference 1.00)",
        "rows 6–7 (reference C): date '31/03/2026' is not a date in YYYY-MM-DD form",
        "row 8 (reference D): debit: 'ten' is not a number; write amounts like 1234.50, "
        "1,234,567.89 or 12,34,567.89 (digits 0-9, an optional leading minus, commas grouping "
        "thousands or the Indian way)",
        "row 9 (reference D): type 'PV' differs from 'JV' given earlier for this reference; "
        "the rows of one voucher repeat its header or leave it empty",
        "row 10: reference is empty; rows are grouped into vouchers by reference",
    ]
    assert [p.row for p in rejected.problems] == [4, 6, 8, 9, 10]
    assert nothing_written()


def test_csv_with_missing_or_unknown_columns_is_refused(books, tmp_path):
    path = tmp_path / "columns.csv"
    path.write_text("reference,kind,date,account,debit\nA,JV,2026-03-01,5200,1\n")

    rejected = import_rejected(books, path)

    assert [p.message.split(";")[0] for p in rejected.problems] == [
        "missing column(s): type, credit",
        "unknown column(s): kind",
    ]
    assert {p.row for p in rejected.problems} == {1}


def test_accounts_and_parties_of_another_organization_are_unknown(books, other_books, tmp_path):
    other_books.accounts["5200"].code = "6666"
    other_books.accounts["5200"].save()
    PartyFactory(organization=other_books.organization, code="RIVAL")
    vouchers = [
        {**jv(), "lines": [{"account": "6666", "debit": "1"}, {"account": "1120", "credit": "1"}]},
        {**jv(reference="REF-2"), "party": "RIVAL"},
    ]
    rejected = import_rejected(books, write_json(tmp_path, vouchers))

    assert [str(p) for p in rejected.problems] == [
        "voucher 1 (reference REF) line 1: account '6666' is not an account of this organization",
        "voucher 2 (reference REF-2): party 'RIVAL' is not a party of this organization",
    ]
    assert nothing_written()


def test_amounts_must_be_exact_text_not_floats(books, tmp_path):
    vouchers = [
        {
            **jv(),
            "lines": [{"account": "5200", "debit": 10.1}, {"account": "1120", "credit": "10.10"}],
        },
        {
            **jv(reference="REF-2"),
            "lines": [{"account": "5200", "debit": 10}, {"account": "1120", "credit": "10"}],
        },
    ]
    rejected = import_rejected(books, write_json(tmp_path, vouchers))

    assert [(p.voucher, p.line) for p in rejected.problems] == [(1, 1)]
    assert "not a float" in rejected.problems[0].message


def test_malformed_json_and_unknown_fields_are_reported(books, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"vouchers": [', encoding="utf-8")
    assert import_rejected(books, broken).problems[0].where == "file"

    vouchers = [
        {**jv(reference="R1"), "narative": "typo"},
        "not an object",
        {**jv(reference="R3"), "lines": "none"},
        {**jv(reference="R4"), "lines": [{"account": "5200", "debit": "1", "memo": "x"}, 7]},
        {**jv(), "reference": "R" * 101},
    ]
    rejected = import_rejected(books, write_json(tmp_path, vouchers))

    found = [(p.voucher, p.line, p.message.split(";")[0]) for p in rejected.problems]
    assert found == [
        (1, None, "unknown field(s) narative"),
        (2, None, "must be an object with type, date and lines"),
        (3, None, '"lines" must be a list of lines'),
        (4, 1, "unknown field(s) memo"),
        (4, 2, "must be an object with account and an amount"),
        (5, None, "reference is 101 characters long"),
    ]


def test_format_is_detected_from_content_and_streams_are_accepted(books, customer):
    content = (FIXTURES / "vouchers.csv").read_bytes()
    result = vouchers_import(
        organization=books.organization, source=io.BytesIO(content), post=False, dry_run=True
    )
    assert (result.format, result.count) == ("csv", 3)

    text = (FIXTURES / "vouchers.json").read_text()
    result = vouchers_import(
        organization=books.organization, source=io.StringIO(text), post=False, dry_run=True
    )
    assert (result.format, result.count) == ("json", 3)


def test_an_empty_file_is_refused(books, tmp_path):
    rejected = import_rejected(books, write_json(tmp_path, []))
    assert [str(p) for p in rejected.problems] == ["file: contains no vouchers"]


def test_csv_rows_of_the_wrong_width_and_repeated_columns_are_refused(books, tmp_path):
    widths = tmp_path / "widths.csv"
    widths.write_text(
        "reference,type,date,account,debit,credit\n"
        "A,JV,2026-03-01,5200,1.00\n"
        ",,,,,\n"
        "B,JV,2026-03-01,5200,1.00,\n"
        "B,,,1120,,1.00\n"
    )
    rejected = import_rejected(books, widths)
    assert [str(p) for p in rejected.problems] == ["row 2: has 5 values; the header has 6 columns"]

    repeated = tmp_path / "repeated.csv"
    repeated.write_text("reference,type,date,account,debit,credit,debit\n")
    assert (
        import_rejected(books, repeated).problems[0].message.startswith("repeated column(s): debit")
    )


def test_inactive_types_and_parties_and_missing_codes_are_refused(books, customer, tmp_path):
    customer.is_active = False
    customer.save()
    books.types["CN"].is_active = False
    books.types["CN"].save()
    vouchers = [
        {**jv(reference="R1"), "party": "C001"},
        {**jv(reference="R2"), "type": "CN"},
        {**jv(reference="R3"), "type": ""},
        {**jv(reference="R4"), "lines": [{"debit": "1"}, {"account": "1120", "credit": "1"}]},
    ]
    rejected = import_rejected(books, write_json(tmp_path, vouchers))

    assert [(p.voucher, p.line, p.message) for p in rejected.problems] == [
        (1, None, "party 'C001' is inactive"),
        (2, None, "voucher type 'CN' is inactive"),
        (3, None, "type is missing"),
        (4, 1, "account is missing"),
    ]


def test_an_unknown_format_is_refused(books):
    with pytest.raises(ImportRejected, match="format 'xml' is not json or csv"):
        vouchers_import(
            organization=books.organization,
            source=FIXTURES / "vouchers.json",
            post=False,
            dry_run=True,
            file_format="xml",
        )


# References


def counts() -> tuple[int, int, int, list[int]]:
    return (
        Voucher.objects.count(),
        VoucherLine.objects.count(),
        LedgerEntry.objects.count(),
        sorted(VoucherSequence.objects.values_list("last_value", flat=True)),
    )


@pytest.mark.parametrize("name", ["vouchers.json", "vouchers.csv"])
def test_a_file_imported_twice_is_refused_the_second_time_and_nothing_is_posted_again(
    books, customer, name
):
    vouchers_import(
        organization=books.organization, source=FIXTURES / name, post=True, dry_run=False
    )
    before = counts()

    rejected = import_rejected(books, FIXTURES / name)

    assert counts() == before
    assert rejected.rejected_vouchers == 3
    assert {problem.rule for problem in rejected.problems} == {"duplicate_reference"}
    messages = [str(p) for p in rejected.problems]
    if name.endswith(".json"):
        assert messages == [
            "voucher 1 (reference RENT-JAN): reference RENT-JAN is already used by PV-2026-00001",
            "voucher 2 (reference INV-1001): reference INV-1001 is already used by SV-2026-00001",
            "voucher 3 (reference ACR-02): reference ACR-02 is already used by JV-2026-00001",
        ]
    else:
        assert messages == [
            "rows 2–3 (reference RENT-JAN): reference RENT-JAN is already used by PV-2026-00001",
            "rows 4–5, 7 (reference INV-1001): reference INV-1001 is already used by SV-2026-00001",
            "rows 6, 8 (reference ACR-02): reference ACR-02 is already used by JV-2026-00001",
        ]


def test_a_reference_repeated_in_the_file_is_refused_naming_both_vouchers(books, tmp_path):
    vouchers = [
        jv(reference="INV-7"),
        jv(reference="INV-8"),
        jv(reference="INV-7"),
        jv(reference="INV-8"),
        {**jv(reference="INV-7"), "type": "PV"},  # another type may share it
    ]

    rejected = import_rejected(books, write_json(tmp_path, vouchers))

    assert [str(p) for p in rejected.problems] == [
        "voucher 3 (reference INV-7): reference INV-7 is also used by voucher 1 of this file",
        "voucher 4 (reference INV-8): reference INV-8 is also used by voucher 2 of this file",
    ]
    assert nothing_written()


def test_drafts_count_as_used_and_cancelled_vouchers_do_not(books, tmp_path):
    draft = voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(("5200", "1", ""), ("1120", "", "1"), reference="D-1"),
    )
    cancelled = voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(("5200", "1", ""), ("1120", "", "1"), reference="C-1"),
    )
    voucher_cancel(voucher=cancelled, user=None)
    before = counts()

    rejected = import_rejected(
        books, write_json(tmp_path, [jv(reference="C-1"), jv(reference="D-1")]), post=False
    )

    assert [str(p) for p in rejected.problems] == [
        f"voucher 2 (reference D-1): reference D-1 is already used by draft voucher #{draft.pk}"
    ]
    assert counts() == before


def test_an_empty_reference_repeats_nothing(books, tmp_path):
    path = write_json(tmp_path, [jv(reference=""), jv(reference=""), jv(reference="  ")])

    vouchers_import(organization=books.organization, source=path, post=True, dry_run=False)
    vouchers_import(organization=books.organization, source=path, post=True, dry_run=False)

    assert Voucher.objects.count() == 6


def test_duplicate_references_import_when_allowed(books, customer, tmp_path):
    vouchers_import(
        organization=books.organization, source=FIXTURES / "vouchers.json", post=True, dry_run=False
    )

    result = vouchers_import(
        organization=books.organization,
        source=FIXTURES / "vouchers.json",
        post=True,
        dry_run=False,
        allow_duplicate_references=True,
    )

    assert [v.number for v in result.vouchers] == [
        "PV-2026-00002",
        "SV-2026-00002",
        "JV-2026-00002",
    ]


def test_existing_references_are_read_in_one_query_whatever_the_number_of_vouchers(books, tmp_path):
    def extra_queries(count: int) -> int:
        path = write_json(
            tmp_path, [jv(reference=f"N-{i}") for i in range(count)], name=f"{count}.json"
        )
        queries = []
        for allow in (True, False):
            facts.entry_facts_forget(books.organization.pk)  # each run reads the facts once
            with CaptureQueriesContext(connection) as context:
                vouchers_import(
                    organization=books.organization,
                    source=path,
                    post=True,
                    dry_run=True,
                    allow_duplicate_references=allow,
                )
            queries.append(len(context.captured_queries))
        return queries[1] - queries[0]

    assert extra_queries(5) == extra_queries(50) == 1


TOO_DEEP = (
    "file: the JSON is nested too deeply (more than 20 levels); a voucher file is an object with "
    'a "vouchers" list of objects, each with a "lines" list of objects'
)


@pytest.mark.parametrize("depth", [100_000, 25])
def test_deeply_nested_json_is_refused_as_a_file_problem_and_imports_nothing(
    books, tmp_path, depth
):
    nested = "[" * depth + "]" * depth
    path = tmp_path / "deep.json"
    path.write_text(
        '{"vouchers": [' + json.dumps(jv(reference="OK")) + f', {{"type": {nested}}}]}}',
        encoding="utf-8",
    )

    rejected = import_rejected(books, path)

    assert [str(p) for p in rejected.problems] == [TOO_DEEP]
    assert nothing_written()


def test_csv_amounts_grouped_by_thousands_or_the_indian_way_import_and_misplaced_commas_do_not(
    books, tmp_path
):
    header = "reference,type,date,account,debit,credit\n"
    good = tmp_path / "good.csv"
    good.write_text(
        header + 'G,JV,2026-03-01,5200,"2,340.50",\nG,JV,2026-03-01,1120,,"2,340.50"\n'
        'H,JV,2026-03-01,5200,"1,00,000",\nH,JV,2026-03-01,1120,,100000.00\n'
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(header + 'B,JV,2026-03-01,5200,"1,2,3",\nB,JV,2026-03-01,1120,,123\n')

    rejected = import_rejected(books, bad)

    assert [p.row for p in rejected.problems] == [2]
    assert rejected.problems[0].message.startswith("debit: '1,2,3' has commas in the wrong places")
    assert nothing_written()

    vouchers_import(organization=books.organization, source=good, post=True, dry_run=False)

    assert sorted(LedgerEntry.objects.values_list("debit", flat=True)) == [
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("2340.50"),
        Decimal("100000.00"),
    ]


def test_every_import_problem_names_the_rule_it_breaks(books, tmp_path):
    """The rule names let support find the FAQ entry (accounting/services/refusals.py)."""
    unbalanced = jv(reference="UNBAL")
    unbalanced["lines"][1]["credit"] = "9.00"
    unknown = jv(reference="UNKNOWN")
    unknown["lines"][0]["account"] = "9999"
    rejected = import_rejected(books, write_json(tmp_path, [unbalanced, unknown]))
    assert [(problem.voucher, problem.rule) for problem in rejected.problems] == [
        (1, "balanced"),
        (2, "import_value"),
    ]
    assert import_rejected(books, write_json(tmp_path, [])).problems[0].rule == "import_empty"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert import_rejected(books, broken).problems[0].rule == "import_format"
