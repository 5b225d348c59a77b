"""What an EventBridge target receives: the event, or its `Input`, `InputPath` or `InputTransformer`.

- no input setting: the event as EventBridge sends it (`version`, `id`, `detail-type`, `source`,
  `account`, `time`, `region`, `resources`, `detail`);
- `Input`: that JSON text, as it is;
- `InputPath`: the part of the event a JSONPath selects;
- `InputTransformer`: its `InputPathsMap` values put into its `InputTemplate`, where `<name>` becomes
  the value selected (a string inside quotes as its text, anywhere else as JSON), and
  `<aws.events.event.json>` the whole event. A template that is not JSON once filled is sent as text.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def target_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """The text `target` receives for `event` (JSON, unless an InputTransformer's template is text)."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        found = select(str(target["InputPath"]), event)
        return json.dumps(found[0] if found else None)
    transformer = target.get("InputTransformer")
    if isinstance(transformer, dict) and transformer.get("InputTemplate") is not None:
        return transform(str(transformer["InputTemplate"]), transformer.get("InputPathsMap") or {}, event)
    return json.dumps(event)


def select(path: str, event: Any) -> list[Any]:
    """The values a JSONPath selects in `event`."""
    from jsonpath_ng.ext import parse  # type: ignore[attr-defined]

    return [match.value for match in parse(path).find(event)]


def transform(template: str, paths: dict[str, Any], event: dict[str, Any]) -> str:
    """An InputTransformer's template, filled."""
    values: dict[str, Any] = {"aws.events.event.json": event, "aws.events.event": event}
    for name, path in paths.items():
        found = select(str(path), event)
        values[name] = found[0] if found else None
    out: list[str] = []
    inside = False
    position = 0
    for index, char in enumerate(template):
        if char == '"' and (index == 0 or template[index - 1] != "\\"):
            inside = not inside
        match = _PLACEHOLDER.match(template, index) if char == "<" else None
        if match is None or match.group(1) not in values or index < position:
            continue
        out.append(template[position:index])
        value = values[match.group(1)]
        if inside:  # inside a JSON string: the value's text
            out.append(json.dumps(value)[1:-1] if isinstance(value, str) else json.dumps(value))
        else:
            out.append(json.dumps(value))
        position = match.end()
    out.append(template[position:])
    return "".join(out)


def scheduled_event(rule_arn: str, event_id: str, time: str, account: str, region: str) -> dict[str, Any]:
    """The event a scheduled rule sends its targets."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time,
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
