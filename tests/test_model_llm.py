"""LLM loading (tiny, errors, the real SmolLM2 GGUF: slow) and the paper-config dry run on the meta device."""

from __future__ import annotations

import os

import pytest
import torch

from anyecg.errors import ModelError
from anyecg.model import dryrun
from anyecg.model.anyecg_chat import AnyECGChatModel
from anyecg.model.config import ModelConfig, encoder_preset
from anyecg.model.llm import load_llm, smollm2_gguf, torch_device
from anyecg.model.tokens import ECG_END, ECG_PAD, ECG_START
from anyecg.testing.tiny import synthetic_ecg

os.environ["HF_HUB_OFFLINE"] = "1"


def test_load_llm_errors(tmp_path):
    with pytest.raises(ModelError, match="not a model directory"):
        load_llm(str(tmp_path))
    with pytest.raises(ModelError, match="GGUF file not found"):
        load_llm(str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelError, match="unknown dtype"):
        load_llm("tiny", "int3")


def test_torch_device_names_what_is_missing():
    assert torch_device("cpu") == torch.device("cpu")
    with pytest.raises(ModelError, match="unknown device 'gpu'"):
        torch_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="not available on this machine"):
            torch_device("cuda")
    with pytest.raises(ModelError, match="cuda:99"):
        torch_device("cuda:99")


def test_load_hf_directory(tmp_path):
    model, tok = load_llm("tiny")
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    again, tok2 = load_llm(str(tmp_path), "bfloat16")
    assert next(again.parameters()).dtype == torch.bfloat16 and len(tok2) == len(tok)


def test_smollm2_gguf_is_shipped():
    assert smollm2_gguf().suffix == ".gguf"


def test_paper_dry_run_counts_and_memory(capsys):
    cfg = dryrun.paper_config()
    model = dryrun.build_meta_model(cfg)
    counts = model.parameter_counts()
    assert 8.0e9 < counts["llm"] < 8.1e9  # Llama-3-8B
    assert 85e6 < counts["encoder"] < 87e6
    assert counts["connector"] == 768 * 4096 + 4096 + 4096 * 4096 + 4096
    assert counts["lora"] == 32 * 8 * ((4096 + 4096) + (4096 + 1024))  # q: 4096→4096, k: 4096→1024
    assert dryrun.main(["--gpus", "8"]) == 0
    out = capsys.readouterr().out
    assert "stage 3" in out and "ZeRO-3" in out


@pytest.mark.slow
def test_real_smollm2_chat_model():
    """Dequantizes the GGUF once into ~/.cache/anyecg (minutes), then loads in seconds."""
    cfg = ModelConfig(encoder=encoder_preset("tiny"), llm="smollm2")
    model = AnyECGChatModel.from_config(cfg).eval()
    tok = model.tokenizer
    assert tok.convert_ids_to_tokens(list(model.tokens.ids)) == [ECG_START, ECG_END, ECG_PAD]
    assert model.stop_token_ids == [tok.convert_tokens_to_ids("<|im_end|>")]
    proc = model.processor()
    batch = proc([[{"role": "user", "content": "<ecg>\nWrite the report for this ECG."}]], [[synthetic_ecg(10)]],
                 add_generation_prompt=True)
    assert int((batch["input_ids"] == model.tokens.pad_id).sum()) == 61
    out = model.generate(batch, max_new_tokens=5)
    assert 1 <= out.shape[1] <= 5
