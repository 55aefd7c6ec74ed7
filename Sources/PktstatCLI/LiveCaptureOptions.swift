import ArgumentParser
import TrafficPipeline

/// The live-capture options of `sniff`, `top` and `serve`, declared once (tcpdump's letters): the
/// device (`LiveDeviceOptions`, which `flows -i` shares) and the filter.
struct LiveCaptureOptions: ParsableArguments {
    @OptionGroup var device: LiveDeviceOptions

    @Option(help: ArgumentHelp("A BPF filter (tcpdump syntax); or give it as trailing words.", valueName: "expression"))
    var filter: String?

    @Argument(
        parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as with tcpdump.", valueName: "expression"))
    var expression: [String] = []

    func validate() throws {
        if filter != nil && !expression.isEmpty {
            throw ValidationError("give the filter either with --filter or as trailing words, not both")
        }
    }

    var interface: String? { device.interface }
    var relinquish: String? { device.relinquish }

    var filterExpression: String? { filter ?? (expression.isEmpty ? nil : expression.joined(separator: " ")) }

    var settings: LiveSettings { device.settings(filter: filterExpression) }
}

/// `-i -s -p -B -Z`: the device of a live capture.
struct LiveDeviceOptions: ParsableArguments {
    @Option(
        name: [.short, .customLong("interface")],
        help: "Interface to capture on ('any' for all). Default: the first one libpcap lists, as tcpdump picks.")
    var interface: String?

    @Option(
        name: [.short, .customLong("snaplen")], parsing: .unconditional,
        help: "Bytes to capture per packet (0: the default, 262144, as tcpdump).")
    var snaplen: Int32 = 262_144

    @Flag(
        name: [.customShort("p"), .customLong("no-promiscuous")],
        help: "Do not put the interface into promiscuous mode.")
    var noPromiscuous = false

    @Option(
        name: [.customShort("B"), .customLong("buffer-size")], parsing: .unconditional,
        help: "Kernel capture buffer in KiB.")
    var bufferSizeKiB: Int32 = 8192

    @Option(
        name: [.customShort("Z"), .customLong("relinquish-privileges")],
        help: ArgumentHelp(
            "After opening the device, become this user (default under sudo: SUDO_USER; '-Z root' stays root).",
            valueName: "user"))
    var relinquish: String?

    func validate() throws {
        if let problem = settings(filter: nil).problem { throw ValidationError(problem) }
    }

    func settings(filter: String?) -> LiveSettings {
        var s = LiveSettings()
        s.interface = interface
        s.snapLength = snaplen
        s.promiscuous = !noPromiscuous
        s.bufferKiB = bufferSizeKiB
        s.relinquishTo = relinquish
        s.filter = filter
        return s
    }
}
