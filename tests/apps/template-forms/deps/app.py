"""A function whose requirements.txt sam build would install next to it."""

import inflection


def handler(event, context):
    word = event["pathParameters"]["word"]
    return {"statusCode": 200, "body": inflection.pluralize(word)}
