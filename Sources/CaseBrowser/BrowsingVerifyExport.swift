public import CaseBundle
public import CaseManagement
public import ChainOfCustody
public import Foundation

// Verify and Export from the case browser: `exhibit verify` and `exhibit export` as the acting actor.

extension CaseBrowsing {
    /// `exhibit verify CASE` as the acting actor (custodian): the report, and
    /// the `verify` entry that records it.
    public func verify(_ caseID: String) throws(ExhibitError) -> (report: CaseVerification.Report, entry: LedgerEntry?) {
        let session = try session()
        try requireCase(caseID, session: session)
        try session.authorize(.verify, caseID: caseID, command: "verify")
        let report = try WorkspaceCaseCheck.verify(directory: session.store.directory(of: caseID))
        let entry = try WorkspaceCaseCheck.record(report, session: session)
        return (report, entry)
    }

    /// Where the browser's exports go: `<workspace>/exports/`.
    public var exportsDirectory: String { workspace.root + "/exports" }

    /// `exhibit export CASE` as the acting actor (analyst) into
    /// `<workspace>/exports/<CASE>-<UTC yyyymmddThhmmssZ>.zip` (a zipped BagIt
    /// bag) or `.wacz`; a name already taken gets `-2`, `-3`… so nothing is
    /// ever overwritten. `now` is the time used in the name.
    public func export(_ caseID: String, format: CaseExport.Format, now: Date = Date()) throws(ExhibitError) -> CaseExport.Result {
        let session = try session()
        try requireCase(caseID, session: session)
        // Refused before a folder is made for it.
        try session.authorize(.export, caseID: caseID, command: "export")
        if mkdir(exportsDirectory, 0o700) != 0, errno != EEXIST {
            throw AtomicFile.posixError("Cannot create \(exportsDirectory)")
        }
        let output = try Self.exportPath(directory: exportsDirectory, caseID: caseID, format: format, now: now)
        var options = CaseExport.Options(output: output)
        options.format = format
        options.zip = format == .bagit
        return try CaseExport(session: session, caseID: caseID, options: options).run()
    }

    /// A free name for an export: the case id and the UTC second, then `-2`, `-3`….
    static func exportPath(directory: String, caseID: String, format: CaseExport.Format, now: Date) throws(ExhibitError) -> String {
        var time = tm()
        var seconds = time_t(now.timeIntervalSince1970)
        gmtime_r(&seconds, &time)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", Int(time.tm_year) + 1900, Int(time.tm_mon) + 1,
                           Int(time.tm_mday), Int(time.tm_hour), Int(time.tm_min), Int(time.tm_sec))
        let suffix = format == .wacz ? ".wacz" : ".zip"
        for attempt in 1...1000 {
            let name = "\(caseID)-\(stamp)\(attempt == 1 ? "" : "-\(attempt)")\(suffix)"
            let path = directory + "/" + name
            if access(path, F_OK) != 0 { return path }
        }
        throw ExhibitError(.storage, "No free export name for \(caseID) in \(directory); move old exports away.")
    }
}
