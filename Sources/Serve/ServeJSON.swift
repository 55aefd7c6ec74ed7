import Rendering
public import TrafficAnalysis
import TrafficPipeline

/// The JSON documents of the API that `Rendering` does not already make (the series document,
/// errors); the interval objects and every string go through Rendering's writers.
public enum ServeJSON {
    /// One closed interval: `SeriesWriter.jsonInterval`'s object with drops (analyze's JSON object
    /// with `drops` and `late_packets` after it), and `interval_seconds` last.
    public static func interval(_ s: IntervalStats) -> String {
        var out: [UInt8] = []
        append(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func append(_ s: IntervalStats, into out: inout [UInt8]) {
        SeriesWriter.jsonInterval(s, includeDrops: true, into: &out) { out in
            out.append(ascii: ",\"interval_seconds\":")
            out.append(timestampNs: s.intervalNs)
        }
    }

    /// Adds `"ipfix":{…}` (or `null` without `--ipfix`) as the last member of the JSON object
    /// `out` holds (its closing brace and newline are rewritten).
    static func appendIPFIX(_ status: IPFIXStatus?, toObject out: inout [UInt8]) {
        while let last = out.last, last != UInt8(ascii: "}") { out.removeLast() }
        guard !out.isEmpty else { return }
        out.removeLast()
        out.append(ascii: ",\"ipfix\":")
        if let status {
            let c = status.counters
            out.append(ascii: "{\"collector\":")
            out.append(jsonString: status.collector)
            let members: [(StaticString, UInt64)] = [
                (",\"records_sent\":", c.recordsSent), (",\"records_dropped\":", c.recordsDropped),
                (",\"send_errors\":", c.sendErrors), (",\"reconnects\":", c.reconnects),
                (",\"messages_sent\":", c.messagesSent),
            ]
            for (name, value) in members {
                out.append(ascii: name)
                out.append(decimal: value)
            }
            out.append(UInt8(ascii: "}"))
        } else {
            out.append(ascii: "null")
        }
        out.append(ascii: "}\n")
    }

    /// `{"interval_seconds":…,"intervals":[…]}`, oldest first.
    public static func intervals(_ list: [IntervalStats], intervalNs: Int64) -> String {
        var out: [UInt8] = []
        out.append(ascii: "{\"interval_seconds\":")
        out.append(timestampNs: intervalNs)
        out.append(ascii: ",\"intervals\":[")
        for (i, s) in list.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            append(s, into: &out)
        }
        out.append(ascii: "]}")
        return String(decoding: out, as: UTF8.self)
    }

    /// `{"error":{"status":404,"message":"…"}}`.
    public static func error(status: Int, message: String) -> String {
        var out: [UInt8] = []
        out.append(ascii: "{\"error\":{\"status\":")
        out.append(decimal: Int64(status))
        out.append(ascii: ",\"message\":")
        out.append(jsonString: message)
        out.append(ascii: "}}")
        return String(decoding: out, as: UTF8.self)
    }

    /// Epoch or span seconds with exactly 9 decimals (Rendering's timestamps).
    public static func seconds(_ ns: Int64) -> String {
        var out: [UInt8] = []
        out.append(timestampNs: ns)
        return String(decoding: out, as: UTF8.self)
    }
}
