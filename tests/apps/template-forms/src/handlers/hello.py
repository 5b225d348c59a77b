"""A handler in a folder (src/handlers/hello.handler), with two layers' modules on its path."""

import json
import logging
import os

import common_words
import humanize
import layer_helpers

logger = logging.getLogger("hello")


def handler(event, context):
    logger.debug("a debug record: the JSON LoggingConfig asks for DEBUG")
    logging.getLogger().info("an info record from the root logger")
    print("a print, unbuffered")
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "greeting": os.environ["GREETING"],
                "greeting_name": os.environ["GREETING_NAME"],
                "password": os.environ["PASSWORD"],
                "secret_arn": os.environ["SECRET_ARN"],
                "common": common_words.WORD,
                "helper": layer_helpers.shout("built layer"),
                "humanized": humanize.intcomma(1234567),
                "log_format": os.environ.get("AWS_LAMBDA_LOG_FORMAT"),
            }
        ),
    }
