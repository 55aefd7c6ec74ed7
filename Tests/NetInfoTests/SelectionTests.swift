import NetInfo
import Testing

/// What `-4`/`-6` and `--table`/`--source` select, as the routes command asks for it.
@Suite struct SelectionTests {
    @Test func familiesOfTheFlags() {
        #expect(AddressFamily.selected(ipv4: true, ipv6: false) == [.inet])
        #expect(AddressFamily.selected(ipv4: false, ipv6: true) == [.inet6])
        #expect(AddressFamily.selected(ipv4: false, ipv6: false) == [.inet, .inet6])
    }

    @Test func tableProblems() {
        #expect(TableSelection.problem(table: "main", source: .proc) == nil)
        #expect(TableSelection.problem(table: "all", source: .proc) == nil)
        #expect(TableSelection.problem(table: "100", source: .netlink) == nil)
        #expect(
            TableSelection.problem(table: "nope", source: .netlink)
                == "--table must be main, local, default, all or a number, not 'nope'")
        #expect(
            TableSelection.problem(table: "local", source: .proc)
                == "--source proc can show only '--table main' or '--table all' (/proc/net/route holds the main table only)"
        )
    }

    @Test func lookupFailureCarriesTheLookupHint() {
        let failure = RouteLookupFailure(error: .netlinkInterrupted(request: "RTM_GETROUTE"))
        #expect(failure.description == NetInfoError.netlinkInterrupted(request: "RTM_GETROUTE").description)
        #expect(failure.hint == NetInfoError.netlinkInterrupted(request: "RTM_GETROUTE").routeLookupHint)
    }
}
