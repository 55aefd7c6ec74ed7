import Glibc
import HTTPTypes
import History
import Hummingbird
import NIOCore
import NetInfo
import Rendering
import TrafficAnalysis

/// The handlers of the routes in `ServeRoutes.table`; registered from the table, which also gives
/// each response its `Content-Type`.
struct ApiRoutes: Sendable {
    let metrics: ServeMetrics
    let feed: LiveFeed
    /// `--history PATH`, read (never written) by `/api/v1/history`.
    var historyPath: String?

    func register(on router: Router<BasicRequestContext>) {
        for route in ServeRoutes.table {
            let (handler, contentType) = (route.handler, route.contentType)
            router.on(RouterPath(route.path), method: route.method) { [self] request, _ in
                var response = try await handler(self, request)
                response.headers[.contentType] = contentType
                return response
            }
        }
    }

    func metricsText() -> Response {
        Self.bytes(metrics.exposition())
    }

    static func interfaces() throws -> Response {
        do { return json(NetInfoFormatter.json(interfaces: try InterfaceReader.read())) } catch {
            throw HTTPError(.internalServerError, message: "\(error)")
        }
    }

    static func routes() throws -> Response { json(NetInfoFormatter.json(routes: try allRoutes())) }

    static func gateways() throws -> Response {
        json(NetInfoFormatter.json(gateways: Gateways.select(from: try allRoutes())))
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
        ServeJSON.appendIPFIX(feed.ipfix, toObject: &out)
        return Self.bytes(out)
    }

    /// `?since=`'s values, as the OpenAPI document states them: what `TimeText` reads (Unix
    /// seconds with up to 9 decimals, RFC 3339 with a `T`, a time before now), whatever its size.
    static let sincePattern =
        #"^([0-9]+(\.[0-9]{1,9})?|-[0-9]+(\.[0-9]{1,9})?(ms|s|m|h|d)|[0-9]{4}-(0[1-9]|1[0-2])-"#
        + #"(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"#
        + #"([Zz]|[+-][0-9]{2}:[0-9]{2}))$"#

    /// `?since=TIME`: the closed intervals starting at or after it.
    func series(_ request: Request) throws -> Response {
        var sinceNs: Int64?
        for (name, value) in request.uri.queryParameters {
            guard name == "since" else {
                throw HTTPError(.badRequest, message: "unknown parameter '\(name)'; series takes since=TIME")
            }
            sinceNs = try Self.since(String(value), nowNs: Self.nowNs())
        }
        return Self.json(ServeJSON.intervals(feed.intervals(sinceNs: sinceNs), intervalNs: feed.intervalNs))
    }

    /// A `since` value in nanoseconds; times beyond what nanoseconds hold are before or after
    /// every interval.
    static func since(_ value: String, nowNs: Int64) throws -> Int64 {
        do {
            return try TimeText.nanoseconds(value, nowNs: nowNs)
        } catch .tooEarly {
            return .min
        } catch .tooLate {
            return .max
        } catch {
            throw HTTPError(
                .badRequest,
                message: "since='\(value)' is not a time; give \(TimeText.forms), e.g. since=1700000000.5")
        }
    }

