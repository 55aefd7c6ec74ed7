public import NetInfo

/// `--format` of the interfaces, routes and gateways commands.
public enum NetInfoTextFormat: String, CaseIterable, Sendable {
    case table
    case csv
    case json
    /// JSON shaped like Python netifaces' interfaces()/ifaddresses()/gateways().
    case netifaces
}

/// `--format` of `routes get`.
public enum RouteLookupFormat: String, CaseIterable, Sendable {
    case table
    case json
}

extension NetInfoFormatter {
    /// The interfaces as one document. `single`: one interface was asked for by name, so netifaces
    /// gives `ifaddresses(name)` alone.
    public static func document(interfaces: [Interface], single: Bool = false, _ format: NetInfoTextFormat) -> String {
        switch format {
        case .table: return table(interfaces: interfaces)
        case .csv: return csv(interfaces: interfaces)
        case .json: return json(interfaces: interfaces)
        case .netifaces:
            if single, let one = interfaces.first { return netifaces(interface: one) }
            return netifaces(interfaces: interfaces)
        }
    }

    /// The routes as one document; netifaces shows the default gateways of `families` among them.
    public static func document(routes: [Route], families: [AddressFamily], _ format: NetInfoTextFormat) -> String {
        switch format {
        case .table: return table(routes: routes)
        case .csv: return csv(routes: routes)
        case .json: return json(routes: routes)
        case .netifaces: return netifaces(gateways: Gateways.select(from: routes, families: families))
        }
    }

    /// The default gateways as one document.
    public static func document(gateways: Gateways, _ format: NetInfoTextFormat) -> String {
        switch format {
        case .table: return table(gateways: gateways)
        case .csv: return csv(gateways: gateways)
        case .json: return json(gateways: gateways)
        case .netifaces: return netifaces(gateways: gateways)
        }
    }

    /// A route lookup: the words of `ip route get`, or the array of `ip -j route get`.
    public static func document(lookup: RouteLookup, _ format: RouteLookupFormat) -> String {
        switch format {
        case .table: return text(lookup: lookup)
        case .json: return json(lookups: [lookup])
        }
    }
}
