"""The rollout page of an organization's administrators: who gets which entry screen now and why,
and the audited changes — the organization's mode, its rollout groups, and (superusers) the global
default — each with a required reason and a confirmation showing who will change screen.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounting.models import Organization
from accounting.permissions import forbidden
from rollout.audience import (
    GlobalFlag,
    MemberScreen,
    Move,
    fallback_types,
    member_screens,
    organization_members,
    screen_moves,
)
from rollout.models import RolloutGroup, RolloutMode
from rollout.organization_state import (
    INHERITED,
    OrganizationState,
    organization_state_read,
)
from rollout.organization_switch import (
    MAX_PERCENT,
    REASON_MAX,
    organization_rollout_set,
    rollout_group_save,
    rollout_may_change,
)
from rollout.switch import RolloutRefused, rollout_describe, rollout_set

ORGANIZATION, GROUP, GLOBAL = "organization", "group", "global"


class ReasonField(forms.CharField):
    def __init__(self) -> None:
        super().__init__(
            max_length=REASON_MAX,
            help_text="Kept in the rollout's history with your name.",
            widget=forms.TextInput(attrs={"size": 60}),
        )


class OrganizationRolloutForm(forms.Form):
    mode = forms.ChoiceField(choices=RolloutMode.choices, widget=forms.RadioSelect)
    percent = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_value=MAX_PERCENT,
        decimal_places=1,
        help_text="For a percentage: the share of members, 0–99.9, sticky per user.",
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=RolloutGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For chosen groups: the groups whose members get the configuration screen.",
    )
    reason = ReasonField()

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "organization_%s")
        super().__init__(*args, **kwargs)  # ids unique on the page
        groups = cast("forms.ModelMultipleChoiceField", self.fields["groups"])
        groups.queryset = RolloutGroup.objects.filter(organization=organization)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        mode = cleaned.get("mode")
        if mode == RolloutMode.PERCENT and cleaned.get("percent") is None:
            self.add_error("percent", "Give the percentage of members, 0–99.9.")
        if mode == RolloutMode.GROUPS and not cleaned.get("groups"):
            self.add_error("groups", "Choose at least one group.")
        return cleaned

    def state(self) -> OrganizationState:
        """The state this form would set."""
        data = self.cleaned_data
        groups = tuple(
            (group.name, frozenset(group.members.values_list("pk", flat=True)))
            for group in sorted(data.get("groups") or [], key=lambda group: group.name)
        )
        mode = data["mode"]
        return OrganizationState(
            mode=mode,
            percent=data.get("percent") or Decimal(0)
            if mode == RolloutMode.PERCENT
            else Decimal(0),
            groups=groups if mode == RolloutMode.GROUPS else (),
        )


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        full_name = obj.get_full_name()
        return f"{obj.get_username()} ({full_name})" if full_name else obj.get_username()


class RolloutGroupForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="A new name makes a group; an existing one sets its members."
    )
    members = MemberChoiceField(
        queryset=get_user_model()._default_manager.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = ReasonField()

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "group_%s")
        super().__init__(*args, **kwargs)
        members = cast("forms.ModelMultipleChoiceField", self.fields["members"])
        members.queryset = (
            get_user_model()
            ._default_manager.filter(memberships__organization=organization)
            .order_by("username")
        )


class GlobalRolloutForm(forms.Form):
    OFF, EVERYONE, SELECTED = "off", "everyone", "selected"
    mode = forms.ChoiceField(
        choices=[
            (OFF, "Legacy screen for everyone (rollback)"),
            (SELECTED, "The flag's groups, users and staff, plus a sticky percentage"),
            (EVERYONE, "Configuration screen for everyone"),
        ],
        widget=forms.RadioSelect,
    )
    percent = forms.DecimalField(
        required=False, min_value=Decimal(0), max_value=MAX_PERCENT, decimal_places=1
    )
    reason = ReasonField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "global_%s")
        super().__init__(*args, **kwargs)

    def change(self) -> dict[str, Any]:
        """rollout_set's arguments for this form."""
        mode = self.cleaned_data["mode"]
        if mode == self.OFF:
            return {"everyone": False}
        if mode == self.EVERYONE:
            return {"everyone": True}
        return {"everyone": None, "percent": self.cleaned_data.get("percent") or Decimal(0)}


