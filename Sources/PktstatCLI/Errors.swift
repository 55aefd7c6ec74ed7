import ArgumentParser
import NetInfo
import OutputSinks
import PacketCapture
import PacketFile
import TrafficAnalysis
import TrafficPipeline

/// An error with the one-line description and fix the CLI prints.
protocol CustomHintedError: Error, CustomStringConvertible {
    var hint: String? { get }
}

extension CaptureFileError: CustomHintedError {}
extension CaptureError: CustomHintedError {}
extension PrivilegeError: CustomHintedError {}
extension CSVInputError: CustomHintedError {}
extension NetInfoError: CustomHintedError {}
extension GnuplotError: CustomHintedError {}

/// The one error printer of every command: `error: PROBLEM; FIX` on stderr and exit status 1
/// (argument errors are the parser's, status 64). A closed output pipe ends quietly with 0.
enum ErrorReport {
    static func run(_ body: () throws -> Void) throws {
        do { try body() } catch { try report(error) }
    }

    static func run(_ body: () async throws -> Void) async throws {
        do { try await body() } catch { try report(error) }
    }

    private static func report(_ error: any Error) throws {
        do {
            throw error
        } catch let e as any CustomHintedError {
            Console.error(e.description, hint: e.hint)
            throw ExitCode(1)
        } catch let e as AnalysisError {
            Console.error(e.description, hint: e.hint)
            throw ExitCode(1)
        } catch let e as OutputError {
            if case .closedPipe = e { return }
            Console.error(e.description)
            throw ExitCode(1)
        }
    }
}
