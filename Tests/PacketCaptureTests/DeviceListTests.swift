import Testing

@testable import PacketCapture

/// `sniff -D`: the devices as `tcpdump -D` lists them.
@Suite struct DeviceListTests {
    @Test func numberedLinesAsTcpdump() {
        let eth = CaptureDevice(
            name: "eth0", description: nil, isLoopback: false, isUp: true, isRunning: true, isWireless: false,
            connection: "Connected")
        let lo = CaptureDevice(
            name: "lo", description: "Loopback device", isLoopback: true, isUp: true, isRunning: true,
            isWireless: false, connection: nil)
        #expect(
            CaptureDevice.listText([eth, lo])
                == "1.eth0 [Up, Running, Connected]\n2.lo (Loopback device) [Loopback, Up, Running]\n")
        #expect(CaptureDevice.listText([]) == "")
    }
}
