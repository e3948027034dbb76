import Foundation
import Testing
import WardwatchKafka
import WardwatchModel
import WardwatchProcessing
@testable import WardwatchStreams

/// The runtime against a broker the test starts itself: librdkafka's mock cluster for at-least-once, restore,
/// dead letters and replay; noida-db for exactly-once (the mock cluster neither stores transactional offsets nor
/// hides aborted records from read_committed readers).
@Suite("Stream-processing runtime on a broker", .serialized)
struct StreamsRuntimeTests {
    static let partitions: Int32 = 4
    let topics = TopicNames()

    func mockBroker(applicationId: String) throws -> EmbeddedBroker {
        let broker = try EmbeddedBroker(logger: StreamsTestKit.logger)
        for topic in topics.all { try broker.createTopic(topic.name, partitions: Self.partitions) }
        for topic in DeviceProcessing.internalTopics(applicationId: applicationId, topics: topics, inputPartitions: Self.partitions) {
            try broker.createTopic(topic.name, partitions: topic.partitions)
        }
        return broker
    }

    /// Runs one processing instance until it has processed `count` records (or fails the test), then stops it.
    func process(_ kafka: KafkaConfiguration, applicationId: String, until count: Int, guarantee: ProcessingGuarantee = .atLeastOnce, abortEvery: Int? = nil) async throws {
        let service = try DeviceProcessService(
            options: .init(
                kafka: kafka, engine: StreamsTestKit.engine, applicationId: applicationId, topics: topics, guarantee: guarantee,
                commitInterval: .milliseconds(50), abortTransactionEvery: abortEvery),
            logger: StreamsTestKit.logger)
        let running = Task { try await service.run() }
        let done = await StreamsTestKit.eventually(timeout: .seconds(60)) { service.processed >= count }
        await service.shutdown()
        try await running.value
        #expect(done, "processed \(service.processed) of \(count)")
    }

