public import ChainOfCustody
import Foundation

/// Everything Exhibit learns from one image or video file: metadata from the tools,
/// the PDQ hash of an image or of a video's keyframes, and why anything is missing.
public struct MediaItemAnalysis: Sendable {
    public enum Kind: String, Sendable { case image, video }

    public var kind: Kind
    public var metadata: MediaMetadata
    /// The image's hash (nil for video or an undecodable image).
    public var pdq: PDQHash?
    /// The image's hashes in the seven other orientations (`PDQOrientation` order
    /// after `.original`), so that a search finds turned and mirrored copies.
    public var orientations: [PDQHash] = []
    /// The video's keyframe hashes.
    public var frames: [VideoKeyframes.Frame] = []
    /// Why there is no hash, when there is none.
    public var hashUnavailable: String?

    /// The sealed record's body: the tools' JSON verbatim, then Exhibit's own findings.
    public func recordBody(artifact: String, sha256: String, url: String) -> [UInt8] {
        var own: [String: JSONValue] = [
            "artifact": .string(artifact), "sha256": .string(sha256), "url": .string(url), "kind": .string(kind.rawValue),
            "summary": metadata.summary.json,
            "unavailable": .array(metadata.unavailable.map { .string($0) }),
            "warnings": .array(metadata.warnings.map { .string($0) }),
        ]
        own.merge(hashJSON) { $1 }
        var out = Array("{\"exhibit\":".utf8) + ((try? JSONValue.object(own).canonicalBytes()) ?? Array("{}".utf8))
        out += Array(",\"exiftool\":".utf8) + (metadata.exiftoolJSON.map(Self.trimmed) ?? Array("null".utf8))
        out += Array(",\"ffprobe\":".utf8) + (metadata.ffprobeJSON.map(Self.trimmed) ?? Array("null".utf8))
        out += Array("}\n".utf8)
        return out
    }

    /// The hashes as ledger JSON: `pdq` {hash, quality, dihedral: [7 hashes]} or
    /// `frames` [{time, hash, quality}].
    public var hashJSON: [String: JSONValue] {
        var object: [String: JSONValue] = [:]
        if let pdq {
            var hash: [String: JSONValue] = ["hash": .string(pdq.hex), "quality": .integer(Int64(pdq.quality))]
            if !orientations.isEmpty { hash["dihedral"] = .array(orientations.map { .string($0.hex) }) }
            object["pdq"] = .object(hash)
        }
        if !frames.isEmpty {
            object["frames"] = .array(frames.map {
                .object(["time": .string($0.time), "hash": .string($0.hash.hex), "quality": .integer(Int64($0.hash.quality))])
            })
        }
        if let hashUnavailable { object["hash_unavailable"] = .string(hashUnavailable) }
        return object
    }

    static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        var slice = bytes[...]
        while let last = slice.last, last == 0x0A || last == 0x0D || last == 0x20 { slice = slice.dropLast() }
        return Array(slice)
    }
}

/// Analyses one sealed media file: metadata (ExifTool, and ffprobe for video), PDQ
/// for images, keyframe PDQ for video. A hostile file yields "unavailable" reasons,
/// never a thrown error; only a missing tool or an unreadable file throws.
public enum MediaAnalyzer {
    /// Whether a MIME type (or, when absent, the first bytes) makes an artifact media.
    public static func kind(mimeType: String?, head: [UInt8]) -> MediaItemAnalysis.Kind? {
        if let mime = mimeType?.lowercased() {
            if mime.hasPrefix("image/") { return .image }
            if mime.hasPrefix("video/") { return .video }
        }
        if ImageDecoder.sniff(head) != nil { return .image }
        // ISO base media (MP4, MOV): "ftyp" at offset 4; Matroska/WebM: EBML magic.
        if head.count >= 8, Array(head[4..<8]) == Array("ftyp".utf8) { return .video }
        if head.count >= 4, head[0] == 0x1A, head[1] == 0x45, head[2] == 0xDF, head[3] == 0xA3 { return .video }
        return nil
    }

    /// Images larger than this are not read into memory for hashing.
    public static let imageByteLimit = 256 << 20

    public static func analyse(path: String, kind: MediaItemAnalysis.Kind) throws(ExhibitError) -> MediaItemAnalysis {
        let metadata = try MediaMetadata.extract(path: path, video: kind == .video)
        var analysis = MediaItemAnalysis(kind: kind, metadata: metadata)
        switch kind {
        case .image:
            do throws(ExhibitError) {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                guard size <= imageByteLimit else {
                    throw ExhibitError(.storage, "The image file is over \(imageByteLimit >> 20) MiB.")
                }
                let bytes = try AtomicFile.read(path)
                let hashes = try ImageDecoder.decode(bytes).dihedralPDQ
                analysis.pdq = hashes.first
                analysis.orientations = Array(hashes.dropFirst())
            } catch {
                analysis.hashUnavailable = error.message
            }
        case .video:
            do throws(ExhibitError) {
                analysis.frames = try VideoKeyframes.hash(path: path)
            } catch {
                analysis.hashUnavailable = error.message
            }
        }
        return analysis
    }
}
