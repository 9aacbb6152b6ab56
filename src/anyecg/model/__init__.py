"""anyecg.model: ECG encoder → connector → LLM (anyECG-chat).

Modules: config (ModelConfig, EncoderConfig, presets, YAML), encoder (ECGViT, n_ecg_tokens), connector, llm
(load_llm), tokens (ECG token strings/ids), processor (ECGChatProcessor), anyecg_chat (AnyECGChatModel),
tiny (random tiny Llama + tokenizer for tests), dryrun (paper-config memory estimate).
"""
