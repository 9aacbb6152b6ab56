"""Lead names: the 12 canonical slots and every alias we accept. One place for this fact."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from anyecg.errors import LeadError

CANONICAL_LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
N_LEADS = len(CANONICAL_LEADS)
LEAD_INDEX: dict[str, int] = {name: i for i, name in enumerate(CANONICAL_LEADS)}

# Extra spellings, written in normalised form (see `_norm`). The canonical names themselves,
# "lead X", "X lead" and the Holter modified-lead prefixes M/C (MLII, MV1, CM5, CC5) are handled by rule.
_ALIASES: dict[str, str] = {
    "d1": "I", "d2": "II", "d3": "III", "di": "I", "dii": "II", "diii": "III",
    "1": "I", "2": "II", "3": "III",
    "ml2": "II", "ml1": "I", "ml3": "III", "mli": "I", "mlii": "II", "mliii": "III",
    "avr": "aVR", "avl": "aVL", "avf": "aVF", "-avr": "aVR",
    "cm5": "V5", "cc5": "V5", "cm1": "V1", "cm2": "V2", "cm3": "V3", "cm4": "V4", "cm6": "V6",
}
for _name in CANONICAL_LEADS:
    _ALIASES.setdefault(_name.lower(), _name)
for _i in range(1, 7):
    _ALIASES[f"mv{_i}"] = f"V{_i}"
    _ALIASES[f"c{_i}"] = f"V{_i}"

# Generic single-channel names: MIT-BIH ST and many home devices call their leads "ECG".
# Like the official anyECG-chat code: one such lead -> I, two -> II and V1.
GENERIC_NAMES = {"ecg", "ecg1", "ecg2", "ekg", "signal"}
_GENERIC_SLOTS = {1: ("I",), 2: ("II", "V1")}

DROP = "-"  # lead-map value that drops a channel on purpose


def _norm(name: str) -> str:
    s = name.strip().lower()
    s = re.sub(r"^(ecg|ekg)[\s_:.-]+(?=\S)", "", s) if s not in GENERIC_NAMES else s
    s = re.sub(r"^lead[\s_:.-]*", "", s)
    s = re.sub(r"[\s_:.-]*lead$", "", s)
    return s.replace(" ", "").replace("_", "")


def canonical_lead(name: str) -> str | None:
    """The canonical slot name for one lead name, or None when it fits no slot."""
    return _ALIASES.get(_norm(name))


def parse_lead_map(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """`"Resp=-,ECG A=II"` or a mapping → {raw name: canonical name or DROP}."""
    if spec is None:
        return {}
    items = spec.items() if isinstance(spec, Mapping) else (
        part.split("=", 1) if "=" in part else (part, "")
        for part in spec.split(",") if part.strip()
    )
    out: dict[str, str] = {}
    for raw, target in items:
        raw, target = raw.strip(), target.strip()
        if target != DROP:
            slot = canonical_lead(target)
            if slot is None:
                raise LeadError(f"--lead-map {raw}={target}: '{target}' is not a lead; use one of "
                                f"{', '.join(CANONICAL_LEADS)} or '{DROP}' to drop it")
            target = slot
        out[raw] = target
    return out


def map_leads(
    names: Sequence[str], lead_map: Mapping[str, str] | None = None, path: str | None = None
) -> list[str | None]:
    """Map raw channel names to canonical slots; None marks a channel the user dropped.

    Raises `LeadError` naming the file, the unknown lead and the accepted names, or the duplicate.
    """
    lead_map = dict(lead_map or {})
    generic = [n for n in names if _norm(n) in GENERIC_NAMES and n not in lead_map]
    generic_slots = _GENERIC_SLOTS.get(len(generic), ())
    out: list[str | None] = []
    unknown: list[str] = []
    n_generic = 0
    for name in names:
        if name in lead_map:
            out.append(None if lead_map[name] == DROP else lead_map[name])
        elif _norm(name) in GENERIC_NAMES and generic_slots:
            out.append(generic_slots[n_generic])
            n_generic += 1
        else:
            slot = canonical_lead(name)
            if slot is None:
                unknown.append(name)
            out.append(slot)
    if unknown:
        raise LeadError(
            f"lead name(s) {', '.join(repr(u) for u in unknown)} fit no ECG lead slot; accepted: "
            f"{', '.join(CANONICAL_LEADS)} and aliases (MLII, D1, 'Lead II', ...); "
            f"map or drop with --lead-map '{unknown[0]}=II' or '{unknown[0]}={DROP}'",
            path,
        )
    seen: dict[str, str] = {}
    for name, slot in zip(names, out, strict=True):
        if slot is None:
            continue
        if slot in seen:
            raise LeadError(f"leads {seen[slot]!r} and {name!r} both map to {slot}; "
                            f"drop one with --lead-map '{name}={DROP}'", path)
        seen[slot] = name
    return out


def generic_leads(names: Sequence[str], lead_map: Mapping[str, str] | None = None) -> list[str]:
    """The names `map_leads` places by the generic-name rule ("ECG", "ECG1", ...): their true positions are
    unknown (the user's lead map, when it names them, makes them known)."""
    lead_map = lead_map or {}
    generic = [n for n in names if _norm(n) in GENERIC_NAMES and n not in lead_map]
    return generic if len(generic) in _GENERIC_SLOTS else []


def unknown_leads(names: Sequence[str], lead_map: Mapping[str, str] | None = None) -> list[str]:
    """The names `map_leads` would reject as fitting no slot (readers drop them with drop_unknown)."""
    lead_map = lead_map or {}
    n_generic = sum(1 for n in names if _norm(n) in GENERIC_NAMES and n not in lead_map)
    return [n for n in names if n not in lead_map and canonical_lead(n) is None
            and not (_norm(n) in GENERIC_NAMES and n_generic in _GENERIC_SLOTS)]
