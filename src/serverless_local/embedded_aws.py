"""The embedded AWS: moto in this process, one account and one region for every caller, one endpoint.

moto is pinned (requirements/lock.txt); these hooks on its internals are what the local runtime needs
from it, each undone by `stop` and each exercised by tests/unit/test_embedded_aws.py:
- every account id and every region resolve to one backend per service (any credentials, any
  region see the same data, as with one local AWS; global services keep their partition key);
- model instances are not tracked (moto keeps every object it ever created, every copy of an item
  returned by a Scan included, for its dashboard: memory grew by ~2 KB per item read);
- DynamoDB AttributeValues are serialised directly instead of through moto's shape walker
  (about 2.5 ms per item returned otherwise);
- services journal their successful actions through `on_action`, which runs under the service's lock;
- a service still warming up (`hold`) has its requests held, at the endpoint and from in-process
  clients alike, until it is ready (or answered with why it cannot be).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
HOOKED_MOTO_VERSION = "5.2.5"
#: moto's own management API (reset, dashboard) bypasses every journal: not served.
_MOTO_API = ("/moto-api", "/favicon.ico")

log = logging.getLogger("serverless_local")

#: Waits until a held service is ready; raises ServiceUnavailable if it never will be.
Gate = Callable[[], None]

#: Called after a successful action of a hooked moto handler: (handler, action name, parameters).
ActionHook = Callable[[Any, str, dict[str, Any]], None]

#: Answers one of the runtime's own requests: (method, path after the name) -> (status, JSON body).
Control = Callable[[str, str], tuple[int, dict[str, Any]]]
#: Where the runtime's own requests are served at the endpoint.
CONTROL_PREFIX = "/_local/"


class ServiceUnavailable(Exception):
    """A held service failed to become ready; the message says why in one sentence."""


class Patches:
    """Attributes replaced on moto's classes, restored in reverse order."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []
        self._inherited: set[tuple[int, str]] = set()

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        """Set `owner.name` to `value` (its own, inherited, or new: an action moto lacks); returns what
        it was (None for a new one)."""
        if name in vars(owner):
            original = vars(owner)[name]
        else:
            original = getattr(owner, name, None)
            self._inherited.add((id(owner), name))
        self._saved.append((owner, name, original))
        # setattr: patching moto's classes is the point here, and mypy rightly objects to it.
        setattr(owner, name, value)
        return original

    def restore(self) -> None:
        """Put every replaced attribute back (an inherited one is inherited again)."""
        while self._saved:
            owner, name, original = self._saved.pop()
            if (id(owner), name) in self._inherited:
                if name in vars(owner):  # (another service may have restored it already)
                    delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._inherited.clear()


