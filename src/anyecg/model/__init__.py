"""anyecg.model: ECG encoder → connector → LLM (anyECG-chat).

Modules: config (ModelConfig, the encoder kinds' configs, presets, YAML), kinds (ECG-encoder kinds: patches, beats),
encoder (ECGViT, n_ecg_tokens), beats (BeatEncoder, prescreen rule, beat prompt), connector, llm (load_llm), tokens
(ECG token strings/ids), processor (ECGChatProcessor), anyecg_chat (AnyECGChatModel), loading (load_model, file
names, strict loading), state (the key check), dryrun (paper-config memory estimate).
"""
