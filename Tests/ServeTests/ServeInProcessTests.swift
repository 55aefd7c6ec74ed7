import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import Logging
import NIOCore
import PacketRecords
import PacketWire
import Rendering
import Serve
import Testing
import TrafficAnalysis

/// The real application (`ServeServer.makeApplication`: routes, middleware, authentication) driven
/// in process through Hummingbird's router test framework: no capture, no socket, no root. The
/// feed is filled with synthetic intervals and flows.
@Suite struct ServeInProcessTests {
    static let t0: Int64 = 1_700_000_000_000_000_000
    static let quarter: Int64 = 250_000_000
    static let fullToken = "0123456789abcdef0123456789"
    static let metricsToken = "scraper-only-0123456789"

    /// A feed with four closed 250 ms intervals from `t0` (UDP, then an empty one, TCP, UDP) and a
    /// flow table of three flows.
    static func feed() -> (ServeMetrics, LiveFeed) {
        let metrics = ServeMetrics(interface: "lo", versions: [("version", "test")])
        let feed = LiveFeed(intervalNs: quarter, metrics: metrics)
        for i in 0..<4 as Range<Int64> {
            var s = IntervalStats(index: i, startNs: t0 + i * quarter, intervalNs: quarter)
            switch i {
            case 0: s.count(length: 100, captured: 100, label: .udp)
            case 2:
                s.count(length: 60, captured: 60, label: .tcp)
                s.count(length: 1514, captured: 96, label: .tcp)
            case 3: s.count(length: 342, captured: 342, label: .udp)
            default: break
            }
            feed.publish(s)
        }
        let table = FlowTable()
        for (k, port) in [UInt16(5000), 5001, 5002].enumerated() {
            for n in 0...k { table.add(packet(t0 + Int64(n), dstPort: port, length: UInt32(100 * (k + 1)))) }
        }
        feed.flows = FlowSnapshot(flows: Array(table), counters: table.counters, takenNs: t0 + quarter)
        return (metrics, feed)
    }

    static func packet(_ t: Int64, dstPort: UInt16, length: UInt32) -> PacketRecord {
        var d = Decoded()
        d.label = .udp
        d.ipVersion = 4
        d.src = IPAddress(v4: 0x7F00_0001)
        d.dst = IPAddress(v4: 0x7F00_0001)
        d.hasPorts = true
        d.srcPort = 40_000
        d.dstPort = dstPort
        return PacketRecord(timestampNs: t, length: length, captured: length, decoded: d)
    }

    /// Runs `body` against the application built with `settings` and a fresh feed.
    static func withApp(
        _ settings: ServeSettings = ServeSettings(), feed: (ServeMetrics, LiveFeed) = feed(),
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = try ServeServer.makeApplication(
            settings: settings, metrics: feed.0, feed: feed.1, logger: Logger(label: "serve-test"))
        try await app.test(.router, body)
    }

    static func text(_ r: TestResponse) -> String { String(buffer: r.body) }

