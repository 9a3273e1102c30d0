import ChainOfCustody
import ExhibitTestSupport
import Foundation
@testable import MediaForensics
import Testing

/// PDQ's eight orientations (issue 22): Exhibit's dihedral hashes against
/// `pdqhash.compute_dihedral` (Meta's C++ reference), and each orientation's name
/// against the plain hash of a copy that ffmpeg actually turned or mirrored.
@Suite struct PDQDihedralTests {
    static let sources = [
        "mandelbrot=size=1024x768:start_scale=8", "testsrc2=size=800x600", "sierpinski=size=640x640:seed=5",
        "gradients=size=333x517:seed=4:n=6", "cellauto=size=900x700:rule=30,gblur=sigma=2",
    ]

    /// `pdqhash.compute_dihedral` of each file: eight hex hashes in its order.
    static func reference(_ paths: [String]) throws -> [String: [String]] {
        let script = """
            import sys, numpy as np, pdqhash
            from PIL import Image
            for p in sys.argv[1:]:
                hashes, _ = pdqhash.compute_dihedral(np.asarray(Image.open(p).convert("RGB")))
                print(p + "\\t" + " ".join("%064x" % int("".join(str(int(b)) for b in h), 2) for h in hashes))
            """
        let result = try Validators.run("python3", ["-c", script] + paths)
        #expect(result.status == 0, "\(result.output)")
        var found: [String: [String]] = [:]
        for line in result.output.split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            if fields.count == 2 { found[fields[0]] = fields[1].split(separator: " ").map(String.init) }
        }
        return found
    }

    static func hashes(_ path: String) throws -> [PDQHash] {
        try ImageDecoder.decode(try AtomicFile.read(path)).dihedralPDQ
    }

    @Test func dihedralHashesMatchTheReference() throws {
        let directory = TemporaryDirectory("pdq-dihedral")
        var files: [String] = []
        for (index, source) in Self.sources.enumerated() {
            for format in ["png", "jpg"] {
                let path = "\(directory.path)/\(index).\(format)"
                try MediaSamples.ffmpeg(["-f", "lavfi", "-i", source, "-frames:v", "1"] + (format == "jpg" ? ["-q:v", "3"] : []) + [path])
                files.append(path)
            }
        }
        let reference = try Self.reference(files)
        for path in files {
            let ours = try Self.hashes(path)
            let theirs = try #require(reference[path], "pdqhash gave nothing for \(path)").compactMap { PDQHash(hex: $0) }
            #expect(ours.count == 8 && theirs.count == 8)
            for (orientation, (mine, other)) in zip(PDQOrientation.allCases, zip(ours, theirs)) {
                let distance = mine.distance(to: other)
                // Lossless input: the same pixels, so the same bits; JPEG: decoders may differ by 2.
                #expect(distance <= (path.hasSuffix(".png") ? 0 : 2), "\(path) \(orientation): \(distance) bits from pdqhash")
            }
        }
    }

    @Test func eachOrientationFindsTheCopyTurnedThatWay() throws {
        let directory = TemporaryDirectory("pdq-orientations")
        let original = directory.path + "/original.png"
        try MediaSamples.ffmpeg(["-f", "lavfi", "-i", MediaSamples.photoSource, "-frames:v", "1", original])
        let filters: [(PDQOrientation, String)] = [
            (.rotated90CounterClockwise, "transpose=cclock"), (.rotated180, "hflip,vflip"), (.rotated90Clockwise, "transpose=clock"),
            (.flippedTopToBottom, "vflip"), (.mirroredLeftToRight, "hflip"), (.transposed, "transpose=cclock_flip"),
            (.antiTransposed, "transpose=clock_flip"),
        ]
        let variants = try Self.hashes(original)
        for (orientation, filter) in filters {
            let copy = "\(directory.path)/\(orientation.rawValue).png"
            try MediaSamples.ffmpeg(["-i", original, "-vf", filter, copy])
            let plain = try Self.hashes(copy)[0]
            let distances = variants.map { $0.distance(to: plain) }
            // The named orientation is a match; the plain hash is not (PDQ alone misses turned copies).
            // Not 0: on a 4:3 picture the box filter's windows differ between the axes, so a
            // quarter turn is not exactly a transpose of the filtered image (measured: 12–20).
            #expect(distances[orientation.rawValue] <= PDQHash.matchThreshold, "\(orientation) (\(filter)): \(distances)")
            #expect(distances[0] > 31, "\(orientation) (\(filter)): the plain hash already matches: \(distances)")
            #expect(distances.min() == distances[orientation.rawValue], "\(orientation) (\(filter)): \(distances)")
        }
    }
}