    static func nowNs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// `?by=&resolution=&since=&until=&top=&percentile=95` from the history file (`pktstat history`'s
    /// rows, in a document).
    func history(_ request: Request) throws -> Response {
        guard let historyPath else {
            throw HTTPError(.serviceUnavailable, message: "no history: start serve with --history PATH")
        }
        var query = HistoryQuery()
        var percentile = false
        let nowNs = Self.nowNs()
        for (name, value) in request.uri.queryParameters {
            let v = String(value)
            switch name {
            case "by":
                guard let d = HistoryDimension(rawValue: v) else {
                    throw HTTPError(.badRequest, message: "by='\(v)' is not interface, protocol, host, port or process")
                }
                query.dimension = d
            case "resolution":
                guard let r = HistoryResolution(rawValue: v) else {
                    throw HTTPError(.badRequest, message: "resolution='\(v)' is not 5m, hour, day or month")
                }
                query.resolution = r
            case "since": query.since = try Self.since(v, nowNs: nowNs) / 1_000_000_000
            case "until": query.until = try Self.since(v, nowNs: nowNs) / 1_000_000_000
            case "top": query.top = try Self.count(v)
            case "percentile":
                guard v == "95" else { throw HTTPError(.badRequest, message: "percentile='\(v)' is not 95") }
                percentile = true
            default:
                throw HTTPError(
                    .badRequest,
                    message: "unknown parameter '\(name)'; history takes by, resolution, since, until, top, percentile")
            }
        }
        do throws(HistoryError) {
            let store = try HistoryStore(path: historyPath, writable: false)
            let (resolution, rows) = try query.run(store)
            var lines: [UInt8] = []
            HistoryWriter.write(rows, dimension: query.dimension, resolution: resolution, format: .json, into: &lines)
            let rowText = String(decoding: lines, as: UTF8.self).split(separator: "\n").joined(separator: ",")
            var doc =
                "{\"resolution\":\"\(resolution.rawValue)\",\"by\":\"\(query.dimension.rawValue)\",\"rows\":[\(rowText)]"
            if percentile {
                var p: [UInt8] = []
                HistoryWriter.write(try query.percentile95(store), format: .json, into: &p)
                doc += ",\"percentile_95\":" + String(decoding: p, as: UTF8.self).trimmingSuffix()
            }
            return Self.json(doc + "}")
        } catch .missing {
            throw HTTPError(
                .serviceUnavailable, message: "the history has no file yet: its first minute is not written")
        } catch {
            throw HTTPError(.internalServerError, message: "\(error.description); \(error.hint ?? "")")
        }
    }

    /// `?top=N&by=bytes|packets&view=flow|host|port` over the latest copy of the flow table.
    func flows(_ request: Request) throws -> Response {
        var top = 10
        var by = FlowSort.bytes
        var view = FlowSnapshot.View.flow
        for (name, value) in request.uri.queryParameters {
            let v = String(value)
            switch name {
            case "top": top = try Self.count(v)
            case "by": by = try Self.order(v)
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

    /// `top=`: a count of rows from 1 to 10,000.
    static func count(_ v: String) throws -> Int {
        guard let n = Int(v), (1...10_000).contains(n) else {
            throw HTTPError(.badRequest, message: "top='\(v)' is not a count from 1 to 10000")
        }
        return n
    }

    /// `by=` of the flow and process views: bytes or packets.
    static func order(_ v: String) throws -> FlowSort {
        guard let s = FlowSort(rawValue: v), s != .first else {
            throw HTTPError(.badRequest, message: "by='\(v)' is not bytes or packets")
        }
        return s
    }

    func processes(_ request: Request) throws -> Response {
        var top = 10
        var by = FlowSort.bytes
        for (name, value) in request.uri.queryParameters {
            let v = String(value)
            switch name {
            case "top": top = try Self.count(v)
            case "by": by = try Self.order(v)
            default:
                throw HTTPError(.badRequest, message: "unknown parameter '\(name)'; processes takes top and by")
            }
        }
        return Self.json(feed.flows.processesJSON(by: by, top: top))
    }

    func stream() throws -> Response {
        guard let (id, events) = feed.subscribe() else {
            throw HTTPError(.serviceUnavailable, message: "shutting down; reconnect to the restarted server")
        }
        let feed = self.feed
        return Response(
            status: .ok, headers: [.cacheControl: "no-cache"],
            body: ResponseBody { writer in
                defer { feed.unsubscribe(id) }
                try await writer.write(ByteBuffer(string: "retry: 2000\n: one event per closed interval\n\n"))
                for await event in events { try await writer.write(ByteBuffer(string: event)) }
                try await writer.finish(nil)
            })
    }

    /// A JSON document, newline ended.
    static func json(_ text: String) -> Response { self.text(text.hasSuffix("\n") ? text : text + "\n") }

    /// A 200 with this body; its `Content-Type` comes from the route table.
    static func text(_ text: String) -> Response {
        Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func bytes(_ bytes: [UInt8]) -> Response {
        Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension String {
    fileprivate func trimmingSuffix() -> String {
        var s = self
        while s.last == "\n" { s.removeLast() }
        return s
    }
}
