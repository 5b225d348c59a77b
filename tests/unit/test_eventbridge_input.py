"""What an EventBridge target receives: the event, Input, InputPath or an InputTransformer's template."""

from __future__ import annotations

import json

from serverless_local.services.events.input import scheduled_event, target_input

EVENT = {
    "version": "0",
    "id": "e-1",
    "detail-type": "OrderShipped",
    "source": "shop.orders",
    "account": "123456789012",
    "time": "2024-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {"order": 42, "customer": {"name": 'Ann "A" Lee'}, "items": ["a", "b"]},
}


def test_without_an_input_setting_the_target_gets_the_event():
    assert json.loads(target_input({"Arn": "x"}, EVENT)) == EVENT


def test_input_is_sent_as_written():
    assert target_input({"Input": '{"fixed": true}'}, EVENT) == '{"fixed": true}'


def test_input_path_selects_a_part():
    assert json.loads(target_input({"InputPath": "$.detail.customer"}, EVENT)) == {"name": 'Ann "A" Lee'}
    assert json.loads(target_input({"InputPath": "$.detail.nothing"}, EVENT)) is None


def test_a_transformer_puts_values_in_json_and_text_as_eventbridge_does():
    transformer = {
        "InputPathsMap": {
            "order": "$.detail.order",
            "name": "$.detail.customer.name",
            "items": "$.detail.items",
        },
        "InputTemplate": '{"order": <order>, "items": <items>, "note": "<name> ordered <order>"}',
    }
    filled = json.loads(target_input({"InputTransformer": transformer}, EVENT))

    assert filled == {"order": 42, "items": ["a", "b"], "note": 'Ann "A" Lee ordered 42'}


def test_a_transformer_template_may_be_text_and_may_hold_the_whole_event():
    text = {"InputPathsMap": {"source": "$.source"}, "InputTemplate": '"<source> said hello"'}
    assert target_input({"InputTransformer": text}, EVENT) == '"shop.orders said hello"'
    whole = {"InputTemplate": '{"wrapped": <aws.events.event.json>}'}
    assert json.loads(target_input({"InputTransformer": whole}, EVENT)) == {"wrapped": EVENT}


def test_a_scheduled_event_names_its_rule():
    event = scheduled_event(
        "arn:aws:events:us-east-1:1:rule/nightly", "id-1", "2024-01-01T03:00:00Z", "1", "us-east-1"
    )

    assert (event["source"], event["detail-type"], event["detail"]) == ("aws.events", "Scheduled Event", {})
    assert event["resources"] == ["arn:aws:events:us-east-1:1:rule/nightly"]
