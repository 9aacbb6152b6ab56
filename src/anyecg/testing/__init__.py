"""Scaffolding for the tests and benchmarks, not used by the product: a tiny random LLM and tokenizer (`tiny`, also
what `llm: tiny` in a model config loads), synthetic training data (`synthetic`), and a tiny checkpoint, generated
records and a real server process (`server`)."""
