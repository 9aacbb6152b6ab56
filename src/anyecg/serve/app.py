"""The HTTP server over one loaded `ECGChat`: `ECGServer(chat, settings).app()` (or `create_app`).

Routes: `/v1/chat/completions`, `/v1/models`, `/v1/files` (+ `/signal`, `/plot.png`), `/v1/ecg/scan`,
`/v1/ecg/localization`, `/health`, `/openapi.json`, and the web page at `/`. `/v1/*` needs
`Authorization: Bearer KEY` when the server has an API key.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from anyecg import __version__
from anyecg.chat import ECGChat, prepare
from anyecg.errors import AnyECGError
from anyecg.serve.completions import Completions, localization, parse_messages
from anyecg.serve.errors import APIError, from_anyecg, unreadable
from anyecg.serve.jobs import ScanJobs
from anyecg.serve.limiter import Limiter
from anyecg.serve.schemas import ChatRequest, ParseRequest, ScanRequest
from anyecg.serve.settings import ServeSettings
from anyecg.serve.store import FileStore, resolve_ecg
from anyecg.serve.uploads import NamedBytes
from anyecg.serve.viewer import parse_highlight, plot_png, signal_json
from anyecg.targets import resolve_target

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("anyecg.serve")


class BodyLimit:
    """413 for bodies over the cap: by Content-Length up front, else counted while buffering (chunked)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) <= self.max_bytes:
            return await self.app(scope, receive, send)
        if length is None:  # chunked: buffer up to the cap, then replay
            chunks, size, more = [], 0, True
            while more and size <= self.max_bytes:
                message = await receive()
                if message["type"] != "http.request":
                    return
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = message.get("more_body", False)
            if size <= self.max_bytes:
                body = b"".join(chunks)

                async def replay() -> dict[str, Any]:
                    return {"type": "http.request", "body": body, "more_body": False}

                return await self.app(scope, replay, send)
        err = APIError(413, f"request body larger than {self.max_bytes >> 20} MB (the server's --max-upload-mb "
                       "plus base64 overhead)", "upload_too_large")
        await JSONResponse(err.body(), 413, headers={"Connection": "close"})(scope, receive, send)


