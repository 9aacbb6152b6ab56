"""The ECG-encoder interface: what every kind of encoder does for the processor and the model.

A kind turns one preprocessed ECG into a `PreparedECG` (`prepare`: the text its `<ecg>` becomes, its number of
embedding slots, its encoder inputs), joins prepared ECGs into batch tensors (`collate`), and runs its encoder over
a batch (`encode`: one embedding per slot, in slot order). What a kind computes for an ECG is computed once, in
`prepare`, and read from the `PreparedECG` by the processor, the prescreen and checks.

Text blocks: an ECG's text is `blocks` joined; the kind writes the first (start token, its text and slots, end
token). The processor appends one block per `TextBlock` it was given (`ECGChatProcessor(text_blocks=...)`), so an
extra input per ECG (e.g. a findings block from `anyecg.findings.ECGFindings`) is one more `TextBlock`, with no
change to any kind. Extra blocks hold text only (no slot tokens).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import torch
from torch import Tensor, nn

from anyecg.model.tokens import ECGTokens
from anyecg.signal.preprocess import ECGInput

TextBlock = Callable[[ECGInput], str]  # one more text block per ECG, after the kind's own


@dataclass(frozen=True)
class PreparedECG:
    """One ECG as a kind prepared it: `blocks` (text, joined in order), `slots` (`<ECG_pad>` tokens in the text:
    the encoder's outputs for it), `tensors` (its encoder inputs; the kind's `collate` joins them)."""

    input: ECGInput
    blocks: tuple[str, ...]
    slots: int
    tensors: Mapping[str, Tensor]

    @property
    def text(self) -> str:
        """What the ECG's `<ecg>` placeholder becomes."""
        return "".join(self.blocks)

    def with_block(self, block: str) -> PreparedECG:
        return dataclasses.replace(self, blocks=(*self.blocks, block))


class ECGKind(Protocol):
    """One kind of ECG encoder (`anyecg.model.kinds.KINDS`)."""

    name: ClassVar[str]
    batch_keys: ClassVar[tuple[str, ...]]  # the batch entries `collate` writes and `encode` reads
    asks_per_clip: ClassVar[bool]  # inference asks about a window longer than one 10 s clip clip by clip
    classifies_beats: ClassVar[bool]  # `beat_classes` answers (the prescreen can run)

    def build_encoder(self) -> nn.Module:
        """The encoder module (its `dim` is the width of its outputs)."""

    def prepare(self, ecg: ECGInput, tokens: ECGTokens) -> PreparedECG: ...

    def collate(self, prepared: Sequence[PreparedECG]) -> dict[str, Any]: ...

    def encode(self, encoder: nn.Module, batch: Mapping[str, Any], device: torch.device) -> Tensor:
        """Encoder outputs (Σ slots, dim) of a batch from `collate`, ECGs in order."""

    def beat_classes(self, prepared: PreparedECG) -> set[str] | None:
        """Beat classes (`anyecg.signal.beats.BEAT_CLASSES`) found in the ECG, for the prescreen; None when the
        kind does not classify beats."""
