"""Every rule the ledger can refuse with, by its name: what the refusal means and what to do.

A refusal names its rule (`Problem.rule`, `EntryRefused.rule`, `ImportProblem.rule`); this
registry says in plain words what each one means and how the user gets past it. The
troubleshooting FAQ of the user manual is generated from it (`manage.py refusals_faq`), support
quotes it, and a test scans the code for every rule it can raise and checks the registry holds
each one and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """One rule the ledger refuses with, as a user and support should read it."""

    rule: str
    title: str  # a short heading: what the user saw go wrong
    meaning: str  # why the ledger refuses it
    remedy: str  # what to do
    where: str  # where the refusal can appear: entry, posting, approval, reversal, import


ENTRY = "entering, saving or posting a voucher"
POSTING = "posting a voucher"
APPROVAL = "submitting or approving a voucher"
REVERSAL = "reversing a voucher"
IMPORT = "importing vouchers from a file"


def _refusals(*items: Refusal) -> dict[str, Refusal]:
    registry: dict[str, Refusal] = {}
    for item in items:
        if item.rule in registry:
            raise ValueError(f"rule {item.rule!r} is registered twice")
        registry[item.rule] = item
    return registry


REFUSALS: dict[str, Refusal] = _refusals(
    # Amounts (accounting/services/checks.py amount_problems)
    Refusal(
        "number",
        "An amount is not a number",
        "The ledger keeps exact decimal amounts; a value that is not a finite number "
        "(for example 'NaN' or 'Infinity') cannot be posted.",
        "Type the amount in digits, such as 1234.50 or 1,234.50, without letters or symbols.",
        ENTRY,
    ),
    Refusal(
        "positive",
        "An amount is negative",
        "Each line carries a positive amount on one side, debit or credit; the side says which "
        "way the money goes, never the sign.",
        "Enter the amount without a minus sign and put it on the other side (or swap the "
        "accounts) if the line should go the other way.",
        ENTRY,
    ),
    Refusal(
        "too_large",
        "An amount is larger than the ledger can keep",
        "The largest amount kept exactly is 9,999,999,999,999.99.",
        "Check the amount for extra digits; split a genuinely larger amount over several vouchers.",
        ENTRY,
    ),
    Refusal(
        "two_places",
        "An amount has more than two decimal places",
        "The ledger keeps amounts to the cent; a third decimal would be rounded away silently, "
        "so it is refused instead.",
        "Round the amount to two decimal places yourself, and put any rounding difference on a "
        "line of its own.",
        ENTRY,
    ),
    Refusal(
        "one_side",
        "A line has both a debit and a credit",
        "A line records money going one way; a debit and a credit on the same line cancel out "
        "and hide what happened.",
        "Keep one amount on the line and enter the other as a line of its own.",
        ENTRY,
    ),
    Refusal(
        "no_amount",
        "A line has no amount",
        "A line without a debit or a credit changes nothing; a draft may keep it, but a posted "
        "voucher may not.",
        "Enter the line's amount, or remove the line (Ctrl+Delete) before posting.",
        POSTING,
    ),
    # Accounts (account_problems, draft_line_problems)
    Refusal(
        "account_required",
        "A line has no account",
        "Every line is posted to an account; a line without one cannot be saved.",
        "Type the account's code or part of its name in the line's Account field and take one "
        "of the matches, or remove the line.",
        ENTRY,
    ),
    Refusal(
        "account_missing",
        "The account no longer exists",
        "The line names an account that is not in the chart of accounts (it was removed, or the "
        "page is older than the change).",
        "Reload the page and choose the account again; ask an administrator if it should exist.",
        ENTRY,
    ),
    Refusal(
        "account_organization",
        "The account belongs to another organization",
        "A voucher posts only to accounts of its own organization's chart.",
        "Check which organization is active (top of the page) and choose an account of that "
        "organization's chart.",
        ENTRY,
    ),
    Refusal(
        "account_inactive",
        "The account is inactive",
        "An administrator has closed the account to new postings; reports still show it.",
        "Choose the account that replaced it, or ask an administrator to reactivate it.",
        POSTING,
    ),
    Refusal(
        "account_group",
        "The account is a group account",
        "Group accounts add up their sub-accounts and take no postings of their own.",
        "Choose one of the group's sub-accounts (the account search lists only postable accounts).",
        POSTING,
    ),
    # The voucher as a whole (line_problems, period_problems)
    Refusal(
        "min_lines",
        "The voucher has fewer than two lines",
        "Double entry needs at least one debit and one credit.",
        "Add the missing line; on payment, receipt and contra vouchers the bank or cash line is "
        "made for you from the header's account, so choose that account.",
        POSTING,
    ),
    Refusal(
        "balanced",
        "The voucher is not balanced",
        "The debits and the credits of a voucher must be equal to the cent; the message gives "
        "both totals and the difference.",
        "Look at the totals below the lines: correct the amount that is off by the difference, "
        "or add the line that is missing. Preview shows the ledger lines before posting.",
        POSTING,
    ),
    Refusal(
        "fiscal_year",
        "The date is in no fiscal year",
        "Vouchers are numbered and reported per fiscal year; a date outside every fiscal year "
        "has nowhere to go.",
        "Check the date (year typed wrongly?); if it is right, ask an administrator to create "
        "the fiscal year (create_fiscal_year).",
        POSTING,
    ),
    Refusal(
        "closed_period",
        "The date is in a closed period",
        "The month has been closed so that its reported figures cannot change.",
        "Date the voucher in an open period, or ask an administrator to reopen the period "
        "(close_period --reopen) if the correction belongs there.",
        POSTING,
    ),
    Refusal(
        "type",
        "The voucher type belongs to another organization",
        "A voucher is entered with one of its own organization's voucher types.",
        "Open the entry screen again from the menu of the active organization.",
        ENTRY,
    ),
    Refusal(
        "party_organization",
        "The party belongs to another organization",
        "Customers and suppliers are kept per organization.",
        "Choose the party from the matches offered, which are this organization's parties.",
        ENTRY,
    ),
    # Workflow (status_problems, approver_problems, entry_rules, drafts)
    Refusal(
        "status",
        "The voucher's status does not allow this",
        "Only a draft can be changed or posted, only a submitted voucher approved, only a "
        "posted one reversed; the message names the status the voucher is in. An inactive "
        "voucher type takes no new entries either.",
        "Open the voucher from the list to see its status: a posted voucher is corrected by "
        "reversing it, a submitted one waits for approval, a cancelled one is entered anew.",
        ENTRY,
    ),
    Refusal(
        "approval",
        "The voucher needs approval first",
        "Its voucher type requires a second person's approval before posting.",
        "Submit the voucher for approval (Ctrl+Enter); once another accountant approves it, it "
        "can be posted.",
        APPROVAL,
    ),
    Refusal(
        "four_eyes",
        "You cannot approve your own voucher",
        "Four eyes: the person who entered or last changed a voucher never approves it.",
        "Ask another accountant or administrator of the organization to approve it.",
        APPROVAL,
    ),
    Refusal(
        "approval_changed",
        "The voucher changed after it was approved",
        "An approval covers exactly what was approved; a change after it would post something "
        "nobody approved.",
        "Reload the voucher to see what was approved and post that, or send the changed voucher "
        "for approval again.",
        APPROVAL,
    ),
    Refusal(
        "submitted_once",
        "The voucher was already submitted",
        "A form sent twice (a double click, a resent page) submits the voucher once only.",
        "Nothing to do: open the voucher list to find it with its status.",
        APPROVAL,
    ),
    Refusal(
        "role",
        "Your role does not allow this",
        "Clerks enter and save drafts; accountants also post, approve and reverse; viewers "
        "only read. The message names the role that is needed.",
        "Save the voucher as a draft and ask an accountant to post it, or ask an administrator "
        "for the role you need.",
        ENTRY,
    ),
    Refusal(
        "organization",
        "You are not a member of this organization",
        "Every voucher belongs to one organization; only its members see or change it.",
        "Switch to the right organization (top of the page), or ask its administrator to add you.",
        ENTRY,
    ),
    # Reversal (posting.reversal_problems)
    Refusal(
        "reversal_of_reversal",
        "A reversal cannot be reversed",
        "Undoing a reversal with another reversal hides the history; the original stays reversed.",
        "Enter the voucher anew (Duplicate on the original copies it into a new draft).",
        REVERSAL,
    ),
    Refusal(
        "reversed_twice",
        "The voucher is already reversed",
        "A voucher is reversed once; the message names the reversal.",
        "Open the reversal named in the message; nothing more is needed.",
        REVERSAL,
    ),
    Refusal(
        "reversal_reason",
        "A reversal needs a reason",
        "The reason is written into the reversal's narration for auditors.",
        "Type the reason (for example 'Wrong supplier, re-entered as PV-2026-00042') and "
        "reverse again.",
        REVERSAL,
    ),
    # Imports (accounting/services/imports.py, import_files.py, import_references.py)
    Refusal(
        "import_format",
        "The file cannot be read",
        "The file is not JSON or CSV in the documented layout (wrong columns, a row of the "
        "wrong length, unknown fields, nesting too deep); nothing was imported.",
        "Compare the file with the import formats page; the message names the row or voucher.",
        IMPORT,
    ),
    Refusal(
        "import_value",
        "A value in the file is not understood",
        "A code, date, amount or text in the file is not one the organization knows (an "
        "unknown voucher type, account or party, an impossible date, text too long).",
        "Correct the value at the row named in the message; codes are those of the chart of "
        "accounts and the party list.",
        IMPORT,
    ),
    Refusal(
        "import_empty",
        "The file contains no vouchers",
        "An empty file imports nothing, so it is refused rather than reported as a success.",
        "Check that the right file was chosen and that it has rows under the header.",
        IMPORT,
    ),
    Refusal(
        "import_membership",
        "The importing user is not a member",
        "An import is made in a member's name, whose role decides what it may do.",
        "Run the import as a member of the organization (--user), or have one added.",
        IMPORT,
    ),
    Refusal(
        "duplicate_reference",
        "The reference is already used",
        "A voucher with the same type and reference exists (or comes earlier in the file); a "
        "file imported twice is refused the second time.",
        "Remove the vouchers already imported from the file, or import with "
        "--allow-duplicate-references if the repeat is intended.",
        IMPORT,
    ),
)


def refusal_for(rule: str) -> Refusal | None:
    """What the rule means and what to do, or None for a rule that has no entry."""
    return REFUSALS.get(rule)
