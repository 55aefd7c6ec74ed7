public import PacketWire
public import TrafficAnalysis

/// What `top`'s header says besides the rows.
public struct TopStatus: Sendable {
    public var interface: String
    public var filter: String?
    public var view: RateView = .flows
    public var sort: RateSort = .last
    public var paused = false
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Bytes in the last interval, all flows.
    public var lastBytes: UInt64 = 0
    public var flows = 0
    public var expired: UInt64 = 0
    public var evicted: UInt64 = 0
    public var droppedByKernel: UInt64 = 0
    public var droppedByRing: UInt64 = 0
    public var windowNs: [Int64] = []
    /// Whether processes are looked up (`v` then cycles through the processes view).
    public var processes = false

    public init(interface: String, filter: String?) {
        self.interface = interface
        self.filter = filter
    }
}

/// `top`'s screen as lines of text, at most `width` columns and `height` lines (iftop's layout:
/// a header with totals, rows with the rate over the last interval and over 2 s, 10 s and 40 s,
/// the total, and a key line at the bottom). Pure: the terminal code only draws the lines.
public enum FlowScreen {
    public static func lines(_ s: TopStatus, rows: [RateRow], width: Int, height: Int) -> [String] {
        let w = max(20, width)
        var out: [String] = []
        var title = "pktstat top on \(s.interface)"
        if let f = s.filter { title += "  filter: \(f)" }
        title += "  view: \(s.view.rawValue) (v)  sort: \(windowName(s.sort, s.windowNs)) (s)"
        if s.paused { title += "  PAUSED (p)" }
        out.append(title)
        let rate = s.windowNs.first.map { bitsPerSecond(s.lastBytes, $0) } ?? "-"
        out.append(
            "total \(size(s.bytes)) in \(s.packets) packets  now \(rate)  flows \(s.flows)  expired \(s.expired)"
                + "  evicted \(s.evicted)  dropped \(s.droppedByKernel) kernel, \(s.droppedByRing) ring")
        if s.view == .processes {
            processLines(s, rows: rows, width: w, height: height, into: &out)
        } else {
            let rateColumns = (0..<4).map { i in
                i < s.windowNs.count ? (i == 0 ? "last" : seconds(s.windowNs[i])) : ""
            }
            // The flows view adds the TCP state (Zeek's conn_state) and the handshake's round trip.
            let tcp = s.view == .flows
            let keyWidth = max(10, w - 8 * 5 - 8 - (tcp ? 15 : 0))
            out.append(
                pad("PROTO", 7) + " " + pad(keyTitle(s.view), keyWidth) + (tcp ? pad("STATE", 7) + lpad("RTT", 8) : "")
                    + rateColumns.map { lpad($0, 8) }.joined() + lpad("TOTAL", 8))
            for r in rows.prefix(max(0, height - 4)) {
                let (proto, key) = describe(r)
                var columns = ""
                if tcp, case .flow(let f) = r.identity {
                    columns = pad(f.tcpState?.name ?? "", 7) + lpad(f.initialRTTNanos.map(milliseconds) ?? "", 8)
                }
                let rates = r.windowBytes.indices.map { i in lpad(bitsPerSecond(r.windowBytes[i], s.windowNs[i]), 8) }
                out.append(
                    pad(proto, 7) + " " + pad(key, keyWidth) + columns + rates.joined() + lpad(size(r.totalBytes), 8))
            }
        }
        while out.count < height - 1 { out.append("") }
        let views = s.processes ? "flows, hosts, ports, processes" : "flows, hosts, ports"
        out.append("q quit  s sort (last, 2s, 10s, 40s, total, rtt)  v view (\(views))  p pause")
        return out.prefix(max(1, height)).map { String($0.prefix(w)) }
    }

