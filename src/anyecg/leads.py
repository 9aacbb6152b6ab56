"""Lead names: the 12 canonical slots and every alias we accept. One place for this fact."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
ANY = "*"  # lead-map key for every channel that fits no slot: `*=-` drops what does not map
# Vectorcardiogram (Frank) leads recorded beside the 12 standard ones (PTB Diagnostic): no slot, left out.
FRANK_LEADS = {"vx", "vy", "vz"}
# Names that read as an ECG channel (so `NAME=II` is a sensible hint); anything else is probably not an ECG.
_ECG_LIKE = re.compile(r"(ecg|ekg|lead|^ch(annel)?\s*\d+$|^[ivx]+$|^v\d+|^c[mc]?\d)", re.I)


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
        if raw == ANY and target != DROP:
            raise LeadError(f"--lead-map {ANY}={target}: only '{ANY}={DROP}' (drop what fits no lead) is allowed")
        if target != DROP:
            slot = canonical_lead(target)
            if slot is None:
                raise LeadError(f"--lead-map {raw}={target}: '{target}' is not a lead; use one of "
                                f"{', '.join(CANONICAL_LEADS)} or '{DROP}' to drop it")
            target = slot
        out[raw] = target
    return out


@dataclass(frozen=True)
class LeadAssignment:
    """slots[i]: the canonical slot of channel i (None: left out); notes: what was assumed or left out."""

    slots: list[str | None]
    notes: list[str]
    guessed: list[str] = field(default_factory=list)  # slots given to generic names ("ECG"): positions unknown


def assign_leads(names: Sequence[str], lead_map: Mapping[str, str] | None = None,
                 path: str | None = None) -> LeadAssignment:
    """Map raw channel names to canonical slots, saying what was assumed or left out.

    `lead_map` renames (`NAME=V2`) or drops (`NAME=-`); `*=-` drops every channel that fits no slot.
    Frank leads (vx, vy, vz) are left out; a second channel for a slot already taken is left out;
    generic names (`ECG`, `ECG1`) are assumed to be I (one) or II and V1 (two). Raises `LeadError`
    naming the file and the channels that fit no slot (with a hint that fits the name).
    """
    lead_map = dict(lead_map or {})
    drop_rest = lead_map.pop(ANY, None) == DROP
    generic = [n for n in names if _norm(n) in GENERIC_NAMES and n not in lead_map]
    generic_slots = _GENERIC_SLOTS.get(len(generic), ())
    slots: list[str | None] = []
    notes: list[str] = []
    guessed: list[str] = []
    n_generic = 0
    unknown: list[str] = []
    frank: list[str] = []
    for name in names:
        if name in lead_map:
            slots.append(None if lead_map[name] == DROP else lead_map[name])
        elif _norm(name) in GENERIC_NAMES and generic_slots:
            slot = generic_slots[n_generic]
            n_generic += 1
            notes.append(f"channel {name!r} assumed to be lead {slot} (its name does not say which lead)")
            slots.append(slot)
            guessed.append(slot)
        elif (slot := canonical_lead(name)) is not None:
            slots.append(slot)
        else:
            slots.append(None)
            if _norm(name) in FRANK_LEADS:
                frank.append(name)
            elif not drop_rest:
                unknown.append(name)
    if unknown:
        raise LeadError(_unknown_message(unknown, names), path)
    if frank:
        notes.append(f"Frank leads {', '.join(frank)} ignored (no slot among the 12 standard leads)")
    seen: dict[str, str] = {}
    for i, (name, slot) in enumerate(zip(names, slots, strict=True)):
        if slot is None:
            continue
        if slot in seen:
            notes.append(f"channels {seen[slot]!r} and {name!r} both map to {slot}: kept {seen[slot]!r}, "
                         f"left out {name!r} (choose with --lead-map '{seen[slot]}={DROP}')")
            slots[i] = None
        else:
            seen[slot] = name
    return LeadAssignment(slots, notes, guessed)


def _unknown_message(unknown: list[str], names: Sequence[str]) -> str:
    ecg_like = [u for u in unknown if _ECG_LIKE.search(_norm(u))]
    hint = f"drop channels that are not ECG leads with --drop-unknown (or --lead-map '{unknown[0]}={DROP}')"
    if ecg_like:
        hint += f"; name an ECG channel's lead with --lead-map '{ecg_like[0]}=II'"
    return (f"channel(s) {', '.join(repr(u) for u in unknown)} fit no ECG lead slot (channels: "
            f"{', '.join(names)}); accepted: {', '.join(CANONICAL_LEADS)} and aliases (MLII, D1, 'Lead II', "
            f"...); {hint}")
