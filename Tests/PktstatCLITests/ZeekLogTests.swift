import Foundation
import TestSupport
import Testing

/// The Zeek ASCII log reader (TestSupport's `ZeekLog`) on hand-written logs in Zeek's format:
/// headers, escapes, unset and empty fields, sets, and the malformed logs it must refuse.
@Suite struct ZeekLogTests {
    /// Lines joined by newlines, with "→" standing for a tab (so the logs below read as written).
    static func log(_ lines: [String]) -> String {
        lines.map { $0.replacingOccurrences(of: "→", with: "\t") }.joined(separator: "\n") + "\n"
    }

    static let header = [
        "#separator \\x09",
        "#set_separator→,",
        "#empty_field→(empty)",
        "#unset_field→-",
        "#path→conn",
        "#open→2024-05-01-10-00-00",
    ]

    @Test func connLog() throws {
        let text = Self.log(
            Self.header + [
                "#fields→ts→uid→id.orig_h→id.orig_p→id.resp_h→id.resp_p→proto→service→duration→history→tunnel_parents→community_id→initial_rtt",
                "#types→time→string→addr→port→addr→port→enum→string→interval→string→set[string]→string→interval",
                "1700000000.123456→CabcDE1→10.0.0.1→40000→10.0.0.2→80→tcp→-→1.500000→ShADadFf→(empty)→1:wCb3OG7yAFWelaUydu0D+125CLM=→0.000123",
                "1700000001.000000→CabcDE2→2001:db8::1→5353→2001:db8::2→53→udp→dns→-→Dd→Cx1,Cy2→-→-",
                "#close→2024-05-01-10-00-02",
            ])
        let z = try ZeekLog.parse(text)
        #expect(z.separator == "\t")
        #expect(z.setSeparator == ",")
        #expect(z.emptyField == "(empty)")
        #expect(z.unsetField == "-")
        #expect(z.path == "conn")
        #expect(z.open == "2024-05-01-10-00-00")
        #expect(z.close == "2024-05-01-10-00-02")
        #expect(z.fields.count == 13)
        #expect(z.types?[10] == "set[string]")
        #expect(z.rows.count == 2)
        #expect(z.rows[0].line == 9)
        #expect(z.column("initial_rtt") == 12)
        #expect(z.values("uid") == [.value("CabcDE1"), .value("CabcDE2")])
        #expect(z.values("service") == [.unset, .value("dns")])
        #expect(z.values("tunnel_parents") == [.set([]), .set(["Cx1", "Cy2"])])
        #expect(z.values("initial_rtt") == [.value("0.000123"), .unset])
        #expect(z.values("no.such.field") == nil)
        let first = z.records[0]
        #expect(first["id.orig_h"]?.text == "10.0.0.1")
        #expect(first["community_id"]?.text == "1:wCb3OG7yAFWelaUydu0D+125CLM=")
        #expect(z.records[1]["duration"]?.isUnset == true)
        #expect(z.records[1]["tunnel_parents"]?.elements == ["Cx1", "Cy2"])
        #expect(z.rows[1].raw[10] == "Cx1,Cy2")
    }

    /// Zeek's escaping (its tests ascii-escape-binary, ascii-escape-notset-str,
    /// ascii-escape-set-separator, ascii-escape-empty-str): `\xHH`, `\\`, the markers escaped when a
    /// string is exactly one, the set separator escaped inside an element.
    @Test func escapes() throws {
        let text = Self.log(
            Self.header + [
                "#fields→s→x→y→z→ss→v",
                "#types→string→string→string→string→set[string]→vector[string]",
                "AB\\x00CD\\x09→\\x2d→-→(empty)→\\x2c,CC,\\x2c\\x2c,AA→a\\x20b,\\x28empty)",
                "AB\\\\xffCD→\\x28empty)→x\\y→\\xZZ→\\x2d→(empty)",
                "a\\x0ab→\\→\\x4→é→single→-",
            ])
        let z = try ZeekLog.parse(text)
        #expect(z.rows.count == 3)
        let r = z.rows.map(\.fields)
        #expect(r[0][0] == .value("AB\u{0}CD\t"))
        #expect(r[0][1] == .value("-"))
        #expect(r[0][2] == .unset)
        #expect(r[0][3] == .value(""))
        #expect(r[0][4] == .set([",", "CC", ",,", "AA"]))
        #expect(r[0][5] == .set(["a b", "(empty)"]))
        // `\\` is a backslash: the data was AB\xffCD, not AB<0xff>CD.
        #expect(r[1][0] == .value("AB\\xffCD"))
        #expect(r[1][1] == .value("(empty)"))
        #expect(r[1][2] == .value("x\\y"))
        #expect(r[1][3] == .value("\\xZZ"))
        #expect(r[1][4] == .set(["-"]))
        #expect(r[1][5] == .set([]))
        #expect(r[2][0] == .value("a\nb"))
        #expect(r[2][1] == .value("\\"))
        #expect(r[2][2] == .value("\\x4"))
        #expect(r[2][3] == .value("é"))
        #expect(r[2][4] == .set(["single"]))
        #expect(r[2][5] == .unset)
        #expect(ZeekLog.unescape("\\x41BCD\\x45") == "ABCDE")
    }

