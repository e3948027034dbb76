import ArgumentParser
import WardwatchIdentity

/// Options of the identity processors; the engine they describe is loaded once per process.
struct IdentityOptions: ParsableArguments {
    @Option(name: .long, help: "Operator overrides (YAML) of device classifications.")
    var identityOverrides: String?

    @Option(name: .long, help: "A clinical VLAN id (repeatable): a randomised MAC there raises a finding.")
    var clinicalVlan: [Int] = []

    func engine() throws -> IdentityEngine {
        try IdentityEngine.load(
            overridesPath: identityOverrides, configuration: IdentityConfiguration(clinicalVLANs: Set(clinicalVlan)))
    }
}
