import ArgumentParser
import CaseIndex
import CaseManagement
import Foundation

struct ArtifactsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "artifacts", abstract: "List a case's artifacts: id, capture time, status, type, sha256 and URL (recorded as a view).")
    @OptionGroup var options: CaseOptions

    func run() throws {
        let session = try options.session()
        let artifacts = try CaseReader(session: session).artifacts(options.caseID)
        if options.json {
            // Each image or video carries what its media analysis found (GPS, time, device, PDQ).
            let withMedia = try MediaLines.withMedia(artifacts, session: session, caseID: options.caseID)
            try Console.json(["case": AnyEncodable(options.caseID), "artifacts": AnyEncodable(withMedia)])
            return
        }
        for artifact in artifacts {
            let type = artifact.mimeType ?? "-"
            let status = artifact.status == 0 ? "-" : String(artifact.status)
            Console.line("\(artifact.id)  \(artifact.time)  \(status)  \(type)  \(artifact.sha256 ?? "-")  \(artifact.url)\(artifact.imported ? "  (imported)" : "")")
        }
    }
}

struct SelectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selectors",
        abstract: "List the e-mail addresses, phone numbers, profiles, handles, IP and crypto addresses found in a case, with the other cases each appears in (recorded as a view).")
    @OptionGroup var options: CaseOptions

    func run() throws {
        let selectors = try CaseReader(session: options.session()).selectors(options.caseID)
        if options.json { try Console.json(["case": AnyEncodable(options.caseID), "selectors": AnyEncodable(selectors)]); return }
        for selector in selectors {
            let artifacts = Array(Set(selector.occurrences.map(\.artifact))).sorted().joined(separator: ",")
            let also = selector.otherCases.isEmpty ? "" : "  also in: " + selector.otherCases.joined(separator: ", ")
            Console.line("\(selector.kind)  \(selector.value)  \(selector.occurrences.count)× in \(artifacts)\(also)")
        }
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the text of captured pages across cases; every word must match (recorded as a view in each case shown).")
    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The words to look for.") var text: String
    @Option(name: .customLong("case"), help: "Search only this case.") var caseID: String?
    @Option(name: .long, help: "Search every case on this evidence server that the actor may read, instead of the workspace.") var remote: String?

    func run() throws {
        if let remote {
            guard caseID == nil else { throw ValidationError("--case and --remote do not go together: a remote search covers the agency's cases.") }
            try RemoteCommands.search(options, words: text, remote: remote)
            return
        }
        try Self.search(text, caseID: caseID, session: options.readingSession(), json: options.json)
    }

    /// The search over the workspace, printed (also run by ``PlainSearch``).
    static func search(_ text: String, caseID: String?, session: ActingSession, json: Bool) throws {
        let hits = try CaseReader(session: session).search(text, caseID: caseID)
        if json { try Console.json(SearchResults(query: text, results: hits)); return }
        for hit in hits {
            Console.line("\(hit.case)  \(hit.artifact)  \(hit.url)\(hit.title.map { "  “\($0)”" } ?? "")")
            Console.line("    \(hit.snippet.replacingOccurrences(of: "\n", with: " "))")
        }
    }

    struct SearchResults: Encodable {
        var query: String
        var results: [SearchHit]
    }
}

struct ReindexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reindex", abstract: "Rebuild the workspace index from the ledgers and WARC files alone (custodian or supervisor).")
    @OptionGroup var options: WorkspaceOptions

    func run() throws {
        let report = try CaseReader(session: options.session()).reindex()
        if options.json { try Console.json(report); return }
        Console.line("\(report.cases) cases, \(report.artifacts) artifacts, \(report.selectors) selectors indexed")
    }
}
