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

    @Option(name: .long, help: "BPF filter for live capture.")
    var filter: String?

    @Option(name: .long, help: "Snap length for live capture, bytes.")
    var snaplen: Int32 = 65535

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

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if pcap.isEmpty == (interface == nil) { throw ValidationError("give either --pcap FILE... or --interface NAME") }
        if (kafka.brokers == nil) == (output == nil) { throw ValidationError("give either --brokers LIST or --output FILE|-") }
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
            options.snapLength = snaplen
            options.bpfFilter = filter
            sources = [try PcapSource(live: options)]
        } else {
            sources = try pcap.map { path throws(CaptureError) in try PcapSource(file: path) }
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
            sink = KafkaObservationSink(producer: created, topic: kafka.topics.observations)
        }
        let producer = kafkaProducer
        let runner = CaptureRunner(
            sources: sources, sensor: SensorIdentity(sensorId: sensorId, site: site), sink: sink,
            announcementRefresh: Int64((announcementRefresh * 1_000_000).rounded()), logger: logger,
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
                ])
        } stop: {
            runner.stop()
        }
        try await runServices(main: main, runtime: runtime, metrics: metrics, logger: logger)
    }
}
