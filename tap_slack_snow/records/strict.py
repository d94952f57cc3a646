"""A stricter copy of a stream's schema: the one check a tidy record needs.

The drift policy (:mod:`.drift`) looks at a record in two ways: a walk of its declared objects
(fields the schema does not declare, ``[]`` sent for an empty map) and a schema validation.
A record :class:`StrictSchema` accepts needs neither the walk nor a repair: every value fits
the schema, every declared object holds only declared fields (or fields this run already
noted), and each map is an object or ``[]`` (which the policy then makes ``{}``). One
validation in Rust instead of a walk in Python and a validation; anything else takes the
policy's full path, which notes the new fields so the next record with them fits here too.
"""

from __future__ import annotations

import copy
import threading
import typing as t

import jsonschema_rs

#: Times a stream's strict schema is compiled again with newly noted fields; past this (a
#: source that keys objects by data), records with new fields take the full path.
MAX_RECOMPILES = 32

#: An object of the schema, by the property names leading to it from the record.
Path = tuple[str, ...]


class ObjectNode(t.NamedTuple):
    """A declared object of the schema: where it is, its properties, its map children."""

    path: Path
    names: frozenset[str]
    #: Children keyed by data (``profile.fields``): Slack sends ``[]`` when there are none.
    maps: tuple[str, ...]


def object_nodes(schema: dict[str, t.Any], path: Path = ()) -> list[ObjectNode]:
    """Every object with declared properties, parents before children."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    maps = tuple(
        name
        for name, child in properties.items()
        if isinstance(child, dict)
        and isinstance(child.get("additionalProperties"), dict)
        and "properties" not in child
    )
    nodes = [ObjectNode(path, frozenset(properties), maps)]
    for name, child in properties.items():
        if isinstance(child, dict):
            nodes += object_nodes(child, (*path, name))
    return nodes


class StrictSchema:
    """The strict copy of one stream's schema (see the module docstring)."""

    def __init__(self, schema: dict[str, t.Any], nodes: t.Iterable[ObjectNode]) -> None:
        """``nodes``: the schema's declared objects (:func:`object_nodes`), which the drift
        policy walks."""
        self.schema = schema
        nodes = tuple(nodes)
        self.objects = tuple(node.path for node in nodes)
        #: Each map's path: Slack sends ``[]`` for an empty one.
        self.maps = tuple((*node.path, name) for node in nodes for name in node.maps)
        self.noted: dict[Path, set[str]] = {}
        self._emptied: set[Path] = set()
        self.recompiles = 0
        self._stale = False
        self._lock = threading.Lock()
        self.validator = self._compile()

    def fits(self, record: dict[str, t.Any]) -> bool:
        """Whether ``record`` needs nothing but its ``[]`` maps made ``{}``."""
        if self._stale:
            self._recompile()
        return self.validator.is_valid(record)

    def empty_maps(self, record: dict[str, t.Any]) -> list[Path]:
        """Make each ``[]`` map of ``record`` ``{}``; the maps made so for the first time
        in this run (for the policy's once-per-field warning)."""
        first: list[Path] = []
        for path in self.maps:
            holder: t.Any = record
            for name in path[:-1]:
                holder = holder.get(name)
                if not isinstance(holder, dict):
                    break
            else:
                if holder.get(path[-1]) == []:
                    holder[path[-1]] = {}
                    if path not in self._emptied:
                        self._emptied.add(path)
                        first.append(path)
        return first

    def note(self, path: Path, name: str) -> None:
        """``name``, undeclared in the object at ``path``, was seen (and logged): records
        holding it may take the quick check too (compiled again at the next record)."""
        with self._lock:
            if self.recompiles < MAX_RECOMPILES:
                self.noted.setdefault(path, set()).add(name)
                self._stale = True

    def _recompile(self) -> None:
        with self._lock:
            if self._stale:
                self.recompiles += 1
                self.validator = self._compile()
                self._stale = False

    def _compile(self) -> jsonschema_rs.Validator:
        strict = copy.deepcopy(self.schema)
        for path in self.objects:
            node = _node(strict, path)
            # a noted field is held to what the object says of undeclared fields
            undeclared = node.get("additionalProperties", True)
            for name in sorted(self.noted.get(path, ())):
                node["properties"].setdefault(name, True if undeclared is True else undeclared)
            node["additionalProperties"] = False
            node.pop("patternProperties", None)  # names they match are undeclared too
        for path in self.maps:
            node = _node(strict, path)
            declared = node.get("type")
            if declared is not None:  # no type: anything fits, ``[]`` too
                types = [declared] if isinstance(declared, str) else list(declared)
                node["type"] = [*types, "array"] if "array" not in types else types
                node["maxItems"] = 0
        return jsonschema_rs.validator_for(strict, validate_formats=True)


def _node(schema: dict[str, t.Any], path: Path) -> dict[str, t.Any]:
    node = schema
    for name in path:
        node = node["properties"][name]
    return node
