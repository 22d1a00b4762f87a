"""A loopback Databricks workspace: the REST endpoints ``day07 deploy`` uses, over real HTTP on 127.0.0.1.

The only test double the kit allows is one for the remote REST API. This one speaks the wire format the
real ``WorkspaceClient`` expects (Jobs API 2.2, Workspace API 2.0, SCIM ``Me``), records every request,
and is strict where the real service is: unknown job setting keys, relative notebook paths, undefined job
parameters, missing parent folders and writes outside the caller's reach are refused with Databricks'
error shape (``{"error_code": ..., "message": ...}``). Runs advance one step per ``runs/get`` so a
poller sees PENDING → RUNNING → TERMINATED, and a notebook task whose notebook was never imported fails.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from databricks.sdk.service import jobs

WORKSPACE_ID = "7474650123456789"
JOB_SETTING_KEYS = {f.name for f in dataclasses.fields(jobs.JobSettings)}
IMPORT_KEYS = {"path", "format", "language", "content", "overwrite"}
IMPORT_FORMATS = {"AUTO", "SOURCE", "HTML", "JUPYTER", "DBC", "R_MARKDOWN", "RAW"}
LANGUAGES = {"PYTHON", "SCALA", "SQL", "R"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    headers: dict[str, str]


@dataclass
class FakeRun:
    run_id: int
    job_id: int
    settings: dict[str, Any]
    parameters: dict[str, str]
    order: list[str]
    polls: int = 0
    running: str | None = None
    task_run_ids: dict[str, int] = field(default_factory=dict)
    results: dict[str, tuple[str, str]] = field(default_factory=dict)
    """task_key → (result state, message) once decided."""


class FakeWorkspace:
    """The workspace's state and the server around it. Use as a context manager or start()/stop()."""

    def __init__(self, *, user: str = "learner@example.com", token: str = "dapi-test-token") -> None:
        self.user = user
        self.token = token
        self.requests: list[Request] = []
        self.objects: dict[str, dict[str, Any]] = {p: {"object_type": "DIRECTORY"} for p in
                                                   ("/", "/Users", f"/Users/{user}", "/Shared")}
        self.jobs: dict[int, dict[str, Any]] = {}
        self.runs: dict[int, FakeRun] = {}
        self.task_runs: dict[int, tuple[FakeRun, str]] = {}
        self.failures: dict[tuple[str, str], ApiError] = {}
        self.failing_tasks: dict[str, str] = {}
        """task_key → notebook error: those tasks fail when run."""
        self.task_page_size = 100
        """Jobs API 2.2 pages a run's tasks at 100; tests lower it to exercise paging."""
        self._next_id = 1000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the workspace first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeWorkspace:
        workspace = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # keep-alive + small writes would wait on delayed ACKs
            wbufsize = 64 * 1024  # headers and body leave in one write, flushed after each request

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class signature
                pass

            def do_GET(self) -> None:
                workspace._handle(self, "GET")

            def do_POST(self) -> None:
                workspace._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-workspace", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeWorkspace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------------------------------- test helpers

    def fail(self, method: str, path: str, status: int, code: str, message: str) -> None:
        """Answer every later ``method path`` with this error."""
        self.failures[(method, path)] = ApiError(status, code, message)

    def add_job(self, settings: dict[str, Any], *, creator: str | None = None) -> int:
        """A job that exists before the test deploys (created by ``creator``, default the user)."""
        with self._lock:
            job_id = self._new_id()
            self.jobs[job_id] = {"job_id": job_id, "creator_user_name": creator or self.user,
                                 "created_time": 1_700_000_000_000 + job_id, "settings": settings}
        return job_id

    def calls(self, *, api_only: bool = True) -> list[Request]:
        """Requests in order; ``api_only`` leaves out the SDK's host-metadata probe."""
        with self._lock:
            return [r for r in self.requests if not api_only or r.path.startswith("/api/")]

    def routes(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.calls()]

    # ----------------------------------------------------------------------------------------- HTTP

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        status, payload = 200, {}
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
            status, payload = 400, {"error_code": "MALFORMED_REQUEST", "message": "Invalid JSON given in the body"}
        with self._lock:
            self.requests.append(Request(method, parts.path, query, body, dict(handler.headers.items())))
        if status == 200:
            try:
                payload = self._route(method, parts.path, query, body, handler.headers.get("Authorization"))
            except ApiError as exc:
                status, payload = exc.status, {"error_code": exc.code, "message": exc.message}
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method: str, path: str, query: dict[str, str], body: dict[str, Any] | None,
               auth: str | None) -> dict[str, Any]:
        if method == "GET" and path == "/.well-known/databricks-config":
            return {"workspace_id": WORKSPACE_ID}
        if auth != f"Bearer {self.token}":
            raise ApiError(401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for "
                                                   "this API.")
        if (method, path) in self.failures:
            raise self.failures[(method, path)]
        routes = {
            ("GET", "/api/2.0/preview/scim/v2/Me"): self._me,
            ("POST", "/api/2.0/workspace/mkdirs"): self._mkdirs,
            ("POST", "/api/2.0/workspace/import"): self._import,
            ("GET", "/api/2.2/jobs/list"): self._list_jobs,
            ("POST", "/api/2.2/jobs/create"): self._create,
            ("POST", "/api/2.2/jobs/reset"): self._reset,
            ("POST", "/api/2.2/jobs/run-now"): self._run_now,
            ("GET", "/api/2.2/jobs/runs/get"): self._get_run,
            ("GET", "/api/2.2/jobs/runs/get-output"): self._get_output,
        }
        route = routes.get((method, path))
        if route is None:
            raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        with self._lock:
            return route(query if method == "GET" else (body or {}))

    # ----------------------------------------------------------------------------------------- workspace

    def _me(self, _query: dict[str, str]) -> dict[str, Any]:
        return {"id": "4242", "userName": self.user, "displayName": "Day 07 Learner", "active": True,
                "emails": [{"value": self.user, "primary": True, "type": "work"}]}

    def _writable(self, path: str) -> bool:
        inner = path[len("/Workspace"):] if path.startswith("/Workspace/") else path
        return any(inner == root or inner.startswith(root + "/") for root in (f"/Users/{self.user}", "/Shared"))

    def _norm(self, path: Any) -> str:
        if not isinstance(path, str) or not path.startswith("/"):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Path ({path}) doesn't start with '/'")
        path = path.rstrip("/") or "/"
        return path[len("/Workspace"):] if path.startswith("/Workspace/") else path

    def _mkdirs(self, body: dict[str, Any]) -> dict[str, Any]:
        path = self._norm(body.get("path"))
        if not self._writable(path):
            raise ApiError(403, "PERMISSION_DENIED", f"{self.user} does not have Manage permissions on {path}.")
        parts = path.split("/")[1:]
        for i in range(1, len(parts) + 1):
            prefix = "/" + "/".join(parts[:i])
            kind = self.objects.get(prefix, {}).get("object_type")
            if kind is None:
                self.objects[prefix] = {"object_type": "DIRECTORY"}
            elif kind != "DIRECTORY":
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Node named '{parts[i - 1]}' already exists")
        return {}

    def _import(self, body: dict[str, Any]) -> dict[str, Any]:
        unknown = set(body) - IMPORT_KEYS
        if unknown:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Unknown fields: {sorted(unknown)}")
        path = self._norm(body.get("path"))
        fmt = body.get("format", "SOURCE")
        if fmt not in IMPORT_FORMATS:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid format: {fmt}")
        language = body.get("language")
        if fmt == "SOURCE" and language not in LANGUAGES:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "The language field is required to import a single "
                                                           "file as SOURCE.")
        try:
            content = base64.b64decode(body.get("content", ""), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "Content is not valid base64.") from None
        if fmt == "JUPYTER":
            try:
                notebook = json.loads(content)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ApiError(400, "INVALID_PARAMETER_VALUE", "The content is not a Jupyter notebook.") from None
            if not isinstance(notebook, dict) or "cells" not in notebook:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", "The content is not a Jupyter notebook.")
            language = "PYTHON"
        parent = path.rsplit("/", 1)[0] or "/"
        if self.objects.get(parent, {}).get("object_type") != "DIRECTORY":
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"The parent folder ({parent}) does not exist.")
        if not self._writable(path):
            raise ApiError(403, "PERMISSION_DENIED", f"{self.user} does not have Edit permissions on {parent}.")
        if path in self.objects and not body.get("overwrite"):
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"{path} already exists.")
        if self.objects.get(path, {}).get("object_type") == "DIRECTORY":
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"{path} is a folder.")
        if fmt == "AUTO" and not (path.endswith(".ipynb") or content.startswith(b"# Databricks notebook source")):
            # AUTO: a file that is no notebook stays a workspace file, extension and all
            self.objects[path] = {"object_type": "FILE", "format": fmt, "content": content}
            return {}
        self.objects[path] = {"object_type": "NOTEBOOK", "language": language, "format": fmt, "content": content}
        return {}

    # ----------------------------------------------------------------------------------------- jobs

    def _check_settings(self, settings: Any, *, create: bool) -> dict[str, Any]:
        if not isinstance(settings, dict):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "Job settings must be an object.")
        allowed = JOB_SETTING_KEYS | ({"access_control_list"} if create else set())
        unknown = set(settings) - allowed
        if unknown:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Unknown job settings: {sorted(unknown)}")
        tasks = settings.get("tasks") or []
        keys = [t.get("task_key") for t in tasks]
        for task in tasks:
            for dep in task.get("depends_on") or []:
                if dep.get("task_key") not in keys:
                    raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Task {task.get('task_key')} depends on "
                                                                   f"{dep.get('task_key')}, which does not exist.")
            nb = task.get("notebook_task")
            if nb is not None and nb.get("source", "WORKSPACE") == "WORKSPACE" and not str(
                    nb.get("notebook_path", "")).startswith("/"):
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid notebook_path: {nb.get('notebook_path')}."
                                                               " Only absolute paths are currently supported. "
                                                               "Paths must begin with '/'.")
        return {k: v for k, v in settings.items() if k != "access_control_list"}

    def _job(self, job_id: Any) -> dict[str, Any]:
        job = self.jobs.get(job_id) if isinstance(job_id, int) else None
        if job is None:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Job {job_id} does not exist.")
        return job

    def _list_jobs(self, query: dict[str, str]) -> dict[str, Any]:
        name = query.get("name")
        found = [job for job in self.jobs.values()
                 if name is None or str(job["settings"].get("name", "")).casefold() == name.casefold()]
        listed = [{**job, "settings": {k: v for k, v in job["settings"].items() if k != "tasks"}}
                  for job in sorted(found, key=lambda j: -j["created_time"])]
        return {"jobs": listed, "has_more": False} if listed else {"has_more": False}

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        settings = self._check_settings(body, create=True)
        job_id = self._new_id()
        self.jobs[job_id] = {"job_id": job_id, "creator_user_name": self.user,
                             "created_time": 1_700_000_000_000 + job_id, "settings": settings}
        return {"job_id": job_id}

    def _reset(self, body: dict[str, Any]) -> dict[str, Any]:
        if "new_settings" not in body:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "new_settings is required.")
        job = self._job(body.get("job_id"))
        if job["creator_user_name"] != self.user:
            raise ApiError(403, "PERMISSION_DENIED", f"User {self.user} does not have Manage permissions on Job "
                                                     f"{job['job_id']}.")
        job["settings"] = self._check_settings(body["new_settings"], create=False)
        return {}

    def _run_now(self, body: dict[str, Any]) -> dict[str, Any]:
        job = self._job(body.get("job_id"))
        defined = {p["name"]: p.get("default", "") for p in job["settings"].get("parameters") or []}
        given = body.get("job_parameters") or {}
        for name in given:
            if name not in defined:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Job parameter '{name}' is not defined in the "
                                                               "job.")
        run_id = self._new_id()
        order = _topological([t["task_key"] for t in job["settings"].get("tasks") or []],
                             {t["task_key"]: [d["task_key"] for d in t.get("depends_on") or []]
                              for t in job["settings"].get("tasks") or []})
        self.runs[run_id] = FakeRun(run_id, job["job_id"], job["settings"], {**defined, **given}, order)
        return {"run_id": run_id, "number_in_job": run_id}

    # ----------------------------------------------------------------------------------------- runs

    def _task_result(self, run: FakeRun, task: dict[str, Any]) -> tuple[str, str]:
        for dep in task.get("depends_on") or []:
            upstream = run.results.get(dep["task_key"], ("", ""))[0]
            if upstream in ("FAILED", "UPSTREAM_FAILED"):
                return "UPSTREAM_FAILED", f"Upstream task {dep['task_key']} failed."
        nb = task.get("notebook_task")
        if nb is not None:
            path = nb["notebook_path"]
            inner = path[len("/Workspace"):] if path.startswith("/Workspace/") else path
            if self.objects.get(inner, {}).get("object_type") != "NOTEBOOK":
                return "FAILED", f"Unable to access the notebook \"{path}\"."
        if task["task_key"] in self.failing_tasks:
            return "FAILED", "Workload failed, see run output for details"
        return "SUCCESS", ""

    def _settle_skipped(self, run: FakeRun, tasks: dict[str, dict[str, Any]]) -> None:
        for key in run.order:
            if key not in run.results and key != run.running:
                result = self._task_result(run, tasks[key])
                if result[0] == "UPSTREAM_FAILED":
                    run.results[key] = result

    def _advance(self, run: FakeRun) -> None:
        """One step per poll: the first poll shows the run pending, then each poll starts or ends one task."""
        run.polls += 1
        if run.polls == 1:
            return
        tasks = {t["task_key"]: t for t in run.settings.get("tasks") or []}
        if run.running is not None:
            run.results[run.running] = self._task_result(run, tasks[run.running])
            run.running = None
            self._settle_skipped(run, tasks)
            return
        self._settle_skipped(run, tasks)
        run.running = next((key for key in run.order if key not in run.results), None)

    def _task_run_id(self, run: FakeRun, key: str) -> int:
        task_run_id = run.task_run_ids.get(key)
        if task_run_id is None:
            task_run_id = run.task_run_ids[key] = self._new_id()
            self.task_runs[task_run_id] = (run, key)
        return task_run_id

    def _task_json(self, run: FakeRun, key: str) -> dict[str, Any]:
        task_run_id = self._task_run_id(run, key)
        task: dict[str, Any] = {"task_key": key, "run_id": task_run_id,
                                "run_page_url": f"{self.url}/?o={WORKSPACE_ID}#job/{run.job_id}/run/{task_run_id}"}
        if key in run.results:
            result, message = run.results[key]
            task["state"] = {"life_cycle_state": "TERMINATED" if result != "UPSTREAM_FAILED" else "SKIPPED",
                             "result_state": result, "state_message": message}
        elif run.running == key:
            task["state"] = {"life_cycle_state": "RUNNING", "state_message": "In run"}
        else:
            task["state"] = {"life_cycle_state": "PENDING", "state_message": ""}
        return task

    def _get_run(self, query: dict[str, str]) -> dict[str, Any]:
        try:
            run = self.runs[int(query.get("run_id", ""))]
        except (KeyError, ValueError):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Run {query.get('run_id')} does not exist.") from None
        start = int(query.get("page_token") or 0)
        if start == 0:
            self._advance(run)
        done = len(run.results) == len(run.order) and run.polls > 1
        if done:
            failed = [r for r, _ in run.results.values() if r in ("FAILED", "UPSTREAM_FAILED")]
            state = {"life_cycle_state": "TERMINATED", "result_state": "FAILED" if failed else "SUCCESS",
                     "state_message": ""}
        else:
            state = {"life_cycle_state": "RUNNING" if run.polls > 1 else "PENDING", "state_message": ""}
        page = run.order[start:start + self.task_page_size]
        out: dict[str, Any] = {
            "job_id": run.job_id, "run_id": run.run_id, "number_in_job": run.run_id,
            "run_name": run.settings.get("name"), "creator_user_name": self.user,
            "run_page_url": f"{self.url}/?o={WORKSPACE_ID}#job/{run.job_id}/run/{run.run_id}",
            "state": state, "run_type": "JOB_RUN", "format": "MULTI_TASK",
            "job_parameters": [{"name": k, "value": v} for k, v in run.parameters.items()],
            "tasks": [self._task_json(run, key) for key in page],
        }
        if start + self.task_page_size < len(run.order):
            out["has_more"] = True
            out["next_page_token"] = str(start + self.task_page_size)
        return out

    def _get_output(self, query: dict[str, str]) -> dict[str, Any]:
        try:
            task_run_id = int(query.get("run_id", ""))
            run, key = self.task_runs[task_run_id]
        except (KeyError, ValueError):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Run {query.get('run_id')} does not exist.") from None
        result, message = run.results.get(key, ("", ""))
        error = self.failing_tasks.get(key) or (message if result == "FAILED" else None)
        return {"metadata": {"run_id": task_run_id, "task_key": key}, **({"error": error} if error else {})}


def _topological(keys: list[str], upstream: dict[str, list[str]]) -> list[str]:
    order: list[str] = []
    while len(order) < len(keys):
        ready = [k for k in keys if k not in order and all(d in order for d in upstream.get(k, []))]
        if not ready:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "The job's task dependencies form a cycle.")
        order.append(ready[0])
    return order