    /// The processes view: a row per local process with what it sent and received over the last
    /// interval, the rate over the 10 s and 40 s windows, and its totals each way.
    static func processLines(_ s: TopStatus, rows: [RateRow], width w: Int, height: Int, into out: inout [String]) {
        let interval = s.windowNs.first ?? 1_000_000_000
        let windows = s.windowNs.count >= 4 ? [2, 3] : []
        let numbers = 8 * (4 + windows.count)
        let unitWidth = max(4, w - 8 - 16 - numbers)
        out.append(
            lpad("PID", 7) + " " + pad("PROCESS", 15) + " " + pad("UNIT", unitWidth) + lpad("SENT", 8) + lpad("RECV", 8)
                + windows.map { lpad(seconds(s.windowNs[$0]), 8) }.joined() + lpad("TOT TX", 8) + lpad("TOT RX", 8))
        for r in rows.prefix(max(0, height - 4)) {
            guard case .process(let o) = r.identity else { continue }
            var line = lpad(o.pid == 0 ? "-" : "\(o.pid)", 7) + " " + pad(o.name, 15) + " "
            line += pad(o.unit.isEmpty ? "-" : o.unit, unitWidth)
            line += lpad(bitsPerSecond(r.lastSrcBytes, interval), 8) + lpad(bitsPerSecond(r.lastDstBytes, interval), 8)
            for i in windows where i < r.windowBytes.count {
                line += lpad(bitsPerSecond(r.windowBytes[i], s.windowNs[i]), 8)
            }
            out.append(line + lpad(size(r.totalSrcBytes), 8) + lpad(size(r.totalDstBytes), 8))
        }
    }

    static func keyTitle(_ v: RateView) -> String {
        switch v {
        case .flows: "SOURCE <=> DESTINATION"
        case .hosts: "HOST"
        case .ports: "PORT"
        case .processes: "PROCESS"
        }
    }

    static func describe(_ r: RateRow) -> (String, String) {
        switch r.identity {
        case .flow(let f):
            let v = f.key.ipVersion
            let src = endpoint(f.src.address, v, f.key.hasPorts ? f.src.port : nil) + owner(r.srcOwner)
            let dst = endpoint(f.dst.address, v, f.key.hasPorts ? f.dst.port : nil) + owner(r.dstOwner)
            return (f.key.label.name, "\(src) <=> \(dst)")
        case .host(let a, let v): return ("", address(a, v))
        case .port(let l, let hasPort, let p): return (l.name, hasPort ? "\(p)" : "-")
        case .process(let o): return ("", "\(o.pid) \(o.name) \(o.unit)")
        }
    }

    /// ` [name pid]` after an endpoint a local process owns.
    static func owner(_ o: ProcessOwner?) -> String {
        guard let o else { return "" }
        return o.pid == 0 ? " [\(o.name)]" : " [\(o.name) \(o.pid)]"
    }

    static func endpoint(_ a: IPAddress, _ v: UInt8, _ port: UInt16?) -> String {
        guard v != 0 else { return "-" }
        let text = address(a, v)
        guard let port else { return text }
        return v == 6 ? "[\(text)]:\(port)" : "\(text):\(port)"
    }

