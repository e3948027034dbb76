// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "wardwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wardwatch", targets: ["wardwatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .systemLibrary(
            name: "CRdKafka", pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(
            name: "CPcap", pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]),

        // A capture file read from memory as a stdio stream, turning SIGBUS from a file truncated under it into a read
        // error (signal handling Swift cannot do).
        .target(name: "CMappedFile"),

        // Kafka client over librdkafka: producer, consumer, admin, transactions, embedded mock broker.
        .target(
            name: "WardwatchKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        // Record shapes shared by every part: observations, device profiles, OCSF findings.
        .target(
            name: "WardwatchModel",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: hotPathSettings),
        // Pure, bounds-checked packet decoders.
        .target(name: "WardwatchDecoders", swiftSettings: hotPathSettings),
        // libpcap sources and the packet -> observation pipeline.
        .target(
            name: "WardwatchCapture",
            dependencies: [
                "CPcap", "CMappedFile", "WardwatchDecoders", "WardwatchModel", "WardwatchKafka",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: hotPathSettings),
        // Stream-processing runtime: topologies, per-partition tasks and state stores with changelogs, commits and
        // transactions, event-time windows, dead letters.
        .target(
            name: "WardwatchStreams",
            dependencies: [
                "WardwatchKafka", "WardwatchModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]),
        // Stream processors: device profiles, identity and findings.
        .target(
            name: "WardwatchProcessing",
            dependencies: [
                "WardwatchModel", "WardwatchKafka", "WardwatchStreams", "WardwatchIdentity",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // Device identity: IEEE registries, medical knowledge base, p0f stack database, clock skew, classification
        // and identity verification, as pure value types.
        .target(
            name: "WardwatchIdentity",
            dependencies: ["WardwatchModel", "WardwatchDecoders", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Resources")]),
        // Commands of the executable, kept in a library so tests can run them in-process.
        .target(
            name: "WardwatchApp",
            dependencies: [
                "WardwatchKafka", "WardwatchModel", "WardwatchCapture", "WardwatchProcessing", "WardwatchStreams",
                "WardwatchIdentity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            exclude: ["Generators"],
            resources: [.copy("Resources")]),
        .executableTarget(name: "wardwatch", dependencies: ["WardwatchApp"]),

        // Helpers shared by the test targets (the schema validator).
        .target(name: "WardwatchTestSupport", path: "Tests/WardwatchTestSupport"),
        .testTarget(
            name: "WardwatchKafkaTests",
            dependencies: ["WardwatchKafka", .product(name: "MetricsTestKit", package: "swift-metrics")]),
        .testTarget(
            name: "WardwatchDecoderTests",
            dependencies: [
                "WardwatchDecoders", "WardwatchCapture", "WardwatchModel", "WardwatchKafka",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
        .testTarget(
            name: "WardwatchStreamsTests",
            dependencies: [
                "WardwatchStreams", "WardwatchProcessing", "WardwatchKafka", "WardwatchModel", "WardwatchIdentity",
                "WardwatchCapture",
            ]),
        .testTarget(
            name: "WardwatchIdentityTests",
            dependencies: ["WardwatchIdentity", "WardwatchCapture", "WardwatchModel", "WardwatchDecoders", "WardwatchTestSupport"]),
        .testTarget(
            name: "WardwatchEndToEndTests",
            dependencies: [
                "WardwatchApp", "WardwatchKafka", "WardwatchModel", "WardwatchProcessing", "WardwatchIdentity",
                "WardwatchTestSupport",
            ]),
    ],
    swiftLanguageModes: [.v6]
)

/// The capture's per-packet path crosses these modules (decoders, the JSON writer, the extractor): let the optimizer
/// inline and specialize across them, as it does within one module.
var hotPathSettings: [SwiftSetting] { [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))] }
