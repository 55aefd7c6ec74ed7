import PacketWire
import Rendering
public import TrafficAnalysis

/// The JSON documents of the API that `Rendering` does not already make (intervals, errors).
public enum ServeJSON {
    /// One closed interval: `{"start":…,"interval_seconds":…,"packets":…,…,"protocols":{"UDP":{…}}}`.
    public static func interval(_ s: IntervalStats) -> String {
        var protocols: [String] = []
        for label in ProtocolLabel.allCases where s.protocolPackets[label] > 0 {
            protocols.append(
                "\"\(label.name)\":{\"packets\":\(s.protocolPackets[label]),\"bytes\":\(s.protocolBytes[label])}")
        }
        return "{\"start\":\(seconds(s.startNs)),\"interval_seconds\":\(seconds(s.intervalNs)),"
            + "\"packets\":\(s.packets),\"bytes\":\(s.bytes),\"bits_per_second\":\(number(s.bitsPerSecond)),"
            + "\"min_length\":\(s.minLength),\"max_length\":\(s.maxLength),"
            + "\"mean_length\":\(s.meanLength.map(number) ?? "null"),"
            + "\"protocols\":{\(protocols.joined(separator: ","))},"
            + "\"drops\":\(drops(s.drops)),\"late_packets\":\(s.latePackets)}"
    }

    public static func intervals(_ list: [IntervalStats], intervalNs: Int64) -> String {
        "{\"interval_seconds\":\(seconds(intervalNs)),\"intervals\":["
            + list.map(interval).joined(separator: ",") + "]}"
    }

    public static func drops(_ d: DropCounters) -> String {
        "{\"kernel\":\(d.kernel),\"interface\":\(d.interface),\"ring\":\(d.ring)}"
    }

    /// `{"error":{"status":404,"message":"…"}}`.
    public static func error(status: Int, message: String) -> String {
        "{\"error\":{\"status\":\(status),\"message\":\(quoted(message))}}"
    }

    public static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Epoch or span seconds with 9 decimals, exact (integer arithmetic).
    public static func seconds(_ ns: Int64) -> String {
        let sign = ns < 0 ? "-" : ""
        let m = ns.magnitude
        let frac = String(m % 1_000_000_000)
        return sign + String(m / 1_000_000_000) + "." + String(repeating: "0", count: 9 - frac.count) + frac
    }

    static func number(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }
}
