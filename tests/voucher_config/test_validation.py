"""Bad definitions are refused with a path-precise message, and nothing is saved."""

import copy
import json

import pytest

from voucher_config.data_schema import data_schema
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import baseline_definitions, config_create, config_update
from voucher_config.validation import (
    MAX_DOCUMENT_BYTES,
    DefinitionInvalid,
    definition_errors,
    meta_validator,
)


def payment():
    return copy.deepcopy(baseline_definitions()["PV"])


def messages(definition, organization=None):
    return [str(e) for e in definition_errors(definition, organization=organization)]


def test_every_baseline_definition_is_valid_on_its_own():
    for code, definition in baseline_definitions().items():
        assert messages(definition) == [], code


def test_validator_is_built_once():
    assert meta_validator() is meta_validator()


def test_unknown_field_type_names_the_path_and_the_allowed_types():
    definition = payment()
    definition["line_fields"][2]["type"] = "amout"
    message, *consequences = messages(definition)
    assert message.startswith("line_fields[2].type: 'amout' is not one of ['text', 'textarea'")
    # The rules beyond the meta-schema run in the same round: the posting rule's amount field.
    assert consequences == [
        "posting.amount_field: 'amount' is of type amout; the counterpart rule needs a amount field"
    ]


def test_schema_and_semantic_errors_come_in_one_round_each_at_its_path(books):
    definition = payment()
    definition["header_fields"][4]["label"] = "<b>Cheque</b>"  # schema: not plain text
    del definition["line_fields"][1]["key"]  # schema: a field without a key
    definition["posting"]["counterpart_field"] = "bank"  # semantic: no such header field
    definition["layout"]["header_sections"][1]["fields"].append("nowhere")  # semantic
    definition["header_fields"][1]["default"] = "9999"  # the organization's chart has no 9999

    found = {
        e.path: e.message for e in definition_errors(definition, organization=books.organization)
    }

    assert "must be plain text" in found["header_fields[4].label"]
    assert "'key' is a required property" in found["line_fields[1]"]
    assert found["posting.counterpart_field"].startswith("'bank' is not one of the header fields")
    assert found["layout.header_sections[1].fields[2]"].startswith(
        "'nowhere' is not a header field"
    )
    assert found["header_fields[1].default"] == "account 9999 does not exist in Acme Ltd"


def test_wrong_json_type_is_refused():
    definition = payment()
    definition["lines"]["min"] = "one"
    assert messages(definition) == ["lines.min: 'one' is not of type 'integer'"]


def test_unknown_property_lists_what_is_allowed():
    definition = payment()
    definition["header_fields"][0]["colour"] = "red"
    [message] = messages(definition)
    assert message.startswith("header_fields[0]: Additional properties are not allowed ('colour'")
    assert "allowed: choices, default" in message


def test_duplicate_key_is_refused():
    definition = payment()
    definition["header_fields"].append(dict(definition["header_fields"][4]))
    assert messages(definition) == [
        "header_fields[7].key: 'cheque_number' repeats header_fields[4].key; keys must be unique"
    ]


def test_posting_rule_pointing_at_a_missing_field():
    definition = payment()
    definition["posting"]["counterpart_field"] = "bank"
    [message] = messages(definition)
    assert message.startswith("posting.counterpart_field: 'bank' is not one of the header fields")


def test_posting_rule_pointing_at_a_field_of_the_wrong_type():
    definition = payment()
    definition["posting"]["amount_field"] = "description"
    assert messages(definition) == [
        "posting.amount_field: 'description' is of type text; the counterpart rule needs a amount field"
    ]


def test_core_column_with_the_wrong_type_is_refused():
    definition = payment()
    definition["header_fields"][0]["type"] = "text"
    assert (
        "header_fields[0].type: 'date' is a voucher column and must be of type date"
        in (messages(definition)[0])
    )


def test_unknown_default_account_is_refused_in_the_organization(books):
    definition = payment()
    definition["header_fields"][1]["default"] = "9999"
    assert messages(definition, books.organization) == [
        "header_fields[1].default: account 9999 does not exist in Acme Ltd"
    ]


def test_default_account_outside_the_field_filter_is_refused(books):
    definition = payment()
    definition["header_fields"][1]["default"] = "5200"
    [message] = messages(definition, books.organization)
    assert message.startswith("header_fields[1].default: account 5200 (expense, subtype '')")


def test_group_account_as_default_is_refused(books):
    definition = payment()
    definition["header_fields"][1]["default"] = "1100"
    assert "is inactive or a group" in messages(definition, books.organization)[0]


def test_oversized_document_is_refused():
    definition = payment()
    definition["description"] = "x" * 400
    definition["examples"] = [copy.deepcopy(definition["examples"][0]) for _ in range(10)]
    for example in definition["examples"]:
        example["lines"] = [{"account": "5200", "amount": "1.00", "description": "y" * 200}] * 50
    [message] = messages(definition)
    assert message.startswith("(document): is ")
    assert f"at most {MAX_DOCUMENT_BYTES:,}" in message


def test_too_many_fields_is_refused():
    definition = payment()
    definition["line_fields"] = [
        {"key": f"f{i}", "label": f"F{i}", "type": "text"} for i in range(21)
    ]
    assert messages(definition)[0].startswith("line_fields: [")
    assert "is too long" in messages(definition)[0]


def test_html_in_a_label_is_refused_as_not_plain_text():
    definition = payment()
    definition["header_fields"][2]["label"] = "<script>alert(1)</script>Payee"
    assert messages(definition) == [
        "header_fields[2].label: '<script>alert(1)</script>Payee' must be plain text: "
        "'<' and '>' (HTML) are not allowed"
    ]


def test_choice_default_must_be_one_of_the_choices():
    definition = copy.deepcopy(baseline_definitions()["RV"])
    definition["header_fields"][4]["default"] = "bitcoin"
    assert messages(definition) == [
        "header_fields[4].default: 'bitcoin' is not one of the field's choices"
    ]


def test_layout_must_name_existing_fields():
    definition = payment()
    definition["layout"]["line_columns"][0]["field"] = "acount"
    assert messages(definition)[0].startswith(
        "layout.line_columns[0].field: 'acount' is not a line field"
    )


def test_amount_mode_must_fit_the_rule():
    definition = payment()
    definition["lines"]["amount_mode"] = "debit_credit"
    assert messages(definition) == [
        "lines.amount_mode: the counterpart rule needs amount_mode 'single', not 'debit_credit'"
    ]


def test_saving_a_bad_definition_saves_nothing(books):
    definition = payment()
    definition["line_fields"][2]["type"] = "amout"
    with pytest.raises(DefinitionInvalid) as refused:
        config_create(
            organization=books.organization, voucher_type=books.types["PV"], definition=definition
        )
    assert "line_fields[2].type" in str(refused.value)
    assert not VoucherTypeConfig.objects.exists()


def test_a_bad_update_keeps_the_previous_version(books):
    config = config_create(
        organization=books.organization, voucher_type=books.types["PV"], definition=payment()
    )
    bad = payment()
    bad["posting"]["rule"] = "magic"
    with pytest.raises(DefinitionInvalid, match=r"posting\.rule"):
        config_update(config=config, definition=bad)
    config.refresh_from_db()
    assert config.version == 1
    assert config.definition == payment()
    assert config.history.count() == 1


def test_data_schema_covers_the_non_core_header_fields():
    schema = data_schema(payment())
    assert sorted(schema["properties"]) == ["bank_account", "cheque_date", "cheque_number"]
    assert schema["required"] == ["bank_account"]
    assert json.dumps(schema)
