import ArgumentParser
import Foundation
import Logging
import WardwatchCapture
import WardwatchKafka

struct CaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Decode traffic from pcap files or a live interface into device observations and publish them.",
        discussion: """
            Observations go to <prefix>observations.v1 keyed by device (--brokers), or as JSON lines to a file or to
            standard output (--output -) with no Kafka at all. Patient data is never decoded into an observation.
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "pcap or pcapng files, read in order.")
    var pcap: [String] = []

    @Option(name: .long, help: "Capture live from this interface.")
    var interface: String?

    @Option(name: .long, help: "BPF filter (tcpdump syntax): only the packets it accepts are decoded, live or from files.")
    var filter: String?

    @Option(name: .long, help: "Live capture: bytes kept of each packet (default 65535).")
    var snaplen: Int32?

    @Option(
        name: .long,
        help: "Live capture: the kernel's capture buffer, MiB (default 16). A larger one rides out bursts without drops.")
    var bufferSize: Int?

    @Flag(
        inversion: .prefixedNo,
        help: "Live capture: promiscuous mode (default on; a SPAN port's traffic is addressed to other hosts).")
    var promiscuous: Bool?

    @Flag(
        inversion: .prefixedNo,
        help: """
            Live capture: hand each packet over as it arrives (default off). Immediate mode gives each packet a \
            ring slot sized for the snap length, so the buffer holds about 40 times fewer packets and drops sooner in \
            a burst; off, the kernel fills blocks of packets, at most the 100 ms read timeout late.
            """)
    var immediate: Bool?

    @Option(
        name: .long,
        help: """
            Live capture: join this Linux packet fanout group (0 to 65535). The kernel splits the interface's traffic \
            among the captures in the group, each connection (both ways) to one of them: run one capture per core, \
            all with the same --interface, --filter and group, to keep up with a link one core cannot.
            """)
    var fanoutGroup: Int?

    @Option(name: .long, help: "Write observations as JSON lines to this file, or - for standard output, instead of Kafka.")
    var output: String?

    @Option(name: .long, help: "This sensor's id, carried in every observation.")
    var sensorId: String = ProcessInfo.processInfo.hostName

    @Option(name: .long, help: "The site (hospital, building) this sensor watches.")
    var site: String = "default"

    @Option(
        name: .long,
        help: """
            Seconds of packet time after which an unchanged announcement (ARP, DHCP, LLDP, CDP, mDNS, SSDP, \
            WS-Discovery) is published again; changes are published at once. 0 publishes every one.
            """)
    var announcementRefresh: Double = 300

    @Option(
        name: .long,
        help: """
            MiB that all connections may hold together for the application decoders (TLS, HTTP, DICOM, HL7) while \
            a message is incomplete; past it, a direction with more to add is given up (counted as streams_cut).
            """)
    var streamBudget: Int = ObservationExtractor.defaultStreamByteLimit >> 20

    @Option(
        name: .long,
        help: """
            On SIGTERM or SIGINT: seconds to go on delivering observations already made before giving up the rest \
            (the command then fails, with their count). With --brokers only; default 10.
            """)
    var stopTimeout: Double?

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var runtime: RuntimeOptions

    /// The largest --stream-budget: 64 GiB.
    static let maxStreamBudgetMiB = 65_536

    func validate() throws {
        if pcap.isEmpty == (interface == nil) { throw ValidationError("give either --pcap FILE... or --interface NAME") }
        if (kafka.brokers == nil) == (output == nil) { throw ValidationError("give either --brokers LIST or --output FILE|-") }
        if interface == nil {
            let liveOnly = [
                ("--snaplen", snaplen != nil), ("--buffer-size", bufferSize != nil),
                (promiscuous == false ? "--no-promiscuous" : "--promiscuous", promiscuous != nil),
                (immediate == false ? "--no-immediate" : "--immediate", immediate != nil),
                ("--fanout-group", fanoutGroup != nil),
            ]
            if let (flag, _) = liveOnly.first(where: \.1) { throw ValidationError("\(flag) applies to live capture (--interface) only") }
        }
        if let snaplen, !(1...LiveCaptureOptions.maxSnapLength).contains(snaplen) {
            throw ValidationError("--snaplen must be 1 to \(LiveCaptureOptions.maxSnapLength) bytes")
        }
        if let fanoutGroup, !(0...Int(UInt16.max)).contains(fanoutGroup) {
            throw ValidationError("--fanout-group must be 0 to \(UInt16.max)")
        }
        if let bufferSize, !(1...LiveCaptureOptions.maxBufferMiB).contains(bufferSize) {
            throw ValidationError("--buffer-size must be 1 to \(LiveCaptureOptions.maxBufferMiB) MiB")
        }
        if let stopTimeout {
            if kafka.brokers == nil { throw ValidationError("--stop-timeout applies to publishing to Kafka (--brokers) only") }
            if !(stopTimeout >= 0 && stopTimeout <= 3600) { throw ValidationError("--stop-timeout must be 0 to 3600 seconds") }
        }
        if !(1...Self.maxStreamBudgetMiB).contains(streamBudget) {
            throw ValidationError("--stream-budget must be 1 to \(Self.maxStreamBudgetMiB) MiB")
        }
        if !(announcementRefresh >= 0 && announcementRefresh < 1e9) {
            throw ValidationError("--announcement-refresh must be a number of seconds, 0 or more")
        }
        _ = try runtime.level()
    }

    func run() async throws {
        Observability.bootstrapLogging(level: try runtime.level())
        let logger = Observability.logger("wardwatch.capture", level: try runtime.level())
        let metrics = runtime.metricsPort.map { _ in MetricsServer() }
        let sources: [PcapSource]
        if let interface {
            var options = LiveCaptureOptions(interface: interface)
            if let snaplen { options.snapLength = snaplen }
            if let bufferSize { options.bufferSizeBytes = Int32(bufferSize) << 20 }
            if let promiscuous { options.promiscuous = promiscuous }
            if let immediate { options.immediateMode = immediate }
            options.fanoutGroup = fanoutGroup.map(UInt16.init)
            options.bpfFilter = filter
            sources = [try PcapSource(live: options)]
        } else {
            sources = try pcap.map { path throws(CaptureError) in try PcapSource(file: path, bpfFilter: filter) }
        }
        let sink: any ObservationSink
        var kafkaProducer: KafkaProducer?
        if let output {
            if output == "-" {
                sink = JSONLinesSink(handle: .standardOutput)
            } else {
                guard let handle = OutputFile.open(output) else { throw CaptureError("cannot write output file \(output)") }
                sink = JSONLinesSink(handle: handle)
            }
        } else {
            var configuration = try kafka.configuration()
            configuration.setDefault("compression.type", "lz4")
            configuration.setDefault("linger.ms", "20")
            let created = try KafkaProducer(configuration: configuration, logger: logger, metricsFactory: metrics?.factory)
            try await created.checkConnectivity(timeout: .seconds(kafka.connectTimeout))
            kafkaProducer = created
            sink = KafkaObservationSink(producer: created, topic: kafka.topics.observations, logger: logger)
        }
        let producer = kafkaProducer
        let runner = CaptureRunner(
            sources: sources, sensor: SensorIdentity(sensorId: sensorId, site: site), sink: sink,
            announcementRefresh: Int64((announcementRefresh * 1_000_000).rounded()), streamByteLimit: streamBudget << 20,
            logger: logger,
            metricsFactory: metrics?.factory)
        let main = StoppableService(description: "capture") {
            let counters: CaptureCounters
            do {
                counters = try await runner.run()
            } catch {
                await producer?.shutdown()  // what was read before (and after) a damaged file is delivered
                throw error
            }
            await producer?.shutdown()
            logger.info(
                "capture finished",
                metadata: [
                    "packets": "\(counters.packets)", "observations": "\(counters.observations)",
                    "malformed": "\(counters.malformed)", "snap_truncated": "\(counters.snapTruncated)",
                    "repeated_announcements": "\(counters.repeatedAnnouncements)",
                    "flows_evicted": "\(counters.flowsEvicted)", "unanalysed_connections": "\(counters.unanalysedConnections)",
                    "streams_cut": "\(counters.streamsCut)",
                ])
        } stop: { [stopTimeout = stopTimeout ?? 10] in
            runner.stop()
            // Observations made before the stop go on being delivered for a while; a cluster that stays away must
            // not hold the sensor (its service manager kills it soon after SIGTERM): what is left is given up and
            // counted, and the command fails.
            guard let producer else { return }
            try? await Task.sleep(for: .milliseconds(Int((stopTimeout * 1000).rounded())))
            let held = producer.abandonUndelivered()
            if held > 0 {
                logger.warning(
                    "gave up what Kafka had not taken", metadata: ["after_seconds": "\(stopTimeout)", "held": "\(held)"])
            }
        }
        try await runServices(main: main, runtime: runtime, metrics: metrics, logger: logger)
    }
}
