/// A program a test needs is not installed. Thrown, it fails the test (Swift Testing records a
/// thrown error as an issue) with a message that names the Debian package to install: a test
/// never passes because the tool it compares against is missing.
public struct MissingTool: Error, CustomStringConvertible {
    public var tool: String
    public var package: String

    public var description: String {
        "\(tool) is not installed: this test needs it. Install the Debian package \(package) "
            + "(apt-get install \(package); scripts/install-deps installs every tool the tests use)"
    }
}

/// The Debian package of each program the tests run (what `scripts/install-deps` installs).
public let debianPackageOfTool: [String: String] = [
    "tcpdump": "tcpdump",
    "tshark": "tshark",
    "capinfos": "wireshark-common",
    "editcap": "wireshark-common",
    "mergecap": "wireshark-common",
    "python3": "python3",
    "gnuplot": "gnuplot-nox",
    "rsvg-convert": "librsvg2-bin",
    "xmllint": "libxml2-utils",
    "ip": "iproute2",
    "jq": "jq",
    "setpriv": "util-linux",
    "runuser": "util-linux",
    "setcap": "libcap2-bin",
    "getcap": "libcap2-bin",
    "time": "time",
    "tmux": "tmux",
    "gzip": "gzip",
    "zstd": "zstd",
    "man": "man-db",
    "timeout": "coreutils",
    "curl": "curl",
    "wrk": "wrk",
    "openssl": "openssl",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "chromedriver": "chromium-driver",
]

/// The path of `name` (looked up as `TestPaths.tool` does), or a thrown `MissingTool` that fails
/// the test and names `package` (by default the one `debianPackageOfTool` lists).
///
///     let tshark = try requireTool("tshark")
///
/// Skipping is for what a test cannot have on this machine (root, a device); a missing tool is a
/// failure, as `scripts/install-deps` installs them all.
@discardableResult
public func requireTool(_ name: String, package: String? = nil) throws -> String {
    if let path = TestPaths.tool(name) { return path }
    throw MissingTool(tool: name, package: package ?? debianPackageOfTool[name] ?? "that provides \(name)")
}
