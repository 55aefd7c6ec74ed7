/// A JSON value with ordered object keys. Built whole, then rendered in one go, so output is never
/// half a document. Strings go through `append(jsonString:)`, the one JSON escaper of Rendering.
public indirect enum JSONValue: Sendable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func uint(_ n: some BinaryInteger) -> JSONValue { .int(Int64(clamping: n)) }

    /// Pretty-printed with two-space indentation (or compact), ending without a newline.
    public func rendered(pretty: Bool = true) -> String {
        var out: [UInt8] = []
        write(into: &out, indent: 0, pretty: pretty)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the value; `indent` is the nesting depth of the value itself.
    public func write(into out: inout [UInt8], indent: Int, pretty: Bool) {
        switch self {
        case .string(let s): out.append(jsonString: s)
        case .int(let n): out.append(decimal: n)
        case .bool(let b): if b { out.append(ascii: "true") } else { out.append(ascii: "false") }
        case .null: out.append(ascii: "null")
        case .array(let items):
            let (open, close) = (UInt8(ascii: "["), UInt8(ascii: "]"))
            Self.container(items.count, open: open, close: close, into: &out, indent: indent, pretty: pretty) {
                i, out in
                items[i].write(into: &out, indent: indent + 1, pretty: pretty)
            }
        case .object(let members):
            let (open, close) = (UInt8(ascii: "{"), UInt8(ascii: "}"))
            Self.container(members.count, open: open, close: close, into: &out, indent: indent, pretty: pretty) {
                i, out in
                out.append(jsonString: members[i].0)
                if pretty { out.append(ascii: ": ") } else { out.append(UInt8(ascii: ":")) }
                members[i].1.write(into: &out, indent: indent + 1, pretty: pretty)
            }
        }
    }

    /// `[]`/`{}` when empty; otherwise each element on its own line, indented one level deeper.
    private static func container(
        _ count: Int, open: UInt8, close: UInt8, into out: inout [UInt8], indent: Int, pretty: Bool,
        element: (Int, inout [UInt8]) -> Void
    ) {
        out.append(open)
        if count == 0 {
            out.append(close)
            return
        }
        for i in 0..<count {
            if pretty {
                out.append(UInt8(ascii: "\n"))
                out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * (indent + 1)))
            }
            element(i, &out)
            if i < count - 1 { out.append(UInt8(ascii: ",")) }
        }
        if pretty {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * indent))
        }
        out.append(close)
    }
}

/// Builds ordered JSON objects, skipping nil values.
public struct JSONObject {
    public var members: [(String, JSONValue)] = []

    public init() {}

    public mutating func set(_ key: String, _ value: JSONValue?) {
        if let value { members.append((key, value)) }
    }

    public mutating func set(_ key: String, _ value: String?) {
        if let value { members.append((key, .string(value))) }
    }

    public var value: JSONValue { .object(members) }
}
