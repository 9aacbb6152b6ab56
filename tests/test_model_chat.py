"""AnyECGChatModel on a tiny random Llama: splice, frozen parts per stage, overfit, checkpoint, generation."""

from __future__ import annotations

import threading

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import TextIteratorStreamer

from anyecg.errors import ModelError
from anyecg.model.anyecg_chat import AnyECGChatModel, splice_ecg_embeddings
from anyecg.model.config import LoraSettings, ModelConfig, encoder_preset
from anyecg.model.tokens import IGNORE_INDEX
from anyecg.testing.tiny import synthetic_ecg

SMALL = dict(dim=32, depth=1, heads=2, dim_head=16, mlp_dim=64, dropout=0.0, emb_dropout=0.0)
STAGES = {"stage1": (True, True, False), "stage2": (True, True, True), "stage3": (False, True, True)}


def make_model(seed=0, tokens="all", lora_targets=("q_proj", "k_proj")):
    cfg = ModelConfig(encoder=encoder_preset("tiny", **SMALL, tokens=tokens), llm="tiny", max_length=2048,
                      lora=LoraSettings(target_modules=list(lora_targets)))
    torch.manual_seed(seed)
    model = AnyECGChatModel.from_config(cfg)
    with torch.no_grad():  # LoRA B starts at 0; make the adapters matter in these tests
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.05)
    return model.eval()


def conv(*turns):
    return [{"role": r, "content": c} for r, c in zip(["user", "assistant"] * 4, turns, strict=False)]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The 2 shared cores are oversubscribed; one intra-op thread is 10-30× faster for these tiny models."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def model():
    return make_model()


def test_splice_positions_for_1_2_and_6_ecgs(model):
    lengths = [[10], [37, 12], [10, 20, 5, 60, 11, 30]]
    ecgs = [[synthetic_ecg(s, seed=10 * i + j) for j, s in enumerate(row)] for i, row in enumerate(lengths)]
    convs = [conv("<ecg> report", "Sinus."), conv("<ecg> then <ecg>", "Same."),
             conv("<ecg><ecg><ecg> first three", "Ok.", "and <ecg><ecg><ecg>", "Fine.")]
    batch = model.processor()(convs, ecgs)
    with torch.no_grad():
        ecg_embeds = model.encode_ecg(ecg_clips=batch["ecg_clips"], clips_per_ecg=batch["clips_per_ecg"],
                                     lead_masks=batch["lead_masks"])
        embeds = model.embed_inputs(batch["input_ids"], ecg_clips=batch["ecg_clips"],
                                    clips_per_ecg=batch["clips_per_ecg"], lead_masks=batch["lead_masks"])
        plain = model.llm.get_input_embeddings()(batch["input_ids"])
    counts = [[1 + 60 * e.n_clips for e in row] for row in ecgs]
    assert ecg_embeds.shape[0] == sum(map(sum, counts)) == 61 + 241 + 121 + 61 + 121 + 61 + 361 + 121 + 181
    offset = 0
    ids = batch["input_ids"]
    for i, row in enumerate(counts):
        starts = (ids[i] == model.tokens.start_id).nonzero().flatten().tolist()
        assert len(starts) == len(row)
        for s, n in zip(starts, row, strict=True):
            assert ids[i, s + n + 1] == model.tokens.end_id
            torch.testing.assert_close(embeds[i, s + 1:s + 1 + n], ecg_embeds[offset:offset + n])
            torch.testing.assert_close(embeds[i, s], model.token_embeds.weight[0])
            offset += n
    text = ~torch.isin(ids, torch.tensor(model.tokens.ids))
    torch.testing.assert_close(embeds[text], plain[text])


def test_splice_count_mismatch_names_both_numbers():
    ids = torch.tensor([[5, 7, 7, 7, 5]])
    with pytest.raises(ModelError, match="3 ECG slot tokens but 2 ECG embeddings"):
        splice_ecg_embeddings(torch.zeros(1, 5, 4), ids, torch.ones(2, 4), ecg_pad_id=7)


def test_forward_loss_and_present_leads_mode():
    model = make_model(tokens="present_leads")
    batch = model.processor()([conv("<ecg> locate", "Duration: 1.9s-3.1s")], [[synthetic_ecg(37, leads=[1, 6])]])
    assert batch["input_ids"].shape[1] < 80  # 41 ECG tokens instead of 241
    out = model(**batch)
    assert out.logits.shape[:2] == batch["input_ids"].shape and torch.isfinite(out.loss)


def _batch(model):
    ecgs = [[synthetic_ecg(10, seed=1)], [synthetic_ecg(23, leads=[0, 1], seed=2), synthetic_ecg(10, seed=3)]]
    convs = [conv("<ecg> Write the report.", "Sinus rhythm. Normal ECG."),
             conv("<ecg><ecg> What changed?", "Atrial fibrillation is new.")]
    return model.processor()(convs, ecgs)


@pytest.mark.parametrize("stage", STAGES)
def test_frozen_parts_bit_identical_after_a_step(stage):
    model = make_model().train()
    enc, conn, lora = STAGES[stage]
    model.set_trainable(encoder=enc, connector=conn, lora=lora)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-2, weight_decay=1e-4)
    model(**_batch(model)).loss.backward()
    opt.step()
    for name, p in model.named_parameters():
        part_trainable = ((enc and name.startswith("ecg_encoder."))
                          or (conn and name.startswith(("connector.", "token_embeds."))) or (lora and "lora_" in name))
        assert p.requires_grad == part_trainable, name
        if part_trainable:  # the encoder's final norm serves only the contrastive head: no gradient here
            assert torch.equal(p, before[name]) == (p.grad is None), f"{name} did not change"
        else:
            assert torch.equal(p, before[name]), f"{name} changed while frozen"
    counts = model.parameter_counts()
    assert counts["trainable"] == sum(p.numel() for p in trainable)


