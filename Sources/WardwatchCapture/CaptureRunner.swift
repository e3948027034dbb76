import Dispatch
import Foundation
import Logging
import Metrics
import Synchronization
import WardwatchDecoders
import WardwatchModel

/// Reads capture sources in order on a dedicated thread, turns packets into observations and hands them, in
/// batches and in packet order, to a sink. The sink publishes one batch while the thread decodes the next; the
/// thread waits when the next is ready before the sink is done (backpressure: one batch in flight at most).
public final class CaptureRunner: Sendable {
    private let sources: [PcapSource]
    private let sensor: SensorIdentity
    private let sink: any ObservationSink
    private let batchSize: Int
    private let maxBatchDelay: Duration
    private let announcementRefresh: Int64
    private let streamByteLimit: Int
    private let logger: Logger
    private let metrics: CaptureMetrics?
    private let stopRequested = Atomic<Bool>(false)
    private let current = Mutex<PcapSource?>(nil)

    /// `sources` are read one after the other; open them first so a missing file fails before anything is published.
    /// `announcementRefresh`: microseconds of packet time after which an unchanged discovery announcement is
    /// published again (0 publishes every one). A batch goes to the sink when it holds `batchSize` observations; a
    /// live capture's also when the interface is idle (its read timeout) or when `maxBatchDelay` of packet time has
    /// passed since the last batch went, so a light but steady link is not kept waiting for a full batch.
    /// `streamByteLimit`: bytes all connections may hold for the application decoders together (`StreamBudget`).
    public init(
        sources: [PcapSource], sensor: SensorIdentity, sink: any ObservationSink, batchSize: Int = 4096,
        maxBatchDelay: Duration = .milliseconds(250),
        announcementRefresh: Int64 = ObservationExtractor.defaultAnnouncementRefresh,
        streamByteLimit: Int = ObservationExtractor.defaultStreamByteLimit,
        logger: Logger = Logger(label: "wardwatch.capture"), metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.sources = sources
        self.sensor = sensor
        self.sink = sink
        self.batchSize = batchSize
        self.maxBatchDelay = maxBatchDelay
        self.announcementRefresh = announcementRefresh
        self.streamByteLimit = streamByteLimit
        self.logger = logger
        self.metrics = metricsFactory.map(CaptureMetrics.init)
    }

    /// Reads every source to its end (a live source until `stop()`), then waits for the sink to finish.
    /// Returns the counters. A source that fails part way (a truncated or corrupt file) is logged and counted, and
    /// reading goes on with the next; once every source has been read and everything published (open flows too),
    /// `run` throws that failure (all of them, in one line, when several failed). A failing sink stops at once.
    public func run() async throws -> CaptureCounters {
        let outcome: (CaptureCounters, (any Error)?) = await withCheckedContinuation { continuation in
            let thread = Thread { [self] in continuation.resume(returning: readAll()) }
            thread.name = "capture-read"
            thread.start()
        }
        try await sink.finish()
        if let error = outcome.1 { throw error }
        return outcome.0
    }

    /// Stops reading (a live capture ends at its next packet or timeout).
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        current.withLock { $0?.breakLoop() }
    }

    private func readAll() -> (CaptureCounters, (any Error)?) {
        let maxDelay = maxBatchDelay.components.seconds * 1_000_000 + maxBatchDelay.components.attoseconds / 1_000_000_000_000
        var loop = ReadLoop(
            extractor: ObservationExtractor(sensor: sensor, announcementRefresh: announcementRefresh, streamByteLimit: streamByteLimit), sink: sink,
            batchSize: batchSize, maxDelay: maxDelay, metrics: metrics)
        var failures: [CaptureError] = []
        do {
            for source in sources {
                current.withLock { $0 = source }
                var metadata: Logger.Metadata = ["source": "\(source.name)", "link_type": "\(source.linkType)"]
                if let group = source.fanoutGroup { metadata["fanout_group"] = "\(group)" }
                logger.info("reading", metadata: metadata)
                if let failure = try loop.read(source, until: stopRequested) {
                    failures.append(failure)
                    metrics?.recordSourceError()
                    logger.error(
                        "source ended early", metadata: ["source": "\(source.name)", "error": "\(failure.message)"])
                }
                if let stats = source.statistics() { metrics?.recordDrops(stats) }
            }
            try loop.finish()
        } catch {
            do { try loop.flushAndWait() } catch { logger.error("publishing failed", metadata: ["error": "\(error)"]) }
            return (loop.recordCounters(), error)
        }
        return (loop.recordCounters(), CaptureError(combining: failures, of: sources.count))
    }
}

