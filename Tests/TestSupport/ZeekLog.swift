public import Foundation

/// A Zeek ASCII log (the TSV `conn.log` format) read back as zeek-cut reads it, for tests.
///
/// The format, as Zeek's writer (`src/logging/writers/ascii/Ascii.cc`,
/// `src/threading/formatters/Ascii.cc`) writes it:
///
///     #separator \x09
///     #set_separator	,
///     #empty_field	(empty)
///     #unset_field	-
///     #path	conn
///     #open	2024-01-01-00-00-00
///     #fields	ts	uid	id.orig_h	...
///     #types	time	string	addr	...
///     1700000000.000000	CabcDE	10.0.0.1	...
///     #close	2024-01-01-00-00-01
///
/// `#separator` is followed by a space and the separator (whitespace as `\xHH`); every other
/// header line is `#key`, the separator, and the value (`#fields` and `#types` are lists joined
/// by the separator). Header values are escaped like fields. A row is the fields joined by the
/// separator. In a field, a byte that is the separator, a backslash, whitespace or not printable
/// is written `\xHH` (a backslash as `\\`); a string that is exactly the unset or the empty marker
/// gets its first byte escaped. A field not set is the unset marker (`-`); an empty string, set or
/// vector is the empty marker (`(empty)`); the elements of a set or vector (`#types` `set[...]`,
/// `vector[...]`) are joined by the set separator, an element's own set separator escaped.
///
/// Reading follows that: the markers are recognised on the raw field before any unescaping (so
/// `\x2d` is the string "-", not unset), sets and vectors are split on the raw set separator and
/// then each element is unescaped, and `\xHH` and `\\` are decoded left to right. Missing
/// `#separator`, `#set_separator`, `#empty_field` and `#unset_field` lines take Zeek's defaults
/// (tab, `,`, `(empty)`, `-`), as zeek-cut does.
///
/// Errors (with the line number): no `#fields` line before the first row or at all, a `#types`
/// line whose count differs from `#fields`, a row with another number of fields, a `#fields` line
/// after rows that names other fields (concatenated logs must share their columns), an empty
/// `#separator`. Bytes that are not UTF-8 (Zeek escapes them as `\xHH`) decode to U+FFFD.
public struct ZeekLog: Sendable, Equatable {
    /// One field's value.
    public enum Field: Sendable, Hashable, CustomStringConvertible {
        /// The unset marker: the field has no value (Zeek's `&optional` fields not set).
        case unset
        /// A scalar field, unescaped; "" when it was the empty marker.
        case value(String)
        /// A `set[...]` or `vector[...]` field, its elements unescaped; [] when it was the empty
        /// marker.
        case set([String])

        /// The scalar value; nil when unset or a set.
        public var text: String? {
            if case .value(let s) = self { return s }
            return nil
        }

        /// The elements of a set field; nil when unset or a scalar.
        public var elements: [String]? {
            if case .set(let e) = self { return e }
            return nil
        }

        public var isUnset: Bool { self == .unset }

        public var description: String {
            switch self {
            case .unset: "<unset>"
            case .value(let s): "\"\(s)\""
            case .set(let e): "{" + e.map { "\"\($0)\"" }.joined(separator: ", ") + "}"
            }
        }
    }

    /// One row: its fields in `#fields` order, raw (as written) and read.
    public struct Row: Sendable, Equatable {
        /// The line number (1-based) the row was on.
        public var line: Int
        /// The fields as written, before any unescaping (what zeek-cut prints).
        public var raw: [String]
        public var fields: [Field]
    }

    public var separator: String = "\t"
    public var setSeparator: String = ","
    public var emptyField: String = "(empty)"
    public var unsetField: String = "-"
    /// `#path`, `#open` and `#close` (unescaped); nil when the line is missing.
    public var path: String?
    public var open: String?
    public var close: String?
    /// The `#fields` names and the `#types` (nil when there is no `#types` line).
    public var fields: [String] = []
    public var types: [String]?
    /// Every other `#key value` header line, by key.
    public var otherHeaders: [String: String] = [:]
    public var rows: [Row] = []

    /// The column of a field name, or nil.
    public func column(_ name: String) -> Int? { fields.firstIndex(of: name) }

    /// Every row's value of the field `name` (nil when the log has no such field).
    public func values(_ name: String) -> [Field]? {
        guard let c = column(name) else { return nil }
        return rows.map { $0.fields[c] }
    }

    /// Rows as dictionaries from field name to value.
    public var records: [[String: Field]] {
        rows.map { row in Dictionary(uniqueKeysWithValues: zip(fields, row.fields)) }
    }

