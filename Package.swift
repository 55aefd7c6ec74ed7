// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "pktstat",
    products: [
        .executable(name: "pktstat", targets: ["pktstat"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        // serve only: HTTP server, TLS, bcrypt, Prometheus registry, graceful shutdown, web config YAML.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.0"),
        // TrafficAnalysis: SHA-1 for the Community ID hash (already in the graph through hummingbird-auth).
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
    ],
    targets: [
        // libpcap, found through pkg-config (Debian: libpcap-dev). Only PacketCapture imports it.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // zlib and libzstd, found through pkg-config (Debian: zlib1g-dev, libzstd-dev). Only PacketFile
        // imports them: compressed captures are decompressed under the reader.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // SQLite (Debian: libsqlite3-dev), for the traffic history. Only History imports it.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Linux headers Glibc does not expose to Swift (sockaddr_ll, rtnetlink).
        .target(name: "CNetLinux"),

        // Pure decoding of link/network headers into a record. No libpcap, no Foundation.
        .target(name: "PacketWire", swiftSettings: strict),
        // The compact per-packet record and the bounded single-producer/single-consumer ring.
        .target(
            name: "PacketRecords",
            dependencies: ["PacketWire"],
            swiftSettings: strict
        ),
        // Our own pcap/pcapng file reader: large sequential reads, records parsed in place; gzip and
        // zstd captures decompressed as they are read.
        .target(
            name: "PacketFile", dependencies: ["PacketWire", "PacketRecords", "CZlib", "CZstd"], swiftSettings: strict),
        // The only code that touches libpcap.
        .target(
            name: "PacketCapture",
            dependencies: ["CPcap", "PacketWire", "PacketRecords"],
            swiftSettings: strict
        ),
        // Size-over-time series and summaries. No libpcap, no I/O.
        .target(
            name: "TrafficAnalysis",
            dependencies: ["PacketWire", "PacketRecords", .product(name: "Crypto", package: "swift-crypto")],
            // The per-packet paths (flow table, connection tracker) live in classes; in release builds
            // the dynamic exclusivity checks of their properties were a tenth of `flows --format zeek`
            // (swift_beginAccess). Debug builds, which the tests run, keep them.
            swiftSettings: strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // The traffic history in SQLite: the store, its rollups, retention and queries.
        .target(name: "History", dependencies: ["CSQLite"], swiftSettings: strict),
        // CSV, JSON, tables, SVG charts, gnuplot scripts.
        .target(
            name: "Rendering",
            dependencies: ["PacketWire", "PacketRecords", "TrafficAnalysis", "History", "NetInfo"],
            swiftSettings: strict
        ),
        // Interfaces, routes, gateways: getifaddrs, /proc, rtnetlink.
        .target(
            name: "NetInfo",
            dependencies: ["CNetLinux", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        // Who owns a flow's sockets: sock_diag, /proc/PID/fd, comm, cgroup; every network namespace.
        .target(
            name: "SocketOwners",
            dependencies: ["CNetLinux", "PacketWire", "TrafficAnalysis"],
            swiftSettings: strict
        ),
        // The pipeline every command composes: record sources (capture files, standard input,
        // live capture) with stop conditions and drop accounting, feeding the analysis consumers.
        .target(
            name: "TrafficPipeline",
            dependencies: [
                "PacketWire", "PacketRecords", "PacketFile", "PacketCapture", "TrafficAnalysis", "History", "NetInfo",
                "Rendering", "OutputSinks", "CNetLinux", "SocketOwners",
            ],
            swiftSettings: strict
        ),
        // pktstat serve: HTTP routes, auth (bearer token file, exporter-toolkit web config, bcrypt), TLS,
        // Prometheus metrics, JSON API, SSE, dashboard. The only target that depends on Hummingbird/NIO.
        .target(
            name: "Serve",
            dependencies: [
                "PacketWire", "PacketRecords", "TrafficAnalysis", "Rendering", "NetInfo", "TrafficPipeline", "History",
                "SocketOwners",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: strict
        ),
        // Where bytes go: standard output, files replaced whole (AtomicFile), gnuplot's stdin.
        .target(
            name: "OutputSinks",
            dependencies: ["Rendering", "TrafficAnalysis", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        // Commands: the only code that prints or exits.
        .target(
            name: "PktstatCLI",
            dependencies: [
                "PacketWire", "PacketRecords", "PacketFile", "PacketCapture", "TrafficAnalysis", "TrafficPipeline",
                "Rendering", "NetInfo", "OutputSinks", "Serve", "History", "SocketOwners",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "pktstat", dependencies: ["PktstatCLI"], swiftSettings: strict),
        // libFuzzer target (scripts/fuzz builds it with -sanitize=fuzzer); a replayer otherwise.
        // Our file reader against libpcap's, for the differential tests and the fuzz target.
        .target(
            name: "ReaderCrossCheck", dependencies: ["PacketCapture", "PacketFile", "PacketRecords"],
            swiftSettings: strict),
        .executableTarget(
            name: "pktstat-fuzz",
            dependencies: ["PacketFile", "PacketRecords", "PacketWire", "ReaderCrossCheck", "TrafficAnalysis"],
            swiftSettings: strict
        ),

        // Tests
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "PacketWireTests", dependencies: ["PacketWire", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "PacketFileTests",
            dependencies: ["PacketFile", "PacketRecords", "PacketWire", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "PacketRecordsTests", dependencies: ["PacketRecords", "PacketWire"], swiftSettings: strict),
        .testTarget(
            name: "PacketCaptureTests",
            dependencies: ["PacketCapture", "PacketFile", "PacketRecords", "PacketWire", "ReaderCrossCheck", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrafficAnalysisTests",
            dependencies: ["TrafficAnalysis", "PacketRecords", "PacketWire", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RenderingTests",
            dependencies: ["Rendering", "TrafficAnalysis", "PacketRecords", "PacketWire", "NetInfo", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrafficPipelineTests",
            dependencies: [
                "TrafficPipeline", "PacketCapture", "PacketRecords", "PacketWire", "TrafficAnalysis", "OutputSinks",
                "History", "TestSupport",
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "SocketOwnersTests", dependencies: ["SocketOwners"], swiftSettings: strict),
        .testTarget(name: "NetInfoTests", dependencies: ["NetInfo", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PktstatCLITests", dependencies: ["TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "ServeTests",
            dependencies: [
                "Serve", "TrafficAnalysis", "Rendering", "PacketWire", "PacketRecords", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
    ]
)
