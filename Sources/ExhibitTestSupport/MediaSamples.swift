import Foundation

/// Media made in the test by ffmpeg and exiftool (issue 22: nothing copied from
/// elsewhere): a photo-like image and its edited copies, an unrelated image, a
/// video with one spliced-in frame, and hostile files.
public enum MediaSamples {
    public struct ToolFailed: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs a tool found on PATH (ffmpeg, exiftool), throwing with its stderr when it fails.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let path = ["/usr/bin/", "/usr/local/bin/", "/bin/"].map { $0 + tool }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? tool
        let finished = try ChildProcess(path, arguments).run(timeout: .seconds(120))
        guard finished.status == 0, !finished.signalled else {
            throw ToolFailed(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(finished.stderrTail)")
        }
        return finished.stdoutText
    }

    public static func ffmpeg(_ arguments: [String]) throws {
        try run("ffmpeg", ["-nostdin", "-v", "error", "-y"] + arguments)
    }

    /// The "photo": a smooth Mandelbrot render (PDQ quality about 70), 1024×768, with
    /// EXIF capture time, GPS (48.858370 N, 2.294481 E) and camera written by exiftool.
    public static let photoSource = "mandelbrot=size=1024x768:start_scale=8,format=yuv420p"
    /// An unrelated picture: a blurred Sierpinski carpet.
    public static let unrelatedSource = "sierpinski=size=1024x768:seed=3,gblur=sigma=10"

    /// Writes photo.jpg and its copies into `directory`: q40.jpg (re-encoded at
    /// quality about 40), half.jpg (50 %), crop.jpg (5 % off each side… 2.5 % a side),
    /// mirror.jpg, photo.png, photo.webp, and unrelated.jpg. Returns the names.
    @discardableResult
    public static func photoSet(in directory: String) throws -> [String] {
        let photo = directory + "/photo.jpg"
        try ffmpeg(["-f", "lavfi", "-i", photoSource, "-frames:v", "1", "-q:v", "2", photo])
        try run("exiftool", [
            "-overwrite_original", "-EXIF:Make=ExhibitCam", "-EXIF:Model=Model 22", "-EXIF:Software=ExhibitTest 1.0",
            "-EXIF:DateTimeOriginal=2026:11:28 13:20:00", "-EXIF:OffsetTimeOriginal=+01:00",
            "-EXIF:GPSLatitude=48.858370", "-EXIF:GPSLatitudeRef=N", "-EXIF:GPSLongitude=2.294481", "-EXIF:GPSLongitudeRef=E",
            photo,
        ])
        try ffmpeg(["-i", photo, "-q:v", "12", directory + "/q40.jpg"])
        try ffmpeg(["-i", photo, "-vf", "scale=iw/2:ih/2", "-q:v", "3", directory + "/half.jpg"])
        try ffmpeg(["-i", photo, "-vf", "crop=iw*0.95:ih*0.95:iw*0.025:ih*0.025", "-q:v", "3", directory + "/crop.jpg"])
        try ffmpeg(["-i", photo, "-vf", "hflip", "-q:v", "3", directory + "/mirror.jpg"])
        try ffmpeg(["-i", photo, directory + "/photo.png"])
        try ffmpeg(["-i", photo, "-quality", "80", directory + "/photo.webp"])
        try ffmpeg(["-f", "lavfi", "-i", unrelatedSource, "-frames:v", "1", "-q:v", "2", directory + "/unrelated.jpg"])
        return ["photo.jpg", "q40.jpg", "half.jpg", "crop.jpg", "mirror.jpg", "photo.png", "photo.webp", "unrelated.jpg"]
    }

    /// A 10 s, 25 fps MP4 of a test pattern with frame 125 (t = 5 s) replaced by `photo`.
    public static func splicedVideo(photo: String, to path: String) throws {
        let filter = "[0:v]trim=end_frame=125,setpts=PTS-STARTPTS[a];[1:v]scale=640:480,setsar=1,fps=25,trim=end_frame=1,setpts=PTS-STARTPTS[b];"
            + "[0:v]trim=start_frame=126,setpts=PTS-STARTPTS[c];[a][b][c]concat=n=3:v=1[v]"
        try ffmpeg([
            "-f", "lavfi", "-i", "testsrc=size=640x480:rate=25:duration=10", "-loop", "1", "-i", photo,
            "-filter_complex", filter, "-map", "[v]", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-t", "10", path,
        ])
    }

