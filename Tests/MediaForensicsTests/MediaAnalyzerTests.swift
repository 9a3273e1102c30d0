import ChainOfCustody
import ExhibitTestSupport
import Foundation
@testable import MediaForensics
import Testing

/// Metadata and hashes of the issue's test inputs, made here by ffmpeg and exiftool.
@Suite struct MediaAnalyzerTests {
    @Test func photoMetadataAndCopies() throws {
        let directory = TemporaryDirectory("media-analyzer")
        try MediaSamples.photoSet(in: directory.path)
        let photo = try MediaAnalyzer.analyse(path: directory.path + "/photo.jpg", kind: .image)
        let summary = photo.metadata.summary
        #expect(photo.metadata.unavailable.isEmpty, "\(photo.metadata.unavailable)")
        #expect(summary.latitude == "48.858370" && summary.longitude == "2.294481", "\(summary)")
        #expect(summary.make == "ExhibitCam" && summary.model == "Model 22" && summary.software == "ExhibitTest 1.0")
        #expect(summary.captureTime == "2026:11:28 13:20:00+01:00", "\(String(describing: summary.captureTime))")
        #expect(summary.width == 1024 && summary.height == 768 && summary.mimeType == "image/jpeg")
        #expect(summary.c2paPresent == false)
        let original = try #require(photo.pdq)
        var distances: [String: Int] = [:]
        for name in ["q40.jpg", "half.jpg", "crop.jpg", "mirror.jpg", "photo.png", "photo.webp", "unrelated.jpg"] {
            let copy = try MediaAnalyzer.analyse(path: directory.path + "/" + name, kind: .image)
            distances[name] = try #require(copy.pdq).distance(to: original)
        }
        print("PDQ distances from photo.jpg: \(distances.sorted { $0.key < $1.key })")
        for name in ["q40.jpg", "half.jpg", "photo.png", "photo.webp", "crop.jpg"] {
            #expect(distances[name]! <= PDQHash.matchThreshold, "\(name): \(distances[name]!)")
        }
        #expect(distances["mirror.jpg"]! > PDQHash.matchThreshold, "mirror: \(distances["mirror.jpg"]!)")
        #expect(distances["unrelated.jpg"]! > 64, "unrelated: \(distances["unrelated.jpg"]!)")
        // The sealed record holds exiftool's own JSON and Exhibit's findings.
        let body = photo.recordBody(artifact: "A-0001", sha256: "00", url: "http://127.0.0.1/photo.jpg")
        let parsed = try JSONValue(parsing: body)
        #expect(parsed["exiftool"]?.arrayValue?.first?["EXIF:Make"]?.stringValue == "ExhibitCam")
        #expect(parsed["exhibit"]?["pdq"]?["hash"]?.stringValue == original.hex)
    }

    @Test func videoKeyframesFindTheSplicedFrame() throws {
        let directory = TemporaryDirectory("media-video")
        try MediaSamples.photoSet(in: directory.path)
        let video = directory.path + "/spliced.mp4"
        try MediaSamples.splicedVideo(photo: directory.path + "/photo.jpg", to: video)
        let analysis = try MediaAnalyzer.analyse(path: video, kind: .video)
        #expect(analysis.metadata.unavailable.isEmpty, "\(analysis.metadata.unavailable)")
        #expect(analysis.metadata.summary.duration?.hasPrefix("10") == true, "\(String(describing: analysis.metadata.summary.duration))")
        #expect(analysis.metadata.summary.width == 640)
        let original = try #require(try MediaAnalyzer.analyse(path: directory.path + "/photo.jpg", kind: .image).pdq)
        let best = analysis.frames.min { $0.hash.distance(to: original) < $1.hash.distance(to: original) }
        print("video frames: \(analysis.frames.map { "\($0.time):\($0.hash.distance(to: original))" })")
        #expect(analysis.frames.count >= 10 && analysis.frames.count <= 14, "\(analysis.frames.count) frames")
        #expect(best.map { $0.hash.distance(to: original) <= PDQHash.matchThreshold } == true)
        #expect(best?.time.hasPrefix("5") == true, "\(String(describing: best?.time))")
    }

    @Test func hostileFilesAreRecordedNotFatal() throws {
        let directory = TemporaryDirectory("media-hostile")
        try MediaSamples.photoSet(in: directory.path)
        try MediaSamples.hostileSet(photo: directory.path + "/photo.jpg", in: directory.path)
        for name in ["truncated.jpg", "huge-segment.jpg", "bomb.jpg", "huge.png"] {
            let analysis = try MediaAnalyzer.analyse(path: directory.path + "/" + name, kind: .image)
            print("\(name): unavailable \(analysis.metadata.unavailable) hash \(analysis.pdq?.hex ?? "-") \(analysis.hashUnavailable ?? "")")
            if name == "bomb.jpg" || name == "huge.png" {
                #expect(analysis.pdq == nil && analysis.hashUnavailable != nil, "\(name)")
            }
        }
        let bomb = try MediaAnalyzer.analyse(path: directory.path + "/bomb.jpg", kind: .image)
        #expect(bomb.metadata.unavailable.first?.hasPrefix("metadata unavailable: the content is ZIP") == true, "\(bomb.metadata.unavailable)")
        let segment = try MediaAnalyzer.analyse(path: directory.path + "/huge-segment.jpg", kind: .image)
        #expect(segment.metadata.warnings.contains { $0.contains("4294967280") }, "\(segment.metadata.warnings)")
        let huge = try MediaAnalyzer.analyse(path: directory.path + "/huge.png", kind: .image)
        #expect(huge.hashUnavailable?.contains("over the limit") == true, "\(String(describing: huge.hashUnavailable))")
    }

    @Test func aToolPastItsDeadlineIsKilled() throws {
        let tool = BoundedTool(limits: .init(memoryBytes: 1 << 30, cpuSeconds: 5, wallSeconds: 1, outputBytes: 1 << 20))
        let started = Date()
        let outcome = try tool.run("sleep", ["30"])
        #expect(outcome.timedOut && outcome.failure == "timed out")
        #expect(Date().timeIntervalSince(started) < 10)
    }
}
