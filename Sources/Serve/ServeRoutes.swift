import HTTPTypes
import History
import Hummingbird
import Rendering
import TrafficAnalysis

/// One route of `serve`: what the router registers, what the OpenAPI document lists, what the
/// authorization allows and what `serve --help` prints all come from this.
struct ServeRoute: Sendable {
    /// Who may read the route: any authenticated client, or also a token whose scope is `metrics`.
    enum Scope: Sendable { case all, metrics }

    struct Parameter: Sendable {
        let name: String
        let description: String
        let schema: Schema
    }

    let path: String
    let method: HTTPRequest.Method
    let scope: Scope
    /// One line, for `serve --help` and the OpenAPI `summary`.
    let summary: String
    /// The OpenAPI `description`, when there is more to say.
    let details: String?
    /// The `Content-Type` of a 200, set on the handler's response (parameters included; the
    /// OpenAPI media type is what comes before `;`).
    let contentType: String
    let responseDescription: String
    let schema: Schema
    let parameters: [Parameter]
    /// Error statuses of this route beyond the 401 and 403 of every route (400, 500, 503).
    let errors: [Int]
    let handler: @Sendable (ApiRoutes, Request) async throws -> Response

    init(
        _ path: String, method: HTTPRequest.Method = .get, scope: Scope = .all, summary: String,
        details: String? = nil, contentType: String = "application/json", response: String, schema: Schema,
        parameters: [Parameter] = [], errors: [Int] = [],
        handler: @escaping @Sendable (ApiRoutes, Request) async throws -> Response
    ) {
        self.path = path
        self.method = method
        self.scope = scope
        self.summary = summary
        self.details = details
        self.contentType = contentType
        self.responseDescription = response
        self.schema = schema
        self.parameters = parameters
        self.errors = errors
        self.handler = handler
    }

    /// The media type without parameters: `text/plain` for `text/plain; version=0.0.4`.
    var mediaType: String { String(contentType.prefix { $0 != ";" }) }

    /// The `Allow` header of a 405 on this path.
    var allow: String { method == .get ? "GET, HEAD" : method.rawValue }
}

