import PacketRecords
public import PacketWire

/// Where the format parsers put each packet. The parsers are generic over it and specialised for
/// each sink, so handing a packet over is a direct, inlined call (no existential, no closure per
/// packet).
protocol PacketSink {
    /// Takes one packet whose `captured` bytes start at `data` (valid only during the call).
    /// Returns false to ask the reader to stop after this packet.
    mutating func take(timestampNs: Int64, length: UInt32, captured: UInt32, data: UnsafeRawPointer) -> Bool

    /// Hands over whatever is pending. Returns false to ask the reader to stop.
    mutating func flush() -> Bool
}

/// Decodes each packet straight from the read buffer into a fixed-size batch of records and hands
/// the batch to the caller's closure when it is full (and at the end).
struct BatchSink: PacketSink {
    let records: UnsafeMutablePointer<PacketRecord>
    let capacity: Int
    let linkType: LinkType
    let body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    /// Reads names from the payloads as they are decoded; its events are cleared after each batch.
    let sniffer: NameSniffer?
    var count = 0
    var delivered: UInt64 = 0

    init(
        records: UnsafeMutablePointer<PacketRecord>, capacity: Int, linkType: LinkType,
        body: @escaping (UnsafeBufferPointer<PacketRecord>) -> Bool, sniffer: NameSniffer? = nil
    ) {
        self.records = records
        self.capacity = capacity
        self.linkType = linkType
        self.body = body
        self.sniffer = sniffer
    }

    @inline(__always)
    mutating func take(timestampNs: Int64, length: UInt32, captured: UInt32, data: UnsafeRawPointer) -> Bool {
        let bytes = Bytes(base: data, count: Int(captured))
        let decoded = Decoder.decode(bytes, linkType: linkType)
        let full = sniffer?.take(bytes, decoded, timestampNs: timestampNs, index: count) ?? false
        records[count] = PacketRecord(timestampNs: timestampNs, length: length, captured: captured, decoded: decoded)
        count &+= 1
        return (count < capacity && !full) || flush()
    }

    mutating func flush() -> Bool {
        guard count > 0 else { return true }
        let n = count
        count = 0
        delivered += UInt64(n)
        let more = body(UnsafeBufferPointer(start: records, count: n))
        sniffer?.events.clear()
        return more
    }
}

/// One packet as the file holds it: its time, length on the wire and captured bytes (valid only
/// during the call that hands it over).
public struct RawPacket {
    public let timestampNs: Int64
    public let length: UInt32
    public let bytes: Bytes
}

/// Hands each packet's bytes to the caller's closure, undecoded.
struct RawSink: PacketSink {
    let body: (RawPacket) -> Bool
    var delivered: UInt64 = 0

    @inline(__always)
    mutating func take(timestampNs: Int64, length: UInt32, captured: UInt32, data: UnsafeRawPointer) -> Bool {
        delivered &+= 1
        return body(RawPacket(timestampNs: timestampNs, length: length, bytes: Bytes(base: data, count: Int(captured))))
    }

    mutating func flush() -> Bool { true }
}