    @Test("malformed and schema-invalid records go to the dead-letter topic with reason and coordinates; the rest is processed")
    func poisonRecords() async throws {
        let broker = try mockBroker(applicationId: "poison")
        let kafka = KafkaConfiguration(bootstrapServers: broker.bootstrapServers)
        let stream = SyntheticObservations(devices: 40, rounds: 3)
        let producer = try KafkaProducer(configuration: kafka, logger: StreamsTestKit.logger)
        let good = stream.records(0..<stream.count)
        let victim = SyntheticObservations.mac(3)
        var wrongKey = good[3]
        wrongKey.key = Array("00:00:00:00:00:01".utf8)
        let poison = [
            ProducerRecord(topic: topics.observations, key: Array(victim.utf8), value: Array("{not json".utf8)),
            ProducerRecord(topic: topics.observations, key: Array(victim.utf8), value: Array(#"{"kind":"arp","schema_version":1}"#.utf8)),
            ProducerRecord(topic: topics.observations, key: Array(victim.utf8), value: nil),
            wrongKey,
        ]
        try await producer.send(Array(good[0..<50]) + poison + Array(good[50...]))
        await producer.shutdown()

        try await process(kafka, applicationId: "poison", until: good.count + poison.count)

        let dead = try await StreamsTestKit.readAll(kafka, topic: topics.deadLetter, partitions: Self.partitions)
        let letters = try dead.values.flatMap { $0 }.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.value ?? [])) as? [String: Any])
        }
        #expect(letters.count == 4)
        let reasons = letters.compactMap { $0["reason"] as? String }.sorted()
        #expect(reasons.contains { $0.contains("invalid JSON") })
        #expect(reasons.contains { $0.contains("missing field") })
        #expect(reasons.contains { $0.contains("no value") })
        #expect(reasons.contains { $0.contains("does not match device_key") })
        #expect(letters.allSatisfy { $0["source_topic"] as? String == topics.observations && $0["source_offset"] is Int })
        #expect(letters.contains { $0["original_value_base64"] as? String == Data("{not json".utf8).base64EncodedString() })

        let expected = stream.expectedResults(topics: topics, engine: StreamsTestKit.engine)
        let devices = try StreamsTestKit.lastDevices(try await StreamsTestKit.readAll(kafka, topic: topics.devices, partitions: Self.partitions))
        #expect(StreamsTestKit.differences(devices, expected.devices).isEmpty)
        let uids = try StreamsTestKit.findingUIDs(try await StreamsTestKit.readAll(kafka, topic: topics.alerts, partitions: Self.partitions))
        #expect(Set(uids) == expected.findingUIDs, "\(expected.findingUIDs.subtracting(uids).count) findings missing")
        withExtendedLifetime(broker) {}
    }

    @Test("a second instance restores the stores from the changelog and continues where the first stopped")
    func restoreFromChangelog() async throws {
        let broker = try mockBroker(applicationId: "restore")
        let kafka = KafkaConfiguration(bootstrapServers: broker.bootstrapServers, properties: ["session.timeout.ms": "6000"])
        let stream = SyntheticObservations(devices: 300, rounds: 4)
        let producer = try KafkaProducer(configuration: kafka, logger: StreamsTestKit.logger)
        let half = stream.count / 2
        try await producer.send(stream.records(0..<half))
        try await process(kafka, applicationId: "restore", until: half)
        let changelog = try await StreamsTestKit.readAll(kafka, topic: "restore-profiles-changelog", partitions: Self.partitions)
        #expect(Set(changelog.values.flatMap { $0 }.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }).count == 300)

        try await producer.send(stream.records(half..<stream.count))
        await producer.shutdown()
        try await process(kafka, applicationId: "restore", until: stream.count - half)

        let expected = stream.expectedResults(topics: topics, engine: StreamsTestKit.engine)
        let devices = try StreamsTestKit.lastDevices(try await StreamsTestKit.readAll(kafka, topic: topics.devices, partitions: Self.partitions))
        #expect(devices.count == 300)
        #expect(StreamsTestKit.differences(devices, expected.devices).isEmpty, "profiles after restore differ from a single uninterrupted run")
        let uids = try StreamsTestKit.findingUIDs(try await StreamsTestKit.readAll(kafka, topic: topics.alerts, partitions: Self.partitions))
        #expect(uids.count == 300, "a restored instance must not report known devices as new")
        withExtendedLifetime(broker) {}
    }

    /// A coordinator of a windowed count, driven by hand: hooks and batches called directly, as the consumer's poll
    /// thread and processing loop would, in the orders a busy machine produced in the scaling test.
    func countingService(_ broker: EmbeddedBroker, applicationId: String) throws -> (StreamsService, KafkaConfiguration) {
        let topology = WindowedCountProcessor.topology(
            applicationId: applicationId, input: "\(applicationId)-in", output: "\(applicationId)-out", windows: .tumbling(size: 60_000))
        for topic in [topology.sourceTopics[0], "\(applicationId)-out", "\(applicationId)-dlq"] + topology.changelogTopics {
            try broker.createTopic(topic, partitions: 2)
        }
        let kafka = KafkaConfiguration(bootstrapServers: broker.bootstrapServers)
        // Commits only when the test calls for one.
        let options = StreamsOptions(kafka: kafka, deadLetterTopic: "\(applicationId)-dlq", commitInterval: .seconds(3600))
        return (try StreamsService(topology: topology, options: options, logger: StreamsTestKit.logger), kafka)
    }

    func countRecord(_ topic: String, partition: Int32, offset: Int64, key: String = "pump-1") -> ConsumerRecord {
        ConsumerRecord(
            topic: topic, partition: partition, offset: offset, timestamp: 1_000 + offset, key: Array(key.utf8)[...],
            value: [1][...], headers: [])
    }

    /// The counts the topology published, in order, per partition of the output.
    func publishedCounts(_ kafka: KafkaConfiguration, topic: String) async throws -> [Int] {
        let records = try await StreamsTestKit.readAll(kafka, topic: topic, partitions: 2)
        return records.keys.sorted().flatMap { records[$0]! }.compactMap { record in
            (try? JSONSerialization.jsonObject(with: Data(record.value ?? [])) as? [String: Any])?["count"] as? Int
        }
    }

    @Test("records of a partition revoked while their batch waited are not processed by the instance that lost it")
    func staleBatchSkipped() async throws {
        let broker = try EmbeddedBroker(logger: StreamsTestKit.logger)
        let (service, kafka) = try countingService(broker, applicationId: "stale")
        let coordinator = service.coordinator
        let input = "stale-in"
        await coordinator.assigned([TopicPartition(input, 0), TopicPartition(input, 1)])
        // The processing loop took this batch from the consumer; before it got the lock, partition 1 was revoked.
        let batch = ConsumerBatch([countRecord(input, partition: 0, offset: 0), countRecord(input, partition: 1, offset: 0, key: "pump-2")])
        await coordinator.revoked([TopicPartition(input, 1)])
        try await coordinator.process(batch)
        #expect(coordinator.engine.assigned == [TopicPartition(input, 0)], "no task is made again for the revoked partition")
        #expect(service.processed == 1)
        try await coordinator.commitLocked(waitForCommit: true)
        #expect(try await publishedCounts(kafka, topic: "stale-out") == [1], "only partition 0's record was counted")
        await service.shutdown()
        withExtendedLifetime(broker) {}
    }

    @Test("a partition assigned again without a revocation keeps its state instead of restoring an older changelog over it")
    func reassignmentKeepsState() async throws {
        let broker = try EmbeddedBroker(logger: StreamsTestKit.logger)
        let (service, kafka) = try countingService(broker, applicationId: "again")
        let coordinator = service.coordinator
        let input = "again-in"
        await coordinator.assigned([TopicPartition(input, 0)])
        try await coordinator.process(ConsumerBatch([countRecord(input, partition: 0, offset: 0)]))
        try await coordinator.commitLocked(waitForCommit: true)  // the changelog now says count 1
        try await coordinator.process(ConsumerBatch([countRecord(input, partition: 0, offset: 1)]))  // count 2, not yet in the changelog
        await coordinator.assigned([TopicPartition(input, 0)])
        try await coordinator.process(ConsumerBatch([countRecord(input, partition: 0, offset: 2)]))
        try await coordinator.commitLocked(waitForCommit: true)
        #expect(try await publishedCounts(kafka, topic: "again-out") == [1, 2, 3])
        await service.shutdown()
        withExtendedLifetime(broker) {}
    }

    @Test("replaying the same input twice yields byte-identical output topics")
    func replayIsDeterministic() async throws {
        let broker = try mockBroker(applicationId: "unused")
        let kafka = KafkaConfiguration(bootstrapServers: broker.bootstrapServers)
        let stream = SyntheticObservations(devices: 200, rounds: 3)
        let producer = try KafkaProducer(configuration: kafka, logger: StreamsTestKit.logger)
        var records = stream.records(0..<stream.count)
        records.insert(ProducerRecord(topic: topics.observations, key: Array("x".utf8), value: Array("junk".utf8)), at: 77)
        try await producer.send(records)

        var outputs: [[String: [Int32: [ConsumerRecord]]]] = []
        for suffix in [".r1", ".r2"] {
            for topic in [topics.devices, topics.alerts, topics.deadLetter] {
                try broker.createTopic(topic + suffix, partitions: Self.partitions)
            }
            let topology = DeviceProcessing.topology(topics: topics, engine: StreamsTestKit.engine).renamed(applicationId: "replay\(suffix)", outputSuffix: suffix)
            let replay = Replay(topology: topology, kafka: kafka, start: .beginning, deadLetterTopic: topics.deadLetter + suffix)
            let summary = try await replay.run(logger: StreamsTestKit.logger) { try await producer.send($0) }
            #expect(summary.inputRecords == records.count && summary.deadLetters == 1)
            var byTopic: [String: [Int32: [ConsumerRecord]]] = [:]
            for topic in [topics.devices, topics.alerts, topics.deadLetter] {
                byTopic[topic] = try await StreamsTestKit.readAll(kafka, topic: topic + suffix, partitions: Self.partitions)
            }
            outputs.append(byTopic)
        }
        await producer.shutdown()
        for topic in [topics.devices, topics.alerts, topics.deadLetter] {
            let first = outputs[0][topic]!
            let second = outputs[1][topic]!
            #expect(first.values.map(\.count).reduce(0, +) > 0)
            for partition in 0..<Self.partitions {
                let a = (first[partition] ?? []).map { [Array($0.key ?? []), Array($0.value ?? []), Array("\($0.timestamp ?? -1)".utf8)] }
                let b = (second[partition] ?? []).map { [Array($0.key ?? []), Array($0.value ?? []), Array("\($0.timestamp ?? -1)".utf8)] }
                #expect(a == b, "\(topic)[\(partition)] differs between replays")
            }
        }
        let devices = try StreamsTestKit.lastDevices(outputs[0][topics.devices]!)
        #expect(StreamsTestKit.differences(devices, stream.expectedResults(topics: topics, engine: StreamsTestKit.engine).devices).isEmpty)

        // A time range keeps exactly the records inside it (rounds are a minute of event time apart).
        let secondRound = stream.observation(stream.devices).time.milliseconds
        let ranged = Replay(
            topology: DeviceProcessing.topology(topics: topics, engine: StreamsTestKit.engine).renamed(applicationId: "replay.range", outputSuffix: ".range"),
            kafka: kafka, start: .timestamp(secondRound), end: secondRound + 59_999, deadLetterTopic: topics.deadLetter + ".range")
        let file = Collected()
        let summary = try await ranged.run(logger: StreamsTestKit.logger) { _ in file.touch() }
        #expect(summary.inputRecords == stream.devices, "only the second round")
        #expect(summary.skippedRecords == records.count - stream.devices)
        withExtendedLifetime(broker) {}
    }
}

