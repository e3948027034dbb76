import ArgumentParser
import Foundation

/// The `wardwatch` command.
public struct Wardwatch: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "wardwatch",
        abstract: "Passive identity, behaviour and risk streaming for connected medical devices.",
        version: "0.1.0",
        subcommands: [CaptureCommand.self, ProcessCommand.self, BrokerCommand.self, ReplayCommand.self, DemoCommand.self, BenchCommand.self])

    public init() {}

    /// Parses the arguments and runs the command. Any error ends the process with one line on standard error that
    /// names the cause, and a non-zero exit status; help and version print as usual.
    public static func launch(arguments: [String]? = nil) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success { Self.exit(withError: error) }
            let message = fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? "\(error)"
            let line = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
            FileHandle.standardError.write(Data("wardwatch: \(line)\n".utf8))
            Foundation.exit(code == .validationFailure ? 64 : (code.rawValue == 0 ? 1 : code.rawValue))
        }
    }
}
