import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Issues 20 and 22 in a bundle, through the real binary: a photo with EXIF GPS, time and
/// camera, and a hostile file, taken in by `exhibit import` (which analyses them with
/// exiftool and PDQ), then exported. The report, the load file and the CASE/UCO graph say
/// what the analysis found and how each item was received, `case_validate` accepts the
/// graph with no Info, Warning or Violation, the bag verifies, and a second export gives
/// the same documents.
@Suite("media and imports in a bundle")
struct MediaBundleTests {
    let exhibit = ExhibitProcess()

    @Test("report, load file and provenance carry the media metadata, the PDQ hash and the receipt of each import")
    func mediaAndImportsInTheBundle() async throws {
        let ws = try TestWorkspace("exhibit-media-bundle")
        let caseID = try ws.openCase()
        let inputs = TemporaryDirectory("exhibit-media-bundle-in")
        try MediaSamples.photoSet(in: inputs.path)
        try MediaSamples.hostileSet(photo: inputs.child("photo.jpg"), in: inputs.path)
        let actor = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let source = "Handed over on a USB stick by the complainant"
        for (file, receipt) in [("photo.jpg", ["--source", source, "--received-from", "J. Witness", "--received-at", "2026-11-30T09:00:00Z"]),
                                ("bomb.jpg", ["--source", "found on the suspect's laptop"])] {
            let result = try await Blocking.run { try exhibit.run(["import", caseID, inputs.child(file)] + receipt + actor) }
            #expect(result.status == 0, "\(result.stderr)")
        }
        let entries = try ws.entries(caseID)
        let photoEntry = try #require(entries.first { $0.action == "import" && $0.subject?["file_name"]?.stringValue == "photo.jpg" })
        let photoID = ArtifactID.forSeq(Int(photoEntry.seq))
        let items = entries.filter { $0.action == "media-analysis" }.flatMap { $0.subject?["items"]?.arrayValue ?? [] }
        let pdq = try #require(items.first { $0["artifact"]?.stringValue == photoID }?["pdq"]?["hash"]?.stringValue)

        let bag = ws.directory.child("bag")
        let export = try await Blocking.run { try exhibit.run(["export", caseID, "--out", bag] + actor) }
        #expect(export.status == 0, "\(export.stderr)")
        // The same ledger (a copy of the workspace) exported twice: the same documents.
        let copy = ws.directory.child("copy")
        #expect(try Command.run("/bin/cp", ["-a", ws.root, copy]).status == 0)
        var digests: [[String]] = []
        for (name, root) in [("again", ws.root), ("from-copy", copy)] {
            let out = ws.directory.child(name)
            let again = try await Blocking.run { try exhibit.run(["export", caseID, "--out", out, "--workspace", root, "--actor", ws.investigatorID]) }
            #expect(again.status == 0, "\(again.stderr)")
            digests.append(try ["report.html", "loadfile.csv", "provenance.jsonld"].map { Digest.sha256Hex(try AtomicFile.read(out + "/data/" + $0)) })
        }
        #expect(digests[0] == digests[1], "same ledger, same report, load file and graph")

        // The report: the receipt rows and the metadata panel of the photo, the reason for the bomb.
        let report = String(decoding: try AtomicFile.read(bag + "/data/report.html"), as: UTF8.self)
        for expected in ["Source statement", source, "J. Witness", "2026-11-30T09:00:00Z", "Received by", "Media metadata",
                         "48.858370", "2.294481", "ExhibitCam Model 22", "ExhibitTest 1.0", "2026:11:28 13:20:00+01:00",
                         "1,024 × 768 px", pdq, "metadata unavailable", "found on the suspect&#39;s laptop"] {
            #expect(report.contains(expected), "report lacks \(expected)")
        }

        // The load file marks each imported row in CapturedBy.
        let rows = String(decoding: try AtomicFile.read(bag + "/data/loadfile.csv"), as: UTF8.self).split(separator: "\r\n")
        #expect(rows.count == 3, "\(rows)")
        #expect(rows.dropFirst().allSatisfy { $0.contains(",\(ws.investigatorID) (imported),") }, "\(rows)")

        // The graph: EXIF entries and the picture's size on the payload, the PDQ annotation, the import action.
        let provenance = try Validators.run("case_validate", ["--built-version", "case-1.4.0", bag + "/data/provenance.jsonld"])
        #expect(provenance.status == 0 && provenance.output.contains("Conforms: True"), "case_validate: \(provenance.output)")
        let graph = try JSONValue(parsing: try AtomicFile.read(bag + "/data/provenance.jsonld"))["@graph"]?.arrayValue ?? []
        let payload = try #require(graph.first { $0["uco-core:description"]?.stringValue == "Response payload of \(photoID)" })
        let facets = payload["uco-core:hasFacet"]?.arrayValue ?? []
        let raster = try #require(facets.first { $0["@type"]?.stringValue == "uco-observable:RasterPictureFacet" })
        #expect(raster["uco-observable:pictureWidth"]?.intValue == 1024 && raster["uco-observable:pictureHeight"]?.intValue == 768)
        let exif = try #require(facets.first { $0["@type"]?.stringValue == "uco-observable:EXIFFacet" })
        var tags: [String: String] = [:]
        for entry in exif["uco-observable:exifData"]?["uco-types:entry"]?.arrayValue ?? [] {
            tags[entry["uco-types:key"]?.stringValue ?? ""] = entry["uco-types:value"]?.stringValue
        }
        #expect(tags["GPSLatitude"] == "48.858370" && tags["GPSLongitude"] == "2.294481" && tags["Make"] == "ExhibitCam"
            && tags["Model"] == "Model 22" && tags["DateTimeOriginal"] == "2026:11:28 13:20:00+01:00", "\(tags)")
        let annotation = try #require(graph.first { $0["@type"]?.stringValue == "uco-core:Annotation"
            && $0["uco-core:object"]?.arrayValue?.first?["@id"] == payload["@id"] })
        #expect(annotation["uco-core:statement"]?.stringValue?.contains("hashMethod PDQ, 256 bits, hex) \(pdq)") == true, "\(annotation)")
        let receiver = try #require(graph.first { $0["@type"]?.stringValue == "uco-identity:Person"
            && $0["uco-core:description"]?.stringValue?.contains(ws.investigatorID) == true })
        let importAction = try #require(graph.first { $0["uco-core:name"]?.stringValue == "import"
            && $0["uco-core:description"]?.stringValue?.contains(source) == true })
        #expect(importAction["uco-action:performer"]?["@id"] == receiver["@id"])

        let verify = try await Blocking.run { try exhibit.run(["verify", bag]) }
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
