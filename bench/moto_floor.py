"""The floor of the local runtime's start-up, run as a script by bench.local_runtime (not imported):
a bare moto server that starts holding the same tables and items.

No journal, no checksum, no other service, no gateway, no function: moto's own threaded server, the
tables created through moto's DynamoDB backend, the items read from a JSON Lines file (DynamoDB's
export JSON, one `{"Item": ...}` a line) with the standard library's json and built with moto's own
DynamoType (into moto's Item without its per-attribute size check, which would cost ~1 ms an item).
The parent times it from process start to the answer of its first Scan.

argv: the tables (a JSON list of CreateTable parameters), the items file, the table the items go in,
the port to serve on. Prints `PORT <n>` once it serves.
"""

import json
import sys


def main() -> None:
    """Load, serve, say the port, serve until killed."""
    tables_file, items_file, table_name, port = sys.argv[1:5]
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.server import ThreadedMotoServer

    backend = dynamodb_backends["123456789012"]["us-east-1"]
    with open(tables_file) as tables:
        for params in json.load(tables):
            backend.create_table(
                params["TableName"],
                schema=params["KeySchema"],
                throughput=None,
                attr=params["AttributeDefinitions"],
                global_indexes=params.get("GlobalSecondaryIndexes"),
                indexes=params.get("LocalSecondaryIndexes"),
                streams=None,
                billing_mode=params.get("BillingMode", "PAY_PER_REQUEST"),
                sse_specification=None,
                tags=[],
                deletion_protection_enabled=None,
                warm_throughput=None,
            )
    table = backend.tables[table_name]
    with open(items_file, "rb") as lines:
        for line in lines:
            attributes = json.loads(line)["Item"]
            item = Item.__new__(Item)
            item.hash_key = DynamoType(attributes[table.hash_key_attr])
            item.range_key = DynamoType(attributes[table.range_key_attr])
            item.attrs = LimitedSizeDict()
            dict.update(item.attrs, {name: DynamoType(value) for name, value in attributes.items()})
            table.items[item.hash_key][item.range_key] = item
    server = ThreadedMotoServer("127.0.0.1", int(port), verbose=False)
    server.start()
    print(f"PORT {port}", flush=True)
    sys.stdin.read()  # until the parent closes it


if __name__ == "__main__":
    main()