    /// Hostile files: truncated.jpg (the photo cut in half), huge-segment.jpg (an APP1
    /// segment claiming far more than the file holds — a JPEG segment length is 16-bit,
    /// so the claim is made by an EXIF IFD whose offsets and counts point 4 GB away),
    /// bomb.jpg (a zip of 200 MB of zeros named .jpg) and huge.png (a PNG header
    /// declaring 100000 × 100000 pixels).
    @discardableResult
    public static func hostileSet(photo: String, in directory: String) throws -> [String] {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: photo))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: directory + "/truncated.jpg"))
        // SOI, then APP1 "Exif\0\0" with a TIFF header whose first IFD offset is 0xFFFFFF00
        // and a directory entry whose count claims 4 GB, then the rest of the photo.
        var app1: [UInt8] = Array("Exif".utf8) + [0, 0]
        app1 += [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08]          // big-endian TIFF, IFD0 at 8
        app1 += [0x00, 0x01]                                              // one entry
        app1 += [0x01, 0x0F, 0x00, 0x02, 0xFF, 0xFF, 0xFF, 0xF0, 0xFF, 0xFF, 0xFF, 0x00] // Make: ASCII, count 4 GB, offset 4 GB
        app1 += [0xFF, 0xFF, 0xFF, 0x00]                                  // next IFD 4 GB away
        let length = app1.count + 2
        var hostile: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + app1
        hostile += Array(bytes.dropFirst(2))
        try Data(hostile).write(to: URL(fileURLWithPath: directory + "/huge-segment.jpg"))
        // 200 MB of zeros deflate to about 200 KB.
        let zeros = directory + "/zeros.bin"
        let handle = try FileHandle(forWritingTo: { FileManager.default.createFile(atPath: zeros, contents: nil); return URL(fileURLWithPath: zeros) }())
        let block = Data(count: 1 << 20)
        for _ in 0..<200 { handle.write(block) }
        try handle.close()
        try run("zip", ["-q", "-j", directory + "/bomb.zip", zeros])
        try FileManager.default.removeItem(atPath: zeros)
        try FileManager.default.moveItem(atPath: directory + "/bomb.zip", toPath: directory + "/bomb.jpg")
        // A PNG signature and an IHDR for 100000 × 100000 RGB (its CRC is right, the data absent).
        var ihdr: [UInt8] = Array("IHDR".utf8)
        for value in [UInt32(100_000), UInt32(100_000)] { ihdr += withUnsafeBytes(of: value.bigEndian, Array.init) }
        ihdr += [8, 2, 0, 0, 0]
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + ihdr
        png += withUnsafeBytes(of: crc32(ihdr).bigEndian, Array.init)
        // An empty IDAT and IEND, so a reader gets past the header to its size check.
        for chunk in [Array("IDAT".utf8), Array("IEND".utf8)] {
            png += [0, 0, 0, 0] + chunk + withUnsafeBytes(of: crc32(chunk).bigEndian, Array.init)
        }
        try Data(png).write(to: URL(fileURLWithPath: directory + "/huge.png"))
        return ["truncated.jpg", "huge-segment.jpg", "bomb.jpg", "huge.png"]
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// `pdqhash` (PyPI, Meta's C++ reference under Cython) on each file, decoded by
    /// Pillow: "hex quality" per path. Uses the test venv's python.
    public static func referenceHashes(_ paths: [String]) throws -> [String: (hex: String, quality: Int)] {
        let script = """
            import sys, numpy as np, pdqhash
            from PIL import Image
            for p in sys.argv[1:]:
                v, q = pdqhash.compute(np.asarray(Image.open(p).convert("RGB")))
                print(p + "\\t" + "%064x" % int("".join(str(int(b)) for b in v), 2) + "\\t" + str(q))
            """
        let python = try Validators.path(of: "python3")
        let finished = try ChildProcess(python, ["-c", script] + paths).run(timeout: .seconds(300))
        guard finished.status == 0 else { throw ToolFailed(description: "pdqhash failed: \(finished.stderrTail)") }
        var result: [String: (hex: String, quality: Int)] = [:]
        for line in finished.stdoutText.split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            if fields.count == 3 { result[fields[0]] = (fields[1], Int(fields[2]) ?? -1) }
        }
        return result
    }
}
