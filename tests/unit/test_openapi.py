"""The API description lists every route the app registers, as a client generator reads it."""

from __future__ import annotations

from typing import Any

from chalicelib.web import openapi


def _app() -> Any:
    from app import app

    return app


def test_every_registered_route_and_method_is_described() -> None:
    # GIVEN the app's routes
    routes = _app().routes
    # WHEN the description is built
    document = openapi.build(routes, "https://api.example.com/api")
    # THEN each path and method is there, with its path parameters
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == set(routes)
    for path, methods in routes.items():
        described = document["paths"][path]
        assert set(described) == {m.lower() for m in methods}, path
        for method in methods:
            operation = described[method.lower()]
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert names == {part[1:-1].rstrip("+") for part in path.split("/") if part.startswith("{")}, (method, path)
            assert operation["summary"], (method, path)
            assert operation["responses"], (method, path)


def test_summaries_come_from_the_views_docstrings() -> None:
    document = openapi.build(_app().routes)
    assert document["paths"]["/openapi.json"]["get"]["summary"] == "The OpenAPI 3.1 description of every route."


def test_store_creation_needs_the_operator_and_settings_need_the_store_key() -> None:
    document = openapi.build(_app().routes)
    schemes = document["components"]["securitySchemes"]
    assert {"operator", "storeApiKey", "supportSession"} <= set(schemes)
    assert document["paths"]["/stores"]["post"]["security"] == [{"operator": []}]
    assert document["paths"]["/stores/{store_id}"]["patch"]["security"] == [{"storeApiKey": []}]
    assert "201" in document["paths"]["/stores"]["post"]["responses"]
    for path, methods in document["paths"].items():
        for operation in methods.values():
            for requirement in operation["security"]:
                assert set(requirement) <= set(schemes), path


def test_an_unknown_route_still_gets_an_operation() -> None:
    # GIVEN a route the table knows nothing about, whose view has no docstring
    class Entry:
        view_name = "list_widgets"
        view_function = staticmethod(lambda store_id, widget_id: None)
        content_types = ["application/json"]

    document = openapi.build({"/stores/{store_id}/widgets/{widget_id}": {"PUT": Entry()}})
    operation = document["paths"]["/stores/{store_id}/widgets/{widget_id}"]["put"]
    # THEN it is described from the route alone
    assert operation["summary"] == "List widgets"
    assert [p["name"] for p in operation["parameters"]] == ["store_id", "widget_id"]
    assert operation["security"] == [{"storeApiKey": []}]
    assert "application/json" in operation["requestBody"]["content"]
    assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_the_description_is_served_at_openapi_json(client: Any) -> None:
    # WHEN a client fetches the description from the running API
    response = client.http.get("/openapi.json")
    # THEN it is the JSON document of the app's routes, pointing at the public URL
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert "/stores/{store_id}" in response.json_body["paths"]
    assert response.json_body["servers"] == [{"url": "http://localhost:8000"}]


def test_the_description_is_precise_enough_for_a_schema_driven_tester() -> None:
    paths = openapi.build(_app().routes)["paths"]
    survey_post = paths["/s/{token}"]["post"]
    # HTML pages say so, with every status they answer and the headers that go with them
    assert set(survey_post["responses"]["200"]["content"]) == {"text/html"}
    assert {"200", "400", "403", "404", "413", "415", "429", "503"} <= set(survey_post["responses"])
    assert "Retry-After" in survey_post["responses"]["429"]["headers"]
    assert "Location" in paths["/stores/{store_id}/dashboard/session"]["post"]["responses"]["303"]["headers"]
    assert set(paths["/stores/{store_id}/responses.csv"]["get"]["responses"]["200"]["content"]) == {"text/csv"}
    # every route that takes a body may answer 413 and 415; the success codes are listed
    for path, methods in paths.items():
        for method, operation in methods.items():
            if "requestBody" in operation:
                assert {"413", "415"} <= set(operation["responses"]), (method, path)
    # path parameters have their shapes: template names, tokens, ids
    parameters = {
        p["name"]: p["schema"] for p in paths["/stores/{store_id}/templates/{name}/{lang}"]["put"]["parameters"]
    }
    assert "survey" in parameters["name"]["pattern"] and set(parameters["lang"]["enum"]) == {
        "en",
        "ar",
        "fa",
        "he",
        "el",
    }
    token = next(p for p in survey_post["parameters"] if p["name"] == "token")
    assert token["schema"]["pattern"] == "^[0-9A-Za-z]{22}$"
    # and the credential each route accepts
    assert paths["/stores/{store_id}/inbox/cases/{case_id}"]["post"]["security"] == [{"supportSession": []}]
    assert paths["/stores/{store_id}/cases"]["get"]["security"] == [{"storeApiKey": []}, {"supportKey": []}]
