import PacketWire

/// Zeek's TCP analysis of one packet (`TCPSessionAdapter::Process` and what it calls), on a
/// connection's two endpoints. `ei` is the sender's endpoint index, `pi` its peer's.
extension Connection {
    static let tooLargeSeqDelta: Int32 = 1_048_576
    static let maxInitialWindow: UInt64 = 16384
    static let maxAboveHoleWithoutAcks: UInt64 = 16384
    static let excessiveDataWithoutAcks: UInt64 = 10 * 1024 * 1024
    /// Zeek's `tcp_connection_linger`, `tcp_session_timer`, `tcp_close_delay` and
    /// `tcp_SYN_timeout` (microseconds).
    static let linger: Int64 = 5_000_000
    static let sessionTimer: Int64 = 6_000_000
    static let closeDelay: Int64 = 5_000_000
    static let synTimeout: Int64 = 5_000_000

    /// Processes a TCP packet from the originator (`senderIsOrig`) or the responder. Returns
    /// whether the sender is the originator afterwards (a flip can change it).
    mutating func processTCP(
        senderIsOrig: Bool, _ p: borrowing ConnPacket, time t: Int64, nanos: Int64,
        settings: borrowing ConnectionSettings
    ) -> Bool {
        let ei = senderIsOrig ? origIndex : respIndex
        let pi = 1 - ei
        let flags = p.tcpFlags
        let syn = flags & TCPFlag.syn != 0
        let fin = flags & TCPFlag.fin != 0
        let rst = flags & TCPFlag.rst != 0
        let ackFlag = flags & TCPFlag.ack != 0
        let baseSeq = p.seq
        let ackSeq = p.ack
        let len = p.tcpPayloadLength

        setPartialStatus(flags, isOrig: self[ei].isOrig)

        var segLen = len
        if syn { segLen += 1 }
        if fin { segLen += 1 }
        if rst { segLen -= len }
        let seqOnePast = baseSeq &+ UInt32(truncatingIfNeeded: segLen)

        initEndpoint(ei, syn: syn, firstSeq: baseSeq, lastSeq: seqOnePast)

        var underflow = false
        let relSeq = relativeSeq(ei, baseSeq, self[ei].lastSeq, self[ei].seqWraps, &underflow)

        updateHistory(flags, ei, relSeq, len)
        updateWindow(ei, window: UInt32(p.window), baseSeq: baseSeq, ackSeq: ackSeq, flags: flags)

        if !e0.didClose || !e1.didClose { last = t }

        if syn { initWindow(ei, pi, ack: ackFlag, scale: Int32(p.windowScale), baseSeq: baseSeq, ackSeq: ackSeq) }

        if fin {
            self[ei].finCount &+= 1
            self[rare: ei].finSeq = relSeq &+ UInt64(bitPattern: Int64(segLen))
        }
        if rst { self[ei].rstCount &+= 1 }

        var relAck: UInt64 = 0
        if ackFlag {
            if self[ei].isOrig && !seenFirstACK && (self[ei].state == .established || self[ei].state == .synSent) {
                seenFirstACK = true
            }
            if self[pi].state == .inactive {
                relAck = 1
                // init_peer: number the peer's sequence as if its SYN had been seen.
                let start = ackSeq &- 1
                self[pi].initSeqs(start: start, last: start)
            } else {
                var ackUnderflow = false
                relAck = relativeSeq(pi, ackSeq, self[pi].ackSeq, self[pi].ackWraps, &ackUnderflow)
                if ackUnderflow {
                    relAck = 0
                } else if !rst {
                    let deltaAck = seqDelta(ackSeq, self[pi].ackSeq)
                    if ackSeq == 0 && deltaAck > Connection.tooLargeSeqDelta {
                        // A broken ack more likely than a large connection landing on 0.
                    } else if deltaAck > 0 {
                        self[pi].updateAckSeq(ackSeq)
                    }
                }
            }
        }

        let deltaLast = updateLastSeq(ei, seqOnePast, flags: flags, len: len)

        var doClose = false
        var genEvent = false
        // Zeek hands the state machine the sender's role as it was when the packet arrived, even
        // when the history flipped the connection on the way.
        updateStateMachine(
            t, ei, pi, isOrig: senderIsOrig, baseSeq: baseSeq, ackSeq: ackSeq, len: len, deltaLast: deltaLast,
            flags: flags,
            doClose: &doClose, genEvent: &genEvent, settings: settings)

        if ackFlag { ackReceived(pi, relAck) }

        let relDataSeq = syn ? relSeq &+ 1 : relSeq
        if len > 0 && !rst && !underflow {
            // The reassembler takes data only when the payload was captured whole.
            if p.tcpPayloadCaptured >= len { dataSent(ei, seq: relDataSeq, len: UInt64(len)) }
        }

        checkEOF(ei)
        if doClose { connectionClosed(ei, pi, genEvent: genEvent) }

        trackRTT(isOrig: self[ei].isOrig, syn: syn, ack: ackFlag, rst: rst, nanos: nanos)
        return self[ei].isOrig
    }

