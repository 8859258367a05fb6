"""What the entry screen and each of its HTMX partials render."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import pytest

from accounting.models import Account, Party, PartyRole, Role, Voucher
from tests.factories import AccountFactory, Books
from tests.voucher_config.test_entry_helpers import (
    HX,
    TYPES,
    config_for,
    edit_url,
    entry_data,
    new_url,
    partial_url,
    seed,
)
from voucher_config.services import config_update

BUTTONS = ["Add line", "Remove line", "Preview", "Save draft", "Post"]


class Page(HTMLParser):
    """The inputs, labels and buttons of a page, as a browser's accessibility tree sees them."""

    def __init__(self, html: str):
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.labels: dict[str, str] = {}
        self.buttons: list[tuple[dict[str, str | None], str]] = []
        self._label_for: str | None = None
        self._button: dict[str, str | None] | None = None
        self._text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.inputs.append(attributes)
        elif tag == "label":
            self._label_for, self._text = attributes.get("for"), []
        elif tag == "button":
            self._button, self._text = attributes, []

    def handle_data(self, data):
        self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "label" and self._label_for:
            self.labels[self._label_for] = "".join(self._text).strip()
            self._label_for = None
        elif tag == "button" and self._button is not None:
            if "hidden" not in self._button:
                self.buttons.append((self._button, "".join(self._text).strip()))
            self._button = None

    def button_names(self) -> set[str]:
        return {name for _, name in self.buttons}


@pytest.fixture
def accountant(books, client):
    seed(books)
    user = books.member(Role.ACCOUNTANT)
    client.force_login(user)
    return user


# --- the page --------------------------------------------------------------------------------


# What every page carries beside the entry form: the "Send feedback" dialog's message.
PAGE_CONTROLS = {"message"}


@pytest.mark.parametrize("type_code", TYPES)
def test_every_input_has_the_configured_label_and_lines_say_their_number(
    type_code, books, client, accountant
):
    definition = config_for(books, type_code).definition
    page = Page(client.get(new_url(type_code)).content.decode())
    header = {spec["key"]: spec["label"] for spec in definition["header_fields"]}
    columns = {spec["key"]: spec["label"] for spec in definition["line_fields"]}
    seen_header = set()
    for attributes in page.inputs:
        name = attributes["name"]
        if name in header:
            assert page.labels[attributes["id"]] == header[name]
            seen_header.add(name)
        elif name in PAGE_CONTROLS:
            assert page.labels[attributes["id"]]
        else:
            match = re.fullmatch(r"lines-(\d+)-(\w+)", name)
            assert match, name
            number, key = int(match[1]) + 1, match[2]
            assert attributes["aria-label"] == f"{columns[key]}, line {number}"
    assert seen_header == set(header)
    # The grid's column headers show the configured labels.
    html = client.get(new_url(type_code)).content.decode()
    for label in columns.values():
        assert f">{label}<" in html


def test_buttons_carry_the_names_accountants_are_told_about(books, client, accountant):
    page = Page(client.get(new_url("PV")).content.decode())
    assert set(BUTTONS) <= page.button_names()
    assert "Submit for approval" not in page.button_names()


