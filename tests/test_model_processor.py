"""Processor: placeholder expansion, label mask (assistant + end-of-turn only), errors, padding, truncation."""

from __future__ import annotations

import pytest
import torch

from anyecg.errors import ModelError
from anyecg.model.config import ModelConfig, encoder_preset
from anyecg.model.processor import ECGChatProcessor
from anyecg.model.tokens import IGNORE_INDEX
from anyecg.testing.tiny import synthetic_ecg, tiny_tokenizer


@pytest.fixture(scope="module")
def proc():
    cfg = ModelConfig(encoder=encoder_preset("tiny", tokens="present_leads"), llm="tiny", max_length=400)
    return ECGChatProcessor(tiny_tokenizer(), cfg)


def conv(*turns):
    return [{"role": r, "content": c} for r, c in zip(["user", "assistant"] * 4, turns, strict=False)]


def test_labels_cover_only_assistant_text_and_end_of_turn(proc):
    tok = proc.tokenizer
    c = conv("<ecg>\nWrite the report.", "Sinus rhythm.", "And now?", "Normal ECG.")
    batch = proc([c], [[synthetic_ecg(10)]])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    kept = labels[labels != IGNORE_INDEX]
    assert torch.equal(kept, ids[labels != IGNORE_INDEX])
    assert tok.decode(kept) == "Sinus rhythm.<|im_end|>Normal ECG.<|im_end|>"
    assert proc.stop_token_ids == [tok.convert_tokens_to_ids("<|im_end|>")]


def test_each_placeholder_becomes_start_slots_end(proc):
    t = proc.tokens
    ecgs = [synthetic_ecg(10), synthetic_ecg(37, leads=[1, 6]), synthetic_ecg(12)]
    c = conv("<ecg> and <ecg>: compare.", "Yes.", "Third: <ecg>", "Ok.")
    ids = proc([c], [ecgs])["input_ids"][0].tolist()
    starts = [i for i, x in enumerate(ids) if x == t.start_id]
    ends = [i for i, x in enumerate(ids) if x == t.end_id]
    assert [e - s - 1 for s, e in zip(starts, ends, strict=True)] == [61, 41, 121]
    assert all(x == t.pad_id for s, e in zip(starts, ends, strict=True) for x in ids[s + 1:e])
    assert ids.count(t.pad_id) == 61 + 41 + 121


def test_missing_placeholder_prepends_ecgs_to_first_user_turn(proc):
    batch = proc([conv("What is this?", "A.")], [[synthetic_ecg(10), synthetic_ecg(10)]])
    text = proc.tokenizer.decode(batch["input_ids"][0])
    assert text.startswith("<|im_start|>user\n" + proc.tokens.start)
    assert batch["clips_per_ecg"] == [1, 1]


def test_placeholder_count_mismatch_names_both_counts(proc):
    with pytest.raises(ModelError, match="2 <ecg> placeholders but 1 ECGs"):
        proc([conv("<ecg> vs <ecg>", "A.")], [[synthetic_ecg(10)]])
    with pytest.raises(ModelError, match="only in user turns"):
        proc([conv("hi", "<ecg>")], [[]])


def test_ecg_tensors_and_padding_sides(proc):
    ecgs = [[synthetic_ecg(25)], [], [synthetic_ecg(10, leads=[0]), synthetic_ecg(5)]]
    convs = [conv("<ecg> report", "Sinus."), conv("hello", "hi"), conv("<ecg><ecg> compare", "Same.")]
    right = proc(convs, ecgs)
    left = proc(convs, ecgs, padding_side="left")
    assert right["ecg_clips"].shape == (5, 12, 1000) and right["clips_per_ecg"] == [3, 1, 1]
    assert right["lead_masks"].shape == (3, 12) and right["lead_masks"][1].sum() == 1
    for i in range(3):
        n = int(right["attention_mask"][i].sum())
        assert torch.equal(right["input_ids"][i, :n], left["input_ids"][i, -n:])
        assert torch.equal(right["labels"][i, :n], left["labels"][i, -n:])
        assert right["attention_mask"][i, :n].all() and left["attention_mask"][i, -n:].all()
    gen = proc([conv("<ecg> report")], [[synthetic_ecg(10)]], add_generation_prompt=True)
    assert (gen["labels"] == IGNORE_INDEX).all()
    assert proc.tokenizer.decode(gen["input_ids"][0]).endswith("<|im_start|>assistant\n")


def test_truncation_never_cuts_an_ecg_block(proc):
    long_answer = "Sinus rhythm. " * 80
    batch = proc([conv("<ecg> report", long_answer)], [[synthetic_ecg(10)]])
    assert batch["input_ids"].shape[1] == 400  # tail of the answer cut
    with pytest.raises(ModelError, match="split the ECG block"):
        proc([conv("<ecg> report", "Ok.")], [[synthetic_ecg(70)]])
    with pytest.raises(ModelError, match="more than max_length"):
        proc([conv("<ecg> report " + long_answer)], [[synthetic_ecg(10)]], add_generation_prompt=True)


def test_accepts_the_real_ecginput(proc):
    preprocess = pytest.importorskip("anyecg.signal.preprocess")
    ecg = synthetic_ecg(14, leads=[0, 1])
    real = preprocess.ECGInput(clips=ecg.clips, lead_mask=ecg.lead_mask, n_samples=1400)
    batch = proc([conv("<ecg> report", "Ok.")], [[real]])
    assert batch["clips_per_ecg"] == [2]
    assert int((batch["input_ids"] == proc.tokens.pad_id).sum()) == 1 + 5 * 2 * 2


def test_findings_block_and_comparison_follow_each_ecg():
    """`findings: true` writes each ECG's machine read after its tokens, and what changed after the last ECG."""
    from anyecg.io.record import ECGRecord
    from anyecg.signal.preprocess import preprocess
    from ecg_synth import synthetic_ecg as synthetic_record

    cfg = ModelConfig(encoder=encoder_preset("tiny", tokens="present_leads"), llm="tiny", max_length=2048,
                      findings=True)
    proc = ECGChatProcessor(tiny_tokenizer(), cfg)
    slow, fast = (preprocess(ECGRecord(s.signal, s.fs, s.leads)) for s in (synthetic_record(rr_s=rr) for rr in (1.0, 0.6)))
    text = proc.tokenizer.decode(proc([conv("<ecg> <ecg> What changed?", "Faster.")], [[slow, fast]])["input_ids"][0])
    reads = [i for i in range(len(text)) if text.startswith("Machine read:", i)]
    assert len(reads) == 2 and all(text.rfind(proc.tokens.end, 0, i) > text.rfind(proc.tokens.start, 0, i)
                                   for i in reads)
    assert "Heart rate 60 bpm" in text and "Heart rate 100 bpm" in text
    assert "From ECG 1 to ECG 2: heart rate 60 to 100 bpm (faster); rhythm unchanged" in text
    without = ECGChatProcessor(proc.tokenizer, ModelConfig(encoder=cfg.encoder, llm="tiny", max_length=2048))
    assert "Machine read" not in without.tokenizer.decode(without([conv("<ecg> Rate?", "60.")], [[slow]])["input_ids"][0])
