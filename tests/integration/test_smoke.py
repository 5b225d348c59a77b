from tests.support.events import record_path


def test_create_then_get(api):
    created = api.post("/records", {"email": "Alice@Example.com", "name": " Alice ", "amount": 0.1})
    assert created.status == 201, created.body
    record = created.json()
    got = api.get(record_path("alice@example.com", record["id"]))
    assert got.status == 200, got.body
    assert got.json() == record