    /// Whether the column's `#types` entry is a set or a vector (split on the set separator).
    public func isContainer(column: Int) -> Bool {
        guard let types, column < types.count else { return false }
        return types[column].hasPrefix("set[") || types[column].hasPrefix("vector[")
    }

    /// Reads a whole log (a file's text).
    public static func parse(_ text: String) throws(ZeekLogError) -> ZeekLog {
        var log = ZeekLog()
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        for (index, line) in lines.enumerated() {
            let number = index + 1
            if line.hasPrefix("#") {
                try log.header(line, number: number)
            } else {
                try log.row(line, number: number)
            }
        }
        if log.fields.isEmpty { throw ZeekLogError(line: lines.count, message: "no #fields line") }
        return log
    }

    /// Reads the log in a file.
    public static func read(contentsOf url: URL) throws -> ZeekLog {
        try parse(String(contentsOf: url, encoding: .utf8))
    }

    private mutating func header(_ line: String, number: Int) throws(ZeekLogError) {
        if line.hasPrefix("#separator ") {
            let value = String(line.dropFirst("#separator ".count))
            let decoded = Self.unescape(value)
            guard !decoded.isEmpty else { throw ZeekLogError(line: number, message: "#separator with no separator") }
            separator = decoded
            return
        }
        let body = line.dropFirst()
        // Zeek writes the separator after the key; btest's canonifiers turn `#open` and `#close`
        // into "#open XXXX-...", so a space does too. A key alone has an empty value.
        let key: String
        let value: String
        if let range = body.range(of: separator) ?? body.range(of: " ") {
            key = String(body[..<range.lowerBound])
            value = String(body[range.upperBound...])
        } else {
            key = String(body)
            value = ""
        }
        switch key {
        case "set_separator": setSeparator = Self.unescape(value)
        case "empty_field": emptyField = Self.unescape(value)
        case "unset_field": unsetField = Self.unescape(value)
        case "path": path = Self.unescape(value)
        case "open": open = Self.unescape(value)
        case "close": close = Self.unescape(value)
        case "fields":
            let names = value.components(separatedBy: separator)
            if !rows.isEmpty && names != fields {
                throw ZeekLogError(line: number, message: "a #fields line after rows names other fields")
            }
            fields = names
            if let types, types.count != fields.count {
                throw ZeekLogError(
                    line: number, message: "#fields has \(fields.count) names but #types \(types.count) types")
            }
        case "types":
            let list = value.components(separatedBy: separator)
            if !fields.isEmpty && list.count != fields.count {
                throw ZeekLogError(
                    line: number, message: "#fields has \(fields.count) names but #types \(list.count) types")
            }
            types = list
        default:
            otherHeaders[key] = Self.unescape(value)
        }
    }

    private mutating func row(_ line: String, number: Int) throws(ZeekLogError) {
        guard !fields.isEmpty else { throw ZeekLogError(line: number, message: "a row before the #fields line") }
        let raw = line.components(separatedBy: separator)
        guard raw.count == fields.count else {
            throw ZeekLogError(line: number, message: "a row with \(raw.count) fields, #fields names \(fields.count)")
        }
        var read: [Field] = []
        read.reserveCapacity(raw.count)
        for (column, value) in raw.enumerated() {
            read.append(field(value, container: isContainer(column: column)))
        }
        rows.append(Row(line: number, raw: raw, fields: read))
    }

    private func field(_ raw: String, container: Bool) -> Field {
        if raw == unsetField { return .unset }
        if raw == emptyField { return container ? .set([]) : .value("") }
        if container {
            return .set(raw.components(separatedBy: setSeparator).map { Self.unescape($0) })
        }
        return .value(Self.unescape(raw))
    }

    /// Decodes `\xHH` (two hex digits) and `\\`, left to right; any other backslash stays.
    public static func unescape(_ s: String) -> String {
        guard s.utf8.contains(UInt8(ascii: "\\")) else { return s }
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count {
                if bytes[i + 1] == UInt8(ascii: "\\") {
                    out.append(UInt8(ascii: "\\"))
                    i += 2
                    continue
                }
                if bytes[i + 1] == UInt8(ascii: "x"), i + 3 < bytes.count, let hi = hexValue(bytes[i + 2]),
                    let lo = hexValue(bytes[i + 3])
                {
                    out.append(hi << 4 | lo)
                    i += 4
                    continue
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Why a text is not a Zeek ASCII log.
public struct ZeekLogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line number.
    public var line: Int
    public var message: String
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { "line \(line): \(message)" }
}
