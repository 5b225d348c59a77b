"""The local AWS services, one module each, behind one seam (`base.Service`).

A new service is a module with a `Service` subclass and a line in `SERVICES`. They start in this
order (a service may use those before it; one whose values a function's environment names, such as a
user pool's id, comes before Lambda) and stop in the reverse order. Lambda comes first among those that
need moto, so that its instances initialise while moto loads; S3 and Step Functions come before it
because a function's environment names their buckets and state machines (known without moto; they
create them in moto in `attach`).
"""

from __future__ import annotations

from serverless_local.services.apigateway.service import ApiGatewayService
from serverless_local.services.base import Service, ServiceContext
from serverless_local.services.cognito.service import CognitoService
from serverless_local.services.dynamodb.service import DynamoDbService
from serverless_local.services.events.service import EventsService
from serverless_local.services.http_api.service import HttpApiService
from serverless_local.services.iam import IamService
from serverless_local.services.lambda_.service import LambdaService
from serverless_local.services.logs import LogsService
from serverless_local.services.s3.service import S3Service
from serverless_local.services.secretsmanager import SecretsManagerService
from serverless_local.services.sns import SnsService
from serverless_local.services.sqs import SqsService
from serverless_local.services.ssm import SsmService
from serverless_local.services.stepfunctions import StepFunctionsService

#: Cognito decides its ids (no moto needed) and S3 and Step Functions their names before Lambda reads
#: the functions' environment.
SERVICES: tuple[type[Service], ...] = (
    IamService,
    SecretsManagerService,
    SsmService,
    CognitoService,
    S3Service,
    StepFunctionsService,
    LogsService,
    SqsService,
    SnsService,
    EventsService,
    LambdaService,
    DynamoDbService,
    ApiGatewayService,
    HttpApiService,
)

__all__ = ["SERVICES", "Service", "ServiceContext"]
