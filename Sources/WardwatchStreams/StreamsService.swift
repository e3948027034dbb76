import Foundation
import Logging
import Metrics
import Synchronization
import WardwatchKafka

/// Which results a crash may repeat.
public enum ProcessingGuarantee: String, Sendable, CaseIterable {
    /// Outputs are acknowledged, then changelogs, then input offsets committed: a crash repeats outputs (with the
    /// same ids) but never loses them; stores skip records they already hold.
    case atLeastOnce = "at-least-once"
    /// Outputs, changelog writes and input offsets commit in one transaction; input is read read_committed.
    case exactlyOnce = "exactly-once"
}

/// How a topology runs.
public struct StreamsOptions: Sendable {
    public var kafka: KafkaConfiguration
    public var guarantee: ProcessingGuarantee
    public var deadLetterTopic: String
    /// How often (wall time) outputs are confirmed and offsets committed (or the transaction committed).
    public var commitInterval: Duration
    public var maxBatchSize: Int
    /// A partition without records for this long follows the instance's stream time, so its windows close
    /// (nil: never; replays use the end of input instead).
    public var idleAdvance: Duration?
    /// Distinguishes this instance's transactional id within the application.
    public var instanceId: String
    /// Failure injection for tests: abort every Nth transaction instead of committing it (exactly-once only).
    public var abortTransactionEvery: Int?

    public init(
        kafka: KafkaConfiguration, guarantee: ProcessingGuarantee = .atLeastOnce, deadLetterTopic: String,
        commitInterval: Duration = .milliseconds(100), maxBatchSize: Int = 2000, idleAdvance: Duration? = .seconds(30),
        instanceId: String = UUID().uuidString.lowercased(), abortTransactionEvery: Int? = nil
    ) {
        self.abortTransactionEvery = abortTransactionEvery
        self.kafka = kafka
        self.guarantee = guarantee
        self.deadLetterTopic = deadLetterTopic
        self.commitInterval = commitInterval
        self.maxBatchSize = maxBatchSize
        self.idleAdvance = idleAdvance
        self.instanceId = instanceId
    }
}

/// Runs a `Topology` as one member of its consumer group (group id = application id), in the manner of a Kafka
/// Streams thread: tasks per assigned partition, stores restored from changelogs on assignment, commits on an
/// interval and on revocation, at-least-once or exactly-once.
public final class StreamsService: Sendable {
    public let topology: Topology
    /// The protocol's state and steps (internal, so tests can drive rebalance hooks and batches directly).
    let coordinator: StreamsCoordinator
    private let consumer: KafkaConsumer

    public init(
        topology: Topology, options: StreamsOptions, logger: Logger = Logger(label: "wardwatch.streams"),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws {
        self.topology = topology
        var producerConfig = options.kafka
        producerConfig.setDefault("linger.ms", "5")
        var consumerConfig = options.kafka
        consumerConfig["group.id"] = topology.applicationId
        var readerConfig = options.kafka
        if options.guarantee == .exactlyOnce {
            producerConfig["transactional.id"] = "\(topology.applicationId)-\(options.instanceId)"
            producerConfig.setDefault("transaction.timeout.ms", "10000")
            consumerConfig["isolation.level"] = "read_committed"
            readerConfig["isolation.level"] = "read_committed"
        }
        let producer = try KafkaProducer(configuration: producerConfig, logger: logger, metricsFactory: metricsFactory)
        let reader = try PartitionReader(configuration: readerConfig, logger: logger)
        let coordinator = StreamsCoordinator(
            topology: topology, options: options, producer: producer, reader: reader, logger: logger,
            metrics: StreamsMetrics(factory: metricsFactory, applicationId: topology.applicationId))
        self.coordinator = coordinator
        self.consumer = try KafkaConsumer(
            configuration: consumerConfig,
            hooks: RebalanceHooks(
                onAssigned: { await coordinator.assigned($0) },
                onRevoked: { await coordinator.revoked($0) },
                onLost: { await coordinator.lost($0) }),
            maxBatchSize: options.maxBatchSize, logger: logger, metricsFactory: metricsFactory)
        coordinator.consumer = consumer
    }

    /// Input records processed so far (dead letters included).
    public var processed: Int { coordinator.processed.load(ordering: .relaxed) }

    /// Fails within `timeout` when no broker answers.
    public func checkConnectivity(timeout: Duration) async throws {
        try await consumer.checkConnectivity(timeout: timeout)
    }

    /// Runs until `shutdown()` or cancellation, then leaves the group after a final commit.
    public func run() async throws {
        do {
            try await coordinator.prepare()
            try consumer.subscribe(topology.sourceTopics)
            let tickerFailure = ErrorSlot()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await self.coordinator.tickUntilCancelled()
                    } catch is CancellationError {
                    } catch {
                        // A failed interval commit stops the instance: ending the batches ends the loop below.
                        tickerFailure.set(error)
                        await self.consumer.close()
                    }
                }
                do {
                    for try await batch in consumer.batches {
                        try await coordinator.process(batch)
                        if Task.isCancelled { break }
                    }
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
            if let failure = tickerFailure.value { throw failure }
        } catch {
            coordinator.logger.error("stream processing stopped", metadata: ["error": "\(error)"])
            await shutdown()
            throw error
        }
        await shutdown()
    }

