"""Forms for the verbs that create something, derived from the verbs' specs, and turning a
submission back into a command."""

from __future__ import annotations

from core import commands as c
from core.errors import UserError
from core.ui import Field, FieldKind, Form

_FIELD_KINDS: dict[str, FieldKind] = {"long": "long", "date": "date", "choice": "select", "duration": "text"}


def field_for(key: c.Key, *, required: bool = False, initial: str = "", key_name: str | None = None) -> Field:
    """A form field for one of a verb's keys (``key_name`` overrides the field's key)."""
    return Field(
        key=key_name or key.name,
        label=key.question,
        kind=_FIELD_KINDS.get(key.kind, "text"),
        required=required,
        placeholder=key.placeholder,
        initial=initial,
        options=key.choices if key.kind == "choice" else (),
        max_length=key.max_length,
    )


def _build(spec: c.VerbSpec) -> Form:
    fields: list[Field] = []
    if spec.subject is not None and not spec.subject_words:
        fields.append(field_for(spec.subject, required=spec.subject_required, key_name="subject"))
    wanted = spec.form_keys or spec.key_names
    for name in wanted:
        key = spec.key(name)
        if key is not None:
            fields.append(field_for(key, required=spec.verb == "scheduled" and name == "when"))
    return Form(f"form:{spec.verb}", spec.form_title or spec.summary.rstrip("."), tuple(fields), spec.form_submit)


FORMS: dict[str, Form] = {verb: _build(spec) for verb, spec in c.SPECS.items() if spec.creates or verb == "settings"}


def form_for(verb: str) -> Form | None:
    return FORMS.get(verb)


def command_from_form(form_id: str, values: dict[str, str]) -> c.Command:
    """Builds the command a submitted form stands for; empty fields are left out."""
    kind, _, rest = form_id.partition(":")
    if kind != "form" or not rest:
        raise UserError("That form is no longer in use. Run the command again.")
    verb, _, arg = rest.partition(":")
    clean = {k: v.strip() for k, v in values.items() if v is not None and str(v).strip()}
    subject = clean.pop("subject", None) or (arg or None)
    if verb in c.SPECS and not c.SPECS[verb].subject:
        subject = None
    if verb in FORMS and not clean and not subject:
        raise UserError("The form was empty, so nothing was saved.")
    return c.build(verb, subject, clean)