/// Exactly-once needs a broker that stores transactional offsets and hides aborted records from read_committed
/// readers: noida-db (PyPI; `make test` installs it). Transactions are aborted on purpose every few commits; the
/// runtime must rewind and redo them so that a read_committed reader sees every result exactly once.
@Suite("Exactly-once on noida-db", .enabled(if: NoidaBroker.executable != nil, "needs noida-db (pip install noida-db)"))
struct ExactlyOnceTests {
    @Test("outputs, changelog and offsets commit atomically; aborted transactions are redone and never seen twice")
    func exactlyOnceWithAborts() async throws {
        let noida = try await NoidaBroker.start(logger: StreamsTestKit.logger)
        defer { noida.stop() }
        let bootstrap = noida.bootstrapServers
        let topics = TopicNames()
        let kafka = KafkaConfiguration(bootstrapServers: bootstrap)
        let admin = try KafkaAdmin(configuration: kafka, logger: StreamsTestKit.logger)
        // The synthetic observations are months old: keep them from time-based retention.
        try await admin.createTopics(topics.all.map { NewTopic(name: $0.name, partitions: 3, configs: ["retention.ms": "-1"]) })
        let stream = SyntheticObservations(devices: 150, rounds: 3)
        let producer = try KafkaProducer(configuration: kafka, logger: StreamsTestKit.logger)
        try await producer.send(stream.records(0..<stream.count))
        await producer.shutdown()

        let service = try DeviceProcessService(
            options: .init(
                kafka: kafka, engine: StreamsTestKit.engine, applicationId: "eos", topics: topics, guarantee: .exactlyOnce, maxBatchSize: 50,
                commitInterval: .milliseconds(30), abortTransactionEvery: 3),
            logger: StreamsTestKit.logger)
        let running = Task { try await service.run() }
        // Done when the group's committed offsets reach the end of every input partition.
        let probe = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, properties: ["group.id": "eos"]))
        let caughtUp = await StreamsTestKit.eventually(timeout: .seconds(90)) {
            let committed = (try? await probe.committed((0..<3).map { TopicPartition(topics.observations, $0) })) ?? []
            var total: Int64 = 0
            for offset in committed where offset.offset > 0 { total += offset.offset }
            return total == Int64(stream.count)
        }
        await probe.close()
        await service.shutdown()
        try await running.value
        #expect(caughtUp)
        #expect(service.processed > stream.count, "aborted transactions are processed again")

        let committedReader = KafkaConfiguration(bootstrapServers: bootstrap, properties: ["isolation.level": "read_committed"])
        let alerts = try await StreamsTestKit.readAll(committedReader, topic: topics.alerts, partitions: 3)
        let uids = try StreamsTestKit.findingUIDs(alerts)
        let expected = stream.expectedResults(topics: topics, engine: StreamsTestKit.engine)
        #expect(uids.count == expected.findingUIDs.count, "each finding exactly once for read_committed readers")
        #expect(Set(uids) == expected.findingUIDs, "\(expected.findingUIDs.subtracting(uids).count) findings missing")
        let devices = try StreamsTestKit.lastDevices(try await StreamsTestKit.readAll(committedReader, topic: topics.devices, partitions: 3))
        #expect(StreamsTestKit.differences(devices, expected.devices).isEmpty)
    }
}
