"""Hypothesis strategies for LINE webhook events, generated from the LINE SDK's webhook models (the code
LINE generates from its OpenAPI description, webhook.yml): every event type each discriminator names, with
required fields always and optional ones sometimes, then mutated the way a changed or hostile sender might
(a field dropped, a value of the wrong type, an unknown field)."""

from __future__ import annotations

import enum
from typing import Any

import linebot.v3.webhooks.models as models
from hypothesis import strategies as st
from pydantic.v1 import BaseModel

MAX_DEPTH = 5
_FREQUENT = {"message", "postback", "follow", "unfollow", "text", "image", "location", "sticker", "user"}

_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="กขคงจาิีุู่้ำเแโ 0123456789", max_size=80),
    st.from_regex(r"U[0-9a-f]{32}", fullmatch=True),
)
WRONG = st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2), st.just({})
)


def _mapping(model: type[BaseModel]) -> tuple[str, dict[str, str]] | None:
    name = model.__name__
    mapping = getattr(model, f"_{name}__discriminator_value_class_map", None)
    prop = getattr(model, f"_{name}__discriminator_property_name", None)
    return (prop, mapping) if mapping and prop else None


def for_model(model: type[BaseModel], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object as LINE would send for this model (or one of the types its discriminator names)."""
    found = _mapping(model)
    if found is not None:
        prop, mapping = found
        choices = sorted(mapping.items())
        # What residents send most, and what the handlers do most with, is drawn more often.
        choices += [item for item in choices if item[0] in _FREQUENT] * 4
        return st.sampled_from(choices).flatmap(
            lambda item: _fields(getattr(models, item[1]), depth).map(lambda value: {**value, prop: item[0]})
        )
    return _fields(model, depth)


def _for_type(kind: Any, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return for_model(kind, depth + 1) if depth < MAX_DEPTH else st.just({})
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return st.sampled_from([member.value for member in kind])
    if isinstance(kind, type) and (issubclass(kind, bool) or kind.__name__ == "StrictBool"):
        return st.booleans()
    if isinstance(kind, type) and issubclass(kind, int):
        return st.integers(min_value=0, max_value=2**53)
    if isinstance(kind, type) and issubclass(kind, float):
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    if isinstance(kind, type) and issubclass(kind, str):
        return _TEXT
    return st.one_of(_TEXT, st.integers(), st.booleans())


def _fields(model: type[BaseModel], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    fields = {f.alias: (f.required, f.shape, f.type_) for f in model.__fields__.values()}

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for alias, (required, shape, kind) in fields.items():
            if required or draw(st.booleans()):
                inner = _for_type(kind, depth)
                value[alias] = draw(st.lists(inner, max_size=3) if shape != 1 else inner)
        return value

    return build()


@st.composite
def mutated_event(draw: st.DrawFn) -> dict[str, Any]:
    """One event, usually valid by the spec, sometimes broken in one place."""
    event: dict[str, Any] = draw(for_model(models.Event))
    mutation = draw(st.sampled_from(["none", "none", "none", "drop", "wrong", "extra"]))
    keys = sorted(event)
    if mutation == "drop" and keys:
        event.pop(draw(st.sampled_from(keys)))
    elif mutation == "wrong" and keys:
        event[draw(st.sampled_from(keys))] = draw(WRONG)
    elif mutation == "extra":
        event[draw(st.text(min_size=1, max_size=8))] = draw(WRONG)
    return event
