import HTTPTypes
import Rendering

/// The OpenAPI 3 description of the API, built from the route table (`ServeRoutes`): the contract
/// schemathesis checks the server against.
enum OpenAPIDocument {
    static let json = document.rendered(pretty: true) + "\n"

    static var document: JSONValue {
        .object([
            ("openapi", .string("3.0.3")),
            (
                "info",
                .object([
                    ("title", .string("pktstat serve")),
                    ("version", .string("1")),
                    (
                        "description",
                        .string(
                            "Live packet counts, sizes and drops; interfaces, routes, gateways. Errors: Error. "
                                + "Only GET and HEAD: other methods on these paths get 405 with Allow; other paths "
                                + "404; a request with a body 413.")
                    ),
                ])
            ),
            ("paths", .object(ServeRoutes.table.map { ($0.path, pathItem($0)) })),
            ("components", components),
            ("security", .array([.object([]), .object([("bearer", .array([]))]), .object([("basic", .array([]))])])),
        ])
    }

    static func pathItem(_ r: ServeRoute) -> JSONValue {
        var operation = JSONObject()
        operation.set("summary", r.summary)
        operation.set("description", r.details)
        if !r.parameters.isEmpty {
            operation.set(
                "parameters",
                .array(
                    r.parameters.map { p in
                        .object([
                            ("name", .string(p.name)), ("in", .string("query")), ("required", .bool(false)),
                            ("description", .string(p.description)), ("schema", p.schema.json),
                        ])
                    }))
        }
        let ok: JSONValue = .object([
            ("description", .string(r.responseDescription)),
            ("content", .object([(r.mediaType, .object([("schema", r.schema.json)]))])),
        ])
        let error: JSONValue = .object([("$ref", .string("#/components/responses/Error"))])
        let statuses = ([401, 403] + r.errors).sorted()
        operation.set("responses", .object([("200", ok)] + statuses.map { (String($0), error) }))
        return .object([(r.method.rawValue.lowercased(), operation.value)])
    }

    static let counter = Schema.integer(minimum: 0)

    /// `serve --ipfix`'s export in the summary (null without `--ipfix`).
    static let ipfix = Schema.object([
        "collector": .string, "records_sent": counter, "records_dropped": counter, "send_errors": counter,
        "reconnects": counter, "messages_sent": counter,
    ])

    static var components: JSONValue {
        let schemas: KeyValuePairs<String, Schema> = [
            "Error": .object([
                "error": .object(["status": .integer(), "message": .string])
            ]),
            "Protocols": .map(of: .object(["packets": counter, "bytes": counter])),
            "Drops": .object(["kernel": counter, "interface": counter, "ring": counter]),
            "Interval": .object([
                "time": .number, "time_ns": .integer(), "offset": .number, "packets": counter, "bytes": counter,
                "bits_per_second": .number, "min_length": Schema.integer().nullable,
                "mean_length": Schema.number.nullable, "max_length": Schema.integer().nullable,
                "protocols": .ref("Protocols"), "drops": .ref("Drops"), "late_packets": counter,
                "interval_seconds": .number,
            ]),
            "Summary": .object(
                [
                    "packets": counter, "bytes": counter, "captured_bytes": counter,
                    "first": Schema.number.nullable, "last": Schema.number.nullable, "duration": .number,
                    "packets_per_second": Schema.number.nullable, "bits_per_second": Schema.number.nullable,
                    "min_length": Schema.integer().nullable, "mean_length": Schema.number.nullable,
                    "max_length": Schema.integer().nullable, "protocols": .ref("Protocols"),
                    "sizes": .array(of: .anyObject), "drops": .ref("Drops"), "late_packets": .integer(),
                    "beyond_limit_packets": .integer(), "ipfix": ipfix.nullable,
                ],
                required: [
                    "packets", "bytes", "captured_bytes", "first", "last", "protocols", "sizes", "drops", "ipfix",
                ]),

            "Interface": .object(
                ["ifindex": .integer(), "ifname": .string, "mtu": .integer(), "addr_info": .anyArray],
                required: ["ifindex", "ifname"]),
        ]
        return .object([
            (
                "responses",
                .object([
                    (
                        "Error",
                        .object([
                            ("description", .string("an error")),
                            (
                                "content",
                                .object([("application/json", .object([("schema", Schema.ref("Error").json)]))])
                            ),
                        ])
                    )
                ])
            ),
            ("schemas", .object(schemas.map { ($0.key, $0.value.json) })),
            (
                "securitySchemes",
                .object([
                    (
                        "bearer",
                        .object([
                            ("type", .string("http")), ("scheme", .string("bearer")),
                            (
                                "description",
                                .string(
                                    "a token from --token-file; one with the scope metrics may read "
                                        + ServeRoutes.metricsPaths.sorted().joined(separator: ", ")
                                        + " only (403 elsewhere)")
                            ),
                        ])
                    ),
                    (
                        "basic",
                        .object([
                            ("type", .string("http")), ("scheme", .string("basic")),
                            ("description", .string("basic_auth_users of --web.config.file")),
                        ])
                    ),
                ])
            ),
        ])
    }
}
