"""Flows: the request sequences ``python -m compare diff`` sends, and their file format.

A flows file is JSON (``docs/response-diff.md`` describes it in full)::

    {"version": 1,
     "variables": {"reader": "diff_reader"},
     "flows": [{"name": "log in",
                "steps": [{"method": "POST", "path": "/auth/login",
                           "json": {"username": "{reader}", "password": "…"}},
                          {"method": "GET", "path": "/auth/me"},
                          {"openapi": "operations", "skip": ["POST /auth/logout"]}]}]}

A step is one request; ``{name}`` in its path, header values and bodies is a variable, and
``capture`` sets variables from the answer. ``{"openapi": "operations"}`` stands for one request
per operation of the OpenAPI document, with example data (:func:`openapi_steps`). The default
flows are ``default.json`` next to this module.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import Final
from typing import Literal

import httpx
from pydantic import Base64Bytes
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Discriminator
from pydantic import Field
from pydantic import StringConstraints
from pydantic import Tag
from pydantic import ValidationError
from pydantic import model_validator

#: Variables every flows file starts with; ``--var NAME=VALUE`` and the file may override them.
DEFAULT_VARIABLES: Final = {"admin_username": "admin", "admin_password": "admin-password"}
#: Order of the requests made from the OpenAPI document: reads first, deletes last.
_METHOD_ORDER: Final = {"get": 0, "head": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}
#: A file that :func:`legacy_flask.media.sniff_image` takes for a PNG, for documented binary uploads.
SAMPLE_PNG: Final = b"\x89PNG\r\n\x1a\n" + bytes(range(16))

_PYDANTIC_LOC_NOISE = ("function-", "request-step", "openapi-step")
_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class FlowError(ValueError):
    """A flows file or OpenAPI document that cannot be used; ``str()`` is one line."""


class Upload(BaseModel):
    """One file of a ``multipart/form-data`` body: ``text`` or ``base64`` content."""

    model_config = ConfigDict(extra="forbid")

    filename: str = "upload"
    content_type: str = "application/octet-stream"
    text: str | None = None
    base64: Base64Bytes | None = None

    def content(self) -> bytes:
        """Return the file's bytes."""
        return self.base64 if self.base64 is not None else (self.text or "").encode()


Capture = Annotated[str, StringConstraints(pattern=r"^(status|header\.[!-~]+|body(\.[^.]+)*)$")]


class Step(BaseModel):
    """One request. ``{name}`` in ``path``, header values and bodies is a variable.

    At most one body: ``json`` (any JSON value), ``body`` (text) or ``body_base64`` (bytes),
    or a form of ``files`` and ``form`` fields (``multipart/form-data`` when there are files).
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    method: str = Field(default="GET", pattern=r"^[A-Za-z]+$")
    path: str = Field(pattern=r"^/")
    headers: dict[str, str] = {}
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    body_base64: Base64Bytes | None = None
    form: dict[str, str] = {}
    files: dict[str, Upload] = {}
    #: variable name → ``status``, ``header.NAME`` or ``body.KEY.KEY…`` of the answer.
    capture: dict[str, Capture] = {}

    @model_validator(mode="after")
    def _one_body(self) -> Step:
        given = {"json_body", "body", "body_base64"} & self.model_fields_set
        if len(given) + bool(self.files or self.form) > 1:
            raise ValueError("a step has one body: json, body, body_base64, or files and form")
        return self

    def label(self) -> str:
        """Return the step's name, or ``METHOD /path``."""
        return self.name or f"{self.method.upper()} {self.path}"


class OpenAPIStep(BaseModel):
    """Stands for one request per operation of the OpenAPI document, but for those in ``skip``."""

    model_config = ConfigDict(extra="forbid")

    openapi: Literal["operations"]
    skip: list[str] = []


def _step_kind(value: Any) -> str:
    if isinstance(value, OpenAPIStep) or (isinstance(value, dict) and "openapi" in value):
        return "openapi-step"
    return "request-step"


#: A step of a flow: a request, or the document's operations (errors name the kind it has).
AnyStep = Annotated[
    Annotated[Step, Tag("request-step")] | Annotated[OpenAPIStep, Tag("openapi-step")],
    Discriminator(_step_kind),
]


class Flow(BaseModel):
    """A named sequence of requests; each deployment runs it with a cookie jar of its own."""

    model_config = ConfigDict(extra="forbid")

    name: str
    steps: list[AnyStep] = Field(min_length=1)