/// The route table of `serve`: each route declared once.
public enum ServeRoutes {
    static let table: [ServeRoute] = [
        ServeRoute(
            "/", summary: "the dashboard: live charts and top talkers",
            details: "One self-contained page (no external scripts, fonts or images)",
            contentType: "text/html; charset=utf-8", response: "an HTML page", schema: .string
        ) { _, _ in ApiRoutes.text(Dashboard.html) },
        ServeRoute(
            "/metrics", scope: .metrics, summary: "Prometheus text exposition",
            contentType: "text/plain; version=0.0.4; charset=utf-8", response: "metrics", schema: .string
        ) { api, _ in api.metricsText() },
        ServeRoute(
            "/api/v1/interfaces", summary: "interfaces, as pktstat interfaces --format json",
            details: "Interfaces, as pktstat interfaces --format json (ip -j addr keys)", response: "a JSON array",
            schema: .array(of: .ref("Interface")), errors: [500]
        ) { _, _ in try ApiRoutes.interfaces() },
        ServeRoute(
            "/api/v1/routes", summary: "routes of every table, as pktstat routes --table all",
            details: "Routes of every table, as pktstat routes --table all --format json (ip -j route keys)",
            response: "a JSON array",
            schema: .array(of: .object(["dst": .string, "dev": .string, "gateway": .string], required: ["dst"])),
            errors: [500]
        ) { _, _ in try ApiRoutes.routes() },
        ServeRoute(
            "/api/v1/gateways", summary: "the default gateway per family, as pktstat gateways",
            details: "Default gateway per family, as pktstat gateways --format json", response: "an object",
            schema: .object(["default": .anyObject, "reasons": .anyObject, "routes": .anyArray]), errors: [500]
        ) { _, _ in try ApiRoutes.gateways() },
        ServeRoute(
            "/api/v1/summary", summary: "totals since serve started, drops included",
            details: "Totals since serve started (analyze --summary --format json), drops included, and "
                + "ipfix: what --ipfix exported (collector, records_sent, records_dropped, send_errors, reconnects, "
                + "messages_sent; null without --ipfix)",
            response: "an object", schema: .ref("Summary")
        ) { api, _ in api.summary() },
        ServeRoute(
            "/api/v1/series", summary: "the recent closed intervals, oldest first",
            details: "The recent closed intervals (a bounded window, --window, the last hour by default); each "
                + "interval is analyze --format json's object with drops, late_packets and interval_seconds",
            response: "intervals, oldest first",
            schema: .object(["interval_seconds": .number, "intervals": .array(of: .ref("Interval"))]),
            parameters: [
                .init(
                    name: "since",
                    description: "only intervals starting at or after this time: Unix seconds (up to 9 decimals), "
                        + "RFC 3339 (2023-11-14T22:13:20Z) or a time before now (-5m, -90s, -1h); exact to the "
                        + "nanosecond; times beyond what Int64 nanoseconds hold (1677 to 2262) mean before or "
                        + "after every interval",
                    schema: .string(pattern: ApiRoutes.sincePattern))
            ], errors: [400]
        ) { api, request in try api.series(request) },
        ServeRoute(
            "/api/v1/series/stream", summary: "Server-Sent Events: an event per closed interval",
            details: "Server-Sent Events: an 'interval' event (data: an Interval) per closed interval",
            contentType: "text/event-stream", response: "an endless event stream", schema: .string, errors: [503]
        ) { api, _ in try api.stream() },
        ServeRoute(
            "/api/v1/flows", summary: "top talkers from the flow table",
            details: "Top talkers from the flow table (copied once a second, idle flows leave after 5 min); "
                + "flow rows name the local process at each end (src_pid, src_process, src_unit, dst_pid, "
                + "dst_process, dst_unit; null where the end is not a local socket or was not found)",
            response:
                "rows as pktstat flows --format json prints them; flow rows add tcp_state and initial_rtt, the "
                + "processes, then src_name, dst_name and server_name",
            schema: .object([
                "view": .string(oneOf: FlowSnapshot.View.allCases.map(\.rawValue)),
                "by": .string(oneOf: ["bytes", "packets"]),
                "active_flows": .integer(minimum: 0),
                "taken": Schema.number.nullable,
                "rows": .array(
                    of: .object(
                        [
                            "packets": .integer(minimum: 0), "bytes": .integer(minimum: 0),
                            "tcp_state": Schema.string(oneOf: ConnState.allCases.map(\.name)).nullable,
                            "initial_rtt": Schema.number.nullable,
                            "src_pid": Schema.integer(minimum: 1).nullable, "src_process": Schema.string.nullable,
                            "src_unit": Schema.string.nullable, "dst_pid": Schema.integer(minimum: 1).nullable,
                            "dst_process": Schema.string.nullable, "dst_unit": Schema.string.nullable,
                            "src_name": Schema.string.nullable, "dst_name": Schema.string.nullable,
                            "server_name": Schema.string.nullable,
                        ], required: ["packets", "bytes"])),
            ]),
            parameters: [
                .init(
                    name: "top", description: "how many rows (default 10)",
                    schema: .integer(minimum: 1, maximum: 10_000, default: 10)),
                .init(
                    name: "by", description: "the order (default bytes)",
                    schema: .string(oneOf: ["bytes", "packets"], default: "bytes")),
                .init(
                    name: "view", description: "flows, or flows grouped by host or by port (default flow)",
                    schema: .string(oneOf: FlowSnapshot.View.allCases.map(\.rawValue), default: "flow")),
            ], errors: [400]
        ) { api, request in try api.flows(request) },
        ServeRoute(
            "/api/v1/history", summary: "the --history file",
            details: "The --history file's rows, as pktstat history prints them (503 without --history)",
            response: "rows as pktstat history --format json prints them",
            schema: .object([
                "resolution": .string(oneOf: HistoryResolution.allCases.map(\.rawValue)),
                "by": .string(oneOf: HistoryDimension.allCases.map(\.rawValue)),
                "rows": .array(
                    of: .object([
                        "time": .integer(minimum: 0), "packets": .integer(minimum: 0), "bytes": .integer(minimum: 0),
                        "bits_per_second": .integer(minimum: 0),
                    ])),
            ]),
            parameters: [
                .init(
                    name: "by", description: "interface, protocol, host, port or process (default interface)",
                    schema: .string(oneOf: HistoryDimension.allCases.map(\.rawValue), default: "interface")),
                .init(
                    name: "resolution", description: "5m, hour, day or month (default: by the span)",
                    schema: .string(oneOf: HistoryResolution.allCases.map(\.rawValue), default: "day")),
                .init(
                    name: "top", description: "names per bucket, the rest as other (default 10)",
                    schema: .integer(minimum: 1, maximum: 10_000, default: 10)),
                .init(
                    name: "percentile", description: "95: add the 95th percentile of the 5-minute rates",
                    schema: .string(oneOf: ["95"], default: "95")),
            ], errors: [400, 500, 503]
        ) { api, request in try api.history(request) },
        ServeRoute(
            "/api/v1/processes", summary: "traffic per local process, unit or container",
            details: "Totals per local process over the flows in the table (the process that owns the socket at "
                + "a flow's end, found through sock_diag and /proc as ss -p does, in every network namespace; "
                + "pid null when several processes of that name share the socket; unit: the systemd unit or "
                + "container from /proc/PID/cgroup); empty with --no-processes",
            response: "rows, most bytes first",
            schema: .object([
                "by": .string(oneOf: ["bytes", "packets"]),
                "active_flows": .integer(minimum: 0),
                "taken": Schema.number.nullable,
                "rows": .array(
                    of: .object([
                        "pid": Schema.integer(minimum: 1).nullable, "process": .string, "unit": Schema.string.nullable,
                        "flows": .integer(minimum: 0), "packets": .integer(minimum: 0), "bytes": .integer(minimum: 0),
                        "sent_packets": .integer(minimum: 0), "sent_bytes": .integer(minimum: 0),
                        "received_packets": .integer(minimum: 0), "received_bytes": .integer(minimum: 0),
                    ])),
            ]),
            parameters: [
                .init(
                    name: "top", description: "how many rows (default 10)",
                    schema: .integer(minimum: 1, maximum: 10_000, default: 10)),
                .init(
                    name: "by", description: "the order (default bytes)",
                    schema: .string(oneOf: ["bytes", "packets"], default: "bytes")),
            ], errors: [400]
        ) { api, request in try api.processes(request) },
        ServeRoute(
            "/api/v1/openapi.json", summary: "this API's OpenAPI 3 document", details: "This document",
            response: "OpenAPI 3", schema: .anyObject
        ) { _, _ in ApiRoutes.json(OpenAPIDocument.json) },
    ]

