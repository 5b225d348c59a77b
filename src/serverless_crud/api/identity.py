"""The caller of a request, from what API Gateway's authorizer put in the event.

Today the API has no authentication (the open mode): every request is `Caller.open()`. Sign-in
adds the Cognito claims (`requestContext.authorizer.claims`) here, and nowhere else.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from serverless_crud.logic.access import Caller


def caller(event: APIGatewayProxyEvent) -> Caller:
    """Who sent `event`."""
    del event  # the open mode: nobody signs in
    return Caller.open()