    /// Another separator, set separator and markers, as `#separator` and the header lines say
    /// (Zeek's test ascii-escape uses `||`; here `|`, `;`, `EMPTY` and `NONE`).
    @Test func otherSeparators() throws {
        let text = """
            #separator ||
            #set_separator||;
            #empty_field||EMPTY
            #unset_field||NONE
            #path||ssh
            #fields||t||status||tags||note
            #types||time||string||set[string]||string
            1.0||fa\\x7c\\x7cure||a;b;c||NONE
            2.0||ok||EMPTY||\\x45MPTY
            3.0||-||\\x3b;x||(empty)

            """
        let z = try ZeekLog.parse(text)
        #expect(z.separator == "||")
        #expect(z.setSeparator == ";")
        #expect(z.values("status") == [.value("fa||ure"), .value("ok"), .value("-")])
        #expect(z.values("tags") == [.set(["a", "b", "c"]), .set([]), .set([";", "x"])])
        #expect(z.values("note") == [.unset, .value("EMPTY"), .value("(empty)")])
    }

    /// Without the `#separator` and marker lines the defaults hold (tab, `,`, `(empty)`, `-`),
    /// and without `#types` no field is a set; btest's "#open XXXX" (a space) is read too.
    @Test func defaultsAndNoTypes() throws {
        let z = try ZeekLog.parse("#open XXXX-XX-XX\n#fields\ta\tb\n1\t-\n(empty)\tx,y\n#close XXXX\n")
        #expect(z.open == "XXXX-XX-XX")
        #expect(z.close == "XXXX")
        #expect(z.types == nil)
        #expect(z.values("a") == [.value("1"), .value("")])
        #expect(z.values("b") == [.unset, .value("x,y")])
    }

    /// A second header block with the same fields (logs concatenated, as `cat *.log | zeek-cut`
    /// reads them) continues the rows.
    @Test func concatenatedLogs() throws {
        let one = Self.log(Self.header + ["#fields→a→b", "#types→count→string", "1→x", "#close→c"])
        let z = try ZeekLog.parse(one + one)
        #expect(z.values("a") == [.value("1"), .value("1")])
        #expect(z.rows.map(\.line) == [9, 19])
    }

    @Test func malformedLogs() {
        func error(_ text: String) -> ZeekLogError? {
            do {
                _ = try ZeekLog.parse(text)
                return nil
            } catch {
                return error
            }
        }
        let noFields = error(Self.log(Self.header + ["#types→count→count", "1→2"]))
        #expect(noFields == ZeekLogError(line: 8, message: "a row before the #fields line"))
        #expect(error(Self.log(Self.header)) == ZeekLogError(line: 6, message: "no #fields line"))
        #expect(error("") == ZeekLogError(line: 0, message: "no #fields line"))
        let typesCount = error(Self.log(Self.header + ["#fields→a→b→c", "#types→count→count", "1→2→3"]))
        #expect(typesCount == ZeekLogError(line: 8, message: "#fields has 3 names but #types 2 types"))
        let typesFirst = error(Self.log(Self.header + ["#types→count→count", "#fields→a→b→c"]))
        #expect(typesFirst == ZeekLogError(line: 8, message: "#fields has 3 names but #types 2 types"))
        let shortRow = error(Self.log(Self.header + ["#fields→a→b→c", "#types→count→count→count", "1→2→3", "1→2"]))
        #expect(shortRow == ZeekLogError(line: 10, message: "a row with 2 fields, #fields names 3"))
        let longRow = error(Self.log(Self.header + ["#fields→a", "1→2"]))
        #expect(longRow == ZeekLogError(line: 8, message: "a row with 2 fields, #fields names 1"))
        let otherFields = error(Self.log(Self.header + ["#fields→a", "1", "#fields→b", "2"]))
        #expect(otherFields == ZeekLogError(line: 9, message: "a #fields line after rows names other fields"))
        #expect(error("#separator \n#fields\ta\n") == ZeekLogError(line: 1, message: "#separator with no separator"))
        #expect(noFields?.description == "line 8: a row before the #fields line")
    }
}