extension CaptureError {
    /// The failures of `count` sources as one error: the failure itself when there is one, all of them in one line
    /// when there are several, nil when there are none.
    init?(combining failures: [CaptureError], of count: Int) {
        guard let first = failures.first else { return nil }
        if failures.count == 1 {
            self = first
        } else {
            self.init("\(failures.count) of \(count) sources ended early: " + failures.map(\.message).joined(separator: "; "))
        }
    }
}

/// The reading thread's state: the extractor, the batch it fills and the batch the sink is publishing. A value
/// owned by `readAll` alone, so the per-packet path reads and writes plain stored properties (no heap boxes or
/// run-time exclusivity checks, as variables captured by nested functions would need).
private struct ReadLoop: ~Copyable {
    var extractor: ObservationExtractor
    let sink: any ObservationSink
    let batchSize: Int
    /// Microseconds of packet time after which a live source's batch goes, full or not.
    let maxDelay: Int64
    let metrics: CaptureMetrics?
    var batch = ObservationBatch()
    var inFlight: Publication?
    /// The counters as of the last batch handed over (metrics are recorded as differences).
    var published = CaptureCounters()
    /// Packet time (µs) of the newest packet, and of the newest when the last batch went.
    var newestPacket: Int64 = 0
    var lastFlush: Int64 = 0

    init(extractor: ObservationExtractor, sink: any ObservationSink, batchSize: Int, maxDelay: Int64, metrics: CaptureMetrics?) {
        self.extractor = extractor
        self.sink = sink
        self.batchSize = batchSize
        self.maxDelay = maxDelay
        self.metrics = metrics
    }

    /// Reads `source` to its end (a live one until `stop` is set), handing batches over as they fill. Returns the
    /// source's read error, if it failed part way; throws the sink's.
    mutating func read(_ source: PcapSource, until stop: borrowing Atomic<Bool>) throws -> CaptureError? {
        let linkType = source.linkType
        let isLive = source.isLive
        reading: while !stop.load(ordering: .acquiring) {
            let result: PcapSource.ReadResult
            do { result = try readPacket(source, linkType: linkType) } catch { return error }
            switch result {
            case .packet:
                if batch.count >= batchSize || (isLive && abs(newestPacket - lastFlush) >= maxDelay) { try flush() }
            case .timeout:
                try flush()
                if let stats = source.statistics() { metrics?.recordDrops(stats) }
            case .end:
                if isLive { break reading }  // the stop's break
                return nil
            }
        }
        return isLive ? try drain(source) : nil
    }

    /// Reads the next packet of `source` into the batch.
    @inline(__always)
    private mutating func readPacket(_ source: PcapSource, linkType: LinkType) throws(CaptureError) -> PcapSource.ReadResult {
        try source.next { bytes, length, time in
            newestPacket = time.microseconds
            extractor.extract(bytes, originalLength: length, linkType: linkType, time: time, into: &batch)
        }
    }

    /// Wall time a stopped live source goes on reading what its kernel ring still holds, at most.
    static let drainLimit = Duration.seconds(1)
    /// A stopped live source is drained once no packet has come for this long: the kernel hands over a block that
    /// is not full after its 100 ms timeout.
    static let drainQuiet = Duration.milliseconds(250)

    /// After a stop, reads what a live source's kernel ring still holds, without blocking: until no packet has come
    /// for `drainQuiet`, or `drainLimit` has passed, so a stop on a busy link still ends promptly. The stop's break
    /// is seen once as an end (libpcap then clears it) and reading goes on. Returns the source's read error, if any;
    /// throws the sink's.
    private mutating func drain(_ source: PcapSource) throws -> CaptureError? {
        let linkType = source.linkType
        let start = ContinuousClock.now
        var lastPacket = start
        var breaks = 0
        source.stopBlocking()
        while ContinuousClock.now - start < Self.drainLimit {
            let result: PcapSource.ReadResult
            do { result = try readPacket(source, linkType: linkType) } catch { return error }
            switch result {
            case .packet:
                lastPacket = .now
                if batch.count >= batchSize { try flush() }
            case .timeout:
                if ContinuousClock.now - lastPacket >= Self.drainQuiet { return nil }
                Thread.sleep(forTimeInterval: 0.005)
            case .end:
                breaks += 1
                if breaks > 2 { return nil }  // stopped again and again: go
            }
        }
        return nil
    }

