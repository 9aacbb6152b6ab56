"""ECG ViT: token counts, long-ECG assembly (CLS mean, patches in time order), present-leads mode, stems."""

from __future__ import annotations

import pytest
import torch

from anyecg.model.config import encoder_preset
from anyecg.model.encoder import ECGViT, n_ecg_tokens
from anyecg.testing.tiny import synthetic_ecg

SMALL = dict(dim=32, depth=1, heads=2, dim_head=16, mlp_dim=64, dropout=0.0, emb_dropout=0.0)


def encoder(**kw):
    torch.manual_seed(0)
    return ECGViT(encoder_preset("tiny", **{**SMALL, **kw})).eval()


def run(enc, ecgs):
    clips = torch.cat([torch.from_numpy(e.clips) for e in ecgs])
    masks = torch.stack([torch.from_numpy(e.lead_mask) for e in ecgs])
    with torch.no_grad():
        return enc.encode_ecgs(clips, [e.n_clips for e in ecgs], masks)


def test_token_counts_10s_37s_2lead():
    cfg_all = encoder_preset("tiny", **SMALL)
    cfg_present = encoder_preset("tiny", **SMALL, tokens="present_leads")
    ten, long, two = synthetic_ecg(10), synthetic_ecg(37), synthetic_ecg(37, leads=[1, 6])
    assert (ten.n_clips, long.n_clips) == (1, 4)
    assert n_ecg_tokens(ten.n_clips, ten.lead_mask, cfg_all) == 61
    assert n_ecg_tokens(long.n_clips, long.lead_mask, cfg_all) == 1 + 60 * 4
    assert n_ecg_tokens(two.n_clips, two.lead_mask, cfg_all) == 241
    assert n_ecg_tokens(two.n_clips, two.lead_mask, cfg_present) == 1 + 5 * 2 * 4
    out_all = run(encoder(), [ten, long, two])
    assert [t.shape for t in out_all] == [(61, 32), (241, 32), (241, 32)]
    out_present = run(encoder(tokens="present_leads"), [ten, long, two])
    assert [t.shape[0] for t in out_present] == [61, 241, 41]


def test_long_ecg_is_clipwise_cls_mean_and_time_ordered_patches():
    enc = encoder()
    ecg = synthetic_ecg(25, seed=3)
    (tokens,) = run(enc, [ecg])
    with torch.no_grad():
        per_clip = enc.encode(torch.from_numpy(ecg.clips))  # (3, 61, D)
    torch.testing.assert_close(tokens[0], per_clip[:, 0].mean(0))
    torch.testing.assert_close(tokens[1:61], per_clip[0, 1:])
    torch.testing.assert_close(tokens[121:], per_clip[2, 1:])


def test_batching_ecgs_does_not_change_their_tokens():
    enc = encoder(tokens="present_leads")
    a, b, c = synthetic_ecg(12, seed=1), synthetic_ecg(10, leads=[0, 1], seed=2), synthetic_ecg(31, [0, 1], seed=4)
    together = run(enc, [a, b, c])
    alone = [run(enc, [e])[0] for e in (a, b, c)]
    for x, y in zip(together, alone, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-5)


def test_present_leads_equals_all_when_every_lead_present():
    ecg = synthetic_ecg(10)
    torch.testing.assert_close(run(encoder(), [ecg])[0], run(encoder(tokens="present_leads"), [ecg])[0])


@pytest.mark.parametrize("stem", ["linear", "conv"])
def test_stems_and_contrastive_head(stem):
    enc = encoder(stem=stem)
    x = torch.from_numpy(synthetic_ecg(20).clips)
    assert enc.encode(x).shape == (2, 61, 32)
    assert enc(x).shape == (2, 32)


def test_paper_encoder_size():
    with torch.device("meta"):
        enc = ECGViT(encoder_preset("paper"))
    assert 85e6 < sum(p.numel() for p in enc.parameters()) < 87e6