    static func json(_ r: TestResponse) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text(r).utf8), options: [.fragmentsAllowed])
    }

    /// `{"error":{"status":N,"message":…}}` with the response's status.
    static func errorMessage(_ r: TestResponse) throws -> String {
        let doc = try #require(try json(r) as? [String: Any])
        let error = try #require(doc["error"] as? [String: Any])
        #expect(error["status"] as? Int == r.status.code)
        #expect(r.headers[.contentType] == "application/json")
        return try #require(error["message"] as? String)
    }

    /// The stream answers until the feed closes it: the test publishes an interval once the
    /// request has subscribed, then closes the streams so the body ends.
    static func get(_ client: any TestClientProtocol, _ path: String, feed: LiveFeed) async throws -> TestResponse {
        guard path == "/api/v1/series/stream" else { return try await client.execute(uri: path, method: .get) }
        let closer = Task {
            for _ in 0..<200 where feed.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
            feed.publish(IntervalStats(index: 9, startNs: t0 + 9 * quarter, intervalNs: quarter))
            feed.closeStreams()
        }
        defer { closer.cancel() }
        return try await client.execute(uri: path, method: .get)
    }

    // MARK: the route table

    /// The OpenAPI document's paths, the paths that answer 200 and the help text's paths are the
    /// table's, and the document is valid JSON with an operation per route.
    @Test func routeTableOpenAPIRouterAndHelpAgree() async throws {
        let table = ServeRoutes.paths
        #expect(Set(table).count == table.count)
        #expect(table.contains("/api/v1/flows") && table.contains("/") && table.contains("/metrics"))
        let helpPaths = ServeRoutes.helpText.split(separator: "\n").filter { $0.hasPrefix("  /") }
            .map { String($0.dropFirst(2).prefix { $0 != " " }) }
        #expect(helpPaths == table)
        #expect(ServeRoutes.helpText.split(separator: "\n").allSatisfy { $0.count <= 80 }, "fits 80 columns")

        let (metrics, feed) = Self.feed()
        try await Self.withApp(feed: (metrics, feed)) { client in
            let r = try await client.execute(uri: "/api/v1/openapi.json", method: .get)
            #expect(r.status == .ok)
            let doc = try #require(try Self.json(r) as? [String: Any])
            #expect(doc["openapi"] as? String == "3.0.3")
            let paths = try #require(doc["paths"] as? [String: [String: Any]])
            #expect(Set(paths.keys) == Set(table))
            for (path, item) in paths {
                let get = try #require(item["get"] as? [String: Any], "\(path)")
                #expect(get["summary"] is String)
                let responses = try #require(get["responses"] as? [String: Any])
                for status in ["200", "401", "403"] { #expect(responses[status] != nil, "\(path) \(status)") }
                let ok = try #require(responses["200"] as? [String: Any])
                let content = try #require(ok["content"] as? [String: Any])
                #expect(content.count == 1)
            }
            // Every $ref points at a component that exists.
            let components = try #require(doc["components"] as? [String: Any])
            let schemas = try #require(components["schemas"] as? [String: Any])
            for ref in Self.refs(in: doc) {
                let name = try #require(ref.split(separator: "/").last.map(String.init))
                if ref.hasPrefix("#/components/schemas/") {
                    #expect(schemas[name] != nil, "\(ref)")
                } else {
                    #expect(ref == "#/components/responses/Error")
                }
            }
            let interval = try #require(schemas["Interval"] as? [String: Any])
            let required = try #require(interval["required"] as? [String])
            #expect(required.contains("time") && !required.contains("start"))
            for path in table {
                let r = try await Self.get(client, path, feed: feed)
                if path == "/api/v1/history" {
                    // Without --history: 503, saying how to get one (ServeHistoryTests has the rest).
                    #expect(r.status == .serviceUnavailable)
                    continue
                }
                #expect(r.status == .ok, "\(path)")
                let declared = (paths[path]?["get"] as? [String: Any]).flatMap {
                    (($0["responses"] as? [String: Any])?["200"] as? [String: Any])?["content"] as? [String: Any]
                }
                let type = r.headers[.contentType] ?? ""
                #expect(
                    declared?.keys.first.map { type.hasPrefix($0) } == true, "\(path): \(type) vs \(declared ?? [:])")
            }
        }
    }

    static func refs(in value: Any) -> [String] {
        switch value {
        case let d as [String: Any]: (d["$ref"] as? String).map { [$0] } ?? d.values.flatMap(refs)
        case let a as [Any]: a.flatMap(refs)
        default: []
        }
    }

    // MARK: every route

    @Test func everyRouteAnswers() async throws {
        let (metrics, feed) = Self.feed()
        try await Self.withApp(feed: (metrics, feed)) { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(Self.text(page).contains("EventSource"))
            #expect(Self.text(page).contains("<link rel=\"icon\" href=\"data:image/svg+xml,"), "an inline icon")
            #expect(!Self.text(page).contains("favicon.ico"))
            let exposition = Self.text(try await client.execute(uri: "/metrics", method: .get))
            #expect(exposition.contains("pktstat_build_info{version=\"test\"} 1"))
            let head = try await client.execute(uri: "/metrics", method: .head)
            #expect(head.status == .ok && head.body.readableBytes == 0)
            let summary = try #require(
                try Self.json(try await client.execute(uri: "/api/v1/summary", method: .get)) as? [String: Any])
            #expect(summary["drops"] is [String: Any])
            let interfaces = try Self.json(try await client.execute(uri: "/api/v1/interfaces", method: .get))
            #expect((interfaces as? [[String: Any]])?.contains { $0["ifname"] as? String == "lo" } == true)
            #expect(try Self.json(try await client.execute(uri: "/api/v1/routes", method: .get)) is [Any])
            let gateways = try Self.json(try await client.execute(uri: "/api/v1/gateways", method: .get))
            #expect((gateways as? [String: Any])?["default"] != nil)
            let stream = try await Self.get(client, "/api/v1/series/stream", feed: feed)
            #expect(stream.headers[.contentType] == "text/event-stream")
            #expect(Self.text(stream).hasPrefix("retry: 2000\n"))
            #expect(Self.text(stream).contains("event: interval\ndata: {\"time\":1700000002.250000000,"))
        }
    }

    /// `/api/v1/series`' intervals and the stream's events are analyze's JSON objects with drops,
    /// late packets and the interval length after them.
    @Test func intervalsAreAnalyzesObjects() async throws {
        let (metrics, feed) = Self.feed()
        let intervals = feed.intervals(sinceNs: nil)
        try await Self.withApp(feed: (metrics, feed)) { client in
            let r = try await client.execute(uri: "/api/v1/series", method: .get)
            let body = Self.text(r)
            var expected: [String] = []
            for s in intervals {
                var analyze: [UInt8] = []
                SeriesWriter(format: .json, protocols: .all).write(s, into: &analyze)
                let object = String(decoding: analyze.dropLast(2), as: UTF8.self)  // without "}\n"
                expected.append(object)
                #expect(body.contains(object), "\(object) in \(body)")
            }
            #expect(body.hasPrefix("{\"interval_seconds\":0.250000000,\"intervals\":[" + expected[0]))
            let doc = try #require(try Self.json(r) as? [String: Any])
            let list = try #require(doc["intervals"] as? [[String: Any]])
            #expect(list.count == 4)
            #expect(list[0]["time"] as? Double == 1_700_000_000)
            #expect(list[0]["time_ns"] as? Int64 == Self.t0)
            #expect(list[0]["bits_per_second"] as? Int == 3200)
            #expect(list[1]["min_length"] is NSNull && list[1]["mean_length"] is NSNull)
            #expect(list[2]["mean_length"] as? Double == 787)
            #expect(list[2]["offset"] as? Double == 0.5)
            #expect(list[0]["start"] == nil)
            #expect((list[3]["protocols"] as? [String: [String: Int]])?["UDP"] == ["packets": 1, "bytes": 342])
            #expect((list[0]["drops"] as? [String: Int]) == ["kernel": 0, "interface": 0, "ring": 0])
            #expect(list[0]["late_packets"] as? Int == 0)
            #expect(list[0]["interval_seconds"] as? Double == 0.25)
        }
        #expect(ServeJSON.interval(intervals[0]).hasSuffix(",\"late_packets\":0,\"interval_seconds\":0.250000000}"))
    }

    // MARK: errors and limits

    @Test func unknownPathIs404WithAJSONBody() async throws {
        try await Self.withApp { client in
            for path in ["/nothing", "/api/v1/nothing", "/favicon.ico", "/metrics/x"] {
                let r = try await client.execute(uri: path, method: .get)
                #expect(r.status == .notFound, "\(path)")
                #expect(try Self.errorMessage(r) == "no such resource: \(path); see /api/v1/openapi.json")
            }
            #expect(try await client.execute(uri: "/nothing", method: .post).status == .notFound)
        }
    }

    @Test func otherMethodsAre405WithAllow() async throws {
        try await Self.withApp { client in
            for path in ServeRoutes.paths {
                for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
                    let r = try await client.execute(uri: path, method: method)
                    #expect(r.status == .methodNotAllowed, "\(method) \(path)")
                    #expect(r.headers[.allow] == "GET, HEAD")
                    #expect(try Self.errorMessage(r) == "\(method.rawValue) is not allowed on \(path); use GET")
                }
            }
        }
    }

    @Test func aRequestBodyIs413() async throws {
        try await Self.withApp { client in
            for path in ["/metrics", "/api/v1/summary"] {
                let r = try await client.execute(
                    uri: path, method: .get, headers: [.contentLength: "5"], body: ByteBuffer(string: "hello"))
                #expect(r.status == .contentTooLarge)
                #expect(try Self.errorMessage(r).contains("no request body"))
            }
            let chunked = try await client.execute(
                uri: "/metrics", method: .get, headers: [.transferEncoding: "chunked"], body: ByteBuffer(string: "x"))
            #expect(chunked.status == .contentTooLarge)
        }
    }

    // MARK: authentication

    static func tokenSettings() -> ServeSettings {
        var s = ServeSettings()
        s.tokens = [BearerToken(fullToken), BearerToken(metricsToken, scope: .metrics)]
        return s
    }

    @Test func withoutTheRightTokenIs401() async throws {
        try await Self.withApp(Self.tokenSettings()) { client in
            var bodies = Set<String>()
            let attempts: [HTTPFields] = [
                [:], [.authorization: "Bearer wrong-token-0123456789"], [.authorization: "Bearer "],
                [.authorization: "Bearer \(Self.fullToken)x"], [.authorization: "Basic YWxpY2U6d29uZGVybGFuZA=="],
                [.authorization: "Token \(Self.fullToken)"], [.authorization: Self.fullToken],
            ]
            for headers in attempts {
                for path in ["/metrics", "/api/v1/flows", "/"] {
                    let r = try await client.execute(uri: path, method: .get, headers: headers)
                    #expect(r.status == .unauthorized, "\(headers) \(path)")
                    #expect(r.headers[.wwwAuthenticate] == "Bearer realm=\"pktstat\"")
                    bodies.insert(Self.text(r))
                }
            }
            #expect(bodies.count == 1, "the same answer whatever was wrong: \(bodies)")
            let ok = try await client.execute(
                uri: "/api/v1/flows", method: .get, headers: [.authorization: "bearer \(Self.fullToken)"])
            #expect(ok.status == .ok)
        }
    }

    /// A `metrics` token reads the routes of that scope in the table and gets 403 elsewhere.
    @Test func metricsScopeReadsMetricsOnly() async throws {
        try await Self.withApp(Self.tokenSettings()) { client in
            let scraper: HTTPFields = [.authorization: "Bearer \(Self.metricsToken)"]
            #expect(try await client.execute(uri: "/metrics", method: .get, headers: scraper).status == .ok)
            for path in ServeRoutes.paths where path != "/metrics" {
                let r = try await client.execute(uri: path, method: .get, headers: scraper)
                #expect(r.status == .forbidden, "\(path)")
                #expect(r.headers[.wwwAuthenticate] == nil)
                #expect(try Self.errorMessage(r).hasPrefix("this token may read /metrics only"))
            }
            let full: HTTPFields = [.authorization: "Bearer \(Self.fullToken)"]
            #expect(try await client.execute(uri: "/api/v1/routes", method: .get, headers: full).status == .ok)
        }
    }

    static func basic(_ credentials: String) -> HTTPFields {
        [.authorization: "Basic " + Data(credentials.utf8).base64EncodedString()]
    }

    @Test func basicAuthWithABcryptHash() async throws {
        var settings = ServeSettings()
        settings.web.basicAuthUsers = [
            "alice": Bcrypt.hash("wonderland", cost: 4),
            // htpasswd's $2y$ prefix: the same algorithm.
            "bob": "$2y$" + Bcrypt.hash("builder", cost: 4).dropFirst(4),
        ]
        try await Self.withApp(settings) { client in
            for good in ["alice:wonderland", "bob:builder"] {
                let r = try await client.execute(uri: "/api/v1/summary", method: .get, headers: Self.basic(good))
                #expect(r.status == .ok, "\(good)")
            }
            var bodies = Set<String>()
            for bad in ["alice:wonderlan", "mallory:wonderland", "alice", "bob:wonderland"] {
                let r = try await client.execute(uri: "/api/v1/summary", method: .get, headers: Self.basic(bad))
                #expect(r.status == .unauthorized, "\(bad)")
                #expect(r.headers[.wwwAuthenticate] == "Basic realm=\"pktstat\", charset=\"UTF-8\"")
                bodies.insert(Self.text(r))
            }
            #expect(bodies.count == 1)
            let bearer = try await client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(Self.fullToken)"])
            #expect(bearer.status == .unauthorized)
        }
    }

    // MARK: query parameters

    /// `since`: exact nanoseconds (a Double would round 1700000000.250000001 down to .25), RFC 3339
    /// with an offset, a time before now; huge times are before or after every interval.
    @Test func sinceIsExact() async throws {
        try await Self.withApp { client in
            let all = (0..<4).map { Self.t0 + Int64($0) * Self.quarter }
            try await Self.expectTimes(client, "0", all)
            try await Self.expectTimes(client, "1700000000.25", Array(all[1...]))
            try await Self.expectTimes(client, "1700000000.250000001", Array(all[2...]))
            try await Self.expectTimes(client, "1700000000.249999999", Array(all[1...]))
            try await Self.expectTimes(client, "2023-11-14T22:13:20.5Z", Array(all[2...]))
            try await Self.expectTimes(client, "2023-11-14T23:13:20.500000001%2B01:00", Array(all[3...]))
            try await Self.expectTimes(client, "-1h", [], "an hour ago is after 2023")
            try await Self.expectTimes(client, "-100000000d", all, "before what nanoseconds hold: everything")
            try await Self.expectTimes(client, "99999999999999999999", [], "after what nanoseconds hold: nothing")
            try await Self.expectTimes(client, "9999-12-31T23:59:59Z", [])
        }
    }

    /// `/api/v1/series?since=…` answers the intervals that start at these times.
    static func expectTimes(
        _ client: any TestClientProtocol, _ since: String, _ expected: [Int64], _ why: Comment? = nil
    ) async throws {
        let r = try await client.execute(uri: "/api/v1/series?since=\(since)", method: .get)
        #expect(r.status == .ok, "\(since): \(Self.text(r))")
        let doc = try Self.json(r) as? [String: Any]
        let times = (doc?["intervals"] as? [[String: Any]])?.compactMap { $0["time_ns"] as? Int64 } ?? []
        #expect(times == expected, "since=\(since) \(why ?? "")")
    }

    @Test func badSinceIs400WithTheFix() async throws {
        try await Self.withApp { client in
            for bad in ["yesterday", "1e9", "1.0000000001", "%201700000000", "-5", "2023-11-14T22:13:20", "", "NaN"] {
                let r = try await client.execute(uri: "/api/v1/series?since=\(bad)", method: .get)
                #expect(r.status == .badRequest, "\(bad)")
                let message = try Self.errorMessage(r)
                #expect(message.hasPrefix("since='"), "\(message)")
                #expect(message.contains("give epoch seconds (1700000000.5), RFC 3339"))
                #expect(!message.contains("\n"))
            }
            let unknown = try await client.execute(uri: "/api/v1/series?from=1", method: .get)
            #expect(unknown.status == .badRequest)
            #expect(try Self.errorMessage(unknown) == "unknown parameter 'from'; series takes since=TIME")
        }
    }

    /// The pattern the OpenAPI document gives `since` agrees with the parser on a sample.
    @Test func sincePatternMatchesTheParser() async throws {
        let (metrics, feed) = Self.feed()
        try await Self.withApp(feed: (metrics, feed)) { client in
            let r = try await client.execute(uri: "/api/v1/openapi.json", method: .get)
            let doc = try #require(try Self.json(r) as? [String: Any])
            let paths = try #require(doc["paths"] as? [String: [String: [String: Any]]])
            let parameters = try #require(paths["/api/v1/series"]?["get"]?["parameters"] as? [[String: Any]])
            let pattern = try #require((parameters.first?["schema"] as? [String: Any])?["pattern"] as? String)
            let regex = try NSRegularExpression(pattern: pattern)
            let samples = [
                "0", "1700000000", "1700000000.123456789", "1700000000.", "1.1234567890", "-5m", "-1.5h", "-500ms",
                "-5", "-5x", "2023-11-14T22:13:20Z", "2023-11-14t22:13:20.123456789123z", "2023-11-14T22:13:20+01:00",
                "2023-13-14T22:13:20Z", "2023-11-14T24:13:20Z", "2023-11-14T22:13:60Z", "2023-11-14T22:13:20",
                "99999999999999999999", "abc", "",
            ]
            for s in samples {
                let matches = regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
                let parsed: Bool
                do throws(TimeTextError) {
                    _ = try TimeText.nanoseconds(s, nowNs: Self.t0)
                    parsed = true
                } catch {
                    parsed = error != .unreadable
                }
                #expect(matches == parsed, "\(s): pattern \(matches), parser \(parsed)")
            }
        }
    }

    @Test func flowsParameters() async throws {
        try await Self.withApp { client in
            let r = try await client.execute(uri: "/api/v1/flows?top=2&by=bytes", method: .get)
            let doc = try #require(try Self.json(r) as? [String: Any])
            #expect(doc["active_flows"] as? Int == 3)
            #expect(doc["taken"] as? Double == 1_700_000_000.25)
            let rows = try #require(doc["rows"] as? [[String: Any]])
            #expect(rows.map { $0["dport"] as? Int } == [5002, 5001])
            #expect(rows.map { $0["bytes"] as? Int } == [900, 400])
            let hosts = try Self.json(try await client.execute(uri: "/api/v1/flows?view=host", method: .get))
            #expect(((hosts as? [String: Any])?["rows"] as? [[String: Any]])?.first?["host"] as? String == "127.0.0.1")
            let ports = try Self.json(
                try await client.execute(uri: "/api/v1/flows?view=port&by=packets&top=10000", method: .get))
            let portRows = (ports as? [String: Any])?["rows"] as? [[String: Any]]
            #expect(portRows?.map { $0["packets"] as? Int } == [3, 2, 1])
            let bad = [
                ("top=0", "top='0' is not a count from 1 to 10000"),
                ("top=10001", "top='10001' is not a count from 1 to 10000"),
                ("top=x", "top='x' is not a count from 1 to 10000"), ("by=first", "by='first' is not bytes or packets"),
                ("by=", "by='' is not bytes or packets"), ("view=talkers", "view='talkers' is not flow, host or port"),
                ("limit=3", "unknown parameter 'limit'; flows takes top, by and view"),
            ]
            for (query, message) in bad {
                let r = try await client.execute(uri: "/api/v1/flows?\(query)", method: .get)
                #expect(r.status == .badRequest, "\(query)")
                #expect(try Self.errorMessage(r) == message)
            }
        }
    }
}
