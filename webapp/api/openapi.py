"""The OpenAPI 3.1 description of API v1, served at /api/v1/openapi.json."""

ERROR_CODES = {
    "400": ["malformed_request", "invalid_card_code", "invalid_amount", "invalid_idempotency_key"],
    "401": ["unauthorized"],
    "403": ["shop_inactive"],
    "404": ["unknown_card", "card_revoked"],
    "409": ["cooldown", "idempotency_key_in_flight"],
    "422": ["idempotency_key_reused"],
    "429": ["rate_limited"],
}


def _error_response(status: str, description: str) -> dict:
    return {
        "description": f"{description} (codes: {', '.join(ERROR_CODES[status])})",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def openapi_document(base_url: str) -> dict:
    errors = {
        "400": _error_response("400", "Malformed request"),
        "401": _error_response("401", "Missing, unknown or revoked API key"),
        "403": _error_response("403", "The key's shop is no longer an active member"),
        "429": _error_response("429", "Too many requests"),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Quartier API",
            "version": "1",
            "description": (
                "API for shops' tills. Authenticate with `Authorization: Bearer <key>`; a key "
                "belongs to one shop (`flask --app webapp api-key create SHOP_SLUG`). Amounts are "
                "integer cents. Every credit carries an `Idempotency-Key` header made by the "
                "till (a UUID): the same key with the same payload returns the original visit "
                "(200, `Idempotent-Replayed: true`) and never credits twice."
            ),
        },
        "servers": [{"url": f"{base_url}/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "credited_at": {"type": "string", "format": "date-time"},
                                "retry_at": {"type": "string", "format": "date-time"},
                            },
                        }
                    },
                },
                "VisitRequest": {
                    "type": "object",
                    "required": ["card", "amount_cents"],
                    "properties": {
                        "card": {
                            "type": "string",
                            "description": "The signed code read from the QR (`NUMBER.MAC` or the whole URL) "
                            "or the 12-digit card number",
                        },
                        "amount_cents": {"type": "integer", "minimum": 0, "maximum": 1000000},
                    },
                },
                "Visit": {
                    "type": "object",
                    "properties": {
                        "visit": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "card": {"type": "string"},
                                "shop_id": {"type": "integer"},
                                "amount_cents": {"type": "integer"},
                                "points": {"type": "integer"},
                                "visited_at": {"type": "string", "format": "date-time"},
                            },
                        },
                        "replayed": {"type": "boolean"},
                    },
                },
                "Card": {
                    "type": "object",
                    "properties": {
                        "card": {
                            "type": "object",
                            "properties": {
                                "number": {"type": "string"},
                                "status": {"type": "string"},
                                "first_name": {"type": ["string", "null"]},
                                "points": {"type": "integer"},
                                "last_visit_here": {"type": ["string", "null"], "format": "date-time"},
                            },
                        }
                    },
                },
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/visits": {
                "post": {
                    "summary": "Credit a visit",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VisitRequest"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "Credited",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Visit"}}},
                        },
                        "200": {
                            "description": "Replay of an earlier request with the same key",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Visit"}}},
                        },
                        **errors,
                        "404": _error_response("404", "Unknown or replaced card"),
                        "409": _error_response("409", "Cooldown active, or the same key in flight"),
                        "422": _error_response("422", "Same key used with another payload"),
                    },
                }
            },
            "/cards/{number}": {
                "get": {
                    "summary": "Look up a card",
                    "parameters": [
                        {
                            "name": "number",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9]{12}$"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The card",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Card"}}},
                        },
                        **errors,
                        "404": _error_response("404", "Unknown or replaced card"),
                    },
                }
            },
        },
    }
