public import ChainOfCustody

/// The one case that holds an artifact named by its id or sha256, when the command
/// may look in every case the actor reads (`exhibit similar`, `exhibit diff`): each
/// command finds the candidates its own way, and all of them answer "none" and
/// "more than one" alike.
public enum ArtifactInCases {
    /// The only entry of `found` (the case, what was found there). `caseID` is the
    /// case the search was limited to, if any; `input` is where a caller names the
    /// case, for the error that asks for it when several cases hold the artifact.
    public static func single<Found>(_ found: [(caseID: String, found: Found)], argument: String, caseID: String?,
                                     input: ExhibitError.Input) throws(ExhibitError) -> (caseID: String, found: Found) {
        guard let first = found.first else {
            if let caseID { throw ExhibitError(.storage, "No artifact \(argument) in \(caseID); `exhibit artifacts \(caseID)` lists the ids.") }
            throw ExhibitError(.storage, "No artifact \(argument) in any case you may read; `exhibit artifacts CASE` lists the ids.")
        }
        guard found.count == 1 else {
            throw ExhibitError(.usage, "Artifact \(argument) exists in \(found.map(\.caseID).joined(separator: ", ")); name the case.", input: input)
        }
        return first
    }
}