    static func address(_ a: IPAddress, _ v: UInt8) -> String {
        var bytes: [UInt8] = []
        RowBytes.append(to: &bytes) { $0.address(a, version: v) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func windowName(_ s: RateSort, _ windows: [Int64]) -> String {
        switch s {
        case .last: "last"
        case .total: "total"
        case .rtt: "rtt"
        default: s.rawValue < windows.count ? seconds(windows[s.rawValue]) : "?"
        }
    }

    static func seconds(_ ns: Int64) -> String {
        ns % 1_000_000_000 == 0 ? "\(ns / 1_000_000_000)s" : "\(ns / 1_000_000)ms"
    }

    /// A round trip for the screen: `0.084ms`, `12.3ms`, `1.25s`.
    public static func milliseconds(_ ns: Int64) -> String {
        var text: [UInt8] = []
        if ns >= 1_000_000_000 {
            text.appendFixed(Double(ns) / 1e9, decimals: 2)
            return String(decoding: text, as: UTF8.self) + "s"
        }
        let ms = Double(ns) / 1e6
        text.appendFixed(ms, decimals: ms < 1 ? 3 : ms < 10 ? 2 : 1)
        return String(decoding: text, as: UTF8.self) + "ms"
    }

    /// Bits per second with an SI prefix, iftop style: `0b`, `840b`, `1.23Kb`, `45.6Mb`.
    public static func bitsPerSecond(_ bytes: UInt64, _ ns: Int64) -> String {
        let bps = Double(bytes) * 8 * 1e9 / Double(max(1, ns))
        return si(bps, unit: "b")
    }

    public static func size(_ bytes: UInt64) -> String { si(Double(bytes), unit: "B") }

    static func si(_ v: Double, unit: String) -> String {
        let prefixes = ["", "K", "M", "G", "T", "P"]
        var x = v
        var i = 0
        while x >= 999.5 && i < prefixes.count - 1 {
            x /= 1000
            i += 1
        }
        if i == 0 { return "\(Int(x.rounded()))\(unit)" }
        let digits = x < 9.995 ? 2 : x < 99.95 ? 1 : 0
        var text: [UInt8] = []
        text.appendFixed(x, decimals: digits)
        return String(decoding: text, as: UTF8.self) + prefixes[i] + unit
    }

    static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? String(s.prefix(n)) : s + String(repeating: " ", count: n - s.count)
    }

    static func lpad(_ s: String, _ n: Int) -> String {
        s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s
    }

    // MARK: batch snapshots

    /// The process columns the flows view adds after its counts (empty where an end is not a
    /// socket of a local process).
    public static let ownerColumns = ["src_pid", "src_process", "src_unit", "dst_pid", "dst_process", "dst_unit"]

    public static func columns(_ view: RateView) -> [String] {
        if view == .processes {
            return [
                "time", "pid", "process", "unit", "sent_packets", "sent_bytes", "received_packets", "received_bytes",
                "bits_per_second", "total_bytes",
            ]
        }
        let key: [String] =
            switch view {
            case .flows: ["protocol", "src", "sport", "dst", "dport"]
            case .hosts: ["host"]
            case .ports, .processes: ["protocol", "port"]
            }
        let counts = ["packets", "bytes", "bits_per_second", "total_packets", "total_bytes"]
        return ["time"] + key + counts + (view == .flows ? FlowWriter.tcpColumns + ownerColumns : [])
    }

    /// A snapshot row stamped with its interval's start.
    public static func cells(_ r: RateRow, intervalStartNs: Int64, intervalNs: Int64) -> [FlowCell] {
        var row: [FlowCell] = [.time(intervalStartNs)]
        let last = r.windowBytes.first ?? 0
        let bps = UInt64((UInt128(last) * 8 * 1_000_000_000) / UInt128(max(1, intervalNs)))
        switch r.identity {
        case .flow(let f):
            let v = f.key.ipVersion
            row += [
                .text(f.key.label.name), v == 0 ? .none : .address(f.src.address, v),
                f.key.hasPorts ? .count(UInt64(f.src.port)) : .none, v == 0 ? .none : .address(f.dst.address, v),
                f.key.hasPorts ? .count(UInt64(f.dst.port)) : .none,
            ]
        case .host(let a, let v): row.append(.address(a, v))
        case .port(let l, let hasPort, let p): row += [.text(l.name), hasPort ? .count(UInt64(p)) : .none]
        case .process(let o):
            return row + [
                o.pid == 0 ? .none : .count(UInt64(o.pid)), .text(o.name), o.unit.isEmpty ? .none : .text(o.unit),
                .count(r.lastSrcPackets), .count(r.lastSrcBytes), .count(r.lastDstPackets), .count(r.lastDstBytes),
                .count(bps), .count(r.totalBytes),
            ]
        }
        row += [.count(r.lastPackets), .count(last), .count(bps), .count(r.totalPackets), .count(r.totalBytes)]
        if case .flow(let f) = r.identity {
            row += FlowWriter.tcpCells(f) + ownerCells(r.srcOwner) + ownerCells(r.dstOwner)
        }
        return row
    }

    /// pid, process, unit of one end (empty when no local process owns it).
    public static func ownerCells(_ o: ProcessOwner?) -> [FlowCell] {
        guard let o else { return [.none, .none, .none] }
        return [o.pid == 0 ? .none : .count(UInt64(o.pid)), .text(o.name), o.unit.isEmpty ? .none : .text(o.unit)]
    }
}

/// An address as text (dotted quad, or RFC 5952 IPv6), for callers outside Rendering.
public enum AddressText {
    public static func string(_ a: IPAddress, version: UInt8) -> String { FlowScreen.address(a, version) }
}
