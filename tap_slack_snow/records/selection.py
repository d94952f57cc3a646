"""The properties a catalog deselects, removed from records by their paths.

The SDK removes deselected properties with ``pop_deselected_record_properties``, which looks
every field of every record (and of each nested object) up in the stream's selection mask:
a fifth of the users stream's CPU, though a catalog usually deselects nothing. The deselected
paths are few and fixed once the catalog is read, so the tap lists them once
(:func:`deselected_paths`) and removes just those from each record (:func:`drop_deselected`),
with the SDK's result: a property goes when the mask deselects it, with all it holds; a
nested property goes from the object that holds it; fields the schema does not declare stay.
"""

from __future__ import annotations

import typing as t

#: A deselected property: the names from the record's top level down, e.g.
#: ``("profile", "email")``.
PropertyPath = tuple[str, ...]


def deselected_paths(mask: t.Mapping[tuple[str, ...], bool]) -> tuple[PropertyPath, ...]:
    """The properties ``mask`` deselects, outermost only (a deselected object goes whole).

    ``mask`` is the SDK's resolved selection mask (breadcrumb -> selected); only property
    breadcrumbs (``("properties", name, "properties", name, ...)``) name record fields, the
    only ones the SDK's walk of a record ever looks up.
    """
    paths = sorted(
        (
            breadcrumb[1::2]
            for breadcrumb, selected in mask.items()
            if not selected and _is_property(breadcrumb)
        ),
        key=len,
    )
    outermost: list[PropertyPath] = []
    for path in paths:
        if not any(path[: len(outer)] == outer for outer in outermost):
            outermost.append(path)
    return tuple(outermost)


def drop_deselected(record: dict[str, t.Any], paths: t.Iterable[PropertyPath]) -> None:
    """Remove ``paths`` from ``record`` in place (a path through a value that is not an
    object, or to a field the record lacks, removes nothing)."""
    for path in paths:
        node: t.Any = record
        for name in path[:-1]:
            node = node.get(name)
            if not isinstance(node, dict):
                break
        else:
            node.pop(path[-1], None)


def _is_property(breadcrumb: tuple[str, ...]) -> bool:
    """``("properties", a, "properties", b, ...)``: a (nested) property of the stream."""
    return (
        len(breadcrumb) >= 2  # ("properties", name) at least
        and len(breadcrumb) % 2 == 0
        and all(part == "properties" for part in breadcrumb[::2])
    )