    /// Commits what was processed, leaves the group and flushes the producer; safe to call more than once.
    public func shutdown() async {
        await consumer.close()
        await coordinator.finish()
    }
}

/// The service's state and the steps of its protocol; every step that touches tasks runs under `lock`.
final class StreamsCoordinator: @unchecked Sendable {
    let topology: Topology
    let options: StreamsOptions
    let producer: KafkaProducer
    let reader: PartitionReader
    let logger: Logger
    let metrics: StreamsMetrics
    let engine: StreamEngine
    let lock = AsyncLock()
    /// Set once, before the consumer subscribes (weak: the consumer's hooks hold this coordinator).
    weak var consumer: KafkaConsumer!
    let processed = Atomic<Int>(0)
    // The following are touched under `lock` only.
    private var pendingDeliveries: [DeliveryHandle] = []
    private var inTransaction = false
    private var dirty = false
    private var lastCommit = ContinuousClock.now
    private var lastActivity: [TopicPartition: ContinuousClock.Instant] = [:]
    private var finished = false
    private var transactionsEnded = 0
    /// Partitions to rewind to their committed offsets before the next batch (set by a hook that aborted).
    private var pendingRewind: [TopicPartition] = []
    /// The partitions the group has assigned to this instance. A batch taken from the consumer just before a
    /// revocation may still hold records of partitions it lost: those are not processed (their new owner does).
    private var owned: Set<TopicPartition> = []
    /// `KafkaConsumer.failedCommits` when last looked at: a rise means an interval commit failed unseen.
    private var commitFailuresSeen = 0

    init(
        topology: Topology, options: StreamsOptions, producer: KafkaProducer, reader: PartitionReader, logger: Logger,
        metrics: StreamsMetrics
    ) {
        self.topology = topology
        self.options = options
        self.producer = producer
        self.reader = reader
        self.logger = logger
        self.metrics = metrics
        self.engine = StreamEngine(topology: topology, deadLetterTopic: options.deadLetterTopic)
    }

    /// Checks the input, creates missing changelog topics (compacted, one partition per input partition) where the
    /// cluster allows, and starts transactions when asked for.
    func prepare() async throws {
        let layout = try await TopicLayout.prepare(topology: topology, kafka: options.kafka, logger: logger)
        engine.copartitioned = layout.copartitionedOutputs
        if options.guarantee == .exactlyOnce { try await producer.initTransactions() }
    }

    // MARK: Rebalance hooks (called on the consumer's poll thread, which waits for them)

    func assigned(_ partitions: [TopicPartition]) async {
        await lock.lock()
        metrics.rebalance("assigned")
        owned.formUnion(partitions)
        // librdkafka 2.0.2 sometimes assigns a partition again without revoking it first (seen in the scaling test on a
        // busy machine): its task is current, while its changelog lacks the changes since the last commit, so it is
        // kept rather than restored over.
        let fresh = partitions.filter { engine.tasks[$0] == nil }
        if fresh.count < partitions.count {
            logger.info("partitions assigned again keep their state", metadata: ["partitions": "\(partitions.count - fresh.count)"])
        }
        do {
            try await restore(fresh)
        } catch {
            // Their tasks are dropped, so the first batch of each restores again before processing.
            logger.error("restore failed", metadata: ["error": "\(error)"])
            engine.drop(fresh)
        }
        await lock.unlock()
    }

