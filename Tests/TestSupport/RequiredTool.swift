import Foundation

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

/// A Python package a test needs (as an oracle) is not importable by any `python3` on the path.
/// Thrown, it fails the test and names the PyPI package to install.
public struct MissingPythonPackage: Error, CustomStringConvertible {
    public var module: String
    public var package: String

    public var description: String {
        "the Python module \(module) is not installed: this test needs it. Install the PyPI package \(package) "
            + "(pip install \(package); scripts/install-deps installs every package the tests use)"
    }
}

/// The path of a `python3` that can import `module`: the first on `PATH` (where `pip install`
/// puts packages, a pyenv shim included), then `/usr/bin/python3`. Throws `MissingTool` when there
/// is no python3 at all and `MissingPythonPackage` (naming `package`, by default the module's
/// name) when none can import it, so the test fails rather than passing without its oracle.
///
///     let python = try requirePythonModule("communityid")
@discardableResult
public func requirePythonModule(_ module: String, package: String? = nil) throws -> String {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
    var candidates: [String] = []
    for dir in path + ["/usr/local/bin", "/usr/bin"] {
        let p = dir + "/python3"
        if FileManager.default.isExecutableFile(atPath: p), !candidates.contains(p) { candidates.append(p) }
    }
    if candidates.isEmpty { throw MissingTool(tool: "python3", package: "python3") }
    for python in candidates {
        if let r = try? run(python, ["-c", "import \(module)"], timeout: 60), r.status == 0, !r.signaled {
            return python
        }
    }
    throw MissingPythonPackage(module: module, package: package ?? module)
}
