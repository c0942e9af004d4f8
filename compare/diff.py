"""``python -m compare diff``: send the same requests to two deployments and compare the answers.

Both deployments must start from identically seeded databases (the same rows, ids and admin),
and, for ``/availability``, use the same inventory service. Every *flow* (a named list of
requests, see ``docs/response-diff.md``) runs once against each deployment, with one cookie jar
per deployment and flow; after each request the two answers are normalised and compared:

- the status code;
- the headers ``Content-Type`` (media type and parameters; names, ``charset`` values and the
  white space around ``;`` are case- and space-insensitive, RFC 9110 §8.3.1), ``Location`` and
  ``Link`` (the deployment's own origin removed), ``ETag`` (exactly) and ``Allow`` (as a set);
- the body: JSON with every RFC 3339 timestamp, and every ``checked_at``, replaced by
  :data:`TIMESTAMP`; text with its timestamps replaced; in both, the deployment's own origin
  (``http://host:port``) removed; other bytes by their length and SHA-256.

A difference is reported as a unified diff of the two normalised answers, rendered as text
(:meth:`Answer.render`, :meth:`Comparison.diff`). The flows and their file format are
:mod:`compare.flows`; the default flows ship as ``compare/flows/default.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import json
import re
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Final
from typing import TextIO
from urllib.parse import urlsplit

import httpx

from compare.flows import DEFAULT_VARIABLES
from compare.flows import FlowError
from compare.flows import FlowsFile
from compare.flows import Step
from compare.flows import build_request
from compare.flows import load_flows
from compare.flows import load_openapi
from compare.flows import openapi_steps

_PROG: Final = "python -m compare diff"

#: What every timestamp in a body is replaced with before comparing.
TIMESTAMP: Final = "<timestamp>"
#: Keys whose string values are replaced with :data:`TIMESTAMP` whatever their form: they hold
#: the time of the request itself (``GET /books/{id}/availability``).
VOLATILE_KEYS: Final = frozenset({"checked_at"})
#: The headers compared, in the order they are rendered.
COMPARED_HEADERS: Final = ("Content-Type", "Location", "ETag", "Allow", "Link")

_RFC3339 = r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"
_TIMESTAMP_ONLY = re.compile(rf"^{_RFC3339}$")
_TIMESTAMP_IN_TEXT = re.compile(rf"\b{_RFC3339}")
_LINK_TARGET = re.compile(r"<([^>]*)>")


@dataclass(frozen=True)
class Answer:
    """One normalised response: what is compared."""

    status: int
    headers: dict[str, str]
    body: Any

    def render(self) -> str:
        """Return the answer as text: status, compared headers, a blank line, the body."""
        lines = [f"HTTP {self.status}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        lines.append("")
        if isinstance(self.body, str):
            lines.append(self.body)
        elif self.body is not None:
            lines.append(json.dumps(self.body, indent=2, sort_keys=True, ensure_ascii=False))
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """Return the answer as a JSON object (``--json``)."""
        return {"status": self.status, "headers": self.headers, "body": self.body}


def normalise_json(value: Any, base_url: str = "") -> Any:
    """Replace RFC 3339 strings, and the strings of :data:`VOLATILE_KEYS`, with :data:`TIMESTAMP`.

    With ``base_url``, that deployment's origin is removed from the other strings.
    """
    if isinstance(value, dict):
        return {
            key: TIMESTAMP
            if key in VOLATILE_KEYS and isinstance(item, str)
            else normalise_json(item, base_url)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [normalise_json(item, base_url) for item in value]
    if isinstance(value, str) and _TIMESTAMP_ONLY.match(value):
        return TIMESTAMP
    if isinstance(value, str) and base_url:
        return _without_origin(value, base_url)
    return value


def normalise_media_type(value: str) -> str:
    """Return ``type/subtype; name=value`` with case, spacing, quoting and order made canonical.

    Type, subtype and parameter names are case-insensitive, and so is the ``charset`` value;
    other parameter values are compared as sent (RFC 9110 §8.3.1, §5.6.6).
    """
    media_type, *parameters = value.split(";")
    canonical = []
    for parameter in parameters:
        name, _, raw = parameter.partition("=")
        name, raw = name.strip().lower(), raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        canonical.append(f"{name}={raw.lower() if name == 'charset' else raw}")
    return "; ".join([media_type.strip().lower(), *sorted(canonical)])


def _strip_origin(target: str, base_url: str) -> str:
    origin = urlsplit(base_url)
    found = urlsplit(target)
    if (found.scheme, found.netloc) == (origin.scheme, origin.netloc):
        return target[len(f"{found.scheme}://{found.netloc}") :] or "/"
    return target


def normalise_headers(headers: httpx.Headers, base_url: str) -> dict[str, str]:
    """Return the :data:`COMPARED_HEADERS` present in ``headers``, normalised."""
    found = {}
    for name in COMPARED_HEADERS:
        values = headers.get_list(name)
        if not values:
            continue
        value = ", ".join(values)
        if name == "Content-Type":
            value = normalise_media_type(value)
        elif name == "Allow":
            value = ", ".join(sorted({m.strip().upper() for m in value.split(",") if m.strip()}))
        elif name == "Location":
            value = _strip_origin(value.strip(), base_url)
        elif name == "Link":
            value = _LINK_TARGET.sub(lambda m: f"<{_strip_origin(m.group(1), base_url)}>", value)
        found[name] = value
    return found


def normalise(response: httpx.Response, base_url: str) -> Answer:
    """Return the comparable form of ``response`` from the deployment at ``base_url``.

    In text, and in the strings of a JSON body, the deployment's own origin is removed too
    (the HTML of a redirect names its absolute target).
    """
    headers = normalise_headers(response.headers, base_url)
    media_type = headers.get("Content-Type", "").split(";")[0]
    content = response.content
    body: Any = None
    if content and (media_type == "application/json" or media_type.endswith("+json")):
        try:
            body = normalise_json(json.loads(content), base_url)
        except ValueError:
            body = _normalise_text(content.decode("utf-8", "replace"), base_url)
    elif content and media_type.startswith("text/"):
        body = _normalise_text(content.decode("utf-8", "replace"), base_url)
    elif content:
        body = f"<{len(content)} bytes, sha256 {hashlib.sha256(content).hexdigest()}>"
    return Answer(response.status_code, headers, body)


def _normalise_text(text: str, base_url: str) -> str:
    return _without_origin(_TIMESTAMP_IN_TEXT.sub(TIMESTAMP, text), base_url)


def _without_origin(text: str, base_url: str) -> str:
    origin = urlsplit(base_url)
    return text.replace(f"{origin.scheme}://{origin.netloc}", "") if origin.netloc else text


def capture(response: httpx.Response, expression: str) -> Any:
    """Return what ``expression`` (``status``, ``header.NAME``, ``body.KEY…``) picks, or ``None``."""
    if expression == "status":
        return response.status_code
    kind, _, rest = expression.partition(".")
    if kind == "header":
        return response.headers.get(rest)
    if kind != "body":
        return None
    try:
        value: Any = response.json()
    except ValueError:
        return None
    for key in rest.split(".") if rest else []:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


@dataclass(frozen=True)
class Comparison:
    """One request sent to both deployments, and their normalised answers."""

    flow: str
    step: int
    label: str
    method: str
    old_path: str
    new_path: str
    old: Answer
    new: Answer

    @property
    def differs(self) -> bool:
        """Whether the normalised answers differ.

        Their renderings are compared, not the Python values: ``1``, ``1.0`` and ``true`` are
        equal in Python and different in JSON.
        """
        return self.old.render() != self.new.render()

    def diff(self) -> str:
        """Return the unified diff of the two rendered answers (``""`` when they agree)."""
        return "\n".join(
            difflib.unified_diff(
                self.old.render().splitlines(),
                self.new.render().splitlines(),
                fromfile=f"old {self.method} {self.old_path}",
                tofile=f"new {self.method} {self.new_path}",
                lineterm="",
            )
        )


@dataclass
class Deployment:
    """One side of the comparison: a base URL and the options of its clients."""

    base_url: str
    timeout_s: float = 10.0
    _clients: list[httpx.Client] = field(default_factory=list, repr=False)

    def client(self) -> httpx.Client:
        """Return a new client with an empty cookie jar; it does not follow redirects."""
        client = httpx.Client(base_url=self.base_url, timeout=self.timeout_s)
        self._clients.append(client)
        return client

    def close(self) -> None:
        """Close every client handed out."""
        for client in self._clients:
            client.close()


def run_flows(
    flows: FlowsFile,
    old: Deployment,
    new: Deployment,
    *,
    document: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
) -> Iterator[Comparison]:
    """Run every flow against both deployments, yielding one :class:`Comparison` per request.

    Variables: :data:`DEFAULT_VARIABLES`, then the file's, then ``variables``; captures add to
    them per deployment, so each side goes on with its own ids and ETags.

    :raises FlowError: a flow expands the OpenAPI document and ``document`` is ``None``.
    :raises httpx.TransportError: a deployment cannot be reached or does not answer in time.
    """
    base = {**DEFAULT_VARIABLES, **flows.variables, **(variables or {})}
    for flow in flows.flows:
        steps: list[Step] = []
        for item in flow.steps:
            if isinstance(item, Step):
                steps.append(item)
            elif document is None:
                raise FlowError(f"flow {flow.name!r} needs the OpenAPI document")
            else:
                try:
                    steps.extend(openapi_steps(document, item.skip))
                except (KeyError, TypeError, AttributeError, ValueError) as exc:
                    message = f"{type(exc).__name__}: {exc}".splitlines()[0]
                    raise FlowError(f"the OpenAPI document cannot be expanded: {message}") from None
        sides = [(old, old.client(), dict(base)), (new, new.client(), dict(base))]
        for number, step in enumerate(steps, start=1):
            answers = []
            for deployment, client, known in sides:
                request = build_request(client, step, known)
                response = client.send(request)
                for name, expression in step.capture.items():
                    value = capture(response, expression)
                    if value is not None:
                        known[name] = value
                answers.append((request, normalise(response, deployment.base_url)))
            (old_request, old_answer), (new_request, new_answer) = answers
            yield Comparison(
                flow=flow.name,
                step=number,
                label=step.label(),
                method=step.method.upper(),
                old_path=old_request.url.raw_path.decode("ascii", "replace"),
                new_path=new_request.url.raw_path.decode("ascii", "replace"),
                old=old_answer,
                new=new_answer,
            )


def report_text(comparisons: list[Comparison]) -> str:
    """Return the differences as text: a heading and a unified diff per differing request."""
    blocks = []
    for comparison in comparisons:
        if comparison.differs:
            heading = f"# {comparison.flow} / step {comparison.step}: {comparison.label}"
            blocks.append(f"{heading}\n{comparison.diff()}\n")
    return "\n".join(blocks)


def report_json(comparisons: list[Comparison], old_url: str, new_url: str) -> dict[str, Any]:
    """Return the run as a JSON object: the URLs, the request count, and every difference."""
    return {
        "old": old_url,
        "new": new_url,
        "requests": len(comparisons),
        "differences": [
            {
                "flow": comparison.flow,
                "step": comparison.step,
                "label": comparison.label,
                "method": comparison.method,
                "old_path": comparison.old_path,
                "new_path": comparison.new_path,
                "old": comparison.old.as_json(),
                "new": comparison.new.as_json(),
                "diff": comparison.diff(),
            }
            for comparison in comparisons
            if comparison.differs
        ],
    }


def run_diff(
    *,
    old_url: str,
    new_url: str,
    flows_path: Path | None,
    openapi: str | None,
    variables: Mapping[str, str],
    timeout_s: float,
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    """Compare two deployments; print differences on ``out`` and a summary on ``err``.

    :param openapi: URL or file of the OpenAPI document; default ``{new_url}/openapi.json``,
        fetched only when a flow expands it.
    :returns: 0 no difference, 1 differences, 2 the flows, the document or a deployment
        cannot be used (one line on ``err``).
    """
    old, new = (
        Deployment(old_url.rstrip("/"), timeout_s),
        Deployment(new_url.rstrip("/"), timeout_s),
    )
    try:
        flows = load_flows(flows_path)
        document = None
        if flows.needs_openapi():
            source = openapi or f"{new.base_url}/openapi.json"
            document = load_openapi(source, new.client())
        comparisons = list(run_flows(flows, old, new, document=document, variables=variables))
    except FlowError as exc:
        print(f"{_PROG}: error: {exc}", file=err)
        return 2
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        print(f"{_PROG}: error: {_describe(exc)}", file=err)
        return 2
    finally:
        old.close()
        new.close()
    differing = sum(comparison.differs for comparison in comparisons)
    if as_json:
        print(json.dumps(report_json(comparisons, old.base_url, new.base_url), indent=2), file=out)
    elif differing:
        print(report_text(comparisons), file=out, end="")
    print(
        f"{len(comparisons)} requests in {len(flows.flows)} flows: "
        f"{differing or 'no'} difference{'' if differing == 1 else 's'}",
        file=err,
    )
    return 1 if differing else 0


def _describe(exc: Exception) -> str:
    where = ""
    # ``request`` raises RuntimeError when the error came before a request existed.
    with contextlib.suppress(RuntimeError):
        if isinstance(exc, httpx.HTTPError):
            where = f"{exc.request.method} {exc.request.url}: "
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"{where}{detail}"


def base_url_arg(text: str) -> str:
    """Parse ``--old`` and ``--new``: an ``http://`` or ``https://`` URL, without trailing ``/``."""
    scheme, _, rest = text.partition("://")
    if scheme not in ("http", "https") or not rest.strip("/"):
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// URL, got {text!r}")
    return text.rstrip("/")


def variable_arg(text: str) -> tuple[str, str]:
    """Parse ``--var NAME=VALUE``."""
    name, equals, value = text.partition("=")
    if not equals or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"must be NAME=VALUE, got {text!r}")
    return name, value


def timeout_arg(text: str) -> float:
    """Parse ``--timeout``: seconds, more than 0 and at most 600."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"must be seconds between 0 and 600, got {text!r}")
    return value
