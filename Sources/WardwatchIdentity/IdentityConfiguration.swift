/// Tunables of identity processing.
public struct IdentityConfiguration: Sendable, Equatable {
    /// VLANs of clinical segments: a randomised MAC there raises a finding.
    public var clinicalVLANs: Set<Int>
    /// A class (or vendor) changes only when the challenger's score beats the current one's by this much.
    public var hysteresisMargin: Int
    /// Two identities seen alternately within this much event time are "at once" (a clone), µs.
    public var concurrencyWindow: Int64
    /// Sightings of a value before it counts as established (a later different value is a change).
    public var establishedSightings: Int
    /// Clock-skew estimates differing by more than this (and by more than 3 combined half-widths) differ, ppm.
    public var skewTolerancePPM: Double
    /// A connection's skew counts once it spans this long, seconds.
    public var skewMinimumSpan: Double
    /// A protocol-native identity behind two device keys within this much event time is a conflict, µs.
    public var nativeIdentityWindow: Int64
    /// Topic names written into findings' data sources and log name.
    public var observationsTopic = "iomt.observations.v1"
    public var alertsTopic = "iomt.alerts.v1"

    public init(
        clinicalVLANs: Set<Int> = [], hysteresisMargin: Int = 15, concurrencyWindow: Int64 = 1_800_000_000,
        establishedSightings: Int = 2, skewTolerancePPM: Double = 5, skewMinimumSpan: Double = 120,
        nativeIdentityWindow: Int64 = 3_600_000_000
    ) {
        self.clinicalVLANs = clinicalVLANs
        self.hysteresisMargin = hysteresisMargin
        self.concurrencyWindow = concurrencyWindow
        self.establishedSightings = establishedSightings
        self.skewTolerancePPM = skewTolerancePPM
        self.skewMinimumSpan = skewMinimumSpan
        self.nativeIdentityWindow = nativeIdentityWindow
    }
}