def _refusal(request: HttpRequest) -> HttpResponse | None:
    """Why the user may not use the page, or None: an administrator of the active organization
    or a superuser may."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.user.is_superuser:
        return None
    organization: Organization | None = getattr(request, "organization", None)
    if organization is None or not rollout_may_change(user=request.user, organization=organization):
        return forbidden(
            request,
            "The rollout page is for the administrators of the organization."
            + (f" You are not an administrator of {organization}." if organization else ""),
        )
    return None


def _current_state(organization: Organization | None) -> OrganizationState:
    if organization is None:
        return INHERITED
    return organization_state_read(organization_id=organization.pk)


def _screens(
    members: list[Any], state: OrganizationState, global_flag: GlobalFlag
) -> list[MemberScreen]:
    return member_screens(members=members, state=state, global_flag=global_flag)


def _page(
    request: HttpRequest, *, forms_bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    organization: Organization | None = getattr(request, "organization", None)
    superuser = bool(request.user.is_superuser)
    global_flag = GlobalFlag.read()
    context: dict[str, Any] = {"organization": organization, "superuser": superuser}
    bound = forms_bound or {}
    if organization is not None:
        state = _current_state(organization)
        screens = _screens(organization_members(organization=organization), state, global_flag)
        context.update(
            state=state,
            mode_label=RolloutMode(state.mode).label,
            screens=screens,
            on_config=sum(1 for row in screens if row.on_config),
            on_legacy=sum(1 for row in screens if not row.on_config),
            fallbacks=fallback_types(organization=organization),
            rollout_groups=RolloutGroup.objects.filter(organization=organization).prefetch_related(
                "members"
            ),
            organization_form=bound.get(ORGANIZATION)
            or OrganizationRolloutForm(
                organization=organization,
                initial={
                    "mode": state.mode,
                    "percent": state.percent if state.mode == RolloutMode.PERCENT else None,
                    "groups": RolloutGroup.objects.filter(
                        organization=organization, name__in=[name for name, _ in state.groups]
                    ),
                },
            ),
            group_form=bound.get(GROUP) or RolloutGroupForm(organization=organization),
        )
    if superuser:
        context.update(
            global_description=rollout_describe() if global_flag.flag else "missing",
            global_form=bound.get(GLOBAL) or GlobalRolloutForm(),
        )
    return render(request, "rollout/settings.html", context, status=status)


def _preview(request: HttpRequest, action: str, form: forms.Form) -> tuple[list[str], Move | None]:
    """What the change will do: the values before and after, and who will change screen."""
    organization: Organization | None = getattr(request, "organization", None)
    global_flag = GlobalFlag.read()
    state = _current_state(organization)
    members = organization_members(organization=organization) if organization else []
    before = _screens(members, state, global_flag)
    lines: list[str] = []
    if isinstance(form, OrganizationRolloutForm):
        after_state = form.state()
        lines.append(f"{organization}: {_describe(state)} → {_describe(after_state)}")
        after = _screens(members, after_state, global_flag)
    elif isinstance(form, RolloutGroupForm):
        name = form.cleaned_data["name"].strip()
        new_members = frozenset(user.pk for user in form.cleaned_data["members"])
        group = RolloutGroup.objects.filter(organization=organization, name=name).first()
        old = sorted(group.members.values_list("username", flat=True)) if group else None
        new = sorted(user.get_username() for user in form.cleaned_data["members"])
        lines.append(
            f"Group {name}: "
            + ("new group" if old is None else ", ".join(old) or "no members")
            + " → "
            + (", ".join(new) or "no members")
        )
        after_state = OrganizationState(
            mode=state.mode,
            percent=state.percent,
            groups=tuple(
                (group_name, new_members if group_name == name else group_members)
                for group_name, group_members in state.groups
            ),
        )
        after = _screens(members, after_state, global_flag)
    else:
        assert isinstance(form, GlobalRolloutForm)
        change = form.change()
        flag = copy.copy(global_flag.flag)
        if flag is not None:
            flag.everyone = change["everyone"]
            if "percent" in change:
                flag.percent = change["percent"] or None
        lines.append(
            f"Global default (every organization that follows it): {rollout_describe()} → "
            + dict(form.fields["mode"].choices)[form.cleaned_data["mode"]]  # type: ignore[attr-defined]
            + (f", {change['percent']}%" if change.get("percent") else "")
        )
        after = _screens(members, state, GlobalFlag(flag, global_flag.user_ids, global_flag.groups))
    return lines, (screen_moves(before, after) if organization is not None else None)


def _describe(state: OrganizationState) -> str:
    label = str(RolloutMode(state.mode).label)
    if state.mode == RolloutMode.PERCENT:
        return f"{label} ({state.percent}%)"
    if state.mode == RolloutMode.GROUPS:
        return f"{label} ({', '.join(name for name, _ in state.groups)})"
    return label


def _apply(request: HttpRequest, form: forms.Form) -> str:
    organization = cast(Organization, getattr(request, "organization", None))
    data = form.cleaned_data
    if isinstance(form, OrganizationRolloutForm):
        organization_rollout_set(
            organization=organization,
            acting_user=request.user,
            mode=data["mode"],
            percent=data.get("percent"),
            groups=list(data.get("groups") or []),
            reason=data["reason"],
        )
        return f"{organization}: {_describe(_current_state(organization))}."
    if isinstance(form, RolloutGroupForm):
        group = rollout_group_save(
            organization=organization,
            acting_user=request.user,
            name=data["name"],
            members=list(data["members"]),
            reason=data["reason"],
        )
        return f"Group {group.name} saved with {group.members.count()} member(s)."
    assert isinstance(form, GlobalRolloutForm)
    described = rollout_set(
        acting_user=request.user,
        operator=request.user.get_username(),
        reason=data["reason"],
        **form.change(),
    )
    return f"Global default: {described}."


@require_http_methods(["GET", "POST"])
def rollout_settings(request: HttpRequest) -> HttpResponse:
    """Who gets which entry screen in the active organization; the changes, confirmed first."""
    refused = _refusal(request)
    if refused is not None:
        return refused
    if request.method == "GET":
        return _page(request)
    organization: Organization | None = getattr(request, "organization", None)
    action = request.POST.get("action", "")
    form: forms.Form
    if action == ORGANIZATION and organization is not None:
        form = OrganizationRolloutForm(request.POST, organization=organization)
    elif action == GROUP and organization is not None:
        form = RolloutGroupForm(request.POST, organization=organization)
    elif action == GLOBAL and request.user.is_superuser:
        form = GlobalRolloutForm(request.POST)
    else:
        return forbidden(request, f"No rollout change '{action}' for you on this page.")
    if not form.is_valid():
        return _page(request, forms_bound={action: form}, status=400)
    if request.POST.get("confirm") != "1":
        lines, move = _preview(request, action, form)
        hidden = [
            (name, value)
            for name, values in request.POST.lists()
            if name not in ("csrfmiddlewaretoken", "confirm")
            for value in values
        ]
        return render(
            request,
            "rollout/settings_confirm.html",
            {"lines": lines, "move": move, "hidden": hidden, "reason": form.cleaned_data["reason"]},
        )
    try:
        done = _apply(request, form)
    except (ValueError, RolloutRefused) as exc:
        form.add_error(None, str(exc))
        return _page(request, forms_bound={action: form}, status=400)
    messages.success(request, f"Rollout changed. {done}")
    return redirect("rollout-settings")