class EmbeddedAws:
    """moto in-process (mock_aws) with the hooks above; `wsgi_app` serves it over HTTP."""

    def __init__(self) -> None:
        self._mock: Any = None
        self._patches = Patches()
        self._clients: dict[str, Any] = {}
        self._session: Any = None
        self._clients_lock = threading.Lock()
        self._app: Any = None
        #: Services held until ready, by the name their requests are signed with (`states`, ...).
        self._held: dict[str, Gate] = {}
        #: The runtime's own requests at the endpoint (`/_local/<name>/...`), by name.
        self._controls: dict[str, Control] = {}

    def control(self, name: str, handler: Control) -> None:
        """Answer `/_local/<name>/<rest>` at the endpoint with `handler(method, rest)` (a status and a
        JSON body): what AWS has no API for, such as firing a schedule now."""
        self._controls[name] = handler

    def hold(self, signing_name: str, gate: Gate) -> None:
        """Hold every request for `signing_name` (endpoint and in-process clients) on `gate` first."""
        self._held[signing_name] = gate

    def wait_for(self, signing_name: str) -> None:
        """Return once `signing_name` is ready (at once if it is not held)."""
        gate = self._held.get(signing_name)
        if gate is not None:
            gate()

    def start(self) -> None:
        """Start moto for this process (dummy credentials, one region) and install the hooks."""
        import moto
        from moto import mock_aws

        if _running:
            raise RuntimeError("an embedded AWS is already running in this process")
        if moto.__version__ != HOOKED_MOTO_VERSION:
            log.warning("moto %s is not the version the hooks were tested with", moto.__version__)
        # The runtime's own calls must reach the mock, not an endpoint configured for real AWS.
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")] + ["AWS_PROFILE"]:
            os.environ.pop(name, None)
        os.environ.update({"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION})
        self._mock = mock_aws(
            config={"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}
        )
        self._mock.start()
        _running.append(self)
        self._install()

    @property
    def running(self) -> bool:
        """Whether `start` has run (and `stop` not yet)."""
        return self._mock is not None

    def stop(self) -> None:
        """Stop the mock and give moto its own methods back."""
        mock, self._mock = self._mock, None
        if mock is not None:
            mock.stop(remove_data=False)
        self._patches.restore()
        if self in _running:
            _running.remove(self)

    def client(self, service: str) -> Any:
        """A botocore client of `service` on the in-process mock (for the runtime's own calls).

        One botocore session makes them all: its loader reads each data file (endpoints, partitions,
        the service's model) once, not once per client.
        """
        with self._clients_lock:
            if service not in self._clients:
                import botocore.session

                if self._session is None:
                    self._session = botocore.session.get_session()
                client = self._session.create_client(
                    service,
                    region_name=REGION,
                    aws_access_key_id="local",
                    aws_secret_access_key="local",  # noqa: S106 (the mock's dummy credentials)
                    # botocore names DynamoDB Streams' host by the account (<account>.streams-ddb...),
                    # which moto does not recognise; its regional host reaches the same mock.
                    endpoint_url=_IN_PROCESS_ENDPOINTS.get(service),
                )
                signing_name = client.meta.service_model.signing_name
                client.meta.events.register("before-call", lambda **_: self.wait_for(signing_name))
                self._clients[service] = client
            return self._clients[service]

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        """Replace an attribute of one of moto's classes or modules until `stop` (a service answering
        for moto); returns what it was."""
        return self._patches.replace(owner, name, value)

    def on_action(self, handler_class: type, lock: threading.RLock | None, after: ActionHook) -> None:
        """Run `after` for each successful action of a moto response handler, under `lock` (None: the
        action is not serialised, as a long-polling read must not be).

        Every path into the service passes through its handler's `call_action`: the in-process mock
        and the endpoint alike, so a hook here sees every write and nothing else can interleave.
        """

        def call_action(handler: Any) -> Any:
            with lock if lock is not None else contextlib.nullcontext():
                status, headers, body = original(handler)
                if int(status) < 300:
                    after(handler, handler._get_action(), getattr(handler, "params", None) or {})
            return status, headers, body

        original = self._patches.replace(handler_class, "call_action", call_action)

    def wsgi_app(self) -> Callable[..., Iterable[bytes]]:
        """The WSGI application of the AWS endpoint: every moto service, as moto's server serves them."""
        if self._app is None:
            dispatchers: list[Any] = []
            making = threading.Lock()

            from serverless_local.aws_errors import not_emulated

            def dispatcher() -> Any:
                """moto's server application, made by the first request for a service other than
                DynamoDB (~0.35 s of CPU, Flask's import): a server whose functions only use DynamoDB,
                as most do, never makes it."""
                with making:
                    if not dispatchers:
                        from moto.moto_server.werkzeug_app import (
                            DomainDispatcherApplication,
                            create_backend_app,
                        )

                        application = DomainDispatcherApplication(create_backend_app)
                        dispatchers.append(not_emulated(application, _signing_name))
                    return dispatchers[0]

            dynamodb = not_emulated(_dynamodb, _signing_name)

            def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
                if str(environ.get("PATH_INFO", "")).startswith(_MOTO_API):
                    start_response("404 Not Found", [("Content-Type", "application/json")])
                    return [b'{"message": "not served by the local runtime"}']
                if str(environ.get("PATH_INFO", "")).startswith(CONTROL_PREFIX):
                    return self._answer_control(environ, start_response)
                try:
                    self.wait_for(_signing_name(environ))
                except ServiceUnavailable as error:
                    body = json.dumps({"__type": "ServiceUnavailable", "message": str(error)}).encode()
                    start_response(
                        "503 Service Unavailable",
                        [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ServiceUnavailable")],
                    )
                    return [body]
                if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(_DYNAMODB_TARGET):
                    return dynamodb(environ, start_response)
                return dispatcher()(environ, start_response)  # type: ignore[no-any-return]

            self._app = app
        return self._app  # type: ignore[no-any-return]

    def _answer_control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        from http import HTTPStatus

        name, _, rest = str(environ["PATH_INFO"])[len(CONTROL_PREFIX) :].partition("/")
        handler = self._controls.get(name)
        status, body = (
            (404, {"message": f"no {name} here"})
            if handler is None
            else handler(str(environ.get("REQUEST_METHOD", "GET")), unquote(rest))
        )
        start_response(f"{status} {HTTPStatus(status).phrase}", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    # -- hooks ---------------------------------------------------------------------------------------
    def _install(self) -> None:
        from moto import backends
        from moto.core.base_backend import AccountSpecificBackend, BackendDict
        from moto.core.common_models import BaseModel
        from moto.core.serialize import ResponseSerializer

        patches = self._patches
        saved: dict[str, Any] = {}

        def one_account(by_account: Any, _account: str) -> Any:
            return saved["account"](by_account, ACCOUNT_ID)

        def one_region(by_region: Any, region: str) -> Any:
            regional = region in by_region.regions and REGION in by_region.regions
            return saved["region"](by_region, REGION if regional else region)

        def untracked(cls: Any, *args: Any, **kwargs: Any) -> Any:
            return super(BaseModel, cls).__new__(cls)  # type: ignore[misc]

        saved["account"] = patches.replace(BackendDict, "__getitem__", one_account)
        saved["region"] = patches.replace(AccountSpecificBackend, "__getitem__", one_region)
        patches.replace(BaseModel, "__new__", staticmethod(untracked))
        saved["serialize"] = patches.replace(
            ResponseSerializer, "_serialize", _serializer(lambda: saved["serialize"])
        )
        # moto's dispatcher lists its own package directory on every request to find a service.
        modules = tuple(backends.list_of_moto_modules())
        patches.replace(backends, "list_of_moto_modules", lambda: iter(modules))
        # Each request lists its handler's methods with inspect.getmembers (~0.1 ms) and draws its
        # request id one character at a time (~0.05 ms): once per class, and in one call.
        from moto.core import responses
        from moto.core.utils import method_names_from_class

        patches.replace(responses, "method_names_from_class", functools.cache(method_names_from_class))
        patches.replace(responses, "gen_amzn_requestid_long", _request_id)


def _request_id(headers: dict[str, Any] | None = None) -> str:
    """moto's long request id (52 capital letters and digits), set in `headers` as moto sets it."""
    request_id = base64.b32encode(os.urandom(35)).decode()[:52]
    if isinstance(headers, dict):
        headers["x-amzn-requestid"] = request_id
    return request_id


_running: list[EmbeddedAws] = []
_IN_PROCESS_ENDPOINTS = {"dynamodbstreams": f"https://streams.dynamodb.{REGION}.amazonaws.com"}
#: The service a SigV4 request is for: the fourth part of its credential scope.
_SCOPE = re.compile(r"Credential=[^/,\s&]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def _signing_name(environ: dict[str, Any]) -> str:
    """The signing name of a request (its Authorization header, or a presigned URL's X-Amz-Credential)."""
    signed = str(environ.get("HTTP_AUTHORIZATION", "")) or unquote(str(environ.get("QUERY_STRING", "")))
    found = _SCOPE.search(signed)
    return found.group(1) if found else ""


#: DynamoDB's JSON protocol names its operations in X-Amz-Target.
_DYNAMODB_TARGET = "DynamoDB_20120810."


def _dynamodb(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A DynamoDB request straight to moto's handler: what moto's Flask app does, less its routing.

    Every handler DynamoDB call of every function comes this way; Flask's dispatch cost ~1 ms each.
    """
    from http import HTTPStatus

    from moto.core.request import Request
    from moto.dynamodb.responses import DynamoHandler

    request = Request(environ)
    request.from_wsgi_server = True
    status, headers, body = DynamoHandler.dispatch(request, request.raw_url, dict(request.headers))
    code = int(headers.pop("status", status))
    if "HTTP_ORIGIN" in environ:  # as moto's server answers browsers (flask-cors)
        headers["Access-Control-Allow-Origin"] = "*"
    data = body.encode() if isinstance(body, str) else bytes(body)
    start_response(f"{code} {HTTPStatus(code).phrase}", [(str(k), str(v)) for k, v in headers.items()])
    return [data]


# -- DynamoDB AttributeValues, serialised directly -----------------------------------------------------
_VALUE_MEMBERS = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()


def attribute_value(value: dict[str, Any]) -> dict[str, Any]:
    """One AttributeValue as DynamoDB's JSON protocol writes it (binary as base64)."""
    out: dict[str, Any] = {}
    for kind, inner in value.items():
        if inner is None:
            continue
        if kind == "B":
            out[kind] = _b64(inner)
        elif kind == "BS":
            out[kind] = [_b64(v) for v in inner]
        elif kind == "M":
            out[kind] = {name: attribute_value(v) for name, v in inner.items()}
        elif kind == "L":
            out[kind] = [attribute_value(v) for v in inner]
        else:
            out[kind] = inner
    return out


def _attribute_map(value: dict[str, Any]) -> dict[str, Any]:
    return {name: attribute_value(v) for name, v in value.items()}


def _item_list(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_attribute_map(item) for item in value]


def _is_attribute_value(shape: Any) -> bool:
    return shape.type_name == "structure" and frozenset(shape.members) == _VALUE_MEMBERS


def _direct_encoder(shape: Any) -> Callable[[Any], Any] | None:
    if _is_attribute_value(shape):
        return attribute_value
    if shape.type_name == "map" and _is_attribute_value(shape.value):
        return _attribute_map
    if (
        shape.type_name == "list"
        and shape.member.type_name == "map"
        and _is_attribute_value(shape.member.value)
    ):
        return _item_list
    return None


def _serializer(original: Callable[[], Any]) -> Callable[..., None]:
    """moto's `ResponseSerializer._serialize`, with AttributeValue shapes written directly."""
    # By service and shape name: shape names are unique within a service, not across services.
    encoders: dict[tuple[str, str], Callable[[Any], Any] | None] = {}

    def _serialize(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        name = (self.operation_model.service_model.service_name, shape.name)
        if name not in encoders:
            encoders[name] = _direct_encoder(shape)
        found = encoders[name]
        if found is None or not isinstance(value, dict | list):
            original()(self, serialized, value, shape, key)
        else:
            serialized[self.get_serialized_name(shape, key)] = found(value)

    return _serialize