    func revoked(_ partitions: [TopicPartition]) async {
        await lock.lock()
        metrics.rebalance("revoked")
        do {
            try await commitLocked(waitForCommit: true)
        } catch let error as KafkaError where error.severity == .abortable && options.guarantee == .exactlyOnce {
            // The partitions that stay must be redone from their committed offsets; the poll thread is in this hook,
            // so the rewind waits for the next batch (a rewind from here would wait for this hook forever).
            logger.warning("commit on revocation aborted", metadata: ["error": "\(error)"])
            pendingRewind = await abortLocked().filter { !partitions.contains($0) }
        } catch {
            logger.error("commit on revocation failed", metadata: ["error": "\(error)"])
        }
        engine.drop(partitions)
        owned.subtract(partitions)
        pendingRewind.removeAll { partitions.contains($0) }
        for partition in partitions { lastActivity[partition] = nil }
        await lock.unlock()
    }

    func lost(_ partitions: [TopicPartition]) async {
        await lock.lock()
        metrics.rebalance("lost")
        engine.drop(partitions)
        owned.subtract(partitions)
        for partition in partitions { lastActivity[partition] = nil }
        if options.guarantee == .exactlyOnce && inTransaction {
            // The open transaction holds work of the lost partitions: abort it and redo the others from their
            // committed offsets and changelogs, before the next batch (not from this hook: see `revoked`).
            pendingRewind = await abortLocked()
        }
        pendingRewind.removeAll { partitions.contains($0) }
        await lock.unlock()
    }

    // MARK: Processing

    func process(_ batch: ConsumerBatch) async throws {
        await lock.lock()
        if !pendingRewind.isEmpty {
            // A hook aborted the transaction: rewind first; this batch was fetched before and is dropped (every
            // assigned partition is rewound, so its records come again).
            let partitions = pendingRewind
            pendingRewind.removeAll()
            await lock.unlock()
            await rewindToCommitted(partitions)
            return
        }
        let partitions = Set(batch.lazy.map(\.topicPartition))
        let stale = partitions.subtracting(owned)
        if !stale.isEmpty { logger.debug("records of revoked partitions dropped", metadata: ["partitions": "\(stale.sorted())"]) }
        let batch = stale.isEmpty ? batch : batch.removing(stale)
        var unrestored: [TopicPartition] = []
        do {
            unrestored = try await processLocked(batch, partitions: partitions.subtracting(stale))
        } catch let error as KafkaError where error.severity == .abortable && options.guarantee == .exactlyOnce {
            let partitions = await abortLocked()
            await lock.unlock()
            await rewindToCommitted(partitions)
            return
        } catch {
            await lock.unlock()
            throw error
        }
        await lock.unlock()
        // Their records of this batch were left out; they come again from the committed offsets.
        if !unrestored.isEmpty { await rewindToCommitted(unrestored) }
    }

    /// Processes `batch`, whose records are of `partitions`; returns the partitions whose stores could not be
    /// restored (their records are skipped).
    private func processLocked(_ batch: ConsumerBatch, partitions: Set<TopicPartition>) async throws -> [TopicPartition] {
        let started = ContinuousClock.now
        // Partitions without a task (a restore failed on assignment, a transaction was aborted) are restored before
        // they are processed. A failed restore does not stop the instance: those partitions are rewound and retried.
        var batch = batch
        let missing = partitions.filter { engine.tasks[$0] == nil }
        var unrestored: [TopicPartition] = []
        if !missing.isEmpty {
            do {
                try await restore(Array(missing))
            } catch {
                logger.error("restore failed; the partitions are rewound and restored again", metadata: ["error": "\(error)"])
                engine.drop(Array(missing))
                unrestored = missing.sorted()
                batch = batch.removing(missing)
            }
        }
        let result = engine.process(batch)
        for record in batch { lastActivity[record.topicPartition] = started }
        try await emit(result.outputs)
        processed.add(batch.count, ordering: .relaxed)
        metrics.batch(in: batch.count, out: result.outputs.count, deadLetters: result.deadLetters, late: result.late)
        if ContinuousClock.now - lastCommit >= options.commitInterval { try await commitLocked() }
        return unrestored
    }

