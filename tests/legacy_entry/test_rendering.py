"""The legacy forms' renderer draws every input, select and textarea exactly as Django's templates."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from legacy_entry.forms import VOUCHER_FORMS
from legacy_entry.rendering import LEGACY_RENDERER
from legacy_entry.screen_forms import LegacyForms
from tests.factories import PartyFactory

TEMPLATES = DjangoTemplates()


def fields_of(screen: LegacyForms) -> list[forms.BoundField]:
    bound = list(screen.header)
    for form in [*screen.lines.forms, screen.lines.management_form]:
        bound += list(form)
    return bound


def assert_drawn_alike(screen: LegacyForms) -> int:
    drawn = 0
    for field in fields_of(screen):
        widget = field.field.widget
        context = widget.get_context(field.html_name, field.value(), field.build_widget_attrs({}))
        ours = LEGACY_RENDERER.render(widget.template_name, context)
        assert ours == TEMPLATES.render(widget.template_name, context), field.html_name
        drawn += 1
    return drawn


@pytest.mark.parametrize("type_code", sorted(VOUCHER_FORMS))
def test_every_legacy_widget_is_drawn_as_djangos_templates_draw_it(books, type_code):
    PartyFactory(organization=books.organization, code="C<&>1", name="Quote \" and ' apostrophe")
    blank = LegacyForms(organization=books.organization, type_code=type_code)
    assert assert_drawn_alike(blank) > 5
    posted = {
        "date": "not a date",
        "reference": '<script>"x"</script>',
        "narration": "Two\nlines & <b>",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-account": "5200",
        "lines-0-amount": "12.50",
        "lines-0-debit": "1,000.00",
        "lines-0-description": "Rent 'May' & <more>",
        "lines-1-account": "no such account",
        "lines-1-amount": "-1",
    }
    bound = LegacyForms(organization=books.organization, type_code=type_code, data=posted)
    bound.is_valid()
    assert assert_drawn_alike(bound) > 5


def test_a_page_of_legacy_fields_renders_the_same_through_the_form(books):
    screen = LegacyForms(organization=books.organization, type_code="PV")
    ours = str(screen.header["bank_account"])
    screen.header.renderer = TEMPLATES
    assert ours == str(screen.header["bank_account"])
    assert 'value="1120" selected' in ours


def test_other_templates_and_safe_values_go_through_djangos_renderer():
    widget = forms.RadioSelect(choices=[("a", "A")])
    context = widget.get_context("pick", "a", {"id": "id_pick"})
    assert LEGACY_RENDERER.render(widget.template_name, context) == TEMPLATES.render(
        widget.template_name, context
    )
    text = forms.TextInput(attrs={"data-x": mark_safe("<b>")})
    context = text.get_context("t", mark_safe("&amp;"), None)
    assert LEGACY_RENDERER.render(text.template_name, context) == TEMPLATES.render(
        text.template_name, context
    )