    /// Ends every flow and connection, publishes what is left and waits for the sink.
    mutating func finish() throws {
        var ending = extractor.beginEnding()
        while true {
            extractor.finish(&ending, into: &batch, upTo: max(batchSize, 1))
            if ending.isDone { break }
            try flush()
        }
        try flushAndWait()
    }

    mutating func flushAndWait() throws {
        try flush()
        _ = try awaitInFlight()
    }

    /// Records the counters since the last batch went and returns them all.
    mutating func recordCounters() -> CaptureCounters {
        metrics?.record(extractor.counters, since: published)
        published = extractor.counters
        return extractor.counters
    }

    /// Waits for the batch in flight; returns it, emptied, for reuse.
    private mutating func awaitInFlight() throws -> ObservationBatch? {
        guard let publication = inFlight else { return nil }
        inFlight = nil
        return try publication.wait()
    }

    /// Hands the batch to the sink (after the one in flight is done) and starts filling the returned one.
    private mutating func flush() throws {
        guard !batch.isEmpty else { return }
        var full = try awaitInFlight() ?? ObservationBatch()
        swap(&full, &batch)
        inFlight = Publication(full, to: sink)
        lastFlush = newestPacket
        _ = recordCounters()
    }
}

/// One batch being published by the sink on the cooperative pool while the reading thread goes on.
/// The batch comes back to the reading thread when published, to be filled again: its memory is reused, never
/// freed by another thread, and the next batch starts with room for a whole batch.
private final class Publication: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let failure = Mutex<(any Error)?>(nil)
    /// Read by the sink's task until it signals `done`, then taken back by `wait()`: never both at once.
    private var batch: ObservationBatch?

    init(_ batch: consuming ObservationBatch, to sink: any ObservationSink) {
        self.batch = consume batch
        Task { [self] in
            switch self.batch {
            case .some(let batch):
                do { try await sink.publish(batch) } catch { failure.withLock { $0 = error } }
            case .none: break
            }
            done.signal()
        }
    }

    /// Blocks the reading thread until the sink has returned; rethrows its error, else returns the batch emptied.
    func wait() throws -> ObservationBatch? {
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        var batch = self.batch.take()
        batch?.removeAll()
        return batch
    }
}

/// Prometheus-friendly capture counters; labels are low-cardinality (a reason, never an address).
struct CaptureMetrics: Sendable {
    let factory: any MetricsFactory

    init(factory: any MetricsFactory) { self.factory = factory }

    /// Each counter a `_total` metric is made of, by the metric's name.
    static let totals: [(String, KeyPath<CaptureCounters, Int> & Sendable)] = [
        ("packets", \.packets), ("bytes", \.bytes), ("observations", \.observations), ("snap_truncated", \.snapTruncated),
        ("repeated_announcements", \.repeatedAnnouncements), ("flows_evicted", \.flowsEvicted),
        ("unanalysed_connections", \.unanalysedConnections), ("streams_cut", \.streamsCut),
    ]

    func record(_ now: CaptureCounters, since before: CaptureCounters) {
        for (name, count) in Self.totals {
            Counter(label: "wardwatch_capture_\(name)_total", factory: factory).increment(by: now[keyPath: count] - before[keyPath: count])
        }
        for (reason, count) in now.malformedByReason {
            let delta = count - (before.malformedByReason[reason] ?? 0)
            if delta > 0 {
                Counter(label: "wardwatch_capture_malformed_packets_total", dimensions: [("reason", reason)], factory: factory)
                    .increment(by: delta)
            }
        }
    }

    func recordSourceError() {
        Counter(label: "wardwatch_capture_source_errors_total", factory: factory).increment()
    }

    func recordDrops(_ stats: (received: UInt32, dropped: UInt32, interfaceDropped: UInt32)) {
        Gauge(label: "wardwatch_capture_kernel_received", factory: factory).record(Double(stats.received))
        Gauge(label: "wardwatch_capture_kernel_dropped", factory: factory).record(Double(stats.dropped))
        Gauge(label: "wardwatch_capture_interface_dropped", factory: factory).record(Double(stats.interfaceDropped))
    }
}
