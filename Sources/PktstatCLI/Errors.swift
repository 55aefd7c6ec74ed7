import ArgumentParser
import TrafficPipeline

/// The one error printer of every command: `error: PROBLEM; FIX` (`FailureLine`) on stderr and
/// exit status 1 (argument errors are the parser's, status 64). A closed output pipe ends quietly
/// with 0.
enum ErrorReport {
    static func run(_ body: () throws -> Void) throws {
        do { try body() } catch { try report(error) }
    }

    static func run(_ body: () async throws -> Void) async throws {
        do { try await body() } catch { try report(error) }
    }

    private static func report(_ error: any Error) throws {
        switch FailureLine(error) {
        case .quiet: return
        case .line(let text):
            Console.line(text)
            throw ExitCode(1)
        case nil: throw error
        }
    }
}
