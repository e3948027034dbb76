import Foundation
import Logging
import Testing

enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static let wardSample = path("Sources/WardwatchApp/Resources/ward-sample.pcap")
    static let wardExpected = path("Sources/WardwatchApp/Resources/ward-sample.expected.json")

    /// The built `wardwatch` executable (the Makefile builds it before the tests).
    static var binary: String {
        get throws {
            for config in ["debug", "release"] {
                let candidate = path(".build/\(config)/wardwatch")
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
            throw CLIError("the wardwatch executable is not built: run `swift build` (make test does)")
        }
    }

    static let quietLogger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A child process of the test, with its output collected.
final class Child: @unchecked Sendable {
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()
    private var exitedAt: ContinuousClock.Instant?
    /// When the process was started.
    private(set) var startedAt = ContinuousClock.now

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: try Repo.binary)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        out.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.withLock { self?.stdoutData.append(d) }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.withLock { self?.stderrData.append(d) }
        }
        // Noted by Foundation's own thread as the process ends, so a busy test pool cannot delay it.
        process.terminationHandler = { [weak self] _ in self?.lock.withLock { self?.exitedAt = .now } }
        startedAt = .now
        try process.run()
    }

    /// How long the process ran, from start to exit (nil while it runs).
    var runTime: Duration? { lock.withLock { exitedAt.map { $0 - startedAt } } }

    var stdout: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    /// Waits for exit up to `timeout`; kills the process and throws past it.
    @discardableResult
    func wait(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw CLIError("\(process.arguments ?? []) did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        drain()
        return process.terminationStatus
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// After exit: stops the asynchronous readers and reads whatever the pipes still hold, to their end.
    private func drain() {
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        let restOut = out.fileHandleForReading.readDataToEndOfFile()
        let restErr = err.fileHandleForReading.readDataToEndOfFile()
        lock.withLock {
            stdoutData.append(restOut)
            stderrData.append(restErr)
        }
    }

    /// Waits until standard output contains `text`.
    func waitForOutput(_ text: String, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !stdout.contains(text) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw CLIError("no '\(text)' from \(process.arguments ?? []); stderr: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Starts `wardwatch broker` with `partitions` on a free port and returns it with the port. Ports are drawn
    /// below Linux's ephemeral range (32768 and up, where other tests' client connections take theirs), and another
    /// is tried when one is taken.
    static func broker(partitions: Int) async throws -> (broker: Child, port: Int) {
        var lastError: any Error = CLIError("no broker started")
        for _ in 0..<8 {
            let port = Int.random(in: 20000...32000)
            let broker = try Child(["broker", "--port", "\(port)", "--partitions", "\(partitions)", "--log-level", "error"])
            do {
                try await broker.waitForOutput("bootstrap: 127.0.0.1:\(port)")
                return (broker, port)
            } catch {
                broker.signal(SIGKILL)
                _ = try? await broker.wait(timeout: .seconds(10))  // its whole standard error
                guard broker.stderr.contains("already in use") else { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    /// Runs to completion and returns (status, stdout, stderr).
    static func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (Int32, String, String) {
        let (status, out, err, _) = try await runTimed(arguments, timeout: timeout)
        return (status, out, err)
    }

    /// `run`, with how long the process itself ran (not how long the test took to notice its exit).
    static func runTimed(_ arguments: [String], timeout: Duration = .seconds(60)) async throws
        -> (Int32, String, String, Duration)
    {
        let child = try Child(arguments)
        let status = try await child.wait(timeout: timeout)
        let end = ContinuousClock.now
        return (status, child.stdout, child.stderr, child.runTime ?? end - child.startedAt)
    }
}

/// The last non-empty line of a text.
func lastLine(_ text: String) -> String {
    text.split(separator: "\n").last.map(String.init) ?? ""
}
