#if canImport(Glibc)
import Glibc
#endif
import WardwatchCapture
import WardwatchIdentity
import WardwatchModel

// Measures identity processing over capture files: observations come from the real capture pipeline first, then
// `IdentityBenchmark.run` times only the identity step. Usage: wardwatch-identity-bench FILE.pcap...
let paths = Array(CommandLine.arguments.dropFirst())
guard !paths.isEmpty else {
    print("usage: wardwatch-identity-bench FILE.pcap...")
    exit(2)
}
var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "bench", site: "bench"))
var observations: [Observation] = []
for path in paths {
    let source = try PcapSource(file: path)
    let linkType = source.linkType
    while try source.next({ bytes, length, time in
        extractor.extract(bytes, originalLength: length, linkType: linkType, time: time, into: &observations)
    }) == .packet {}
}
extractor.finish(into: &observations)
let engine = try IdentityEngine.load()
let result = try IdentityBenchmark.run(observations, engine: engine, rounds: 5)
print(result)
