/// Reads routes from either source and keeps the requested families and table.
public enum RouteReader {
    /// - Returns: the routes (IPv4 first, then IPv6, each in the kernel's order) and, for /proc,
    ///   the lines that were skipped because they did not parse.
    public static func read(
        source: RouteSource, families: [AddressFamily], table: TableSelection
    ) throws(NetInfoError) -> (routes: [Route], problems: [ProcLineProblem]) {
        switch source {
        case .netlink:
            let routes = try NetlinkRoutes.dump(families: families)
            return (routes.filter { table.contains($0) }, [])
        case .proc:
            let parsed = try ProcRouteParser.read(families: families)
            return (parsed.routes.filter { table.contains($0) }, parsed.problems)
        }
    }

    /// The routes, each /proc line that did not parse reported to `warn` (`LINE (line skipped)`).
    public static func read(
        source: RouteSource, families: [AddressFamily], table: TableSelection, warn: (String) -> Void
    ) throws(NetInfoError) -> [Route] {
        let result = try read(source: source, families: families, table: table)
        for p in result.problems { warn("\(p) (line skipped)") }
        return result.routes
    }
}
