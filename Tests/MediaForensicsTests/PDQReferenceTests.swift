import ChainOfCustody
import ExhibitTestSupport
import Foundation
@testable import MediaForensics
import Testing

/// Exhibit's PDQ against the `pdqhash` package (Meta's C++ reference) on images made
/// here by ffmpeg: identical bits when both read the same pixels, at most 2 bits
/// apart where the decoders differ (Pillow's bundled libjpeg/libwebp against
/// Debian's).
@Suite struct PDQReferenceTests {
    static let sources = [
        "testsrc=size=640x480", "testsrc2=size=800x600", "smptebars=size=1280x720", "smptehdbars=size=1920x1080",
        "mandelbrot=size=1024x768:start_scale=8", "mandelbrot=size=333x517:start_scale=3", "rgbtestsrc=size=300x200",
        "cellauto=size=1000x700:rule=30", "life=size=640x640:ratio=0.2:seed=11,gblur=sigma=3",
        "sierpinski=size=1200x900:seed=5", "gradients=size=900x600:seed=4:n=6", "colorspectrum=size=777x333",
        "yuvtestsrc=size=64x64", "testsrc2=size=4000x3000",
    ]

    @Test func hashesMatchTheReferenceOnFortyTwoImages() throws {
        let directory = TemporaryDirectory("pdq-reference")
        var files: [String] = []
        for (index, source) in Self.sources.enumerated() {
            for format in ["png", "jpg", "webp"] {
                let path = "\(directory.path)/\(index).\(format)"
                var arguments = ["-f", "lavfi", "-i", source, "-frames:v", "1"]
                if format == "jpg" { arguments += ["-q:v", String(2 + index % 10)] }
                if format == "webp" { arguments += ["-quality", String(60 + index * 2)] }
                try MediaSamples.ffmpeg(arguments + [path])
                files.append(path)
            }
        }
        let reference = try MediaSamples.referenceHashes(files)
        #expect(reference.count == files.count, "pdqhash hashed \(reference.count) of \(files.count)")
        var identical = 0, worst = 0, lines: [String] = []
        for path in files {
            let ours = try ImageDecoder.decode(try AtomicFile.read(path)).pdq
            guard let theirs = reference[path], let theirHash = PDQHash(hex: theirs.hex) else {
                Issue.record("no reference hash for \(path)")
                continue
            }
            let distance = ours.distance(to: theirHash)
            if distance == 0 { identical += 1 }
            worst = max(worst, distance)
            lines.append("\((path as NSString).lastPathComponent)\t\(distance)\t\(ours.quality)/\(theirs.quality)")
            #expect(distance <= 2, "\(path): ours \(ours.hex) reference \(theirs.hex) distance \(distance)")
            #expect(abs(ours.quality - theirs.quality) <= 1, "\(path): quality \(ours.quality) vs \(theirs.quality)")
            // PNG is lossless: both decoders read the same pixels, so the bits must agree exactly.
            if path.hasSuffix(".png") { #expect(distance == 0, "\(path): lossless but \(distance) bits differ") }
        }
        print("PDQ vs pdqhash: \(identical) of \(files.count) identical, worst distance \(worst)\n" + lines.joined(separator: "\n"))
        #expect(files.count >= 30)
    }

    @Test func hexFormAndDistance() throws {
        let a = try #require(PDQHash(hex: String(repeating: "0", count: 63) + "1"))
        #expect(a.bit(0) && !a.bit(1))
        let b = try #require(PDQHash(hex: "8" + String(repeating: "0", count: 63)))
        #expect(b.bit(255))
        #expect(a.distance(to: b) == 2)
        #expect(a.chunks[15] == 1 && b.chunks[0] == 0x8000)
        #expect(PDQHash(hex: "xyz") == nil)
    }

    @Test func imagesTooSmallHashToZero() {
        let hash = PDQ.hash(rgb: [UInt8](repeating: 200, count: 4 * 4 * 3), width: 4, height: 4)
        #expect(hash.quality == 0 && hash.hex == String(repeating: "0", count: 64))
    }
}