def test_the_page_has_a_config_root_and_nothing_inline_for_the_csp(books, client, accountant):
    response = client.get(new_url("SV"))
    html = response.content.decode()
    assert re.search(r'<div id="entry"[^>]*data-entry-channel="config"', html)
    assert 'src="/static/js/entry.js"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\sstyle=", html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert "hx-on" not in html and "js:" not in html
    policy = response["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        assert directive in policy


def test_the_column_widths_come_from_the_layout(books, client, accountant):
    html = client.get(new_url("SV")).content.decode()
    assert '<col class="w-40"><col class="w-30"><col class="w-18"><col class="w-12">' in html


def test_full_page_without_hx_request_and_fragment_with_it(books, client, accountant):
    full = client.get(new_url("JV"))
    fragment = client.get(new_url("JV"), headers=HX)
    assert "<html" in full.content.decode()
    body = fragment.content.decode().strip()
    assert "<html" not in body and body.startswith('<div id="entry"')
    for response in (full, fragment):
        assert "HX-Request" in response["Vary"]


def test_edit_page_is_a_fragment_too_with_hx_request(books, client, accountant):
    client.post(new_url("JV"), entry_data(books, "JV"))
    voucher = Voucher.objects.get()
    response = client.get(edit_url(voucher.pk), headers=HX)
    assert "<html" not in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_new_voucher_menu_lists_each_configured_type(books, client, accountant):
    html = client.get("/vouchers/new/").content.decode()
    for code in TYPES:
        assert f'href="/vouchers/{code}/new/"' in html


def test_defaults_and_account_names_are_shown(books, client, accountant):
    html = client.get(new_url("PV")).content.decode()
    assert 'name="bank_account" value="1120"' in html
    assert ">Main bank account</span>" in html


# --- adding and removing lines ---------------------------------------------------------------


def test_add_line_partial_returns_one_focused_row_and_the_new_count(books, client, accountant):
    data = entry_data(books, "PV")  # two lines: indexes 0 and 1
    response = client.post(partial_url("add-line", "PV"), data, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<tr id="line-2"')
    assert html.count("<tr") == 1
    assert 'aria-label="Account, line 3"' in html
    assert re.search(r'name="lines-2-account"[^>]*autofocus', html)
    assert 'id="id_lines-TOTAL_FORMS" value="3" hx-swap-oob="true"' in html


def test_add_line_counts_only_lines_still_shown(books, client, accountant):
    data = {**entry_data(books, "PV"), "lines-0-DELETE": "on"}
    html = client.post(partial_url("add-line", "PV"), data, headers=HX).content.decode()
    assert 'aria-label="Account, line 2"' in html


def test_add_line_without_javascript_rerenders_with_one_more_line(books, client, accountant):
    data = entry_data(books, "PV", action="add_line", header={"reference": "kept"})
    response = client.post(new_url("PV"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="lines-2-account"' in html and 'name="lines-3-account"' not in html
    assert 'name="reference" value="kept"' in html
    assert "errorlist" not in html
    assert not Voucher.objects.exists()


def test_remove_line_partial_leaves_a_deletion_mark(books, client, accountant):
    data = {**entry_data(books, "PV"), "action": "remove_line-1"}
    response = client.post(partial_url("remove-line", "PV"), data, headers=HX)
    html = response.content.decode().strip()
    assert "<html" not in html
    assert html.startswith('<tr id="line-1" class="line-removed" hidden>')
    assert '<input type="hidden" name="lines-1-DELETE" value="on">' in html
    # A field check answering after the removal still finds where its errors go.
    assert '<td id="line-1-errors"></td>' in html
    assert response["HX-Trigger"] == '{"entry:lines-changed": {}}'


def test_a_removed_line_is_not_saved(books, client, accountant):
    data = {**entry_data(books, "PV"), "lines-1-DELETE": "on"}
    client.post(new_url("PV"), data)
    voucher = Voucher.objects.get()
    assert [line.account.code for line in voucher.lines.order_by("order")] == ["5200", "1120"]


def test_remove_line_without_javascript_moves_the_later_lines_up(books, client, accountant):
    lines = [
        {"account": "5200", "amount": "1.00"},
        {"account": "5300", "amount": "2.00"},
        {"account": "5400", "amount": "3.00"},
    ]
    data = entry_data(books, "PV", lines=lines, action="remove_line-0")
    html = client.post(new_url("PV"), data).content.decode()
    assert 'name="lines-0-account" value="5300"' in html
    assert 'name="lines-1-account" value="5400"' in html
    assert 'name="lines-2-account"' not in html
    assert 'aria-label="Account, line 1"' in html


# --- totals, validation, preview -------------------------------------------------------------


def test_totals_partial_shows_balanced(books, client, accountant):
    response = client.post(partial_url("totals", "JV"), entry_data(books, "JV"), headers=HX)
    html = response.content.decode()
    assert "<html" not in html and "<section" not in html
    assert "1,500.00" in html
    assert "Balanced" in html and "Not balanced" not in html


def test_totals_partial_shows_the_difference_when_unbalanced(books, client, accountant):
    lines = [{"account": "5200", "debit": "100.00"}, {"account": "1120", "credit": "90.00"}]
    html = client.post(
        partial_url("totals", "JV"), entry_data(books, "JV", lines=lines), headers=HX
    ).content.decode()
    assert "Not balanced: difference 10.00" in html


def test_totals_partial_names_what_the_rule_still_needs(books, client, accountant):
    data = entry_data(books, "PV", header={"bank_account": ""})
    html = client.post(partial_url("totals", "PV"), data, headers=HX).content.decode()
    assert "Incomplete: Paid from" in html
    assert "1,285.50" in html  # what was entered so far


def test_totals_count_lines_with_errors_separately(books, client, accountant):
    lines = [{"account": "5200", "debit": "100.00"}, {"account": "1120", "credit": "abc"}]
    html = client.post(
        partial_url("totals", "JV"), entry_data(books, "JV", lines=lines), headers=HX
    ).content.decode()
    assert "1 line has errors: 2" in html
    assert "Lines with errors are not counted in these totals." in html


def test_totals_never_say_balanced_in_green_while_a_line_is_in_error(books, client, accountant):
    lines = [
        {"account": "5200", "debit": "100.00"},
        {"account": "9999", "debit": "5.00"},
        {"account": "1120", "credit": "100.00"},
        {"account": "1120", "credit": "abc"},
    ]
    html = client.post(
        partial_url("totals", "JV"), entry_data(books, "JV", lines=lines), headers=HX
    ).content.decode()
    assert "2 lines have errors: 2, 4" in html
    assert "balance-ok" not in html
    assert "Balanced without the lines in error" in html


def test_totals_name_lines_by_their_shown_number_after_a_removal(books, client, accountant):
    lines = [
        {"account": "5200", "debit": "100.00"},
        {"account": "1120", "credit": "100.00"},
        {"account": "1120", "credit": "abc"},
    ]
    data = {**entry_data(books, "JV", lines=lines), "lines-0-DELETE": "on"}
    html = client.post(partial_url("totals", "JV"), data, headers=HX).content.decode()
    assert "1 line has errors: 2" in html


def test_totals_with_every_line_in_error_do_not_say_nothing_was_entered(books, client, accountant):
    lines = [{"account": "9999", "amount": "10.00"}, {"account": "5200", "amount": "ten"}]
    html = client.post(
        partial_url("totals", "PV"), entry_data(books, "PV", lines=lines), headers=HX
    ).content.decode()
    assert "No amounts entered yet" not in html
    assert "2 lines have errors: 1, 2" in html
    assert "every line entered has an error" in html
    assert "balance-ok" not in html


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("5200", "5200"),
        ("rent", "5200"),
        ("RENT", "5200"),
        ("5200 Rent", "5200"),
        ("530", "5300"),
        ("office supplies", "5500"),
    ],
)
def test_an_account_is_saved_from_its_code_or_its_one_matching_name(
    typed, saved, books, client, accountant
):
    lines = [{"account": typed, "description": "Office", "amount": "10.00"}]
    client.post(new_url("PV"), entry_data(books, "PV", lines=lines))
    voucher = Voucher.objects.get()
    assert [line.account.code for line in voucher.lines.order_by("order")] == [saved, "1120"]


def test_a_name_matching_several_accounts_is_refused_and_nothing_is_saved(
    books, client, accountant
):
    lines = [{"account": "an", "description": "Office", "amount": "10.00"}]
    response = client.post(new_url("PV"), entry_data(books, "PV", lines=lines))
    assert "Account an does not exist or cannot be posted to" in response.content.decode()
    assert not Voucher.objects.exists()


def test_validate_partial_returns_the_changed_header_fields_errors_out_of_band(
    books, client, accountant
):
    data = {**entry_data(books, "PV", header={"bank_account": "5200"}), "changed": "bank_account"}
    response = client.post(partial_url("validate", "PV"), data, headers=HX)
    html = response.content.decode()
    assert "<html" not in html and "<input" not in html
    assert 'hx-swap-oob="innerHTML:#id_bank_account-errors"' in html
    assert "Account 5200 is not allowed here" in html

    data["bank_account"] = "1130"
    html = client.post(partial_url("validate", "PV"), data, headers=HX).content.decode()
    assert "errorlist" not in html


def test_validate_partial_for_a_line_reports_that_lines_errors(books, client, accountant):
    lines = [{"account": "5200", "amount": "1"}, {"account": "4100", "amount": "x"}]
    data = {**entry_data(books, "PV", lines=lines), "changed": "lines-1-account"}
    html = client.post(partial_url("validate", "PV"), data, headers=HX).content.decode()
    assert 'hx-swap-oob="innerHTML:#line-1-errors"' in html
    assert "Account: Account 4100 is not allowed here" in html
    assert "Amount: &#x27;x&#x27; is not a number" in html
    assert "<input" not in html


def test_validate_partial_ignores_a_request_without_a_changed_field(books, client, accountant):
    response = client.post(partial_url("validate", "PV"), entry_data(books, "PV"), headers=HX)
    assert response.status_code == 204


def test_preview_partial_shows_the_exact_ledger_lines(books, client, accountant):
    response = client.post(partial_url("preview", "SV"), entry_data(books, "SV"), headers=HX)
    html = response.content.decode()
    assert "<html" not in html
    rows = re.findall(r"<tr(?: class=\"generated\")?>\s*<td>(\d+)</td>\s*<td>(\S+)", html)
    assert rows == [("1", "1200"), ("2", "4200"), ("3", "4200"), ("4", "2200")]
    assert "1,215.00" in html and "181.67" in html
    assert "party line added by the posting rule" in html
    assert "tax line added by the posting rule" in html
    assert "Balanced; these lines would post as shown." in html
    assert not Voucher.objects.exists()


def test_preview_partial_says_what_would_stop_posting(books, client, accountant):
    data = entry_data(books, "JV", on="2031-01-01")
    html = client.post(partial_url("preview", "JV"), data, headers=HX).content.decode()
    assert "Posting would be refused" in html
    assert "Date 2031-01-01 is in no fiscal year." in html


def test_preview_partial_lists_the_errors_of_an_incomplete_entry(books, client, accountant):
    data = entry_data(books, "PV", lines=[{"account": "", "amount": "5"}])
    html = client.post(partial_url("preview", "PV"), data, headers=HX).content.decode()
    assert "Nothing to preview until these are fixed" in html
    assert "Line 1, Account: This field is required." in html


def test_preview_without_javascript_renders_the_page_with_the_preview(books, client, accountant):
    html = client.post(new_url("PV"), entry_data(books, "PV", action="preview")).content.decode()
    assert "<html" in html
    assert "Ledger lines this voucher would post" in html
    assert not Voucher.objects.exists()


def test_tax_rounding_difference_is_shown_not_hidden(books, client, accountant):
    lines = [
        {"description": "Item", "account": "4100", "amount": "0.05", "tax_rate": "10"},
        {"description": "Item", "account": "4100", "amount": "0.05", "tax_rate": "10"},
        {"description": "Item", "account": "4100", "amount": "0.05", "tax_rate": "10"},
    ]
    data = entry_data(books, "SV", lines=lines)
    totals = client.post(partial_url("totals", "SV"), data, headers=HX).content.decode()
    assert "differs from the sum of the line taxes by -0.01" in totals
    preview = client.post(partial_url("preview", "SV"), data, headers=HX).content.decode()
    assert "Tax rounding difference -0.01" in preview


# --- search as you type ----------------------------------------------------------------------


def search(client, kind, type_code, **params):
    response = client.get(partial_url(f"{kind}-search", type_code), params, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    return re.findall(r'data-code="([^"]+)"', html), html


def test_account_search_is_limited_to_the_fields_filter(books, client, accountant):
    codes, _ = search(client, "account", "PV", field="bank_account", section="header", q="")
    assert codes == ["1110", "1120", "1130"]  # bank and cash only; 1100 is a group
    codes, _ = search(client, "account", "PV", field="bank_account", section="header", q="sav")
    assert codes == ["1130"]
    codes, _ = search(client, "account", "SV", field="account", section="line", q="4")
    assert codes == ["4100", "4200", "4300"]


def test_account_search_never_shows_another_organizations_accounts(books, client, accountant):
    rival = Books(slug="rival")
    AccountFactory(organization=rival.organization, code="5999", name="Rival expense")
    codes, html = search(client, "account", "PV", field="account", section="line", q="5999")
    assert codes == []
    assert "No account matches" in html
    codes, _ = search(client, "account", "PV", field="account", section="line", q="Rival")
    assert codes == []


def test_account_search_returns_at_most_twenty(books, client, accountant):
    for n in range(30):
        AccountFactory(organization=books.organization, code=f"6{n:03d}", name=f"Cost {n}")
    codes, _ = search(client, "account", "JV", field="account", section="line", q="6")
    assert len(codes) == 20


def test_party_search_is_limited_to_the_fields_role(books, client, accountant):
    Party.objects.create(
        organization=books.organization,
        code="BOTH",
        name="Both ways",
        role=PartyRole.BOTH,
        control_account=Account.objects.get(organization=books.organization, code="1200"),
    )
    codes, _ = search(client, "party", "SV", field="party", section="header", q="")
    assert codes == ["BOTH", "EXAMPLE-CUSTOMER"]
    codes, _ = search(client, "party", "PV", field="party", section="header", q="exa")
    assert codes == ["EXAMPLE-SUPPLIER"]


def test_search_for_a_field_the_form_does_not_have_is_404(books, client, accountant):
    response = client.get(
        partial_url("account-search", "PV"), {"field": "nope", "q": "1"}, headers=HX
    )
    assert response.status_code == 404


def test_search_uses_the_filter_of_the_version_the_form_showed(books, client, accountant):
    config = config_for(books, "PV")
    definition = copy.deepcopy(config.definition)
    definition["header_fields"][1]["filter"] = {"subtypes": ["cash"]}
    definition["header_fields"][1]["default"] = "1110"
    config_update(config=config, definition=definition)
    old, _ = search(client, "account", "PV", field="bank_account", section="header", version=1)
    new, _ = search(client, "account", "PV", field="bank_account", section="header", version=2)
    assert (old, new) == (["1110", "1120", "1130"], ["1110"])


# --- partial endpoints and roles -------------------------------------------------------------


@pytest.mark.parametrize("name", ["add-line", "remove-line", "totals", "validate", "preview"])
def test_partials_refuse_a_viewer(name, books, client):
    seed(books)
    client.force_login(books.member(Role.VIEWER))
    data = {**entry_data(books, "PV"), "action": "remove_line-0", "changed": "reference"}
    assert client.post(partial_url(name, "PV"), data, headers=HX).status_code == 403


@pytest.mark.parametrize("name", ["add-line", "remove-line", "totals", "validate", "preview"])
def test_partials_only_take_posts(name, books, client, accountant):
    assert client.get(partial_url(name, "PV"), headers=HX).status_code == 405


def test_a_partial_for_a_type_without_configuration_is_404(books, client, accountant):
    response = client.post(partial_url("totals", "ZZ"), {"config_version": "1"}, headers=HX)
    assert response.status_code == 404


def test_anonymous_user_is_sent_to_login(books, client):
    seed(books)
    response = client.get(new_url("PV"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
