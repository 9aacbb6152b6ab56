"""`anyecg serve`: load the model once, build the app, run uvicorn (loopback unless --host says otherwise)."""

from __future__ import annotations

import argparse
import logging

from anyecg.errors import ConfigError


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="OpenAI-compatible HTTP API and web page for ECG questions",
                       description="Serve the model: POST /v1/chat/completions (ECGs as content parts), "
                                   "/v1/files, /v1/ecg/scan, /openapi.json and a web page at /.")
    p.add_argument("--model", default=None, help="checkpoint directory (default: the embedded model)")
    p.add_argument("--no-verify", action="store_true",
                   help="keep the model's first answer even where the signal contradicts it (flagged, not replaced by an alternative that agrees)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--api-key", default=None, help="require 'Authorization: Bearer KEY' on /v1/*")
    p.add_argument("--model-name", default="anyecg", help="the id /v1/models lists")
    p.add_argument("--max-upload-mb", type=float, default=64.0, help="largest ECG upload (decoded bytes)")
    p.add_argument("--max-ecg-hours", type=float, default=48.0, help="longest recording accepted")
    p.add_argument("--max-samples", type=int, default=100_000_000,
                   help="most samples (all channels together) in one ECG, checked from its header before decoding")
    p.add_argument("--concurrency", type=int, default=2, help="requests worked on at once")
    p.add_argument("--queue", type=int, default=16, help="requests waiting for a slot before 429")
    p.add_argument("--timeout", type=float, default=120.0, help="per-request timeout in seconds")
    p.add_argument("--max-tokens", type=int, default=256, help="default and largest max_tokens")
    p.add_argument("--device", default="cpu", help="torch device of the model: cpu, cuda, cuda:1, mps")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from anyecg.chat import ECGChat
    from anyecg.serve.app import create_app
    from anyecg.serve.settings import ServeSettings

    try:
        settings = ServeSettings(model_name=args.model_name, api_key=args.api_key,
                                 max_upload_mb=args.max_upload_mb, max_ecg_hours=args.max_ecg_hours,
                                 max_samples=args.max_samples,
                                 concurrency=args.concurrency, queue=args.queue, timeout_s=args.timeout,
                                 max_tokens=args.max_tokens)
    except ValueError as err:
        raise ConfigError(str(err)) from err
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be 1-65535, got {args.port}")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    chat = ECGChat.load(args.model, device=args.device, max_new_tokens=args.max_tokens, verify=not args.no_verify)
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.api_key:
        logging.getLogger("anyecg.serve").warning("serving on %s without --api-key: anyone who can reach this "
                                                  "address can use the model", args.host)
    uvicorn.run(create_app(chat, settings), host=args.host, port=args.port, log_level="info")
    return 0