    /// Wireshark's `tcp.analysis.initial_rtt`: from the (last) SYN to the originator's ACK after
    /// the responder's SYN-ACK.
    @inline(__always)
    mutating func trackRTT(isOrig: Bool, syn: Bool, ack: Bool, rst: Bool, nanos: Int64) {
        guard rttNanos < 0 else { return }
        if isOrig {
            if syn && !ack {
                synNanos = nanos
                synAckSeen = false
            } else if ack && !syn && !rst && synAckSeen && synNanos >= 0 {
                rttNanos = nanos - synNanos
            }
        } else if syn && ack && synNanos >= 0 {
            synAckSeen = true
        }
    }

    @inline(__always)
    mutating func setPartialStatus(_ flags: UInt8, isOrig: Bool) {
        let syn = flags & TCPFlag.syn != 0
        let ack = flags & TCPFlag.ack != 0
        if isOrig {
            if firstPacketSeen & 1 == 0 { isPartial = !syn || ack }
        } else {
            if firstPacketSeen & 2 == 0 && !isPartial { isPartial = !syn }
        }
    }

    mutating func setFirstPacketSeen(isOrig: Bool) { firstPacketSeen |= isOrig ? 1 : 2 }

    @inline(__always)
    mutating func initEndpoint(_ ei: Int, syn: Bool, firstSeq: UInt32, lastSeq: UInt32) {
        switch self[ei].state {
        case .inactive:
            if syn {
                self[ei].initSeqs(start: firstSeq, last: lastSeq)
            } else {
                // A partial connection: number as though a SYN had been seen, and do not take the
                // first packet for a duplicate.
                self[ei].initSeqs(start: firstSeq &- 1, last: firstSeq)
            }
        case .synSent, .synAckSent:
            if syn && firstSeq != UInt32(truncatingIfNeeded: self[ei].startSeq) {
                self[ei].initSeqs(start: firstSeq, last: lastSeq)
            }
        case .established, .partial:
            if syn { self[ei].initSeqs(start: firstSeq, last: lastSeq) }
        case .reset:
            if syn && self[ei].prevState == .inactive { self[ei].initSeqs(start: firstSeq, last: lastSeq) }
        case .closed:
            break
        }
    }

    @inline(__always)
    func relativeSeq(_ i: Int, _ cur: UInt32, _ last: UInt32, _ wrapsIn: UInt32, _ underflow: inout Bool) -> UInt64 {
        var wraps = wrapsIn
        var delta = seqDelta(cur, last)
        if delta < 0 {
            if wraps != 0 && cur > last { wraps -= 1 }
        } else if delta > 0 {
            if cur < last { wraps &+= 1 }
        }
        if wraps == 0 {
            delta = seqDelta(cur, UInt32(truncatingIfNeeded: self[i].startSeq))
            if delta < 0 { underflow = true }
            return UInt64(bitPattern: Int64(delta))
        }
        return self[i].relative(cur, wraps)
    }

