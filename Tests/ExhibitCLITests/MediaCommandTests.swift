import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Issue 22 end to end: media captured from a loopback site into two cases is
/// analysed (exiftool, ffprobe, PDQ), sealed as metadata records and a
/// `media-analysis` entry, and found again across cases by `exhibit similar`.
@Suite struct MediaCommandTests {
    static let firstPage = ["photo.jpg", "mirror.jpg", "unrelated.jpg", "truncated.jpg", "huge-segment.jpg", "bomb.jpg", "huge.png"]
    static let secondPage = ["q40.jpg", "half.jpg", "crop.jpg", "photo.png", "photo.webp"]

    static func page(_ images: [String], video: String? = nil) -> String {
        "<!doctype html><html><head><title>media</title></head><body>"
            + images.map { "<img src=\"\($0)\">" }.joined()
            + (video.map { "<video src=\"\($0)\"></video>" } ?? "") + "</body></html>"
    }

    @Test func analyseSealAndFindAcrossCases() async throws {
        let ws = try TestWorkspace("media-cli")
        let exhibit = ExhibitProcess()
        let site = TemporaryDirectory("media-site")
        try MediaSamples.photoSet(in: site.path)
        try MediaSamples.hostileSet(photo: site.path + "/photo.jpg", in: site.path)
        try MediaSamples.splicedVideo(photo: site.path + "/photo.jpg", to: site.path + "/spliced.mp4")
        try Data(Self.page(Self.firstPage).utf8).write(to: URL(fileURLWithPath: site.path + "/first.html"))
        try Data(Self.page(Self.secondPage, video: "spliced.mp4").utf8).write(to: URL(fileURLWithPath: site.path + "/second.html"))
        let first = try ws.openCase()
        let second = try ws.openCase()
        let actor = ["--workspace", ws.root, "--actor", ws.investigatorID]

        let baseURL = try await withFixtureSite(siteDirectory: site.path) { fixture in
            for (caseID, page) in [(first, "/first.html"), (second, "/second.html")] {
                let capture = try await Blocking.run {
                    try exhibit.run(["capture", caseID, fixture.baseURL + page, "--media", "--allow-network", "127.0.0.1/32", "--reason", "fixture"] + actor)
                }
                // Hostile files are captured like any other response.
                #expect(capture.status == 0, "\(capture.stderr)")
            }
            return fixture.baseURL
        }

        // Capture analysed its media on its own (MediaLines.afterIntake).
        for caseID in [first, second] {
            #expect(try ws.entries(caseID).contains { $0.action == "media-analysis" }, "\(caseID): capture did not analyse its media")
        }
        for caseID in [first, second] {
            let analyse = try await Blocking.run { try exhibit.run(["media", "analyse", caseID, "--json"] + actor) }
            #expect(analyse.status == 0, "\(analyse.stderr)")
            // Nothing is analysed twice.
            let again = try await Blocking.run { try exhibit.run(["media", "analyse", caseID, "--json"] + actor) }
            #expect(try JSONValue(parsing: again.stdout)["items"]?.arrayValue?.count == 0, "\(again.stdout)")
        }

        // The ledger: one item per media artifact, with the summary and PDQ.
        var items: [String: JSONValue] = [:]
        var artifactOf: [String: String] = [:]
        for caseID in [first, second] {
            for entry in try ws.entries(caseID) where entry.action == "media-analysis" {
                for item in entry.subject?["items"]?.arrayValue ?? [] {
                    let name = (item["url"]?.stringValue ?? "").components(separatedBy: "/").last ?? ""
                    items[name] = item
                    artifactOf[name] = item["artifact"]?.stringValue
                }
            }
        }
        #expect(Set(items.keys) == Set(Self.firstPage + Self.secondPage + ["spliced.mp4"]), "\(items.keys.sorted())")
        let photo = try #require(items["photo.jpg"])
        #expect(photo["summary"]?["gps"]?["latitude"]?.stringValue == "48.858370")
        #expect(photo["summary"]?["gps"]?["longitude"]?.stringValue == "2.294481")
        #expect(photo["summary"]?["make"]?.stringValue == "ExhibitCam")
        #expect(photo["summary"]?["capture_time"]?.stringValue == "2026:11:28 13:20:00+01:00")
        #expect(photo["pdq"]?["hash"]?.stringValue?.count == 64)
        #expect(items["spliced.mp4"]?["summary"]?["duration"]?.stringValue?.hasPrefix("10") == true)
        #expect((items["spliced.mp4"]?["frames"]?.arrayValue?.count ?? 0) >= 10)
        let bomb = try #require(items["bomb.jpg"])
        #expect(bomb["unavailable"]?.arrayValue?.first?.stringValue?.hasPrefix("metadata unavailable") == true, "\(bomb)")
        #expect(items["huge.png"]?["hash_unavailable"]?.stringValue?.contains("over the limit") == true)

        // GPS, time and device in `exhibit artifacts --json`.
        let listing = try await Blocking.run { try exhibit.run(["artifacts", first, "--json"] + actor) }
        #expect(listing.status == 0, "\(listing.stderr)")
        let listed = try JSONValue(parsing: listing.stdout)["artifacts"]?.arrayValue ?? []
        let listedPhoto = try #require(listed.first { ($0["url"]?.stringValue ?? "").hasSuffix("/photo.jpg") })
        #expect(listedPhoto["media"]?["summary"]?["latitude"]?.stringValue == "48.858370", "\(listedPhoto)")
        #expect(listedPhoto["media"]?["summary"]?["longitude"]?.stringValue == "2.294481")
        #expect(listedPhoto["media"]?["summary"]?["capture_time"]?.stringValue == "2026:11:28 13:20:00+01:00")
        #expect(listedPhoto["media"]?["summary"]?["make"]?.stringValue == "ExhibitCam" && listedPhoto["media"]?["summary"]?["model"]?.stringValue == "Model 22")
        #expect(listedPhoto["media"]?["pdq"]?.stringValue == photo["pdq"]?["hash"]?.stringValue)
        #expect(listedPhoto["sha256"]?.stringValue != nil, "the index's own fields stay")

        // exhibit similar: from the original across both cases.
        let photoID = try #require(artifactOf["photo.jpg"])
        let similar = try await Blocking.run { try exhibit.run(["similar", photoID, "--case", first, "--json"] + actor) }
        #expect(similar.status == 0, "\(similar.stderr)")
        let matches = try JSONValue(parsing: similar.stdout)["matches"]?.arrayValue ?? []
        var found: [String: Int64] = [:]
        var orientation: [String: String] = [:]
        for match in matches {
            let name = (match["url"]?.stringValue ?? "").components(separatedBy: "/").last ?? ""
            found[name] = match["distance"]?.intValue
            orientation[name] = match["orientation"]?.stringValue
            #expect(match["case"]?.stringValue != nil && match["artifact"]?.stringValue != nil && match["first_seen"]?.stringValue != nil)
        }
        print("similar from photo.jpg: \(found.sorted { $0.key < $1.key })")
        for name in ["q40.jpg", "half.jpg", "photo.png", "photo.webp", "spliced.mp4"] {
            #expect((found[name] ?? 99) <= 31, "\(name) not found within 31: \(found)")
        }
        #expect(found["unrelated.jpg"] == nil, "\(found)")
        // Mirrored: found through the photo's dihedral hashes (docs/media.md), and said so.
        #expect((found["mirror.jpg"] ?? 99) <= 31 && orientation["mirror.jpg"] == "mirrored left to right", "\(found) \(orientation)")
        #expect(orientation["q40.jpg"] == nil && orientation["spliced.mp4"] == nil, "\(orientation)")
        #expect(matches.first { ($0["url"]?.stringValue ?? "").hasSuffix("q40.jpg") }?["case"]?.stringValue == second)
        #expect(matches.first { ($0["url"]?.stringValue ?? "").hasSuffix("spliced.mp4") }?["frame"]?.stringValue?.hasPrefix("5") == true)
        #expect(baseURL.hasPrefix("http://127.0.0.1"))

        // The search is a view in the query's case and in the case it showed matches from.
        for caseID in [first, second] {
            let views = try ws.entries(caseID).filter { $0.action == "view" && $0.subject?["command"]?.stringValue == "similar" }
            #expect(views.count == 1, "\(caseID): \(views.count) similar views")
        }

        // The sealed records pass warcio and the case verifies.
        let entry = try #require(try ws.entries(first).last { $0.action == "media-analysis" })
        let warc = ws.caseDirectory(first) + "/" + (entry.subject?["warc"]?["file"]?.stringValue ?? "-")
        let check = try Validators.run("warcio", ["check", "-v", warc])
        #expect(check.status == 0, "\(check.output)")
        #expect(!check.output.contains("no digest to check"))
        for caseID in [first, second] {
            let verify = try await Blocking.run { try exhibit.run(["verify", caseID, "--workspace", ws.root]) }
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        }
    }

    @Test func similarRefusesUnknownArtifactsAndWideSearches() throws {
        let ws = try TestWorkspace("media-cli-usage")
        let exhibit = ExhibitProcess()
        let caseID = try ws.openCase()
        let actor = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let unknown = try exhibit.run(["similar", "A-0042", "--case", caseID] + actor)
        #expect(unknown.status == 5, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("No artifact A-0042"))
        let wide = try exhibit.run(["similar", "A-0001", "--case", caseID, "--max-distance", "80"] + actor)
        #expect(wide.status == 2, "\(wide.stderr)")
        let nothing = try exhibit.run(["media", "analyse", caseID] + actor)
        #expect(nothing.status == 0 && nothing.stdout.contains("no media left to analyse"), "\(nothing.stdout)\(nothing.stderr)")
    }
}