def test_tiny_config_overfits_a_fixed_batch():
    model = make_model().train()  # paper LoRA targets: q_proj, k_proj
    batch = _batch(model)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(40):
        loss = model(**batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] <= 0.1 * losses[0], losses[::10]


def test_trainable_state_dict_round_trip_gives_identical_logits(tmp_path):
    a = make_model(seed=0)
    with torch.no_grad():
        a.token_embeds.weight.add_(0.1)
    sd = a.trainable_state_dict()
    assert all(k.startswith(("ecg_encoder.", "connector.", "token_embeds.")) or "lora_" in k for k in sd)
    save_file(sd, tmp_path / "trainable.safetensors")
    b = make_model(seed=1)  # same LLM weights, different encoder/connector/LoRA init
    batch = _batch(a)
    with torch.no_grad():
        assert not torch.equal(a(**batch).logits, b(**batch).logits)
        b.load_trainable_state_dict(load_file(tmp_path / "trainable.safetensors"))
        assert torch.equal(a(**batch).logits, b(**batch).logits)
    bad = dict(sd)
    bad.pop("connector.0.weight")
    bad["extra.weight"] = torch.zeros(1)
    with pytest.raises(ModelError, match=r"1 missing \(connector.0.weight\); 1 unexpected \(extra.weight\)"):
        b.load_trainable_state_dict(bad)


def test_batched_left_padded_greedy_equals_one_by_one(model):
    proc = model.processor()
    convs = [conv("<ecg> Write the report."), conv("Hello there, what is an ECG?"),
             conv("<ecg><ecg> compare these two recordings please")]
    ecgs = [[synthetic_ecg(10, seed=1)], [], [synthetic_ecg(31, seed=2), synthetic_ecg(10, [0, 1], seed=3)]]
    batch = proc(convs, ecgs, add_generation_prompt=True, padding_side="left")
    together = model.generate(batch, max_new_tokens=12)
    for i in range(3):
        alone = model.generate(proc([convs[i]], [ecgs[i]], add_generation_prompt=True), max_new_tokens=12)[0]
        row = together[i, : alone.shape[0]]
        assert torch.equal(row, alone), (i, row, alone)
    with pytest.raises(ModelError, match="left padding"):
        model.generate(proc(convs, ecgs, add_generation_prompt=True, padding_side="right"), max_new_tokens=2)


def test_generation_from_a_prefilled_prompt_equals_generation_without(model):
    """Verified decoding's beam searches start from one prefill of the prompt: same tokens, prompt left intact."""
    proc = model.processor()
    batch = proc([conv("<ecg> Report?")], [[synthetic_ecg(10, seed=4)]], add_generation_prompt=True)
    prefilled = model.prefill(batch)
    assert prefilled.get_seq_length() == batch["input_ids"].shape[1] - 1
    forced = torch.tensor([[model.tokenizer("Sinus", add_special_tokens=False)["input_ids"][0]]])
    longer = {**batch, "input_ids": torch.cat([batch["input_ids"], forced], 1),
              "attention_mask": torch.cat([batch["attention_mask"], torch.ones_like(forced)], 1)}
    for b in (batch, longer, batch):  # twice from the same prefill: it is copied, not consumed
        beams = dict(max_new_tokens=8, num_beams=3, num_return_sequences=3, early_stopping=True)
        assert torch.equal(model.generate(b, prefilled=prefilled, **beams), model.generate(b, **beams))
    assert torch.equal(model.generate(batch, prefilled=prefilled, max_new_tokens=8),
                       model.generate(batch, max_new_tokens=8))
    two = proc([conv("<ecg> Report?")] * 2, [[synthetic_ecg(10)]] * 2, add_generation_prompt=True, padding_side="left")
    with pytest.raises(ModelError, match="one prompt"):
        model.generate(two, prefilled=prefilled, max_new_tokens=2)


def test_streaming_and_sampling(model):
    proc = model.processor()
    batch = proc([conv("<ecg> Report?")], [[synthetic_ecg(10)]], add_generation_prompt=True)
    greedy = model.generate(batch, max_new_tokens=10)[0]
    streamer = TextIteratorStreamer(model.tokenizer, skip_prompt=True, skip_special_tokens=True)
    thread = threading.Thread(target=model.generate, args=(batch,), kwargs=dict(max_new_tokens=10, streamer=streamer))
    thread.start()
    streamed = "".join(streamer)
    thread.join()
    assert streamed == model.tokenizer.decode(greedy, skip_special_tokens=True)
    torch.manual_seed(0)
    sampled = model.generate(batch, max_new_tokens=10, do_sample=True, temperature=0.6, top_p=0.9)
    assert sampled.shape[0] == 1 and sampled.shape[1] <= 10
    assert (batch["labels"] == IGNORE_INDEX).all()


def test_merge_lora_keeps_outputs():
    model = make_model()
    batch = _batch(model)
    sd = model.trainable_state_dict()
    with torch.no_grad():
        before = model(**batch).logits
        model.merge_lora()
        torch.testing.assert_close(model(**batch).logits, before, rtol=1e-4, atol=1e-4)
    with pytest.raises(ModelError, match="merge_lora"):
        model.load_trainable_state_dict(sd)


def test_lora_from_layer_trains_only_the_upper_layers():
    model = make_model().train()
    model.set_trainable(encoder=False, connector=False, lora=True, lora_from_layer=1)
    lora = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert lora and all(p.requires_grad == (".layers.0." not in n) for n, p in lora.items())
    model(**_batch(model)).loss.backward()
    assert all((p.grad is None) == (".layers.0." in n) for n, p in lora.items())
