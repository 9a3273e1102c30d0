import ArgumentParser
import CaseIndex
import CaseManagement
import ChainOfCustody
import Foundation
import MediaEvidence
import MediaForensics

/// `exhibit media analyse CASE` (DESIGN §19).
struct MediaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media",
        abstract: "Media forensics: metadata (ExifTool, ffprobe) and PDQ perceptual hashes of a case's images and video.",
        subcommands: [MediaAnalyseCommand.self])
}

struct MediaAnalyseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyse",
        abstract: "Analyse every image and video of a case not analysed yet (investigator or analyst).",
        discussion: """
        Each item is read from its sealed copy (the blob or its WARC record, checked against the \
        ledger's sha256), described by exiftool -json -G -n -struct and, for video, ffprobe, each \
        under a memory, CPU and time limit, and hashed with PDQ (video: one keyframe a second and \
        each scene cut). The tools' output and the hashes are sealed as one metadata record per item \
        in a new WARC file, summarised in one media-analysis ledger entry (docs/media.md). A file \
        the tools cannot read is recorded as "metadata unavailable: REASON". Capture and import run \
        this step on their own.
        """,
        aliases: ["analyze"])
    @OptionGroup var options: CaseOptions

    func run() throws {
        let session = try options.session()
        let report = try CaseMediaAnalysis(session: session).run(caseID: options.caseID)
        if options.json { try Console.json(report); return }
        guard let seq = report.seq else {
            Console.line("\(options.caseID): no media left to analyse")
            return
        }
        for item in report.items { Console.line(MediaLines.line(item)) }
        Console.line("\(report.items.count) item\(report.items.count == 1 ? "" : "s") sealed in \(report.warcFile ?? "-"), entry \(seq)")
    }
}

/// An artifact as `exhibit artifacts --json` prints it: the index's fields, plus
/// `media` (kind, summary with GPS, capture time, device, PDQ) when analysed.
struct ArtifactWithMedia: Encodable {
    var artifact: IndexedArtifact
    var media: MediaFacts?

    enum Key: String, CodingKey { case media }

    func encode(to encoder: any Encoder) throws {
        try artifact.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(media, forKey: .media)
    }
}

enum MediaLines {
    static func withMedia(_ artifacts: [IndexedArtifact], session: ActingSession, caseID: String) throws(ExhibitError) -> [ArtifactWithMedia] {
        let facts = MediaFacts.byArtifact(try session.store.ledger(of: caseID).entries())
        return artifacts.map { ArtifactWithMedia(artifact: $0, media: facts[$0.id]) }
    }

    static func line(_ item: CaseMediaAnalysis.Item) -> String {
        var parts = ["\(item.artifact)  \(item.kind)"]
        if let pdq = item.pdq { parts.append("pdq \(pdq) q\(item.quality ?? 0)") }
        if item.frames > 0 { parts.append("\(item.frames) keyframe hashes") }
        let summary = item.summary
        if let time = summary.captureTime { parts.append("taken \(time)") }
        if let latitude = summary.latitude, let longitude = summary.longitude { parts.append("GPS \(latitude),\(longitude)") }
        let device = [summary.make, summary.model].compactMap { $0 }.joined(separator: " ")
        if !device.isEmpty { parts.append(device) }
        if summary.c2paPresent { parts.append("C2PA present" + (summary.c2paClaimGenerator.map { " (\($0))" } ?? "")) }
        parts += item.unavailable
        if let reason = item.hashUnavailable { parts.append("no hash: \(reason)") }
        parts.append(item.url)
        return parts.joined(separator: "  ")
    }

    /// The analysis at the end of `exhibit capture` and `exhibit import`: media is
    /// analysed as the same actor; a failure is told on stderr and never undoes what
    /// was already captured (it can be run again with `exhibit media analyse`).
    static func afterIntake(_ session: ActingSession, caseID: String, quiet: Bool) {
        guard CaseMediaAnalysis.mayAnalyse(session.actor) else { return }
        do {
            let report = try CaseMediaAnalysis(session: session).run(caseID: caseID, command: "media analyse (after intake)")
            if let seq = report.seq, !quiet {
                let unavailable = report.items.filter { !$0.unavailable.isEmpty }.count
                Console.error("media: \(report.items.count) item\(report.items.count == 1 ? "" : "s") analysed (entry \(seq))" + (unavailable > 0 ? ", metadata unavailable for \(unavailable)" : ""))
            }
        } catch {
            Console.error("media analysis did not run: \(error.message) Run `exhibit media analyse \(caseID)` to try again.")
        }
    }
}

extension MediaLines {
    /// After `exhibit dispose`: the case's PDQ hashes leave media-index.sqlite with its
    /// evidence, so `similar` can never point at a destroyed case.
    static func afterDisposal(_ session: ActingSession, caseID: String) {
        do {
            try MediaHashIndex(workspace: session.workspace).forget(caseID: caseID)
        } catch {
            Console.error("The media index still holds hashes of \(caseID) (\(error.message)); `exhibit similar` drops them when it next runs.")
        }
    }
}

/// `exhibit similar ARTIFACT` (DESIGN §19).
struct SimilarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similar",
        abstract: "Find images and video frames near an artifact's PDQ hash across every case you may read (recorded as a view).",
        discussion: """
        Distance is the number of differing bits of 256; PDQ calls 31 or less a match. Re-encoded, \
        resized and format-converted copies match; so do copies turned by 90° steps or mirrored, \
        through the image's eight dihedral hashes, and the match says which way it is turned. \
        Heavily cropped copies do not match (docs/media.md). The lookup uses multi-index hashing, \
        so it reads only candidate hashes.
        """)
    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The artifact: its id (A-0007) or its sha256.") var artifact: String
    @Option(name: .customLong("case"), help: "The case the artifact belongs to (needed when its id exists in several cases).") var caseID: String?
    @Option(name: .customLong("max-distance"), help: "The largest Hamming distance reported, 0–47 (default 31).") var maxDistance: Int = 31

    func validate() throws {
        if maxDistance < 0 || maxDistance > MediaHashIndex.maximumDistance {
            throw ValidationError("--max-distance must be between 0 and \(MediaHashIndex.maximumDistance).")
        }
    }

    func run() throws {
        let session = try options.session()
        let result = try Self.find(session, artifact: artifact, caseID: caseID, maxDistance: maxDistance)
        if options.json { try Console.json(result); return }
        if result.matches.isEmpty {
            Console.line("No image within distance \(maxDistance) of \(result.artifact) (\(result.case)).")
            return
        }
        for match in result.matches {
            let frame = match.frame.map { "  frame at \($0) s" } ?? ""
            let queryFrame = match.queryFrame.map { "  (query frame at \($0) s)" } ?? ""
            let turned = match.orientation.map { "  (\($0))" } ?? ""
            Console.line("\(match.distance)  \(match.case)  \(match.artifact)  first seen \(match.firstSeen)  \(match.url)\(frame)\(queryFrame)\(turned)")
        }
    }

    /// The search, its case ambiguity told in this command's flag.
    static func find(_ session: ActingSession, artifact: String, caseID: String?, maxDistance: Int) throws(ExhibitError) -> SimilarMedia.Result {
        do {
            return try SimilarMedia(session: session, index: MediaHashIndex(workspace: session.workspace))
                .find(artifact, caseID: caseID, maxDistance: maxDistance)
        } catch {
            guard error.input == .similarCase else { throw error }
            throw ExhibitError(error.code, error.message.replacingOccurrences(of: "name the case.", with: "name the case with --case."))
        }
    }
}
