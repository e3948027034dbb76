import WardwatchKafka

/// Reads topics from the beginning to their current end (high watermarks), outside any consumer group.
enum TopicDump {
    static func readToEnd(
        bootstrapServers: String, topics: [String], partitions: Int32, timeout: Duration = .seconds(60)
    ) async throws -> [ConsumerRecord] {
        let consumer = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: bootstrapServers))
        defer { Task { await consumer.close() } }
        var remaining: [TopicPartition: Int64] = [:]
        for topic in topics {
            for p in 0..<partitions {
                let tp = TopicPartition(topic, p)
                let high = try await consumer.watermarks(tp).high
                if high > 0 { remaining[tp] = high }
            }
        }
        var records: [ConsumerRecord] = []
        guard !remaining.isEmpty else { return records }
        try await consumer.assign(remaining.keys.map { TopicPartitionOffset($0, TopicPartitionOffset.beginning) })
        let deadline = ContinuousClock.now + timeout
        for try await batch in consumer.batches {
            for record in batch {
                records.append(record)
                if let high = remaining[record.topicPartition], record.offset + 1 >= high {
                    remaining[record.topicPartition] = nil
                }
            }
            if remaining.isEmpty { break }
            if ContinuousClock.now > deadline {
                throw KafkaError(message: "timed out reading \(topics.joined(separator: ", ")) to their end")
            }
        }
        await consumer.close()
        return records.sorted { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }
    }
}