    /// `TCP_Endpoint::CheckHistory`: the first A or D after a lone SYN-ACK flips the connection
    /// (`^h`); the responder's letters are lower case and its masks shifted.
    @inline(__always)
    mutating func endpointCheckHistory(_ ei: Int, _ mask: UInt32, _ code: UInt8) -> Bool {
        // The history is "H" only while the originator's SYN-ACK is the one letter seen (its bit
        // alone in `histSeen`): the history itself, further away, is read only then.
        if (code == UInt8(ascii: "A") || code == UInt8(ascii: "D")) && histSeen == HistoryMask.syn
            && history.equals("H")
        {
            flipRoles()
            history = ConnHistory("^h")
            setFirstPacketSeen(isOrig: true)
        }
        if self[ei].isOrig { return checkHistory(mask, code) }
        return checkHistory(mask << 16, code | 0x20)
    }

    mutating func endpointAddHistory(_ ei: Int, _ code: UInt8) {
        addHistory(self[ei].isOrig ? code : code | 0x20)
    }

    @inline(__always)
    mutating func updateHistory(_ flags: UInt8, _ ei: Int, _ relSeq: UInt64, _ len: Int) {
        let syn = flags & TCPFlag.syn != 0
        let fin = flags & TCPFlag.fin != 0
        let rst = flags & TCPFlag.rst != 0
        let bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0)
        if bits > 1 {
            if fin && rst {
                _ = endpointCheckHistory(ei, HistoryMask.finRst, UInt8(ascii: "I"))
            } else {
                _ = endpointCheckHistory(ei, HistoryMask.multiFlag, UInt8(ascii: "Q"))
            }
        } else if bits == 1 {
            if syn {
                let code = flags & TCPFlag.ack != 0 ? UInt8(ascii: "H") : UInt8(ascii: "S")
                if endpointCheckHistory(ei, HistoryMask.syn, code) && relSeq != self[rare: ei].histLastSYN {
                    endpointAddHistory(ei, code)
                }
                self[rare: ei].histLastSYN = relSeq
            }
            if fin {
                let end = relSeq &+ UInt64(bitPattern: Int64(len))
                if endpointCheckHistory(ei, HistoryMask.fin, UInt8(ascii: "F")) && end != self[rare: ei].histLastFIN {
                    endpointAddHistory(ei, UInt8(ascii: "F"))
                }
                self[rare: ei].histLastFIN = end
            }
            if rst {
                if endpointCheckHistory(ei, HistoryMask.rst, UInt8(ascii: "R")) && relSeq != self[rare: ei].histLastRST
                {
                    endpointAddHistory(ei, UInt8(ascii: "R"))
                }
                self[rare: ei].histLastRST = relSeq
            }
        } else {
            if len != 0 {
                _ = endpointCheckHistory(ei, HistoryMask.data, UInt8(ascii: "D"))
            } else if flags & TCPFlag.ack != 0 {
                _ = endpointCheckHistory(ei, HistoryMask.ack, UInt8(ascii: "A"))
            }
        }
    }

    @inline(__always)
    mutating func updateWindow(_ ei: Int, window raw: UInt32, baseSeq: UInt32, ackSeq: UInt32, flags: UInt8) {
        let scale = self[ei].windowScale
        let window = raw << UInt32(max(0, min(scale, 14)))
        let pi = 1 - ei
        let rst = flags & TCPFlag.rst != 0
        if window == 0 && !rst && self[pi].state != .closed && self[ei].state != .reset {
            let code = self[ei].isOrig ? UInt8(ascii: "W") : UInt8(ascii: "w")
            var count = self[rare: ei].zeroWindowCount
            var threshold = self[rare: ei].zeroWindowThreshold
            scaledHistory(code, &count, &threshold)
            self[rare: ei].zeroWindowCount = count
            self[rare: ei].zeroWindowThreshold = threshold
        }
        let quiet = flags & (TCPFlag.syn | TCPFlag.fin | TCPFlag.rst) == 0
        if quiet && self[ei].state != .closed && self[ei].state != .reset {
            if seqDelta(baseSeq, self[ei].windowSeq) >= 0 && seqDelta(ackSeq, self[ei].windowAckSeq) >= 0 {
                self[ei].window = window
                self[ei].windowAckSeq = ackSeq
                self[ei].windowSeq = baseSeq
            }
        }
    }

    mutating func initWindow(_ ei: Int, _ pi: Int, ack: Bool, scale: Int32, baseSeq: UInt32, ackSeq: UInt32) {
        if scale < 0 {
            if ack {
                self[ei].windowScale = 0
                self[pi].windowScale = 0
            } else {
                self[ei].windowScale = 0
            }
        } else {
            self[ei].windowScale = Int8(min(scale, 14))
            self[ei].windowSeq = baseSeq
            self[ei].windowAckSeq = ackSeq
            self[pi].windowSeq = ackSeq
            self[pi].windowAckSeq = baseSeq
        }
    }

    @inline(__always)
    mutating func updateLastSeq(_ ei: Int, _ lastSeq: UInt32, flags: UInt8, len: Int) -> Int32 {
        let delta = seqDelta(lastSeq, self[ei].lastSeq)
        let synOrRst = flags & (TCPFlag.syn | TCPFlag.rst) != 0
        if synOrRst && (delta > Connection.tooLargeSeqDelta || delta < -Connection.tooLargeSeqDelta) {
            // Untrusted.
        } else if flags & TCPFlag.fin != 0
            && self[ei].lastSeq == UInt32(truncatingIfNeeded: self[ei].startSeq) &+ 1
        {
            self[ei].updateLastSeq(lastSeq)
        } else if self[ei].state == .reset {
            // No later sequence numbers are trusted.
        } else if delta > 0 {
            self[ei].updateLastSeq(lastSeq)
        } else if len > 0 {
            let code = self[ei].isOrig ? UInt8(ascii: "T") : UInt8(ascii: "t")
            var count = self[rare: ei].retransmitCount
            var threshold = self[rare: ei].retransmitThreshold
            scaledHistory(code, &count, &threshold)
            self[rare: ei].retransmitCount = count
            self[rare: ei].retransmitThreshold = threshold
        }
        return delta
    }

    // MARK: - The state machine

    mutating func updateStateMachine(
        _ t: Int64, _ ei: Int, _ pi: Int, isOrig: Bool, baseSeq: UInt32, ackSeq: UInt32, len: Int, deltaLast: Int32,
        flags: UInt8, doClose: inout Bool, genEvent: inout Bool, settings: borrowing ConnectionSettings
    ) {
        let syn = flags & TCPFlag.syn != 0
        let fin = flags & TCPFlag.fin != 0
        let rst = flags & TCPFlag.rst != 0
        let ack = flags & TCPFlag.ack != 0
        switch self[ei].state {
        case .inactive:
            if syn {
                if isOrig {
                    setEndpointState(ei, ack ? .synAckSent : .synSent)
                    attemptAt = t + settings.attemptDelay
                } else {
                    if ack {
                        // A SYN-ACK: nothing to change here.
                    } else if self[pi].state == .synAckSent
                        && baseSeq == UInt32(truncatingIfNeeded: self[ei].startSeq)
                    {
                        // A SYN/SYN-ACK reversal: flip and establish.
                        isPartial = false
                        flipRoles()
                        setEndpointState(pi, .established)
                        setFirstPacketSeen(isOrig: true)
                    }
                    if self[pi].state == .synSent { setEndpointState(pi, .established) }
                    setEndpointState(ei, .established)
                    if self[pi].state != .partial { connectionEstablished(settings) }
                }
            }
            if fin {
                setEndpointState(ei, .closed)
                doClose = true
                genEvent = true
            }
            if rst {
                setEndpointState(ei, .reset)
                var isReject = false
                if isOrig {
                    if self[pi].state == .established { isReject = true }
                } else if self[pi].state == .synSent || self[pi].state == .synAckSent {
                    isReject = true
                }
                doClose = true
                genEvent = !isReject
            }
            if self[ei].state == .inactive {
                if !isOrig && len == 0 && self[origIndex].state == .synSent {
                    // An ack of the SYN before the SYN-ACK: not a partial connection.
                } else if ack && self[pi].state == .established {
                    setEndpointState(ei, .established)
                    isPartial = false
                    setFirstPacketSeen(isOrig: isOrig)
                } else {
                    setEndpointState(ei, .partial)
                }
            }
        case .synSent, .synAckSent:
            if fin {
                setEndpointState(ei, .closed)
                doClose = true
                genEvent = true
            }
            if rst {
                setEndpointState(ei, .reset)
                isActive = false
                doClose = true
            }
        case .established, .partial:
            if syn && self[ei].state == .partial && self[pi].state == .inactive && !ack {
                setEndpointState(ei, .synSent)
            }
            if fin && !rst {
                setEndpointState(ei, .closed)
                if self[pi].state == .reset && self[pi].prevState == .closed { setEndpointState(pi, .closed) }
                doClose = true
                genEvent = true
            }
            if rst {
                let peerState = self[pi].state
                let peerPrev = self[pi].prevState
                setEndpointState(ei, .reset)
                doClose = true
                if peerState != .reset || peerPrev != .established { isActive = false }
            }
        case .closed:
            // Zeek's reset timer runs only when `connection_reset` has a handler, which the
            // default scripts do not have.
            if rst && self[pi].state != .closed {
                setEndpointState(ei, .reset)
                if !self[ei].didClose { doClose = true }
            }
        case .reset:
            break
        }
    }

    /// The `connection_established` handler of Zeek's `base/protocols/conn/inactivity.zeek`:
    /// interactive services (21, 22, 23, 513/tcp) get an hour of inactivity.
    mutating func connectionEstablished(_ settings: borrowing ConnectionSettings) {
        var servicePort = respPort
        if self[origIndex].state == .inactive && !settings.serverPorts.contains(respPort, tcp: true)
            && settings.serverPorts.contains(origPort, tcp: true)
        {
            servicePort = origPort
        }
        if servicePort == 21 || servicePort == 22 || servicePort == 23 || servicePort == 513 {
            inactivityTimeout = Connection.interactiveTimeout
        }
    }

    /// `Conn::port_inactivity_timeouts` for interactive services.
    static let interactiveTimeout: Int64 = 3_600_000_000

    /// `TCP_Endpoint::SetState`, with the inactivity timeout's switch from the handshake's (UDP's)
    /// to TCP's when the first side leaves the handshake.
    mutating func setEndpointState(_ i: Int, _ s: TCPState) {
        if s != self[i].state {
            if !Connection.isHandshake(s) && Connection.isHandshake(self[i].state)
                && Connection.isHandshake(self[1 - i].state)
            {
                inactivityTimeout = tcpTimeout
            }
            self[i].setState(s)
        }
    }

    // MARK: - Closing

    mutating func connectionClosed(_ ei: Int, _ pi: Int, genEvent: Bool) {
        if dataPending(ei) {
            closeDeferred = true
            if !deferredGenEvent { deferredGenEvent = genEvent }
            return
        }
        closeDeferred = false
        if self[ei].didClose { return }
        self[ei].didClose = true
        let complete = self[ei].state == .reset || self[pi].didClose || self[pi].state == .inactive
        if complete {
            if self[ei].prevState != .inactive || self[pi].state != .inactive {
                var gen = genEvent
                if deferredGenEvent {
                    gen = true
                    deferredGenEvent = false
                }
                if gen { isActive = false }
            }
            // CancelTimers, then the delete timer.
            attemptAt = .max
            expireChain0 = .max
            expireChain1 = .max
            deleteAt = last + Connection.closeDelay
        } else if self[ei].prevState != .inactive {
            let tick = last + Connection.sessionTimer
            if expireChain1 == .max { expireChain1 = tick } else { expireChain1 = min(expireChain1, tick) }
        }
    }

    /// `TCP_Reassembler::DataPending`.
    // mutating: called on a connection in the tracker's table, a borrow would copy all 944 bytes.
    @inline(__always)
    mutating func dataPending(_ i: Int) -> Bool {
        if self[i].skipDeliveries { return false }
        let delivered = UInt64(bitPattern: self[i].startSeq) &+ self[i].lastReassem
        let lastSeq = TCPEndpoint.full(self[i].lastSeq, self[i].seqWraps)
        if lastSeq < delivered { return false }
        if delivered != lastSeq &- 1 && delivered != lastSeq { return true }
        if self[i].state != .reset && self[blocks: 1 - i].count > 0 { return true }
        return false
    }

    @inline(__always)
    mutating func checkEOF(_ i: Int) {
        let state = self[i].state
        if !self[i].didEOF && (self[i].finCount > 0 || state == .closed || state == .reset) && !dataPending(i) {
            self[i].didEOF = true
            if closeDeferred {
                connectionClosed(i, 1 - i, genEvent: deferredGenEvent)
                closeDeferred = false
            }
        }
    }

    // MARK: - Reassembly bookkeeping

    mutating func dataSent(_ i: Int, seq seqIn: UInt64, len lenIn: UInt64) {
        let ack = self[i].relative(self[i].ackSeq, self[i].ackWraps)
        if self[i].skipDeliveries { return }
        var seq = seqIn
        var len = lenIn
        let upper = seq &+ len
        if seq < ack {
            if upper <= ack { return }
            len -= ack - seq
            seq = ack
        }
        newBlock(i, seq: seq, len: len)
        if self[i].noDataAcked && undeliveredBytes(i) > Connection.maxAboveHoleWithoutAcks {
            self[blocks: i] = RangeList()
            self[i].skipDeliveries = true
        }
        if self[blocks: i].size > Connection.excessiveDataWithoutAcks {
            self[blocks: i] = RangeList()
            self[i].skipDeliveries = true
        }
    }

    func undeliveredBytes(_ i: Int) -> UInt64 {
        let count = self[blocks: i].count
        guard count > 0 else { return 0 }
        let top = self[blocks: i].hi(count - 1)
        return top > self[i].lastReassem ? top - self[i].lastReassem : 0
    }

    mutating func newBlock(_ i: Int, seq seqIn: UInt64, len: UInt64) {
        guard len > 0 else { return }
        var seq = seqIn
        let upper = seq &+ len
        if upper <= self[i].trimSeq { return }
        if seq < self[i].trimSeq { seq = self[i].trimSeq }
        self[blocks: i].insert(seq, upper)
        blockInserted(i, seq: seq, upper: upper)
    }

    /// Delivers what became contiguous with `lastReassem`.
    mutating func blockInserted(_ i: Int, seq: UInt64, upper: UInt64) {
        if seq > self[i].lastReassem || upper <= self[i].lastReassem { return }
        deliverContiguous(i)
        if self[i].noDataAcked && self[i].size(peerState: self[1 - i].state) > Connection.maxInitialWindow {
            trimToSeq(i, self[i].lastReassem)
        }
    }

    mutating func deliverContiguous(_ i: Int) {
        var k = 0
        while k < self[blocks: i].count {
            let lo = self[blocks: i].lo(k)
            let hi = self[blocks: i].hi(k)
            if lo > self[i].lastReassem { break }
            if hi > self[i].lastReassem { self[i].lastReassem = hi }
            k += 1
        }
    }

    @inline(__always)
    mutating func ackReceived(_ i: Int, _ seqIn: UInt64) {
        var seq = seqIn
        if self[i].finCount > 0 && seq >= self[rare: i].finSeq { seq = self[rare: i].finSeq &- 1 }
        if seq <= self[i].trimSeq { return }
        trimToSeq(i, seq)
        checkEOF(i)
    }

    mutating func trimToSeq(_ i: Int, _ seq: UInt64) {
        if seq > self[i].lastReassem { undelivered(i, upTo: seq) }
        // Drop what is acknowledged.
        var k = 0
        while k < self[blocks: i].count {
            if self[blocks: i].hi(k) <= seq {
                self[blocks: i].remove(at: k)
            } else {
                k += 1
            }
        }
        if self[blocks: i].count > 0 && self[blocks: i].lo(0) == self[i].lastReassem {
            let lo = self[blocks: i].lo(0)
            blockInserted(i, seq: lo, upper: self[blocks: i].hi(0))
        }
        self[i].trimSeq = seq
    }

    /// `TCP_Reassembler::Undelivered`: the holes below `upTo` are gaps.
    mutating func undelivered(_ i: Int, upTo: UInt64) {
        if upTo <= 2 && isPartial { return }
        if !self[i].skipDeliveries {
            var k = 0
            while k < self[blocks: i].count {
                let lo = self[blocks: i].lo(k)
                if lo < self[i].lastReassem {
                    k += 1
                    continue
                }
                if lo >= upTo { break }
                gap(i, length: lo - self[i].lastReassem)
                self[i].lastReassem = lo
                deliverContiguous(i)
                k = 0
            }
            if upTo > self[i].lastReassem { gap(i, length: upTo - self[i].lastReassem) }
        }
        if upTo > self[i].lastReassem { self[i].lastReassem = upTo }
    }

    mutating func gap(_ i: Int, length: UInt64) {
        guard self[i].isClean && self[1 - i].isClean else { return }
        let code = self[i].isOrig ? UInt8(ascii: "G") : UInt8(ascii: "g")
        var count = self[rare: i].gapCount
        var threshold = self[rare: i].gapThreshold
        scaledHistory(code, &count, &threshold)
        self[rare: i].gapCount = count
        self[rare: i].gapThreshold = threshold
        missedBytes &+= length
    }

    // MARK: - Reuse and timers

    /// `TCPSessionAdapter::IsReuse`: whether a SYN starts a new connection on this key.
    // mutating: called on a connection in the tracker's table, a borrow would copy all 944 bytes.
    mutating func isReuse(_ p: ConnPacket) -> Bool {
        guard p.tcpHeaderLength >= 20, p.tcpFlags & TCPFlag.syn != 0 else { return false }
        var connOrig = origIndex
        if p.tcpFlags & TCPFlag.ack != 0 {
            if self[origIndex].state != .inactive { return false }
            connOrig = respIndex
        }
        if !(e0.didClose || e1.didClose) {
            if p.seq == UInt32(truncatingIfNeeded: self[connOrig].startSeq) { return false }
            if p.tcpFlags & TCPFlag.ack == 0 && self[connOrig].state == .synAckSent
                && self[respIndex].state == .inactive
                && p.seq == UInt32(truncatingIfNeeded: self[respIndex].startSeq)
            {
                return false
            }
        }
        return true
    }

    /// When Zeek's timers would remove the connection if no packet came (microseconds).
    // mutating: called on a connection in the tracker's table, a borrow would copy all 944 bytes.
    mutating func tcpDeadline() -> Int64 {
        var d = last &+ inactivityTimeout
        d = min(d, deleteAt)
        guard isActive else { return d }
        let os = self[origIndex].state
        let rs = self[respIndex].state
        let oClosed = self[origIndex].didClose
        let rClosed = self[respIndex].didClose
        if attemptAt != .max && (os == .synSent || os == .synAckSent) && rs == .inactive {
            d = min(d, attemptAt)
        }
        let expire =
            ((oClosed || rClosed)
                && ((oClosed && rClosed) || os == .reset || rs == .reset || os == .inactive || rs == .inactive))
            || (os == .inactive && rs == .inactive)
        if expire {
            let after = max(last + Connection.linger, lastPacket)
            d = min(d, Connection.nextTick(expireChain0, after: after))
            d = min(d, Connection.nextTick(expireChain1, after: after))
        }
        return d
    }

    /// The first tick of a chain (`base`, then every `tcp_session_timer`) later than `after`.
    static func nextTick(_ base: Int64, after: Int64) -> Int64 {
        guard base != .max else { return .max }
        if base > after { return base }
        return base + ((after - base) / sessionTimer + 1) * sessionTimer
    }

    static func isHandshake(_ s: TCPState) -> Bool { s == .inactive || s == .synSent || s == .synAckSent }
}
