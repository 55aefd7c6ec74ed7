import PacketCapture
import Testing

/// The `-w` options: sizes as `--rotate-size` and `-C` read them, their relations, the plan.
@Suite struct WriteRequestTests {
    @Test func sizesInPowersOf1024() {
        #expect(WriteRequest.parseSize("1000000") == 1_000_000)
        #expect(WriteRequest.parseSize("512K") == 512 << 10)
        #expect(WriteRequest.parseSize("100M") == 100 << 20)
        #expect(WriteRequest.parseSize("1g") == 1 << 30)
        #expect(WriteRequest.parseSize("1GiB") == 1 << 30)
        #expect(WriteRequest.parseSize("2MB") == 2 << 20)
        #expect(WriteRequest.parseSize("1.5K") == 1536)
        #expect(WriteRequest.parseSize("1T") == 1 << 40)
        for bad in ["", "0", "-1M", "M", "B", "12X", "0.1", "9000000T", "abc"] {
            #expect(WriteRequest.parseSize(bad) == nil, "\(bad)")
        }
    }

    @Test func millionsAsTcpdumpReadsThem() {
        #expect(WriteRequest.parseMillions("100") == 100_000_000)
        #expect(WriteRequest.parseMillions("0.5") == 500_000)
        for bad in ["0", "-3", "1M", "1e13", "x"] { #expect(WriteRequest.parseMillions(bad) == nil, "\(bad)") }
    }

    @Test func problemsOfTheOptionsTogether() {
        var r = WriteRequest()
        #expect(r.problem(reading: false) == nil)
        r.rotateSize = 1
        r.rotateMillions = 1
        #expect(r.problem(reading: false) == "give --rotate-size or -C, not both")
        r.rotateMillions = nil
        #expect(r.problem(reading: false) == "--pcapng, --rotate-*, -C/-G/-W and --compress apply to -w FILE; add one")
        r.path = "-"
        #expect(r.problem(reading: false) == "standard output (-w -) cannot be rotated or compressed; name a file")
        r.path = "out.pcap"
        #expect(r.problem(reading: false) == nil)
        #expect(r.problem(reading: true) == "rotation and --compress are for live captures; with -r write one file")
        r.rotateSize = nil
        r.rotateFiles = 3
        #expect(
            r.problem(reading: false)
                == "--rotate-files/-W keeps a ring of rotated files; add --rotate-seconds or --rotate-size")
        r.rotateFiles = 0
        #expect(r.problem(reading: false) == "--rotate-files/-W must be a positive number of files")
        r.rotateFiles = nil
        r.rotateSeconds = 0
        #expect(r.problem(reading: false) == "--rotate-seconds/-G must be a positive number of seconds")
        r.rotateSeconds = nil
        r.pcapng = true
        #expect(
            r.problem(reading: true) == "with -r, pcapng is chosen by the name: write to a file ending in .pcapng")
    }

    @Test func planCarriesTheOptions() throws {
        #expect(WriteRequest().plan(interfaceNames: [:], application: "x") == nil)
        var r = WriteRequest()
        r.path = "ring.pcap"
        r.rotateMillions = 5_000_000
        r.rotateFiles = 4
        r.compression = .zstd
        let plan = try #require(r.plan(interfaceNames: [1: "lo"], application: "pktstat test"))
        #expect(plan.format == .pcap)
        #expect(plan.rotateBytes == 5_000_000)
        #expect(plan.maxFiles == 4)
        #expect(plan.compression == .zstd)
        #expect(plan.application == "pktstat test")
        #expect(plan.interfaceNames == [1: "lo"])
        r.pcapng = true
        #expect(r.plan(interfaceNames: [:], application: "x")?.format == .pcapng)
    }
}
