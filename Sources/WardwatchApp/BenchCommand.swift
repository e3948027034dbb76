import ArgumentParser
import Foundation
import Logging
import WardwatchCapture
import WardwatchDecoders
import WardwatchKafka
import WardwatchModel

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks, each against its peer in the same run.",
        subcommands: [KafkaBench.self, CaptureBench.self, StreamsBench.self, IdentityBench.self])
}

/// Produce and consume throughput of the Kafka client against kcat on the same embedded broker, same run.
struct KafkaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce and consume throughput of Wardwatch's Kafka client against kcat on the embedded broker.")

    @Option(help: "Records per run.") var records = 1_000_000
    @Option(help: "Value size in bytes.") var valueSize = 100
    @Option(help: "Partitions per topic (the mock broker keeps about 5 MiB per partition).") var partitions: Int32 = 64
    @Option(help: "Runs; medians are reported.") var runs = 5
    @Option(help: "kcat executable.") var kcat = "kcat"

    struct Sample {
        var ours: Double
        var kcat: Double
    }

    func run() async throws {
        Observability.bootstrapLogging(level: .error)
        let logger = Observability.logger("wardwatch.bench", level: .error)
        guard let kcatPath = which(kcat) else { throw ValidationError("kcat not found (apt-get install kcat)") }
        let broker = try EmbeddedBroker(logger: logger)
        let bootstrap = broker.bootstrapServers
        let common = ["enable.idempotence": "true"]
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: valueSize)
        let keys = (0..<records).map { Array(String(format: "k%08d", $0).utf8) }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("wardwatch-bench-\(getpid()).txt")
        var text = Data()
        text.reserveCapacity(records * (valueSize + 11))
        for key in keys {
            text.append(contentsOf: key)
            text.append(0x09)
            text.append(contentsOf: value)
            text.append(0x0A)
        }
        try text.write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }

        print("Kafka client benchmark: \(records) records of \(valueSize) bytes, \(partitions) partitions, \(runs) runs")
        print("broker: embedded librdkafka mock cluster at \(bootstrap); peer: \(kcatPath)\n")
        var produce: [Sample] = []
        var consume: [Sample] = []
        for run in 1...runs {
            let oursTopic = "bench-ours-\(run)"
            let kcatTopic = "bench-kcat-\(run)"
            try broker.createTopic(oursTopic, partitions: partitions)
            try broker.createTopic(kcatTopic, partitions: partitions)

            // Produce: ours
            let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, properties: common), logger: logger)
            try await producer.checkConnectivity()
            let start = ContinuousClock.now
            var handles: [DeliveryHandle] = []
            var index = 0
            while index < records {
                let end = min(index + 10_000, records)
                handles.append(try await producer.enqueue((index..<end).map { ProducerRecord(topic: oursTopic, key: keys[$0], value: value) }))
                index = end
            }
            for handle in handles { try await handle.delivered() }
            let oursProduce = seconds(ContinuousClock.now - start)
            await producer.shutdown()

            // Produce: kcat
            let kcatProduce = try timeProcess(
                kcatPath, ["-P", "-b", bootstrap, "-t", kcatTopic, "-K", "\t", "-X", "enable.idempotence=true", "-l", input.path])

            // Consume the same topic with both.
            let consumer = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: bootstrap), logger: logger)
            let consumeStart = ContinuousClock.now
            try await consumer.assign((0..<partitions).map { TopicPartitionOffset(oursTopic, $0, TopicPartitionOffset.beginning) })
            var seen = 0
            var bytes = 0
            var firstRecordAt: Duration?
            var lastAt = ContinuousClock.now
            var maxGap = Duration.zero
            var batchCount = 0
            for try await batch in consumer.batches {
                if firstRecordAt == nil { firstRecordAt = ContinuousClock.now - consumeStart }
                let now = ContinuousClock.now
                if batchCount > 0 { maxGap = max(maxGap, now - lastAt) }
                lastAt = now
                batchCount += 1
                for record in batch { bytes &+= record.value?.count ?? 0 }
                seen += batch.count
                if seen >= records { break }
            }
            let oursConsume = seconds(ContinuousClock.now - consumeStart)

            await consumer.close()
            guard seen == records, bytes == records * valueSize else {
                throw ValidationError("consumed \(seen) records, \(bytes) bytes; expected \(records)")
            }
            let kcatConsume = try timeProcess(
                kcatPath, ["-C", "-b", bootstrap, "-t", oursTopic, "-o", "beginning", "-e", "-q", "-f", "%s\n"])

            let rate = { (s: Double) in Double(records) / s }
            produce.append(Sample(ours: rate(oursProduce), kcat: rate(kcatProduce)))
            consume.append(Sample(ours: rate(oursConsume), kcat: rate(kcatConsume)))
            print(String(format: "run %d: produce ours %.0f/s kcat %.0f/s | consume ours %.0f/s kcat %.0f/s (ours: first record after %.0f ms, %d batches, longest pause %.0f ms)", run,
                         produce.last!.ours, produce.last!.kcat, consume.last!.ours, consume.last!.kcat,
                         seconds(firstRecordAt ?? .zero) * 1000, batchCount, seconds(maxGap) * 1000))
        }
        func median(_ xs: [Double]) -> Double {
            let s = xs.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        print("")
        print("                 wardwatch msg/s    kcat msg/s    ratio (median of per-run ratios; goal >= 0.80)")
        for (name, samples) in [("produce", produce), ("consume", consume)] {
            let figures = String(format: "%14.0f %13.0f    %.2f", median(samples.map(\.ours)), median(samples.map(\.kcat)),
                                 median(samples.map { $0.ours / $0.kcat }))
            print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + " " + figures)
        }
        withExtendedLifetime(broker) {}
    }


    private func which(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// Decoding speed of `wardwatch capture` (packets to observations as JSON lines, no Kafka) against tshark extracting
/// comparable fields, p0f, and a bare libpcap read loop (the floor), on one capture of at least 1M packets built from
/// the shared captures. Single-threaded, same machine, same run.
struct CaptureBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture", abstract: "Capture decoding speed against tshark, p0f and a bare libpcap loop.")

    @Option(help: "Packets in the benchmark capture.") var packets = 1_000_000
    @Option(help: "Folder of the shared captures the benchmark capture is built from.") var shared = "../shared/pcaps"
    @Option(help: "Where the benchmark capture is written (reused when it exists).") var capture = ".build/bench/capture-bench-v2.pcap"
    @Option(help: "Runs; medians are reported.") var runs = 3

    func run() async throws {
        Observability.bootstrapLogging(level: .error)
        let file = try buildCapture()
        let wardwatch = CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        print("Capture benchmark: \(file.packets) packets (\(file.bytes / 1_000_000) MB) in \(capture), \(runs) runs")
        print("each reader is a separate process on the same file, in the same run; wall and CPU (user + system, all threads); every reader's output goes to /dev/null\n")

        var floor: [Double] = [], decodingAlone: [Double] = []
        var ours: [ProcessCost] = [], tshark: [ProcessCost] = [], p0f: [ProcessCost] = []
        var observations = 0, decodedAlone = 0
        for run in 1...runs {
            let start = ContinuousClock.now
            // libpcap's own loop (pcap_next_ex) over the file mapped as wardwatch maps it, the pages handed back as it
            // goes. wardwatch itself reads a classic pcap file's records without libpcap (PcapRecordReader).
            let source = try PcapSource(file: capture, throughLibpcap: true)
            var sum = 0
            while try source.next({ bytes, _, _ in sum &+= bytes.count }) == .packet {}
            floor.append(seconds(ContinuousClock.now - start))
            precondition(sum > 0)
            let alone = try decodeAlone()
            decodingAlone.append(alone.cpu)

            if run == 1 {
                decodedAlone = alone.observations
                // Untimed: the observations counted from a file. The timed runs write to standard output, which goes to
                // /dev/null as every peer's does (writing 200 MB to a file is the disk's cost, not decoding's).
                _ = try runMeasured(wardwatch, ["capture", "--pcap", capture, "--output", ".build/bench/observations.jsonl", "--log-level", "error"])
                observations = countLines(".build/bench/observations.jsonl")
            }
            // wardwatch and p0f one after the other, so that their ratio in a run is measured at one moment of a
            // shared, noisy machine; tshark (tens of seconds) after them.
            ours.append(try runMeasured(wardwatch, ["capture", "--pcap", capture, "--output", "-", "--log-level", "error"]))
            p0f.append(try runMeasured("/usr/sbin/p0f", ["-r", capture]))
            tshark.append(try runMeasured("/usr/bin/tshark", [
                "-n", "-r", capture, "-T", "fields", "-e", "eth.src", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.srcport",
                "-e", "tcp.dstport", "-e", "tcp.flags", "-e", "dhcp.option.hostname", "-e", "dhcp.option.request_list_item",
                "-e", "dns.qry.name", "-e", "tls.handshake.extensions_server_name", "-e", "http.user_agent",
                "-e", "lldp.tlv.system.name", "-e", "cdp.deviceid",
            ]))
            print(String(format: "run %d: floor %.2f s, wardwatch %.2f s (cpu %.2f s), tshark %.2f s (cpu %.2f s), p0f %.2f s (cpu %.2f s)", run,
                         floor.last!, ours.last!.wall, ours.last!.cpu, tshark.last!.wall, tshark.last!.cpu, p0f.last!.wall, p0f.last!.cpu))
        }
        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        let n = Double(file.packets)
        let rate = { (xs: [Double]) in n / median(xs) }
        let oursWall = rate(ours.map(\.wall)), oursCPU = rate(ours.map(\.cpu))
        print("")
        print("                   packets/s wall  per CPU second   wardwatch is (wall; per CPU second)   goal")
        print(String(format: "libpcap loop      %14.0f  %14.0f   %5.2f x floor;  %5.2f x               >= 0.5 x", rate(floor), rate(floor),
                     oursWall / rate(floor), oursCPU / rate(floor)))
        print(String(format: "wardwatch capture %14.0f  %14.0f", oursWall, oursCPU))
        print(String(format: "tshark -T fields  %14.0f  %14.0f   %5.1f x tshark; %5.1f x               >= 20 x", rate(tshark.map(\.wall)),
                     rate(tshark.map(\.cpu)), oursWall / rate(tshark.map(\.wall)), oursCPU / rate(tshark.map(\.cpu))))
        print(String(format: "p0f -r            %14.0f  %14.0f   %5.2f x p0f;    %5.2f x               >= 2 x", rate(p0f.map(\.wall)),
                     rate(p0f.map(\.cpu)), oursWall / rate(p0f.map(\.wall)), oursCPU / rate(p0f.map(\.cpu))))
        print(String(format: "decoding alone                 -  %14.0f   %5.2f x p0f, %5.2f x floor per CPU second (no JSON written)",
                     rate(decodingAlone), rate(decodingAlone) / rate(p0f.map(\.cpu)), rate(decodingAlone) / rate(floor)))
        let pairRatios = zip(ours, p0f).map { $1.cpu / $0.cpu }
        print("wardwatch against p0f within each run, per CPU second: "
            + pairRatios.map { String(format: "%.2f", $0) }.joined(separator: ", ")
            + String(format: "; median %.2f x", median(pairRatios)))
        print("\n(the libpcap loop runs in this process: its CPU time is taken as its wall time. Decoding alone runs in this process too,")
        print(" timed by its thread's CPU clock: the same extractor as `wardwatch capture`, its observations counted, not written as JSON)")
        if decodedAlone != observations {
            print("note: decoding alone made \(decodedAlone) observations, the capture wrote \(observations)")
        }
        var own = rusage()
        getrusage(RUSAGE_SELF.rawValue, &own)
        print("wardwatch: \(observations) observations. Peak memory, each process its own: wardwatch \(ours.map(\.peakKB).max()! / 1024) MiB, "
            + "tshark \(tshark.map(\.peakKB).max()! / 1024) MiB, p0f \(p0f.map(\.peakKB).max()! / 1024) MiB "
            + "(Linux counts the spawning process's peak in a child's, so none reads below this bench's own \(own.ru_maxrss / 1024) MiB)")
        print("wardwatch decodes and writes JSON on one thread; a second thread only hands each batch to the output (one batch in flight): the per-CPU-second column compares single-core work.")
        try floods(wardwatch)
    }

    /// Every packet of the benchmark capture through the capture's extractor in this process, the observations
    /// counted but not written: how fast decoding is without the JSON. Returns this thread's CPU seconds.
    func decodeAlone() throws -> (cpu: Double, observations: Int) {
        func threadCPU() -> Double {
            var now = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
            return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        }
        let start = threadCPU()
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "vm", site: "default"))
        var batch = ObservationBatch(discarding: true)
        var observations = 0
        let source = try PcapSource(file: capture)
        let linkType = source.linkType
        while try source.next({ bytes, length, time in
            extractor.extract(bytes, originalLength: length, linkType: linkType, time: time, into: &batch)
        }) == .packet {
            if batch.count >= 4096 {
                observations += batch.count
                batch.removeAll()
            }
        }
        extractor.finish(into: &batch)
        return (threadCPU() - start, observations + batch.count)
    }

    /// Hostile traffic a sensor on a SPAN port meets, one capture each, timed against p0f on the same file (medians of
    /// `runs`): a SYN scan with more new flows than the flow table holds, a flood of ARP from new MACs (a switch's
    /// MAC table flood), and a flood of malformed DHCP (starvation tools, fuzzers). Each should cost about what
    /// ordinary packets do.
    private func floods(_ wardwatch: String) throws {
        print("\nhostile traffic (CPU seconds, medians; the per-packet figure is wardwatch's):")
        let folder = (capture as NSString).deletingLastPathComponent
        let floods: [(name: String, what: String, write: (PcapWriter) -> Int)] = [
            ("scan-flood", "300,000 SYNs to distinct hosts and ports, 3 x the flow table", { Self.writeScan($0, 300_000) }),
            ("arp-flood", "300,000 ARP, each from a new MAC", { Self.writeARPFlood($0, 300_000) }),
            ("dhcp-flood", "300,000 malformed DHCP DISCOVERs, each from a new MAC", { Self.writeDHCPFlood($0, 300_000) }),
            ("hl7-hold", "2,000 connections, each 47 segments of an MLLP frame that never ends",
             { Self.writeHeldConnections($0, connections: 2_000, port: 2575, first: Self.unendedMLLP, filler: [0x41]) }),
            ("dicom-hold", "2,000 connections, each 47 segments of an A-ASSOCIATE-RQ of 60,000 bytes",
             { Self.writeHeldConnections($0, connections: 2_000, port: 104, first: Self.longAssociateRequest, filler: [0x20, 0, 0, 0]) }),
            ("tls-hold", "2,000 connections, each 47 segments of a ClientHello of 60,000 bytes in 1-byte records",
             { Self.writeHeldConnections($0, connections: 2_000, port: 443, first: Self.longClientHello, filler: [0x16, 3, 1, 0, 1, 0]) }),
            ("http-hold", "6 connections, each a 16 KiB request head that never ends, one byte a segment",
             { Self.writeHeldConnections($0, connections: 6, segments: 16_384, size: 1, port: 80, first: Array("GET / HTTP/1.1\r\n".utf8),
                                         filler: Array("X-Pad: aaaaaaaaaaaaaaaa\r\n".utf8)) }),
        ]
        for flood in floods {
            let file = folder + "/" + flood.name + ".pcap"
            let countFile = file + ".count"
            if !FileManager.default.fileExists(atPath: file) || !FileManager.default.fileExists(atPath: countFile) {
                let count: Int
                do {  // the writer closes the file when it goes
                    let writer = try PcapWriter(path: file + ".partial", linkType: .ethernet)
                    count = flood.write(writer)
                }
                try? FileManager.default.removeItem(atPath: file)
                try FileManager.default.moveItem(atPath: file + ".partial", toPath: file)
                try "\(count)".write(toFile: countFile, atomically: true, encoding: .utf8)
            }
            let packets = Double((try? String(contentsOfFile: countFile, encoding: .utf8)).flatMap { Int($0) } ?? 0)
            var ours: [ProcessCost] = [], p0f: [ProcessCost] = []
            for _ in 1...runs {
                ours.append(try runMeasured(wardwatch, ["capture", "--pcap", file, "--output", "-", "--log-level", "error"]))
                p0f.append(try runMeasured("/usr/sbin/p0f", ["-r", file]))
            }
            func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
            let oursCPU = median(ours.map(\.cpu)), p0fCPU = median(p0f.map(\.cpu))
            print("  \(flood.name) (\(flood.what)): " + String(format: "wardwatch %.2f s (%.1f µs a packet), p0f %.2f s",
                                                              oursCPU, oursCPU / packets * 1e6, p0fCPU))
        }
    }

    /// Writes `count` Ethernet frames built by `frame` (given the packet's number), 20 µs apart; returns `count`.
    private static func writeFrames(_ writer: PcapWriter, _ count: Int, _ frame: (Int) -> [UInt8]) -> Int {
        for i in 0..<count {
            let bytes = frame(i)
            writer.write(bytes, originalLength: bytes.count, time: EventTime(microseconds: 1_700_000_000_000_000 + Int64(i) * 20))
        }
        return count
    }

    /// `connections` clients (10.1.x.y) each open a connection to 10.0.9.9:`port`, then send `segments` segments of
    /// `size` bytes, the connections taking turns so that all are open at once: `first`, then `filler` repeated. Returns the
    /// packets written.
    private static func writeHeldConnections(
        _ writer: PcapWriter, connections: Int, segments: Int = 47, size: Int = 1400, port: UInt16, first: [UInt8],
        filler: [UInt8]
    ) -> Int {
        let clientMAC: [UInt8] = [0x02, 0, 0, 0, 0, 0x07], serverMAC: [UInt8] = [0x02, 0, 0, 0, 0, 0x08]
        func frame(_ i: Int, toServer: Bool, flags: UInt8, sequence: UInt32, _ payload: [UInt8]) -> [UInt8] {
            let client = UInt32(0x0A01_0000) + UInt32(i), server: UInt32 = 0x0A00_0909
            let clientPort = UInt16(30_000 + i % 30_000)
            let (sourcePort, destinationPort) = toServer ? (clientPort, port) : (port, clientPort)
            let tcp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(destinationPort >> 8), UInt8(destinationPort & 0xFF)]
                + withUnsafeBytes(of: sequence.bigEndian, Array.init) + [0, 0, 0, 1, 0x50, flags, 0xFF, 0xFF, 0, 0, 0, 0] + payload
            return (toServer ? serverMAC + clientMAC : clientMAC + serverMAC) + [0x08, 0x00]
                + ipv4(source: toServer ? client : server, destination: toServer ? server : client, protocol: 6, id: i, tcp)
        }
        var frames = 0
        func write(_ bytes: [UInt8]) {
            writer.write(bytes, originalLength: bytes.count, time: EventTime(microseconds: 1_700_000_000_000_000 + Int64(frames) * 2))
            frames += 1
        }
        for i in 0..<connections {
            write(frame(i, toServer: true, flags: 0x02, sequence: 1000, []))
            write(frame(i, toServer: false, flags: 0x12, sequence: 5000, []))
        }
        let stream = first + (0..<(segments * size - first.count)).map { filler[$0 % filler.count] }
        for s in 0..<segments {
            let payload = Array(stream[(s * size)..<((s + 1) * size)])
            for i in 0..<connections {
                write(frame(i, toServer: true, flags: 0x18, sequence: 1001 + UInt32(s * size), payload))
            }
        }
        return frames
    }

    /// The start of an MLLP frame and an MSH segment.
    private static let unendedMLLP: [UInt8] = [0x0B] + Array("MSH|^~\\&|".utf8)

    /// An A-ASSOCIATE-RQ header claiming 60,000 bytes, its fixed fields and an application context item (100 bytes, so
    /// the empty items that follow line up).
    private static let longAssociateRequest: [UInt8] = [1, 0] + withUnsafeBytes(of: UInt32(60_000).bigEndian, Array.init)
        + [0, 1, 0, 0] + Array("ANY-SCP         ECHOSCU         ".utf8) + [UInt8](repeating: 0, count: 32)
        + [0x10, 0, 0, 22] + Array("1.2.840.10008.3.1.1.10".utf8)

    /// A handshake record holding only the header of a ClientHello that claims 60,000 bytes (the body follows in records
    /// of one byte each).
    private static let longClientHello: [UInt8] = [0x16, 3, 1, 0, 4, 1, 0, 0xEA, 0x60]

    /// A locally administered MAC made from a packet's number.
    private static func mac(_ i: Int) -> [UInt8] {
        [0x02, 0x5C, UInt8(i >> 24 & 0xFF), UInt8(i >> 16 & 0xFF), UInt8(i >> 8 & 0xFF), UInt8(i & 0xFF)]
    }

    private static func writeARPFlood(_ writer: PcapWriter, _ count: Int) -> Int {
        writeFrames(writer, count) { i in
            let sender = mac(i)
            return [UInt8](repeating: 0xFF, count: 6) + sender + [0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1] + sender
                + [10, UInt8(i >> 16 & 0xFF), UInt8(i >> 8 & 0xFF), UInt8(i & 0xFF)] + [UInt8](repeating: 0, count: 6) + [10, 0, 0, 1]
        }
    }

    /// DISCOVERs whose host name option claims 8 bytes and holds 10, so the options after it do not parse.
    private static func writeDHCPFlood(_ writer: PcapWriter, _ count: Int) -> Int {
        writeFrames(writer, count) { i in
            let client = mac(i)
            var bootp: [UInt8] = [1, 1, 6, 0] + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init) + [0, 0, 0x80, 0]
            bootp += [UInt8](repeating: 0, count: 16) + client + [UInt8](repeating: 0, count: 10 + 192) + [0x63, 0x82, 0x53, 0x63]
            bootp += [53, 1, 1, 55, 4, 1, 3, 6, 15, 12, 8] + Array("host\(100_000 + i % 900_000)".utf8) + [255]
            let length = 8 + bootp.count
            let udp: [UInt8] = [0, 68, 0, 67, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0] + bootp
            return [UInt8](repeating: 0xFF, count: 6) + client + [0x08, 0x00]
                + ipv4(source: 0, destination: 0xFFFF_FFFF, protocol: 17, id: i, udp)
        }
    }

    /// One scanner (10.0.0.66) sending SYNs with an MSS option to host and port pairs that are all distinct.
    private static func writeScan(_ writer: PcapWriter, _ count: Int) -> Int {
        let ethernet: [UInt8] = [0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x42, 0x08, 0x00]
        return writeFrames(writer, count) { i in
            let host = UInt32(0x0A00_0100) + UInt32(i / 250 % 1000)  // 10.0.1.0 onwards
            let port = UInt16(1 + i % 250 * 4 + i / 250_000)
            let sourcePort = UInt16(40_000 + i % 20_000)
            let tcp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(port >> 8), UInt8(port & 0xFF)]
                + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init) + [0, 0, 0, 0, 0x60, 0x02, 0x04, 0x00, 0, 0, 0, 0]
                + [2, 4, 0x05, 0xB4]
            return ethernet + ipv4(source: 0x0A00_0042, destination: host, protocol: 6, id: i, tcp)
        }
    }

    /// An IPv4 header with its checksum, then `payload`.
    private static func ipv4(source: UInt32, destination: UInt32, protocol number: UInt8, id: Int, _ payload: [UInt8]) -> [UInt8] {
        let length = 20 + payload.count
        var ip: [UInt8] = [0x45, 0, UInt8(length >> 8), UInt8(length & 0xFF), UInt8(id >> 8 & 0xFF), UInt8(id & 0xFF), 0, 0, 64, number, 0, 0]
        ip += withUnsafeBytes(of: source.bigEndian, Array.init) + withUnsafeBytes(of: destination.bigEndian, Array.init)
        var sum: UInt32 = 0
        for j in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[j]) << 8 | UInt32(ip[j + 1]) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        ip[10] = UInt8(~sum >> 8 & 0xFF)
        ip[11] = UInt8(~sum & 0xFF)
        return ip + payload
    }

    /// Lines of a file, read in blocks (loading the output whole would raise this process's peak memory, which Linux
    /// then reports in every child spawned after).
    private func countLines(_ path: String) -> Int {
        guard let file = fopen(path, "r") else { return 0 }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var lines = 0
        while true {
            let read = fread(&buffer, 1, buffer.count, file)
            if read <= 0 { break }
            for i in 0..<read where buffer[i] == 0x0A { lines += 1 }
        }
        return lines
    }

    /// Builds the capture from every Ethernet capture under `shared`, once. Each file is moved in time to follow the
    /// previous one (two minutes apart, longer than the flow idle timeout, so files never share a flow), and the whole
    /// sequence is repeated a day apart. Times stay increasing and inside 32-bit pcap seconds (the sources span 2001 to
    /// 2023: shifting them as they are overflowed past 2038 and read back as 1902).
    private func buildCapture() throws -> (packets: Int, bytes: Int) {
        let marker = capture + ".count"
        if let text = try? String(contentsOfFile: marker, encoding: .utf8), let parts = Optional(text.split(separator: " ")),
            parts.count == 2, let count = Int(parts[0]), let bytes = Int(parts[1]), count >= packets,
            FileManager.default.fileExists(atPath: capture)
        {
            return (count, bytes)
        }
        let files = (FileManager.default.enumerator(atPath: shared)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
        var frames: [([UInt8], Int, Int64)] = []  // bytes, wire length, µs from the start of a round
        var offset: Int64 = 0
        for file in files {
            guard let source = try? PcapSource(file: shared + "/" + file), source.linkType == .ethernet else { continue }
            var first: Int64?
            var last = offset
            while (try? source.next({ bytes, length, time in
                let start = first ?? time.microseconds
                first = start
                let at = offset + max(0, time.microseconds - start)
                last = max(last, at)
                frames.append((Array(bytes), length, at))
            })) == .packet {}
            offset = last + 120_000_000
        }
        guard !frames.isEmpty else { throw ValidationError("no Ethernet captures under \(shared)") }
        try FileManager.default.createDirectory(atPath: (capture as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let writer = try PcapWriter(path: capture, linkType: .ethernet)
        var written = 0
        var bytes = 0
        var round: Int64 = 0
        let roundLength = offset + 86_400_000_000
        while written < packets {
            for (frame, length, at) in frames where written < packets {
                // Each round starts a day after the previous one ended, so flows and timeouts stay realistic.
                writer.write(frame, originalLength: length, time: EventTime(microseconds: 1_700_000_000_000_000 + round * roundLength + at))
                written += 1
                bytes += frame.count
            }
            round += 1
        }
        try "\(written) \(bytes)".write(toFile: marker, atomically: true, encoding: .utf8)
        return (written, bytes)
    }


}

/// Seconds of a duration, as a Double.
func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// Runs a peer or child process to completion with its output discarded; returns the wall time in seconds.
func timeProcess(_ path: String, _ arguments: [String]) throws -> Double {
    try runMeasured(path, arguments).wall
}

/// What one child process cost: wall seconds, CPU seconds (user + system, all its threads) and its own peak RSS.
struct ProcessCost {
    var wall: Double
    var cpu: Double
    var peakKB: Int
}

/// Runs a child with posix_spawn and reaps it with wait4, so its resource usage is its own (not the maximum over
/// every child so far, as RUSAGE_CHILDREN would give).
func runMeasured(_ path: String, _ arguments: [String]) throws -> ProcessCost {
    guard FileManager.default.isExecutableFile(atPath: path) else { throw ValidationError("\(path) is not installed") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for arg in argv { free(arg) } }
    var pid: pid_t = 0
    let start = ContinuousClock.now
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard spawned == 0 else { throw ValidationError("cannot run \(path): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else { throw ValidationError("waiting for \(path) failed: \(String(cString: strerror(errno)))") }
    }
    let wall = seconds(ContinuousClock.now - start)
    // WIFEXITED and WEXITSTATUS, spelled out (the C macros do not import).
    guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
        throw ValidationError("\(path) \(arguments.joined(separator: " ")) exited with status \(status)")
    }
    let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    return ProcessCost(wall: wall, cpu: cpu, peakKB: usage.ru_maxrss)
}
