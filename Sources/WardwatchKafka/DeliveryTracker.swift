import CRdKafka
import Synchronization

/// One slot per record of an enqueued batch; its address is the record's librdkafka opaque.
struct DeliverySlot {
    var tracker: Unmanaged<DeliveryTracker>
    var partition: Int32 = -1
    var offset: Int64 = -1
    var error: Int32 = 0
}

/// Tracks the delivery reports of one batch: one allocation and one continuation per batch, an atomic decrement per
/// record. It keeps itself alive (one retain) until its last report has arrived.
final class DeliveryTracker: @unchecked Sendable {
    let topics: [String]
    let slots: UnsafeMutablePointer<DeliverySlot>
    let count: Int
    private let remaining: Atomic<Int>
    private let waiter = Mutex<Waiter>(.pending(nil))

    private enum Waiter {
        case pending(CheckedContinuation<Void, Never>?)
        case done
    }

    init(topics: [String]) {
        self.topics = topics
        self.count = topics.count
        self.remaining = Atomic(topics.count)
        self.slots = .allocate(capacity: max(1, topics.count))
        let me = Unmanaged.passUnretained(self)
        slots.initialize(repeating: DeliverySlot(tracker: me), count: max(1, topics.count))
        if topics.isEmpty {
            waiter.withLock { $0 = .done }
        } else {
            _ = Unmanaged.passRetained(self)  // balanced in `complete(count:)` when the last record is reported
        }
    }

    deinit {
        slots.deinitialize(count: max(1, count))
        slots.deallocate()
    }

    /// Records that `n` records are finished (delivered, failed, or never enqueued).
    func complete(count n: Int) {
        let left = remaining.subtract(n, ordering: .acquiringAndReleasing).newValue
        guard left == 0 else { return }
        let continuation: CheckedContinuation<Void, Never>? = waiter.withLock { state in
            defer { state = .done }
            if case .pending(let c) = state { return c }
            return nil
        }
        continuation?.resume()
        Unmanaged.passUnretained(self).release()
    }

    /// Whether every record is finished (reads the count, never waits).
    var isDone: Bool { remaining.load(ordering: .acquiring) == 0 }

    func waitUntilDone() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = waiter.withLock { state -> Bool in
                if case .done = state { return true }
                state = .pending(continuation)
                return false
            }
            if finished { continuation.resume() }
        }
    }

    var reports: [DeliveryReport] {
        (0..<count).map { i in
            let slot = slots[i]
            let error = slot.error == 0
                ? nil : KafkaError.from(rd_kafka_resp_err_t(slot.error), during: "delivering a record to \(topics[i])")
            return DeliveryReport(topic: topics[i], partition: slot.partition, offset: slot.offset, error: error)
        }
    }
}

/// The delivery of records handed to `KafkaProducer.enqueue`: await it to learn what the brokers acknowledged.
public struct DeliveryHandle: Sendable {
    let tracker: DeliveryTracker

    /// Waits for every report and returns them in the order of the records.
    public func reports() async -> [DeliveryReport] {
        await tracker.waitUntilDone()
        return tracker.reports
    }

    /// Waits for every report.
    public func finished() async { await tracker.waitUntilDone() }

    /// Whether every record has been reported, without waiting.
    public var isComplete: Bool { tracker.isDone }

    /// How many records failed and the first failure; meaningful once `isComplete`.
    public var failures: (count: Int, first: KafkaError?) {
        var count = 0
        var first: KafkaError?
        for i in 0..<tracker.count where tracker.slots[i].error != 0 {
            count += 1
            if first == nil {
                first = KafkaError.from(rd_kafka_resp_err_t(tracker.slots[i].error), during: "delivering a record to \(tracker.topics[i])")
            }
        }
        return (count, first)
    }

    /// Waits for every report; throws the first failure.
    public func delivered() async throws(KafkaError) {
        await tracker.waitUntilDone()
        if let first = failures.first { throw first }
    }
}
