import Foundation
import Testing
import WardwatchIdentity
import WardwatchKafka
import WardwatchModel
import WardwatchProcessing

/// Operations' promise: instances may be added or killed at any time without losing or changing results.
/// Real processes on the embedded broker (librdkafka's mock cluster, reached over loopback TCP): three
/// `wardwatch process` instances share 12 partitions, one is killed with SIGKILL mid-stream, another joins later.
@Suite("Scaling with real processes")
struct ScalingTests {
    @Test("kill -9 one of three instances mid-stream, add another later: every device's state equals a single-instance run")
    func killAndJoin() async throws {
        let (broker, port) = try await Child.broker(partitions: 12)
        defer { broker.signal(SIGKILL) }
        let brokers = "127.0.0.1:\(port)"
        let kafka = KafkaConfiguration(bootstrapServers: brokers)
        let topics = TopicNames()
        // Faster failure detection than the default 45 s, so the test sees the takeover within its time. Not much
        // faster: the mock cluster gives members only the session timeout less 1 s to rejoin a rebalance (real Kafka
        // waits max.poll.interval.ms), and on a busy 2-core CI machine 5 s was sometimes too short, so every
        // rebalance timed out and started the next one.
        let processArguments = [
            "process", "--brokers", brokers, "--log-level", ProcessInfo.processInfo.environment["WARDWATCH_SCALING_LOG"] ?? "error",
            "-X", "session.timeout.ms=12000",
            "-X", "heartbeat.interval.ms=500",
        ]

        let stream = SyntheticObservations(devices: 10_000, rounds: 3)
        let producer = try KafkaProducer(configuration: kafka, logger: Repo.quietLogger)
        var instances = try (0..<3).map { _ in try Child(processArguments) }
        defer { for instance in instances { instance.signal(SIGKILL) } }
        let chunks = 10
        let chunk = stream.count / chunks
        var killed = false
        for index in 0..<chunks {
            try await producer.send(stream.records((index * chunk)..<min(stream.count, (index + 1) * chunk)))
            if index == 3 {
                instances[0].signal(SIGKILL)
                killed = true
            }
            if index == 6 { instances.append(try Child(processArguments)) }
            try await Task.sleep(for: .milliseconds(700))
        }
        await producer.shutdown()
        #expect(killed)

        // Finished when the group has committed the end of every partition.
        let probe = try KafkaConsumer(
            configuration: KafkaConfiguration(bootstrapServers: brokers, properties: ["group.id": DeviceProcessing.defaultApplicationId]),
            logger: Repo.quietLogger)
        let partitions = (0..<Int32(12)).map { TopicPartition(topics.observations, $0) }
        let deadline = ContinuousClock.now + .seconds(180)
        var committed: Int64 = 0
        var perPartition: [Int64] = []
        while ContinuousClock.now < deadline {
            perPartition = ((try? await probe.committed(partitions)) ?? []).map(\.offset)
            committed = perPartition.reduce(0) { $0 + max(0, $1) }
            if committed == Int64(stream.count) { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        await probe.close()
        if let dir = ProcessInfo.processInfo.environment["WARDWATCH_SCALING_LOG_DIR"] {
            for (index, instance) in instances.enumerated() {
                try? Data(instance.stderr.utf8).write(to: URL(fileURLWithPath: "\(dir)/instance-\(index).log"))
            }
            try? Data(broker.stderr.utf8).write(to: URL(fileURLWithPath: "\(dir)/broker.log"))
        }
        // What a failure needs to be understood: which partitions stalled, which processes still ran, what they said
        // (errors only, unless WARDWATCH_SCALING_LOG asks for more). Printed last, where CI's tail of the log shows it.
        let states = ([("broker", broker)] + instances.enumerated().map { ("instance \($0.offset)", $0.element) })
            .map { "\($0.0) \($0.1.process.isRunning ? "running" : "exited \($0.1.process.terminationStatus)"): \($0.1.stderr.suffix(1500))" }
        let diagnosis = "scaling diagnosis: committed \(committed) of \(stream.count) records, per partition \(perPartition); \(states)"
        #expect(committed == Int64(stream.count), "the group committed \(committed) of \(stream.count) records")
        var complete = false  // set at the end; a throw on the way leaves it false
        defer { if !complete { print(diagnosis) } }
        for instance in instances.dropFirst() {
            instance.signal(SIGTERM)
            let status = try await instance.wait(timeout: .seconds(60))
            #expect(status == 0, "\(instance.stderr.prefix(3000))")
        }

        let expected = stream.expectedResults(topics: topics, engine: try IdentityEngine.load())
        var devices: [String: DeviceRecord] = [:]
        for record in try await readTopic(kafka, topics.devices) {
            guard let key = record.key, let value = record.value else { continue }
            devices[String(decoding: key, as: UTF8.self)] = try DeviceRecord.decode(value)
        }
        #expect(devices.count == 10_000)
        let differing = Set(devices.keys).union(expected.devices.keys).filter { devices[$0] != expected.devices[$0] }
        if let dir = ProcessInfo.processInfo.environment["WARDWATCH_SCALING_LOG_DIR"], !differing.isEmpty {
            let sample = differing.sorted().prefix(20).map { "\($0)\n  got      \(devices[$0].map { "\($0)" } ?? "nothing")\n  expected \(expected.devices[$0].map { "\($0)" } ?? "nothing")" }
            try? Data((["\(differing.count) differ: \(differing.sorted())"] + sample).joined(separator: "\n").utf8)
                .write(to: URL(fileURLWithPath: "\(dir)/differing.txt"))
        }
        #expect(differing.isEmpty, "\(differing.count) devices differ from a single-instance run, e.g. \(differing.sorted().prefix(3))")

        var uids: [String] = []
        for record in try await readTopic(kafka, topics.alerts) {
            let object = try JSONSerialization.jsonObject(with: Data(record.value ?? [])) as? [String: Any]
            uids += [(object?["finding_info"] as? [String: Any])?["uid"] as? String].compactMap { $0 }
        }
        #expect(Set(uids) == expected.findingUIDs, "every expected finding, and no other")
        #expect(uids.count >= expected.findingUIDs.count)
        complete = committed == Int64(stream.count) && devices.count == 10_000 && differing.isEmpty
            && Set(uids) == expected.findingUIDs
        print("scaling: \(uids.count) alerts for \(expected.findingUIDs.count) findings (repeats carry the same uid)")
    }

    private func readTopic(_ kafka: KafkaConfiguration, _ topic: String) async throws -> [ConsumerRecord] {
        let reader = try PartitionReader(configuration: kafka, logger: Repo.quietLogger)
        let box = RecordBox()
        try await reader.readToEnd((0..<Int32(12)).map { TopicPartitionOffset(topic, $0, TopicPartitionOffset.beginning) }) {
            box.append($0)
        }
        return box.records
    }
}

final class RecordBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [ConsumerRecord] = []
    func append(_ batch: ConsumerBatch) { lock.withLock { stored += batch } }
    var records: [ConsumerRecord] { lock.withLock { stored } }
}
