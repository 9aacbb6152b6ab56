"""Beat mode: one ECG token per detected beat, its time as text (processor, model, training step, generation)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from anyecg.io.record import ECGRecord
from anyecg.model.anyecg_chat import AnyECGChatModel
from anyecg.model.beats import BeatEncoder, beat_prompt, load_beat_encoder
from anyecg.model.config import BeatsEncoderConfig, ModelConfig
from anyecg.signal.beats import BEAT_CLASSES, Beats
from anyecg.signal.preprocess import preprocess


def spiky_ecg(seconds: float, rr_s: float = 0.8, fs: int = 360) -> ECGRecord:
    """QRS-like spikes every `rr_s` seconds on two leads (enough for the QRS detector)."""
    t = np.arange(int(seconds * fs)) / fs
    beats = np.arange(0.3, seconds, rr_s)
    qrs = sum(np.exp(-((t - b) ** 2) / (2 * 0.012**2)) for b in beats)
    twave = sum(0.25 * np.exp(-((t - b - 0.25) ** 2) / (2 * 0.05**2)) for b in beats)
    noise = 0.01 * np.random.default_rng(0).normal(size=t.size)
    sig = np.stack([qrs + twave + noise, 0.6 * qrs - 0.2 * twave + noise])
    return ECGRecord(sig.astype(np.float32), float(fs), ("II", "V1"))


@pytest.fixture(scope="module")
def model() -> AnyECGChatModel:
    cfg = ModelConfig(llm="tiny", encoder=BeatsEncoderConfig())
    return AnyECGChatModel.from_config(cfg)


def test_beat_mode_slots_are_detected_beats(model: AnyECGChatModel) -> None:
    assert isinstance(model.ecg_encoder, BeatEncoder) and model.connector[0].in_features == model.ecg_encoder.dim
    ecgs = [preprocess(spiky_ecg(10)), preprocess(spiky_ecg(24, rr_s=0.6))]
    conv = [[{"role": "user", "content": "<ecg>Locate the PVC."}, {"role": "assistant", "content": "Duration: 1.0s-2.6s"}],
            [{"role": "user", "content": "<ecg>Report."}, {"role": "assistant", "content": "Report: Sinus rhythm"}]]
    proc = model.processor()
    prepared = [proc.prepare(e) for e in ecgs]
    blocks, slots = [p.text for p in prepared], [p.slots for p in prepared]
    assert proc.kind.collate(prepared)["beats_per_ecg"] == slots and 11 <= slots[0] <= 13 and 38 <= slots[1] <= 41
    assert blocks[0].count("s <ECG_pad>") == slots[0] and blocks[0].startswith("<ECG_start>0.3s <ECG_pad> 1.1s")
    batch = proc([conv[0], conv[1]], [[ecgs[0]], [ecgs[1]]])
    assert int((batch["input_ids"] == model.tokens.pad_id).sum()) == sum(slots)
    assert batch["beat_windows"].shape[0] == sum(slots)
    out = model(**batch)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    assert model.connector[0].weight.grad is not None


def test_beat_mode_generation_and_no_beats(model: AnyECGChatModel) -> None:
    flat = ECGRecord(np.zeros((2, 3600), np.float32), 360.0, ("II", "V1"))
    proc = model.processor()
    batch = proc([[{"role": "user", "content": "<ecg>Rhythm?"}]] * 2,
                 [[preprocess(spiky_ecg(10))], [preprocess(flat)]], add_generation_prompt=True, padding_side="left")
    assert batch["beats_per_ecg"][1] == 0
    new = model.generate(batch, max_new_tokens=4)
    assert new.shape[0] == 2


def test_beat_hints_write_the_head_class_of_each_beat() -> None:
    """With hints the prompt carries the packaged head's class per beat, one per slot, in beat order."""
    cfg = ModelConfig(llm="tiny", encoder=BeatsEncoderConfig(hints=True))
    proc = AnyECGChatModel.from_config(cfg).processor()
    ecg = preprocess(spiky_ecg(10))
    prepared = [proc.prepare(ecg), proc.prepare(ecg)]
    blocks, slots, tensors = [p.text for p in prepared], [p.slots for p in prepared], proc.kind.collate(prepared)
    classes = load_beat_encoder().predict(Beats(np.zeros(slots[0]), 100.0, tensors["beat_windows"][:slots[0]].numpy(),
                                                tensors["beat_rr"][:slots[0]].numpy()))
    labels = re.findall(r"s ([A-Z]) <ECG_pad>", blocks[0])
    assert labels == [BEAT_CLASSES[c] for c in classes] and len(labels) == slots[0] and blocks[0] == blocks[1]
    with pytest.raises(ValueError, match="labels"):
        beat_prompt([0.3, 1.1], "<ECG_pad>", ["N"])


def test_what_the_beat_kind_computes_is_computed_once_and_shared() -> None:
    """One prepared ECG: beats detected once, classes computed once (hints, prescreen and a later question read
    them), by the model's own encoder when the processor shares it."""
    model = AnyECGChatModel.from_config(ModelConfig(llm="tiny", encoder=BeatsEncoderConfig(hints=True))).eval()
    proc = model.processor(share_encoder=True)
    assert proc.kind.classifier is model.ecg_encoder
    calls = []
    predict = model.ecg_encoder.predict
    model.ecg_encoder.predict = lambda beats: calls.append(len(beats)) or predict(beats)
    prepared = proc.prepare(preprocess(spiky_ecg(10)))
    assert len(calls) == 1 and prepared.slots == calls[0]
    assert proc.kind.beat_classes(prepared) == set(prepared.classes)
    batch = proc([[{"role": "user", "content": "<ecg>Rhythm?"}]], [[prepared]], add_generation_prompt=True)
    assert int((batch["input_ids"] == model.tokens.pad_id).sum()) == prepared.slots
    assert len(calls) == 1  # neither the prescreen's classes nor the processor ran the head again


def test_an_extra_text_block_per_ecg_leaves_the_kind_alone(model: AnyECGChatModel) -> None:
    from anyecg.model.processor import ECGChatProcessor

    ecg = preprocess(spiky_ecg(10))
    plain = model.processor().prepare(ecg)
    proc = ECGChatProcessor(model.tokenizer, model.cfg, model.tokens,
                            text_blocks=[lambda e: f"\nFindings: {e.duration_s:.0f} s of ECG."])
    extra = proc.prepare(ecg)
    assert extra.text == plain.text + "\nFindings: 10 s of ECG." and extra.slots == plain.slots
    batch = proc([[{"role": "user", "content": "<ecg>Rhythm?"}]], [[ecg]])
    assert int((batch["input_ids"] == model.tokens.pad_id).sum()) == plain.slots