class FlowsFile(BaseModel):
    """A flows file (``docs/response-diff.md``)."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    variables: dict[str, str] = {}
    flows: list[Flow] = Field(min_length=1)

    def needs_openapi(self) -> bool:
        """Whether a flow expands the OpenAPI document."""
        return any(isinstance(step, OpenAPIStep) for flow in self.flows for step in flow.steps)


def load_flows(path: Path | None = None) -> FlowsFile:
    """Read and validate a flows file; ``None`` reads the default flows shipped in the package.

    :raises FlowError: the file cannot be read, is not JSON, or is not a flows file.
    """
    try:
        if path is None:
            text = (resources.files(__package__) / "default.json").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        return FlowsFile.model_validate_json(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError(f"cannot read the flows file {path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        # pydantic names the union member and the validator it went through; the user wrote
        # neither: keep the field names and indexes.
        parts = [p for p in first["loc"] if not str(p).startswith(_PYDANTIC_LOC_NOISE)]
        where = ".".join(str(part) for part in parts) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        raise FlowError(f"{path or 'default flows'}: {where}: {message}") from None


def load_openapi(source: str, client: httpx.Client) -> dict[str, Any]:
    """Load an OpenAPI document from a URL (``http://…``) or a file.

    :raises FlowError: it cannot be fetched or read, or is not a JSON object with ``paths``.
    """
    try:
        if source.startswith(("http://", "https://")):
            response = client.get(source)
            if response.status_code != 200:
                raise FlowError(f"{source} answered {response.status_code}")
            document = response.json()
        else:
            document = json.loads(Path(source).read_text("utf-8"))
    except httpx.HTTPError as exc:
        raise FlowError(f"cannot fetch {source}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise FlowError(f"cannot read {source}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise FlowError(f"{source} is not an OpenAPI document")
    return document


def _resolve(document: Mapping[str, Any], schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        target: Any = document
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def example_value(document: Mapping[str, Any], schema: Any) -> Any:
    """Return a value for ``schema``: its example or default, else a small valid-looking one.

    Objects get their required properties; strings are ``example`` stretched or cut to fit
    ``minLength``/``maxLength``; numbers their ``minimum`` (or 1); ``format: binary`` gives
    :data:`SAMPLE_PNG`. ``pattern`` is not honoured: such a request is still sent to both.
    """
    schema = _resolve(document, schema)
    if not isinstance(schema, dict):
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            options = [_resolve(document, option) for option in schema[key]]
            usable = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return example_value(document, (usable or options)[0])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {
            name: example_value(document, properties[name]) for name in schema.get("required", [])
        }
    if kind == "array":
        return [example_value(document, schema.get("items", {}))] * schema.get("minItems", 0)
    if kind == "string":
        if schema.get("format") == "binary":
            return SAMPLE_PNG
        size = max(schema.get("minLength", 0), min(7, schema.get("maxLength", 7)))
        return ("example" * (size // 7 + 1))[:size]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return None


def openapi_steps(document: Mapping[str, Any], skip: list[str]) -> list[Step]:
    """Return one :class:`Step` per documented operation, reads first and deletes last."""
    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in _METHOD_ORDER and f"{method.upper()} {path}" not in skip
    ]
    operations.sort(key=lambda op: _METHOD_ORDER[op[0]])
    steps = []
    for method, template, operation in operations:
        path, query = template, {}
        for parameter in operation.get("parameters", []):
            parameter = _resolve(document, parameter)
            value = parameter.get("example", example_value(document, parameter.get("schema")))
            if parameter.get("in") == "path":
                path = path.replace("{" + parameter["name"] + "}", str(value))
            elif parameter.get("in") == "query" and (
                parameter.get("required") or "example" in parameter
            ):
                query[parameter["name"]] = str(value)
        step = Step(name=f"{method.upper()} {template}", method=method.upper(), path=path)
        if query:
            step.path += "?" + str(httpx.QueryParams(query))
        content = _resolve(document, operation.get("requestBody", {})).get("content", {})
        if content:
            media_type = (
                "application/json" if "application/json" in content else next(iter(content))
            )
            value = example_value(document, content[media_type].get("schema", {}))
            if media_type == "multipart/form-data" and isinstance(value, dict):
                for name, part in value.items():
                    if isinstance(part, bytes):
                        step.files[name] = Upload(filename=name, base64=base64.b64encode(part))
                    else:
                        step.form[name] = json.dumps(part) if not isinstance(part, str) else part
            else:
                step.headers["Content-Type"] = media_type
                step.body = json.dumps(value, default=str)
        steps.append(step)
    return steps


def substitute(value: Any, variables: Mapping[str, Any]) -> Any:
    """Replace ``{name}`` with the value of variable ``name`` in the strings of ``value``.

    A string that is only ``{name}`` becomes the variable's value itself, of its JSON type (a
    captured id stays an int in a JSON body). Unknown names are left as they are.
    """
    if isinstance(value, str):
        whole = _VARIABLE.fullmatch(value)
        if whole and whole.group(1) in variables:
            return variables[whole.group(1)]  # keeps the captured JSON type (an int id)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            return str(variables[name]) if name in variables else match.group(0)

        return _VARIABLE.sub(replace, value)
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    return value


def _text(value: Any, variables: Mapping[str, Any]) -> str:
    return str(substitute(value, variables))


def build_request(client: httpx.Client, step: Step, variables: Mapping[str, Any]) -> httpx.Request:
    """Return ``step`` as a request of ``client``, its variables replaced."""
    headers = {name: _text(value, variables) for name, value in step.headers.items()}
    kwargs: dict[str, Any] = {}
    if "json_body" in step.model_fields_set:
        kwargs["json"] = substitute(step.json_body, variables)
    elif step.body is not None:
        kwargs["content"] = _text(step.body, variables).encode()
    elif step.body_base64 is not None:
        kwargs["content"] = step.body_base64
    if step.files or step.form:
        kwargs["files"] = {
            name: (upload.filename, upload.content(), upload.content_type)
            for name, upload in step.files.items()
        }
        kwargs["data"] = {name: _text(value, variables) for name, value in step.form.items()}
    url = _text(step.path, variables)
    return client.build_request(step.method.upper(), url, headers=headers, **kwargs)
