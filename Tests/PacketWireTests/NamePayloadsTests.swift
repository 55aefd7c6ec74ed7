import PacketWire
import TestSupport
import Testing

/// The answers `DNSMessage.answers` reports for a message, as (name, address, version).
private func answers(_ message: [UInt8]) -> [(String, IPAddress, UInt8)] {
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: DNSMessage.maxNameLength, alignment: 1)
    defer { scratch.deallocate() }
    var out: [(String, IPAddress, UInt8)] = []
    message.withUnsafeBytes { raw in
        let b = Bytes(raw)
        let n = DNSMessage.answers(b, from: 0, to: b.count, name: scratch) { length, address, version in
            out.append((String(decoding: scratch[0..<length], as: UTF8.self), address, version))
        }
        #expect(n == out.count)
    }
    return out
}

private func hello(_ bytes: [UInt8]) -> (TLSClientHello.Result, String?) {
    bytes.withUnsafeBytes { raw in
        let b = Bytes(raw)
        let r = TLSClientHello.parse(b, from: 0, to: b.count)
        if case .serverName(let start, let count) = r, count > 0 {
            return (r, String(decoding: raw[start..<start + count], as: UTF8.self))
        }
        return (r, nil)
    }
}

@Suite("name payloads")
struct NamePayloadsTests {
    typealias P = NamePackets

    static let chain = P.dns(
        question: "www.example.com",
        answers: [
            P.cname(P.pointer(12), "edge.example.net"),
            P.a(P.pointer(45), [93, 184, 216, 34]),
            P.aaaa(P.pointer(45), [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [0x34]),
        ])

    @Test func cnameChainNamesEveryAddressByTheQuestion() {
        let found = answers(Self.chain)
        #expect(found.count == 2)
        #expect(found.map(\.0) == ["www.example.com", "www.example.com"])
        #expect(found[0].1 == IPAddress(v4: 0x5DB8_D822) && found[0].2 == 4)
        #expect(found[1].1 == IPAddress(hi: 0x2001_0DB8_0000_0000, lo: 0x34) && found[1].2 == 6)
    }

    @Test func queriesAndResponsesWithoutAddressesReportNothing() {
        #expect(
            answers(P.dns(question: "a.example", answers: [P.a(P.pointer(12), [1, 2, 3, 4])], response: false)).isEmpty)
        #expect(answers(P.dns(question: "a.example", answers: [P.cname(P.pointer(12), "b.example")])).isEmpty)
    }

    @Test func noQuestionNamesByTheOwner() {
        let found = answers(P.dns(question: nil, answers: [P.a(P.dnsName("printer.local"), [10, 0, 0, 77])]))
        #expect(found.map(\.0) == ["printer.local"])
    }

    @Test func oddBytesInLabelsAreEscaped() {
        let found = answers(P.dns(question: nil, answers: [P.a([4, 0x61, 0x2C, 0x2E, 0x0A, 0], [10, 0, 0, 1])]))
        #expect(found.map(\.0) == ["a\\044\\.\\010"])
    }

    @Test func pointerLoopsAndLengthsPastTheEndStop() {
        // The question's name is a pointer to itself; then one to the other, and back.
        var selfLoop = P.dns(question: nil, answers: [P.a(P.pointer(12), [1, 2, 3, 4])])
        selfLoop[5] = 1
        #expect(answers(selfLoop).isEmpty)
        let header = P.be16(1) + P.be16(0x8180) + P.be16(1) + P.be16(1) + P.be16(0) + P.be16(0)
        let pingPong =
            header + P.pointer(14) + P.pointer(12) + P.be16(1) + P.be16(1) + P.a(P.pointer(12), [1, 2, 3, 4])
        #expect(answers(pingPong).isEmpty)
        // 65,535 answers announced, one present; an rdlength past the end.
        #expect(
            answers(P.dns(question: "a.example", answers: [P.a(P.pointer(12), [1, 2, 3, 4])], answerCount: 65535)).count
                == 1)
        var long = P.dns(question: "a.example", answers: [P.a(P.pointer(12), [1, 2, 3, 4])])
        long[long.count - 5] = 0xFF
        #expect(answers(long).isEmpty)
    }

    @Test func everyPrefixOfAResponseStopsCleanly() {
        for n in 0...Self.chain.count {
            let found = answers(Array(Self.chain.prefix(n)))
            #expect(found.count <= 2)
            if n == Self.chain.count { #expect(found.count == 2) }
        }
    }

    @Test func clientHelloServerName() {
        let whole = P.clientHello(serverName: "api.example.com")
        #expect(hello(whole).1 == "api.example.com")
        #expect(hello(P.clientHello(serverName: nil)).0 == .serverName(start: 0, count: 0))
        #expect(hello([23, 3, 3, 0, 5, 1, 2, 3, 4, 5]).0 == .notHello)
        let big = P.clientHello(serverName: "late.example.com", padding: 2000)
        // Cut before the extension (the padding comes after it, so cut early).
        #expect(hello(Array(big.prefix(60))).0 == .needMore(big.count))
        #expect(hello(big).1 == "late.example.com")
    }

    @Test func everyPrefixOfAClientHelloStopsCleanly() {
        let whole = P.clientHello(serverName: "api.example.com", padding: 100)
        for n in 0..<whole.count {
            switch hello(Array(whole.prefix(n))) {
            case (.needMore(let total), _): #expect(total == whole.count || n < 5)
            case (.serverName, let name): #expect(name == nil || name == "api.example.com")
            case (.notHello, _): Issue.record("prefix \(n) read as not a ClientHello")
            }
        }
    }

    @Test func randomBytesNeverTrap() {
        var random = SplitMix(state: 21)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: DNSMessage.maxNameLength, alignment: 1)
        defer { scratch.deallocate() }
        var reported = 0
        for i in 0..<20_000 {
            var bytes = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Half of them look like a response or a ClientHello, to get past the first checks.
            if i % 2 == 0, bytes.count > 12 {
                bytes[2] |= 0x80
                bytes[0] = 22
                bytes[1] = 3
            }
            bytes.withUnsafeBytes { raw in
                let b = Bytes(raw)
                reported += DNSMessage.answers(b, from: 0, to: b.count, name: scratch) { _, _, _ in }
                _ = TLSClientHello.parse(b, from: 0, to: b.count)
            }
        }
        #expect(reported >= 0)
    }
}
