/// The default gateway of one family, and why it was chosen.
public struct DefaultGateway: Hashable, Sendable {
    public var family: AddressFamily
    /// The gateway; for a multipath default route, the first next hop's. nil for a default route
    /// straight onto a link (`default dev ppp0`).
    public var gateway: IPAddress?
    public var device: String?
    public var metric: UInt32?
    /// The route it comes from.
    public var route: Route
    public var reason: String
}

/// What `pktstat gateways` shows: the default gateway per family and every default route.
public struct Gateways: Hashable, Sendable {
    /// The chosen default per family; a family without one is absent.
    public var defaults: [AddressFamily: DefaultGateway]
    /// Why each family has (or has not) a default.
    public var reasons: [AddressFamily: String]
    /// Every default route (all tables and types), in the order the source listed them.
    public var defaultRoutes: [Route]

    /// Chooses as the kernel does for a destination only a default route covers: among the default
    /// routes of the main table whose next hop is not dead, the lowest metric wins, the first in the
    /// kernel's order on a tie (IPv6 may round-robin equal routers). If that route is not unicast
    /// (unreachable, blackhole, prohibit), there is no default gateway. Other tables are reached
    /// only through policy rules and are not considered. Routes of unknown table
    /// (/proc/net/ipv6_route) count as main.
    public static func select(from routes: [Route], families: [AddressFamily] = AddressFamily.allCases) -> Gateways {
        let defaults = routes.filter { $0.isDefault && families.contains($0.family) }
        var chosen: [AddressFamily: DefaultGateway] = [:]
        var reasons: [AddressFamily: String] = [:]
        for family in families {
            let all = defaults.filter { $0.family == family }
            let candidates = all.filter {
                ($0.table == nil || $0.table == .main) && !$0.flags.contains(.dead)
                    && !($0.type == .local || $0.type == .broadcast || $0.type == .multicast || $0.type == .anycast)
            }
            let ignored = all.count - candidates.count
            let ignoredNote =
                ignored == 0 ? "" : "; \(ignored) default route\(ignored == 1 ? "" : "s") of other tables not used"
            guard
                let best = candidates.enumerated().min(by: { l, r in
                    let (a, b) = (l.element.metric ?? 0, r.element.metric ?? 0)
                    return a != b ? a < b : l.offset < r.offset
                })?.element
            else {
                reasons[family] = "no default route in the main table" + ignoredNote
                continue
            }
            if best.type != .unicast {
                let lowest = "the main-table default route with the lowest metric (\(best.metric ?? 0))"
                reasons[family] = lowest + " is \(best.type)" + ignoredNote
                continue
            }
            let metric = best.metric ?? 0
            var reason: String
            if candidates.count == 1 {
                reason = "the only default route in the main table"
            } else {
                let tied = candidates.filter { ($0.metric ?? 0) == metric }.count
                reason =
                    tied == 1
                    ? "lowest metric (\(metric)) of \(candidates.count) default routes in the main table"
                    : "first of \(tied) default routes with the lowest metric (\(metric)) in the main table"
            }
            var gateway = best.gateway
            var device = best.device
            if !best.nextHops.isEmpty {
                gateway = best.nextHops[0].gateway
                device = best.nextHops[0].device
                reason += "; multipath over \(best.nextHops.count) next hops, the first is shown"
            }
            if best.flags.contains(.linkdown) { reason += "; its link is down" }
            reason += ignoredNote
            chosen[family] = DefaultGateway(
                family: family, gateway: gateway, device: device, metric: best.metric, route: best, reason: reason)
            reasons[family] = reason
        }
        return Gateways(defaults: chosen, reasons: reasons, defaultRoutes: defaults)
    }
}