    private func emit(_ outputs: [ProducerRecord]) async throws {
        guard !outputs.isEmpty else {
            dirty = true
            return
        }
        if options.guarantee == .exactlyOnce && !inTransaction {
            try producer.beginTransaction()
            inTransaction = true
        }
        let handle = try await producer.enqueue(outputs)
        if options.guarantee == .atLeastOnce { pendingDeliveries.append(handle) }
        dirty = true
    }

    /// Commits on the interval even when no new batch arrives, and moves idle partitions' stream time along.
    func tickUntilCancelled() async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: options.commitInterval)
            await lock.lock()
            do {
                if let idle = options.idleAdvance { try await advanceIdle(after: idle) }
                noteFailedCommits()
                if dirty && ContinuousClock.now - lastCommit >= options.commitInterval { try await commitLocked() }
            } catch let error as KafkaError where error.severity == .abortable && options.guarantee == .exactlyOnce {
                let partitions = await abortLocked()
                await lock.unlock()
                await rewindToCommitted(partitions)
                continue
            } catch {
                await lock.unlock()
                throw error
            }
            await lock.unlock()
        }
    }

    /// An interval commit is not waited for, so a refusal (a rebalance under way, a stale generation) shows only as
    /// a rise in the consumer's failed-commit count. Then the current offsets are committed again, at most once a
    /// second: without this, offsets refused after the last records of a quiet stream would stay behind for good.
    private func noteFailedCommits() {
        guard options.guarantee == .atLeastOnce, let consumer else { return }
        let failures = consumer.failedCommits
        guard failures != commitFailuresSeen, ContinuousClock.now - lastCommit >= .seconds(1) else { return }
        commitFailuresSeen = failures
        if !engine.tasks.isEmpty { dirty = true }
    }

    private func advanceIdle(after idle: Duration) async throws {
        let now = ContinuousClock.now
        let high = engine.maxStreamTime
        guard high != .min else { return }
        var outputs: [ProducerRecord] = []
        for partition in engine.assigned {
            guard let last = lastActivity[partition], now - last >= idle else { continue }
            let task = engine.task(for: partition)
            guard task.context.streamTime < high else { continue }
            task.advanceStreamTime(to: high)
            outputs += task.takeForwarded()
        }
        try await emit(outputs)
    }

    // MARK: Commit protocol

    /// At-least-once: wait for every output, then write the changelogs and wait, then commit input offsets (without
    /// waiting for the coordinator's answer on the interval, waiting for it on revocation and shutdown).
    /// Exactly-once: changelogs and offsets join the open transaction, which commits.
    func commitLocked(waitForCommit: Bool = false) async throws {
        guard dirty || inTransaction else { return }
        let started = ContinuousClock.now
        switch options.guarantee {
        case .atLeastOnce:
            let deliveries = pendingDeliveries
            pendingDeliveries.removeAll()
            for delivery in deliveries { try await delivery.delivered() }
            let changelog = engine.takeChangelog()
            if !changelog.isEmpty { try await producer.send(changelog) }
            let offsets = engine.commitOffsets()
            guard waitForCommit else {
                // On the interval: the group coordinator is not waited for (see `KafkaConsumer.commitAsync`).
                try consumer.commitAsync(offsets)
                break
            }
            var failure: KafkaError?
            do { try await consumer.commit(offsets) } catch { failure = error }
            if let failure {
                guard Self.isGroupChange(failure) else { throw failure }
                // The group is rebalancing: the offsets are committed by the next commit, or, if these partitions
                // move, their records are redone by the new owner, whose restored stores skip what they hold.
                logger.info("commit deferred by a rebalance", metadata: ["error": "\(failure)"])
                return
            }
        case .exactlyOnce:
            let changelog = engine.takeChangelog()
            let offsets = engine.commitOffsets()
            if !inTransaction {
                guard !changelog.isEmpty || !offsets.isEmpty else { return }
                try producer.beginTransaction()
                inTransaction = true
            }
            if !changelog.isEmpty { _ = try await producer.enqueue(changelog) }
            if !offsets.isEmpty {
                try await producer.sendOffsetsToTransaction(offsets, groupMetadata: try consumer.groupMetadata())
            }
            transactionsEnded += 1
            if let every = options.abortTransactionEvery, transactionsEnded % every == 0 {
                throw KafkaError(severity: .abortable, message: "abort injected for testing")
            }
            try await commitTransactionRetrying()
            inTransaction = false
        }
        dirty = false
        lastCommit = ContinuousClock.now
        metrics.commit(latency: lastCommit - started)
    }

    /// Commit refusals that only mean the group is changing (rebalance in progress, a new generation).
    static func isGroupChange(_ error: KafkaError) -> Bool {
        [27, 22, 25].contains(error.code)  // REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID
    }

    /// librdkafka's pattern: retry a retriable commit; an abortable one propagates (the caller aborts and rewinds).
    private func commitTransactionRetrying() async throws(KafkaError) {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await producer.commitTransaction()
                return
            } catch {
                guard error.severity == .retriable, attempt < 10 else { throw error }
                logger.warning("transaction commit will be retried", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Aborts the open transaction and drops every task's state (it holds the aborted work); returns the partitions
    /// to rewind. Runs under the lock; the rewind itself must not (the poll thread performs it).
    private func abortLocked() async -> [TopicPartition] {
        metrics.abort()
        logger.warning("aborting transaction; rewinding to the committed offsets")
        do {
            try await producer.abortTransaction()
        } catch {
            logger.error("abort transaction failed", metadata: ["error": "\(error)"])
        }
        inTransaction = false
        dirty = false
        let partitions = engine.assigned
        engine.dropAll()
        return partitions
    }

    /// Seeks `partitions` back to their committed offsets (or the beginning); their tasks are restored from the
    /// changelogs when their records come back.
    private func rewindToCommitted(_ partitions: [TopicPartition]) async {
        do {
            let committed = try await consumer.committed(partitions)
            let offsets = committed.map {
                $0.offset >= 0 ? $0 : TopicPartitionOffset($0.topicPartition, TopicPartitionOffset.beginning)
            }
            try await consumer.rewind(to: offsets)
        } catch {
            logger.error("rewind failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Restore

    /// Rebuilds the stores of `partitions` from their changelog partitions, from the beginning to the end.
    func restore(_ partitions: [TopicPartition]) async throws {
        let started = ContinuousClock.now
        let tasks = partitions.map { engine.task(for: $0) }
        var route: [TopicPartition: (task: StreamTask, store: Int)] = [:]
        for task in tasks {
            for (index, spec) in topology.stores.enumerated() {
                route[TopicPartition(topology.changelogTopic(spec.name), task.partition.partition)] = (task, index)
            }
        }
        guard !route.isEmpty else { return }
        let box = UncheckedBox(route)
        let restored = Atomic<Int>(0)
        try await reader.readToEnd(route.keys.sorted().map { TopicPartitionOffset($0, TopicPartitionOffset.beginning) }) { batch in
            for record in batch {
                guard let target = box.value[record.topicPartition] else { continue }
                try target.task.restore(store: target.store, key: record.key ?? [], value: record.value)
            }
            restored.add(batch.count, ordering: .relaxed)
        }
        let elapsed = ContinuousClock.now - started
        metrics.restored(records: restored.load(ordering: .relaxed), duration: elapsed)
        logger.info(
            "restored state", metadata: [
                "partitions": "\(partitions.count)", "changelog_records": "\(restored.load(ordering: .relaxed))",
                "seconds": "\(elapsed)",
            ])
    }

    /// After the consumer closed (final commit done in the revoke hook): flush the producer.
    func finish() async {
        await lock.lock()
        if !finished {
            finished = true
            if inTransaction {
                do { try await commitLocked(waitForCommit: true) } catch { logger.error("final commit failed", metadata: ["error": "\(error)"]) }
            }
            await producer.shutdown()
        }
        await lock.unlock()
    }
}

/// The first error a background task hit, for the task that owns it to rethrow.
final class ErrorSlot: Sendable {
    private let slot = Mutex<(any Error)?>(nil)
    func set(_ error: any Error) { slot.withLock { $0 = $0 ?? error } }
    var value: (any Error)? { slot.withLock { $0 } }
}

/// Carries a non-Sendable value across a synchronous hand-off that the lock already serialises.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
