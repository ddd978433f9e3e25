"""A JSON boolean is ``true`` or ``false``, nothing else.

Litestar converts a JSON body to the handler's types with msgspec in its
lax mode (``strict=False``, which query strings need), and that mode reads
``"true"``, ``"false"``, ``"1"``, ``"0"``, ``1`` and ``0`` as booleans. The
API description says boolean; a client that sends ``"false"`` for a flag
most likely means something the server must not guess. Before the handler,
every place the body's type expects a boolean is checked against the JSON
as sent, and a loose value is refused with 400, named as the framework names
a refused field (``sections[0].items[1].evidence``).
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
import msgspec.inspect as mi
from litestar import Request

from portal.errors import DomainError
from portal.i18n import N_


class LooseBoolean(DomainError):
    # The framework's code for a body that does not fit its types.
    code = "invalid"
    message = N_("Some fields are missing or not valid.")


FIELD_MESSAGE = N_("Use true or false.")


@functools.cache
def _info(annotation: Any) -> mi.Type | None:
    """The body type as msgspec sees it, or None when it holds no boolean
    (nothing to check: the body is not decoded twice)."""
    try:
        info = mi.type_info(annotation)
    except (TypeError, ValueError):
        return None
    return info if _holds_bool(info, set()) else None


def _holds_bool(info: mi.Type, seen: set[type]) -> bool:
    if isinstance(info, mi.BoolType):
        return True
    if isinstance(info, mi.StructType):
        if info.cls in seen:
            return False
        seen.add(info.cls)
        return any(_holds_bool(field.type, seen) for field in info.fields)
    return any(_holds_bool(inner, seen) for inner in _inner(info))


def _inner(info: mi.Type) -> tuple[mi.Type, ...]:
    if isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        return (info.item_type,)
    if isinstance(info, mi.TupleType):
        return tuple(info.item_types)
    if isinstance(info, mi.DictType):
        return (info.value_type,)
    if isinstance(info, mi.UnionType):
        return tuple(info.types)
    if isinstance(info, mi.Metadata):
        return (info.type,)
    return ()


def loose_booleans(value: Any, info: mi.Type, path: str = "") -> list[str]:
    """The paths in ``value`` (decoded JSON) where ``info`` expects a
    boolean and something other than true, false or null was sent (null and
    wrong shapes are the framework's to refuse)."""
    if isinstance(info, mi.Metadata):
        return loose_booleans(value, info.type, path)
    if isinstance(info, mi.BoolType):
        return [] if value is None or isinstance(value, bool) else [path or "data"]
    if isinstance(info, mi.UnionType):
        members = [member for member in info.types if not isinstance(member, mi.NoneType)]
        # Only bool | None is unambiguous: a wider union decides by the value.
        return loose_booleans(value, members[0], path) if len(members) == 1 and value is not None else []
    if isinstance(info, mi.StructType) and isinstance(value, dict):
        found = []
        for field in info.fields:
            if field.encode_name in value:
                found += loose_booleans(value[field.encode_name], field.type, f"{path}.{field.encode_name}" if path else field.encode_name)
        return found
    if isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)) and isinstance(value, list):
        return [problem for index, item in enumerate(value) for problem in loose_booleans(item, info.item_type, f"{path}[{index}]")]
    if isinstance(info, mi.TupleType) and isinstance(value, list):
        return [
            problem
            for index, (item, kind) in enumerate(zip(value, info.item_types, strict=False))
            for problem in loose_booleans(item, kind, f"{path}[{index}]")
        ]
    if isinstance(info, mi.DictType) and isinstance(value, dict):
        return [
            problem
            for key, item in value.items()
            for problem in loose_booleans(item, info.value_type, f"{path}.{key}" if path else str(key))
        ]
    return []


async def refuse_loose_booleans(request: Request[Any, Any, Any]) -> None:
    if not request.headers.get("content-type", "").startswith("application/json"):
        return
    field = request.route_handler.parsed_data_field
    info = _info(field.annotation) if field is not None else None
    if info is None:
        return
    try:
        value = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        return  # the framework refuses it as it does any broken body
    problems = loose_booleans(value, info)
    if problems:
        raise LooseBoolean(fields=dict.fromkeys(problems, FIELD_MESSAGE))
