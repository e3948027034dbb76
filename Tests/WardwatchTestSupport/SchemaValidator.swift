import Foundation

/// Runs `schemas/validate.py` (python3 with jsonschema, installed by `make test`) from test targets.
public enum SchemaValidator {
    /// The repository's root (this file is Tests/WardwatchTestSupport/SchemaValidator.swift).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Validates the JSON lines `records` (each an observation, device record, alert, or a topic dump line) against
    /// the schemas. Returns the validator's exit status (0 when every record passed) and its report.
    public static func validateRecords(_ records: Data, name: String) throws -> (status: Int32, report: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid()).jsonl")
        try records.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let validator = Process()
        validator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        validator.arguments = ["python3", repositoryRoot.appendingPathComponent("schemas/validate.py").path, "records", file.path]
        let out = Pipe()
        validator.standardOutput = out
        try validator.run()
        let report = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        validator.waitUntilExit()
        return (validator.terminationStatus, report)
    }
}
