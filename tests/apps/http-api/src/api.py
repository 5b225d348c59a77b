import json


def echo(event, context):
    """Answers with the event it received (and a cookie, in payload 2.0)."""
    answer = {
        "statusCode": 200,
        "headers": {
            "content-type": "application/json",
            "x-route": event.get("routeKey") or event.get("resource"),
        },
        "body": json.dumps(event),
    }
    if event.get("version") == "2.0":
        answer["cookies"] = ["seen=yes; Path=/"]
    return answer


def plain(event, context):
    """Answers a plain JSON value: HTTP APIs send it as a 200 JSON body."""
    if event["rawPath"].endswith("/broken"):
        raise RuntimeError("broken on purpose")
    return {"hello": "world"}


def gate(event, context):
    """A simple-response authorizer: the ticket "open" is let in."""
    ticket = event["headers"].get("x-ticket")
    return {"isAuthorized": ticket == "open", "context": {"ticket": ticket, "route": event["routeKey"]}}
