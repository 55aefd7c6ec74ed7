import PacketWire
import Serve
import Testing
import TrafficAnalysis

@Suite struct LiveFeedTests {
    func interval(_ i: Int64) -> IntervalStats {
        var s = IntervalStats(index: i, startNs: 1_000_000_000 * i, intervalNs: 1_000_000_000)
        s.count(length: 100, captured: 100, label: .udp)
        return s
    }

    @Test func windowKeepsTheNewestIntervalsInOrder() {
        let feed = LiveFeed(intervalNs: 1_000_000_000, windowCapacity: 3)
        for i in 0..<5 { feed.publish(interval(Int64(i))) }
        #expect(feed.intervals(sinceNs: nil).map(\.index) == [2, 3, 4])
        #expect(feed.intervals(sinceNs: 3_000_000_000).map(\.index) == [3, 4])
        #expect(feed.intervals(sinceNs: .max).isEmpty)
    }

    @Test func subscribersGetEventsAndEndOnClose() async {
        let feed = LiveFeed(intervalNs: 1_000_000_000)
        guard let (_, events) = feed.subscribe() else {
            Issue.record("no subscription")
            return
        }
        feed.publish(interval(7))
        feed.closeStreams()
        var got: [String] = []
        for await e in events { got.append(e) }
        #expect(got.count == 1)
        #expect(got.first?.hasPrefix("event: interval\ndata: {\"time\":7.000000000,\"time_ns\":7000000000,") == true)
        #expect(got.first?.hasSuffix("}\n\n") == true)
        #expect(feed.subscribe() == nil, "no new subscribers once closed")
        #expect(feed.subscriberCount == 0)
    }

    /// 1 s intervals: 64 queued events (5 s would be fewer); the 65th unread one cuts the subscriber.
    @Test func aSubscriberThatFallsBehindIsCut() async {
        let feed = LiveFeed(intervalNs: 1_000_000_000)
        #expect(feed.subscriberQueue == 64)
        guard let (_, events) = feed.subscribe() else { return }
        for i in 0..<65 { feed.publish(interval(Int64(i))) }
        #expect(feed.subscriberCount == 0)
        var n = 0
        for await _ in events { n += 1 }
        #expect(n == 64, "what was queued is still delivered, then the stream ends")
        #expect(LiveFeed(intervalNs: 1_000_000).subscriberQueue == 5000)
    }
}
