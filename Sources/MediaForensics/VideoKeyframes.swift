public import ChainOfCustody
import Foundation

/// vPDQ-style video hashing: ffmpeg decodes the video and picks one frame per
/// second plus every scene cut (`select`: the first frame, any frame a second or
/// more after the last one picked, and frames whose scene score is over 0.3), each
/// sent as a PPM image down a pipe and hashed with PDQ. Scene cuts are added to
/// vPDQ's one-per-second so that a single spliced-in frame is hashed wherever it falls.
public enum VideoKeyframes {
    public struct Frame: Sendable {
        /// Presentation time in seconds, as ffmpeg printed it (e.g. "5" or "5.04").
        public var time: String
        public var hash: PDQHash
    }

    /// At most this many frames are hashed (an hour at one a second).
    public static let frameLimit = 3600

    /// Hashes the keyframes of the video file at `path`. Throws (`.storage`) when
    /// ffmpeg fails or yields no frame; a stream that stops part-way keeps the frames
    /// hashed so far.
    public static func hash(path: String, limits: BoundedTool.Limits = .init(memoryBytes: 2 << 30, cpuSeconds: 120, wallSeconds: 180, outputBytes: 0))
        throws(ExhibitError) -> [Frame] {
        var parser = PPMStreamParser(pixelLimit: 16_000_000)
        var hashes: [PDQHash] = []
        let filter = "select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,1)+gt(scene\\,0.3)',showinfo"
        let outcome = try BoundedTool(limits: limits).run("ffmpeg", [
            "-nostdin", "-hide_banner", "-loglevel", "info", "-threads", "1", "-i", path,
            "-an", "-sn", "-dn", "-vf", filter, "-fps_mode", "vfr", "-frames:v", String(frameLimit),
            "-f", "image2pipe", "-vcodec", "ppm", "-",
        ]) { chunk in
            parser.feed(chunk) { image in hashes.append(image.pdq) }
            return !parser.failed
        }
        // showinfo prints one line per frame picked, in order, with its pts_time.
        let times = String(decoding: outcome.stderr, as: UTF8.self).split(whereSeparator: \.isNewline).compactMap { line -> String? in
            guard line.contains("Parsed_showinfo"), let range = line.range(of: "pts_time:") else { return nil }
            return String(line[range.upperBound...].prefix { !$0.isWhitespace })
        }
        if hashes.isEmpty {
            throw ExhibitError(.storage, "No video frame could be hashed (\(outcome.failure ?? (parser.failed ? "unreadable frame stream" : "no frames"))).")
        }
        return hashes.enumerated().map { index, hash in Frame(time: index < times.count ? times[index] : String(index), hash: hash) }
    }
}

/// Splits a stream of binary PPM (P6, maxval 255) images.
struct PPMStreamParser {
    let pixelLimit: Int
    private var buffer: [UInt8] = []
    private(set) var failed = false

    init(pixelLimit: Int) {
        self.pixelLimit = pixelLimit
    }

    mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (RGBImage) -> Void) {
        guard !failed else { return }
        buffer.append(contentsOf: chunk)
        while let image = next() { emit(image) }
    }

    /// The next whole image at the front of the buffer, removed from it.
    private mutating func next() -> RGBImage? {
        // Header: "P6" whitespace width whitespace height whitespace maxval, one whitespace byte.
        var fields: [Int] = []
        var index = 2
        guard buffer.count >= 2 else { return nil }
        guard buffer[0] == UInt8(ascii: "P"), buffer[1] == UInt8(ascii: "6") else { failed = true; return nil }
        while fields.count < 3 {
            while index < buffer.count, buffer[index] == 0x20 || buffer[index] == 0x0A || buffer[index] == 0x0D || buffer[index] == 0x09 { index += 1 }
            var value = 0, digits = 0
            while index < buffer.count, buffer[index] >= 0x30, buffer[index] <= 0x39 {
                value = value * 10 + Int(buffer[index] - 0x30)
                digits += 1
                index += 1
                if digits > 7 { failed = true; return nil }
            }
            guard index < buffer.count else { return nil }
            guard digits > 0 else { failed = true; return nil }
            fields.append(value)
        }
        index += 1
        let (width, height, maxval) = (fields[0], fields[1], fields[2])
        guard maxval == 255, width > 0, height > 0, width * height <= pixelLimit else { failed = true; return nil }
        let size = width * height * 3
        guard buffer.count >= index + size else { return nil }
        let image = RGBImage(width: width, height: height, pixels: Array(buffer[index..<(index + size)]))
        buffer.removeFirst(index + size)
        return image
    }
}
