import HTTPTypes
import Hummingbird
import NIOCore
import NetInfo
import Rendering
import TrafficAnalysis

/// The routes: `/metrics`, the JSON API under `/api/v1/`, the stream and the dashboard.
struct ApiRoutes: Sendable {
    let metrics: ServeMetrics
    let feed: LiveFeed

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Self.text(Dashboard.html, type: "text/html; charset=utf-8") }
        router.get("/metrics") { _, _ in
            Self.bytes(metrics.exposition(), type: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/api/v1/openapi.json") { _, _ in Self.json(OpenAPIDocument.json) }
        router.get("/api/v1/interfaces") { _, _ in
            do { return Self.json(NetInfoFormatter.json(interfaces: try InterfaceReader.read())) } catch {
                throw HTTPError(.internalServerError, message: "\(error)")
            }
        }
        router.get("/api/v1/routes") { _, _ in Self.json(NetInfoFormatter.json(routes: try Self.allRoutes())) }
        router.get("/api/v1/gateways") { _, _ in
            Self.json(NetInfoFormatter.json(gateways: Gateways.select(from: try Self.allRoutes())))
        }
        router.get("/api/v1/summary") { _, _ in summary() }
        router.get("/api/v1/series") { request, _ in try series(request) }
        router.get("/api/v1/series/stream") { _, _ in try stream() }
        router.get("/api/v1/flows") { request, _ in try flows(request) }
    }

    static func allRoutes() throws -> [Route] {
        do { return try RouteReader.read(source: .netlink, families: [.inet, .inet6], table: .all).routes } catch {
            throw HTTPError(.internalServerError, message: "\(error)")
        }
    }

    /// The whole-run summary (`analyze --summary --format json`'s object), drops included.
    func summary() -> Response {
        var out: [UInt8] = []
        SummaryWriter.json(feed.summary, into: &out)
        return Self.bytes(out, type: "application/json")
    }

    /// `?since=EPOCH_SECONDS`: the closed intervals starting at or after it.
    func series(_ request: Request) throws -> Response {
        var sinceNs: Int64?
        for (name, value) in request.uri.queryParameters {
            guard name == "since" else {
                throw HTTPError(.badRequest, message: "unknown parameter '\(name)'; series takes since=EPOCH_SECONDS")
            }
            guard let d = Double(String(value)), d.isFinite else {
                throw HTTPError(
                    .badRequest, message: "since='\(value)' is not a time; give Unix seconds, e.g. since=1700000000.5")
            }
            // Times beyond what nanoseconds hold mean "before everything" or "after everything".
            sinceNs = d >= 9.2e9 ? .max : d <= -9.2e9 ? .min : Int64(d * 1e9)
        }
        return Self.json(ServeJSON.intervals(feed.intervals(sinceNs: sinceNs), intervalNs: feed.intervalNs))
    }

    /// `?top=N&by=bytes|packets&view=flow|host|port` over the latest copy of the flow table.
    func flows(_ request: Request) throws -> Response {
        var top = 10
        var by = FlowSort.bytes
        var view = FlowSnapshot.View.flow
        for (name, value) in request.uri.queryParameters {
            let v = String(value)
            switch name {
            case "top":
                guard let n = Int(v), (1...10_000).contains(n) else {
                    throw HTTPError(.badRequest, message: "top='\(v)' is not a count from 1 to 10000")
                }
                top = n
            case "by":
                guard let s = FlowSort(rawValue: v), s != .first else {
                    throw HTTPError(.badRequest, message: "by='\(v)' is not bytes or packets")
                }
                by = s
            case "view":
                guard let w = FlowSnapshot.View(rawValue: v) else {
                    throw HTTPError(.badRequest, message: "view='\(v)' is not flow, host or port")
                }
                view = w
            default:
                throw HTTPError(.badRequest, message: "unknown parameter '\(name)'; flows takes top, by and view")
            }
        }
        return Self.json(feed.flows.json(view: view, by: by, top: top))
    }

    func stream() throws -> Response {
        guard let (id, events) = feed.subscribe() else {
            throw HTTPError(.serviceUnavailable, message: "shutting down; reconnect to the restarted server")
        }
        let feed = self.feed
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                defer { feed.unsubscribe(id) }
                try await writer.write(ByteBuffer(string: "retry: 2000\n: one event per closed interval\n\n"))
                for await event in events { try await writer.write(ByteBuffer(string: event)) }
                try await writer.finish(nil)
            })
    }

    static func json(_ text: String) -> Response {
        self.text(text.hasSuffix("\n") ? text : text + "\n", type: "application/json")
    }

    static func text(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func bytes(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
