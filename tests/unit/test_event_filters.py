"""Event source mappings' FilterCriteria, matched as Lambda matches them."""

from __future__ import annotations

import pytest

from serverless_local.services.lambda_.event_sources.filters import matcher
from serverless_local.template import TemplateError


def criteria(*patterns: str) -> dict[str, object]:
    return {"Filters": [{"Pattern": pattern} for pattern in patterns]}


def test_no_filters_is_no_matcher():
    assert matcher(None, where="x") is None
    assert matcher({"Filters": []}, where="x") is None


def test_an_sqs_body_is_matched_as_json_when_it_is_json():
    keep = matcher(criteria('{"body": {"kind": ["job"], "size": [{"numeric": [">", 10]}]}}'), where="x")
    assert keep is not None

    assert keep({"body": '{"kind": "job", "size": 11}'})
    assert not keep({"body": '{"kind": "job", "size": 5}'})
    assert not keep({"body": "kind=job"})


def test_a_plain_text_body_is_matched_as_text():
    keep = matcher(criteria('{"body": [{"prefix": "ERROR"}]}'), where="x")
    assert keep is not None

    assert keep({"body": "ERROR disk full"})
    assert not keep({"body": "INFO all good"})


def test_a_dynamodb_number_is_compared_as_a_number():
    keep = matcher(
        criteria('{"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">=", 9.5]}]}}}}'), where="x"
    )
    assert keep is not None

    assert keep({"eventName": "INSERT", "dynamodb": {"NewImage": {"price": {"N": "12"}}}})
    assert not keep({"eventName": "INSERT", "dynamodb": {"NewImage": {"price": {"N": "9.25"}}}})


def test_any_filter_passing_keeps_the_record():
    keep = matcher(criteria('{"eventName": ["INSERT"]}', '{"eventName": ["REMOVE"]}'), where="x")
    assert keep is not None

    assert keep({"eventName": "REMOVE"}) and keep({"eventName": "INSERT"})
    assert not keep({"eventName": "MODIFY"})


def test_a_pattern_that_is_not_json_names_where_it_is():
    with pytest.raises(TemplateError, match=r"Worker\.Events\.Jobs: FilterCriteria pattern"):
        matcher(criteria("{not json"), where="Worker.Events.Jobs")