    /// Every path served, in the table's order.
    public static var paths: [String] { table.map(\.path) }

    /// The `Allow` header of a 405 per path served.
    static let allow: [String: String] = Dictionary(table.map { ($0.path, $0.allow) }) { "\($0), \($1)" }

    /// The paths a token whose scope is `metrics` may read.
    static let metricsPaths: Set<String> = Set(table.filter { $0.scope == .metrics }.map(\.path))

    /// The endpoints for `serve --help`: a line per route (path, summary, query parameters), then
    /// what a `metrics` token may read.
    public static var helpText: String {
        let width = table.map(\.path.count).max()! + 2
        var lines = ["Endpoints (GET or HEAD; /api/v1/openapi.json describes them):"]
        for r in table {
            let pad = String(repeating: " ", count: width - r.path.count)
            let query = r.parameters.isEmpty ? "" : " (?" + r.parameters.map(\.name).joined(separator: ", ") + ")"
            lines.append("  " + r.path + pad + r.summary + query)
        }
        let metrics = table.filter { $0.scope == .metrics }.map(\.path).joined(separator: ", ")
        lines.append("A token with the scope 'metrics' may read \(metrics) only.")
        return lines.joined(separator: "\n")
    }
}

/// A JSON-schema fragment of the OpenAPI document (OpenAPI 3.0: `nullable`, `$ref` to components).
struct Schema: Sendable {
    let json: JSONValue

    static func ref(_ component: String) -> Schema {
        Schema(json: .object([("$ref", .string("#/components/schemas/" + component))]))
    }

    static func type(_ name: String, _ more: [(String, JSONValue)] = []) -> Schema {
        Schema(json: .object([("type", .string(name))] + more))
    }

    static let string = type("string")
    static let number = type("number")
    static let anyObject = type("object")
    static let anyArray = type("array")

    static func string(pattern: String) -> Schema { type("string", [("pattern", .string(pattern))]) }

    static func string(oneOf values: [String], default value: String? = nil) -> Schema {
        var more: [(String, JSONValue)] = [("enum", .array(values.map { .string($0) }))]
        if let value { more.append(("default", .string(value))) }
        return type("string", more)
    }

    static func integer(minimum: Int64? = nil, maximum: Int64? = nil, default value: Int64? = nil) -> Schema {
        var more: [(String, JSONValue)] = []
        if let minimum { more.append(("minimum", .int(minimum))) }
        if let maximum { more.append(("maximum", .int(maximum))) }
        if let value { more.append(("default", .int(value))) }
        return type("integer", more)
    }

    static func array(of items: Schema) -> Schema { type("array", [("items", items.json)]) }

    /// An object with these properties; `required` defaults to all of them.
    static func object(_ properties: KeyValuePairs<String, Schema>, required: [String]? = nil) -> Schema {
        type(
            "object",
            [
                ("required", .array((required ?? properties.map(\.key)).map { .string($0) })),
                ("properties", .object(properties.map { ($0.key, $0.value.json) })),
            ])
    }

    /// An object whose every member is `values` (a map).
    static func map(of values: Schema) -> Schema { type("object", [("additionalProperties", values.json)]) }

    /// The same schema, `null` allowed.
    var nullable: Schema {
        guard case .object(let members) = json else { return self }
        return Schema(json: .object(members + [("nullable", .bool(true))]))
    }
}