class CatchAll:
    """A bug answers 500 in the OpenAI error shape and is logged, without closing the client's keep-alive
    connection (Starlette's own handler re-raises, and uvicorn then drops the connection)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            if started:
                raise
            err = APIError(500, "internal error (logged on the server)", "server_error")
            await JSONResponse(err.body(), 500)(scope, receive, send)


class _Release:
    """Ends one chat request exactly once: removes its temp folder and frees its limiter slot."""

    def __init__(self, server: ECGServer, folder: Path, started: float):
        self.server, self.folder, self.started, self.done = server, folder, started, False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self.server.store.discard(self.folder)
            self.server.limiter.release(time.perf_counter() - self.started)


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    if any(e.get("type") == "json_invalid" for e in errors):
        err = APIError(400, f"malformed JSON body: {errors[0].get('ctx', {}).get('error', 'cannot parse')}",
                       "invalid_json")
    else:
        where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors[:5])
        err = APIError(422, f"invalid request: {where}", "invalid_request")
    return JSONResponse(err.body(), err.status)


class ECGServer:
    """One model, its settings, the file store, the limiter and the scan jobs; `app()` builds the ASGI app."""

    def __init__(self, chat: ECGChat, settings: ServeSettings | None = None):
        self.chat = chat
        self.settings = settings or ServeSettings()
        self.store = FileStore(self.settings)
        self.limiter = Limiter(self.settings.concurrency, self.settings.queue)
        self.jobs = ScanJobs(chat, self.store, self.settings.max_scan_jobs)
        self.completions = Completions(chat, self.settings, self.store)

    # ---- auth -----------------------------------------------------------------------------------------------
    def _auth(self, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))]
              ) -> None:
        key = self.settings.api_key
        if key is None:
            return
        if creds is None or not secrets.compare_digest(creds.credentials.encode(), key.encode()):
            raise APIError(401, "missing or wrong API key: send 'Authorization: Bearer KEY'", "invalid_api_key",
                           {"WWW-Authenticate": "Bearer"})

    # ---- chat -----------------------------------------------------------------------------------------------
    async def chat_completions(self, req: ChatRequest) -> Any:
        """OpenAI chat completion; ECGs as `ecg_file` content parts; `stream: true` for server-sent events."""
        turns = parse_messages(req)
        deadline = time.monotonic() + self.settings.timeout_s
        await self.limiter.acquire(self.settings.timeout_s)
        release = _Release(self, self.store.folder("req-"), time.perf_counter())
        streaming = False
        try:
            prepared = await run_in_threadpool(self.completions.prepare, turns, release.folder)
            if not req.stream:
                return await self.completions.answer(req, turns, prepared, deadline)

            async def events() -> AsyncIterator[str]:
                try:
                    async for event in self.completions.stream(req, turns, prepared, deadline):
                        yield event
                finally:
                    release()

            response = StreamingResponse(events(), media_type="text/event-stream",
                                         headers={"Cache-Control": "no-cache"}, background=BackgroundTask(release))
            streaming = True
            return response
        finally:
            if not streaming:
                release()

    def models(self) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": self.settings.model_name, "object": "model", "created": 0,
                                            "owned_by": "anyecg"}]}

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "model": self.settings.model_name, "version": __version__,
                "active": self.limiter.active, "waiting": self.limiter.waiting}

    # ---- files ----------------------------------------------------------------------------------------------
    async def upload(self, file: Annotated[list[UploadFile], File(description="the ECG file(s): one file, a zip, "
                                                                              "or WFDB .hea + .dat (+ .atr)")],
                     purpose: Annotated[str, Form()] = "ecg",
                     format: Annotated[str | None, Form(description="format hint (as in ecg_file.format)")] = None
                     ) -> dict[str, Any]:
        """Store an ECG for later questions, plots and scans; answers its id and header facts."""
        limit = self.settings.max_upload_bytes
        parts, total = [], 0
        for f in file:
            data = await f.read(limit + 1 - total)
            total += len(data)
            if total > limit:
                raise APIError(413, f"upload larger than {self.settings.max_upload_mb:g} MB", "upload_too_large")
            parts.append(NamedBytes(f.filename or "ecg", data))
        entry = await run_in_threadpool(self.store.add, parts, purpose, format)
        return entry.to_dict()

    def list_files(self) -> dict[str, Any]:
        return {"object": "list", "data": [f.to_dict() for f in self.store.list()]}

    def get_file(self, file_id: str) -> dict[str, Any]:
        return self.store.get(file_id).to_dict()

    def delete_file(self, file_id: str) -> dict[str, Any]:
        self.store.delete(file_id)
        return {"id": file_id, "object": "file", "deleted": True}

    async def signal(self, file_id: str, start_s: Annotated[float, Query(ge=0)] = 0.0,
                     end_s: Annotated[float | None, Query(gt=0)] = None,
                     points: Annotated[int, Query(ge=10, le=20000)] = 2000) -> dict[str, Any]:
        """The signal (mV) of a window, at most `points` values per lead (min/max per bucket when longer)."""
        entry = self.store.get(file_id)
        return await self._ecg_call(signal_json, entry, start_s, end_s, points)

    async def plot(self, file_id: str, start_s: Annotated[float, Query(ge=0)] = 0.0,
                   end_s: Annotated[float | None, Query(gt=0)] = None, leads: str | None = None,
                   highlight: str | None = None) -> Response:
        """ECG-paper PNG of a window; `highlight=1.9-3.1,6.8-8.1` (seconds from the window start)."""
        entry = self.store.get(file_id)
        lead_list = [x.strip() for x in leads.split(",") if x.strip()] if leads else None
        png = await self._ecg_call(plot_png, entry, start_s, end_s, lead_list, parse_highlight(highlight))
        return Response(png, media_type="image/png")

    async def parse_localization(self, req: ParseRequest) -> dict[str, Any]:
        """Read an answer text (`Duration: 1.9s-3.1s, ...`) as intervals on an ECG window, exactly as a chat
        answer's `localization` is built (the page uses it for answers pasted from elsewhere)."""
        folder = self.store.folder("req-")
        try:
            def work() -> dict[str, Any] | None:
                return localization(req.text, [prepare(resolve_ecg(req.ecg, self.store, folder, "ecg"))])

            loc = await self._ecg_call(work)
        finally:
            self.store.discard(folder)
        if loc is None:
            raise APIError(422, f"cannot read {req.text[:80]!r} as intervals; expected 'Duration: 1.9s-3.1s, ...' "
                           "or 'No ... Found'", "invalid_answer")
        return loc

    async def _ecg_call(self, fn: Any, *args: Any) -> Any:
        try:
            return await run_in_threadpool(fn, *args)
        except AnyECGError as err:
            raise from_anyecg(err) from err
        except (ArithmeticError, ValueError, TypeError, IndexError, KeyError, OSError) as err:
            raise unreadable(err) from err

    # ---- scan -----------------------------------------------------------------------------------------------
    async def start_scan(self, req: ScanRequest) -> JSONResponse:
        """Start a background scan of a (long) recording; poll `GET /v1/ecg/scan/{id}`."""
        if req.ecg.start_s is not None or req.ecg.end_s is not None:
            raise APIError(400, "a scan covers the whole recording; leave out start_s/end_s")
        if req.overlap_s >= req.window_s:
            raise APIError(422, f"overlap_s ({req.overlap_s:g}) must be shorter than window_s ({req.window_s:g})")
        folder = self.store.folder("scan-") if req.ecg.file_id is None else None
        try:
            ecg = await self._ecg_call(resolve_ecg, req.ecg, self.store, folder or self.store.root, "ecg")
            await self._ecg_call(lambda: [resolve_target(t) for t in req.targets])
            job = self.jobs.start(ecg, {"targets": req.targets, "window_s": req.window_s,
                                        "overlap_s": req.overlap_s, "batch_size": req.batch_size,
                                        "engine": req.engine}, folder)
        except BaseException:
            self.store.discard(folder)
            raise
        return JSONResponse(job.to_dict(), 202)

    def get_scan(self, job_id: str) -> dict[str, Any]:
        return self.jobs.get(job_id).to_dict()

    def scan_plot(self, job_id: str) -> Response:
        job = self.jobs.get(job_id)
        if job.result is None:
            raise APIError(409, f"scan {job_id} is {job.status}; the plot exists once it has succeeded",
                           "not_ready")
        return Response(job.result.plot_png(), media_type="image/png")

    def cancel_scan(self, job_id: str) -> dict[str, Any]:
        return self.jobs.cancel(job_id).to_dict()

    # ---- app ------------------------------------------------------------------------------------------------
    def app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            yield
            self.jobs.close()
            self.store.close()

        app = FastAPI(title="anyecg", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                      description="OpenAI-compatible chat about ECG signals, ECG scans and an ECG viewer. "
                                  "Research use only; not a medical device.")
        app.add_exception_handler(APIError, lambda _, e: JSONResponse(e.body(), e.status, headers=e.headers))
        app.add_exception_handler(RequestValidationError, _validation_error)
        v1 = APIRouter(prefix="/v1", dependencies=[Depends(self._auth)])
        v1.add_api_route("/chat/completions", self.chat_completions, methods=["POST"])
        v1.add_api_route("/models", self.models, methods=["GET"])
        v1.add_api_route("/files", self.upload, methods=["POST"])
        v1.add_api_route("/files", self.list_files, methods=["GET"])
        v1.add_api_route("/files/{file_id}", self.get_file, methods=["GET"])
        v1.add_api_route("/files/{file_id}", self.delete_file, methods=["DELETE"])
        v1.add_api_route("/files/{file_id}/signal", self.signal, methods=["GET"])
        v1.add_api_route("/files/{file_id}/plot.png", self.plot, methods=["GET"], response_class=Response)
        v1.add_api_route("/ecg/localization", self.parse_localization, methods=["POST"])
        v1.add_api_route("/ecg/scan", self.start_scan, methods=["POST"], status_code=202)
        v1.add_api_route("/ecg/scan/{job_id}", self.get_scan, methods=["GET"])
        v1.add_api_route("/ecg/scan/{job_id}/plot.png", self.scan_plot, methods=["GET"], response_class=Response)
        v1.add_api_route("/ecg/scan/{job_id}", self.cancel_scan, methods=["DELETE"])
        app.include_router(v1)
        app.add_api_route("/health", self.health, methods=["GET"])
        app.add_api_route("/", lambda: FileResponse(STATIC / "index.html"), methods=["GET"], include_in_schema=False)
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
        app.add_middleware(BodyLimit, max_bytes=self.settings.max_body_bytes)
        app.add_middleware(CatchAll)
        return app


def create_app(chat: ECGChat, settings: ServeSettings | None = None) -> FastAPI:
    """The ASGI app serving `chat` (the model is loaded once, by the caller)."""
    return ECGServer(chat, settings).app()

